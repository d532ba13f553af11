//! Custom fields and editable select options: the admin's schema changes. Each change
//! writes the definition, alters the table (column, indexes), bumps the stored schema
//! version and appends to the change log and the audit log in ONE transaction; after the
//! commit this process swaps in the rebuilt schema, and other processes notice the new
//! version on their next check (`Service::refresh_schema`).

use keel_domain::FieldErrors;
use keel_domain::policy::{self, AdminPower};
use keel_domain::schema::custom::{self, CustomFieldSpec, OptionsOverride, StoredField, check_options, label_options};
use keel_domain::schema::{EntityDef, FieldDef, FieldType, Schema, SelectOption};
use keel_domain::value::Value;
use keel_store::Tx;
use keel_store::changes::{self, ChangeOp};
use keel_store::custom_fields::{self as store, StoredFieldRow};
use serde::Serialize;
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use crate::audit::{AuditAction, Event, Source};
use crate::{Ctx, Service, ServiceError};

/// Most unconvertible values a refused type change lists.
const REPORT_CAP: usize = 20;

/// A custom field as the admin API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct FieldView {
    pub entity: String,
    pub position: i64,
    pub archived: bool,
    pub version: i64,
    #[serde(flatten)]
    pub spec: CustomFieldSpec,
}

fn admin_only(ctx: &Ctx) -> Result<(), ServiceError> {
    Ok(policy::can_administer(&ctx.actor, AdminPower::ManageFields)?)
}

fn custom_entity(entity: &str) -> Result<(), ServiceError> {
    if custom::ENTITIES.contains(&entity) { Ok(()) } else { Err(ServiceError::NotFound) }
}

fn parse_spec(row: &StoredFieldRow) -> Result<CustomFieldSpec, ServiceError> {
    serde_json::from_str(&row.definition)
        .map_err(|e| ServiceError::Internal(format!("stored field {}.{} is not valid: {e}", row.entity, row.name)))
}

fn view(row: &StoredFieldRow) -> Result<FieldView, ServiceError> {
    Ok(FieldView {
        entity: row.entity.clone(),
        position: row.position,
        archived: row.archived,
        version: row.version,
        spec: parse_spec(row)?,
    })
}

fn to_json<T: Serialize>(v: &T) -> Result<String, ServiceError> {
    serde_json::to_string(v).map_err(|e| ServiceError::Internal(e.to_string()))
}

/// Build the running schema from the stored definitions (inside `tx`, so a writer sees
/// its own change) and return it with the stored version.
pub(crate) async fn build_schema(tx: &mut Tx, base: &Schema) -> Result<(Schema, i64), ServiceError> {
    let version = store::schema_version(tx).await?;
    let mut fields = Vec::new();
    for row in store::all(tx).await? {
        fields.push(StoredField {
            entity: row.entity.clone(),
            position: row.position,
            archived: row.archived,
            spec: parse_spec(&row)?,
        });
    }
    let mut overrides = Vec::new();
    for (entity, field, options) in store::all_options(tx).await? {
        let options: Vec<SelectOption> = serde_json::from_str(&options)
            .map_err(|e| ServiceError::Internal(format!("stored options of {entity}.{field} are not valid: {e}")))?;
        overrides.push(OptionsOverride { entity, field, options });
    }
    Ok((custom::assemble(base.clone(), &overrides, &fields), version))
}

/// Decode an admin's field definition: the name gets its `cf_` prefix, labels are
/// trimmed, option labels default to their values, and the whole is checked.
fn decode_spec(body: Map<String, Json>) -> Result<CustomFieldSpec, ServiceError> {
    let mut spec: CustomFieldSpec = serde_json::from_value(Json::Object(body))
        .map_err(|e| FieldErrors::single("body", "invalid", format!("not a field definition: {e}")))?;
    spec.name = custom::full_name(&spec.name);
    spec.label = spec.label.trim().to_string();
    label_options(&mut spec.options);
    spec.validate()?;
    spec.default = spec.normalized_default();
    Ok(spec)
}

/// A stable id for a field definition's change-log entries (fields are keyed by name).
fn field_record_id(entity: &str, name: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("keel-field:{entity}.{name}").as_bytes())
}

/// An entity shell naming just the table (store helpers read `name` only).
fn table_of(schema: &Schema, entity: &str) -> Result<EntityDef, ServiceError> {
    schema.entity(entity).cloned().ok_or(ServiceError::NotFound)
}

impl Service {
    /// Every custom field of `entity`, archived ones too, in order (admins).
    pub async fn list_fields(&self, ctx: &Ctx, entity: &str) -> Result<Vec<FieldView>, ServiceError> {
        admin_only(ctx)?;
        custom_entity(entity)?;
        let mut tx = self.db.read().await?;
        store::all(&mut tx).await?.iter().filter(|r| r.entity == entity).map(view).collect()
    }

    pub async fn get_field(&self, ctx: &Ctx, entity: &str, name: &str) -> Result<FieldView, ServiceError> {
        admin_only(ctx)?;
        custom_entity(entity)?;
        let mut tx = self.db.read().await?;
        view(&store::get(&mut tx, entity, &custom::full_name(name)).await?.ok_or(ServiceError::NotFound)?)
    }

    /// Define a custom field: its row, its column and its indexes, in one transaction.
    pub async fn create_field(
        &self,
        ctx: &Ctx,
        entity: &str,
        body: Map<String, Json>,
    ) -> Result<FieldView, ServiceError> {
        admin_only(ctx)?;
        custom_entity(entity)?;
        let spec = decode_spec(body)?;
        let mut tx = self.db.write().await?;
        if store::get(&mut tx, entity, &spec.name).await?.is_some() {
            return Err(FieldErrors::single(
                "name",
                "taken",
                format!("{entity} already has a field `{}` (perhaps archived)", spec.name),
            )
            .into());
        }
        self.check_roles(&mut tx, &spec).await?;
        let now = self.clock.now();
        let position = store::next_position(&mut tx, entity).await?;
        store::insert(&mut tx, entity, &spec.name, position, &to_json(&spec)?, now).await?;
        let def = spec.to_field_def();
        store::add_column(&mut tx, entity, &def.name, def.ty).await?;
        store::create_indexes(&mut tx, entity, &def.name, def.sortable, def.unique).await?;
        let row = store::get(&mut tx, entity, &spec.name).await?.ok_or(ServiceError::NotFound)?;
        let after = view(&row)?;
        self.log_field(&mut tx, ctx, ChangeOp::Create, entity, &spec.name, None, Some(&after)).await?;
        self.commit_schema(tx).await?;
        Ok(after)
    }

    /// Change a field's definition (everything but its name). A new `type` converts the
    /// stored values, or refuses with a report of the values that cannot be converted.
    pub async fn update_field(
        &self,
        ctx: &Ctx,
        entity: &str,
        name: &str,
        mut body: Map<String, Json>,
    ) -> Result<FieldView, ServiceError> {
        admin_only(ctx)?;
        custom_entity(entity)?;
        let name = custom::full_name(name);
        let mut tx = self.db.write().await?;
        let row = store::get(&mut tx, entity, &name).await?.ok_or(ServiceError::NotFound)?;
        let before = view(&row)?;
        if body.get("name").is_some_and(|n| n.as_str().map(custom::full_name).as_deref() != Some(name.as_str())) {
            return Err(FieldErrors::single("name", "read_only", "a field's name cannot change").into());
        }
        for key in ["entity", "position", "archived", "version"] {
            body.remove(key);
        }
        let mut merged = serde_json::to_value(&before.spec).map_err(|e| ServiceError::Internal(e.to_string()))?;
        if let Some(m) = merged.as_object_mut() {
            // A type change starts from a clean slate of type-specific settings unless the
            // caller restates them.
            if body.get("type").is_some_and(|t| t.as_str() != Some(before.spec.ty.as_str())) {
                for key in ["min", "max", "max_length", "options", "reference", "default", "unique"] {
                    m.remove(key);
                }
            }
            m.extend(body);
        }
        let Json::Object(merged) = merged else { return Err(ServiceError::Internal("field is not an object".into())) };
        let spec = decode_spec(merged)?;
        self.check_roles(&mut tx, &spec).await?;
        let old = before.spec.to_field_def();
        let new = spec.to_field_def();
        let schema = self.schema();
        let table = table_of(&schema, entity)?;
        if old.ty != new.ty || old.reference != new.reference {
            self.convert_column(&mut tx, ctx, &table, &old, &new).await?;
        } else {
            if old.ty == FieldType::Select || old.ty == FieldType::MultiSelect {
                check_removed_options(&mut tx, &table, &old, &new.options).await?;
            }
            if old.sortable != new.sortable || old.unique != new.unique {
                store::drop_indexes(&mut tx, entity, &name).await?;
                store::create_indexes(&mut tx, entity, &name, new.sortable, new.unique).await?;
            }
        }
        let updated = StoredFieldRow { definition: to_json(&spec)?, ..row };
        store::update(&mut tx, &updated, self.clock.now()).await?;
        let row = store::get(&mut tx, entity, &name).await?.ok_or(ServiceError::NotFound)?;
        let after = view(&row)?;
        self.log_field(&mut tx, ctx, ChangeOp::Update, entity, &name, Some(&before), Some(&after)).await?;
        self.commit_schema(tx).await?;
        Ok(after)
    }

    /// Archive (hide everywhere, keep the data) or unarchive a field.
    pub async fn archive_field(
        &self,
        ctx: &Ctx,
        entity: &str,
        name: &str,
        archived: bool,
    ) -> Result<FieldView, ServiceError> {
        admin_only(ctx)?;
        custom_entity(entity)?;
        let name = custom::full_name(name);
        let mut tx = self.db.write().await?;
        let row = store::get(&mut tx, entity, &name).await?.ok_or(ServiceError::NotFound)?;
        let before = view(&row)?;
        if row.archived == archived {
            return Ok(before);
        }
        store::update(&mut tx, &StoredFieldRow { archived, ..row }, self.clock.now()).await?;
        let row = store::get(&mut tx, entity, &name).await?.ok_or(ServiceError::NotFound)?;
        let after = view(&row)?;
        let op = if archived { ChangeOp::Delete } else { ChangeOp::Restore };
        self.log_field(&mut tx, ctx, op, entity, &name, Some(&before), Some(&after)).await?;
        self.commit_schema(tx).await?;
        Ok(after)
    }

    /// Put an entity's custom fields in this order (every stored field, once).
    pub async fn reorder_fields(
        &self,
        ctx: &Ctx,
        entity: &str,
        order: &[String],
    ) -> Result<Vec<FieldView>, ServiceError> {
        admin_only(ctx)?;
        custom_entity(entity)?;
        let mut tx = self.db.write().await?;
        let rows: Vec<StoredFieldRow> = store::all(&mut tx).await?.into_iter().filter(|r| r.entity == entity).collect();
        let wanted: Vec<String> = order.iter().map(|n| custom::full_name(n)).collect();
        let mut sorted_wanted = wanted.clone();
        sorted_wanted.sort();
        sorted_wanted.dedup();
        let mut names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
        names.sort();
        if sorted_wanted != names || wanted.len() != names.len() {
            return Err(FieldErrors::single(
                "order",
                "invalid_order",
                format!("order must list each of {entity}'s custom fields once: {}", names.join(", ")),
            )
            .into());
        }
        let now = self.clock.now();
        for row in rows {
            let position = wanted.iter().position(|n| *n == row.name).map_or(0, |p| p as i64 + 1);
            if position != row.position {
                let before = view(&row)?;
                store::update(&mut tx, &StoredFieldRow { position, ..row.clone() }, now).await?;
                let after = FieldView { position, ..before.clone() };
                self.log_field(&mut tx, ctx, ChangeOp::Update, entity, &row.name, Some(&before), Some(&after)).await?;
            }
        }
        let mut out = Vec::new();
        for row in store::all(&mut tx).await?.iter().filter(|r| r.entity == entity) {
            out.push(view(row)?);
        }
        self.commit_schema(tx).await?;
        Ok(out)
    }

    /// Replace a select field's options (built-in ones such as industries, deal stages and
    /// sources, or a custom select): add, rename labels, reorder, retire. An option that
    /// records still hold can only be removed with a `replacements` entry naming the
    /// option those records move to (each move is a logged record update).
    pub async fn set_options(
        &self,
        ctx: &Ctx,
        entity: &str,
        field: &str,
        body: Map<String, Json>,
    ) -> Result<Json, ServiceError> {
        admin_only(ctx)?;
        let schema = self.schema();
        let def = schema.entity(entity).ok_or(ServiceError::NotFound)?;
        let field_def = def.field(field).filter(|f| !f.hidden).ok_or(ServiceError::NotFound)?.clone();
        let custom_field = field_def.custom;
        if !custom_field && !custom::editable_builtin_options(entity, field) {
            return Err(FieldErrors::single(
                "field",
                "not_editable",
                format!("{entity}.{field} has no editable options"),
            )
            .into());
        }
        if !matches!(field_def.ty, FieldType::Select | FieldType::MultiSelect) {
            return Err(
                FieldErrors::single("field", "not_editable", format!("{entity}.{field} is not a select")).into()
            );
        }
        let mut options: Vec<SelectOption> = match body.get("options") {
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|e| FieldErrors::single("options", "invalid", format!("not a list of options: {e}")))?,
            None => return Err(FieldErrors::single("options", "required", "options is a list of options").into()),
        };
        let replacements: Map<String, Json> = match body.get("replacements") {
            None | Some(Json::Null) => Map::new(),
            Some(Json::Object(m)) => m.clone(),
            Some(_) => {
                return Err(
                    FieldErrors::single("replacements", "invalid", "replacements maps old values to new").into()
                );
            }
        };
        label_options(&mut options);
        let stages = entity == "deals" && field == "stage";
        let mut errors = FieldErrors::new();
        if options.is_empty() || options.len() > 200 {
            errors.push("options", "invalid_options", "A select has 1 to 200 options");
        }
        check_options(&options, stages, &mut errors);
        if stages {
            for (i, o) in options.iter().enumerate() {
                if o.probability.is_none() {
                    errors.push(format!("options[{i}]"), "required", "Every deal stage carries a probability (0–100)");
                }
            }
            for closed in ["won", "lost"] {
                if !options.iter().any(|o| o.closed.as_deref() == Some(closed) && !o.retired) {
                    errors.push("options", "closed_stage_required", format!("Deals need a live `{closed}` stage"));
                }
            }
        }
        if !options.iter().any(|o| !o.retired) {
            errors.push("options", "invalid_options", "At least one option must stay live");
        }
        errors.into_result()?;

        let mut tx = self.db.write().await?;
        // Removed values: replace where held, else refuse.
        let mut moves: Vec<(String, String)> = Vec::new();
        let mut in_use = Map::new();
        let mut bad = FieldErrors::new();
        for old in &field_def.options {
            if options.iter().any(|o| o.value == old.value) {
                continue;
            }
            let held = if field_def.ty == FieldType::MultiSelect {
                let needle = serde_json::to_string(&old.value).unwrap_or_default();
                store::count_containing(&mut tx, entity, field, &needle).await?
            } else {
                store::count_value(&mut tx, entity, field, &old.value).await?
            };
            if held == 0 {
                continue;
            }
            match replacements.get(&old.value).and_then(Json::as_str) {
                Some(to) if field_def.ty == FieldType::Select => {
                    match options.iter().find(|o| o.value == to && !o.retired) {
                        Some(o) => moves.push((old.value.clone(), o.value.clone())),
                        None => bad.push(
                            format!("replacements.{}", old.value),
                            "invalid_option",
                            format!("`{to}` is not a live option of the new list"),
                        ),
                    }
                }
                _ => {
                    in_use.insert(old.value.clone(), json!(held));
                }
            }
        }
        bad.into_result()?;
        if !in_use.is_empty() {
            let mut details = Map::new();
            details.insert("in_use".into(), Json::Object(in_use));
            return Err(ServiceError::Conflict {
                code: "option_in_use",
                message: "records still hold options this change removes: retire them, or name a replacement".into(),
                details,
            });
        }
        let now = self.clock.now();
        for (from, to) in &moves {
            for id in store::ids_with_value(&mut tx, entity, field, from).await? {
                let Some(before) = keel_store::records::get(&mut tx, def, id, &policy::RowScope::All).await? else {
                    continue;
                };
                let mut after = before.clone();
                after.set(field.to_string(), Value::Text(to.clone()));
                if stages && let Some(p) = options.iter().find(|o| &o.value == to).and_then(|o| o.probability) {
                    after.set("probability", Value::Int(p));
                }
                crate::records::save(&mut tx, ctx, def, ChangeOp::Update, &before, after, now).await?;
            }
        }
        let before_options = field_def.options.clone();
        if custom_field {
            let row = store::get(&mut tx, entity, field).await?.ok_or(ServiceError::NotFound)?;
            let mut spec = parse_spec(&row)?;
            spec.options = options.clone();
            spec.validate()?;
            store::update(&mut tx, &StoredFieldRow { definition: to_json(&spec)?, ..row }, now).await?;
        } else {
            store::put_options(&mut tx, entity, field, &to_json(&options)?, now).await?;
        }
        let diff = json!({ "options": { "from": before_options, "to": options } });
        let entry = ctx.change(now, "field_options", field_record_id(entity, field), ChangeOp::Update, diff.clone());
        changes::append(&mut tx, &entry).await?;
        let event = Event {
            action: AuditAction::SettingsChanged,
            entity: Some("field_options"),
            record_id: Some(field_record_id(entity, field)),
            details: json!({ "kind": "field_options", "entity": entity, "field": field, "diff": diff }),
        };
        crate::audit::append(&mut tx, Source::of(ctx), now, vec![event]).await?;
        self.commit_schema(tx).await?;
        Ok(json!({ "entity": entity, "field": field, "options": options, "replaced": moves.len() }))
    }

    /// Roles named in `read_roles`/`write_roles` must exist.
    async fn check_roles(&self, tx: &mut Tx, spec: &CustomFieldSpec) -> Result<(), ServiceError> {
        let mut errors = FieldErrors::new();
        for (key, roles) in [("read_roles", &spec.read_roles), ("write_roles", &spec.write_roles)] {
            for r in roles.iter().flatten() {
                if !self.role_exists(tx, r).await? {
                    errors.push(key, "not_found", format!("there is no role named `{r}`"));
                }
            }
        }
        Ok(errors.into_result()?)
    }

    /// Convert a column's values to a new type: all of them, or none with a report.
    async fn convert_column(
        &self,
        tx: &mut Tx,
        ctx: &Ctx,
        table: &EntityDef,
        old: &FieldDef,
        new: &FieldDef,
    ) -> Result<(), ServiceError> {
        let values = store::column_values(tx, table, &old.name, old.ty).await?;
        let mut converted = Vec::with_capacity(values.len());
        let mut failures = Vec::new();
        let mut failed = 0usize;
        for (id, v) in values {
            match convert_value(&v, new) {
                Ok(Value::Null) if !v.is_null() => {
                    failed += 1;
                    if failures.len() < REPORT_CAP {
                        failures.push(json!({ "id": id, "value": v.to_json(), "reason": "would become empty" }));
                    }
                }
                Ok(c) => converted.push((id, v, c)),
                Err(reason) => {
                    failed += 1;
                    if failures.len() < REPORT_CAP {
                        failures.push(json!({ "id": id, "value": v.to_json(), "reason": reason }));
                    }
                }
            }
        }
        if new.ty == FieldType::Reference && failures.is_empty() {
            // References must point at live records of the target.
            let schema = self.schema();
            if let Some(target) = new.reference.as_deref().and_then(|t| schema.entity(t)) {
                for (id, _, v) in &converted {
                    if let Some(u) = v.as_uuid()
                        && !keel_store::records::exists_live(tx, target, u).await?
                    {
                        failed += 1;
                        if failures.len() < REPORT_CAP {
                            failures.push(json!({ "id": id, "value": v.to_json(), "reason": "no such record" }));
                        }
                    }
                }
            }
        }
        if failed > 0 {
            let mut details = Map::new();
            details.insert("field".into(), json!(old.name));
            details.insert("failed_count".into(), json!(failed));
            details.insert("failures".into(), Json::Array(failures));
            return Err(ServiceError::Conflict {
                code: "type_change_refused",
                message: format!(
                    "{failed} value(s) of {} cannot become {}; nothing was changed",
                    old.label,
                    new.kind.as_deref().unwrap_or("the new type")
                ),
                details,
            });
        }
        store::drop_column(tx, &table.name, &old.name).await?;
        store::add_column(tx, &table.name, &new.name, new.ty).await?;
        // A value whose JSON form changes (text "42" → number 42) is a change to its record
        // for anyone following the change log (webhooks, sync clients): it gets an entry,
        // and its version moves so that a client holding the old form must re-read before
        // writing. Values that read the same (text → long text) are not changes.
        let now = self.clock.now();
        let mut log = Vec::new();
        for (id, before, after) in &converted {
            let changed = before.to_json() != after.to_json();
            store::set_value(tx, &table.name, &new.name, new.ty, *id, after, changed).await?;
            if changed {
                let diff = json!({ new.name.clone(): { "from": before.to_json(), "to": after.to_json() } });
                log.push(ctx.change(now, &table.name, *id, ChangeOp::Update, diff));
            }
        }
        for chunk in log.chunks(500) {
            changes::append_many(tx, chunk).await?;
        }
        store::create_indexes(tx, &table.name, &new.name, new.sortable, new.unique).await?;
        Ok(())
    }

    /// Bump the stored schema version, rebuild the schema inside the transaction (so it
    /// reflects this change), commit, then swap it in.
    async fn commit_schema(&self, mut tx: Tx) -> Result<(), ServiceError> {
        store::bump_schema_version(&mut tx).await?;
        let (schema, version) = build_schema(&mut tx, &self.base).await?;
        tx.commit().await?;
        self.set_schema(schema, version);
        Ok(())
    }

    /// Field changes go to the change log (entity `custom_fields`) and the audit log
    /// (`settings.changed`) in the same transaction.
    #[allow(clippy::too_many_arguments)]
    async fn log_field(
        &self,
        tx: &mut Tx,
        ctx: &Ctx,
        op: ChangeOp,
        entity: &str,
        name: &str,
        before: Option<&FieldView>,
        after: Option<&FieldView>,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let diff = json!({ "definition": { "from": before, "to": after } });
        let entry = ctx.change(now, "custom_fields", field_record_id(entity, name), op, diff.clone());
        changes::append(tx, &entry).await?;
        let event = Event {
            action: AuditAction::SettingsChanged,
            entity: Some("custom_fields"),
            record_id: Some(field_record_id(entity, name)),
            details: json!({ "kind": "custom_field", "entity": entity, "field": name, "op": op.as_str(), "diff": diff }),
        };
        crate::audit::append(tx, Source::of(ctx), now, vec![event]).await
    }
}

/// Options removed from a select that records still hold cannot simply vanish.
async fn check_removed_options(
    tx: &mut Tx,
    table: &EntityDef,
    old: &FieldDef,
    new_options: &[SelectOption],
) -> Result<(), ServiceError> {
    let mut in_use = Map::new();
    for o in &old.options {
        if new_options.iter().any(|n| n.value == o.value) {
            continue;
        }
        let n = if old.ty == FieldType::MultiSelect {
            let needle = serde_json::to_string(&o.value).unwrap_or_default();
            keel_store::custom_fields::count_containing(tx, &table.name, &old.name, &needle).await?
        } else {
            store::count_value(tx, &table.name, &old.name, &o.value).await?
        };
        if n > 0 {
            in_use.insert(o.value.clone(), json!(n));
        }
    }
    if in_use.is_empty() {
        return Ok(());
    }
    let mut details = Map::new();
    details.insert("in_use".into(), Json::Object(in_use));
    Err(ServiceError::Conflict {
        code: "option_in_use",
        message: "records still hold options this change removes: retire them, or replace them first".into(),
        details,
    })
}

/// One stored value as a value of `new`'s type, or why not.
pub(crate) fn convert_value(v: &Value, new: &FieldDef) -> Result<Value, String> {
    let json = match (v, new.ty) {
        // Anything reads as text.
        (Value::List(items), t) if t.is_textual() => Json::String(items.join("; ")),
        (Value::Bool(b), t) if t.is_textual() => Json::String(b.to_string()),
        (Value::Int(i), t) if t.is_textual() => Json::String(i.to_string()),
        (Value::Decimal(_) | Value::Date(_) | Value::Timestamp(_) | Value::Uuid(_), t) if t.is_textual() => {
            Json::String(v.to_json().as_str().map_or_else(|| v.to_json().to_string(), str::to_string))
        }
        // Numbers between number types (whole units; decimals only when exact).
        (Value::Decimal(d), FieldType::Integer | FieldType::Money | FieldType::Percent) => {
            if d % 10_000 != 0 {
                return Err("has decimal places".into());
            }
            Json::from(d / 10_000)
        }
        (Value::Int(i), FieldType::Decimal) => Json::from(*i),
        (Value::Text(s), FieldType::MultiSelect) => {
            let sep = if s.contains(';') { ';' } else { ',' };
            Json::Array(s.split(sep).map(str::trim).filter(|p| !p.is_empty()).map(Json::from).collect())
        }
        (Value::Text(s), t) if !t.is_textual() => {
            // Text into a typed field reads the way a CSV import does ("1,500", "yes").
            match keel_domain::import::cell::convert(new, s, None) {
                Ok(keel_domain::import::cell::Cell::Value(j)) => j,
                Ok(keel_domain::import::cell::Cell::Lookup(_)) => return Err("is not an id".into()),
                Err((_, m)) => return Err(m),
            }
        }
        (Value::Date(d), FieldType::Timestamp) => {
            Json::String(format!("{}T00:00:00Z", keel_domain::value::format_date(*d)))
        }
        (Value::Timestamp(t), FieldType::Date) => Json::String(keel_domain::value::format_date(t.date())),
        (Value::Text(_), _) => v.to_json(),
        (v, _) => v.to_json(),
    };
    keel_domain::validate::parse_value(new, &json)
        .and_then(|p| keel_domain::validate::normalize_value(new, p, "US"))
        .map_err(|(_, m)| m)
}
