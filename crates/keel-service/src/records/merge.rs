//! Duplicate suggestions, merging duplicates and undoing a merge (issue 7).
//!
//! A merge is one transaction through the one write path: related rows are re-pointed to
//! the survivor (each an update with its change-log and audit entry), the shares of the
//! merged records move with them, the merged records go to the trash, the survivor takes
//! the chosen field values, and a `merges` row keeps what undoing needs for 30 days.

use std::collections::{BTreeMap, BTreeSet};

use keel_domain::duplicates::{self, Verdict};
use keel_domain::policy::{self, Action, RowScope};
use keel_domain::validate::{parse_value, prepare_write};
use keel_domain::value::Value;
use keel_domain::{EntityDef, FieldErrors, Record};
use keel_store::changes::ChangeOp;
use keel_store::merges::{self, MergeRow};
use keel_store::{Tx, records, shares};
use serde::Serialize;
use serde_json::{Map, Value as Json, json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{access, is_trashed, load, owns, present, save};
use crate::{Ctx, Service, ServiceError, refs};

/// Most records one merge takes: the survivor and up to nine others.
pub const MAX_MERGE: usize = 10;
/// How long a merge can be undone.
pub const UNDO_DAYS: i64 = 30;
/// Records whose candidates one page of suggestions looks at, at most (then it returns
/// what it found and a cursor, even if the page is not full).
const SCAN_PER_PAGE: usize = 2000;
const ANCHOR_BATCH: u64 = 200;

/// Two records that look alike.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicatePair {
    pub score: u8,
    pub reasons: Vec<duplicates::Reason>,
    pub records: [Map<String, Json>; 2],
}

/// A record that looks like the one asked about.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicateMatch {
    pub score: u8,
    pub reasons: Vec<duplicates::Reason>,
    pub record: Map<String, Json>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DuplicatePage {
    pub data: Vec<DuplicatePair>,
    /// Records are walked in id order; pass this to continue. A page can hold a few pairs
    /// more than `limit` (all of the last record's) or fewer (the scan limit was reached).
    pub next_cursor: Option<String>,
}

/// What to merge: `fields` names, per field, the record whose value survives.
#[derive(Debug, Clone, Default)]
pub struct MergeRequest {
    pub survivor: Uuid,
    pub others: Vec<Uuid>,
    pub fields: BTreeMap<String, Uuid>,
}

/// A merge as clients see it.
#[derive(Debug, Clone, Serialize)]
pub struct MergeView {
    pub id: Uuid,
    pub entity: String,
    pub survivor_id: Uuid,
    pub other_ids: Vec<Uuid>,
    pub actor_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub merged_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub undo_until: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub undone_at: Option<OffsetDateTime>,
    /// Not undone and within 30 days.
    pub can_undo: bool,
    /// Survivor fields the merge overwrote: `{field: {from, to}}`.
    pub fields: Json,
    /// How many related rows were moved to the survivor.
    pub repointed: usize,
    /// How many shares were moved to the survivor.
    pub shares_moved: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct MergeOutcome {
    pub merge: MergeView,
    pub survivor: Map<String, Json>,
}

/// A survivor field whose merged value was changed after the merge: undo kept the newer value.
#[derive(Debug, Clone, Serialize)]
pub struct KeptField {
    pub field: String,
    pub current: Json,
    pub merged: Json,
    pub before_merge: Json,
}

/// A row undo left alone, and why.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedRow {
    pub entity: String,
    pub id: Uuid,
    pub reason: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct UndoOutcome {
    pub merge: MergeView,
    pub survivor: Map<String, Json>,
    pub restored: Vec<Uuid>,
    pub moved_back: usize,
    pub kept_fields: Vec<KeptField>,
    pub skipped: Vec<SkippedRow>,
}

fn json_len(v: &Json) -> usize {
    v.as_array().map_or(0, Vec::len)
}

fn view(m: &MergeRow, now: OffsetDateTime) -> MergeView {
    let undo_until = m.merged_at + time::Duration::days(UNDO_DAYS);
    MergeView {
        id: m.id,
        entity: m.entity.clone(),
        survivor_id: m.survivor_id,
        other_ids: m.other_ids.clone(),
        actor_id: m.actor_id,
        merged_at: m.merged_at,
        undo_until,
        undone_at: m.undone_at,
        can_undo: m.undone_at.is_none() && now <= undo_until,
        fields: m.survivor_fields.clone(),
        repointed: json_len(&m.repointed),
        shares_moved: json_len(&m.shares),
    }
}

fn supported(entity: &EntityDef) -> Result<(), ServiceError> {
    if duplicates::supported(&entity.name) { Ok(()) } else { Err(ServiceError::NotFound) }
}

fn id_of(r: &Record) -> Result<Uuid, ServiceError> {
    r.id().ok_or_else(|| ServiceError::Internal("record without id".into()))
}

fn nil_to_none(id: Uuid) -> Option<Uuid> {
    Some(id).filter(|i| !i.is_nil())
}

impl Service {
    /// Pairs of records the actor may see that look like duplicates, walking records in id order.
    pub async fn duplicates(
        &self,
        ctx: &Ctx,
        entity_name: &str,
        cursor: Option<Uuid>,
        limit: u32,
    ) -> Result<DuplicatePage, ServiceError> {
        let schema = self.schema();
        let entity = schema.entity(entity_name).ok_or(ServiceError::NotFound)?;
        supported(entity)?;
        let limit = limit.clamp(1, 100) as usize;
        let scope = policy::read_scope(&ctx.actor, entity);
        let mut tx = self.db.read().await?;
        let mut data = Vec::new();
        let mut after = cursor;
        let mut scanned = 0;
        loop {
            let anchors = records::live_after(&mut tx, entity, after, ANCHOR_BATCH, &scope).await?;
            let exhausted = (anchors.len() as u64) < ANCHOR_BATCH;
            for anchor in &anchors {
                let id = id_of(anchor)?;
                let ids = keel_store::duplicates::candidates(&mut tx, entity, id, true).await?;
                if !ids.is_empty() {
                    for other in records::live_by_ids(&mut tx, entity, &ids, &scope).await? {
                        if let Some(Verdict { score, reasons }) = duplicates::compare(&entity.name, anchor, &other) {
                            data.push(DuplicatePair {
                                score,
                                reasons,
                                records: [present(ctx, entity, anchor), present(ctx, entity, &other)],
                            });
                        }
                    }
                }
                after = Some(id);
                scanned += 1;
                if data.len() >= limit || scanned >= SCAN_PER_PAGE {
                    data.sort_by_key(|p| std::cmp::Reverse(p.score));
                    return Ok(DuplicatePage { data, next_cursor: after.map(|id| id.to_string()) });
                }
            }
            if exhausted {
                data.sort_by_key(|p| std::cmp::Reverse(p.score));
                return Ok(DuplicatePage { data, next_cursor: None });
            }
        }
    }

    /// Records the actor may see that look like record `id`, best first.
    pub async fn duplicates_of(
        &self,
        ctx: &Ctx,
        entity_name: &str,
        id: Uuid,
    ) -> Result<Vec<DuplicateMatch>, ServiceError> {
        let schema = self.schema();
        let entity = schema.entity(entity_name).ok_or(ServiceError::NotFound)?;
        supported(entity)?;
        let scope = policy::read_scope(&ctx.actor, entity);
        let mut tx = self.db.read().await?;
        let record = load(&mut tx, ctx, entity, id).await?;
        let ids = keel_store::duplicates::candidates(&mut tx, entity, id, false).await?;
        let mut out = Vec::new();
        if !ids.is_empty() {
            for other in records::live_by_ids(&mut tx, entity, &ids, &scope).await? {
                if let Some(Verdict { score, reasons }) = duplicates::compare(&entity.name, &record, &other) {
                    out.push(DuplicateMatch { score, reasons, record: present(ctx, entity, &other) });
                }
            }
        }
        out.sort_by_key(|m| std::cmp::Reverse(m.score));
        Ok(out)
    }

    /// Merge `others` into `survivor`, in one transaction.
    pub async fn merge(&self, ctx: &Ctx, entity_name: &str, req: MergeRequest) -> Result<MergeOutcome, ServiceError> {
        let schema = self.schema();
        let entity = schema.entity(entity_name).ok_or(ServiceError::NotFound)?;
        supported(entity)?;
        check_request(entity, &req)?;
        let mut tx = self.db.write().await?;
        let now = self.clock.now();

        // The records: visible, live, and the actor may edit the survivor and delete the others.
        let survivor = load_live(&mut tx, ctx, entity, req.survivor, "survivor").await?;
        let survivor_access = access(&mut tx, ctx, entity, &survivor).await?;
        policy::can_modify(&ctx.actor, entity, &survivor_access, Action::Update)?;
        let mut others = Vec::with_capacity(req.others.len());
        for (i, id) in req.others.iter().enumerate() {
            let other = load_live(&mut tx, ctx, entity, *id, &format!("others[{i}]")).await?;
            let a = access(&mut tx, ctx, entity, &other).await?;
            policy::can_modify(&ctx.actor, entity, &a, Action::Delete)?;
            others.push(other);
        }

        // The survivor's new values (validated now, written after the others left: their
        // unique values, such as an email, are free by then).
        let mut input = Map::new();
        for (field, from) in &req.fields {
            if *from == req.survivor {
                continue;
            }
            let source = others
                .iter()
                .find(|o| o.id() == Some(*from))
                .ok_or_else(|| ServiceError::Internal("field source outside the merge".into()))?;
            if policy::redacted_fields(&ctx.actor, entity, owns(ctx, entity, source)).contains(field) {
                return Err(ServiceError::ForbiddenFields(FieldErrors::single(
                    format!("fields.{field}"),
                    "forbidden",
                    format!("You may not read `{field}` on that {}", entity.singular),
                )));
            }
            input.insert(field.clone(), source.get(field).to_json());
        }
        let wc = self.write_context();
        let prepared = prepare_write(entity, Some(&survivor), &input, &wc).map_err(|e| prefix_errors(e, "fields."))?;
        let mut new_survivor = prepared.after;
        let changed: BTreeSet<String> = entity
            .fields
            .iter()
            .filter(|f| survivor.get(&f.name) != new_survivor.get(&f.name))
            .map(|f| f.name.clone())
            .collect();
        policy::check_field_writes(&ctx.actor, entity, &survivor_access, changed.iter().map(String::as_str))
            .map_err(|e| ServiceError::ForbiddenFields(prefix_errors(e, "fields.")))?;
        if entity.owned && new_survivor.owner_id() != survivor.owner_id() {
            policy::can_modify(&ctx.actor, entity, &survivor_access, Action::ChangeOwner)
                .map_err(|d| ServiceError::ForbiddenFields(FieldErrors::single("fields.owner_id", "forbidden", d.0)))?;
        }

        // Related rows move to the survivor: every reference to this entity, from the schema.
        let mut repointed = Vec::new();
        for related in schema.entities.values() {
            for field in related.fields.iter().filter(|f| f.reference.as_deref() == Some(entity.name.as_str())) {
                for other in &req.others {
                    for row in records::referencing(&mut tx, related, &field.name, *other).await? {
                        let row_id = id_of(&row)?;
                        let visible = records::get(&mut tx, related, row_id, &policy::read_scope(&ctx.actor, related))
                            .await?
                            .is_some();
                        if !visible {
                            return Err(ServiceError::Forbidden(format!(
                                "this merge would move {} you may not see; ask someone who can see them",
                                related.name
                            )));
                        }
                        let a = access(&mut tx, ctx, related, &row).await?;
                        policy::can_modify(&ctx.actor, related, &a, Action::Update).map_err(|d| {
                            ServiceError::Forbidden(format!(
                                "this merge would move {} you may not edit: {d}",
                                related.name
                            ))
                        })?;
                        policy::check_field_writes(&ctx.actor, related, &a, [field.name.as_str()])
                            .map_err(ServiceError::ForbiddenFields)?;
                        let mut after = row.clone();
                        after.set(field.name.clone(), Value::Uuid(req.survivor));
                        save(&mut tx, ctx, related, ChangeOp::Update, &row, after, now).await?;
                        repointed
                            .push(json!({ "entity": related.name, "field": field.name, "id": row_id, "from": other }));
                    }
                }
            }
        }

        // Shares move too, unless the survivor already has one for the same user or team.
        let mut moved_shares = Vec::new();
        if policy::shareable(&entity.name) {
            let mut held: Vec<(Option<Uuid>, Option<Uuid>)> = shares::for_record(&mut tx, &entity.name, req.survivor)
                .await?
                .into_iter()
                .map(|s| (s.user_id, s.team_id))
                .collect();
            for other in &req.others {
                for share in shares::for_record(&mut tx, &entity.name, *other).await? {
                    if held.contains(&(share.user_id, share.team_id)) {
                        continue;
                    }
                    policy::can_modify(&ctx.actor, entity, &survivor_access, Action::Share)
                        .map_err(|d| ServiceError::Forbidden(format!("the merged records are shared, and {d}")))?;
                    shares::move_to(&mut tx, share.id, req.survivor).await?;
                    held.push((share.user_id, share.team_id));
                    moved_shares.push(json!({ "id": share.id, "from": other }));
                }
            }
        }

        // The others go to the trash.
        for other in &others {
            let mut after = other.clone();
            after.set("deleted_at", Value::Timestamp(now));
            save(&mut tx, ctx, entity, ChangeOp::Delete, other, after, now).await?;
        }

        // The survivor takes the chosen values.
        let mut survivor_fields = Map::new();
        let saved = if changed.is_empty() {
            survivor.clone()
        } else {
            refs::check(&mut tx, &schema, entity, &new_survivor, &changed, Some(req.survivor)).await.map_err(|e| {
                match e {
                    ServiceError::Invalid(errors) => ServiceError::Invalid(prefix_errors(errors, "fields.")),
                    other => other,
                }
            })?;
            for f in &changed {
                survivor_fields.insert(
                    f.clone(),
                    json!({ "from": survivor.get(f).to_json(), "to": new_survivor.get(f).to_json() }),
                );
            }
            new_survivor.set("id", Value::Uuid(req.survivor));
            save(&mut tx, ctx, entity, ChangeOp::Update, &survivor, new_survivor, now).await?
        };

        let row = MergeRow {
            id: Uuid::now_v7(),
            entity: entity.name.clone(),
            survivor_id: req.survivor,
            other_ids: req.others.clone(),
            actor_id: nil_to_none(ctx.actor.user_id),
            merged_at: now,
            survivor_fields: Json::Object(survivor_fields),
            repointed: Json::Array(repointed),
            shares: Json::Array(moved_shares),
            undone_at: None,
            undone_by: None,
        };
        merges::insert(&mut tx, &row).await?;
        let event = crate::audit::Event {
            action: crate::audit::AuditAction::RecordsMerged,
            entity: Some(&entity.name),
            record_id: Some(req.survivor),
            details: json!({
                "merge_id": row.id,
                "others": row.other_ids,
                "fields": row.survivor_fields,
                "repointed": json_len(&row.repointed),
                "shares_moved": json_len(&row.shares),
            }),
        };
        // Each merged record is marked too, so its own history says where it went.
        let mut events = vec![event];
        for other in &row.other_ids {
            events.push(crate::audit::Event {
                action: crate::audit::AuditAction::RecordsMerged,
                entity: Some(&entity.name),
                record_id: Some(*other),
                details: json!({ "merge_id": row.id, "merged_into": req.survivor }),
            });
        }
        crate::audit::append(&mut tx, crate::audit::Source::of(ctx), now, events).await?;
        tx.commit().await?;
        Ok(MergeOutcome { merge: view(&row, now), survivor: present(ctx, entity, &saved) })
    }

    /// Recent merges (last 30 days) whose survivor the actor may see, newest first.
    pub async fn merges(
        &self,
        ctx: &Ctx,
        before: Option<(OffsetDateTime, Uuid)>,
        limit: u32,
    ) -> Result<(Vec<MergeView>, Option<(OffsetDateTime, Uuid)>), ServiceError> {
        let now = self.clock.now();
        let limit = limit.clamp(1, 100);
        let mut tx = self.db.read().await?;
        let mut visible = Vec::new();
        let schema = self.schema();
        for name in ["contacts", "companies"] {
            let entity = schema.entity(name).ok_or(ServiceError::NotFound)?;
            let scope = policy::read_scope(&ctx.actor, entity);
            visible.push((name.to_string(), records::visible_ids(&tx, entity, &scope)));
        }
        let since = now - time::Duration::days(UNDO_DAYS);
        let mut rows = merges::recent(&mut tx, since, before, visible, u64::from(limit) + 1).await?;
        let next = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|m| (m.merged_at, m.id))
        } else {
            None
        };
        Ok((rows.iter().map(|m| view(m, now)).collect(), next))
    }

    /// Undo a merge within 30 days: see `docs/API.md` for what comes back and what not.
    pub async fn undo_merge(&self, ctx: &Ctx, id: Uuid) -> Result<UndoOutcome, ServiceError> {
        let mut tx = self.db.write().await?;
        let now = self.clock.now();
        let m = merges::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
        let schema = self.schema();
        let entity = schema.entity(&m.entity).ok_or(ServiceError::NotFound)?;
        let survivor = load(&mut tx, ctx, entity, m.survivor_id).await?;
        if m.undone_at.is_some() {
            return Err(ServiceError::conflict("already_undone", "this merge was already undone"));
        }
        let until = m.merged_at + time::Duration::days(UNDO_DAYS);
        if now > until {
            let mut details = Map::new();
            details.insert("merged_at".into(), json!(fmt(m.merged_at)));
            details.insert("undo_until".into(), json!(fmt(until)));
            return Err(ServiceError::Conflict {
                code: "undo_expired",
                message: format!(
                    "this merge was made on {} and could be undone for {UNDO_DAYS} days, until {}; it can no longer be undone",
                    fmt(m.merged_at),
                    fmt(until)
                ),
                details,
            });
        }
        if is_trashed(&survivor) {
            return Err(ServiceError::conflict(
                "survivor_in_trash",
                format!("the surviving {} is in the trash; restore it before undoing the merge", entity.singular),
            ));
        }
        let survivor_access = access(&mut tx, ctx, entity, &survivor).await?;
        policy::can_modify(&ctx.actor, entity, &survivor_access, Action::Update)?;

        // 1. The survivor's overwritten values come back, unless changed since the merge.
        let mut kept_fields = Vec::new();
        let mut input = Map::new();
        if let Some(fields) = m.survivor_fields.as_object() {
            for (name, change) in fields {
                let Some(field) = entity.field(name).filter(|f| f.is_writable()) else { continue };
                let (from, to) = (
                    change.get("from").cloned().unwrap_or(Json::Null),
                    change.get("to").cloned().unwrap_or(Json::Null),
                );
                let current = survivor.get(name).to_json();
                if current == to {
                    parse_value(field, &from).map_err(|(_, m)| ServiceError::Internal(m))?;
                    input.insert(name.clone(), from);
                } else {
                    kept_fields.push(KeptField { field: name.clone(), current, merged: to, before_merge: from });
                }
            }
        }
        let mut survivor_now = survivor.clone();
        if !input.is_empty() {
            let wc = self.write_context();
            let after = prepare_write(entity, Some(&survivor), &input, &wc)?.after;
            let changed: BTreeSet<String> = entity
                .fields
                .iter()
                .filter(|f| survivor.get(&f.name) != after.get(&f.name))
                .map(|f| f.name.clone())
                .collect();
            policy::check_field_writes(&ctx.actor, entity, &survivor_access, changed.iter().map(String::as_str))
                .map_err(ServiceError::ForbiddenFields)?;
            refs::check(&mut tx, &schema, entity, &after, &changed, Some(m.survivor_id)).await.map_err(
                |e| match e {
                    ServiceError::Invalid(errors) => ServiceError::Conflict {
                        code: "cannot_undo",
                        message: format!("the survivor's values before the merge no longer fit: {errors}"),
                        details: Map::new(),
                    },
                    other => other,
                },
            )?;
            survivor_now = save(&mut tx, ctx, entity, ChangeOp::Update, &survivor, after, now).await?;
        }

        // 2. The merged records come back from the trash.
        let mut restored = Vec::new();
        let mut skipped = Vec::new();
        for other in &m.other_ids {
            match records::get(&mut tx, entity, *other, &RowScope::All).await? {
                None => skipped.push(SkippedRow { entity: entity.name.clone(), id: *other, reason: "purged" }),
                Some(r) if !is_trashed(&r) => {
                    skipped.push(SkippedRow { entity: entity.name.clone(), id: *other, reason: "already_restored" })
                }
                Some(_) => {
                    let r = load(&mut tx, ctx, entity, *other).await.map_err(|_| {
                        ServiceError::Forbidden(format!("you may not see a {} this merge took in", entity.singular))
                    })?;
                    let a = access(&mut tx, ctx, entity, &r).await?;
                    policy::can_modify(&ctx.actor, entity, &a, Action::Restore)?;
                    self.restore_one(&mut tx, ctx, entity, r, now).await?;
                    restored.push(*other);
                }
            }
        }
        let alive: Vec<Uuid> = m
            .other_ids
            .iter()
            .copied()
            .filter(|o| !skipped.iter().any(|s| s.id == *o && s.reason == "purged"))
            .collect();

        // 3. Related rows still pointing at the survivor move back.
        let mut moved_back = 0;
        for item in m.repointed.as_array().into_iter().flatten() {
            let parsed = (
                item.get("entity").and_then(Json::as_str),
                item.get("field").and_then(Json::as_str),
                item.get("id").and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok()),
                item.get("from").and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok()),
            );
            let (Some(ename), Some(field), Some(row_id), Some(from)) = parsed else {
                return Err(ServiceError::Internal(format!("merge {id} has a malformed re-pointed row")));
            };
            let related = schema.entity(ename).ok_or(ServiceError::NotFound)?;
            let Some(row) = records::get(&mut tx, related, row_id, &RowScope::All).await? else {
                skipped.push(SkippedRow { entity: ename.into(), id: row_id, reason: "purged" });
                continue;
            };
            if row.get(field).as_uuid() != Some(m.survivor_id) {
                skipped.push(SkippedRow { entity: ename.into(), id: row_id, reason: "changed_since_merge" });
                continue;
            }
            if !alive.contains(&from) {
                skipped.push(SkippedRow { entity: ename.into(), id: row_id, reason: "original_purged" });
                continue;
            }
            let row = load(&mut tx, ctx, related, row_id).await.map_err(|_| {
                ServiceError::Forbidden(format!("undoing this merge would move {} you may not see", related.name))
            })?;
            let a = access(&mut tx, ctx, related, &row).await?;
            policy::can_modify(&ctx.actor, related, &a, Action::Update)?;
            let mut after = row.clone();
            after.set(field, Value::Uuid(from));
            save(&mut tx, ctx, related, ChangeOp::Update, &row, after, now).await?;
            moved_back += 1;
        }

        // 4. Shares go back to the record they came from.
        if !m.shares.as_array().is_none_or(Vec::is_empty) {
            let current = shares::for_record(&mut tx, &entity.name, m.survivor_id).await?;
            for item in m.shares.as_array().into_iter().flatten() {
                let sid = item.get("id").and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok());
                let from = item.get("from").and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok());
                if let (Some(sid), Some(from)) = (sid, from)
                    && current.iter().any(|s| s.id == sid)
                    && alive.contains(&from)
                {
                    shares::move_to(&mut tx, sid, from).await?;
                }
            }
        }

        if !merges::mark_undone(&mut tx, id, nil_to_none(ctx.actor.user_id), now).await? {
            return Err(ServiceError::conflict("already_undone", "this merge was already undone"));
        }
        let event = crate::audit::Event {
            action: crate::audit::AuditAction::MergeUndone,
            entity: Some(&entity.name),
            record_id: Some(m.survivor_id),
            details: json!({
                "merge_id": id,
                "restored": restored,
                "moved_back": moved_back,
                "kept_fields": kept_fields.iter().map(|k| k.field.clone()).collect::<Vec<_>>(),
            }),
        };
        crate::audit::append(&mut tx, crate::audit::Source::of(ctx), now, vec![event]).await?;
        tx.commit().await?;
        let mut done = m.clone();
        done.undone_at = Some(now);
        done.undone_by = nil_to_none(ctx.actor.user_id);
        Ok(UndoOutcome {
            merge: view(&done, now),
            survivor: present(ctx, entity, &survivor_now),
            restored,
            moved_back,
            kept_fields,
            skipped,
        })
    }
}

fn fmt(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// Field errors from validating the survivor's new values, renamed to the request's keys.
fn prefix_errors(errors: FieldErrors, prefix: &str) -> FieldErrors {
    let mut out = FieldErrors::new();
    for e in errors.0 {
        out.push(format!("{prefix}{}", e.field), e.code, e.message);
    }
    out
}

/// The request's shape: enough records, not too many, none twice, field choices that name
/// writable fields and records in the merge. Nothing is read or written before this passes.
fn check_request(entity: &EntityDef, req: &MergeRequest) -> Result<(), ServiceError> {
    let mut errors = FieldErrors::new();
    if req.others.is_empty() {
        errors.push("others", "required", "Name at least one record to merge into the survivor");
    }
    if req.others.len() + 1 > MAX_MERGE {
        errors.push(
            "others",
            "too_many",
            format!("At most {MAX_MERGE} records merge at once: the survivor and {} others", MAX_MERGE - 1),
        );
    }
    for (i, id) in req.others.iter().enumerate() {
        if *id == req.survivor {
            errors.push(format!("others[{i}]"), "is_survivor", "A record cannot be merged with itself");
        } else if req.others[..i].contains(id) {
            errors.push(format!("others[{i}]"), "duplicate", "This record is listed twice");
        }
    }
    for (name, from) in &req.fields {
        match entity.field(name) {
            Some(f) if !f.hidden && f.is_writable() => {
                if *from != req.survivor && !req.others.contains(from) {
                    errors.push(
                        format!("fields.{name}"),
                        "not_in_merge",
                        "The value must come from the survivor or one of the others being merged",
                    );
                }
            }
            Some(f) if !f.hidden => errors.push(
                format!("fields.{name}"),
                "read_only",
                format!("`{name}` is set by the system; it cannot be chosen"),
            ),
            _ => errors.push(
                format!("fields.{name}"),
                "unknown_field",
                format!("{} has no field `{name}`", entity.label),
            ),
        }
    }
    errors.into_result().map_err(ServiceError::Invalid)
}

/// A record named in the request: visible and live, or a 422 naming the request field
/// (unknown and invisible ids look alike).
async fn load_live(tx: &mut Tx, ctx: &Ctx, entity: &EntityDef, id: Uuid, field: &str) -> Result<Record, ServiceError> {
    let record = match load(tx, ctx, entity, id).await {
        Ok(r) => r,
        Err(ServiceError::NotFound) => {
            return Err(FieldErrors::single(
                field,
                "not_found",
                format!("No {} with this id that you can see", entity.singular),
            )
            .into());
        }
        Err(e) => return Err(e),
    };
    if is_trashed(&record) {
        return Err(FieldErrors::single(
            field,
            "in_trash",
            format!("This {} is in the trash; restore it first", entity.singular),
        )
        .into());
    }
    Ok(record)
}
