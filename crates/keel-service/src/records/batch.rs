//! Batch create/update: many rows of one entity validated and written in one
//! transaction, each meeting exactly the checks of `create` and `update` (field parsing
//! and entity rules, policy, references, uniqueness), each with its change-log and audit
//! entry. CSV imports use it a batch at a time; a failing row is reported with its row
//! label instead of failing the rest, and the caller decides whether to write.
//!
//! Differences from the single-record verbs, on purpose: statements are batched (one
//! multi-row INSERT, one `IN (…)` query per reference and unique field, one audit head
//! read), and only CRM entities are accepted (no users: passwords and roles have verbs
//! of their own).

use std::collections::{HashMap, HashSet};

use keel_domain::policy::{self, Action, RowScope};
use keel_domain::schema::FieldType;
use keel_domain::validate::{WriteContext, prepare_write};
use keel_domain::value::Value;
use keel_domain::{EntityDef, FieldErrors, Record};
use keel_store::changes::{self, ChangeOp, NewChange};
use keel_store::db::Built;
use keel_store::{Backend, Tx, records};
use serde_json::{Map, Value as Json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::access;
use crate::{Ctx, Service, ServiceError, diff};

/// Rows per multi-row INSERT: ~20 columns each stays far below the bind limits.
const INSERT_CHUNK: usize = 500;

/// One row to write. `row` is the caller's label for it (an import's data row number).
#[derive(Debug, Clone)]
pub struct BatchItem {
    pub row: u64,
    pub op: BatchOp,
}

#[derive(Debug, Clone)]
pub enum BatchOp {
    /// Create a record with this id (chosen up front, so later rows can refer to it).
    Create { id: Uuid, input: Map<String, Json> },
    /// Change `before` (a live record the actor can see) by `input`.
    Update { before: Box<Record>, input: Map<String, Json> },
}

/// A row that passed every check, ready to write.
#[derive(Debug, Clone)]
pub enum Prepared {
    Create(Record),
    Update {
        before: Box<Record>,
        after: Box<Record>,
    },
    /// An update that changes nothing: nothing to write or log.
    Unchanged(Uuid),
}

impl Prepared {
    /// The record as it will be.
    pub fn record(&self) -> Option<&Record> {
        match self {
            Prepared::Create(r) => Some(r),
            Prepared::Update { after, .. } => Some(after),
            Prepared::Unchanged(_) => None,
        }
    }
    pub fn id(&self) -> Option<Uuid> {
        match self {
            Prepared::Create(r) => r.id(),
            Prepared::Update { before, .. } => before.id(),
            Prepared::Unchanged(id) => Some(*id),
        }
    }
}

/// The outcome of checking a batch: rows ready to write and rows refused, both by label.
#[derive(Debug, Default)]
pub struct CheckedBatch {
    pub ready: Vec<(u64, Prepared)>,
    pub refused: Vec<(u64, FieldErrors)>,
}

/// What a batch write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

fn forbidden(field: &str, message: String) -> FieldErrors {
    FieldErrors::single(field, "forbidden", message)
}

impl Service {
    /// Check every row of a batch inside `tx` without writing. Ids in `pending` count as
    /// live records of any entity (rows a caller will create first, e.g. an import's
    /// missing companies during a dry run).
    pub(crate) async fn check_batch(
        &self,
        tx: &mut Tx,
        ctx: &Ctx,
        entity: &EntityDef,
        items: Vec<BatchItem>,
        wc: &WriteContext,
        pending: &HashSet<Uuid>,
    ) -> Result<CheckedBatch, ServiceError> {
        if !policy::is_crm(&entity.name) {
            return Err(ServiceError::NotFound);
        }
        if items.iter().any(|i| matches!(i.op, BatchOp::Create { .. })) {
            policy::can_create(&ctx.actor, entity)?;
        }
        let mut out = CheckedBatch::default();
        for item in items {
            match self.check_row(tx, ctx, entity, item.op, wc).await? {
                Ok(p) => out.ready.push((item.row, p)),
                Err(e) => out.refused.push((item.row, e)),
            }
        }
        check_references(tx, &self.schema(), entity, &mut out, pending).await?;
        check_unique(tx, entity, &mut out).await?;
        out.refused.sort_by_key(|(row, _)| *row);
        Ok(out)
    }

    /// One row: parse and validate as `create`/`update` do, and ask the policy.
    async fn check_row(
        &self,
        tx: &mut Tx,
        ctx: &Ctx,
        entity: &EntityDef,
        op: BatchOp,
        wc: &WriteContext,
    ) -> Result<Result<Prepared, FieldErrors>, ServiceError> {
        match op {
            BatchOp::Create { id, input } => {
                let mut record = match prepare_write(entity, None, &input, wc) {
                    Ok(p) => {
                        let creator = policy::Access { owned: true, ..policy::Access::default() };
                        let set = p.explicit.iter().map(String::as_str);
                        if let Err(e) = policy::check_field_writes(&ctx.actor, entity, &creator, set) {
                            return Ok(Err(e));
                        }
                        p.after
                    }
                    Err(e) => return Ok(Err(e)),
                };
                if let Err(e) = super::create::stamp_new(ctx, entity, &mut record, id, wc.now) {
                    return Ok(Err(e));
                }
                Ok(Ok(Prepared::Create(record)))
            }
            BatchOp::Update { before, input } => {
                let record_access = access(tx, ctx, entity, &before).await?;
                if let Err(d) = policy::can_modify(&ctx.actor, entity, &record_access, Action::Update) {
                    return Ok(Err(forbidden("id", d.0)));
                }
                let after = match prepare_write(entity, Some(&before), &input, wc) {
                    Ok(p) => p.after,
                    Err(e) => return Ok(Err(e)),
                };
                if entity.owned && after.owner_id() != before.owner_id() {
                    if let Err(d) = policy::can_modify(&ctx.actor, entity, &record_access, Action::ChangeOwner) {
                        return Ok(Err(forbidden("owner_id", d.0)));
                    }
                    if after.owner_id().is_none() {
                        return Ok(Err(FieldErrors::single("owner_id", "required", "A record must have an owner")));
                    }
                }
                let changed: Vec<&str> = entity
                    .fields
                    .iter()
                    .filter(|f| before.get(&f.name) != after.get(&f.name))
                    .map(|f| f.name.as_str())
                    .collect();
                let id = before.id().ok_or(ServiceError::NotFound)?;
                if changed.is_empty() {
                    return Ok(Ok(Prepared::Unchanged(id)));
                }
                if let Err(e) = policy::check_field_writes(&ctx.actor, entity, &record_access, changed) {
                    return Ok(Err(e));
                }
                Ok(Ok(Prepared::Update { before, after: Box::new(after) }))
            }
        }
    }

    /// Write checked rows with their change-log and audit entries, inside `tx`.
    pub(crate) async fn write_batch(
        &self,
        tx: &mut Tx,
        ctx: &Ctx,
        entity: &EntityDef,
        ready: Vec<(u64, Prepared)>,
        now: OffsetDateTime,
    ) -> Result<BatchCounts, ServiceError> {
        let batch = BatchWrite::new(tx.backend(), ctx, entity, ready, now)?;
        batch.write(tx, entity).await
    }

    /// Create and update many records at once, all or none: a batch with any refused row
    /// writes nothing and answers 422 naming each row (`rows[N].field`).
    pub async fn batch_write(
        &self,
        ctx: &Ctx,
        entity_name: &str,
        items: Vec<BatchItem>,
    ) -> Result<BatchCounts, ServiceError> {
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
        let wc = self.write_context();
        let mut tx = self.db.write().await?;
        let checked = self.check_batch(&mut tx, ctx, entity, items, &wc, &HashSet::new()).await?;
        if !checked.refused.is_empty() {
            let mut errors = FieldErrors::new();
            for (row, e) in checked.refused {
                for f in e.0 {
                    errors.push(format!("rows[{row}].{}", f.field), f.code, f.message);
                }
            }
            return Err(errors.into());
        }
        let counts = self.write_batch(&mut tx, ctx, entity, checked.ready, wc.now).await?;
        tx.commit().await?;
        Ok(counts)
    }
}

/// Checked rows made ready to write: the INSERT statements of the new rows and of
/// their change-log entries, built; the updated rows; and the audit entries, all but
/// their place in the hash chain. Making it is CPU work only, so an import makes batch
/// N+1's while batch N is being written, and the write is then mostly the database's.
pub(crate) struct BatchWrite {
    inserts: Vec<Built>,
    /// (before, after) with `after`'s new version and `updated_at`.
    updates: Vec<(Record, Record)>,
    log: Vec<Built>,
    audit: Vec<crate::audit::Unchained>,
    counts: BatchCounts,
}

impl BatchWrite {
    pub(crate) fn new(
        backend: Backend,
        ctx: &Ctx,
        entity: &EntityDef,
        ready: Vec<(u64, Prepared)>,
        now: OffsetDateTime,
    ) -> Result<BatchWrite, ServiceError> {
        let mut counts = BatchCounts::default();
        let mut creates = Vec::new();
        let mut updates = Vec::new();
        let mut log = Vec::with_capacity(ready.len());
        for (_, p) in ready {
            match p {
                Prepared::Create(r) => {
                    log.push(change(ctx, entity, ChangeOp::Create, now, None, &r)?);
                    creates.push(r);
                }
                Prepared::Update { before, mut after } => {
                    after.set("updated_at", Value::Timestamp(now));
                    after.set("version", Value::Int(before.version() + 1));
                    log.push(change(ctx, entity, ChangeOp::Update, now, Some(&before), &after)?);
                    updates.push((*before, *after));
                }
                Prepared::Unchanged(_) => counts.unchanged += 1,
            }
        }
        counts.created = creates.len() as u64;
        counts.updated = updates.len() as u64;
        let audit = crate::audit::records_changed_unchained(ctx, &log);
        let mut inserts = Vec::new();
        for chunk in creates.chunks(INSERT_CHUNK) {
            inserts.extend(records::insert_many_statement(backend, entity, chunk)?);
        }
        let mut log_inserts = Vec::new();
        for chunk in log.chunks(INSERT_CHUNK) {
            log_inserts.extend(changes::append_many_statement(backend, chunk)?);
        }
        Ok(BatchWrite { inserts, updates, log: log_inserts, audit, counts })
    }

    /// Rows to insert or update.
    pub(crate) fn len(&self) -> usize {
        (self.counts.created + self.counts.updated) as usize
    }

    /// Rows, change-log entries, then the audit entries chained after the log's head
    /// (read here, inside the write transaction, which keeps it current). The audit
    /// entries are chained and their statements built while the database runs the
    /// rows' and change log's statements.
    pub(crate) async fn write(self, tx: &mut Tx, entity: &EntityDef) -> Result<BatchCounts, ServiceError> {
        let BatchWrite { inserts, updates, log, audit, counts } = self;
        let head = crate::audit::head(tx).await?;
        let backend = tx.backend();
        let rows = async {
            for stmt in inserts {
                tx.run(stmt).await?;
            }
            for (before, after) in &updates {
                let id = before.id().ok_or(ServiceError::NotFound)?;
                let fields = diff::changed_fields(entity, before, after);
                if !records::update(tx, entity, id, before.version(), &fields).await? {
                    let current = records::get(tx, entity, id, &RowScope::All).await?.map_or(0, |r| r.version());
                    return Err(ServiceError::PreconditionFailed { expected: before.version(), current });
                }
            }
            for stmt in log {
                tx.run(stmt).await?;
            }
            Ok::<(), ServiceError>(())
        };
        let chained = async { crate::audit::chain(head, audit).statements(backend) };
        let (written, audit) = tokio::join!(rows, chained);
        written?;
        for stmt in audit? {
            tx.run(stmt).await?;
        }
        Ok(counts)
    }
}

fn change(
    ctx: &Ctx,
    entity: &EntityDef,
    op: ChangeOp,
    at: OffsetDateTime,
    before: Option<&Record>,
    after: &Record,
) -> Result<NewChange, ServiceError> {
    Ok(NewChange {
        at,
        actor_id: Some(ctx.actor.user_id).filter(|id| !id.is_nil()),
        entity: entity.name.clone(),
        record_id: after.id().ok_or_else(|| ServiceError::Internal("change without a record id".into()))?,
        op,
        diff: diff::diff(entity, before, Some(after)),
        request_id: ctx.request_id.clone(),
    })
}

/// The value a prepared row sets `field` to, if it sets or changes it (a create sets
/// every field). One map lookup per row and field: this runs for every row of a batch
/// for each reference and unique field, so it must not walk all the entity's fields.
fn touched<'a>(p: &'a Prepared, field: &str) -> Option<&'a Value> {
    match p {
        Prepared::Create(r) => Some(r.get(field)),
        Prepared::Update { before, after } => {
            let v = after.get(field);
            (before.get(field) != v).then_some(v)
        }
        Prepared::Unchanged(_) => None,
    }
}

/// Move rows with errors from `ready` to `refused`.
fn refuse(batch: &mut CheckedBatch, mut errors: HashMap<usize, FieldErrors>) {
    if errors.is_empty() {
        return;
    }
    let ready = std::mem::take(&mut batch.ready);
    for (i, (row, p)) in ready.into_iter().enumerate() {
        match errors.remove(&i) {
            Some(e) => batch.refused.push((row, e)),
            None => batch.ready.push((row, p)),
        }
    }
}

/// References must point at live records (one query per reference field and batch).
async fn check_references(
    tx: &mut Tx,
    schema: &keel_domain::Schema,
    entity: &EntityDef,
    batch: &mut CheckedBatch,
    pending: &HashSet<Uuid>,
) -> Result<(), ServiceError> {
    let mut errors: HashMap<usize, FieldErrors> = HashMap::new();
    for f in entity.fields.iter().filter(|f| f.ty == FieldType::Reference) {
        let Some(target) = f.reference.as_deref().and_then(|t| schema.entity(t)) else { continue };
        let mut wanted: Vec<Uuid> = Vec::new();
        for (_, p) in &batch.ready {
            if let Some(id) = touched(p, &f.name).and_then(Value::as_uuid)
                && !pending.contains(&id)
            {
                wanted.push(id);
            }
        }
        if wanted.is_empty() {
            continue;
        }
        wanted.sort();
        wanted.dedup();
        let live: HashSet<Uuid> =
            records::live_by_ids(tx, target, &wanted, &RowScope::All).await?.iter().filter_map(Record::id).collect();
        for (i, (_, p)) in batch.ready.iter().enumerate() {
            if let Some(id) = touched(p, &f.name).and_then(Value::as_uuid)
                && !pending.contains(&id)
                && !live.contains(&id)
            {
                errors.entry(i).or_default().push(
                    f.name.clone(),
                    "not_found",
                    format!("{} {id} does not exist", target.singular),
                );
            }
        }
    }
    refuse(batch, errors);
    Ok(())
}

/// Unique fields must not clash with another live record, nor with another row of the
/// batch (compared case-insensitively, as `refs::check` does).
async fn check_unique(tx: &mut Tx, entity: &EntityDef, batch: &mut CheckedBatch) -> Result<(), ServiceError> {
    let mut errors: HashMap<usize, FieldErrors> = HashMap::new();
    for f in entity.fields.iter().filter(|f| f.unique) {
        let mut first_row: HashMap<String, u64> = HashMap::new();
        let mut values: Vec<String> = Vec::new();
        for (i, (row, p)) in batch.ready.iter().enumerate() {
            let Some(text) = touched(p, &f.name).and_then(Value::as_text) else { continue };
            let key = text.to_lowercase();
            match first_row.get(&key) {
                Some(first) => errors.entry(i).or_default().push(
                    f.name.clone(),
                    "duplicate",
                    format!("row {first} has the same {} `{text}`", f.label.to_lowercase()),
                ),
                None => {
                    first_row.insert(key, *row);
                    values.push(text.to_string());
                }
            }
        }
        if values.is_empty() {
            continue;
        }
        let existing = records::live_matching(tx, entity, &f.name, &values, &RowScope::All).await?;
        let mut holder: HashMap<String, Uuid> = HashMap::new();
        for r in &existing {
            if let (Some(text), Some(id)) = (r.text(&f.name), r.id()) {
                holder.insert(text.to_lowercase(), id);
            }
        }
        for (i, (_, p)) in batch.ready.iter().enumerate() {
            if let Some(text) = touched(p, &f.name).and_then(Value::as_text)
                && let Some(other) = holder.get(&text.to_lowercase())
                && Some(*other) != p.id()
            {
                errors.entry(i).or_default().push(
                    f.name.clone(),
                    "taken",
                    format!("another {} already has {} `{text}`", entity.singular, f.label.to_lowercase()),
                );
            }
        }
    }
    refuse(batch, errors);
    Ok(())
}
