//! The audit log: who did what, when and from where — record changes (with the change
//! log's field diffs), sign-ins and sign-outs, permission and settings changes, exports,
//! and the log's own retention purges. Append-only and hash-chained (`chain.rs` documents
//! the bytes); admins query it and `verify` walks the chain.
//!
//! Entries are written in the same transaction as what they describe: a record change
//! and its audit entry commit together or not at all.
//!
//! Appending is race-free because writers are already serialised: every write
//! transaction starts with `Db::write()`, which is `BEGIN IMMEDIATE` on SQLite (one writer
//! at a time) and takes the writers' transaction-scoped advisory lock on PostgreSQL. So
//! between reading the newest entry's seq and hash and inserting the next entry, nobody
//! else can append; the primary key on `seq` would refuse a duplicate anyway. Callers
//! must therefore only append inside a `Db::write()` transaction.

mod chain;

use keel_domain::policy;
use keel_domain::value::format_timestamp;
use keel_domain::{EntityDef, Record};
use keel_store::Tx;
use keel_store::audit as store;
use keel_store::changes::{ChangeOp, NewChange};
use serde_json::{Value as Json, json};
use time::OffsetDateTime;
use uuid::Uuid;

pub use chain::{BreakReason, BrokenLink, GENESIS_HASH, VerifyReport, canonical, entry_hash};
pub use keel_store::audit::{AuditEntry, AuditFilter};

use crate::{Ctx, Service, ServiceError};

/// Entries per page when verifying: memory stays flat however long the log is.
const VERIFY_PAGE: u32 = 1000;
/// Most entries one list call returns.
pub const MAX_LIST_LIMIT: u32 = 1000;
/// Retention when nothing else is configured (`KEEL_AUDIT_RETENTION_DAYS`).
pub const DEFAULT_RETENTION_DAYS: u32 = 365;
/// User agents are cut to this many characters (the API does the same).
const MAX_USER_AGENT: usize = 512;
/// An attempted sign-in email is kept to at most this many characters.
const MAX_ATTEMPTED_EMAIL: usize = 254;

/// What happened. The string forms are stable: they are stored and hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    RecordCreated,
    RecordUpdated,
    RecordDeleted,
    RecordRestored,
    RecordPurged,
    /// Records written in bulk by the trusted demo loader: one entry per batch.
    RecordBulkLoaded,
    UserLogin,
    UserLoginFailed,
    UserLogout,
    PermissionChanged,
    ExportCompleted,
    SettingsChanged,
    AuditPurged,
    /// A CSV import finished (or stopped): its counts and status.
    ImportCompleted,
    /// Duplicates were merged into a survivor (details: the merge id, the others, the fields taken).
    RecordsMerged,
    /// A merge was undone.
    MergeUndone,
}

impl AuditAction {
    pub const ALL: [AuditAction; 16] = [
        AuditAction::RecordCreated,
        AuditAction::RecordUpdated,
        AuditAction::RecordDeleted,
        AuditAction::RecordRestored,
        AuditAction::RecordPurged,
        AuditAction::RecordBulkLoaded,
        AuditAction::UserLogin,
        AuditAction::UserLoginFailed,
        AuditAction::UserLogout,
        AuditAction::PermissionChanged,
        AuditAction::ExportCompleted,
        AuditAction::SettingsChanged,
        AuditAction::AuditPurged,
        AuditAction::ImportCompleted,
        AuditAction::RecordsMerged,
        AuditAction::MergeUndone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::RecordCreated => "record.created",
            AuditAction::RecordUpdated => "record.updated",
            AuditAction::RecordDeleted => "record.deleted",
            AuditAction::RecordRestored => "record.restored",
            AuditAction::RecordPurged => "record.purged",
            AuditAction::RecordBulkLoaded => "record.bulk_loaded",
            AuditAction::UserLogin => "user.login",
            AuditAction::UserLoginFailed => "user.login_failed",
            AuditAction::UserLogout => "user.logout",
            AuditAction::PermissionChanged => "permission.changed",
            AuditAction::ExportCompleted => "export.completed",
            AuditAction::SettingsChanged => "settings.changed",
            AuditAction::AuditPurged => "audit.purged",
            AuditAction::ImportCompleted => "import.completed",
            AuditAction::RecordsMerged => "record.merged",
            AuditAction::MergeUndone => "merge.undone",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The audit action for a change-log operation.
    pub fn of_change(op: ChangeOp) -> AuditAction {
        match op {
            ChangeOp::Create => AuditAction::RecordCreated,
            ChangeOp::Update => AuditAction::RecordUpdated,
            ChangeOp::Delete => AuditAction::RecordDeleted,
            ChangeOp::Restore => AuditAction::RecordRestored,
            ChangeOp::Purge => AuditAction::RecordPurged,
        }
    }
}

/// Who did it and from where.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Source<'a> {
    pub actor_id: Option<Uuid>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub request_id: Option<&'a str>,
}

impl<'a> Source<'a> {
    /// The request's actor and origin. The nil id is the system (CLI, jobs): no actor.
    pub fn of(ctx: &'a Ctx) -> Self {
        Source {
            actor_id: Some(ctx.actor.user_id).filter(|id| !id.is_nil()),
            ip: ctx.origin.ip.as_deref(),
            user_agent: ctx.origin.user_agent.as_deref(),
            request_id: ctx.request_id.as_deref(),
        }
    }
}

/// One thing to record.
#[derive(Debug, Clone)]
pub(crate) struct Event<'a> {
    pub action: AuditAction,
    pub entity: Option<&'a str>,
    pub record_id: Option<Uuid>,
    pub details: Json,
}

/// Append `events` after the newest entry, inside the caller's write transaction.
pub(crate) async fn append(
    tx: &mut Tx,
    source: Source<'_>,
    at: OffsetDateTime,
    events: Vec<Event<'_>>,
) -> Result<(), ServiceError> {
    let head = store::head(tx).await?;
    append_after(tx, head, source, at, events).await
}

/// Append `events` chained to `head` (the newest entry's seq and hash, None when the log
/// is empty). Only `audit_purge` passes a head it read earlier, because it deletes the
/// head it chains to.
async fn append_after(
    tx: &mut Tx,
    head: Option<(i64, String)>,
    source: Source<'_>,
    at: OffsetDateTime,
    events: Vec<Event<'_>>,
) -> Result<(), ServiceError> {
    let chained = chain(head, unchained(source, at, events));
    for stmt in chained.statements(tx.backend())? {
        tx.run(stmt).await?;
    }
    Ok(())
}

/// An entry made ahead of the write that appends it: everything but its place in the
/// chain (`seq`, `prev_hash`, `hash`), with the canonical bytes that do not depend on
/// that place already made, and its details as JSON text (the entry's own `details` is
/// left null: the text is what gets written, at a fraction of the value tree's memory,
/// which matters for an import holding a few thousand of these per batch in flight).
/// Chaining it is then one hash.
pub(crate) struct Unchained {
    entry: AuditEntry,
    tail: String,
    details_json: String,
}

fn unchained(source: Source<'_>, at: OffsetDateTime, events: Vec<Event<'_>>) -> Vec<Unchained> {
    // Both databases keep microseconds; hash exactly what will be read back.
    let at = keel_domain::value::truncate_to_micros(at.to_offset(time::UtcOffset::UTC));
    events
        .into_iter()
        .map(|event| {
            let mut entry = AuditEntry {
                seq: 0,
                at,
                actor_id: source.actor_id,
                action: event.action.as_str().to_string(),
                entity: event.entity.map(str::to_string),
                record_id: event.record_id,
                details: event.details,
                ip: source.ip.map(str::to_string),
                user_agent: source.user_agent.map(|ua| ua.chars().take(MAX_USER_AGENT).collect()),
                request_id: source.request_id.map(str::to_string),
                prev_hash: String::new(),
                hash: String::new(),
            };
            let tail = chain::canonical_tail(&entry);
            let details_json = std::mem::take(&mut entry.details).to_string();
            Unchained { entry, tail, details_json }
        })
        .collect()
}

/// Entries numbered and chained after `head` (None when the log is empty), ready to
/// insert: the entries and their details as JSON text, in the same order.
pub(crate) struct Chained {
    entries: Vec<AuditEntry>,
    details_json: Vec<String>,
}

impl Chained {
    pub(crate) fn statements(&self, backend: keel_store::Backend) -> Result<Vec<keel_store::db::Built>, ServiceError> {
        Ok(store::insert_statements(backend, &self.entries, &self.details_json)?)
    }
}

/// Number `entries` and chain them after `head` (None when the log is empty).
pub(crate) fn chain(head: Option<(i64, String)>, entries: Vec<Unchained>) -> Chained {
    let (mut seq, mut prev_hash) = head.unwrap_or_else(|| (0, GENESIS_HASH.to_string()));
    let mut out =
        Chained { entries: Vec::with_capacity(entries.len()), details_json: Vec::with_capacity(entries.len()) };
    for Unchained { mut entry, tail, details_json } in entries {
        seq += 1;
        entry.seq = seq;
        entry.hash = chain::hash_of(&prev_hash, seq, &tail);
        entry.prev_hash = std::mem::replace(&mut prev_hash, entry.hash.clone());
        out.entries.push(entry);
        out.details_json.push(details_json);
    }
    out
}

/// The audit entry for a record change: the change log's entry, its diff as `details.diff`.
pub(crate) async fn record_changed(tx: &mut Tx, ctx: &Ctx, change: &NewChange) -> Result<(), ServiceError> {
    let event = Event {
        action: AuditAction::of_change(change.op),
        entity: Some(&change.entity),
        record_id: Some(change.record_id),
        details: json!({ "diff": change.diff }),
    };
    append(tx, Source::of(ctx), change.at, vec![event]).await
}

/// The newest entry's seq and hash (None when the log is empty): what the next entry
/// chains to. Read inside the write transaction that appends, which keeps it current.
pub(crate) async fn head(tx: &mut Tx) -> Result<Option<(i64, String)>, ServiceError> {
    Ok(store::head(tx).await?)
}

/// The audit entries for many record changes at once (a batch write), as
/// `record_changed` would write them, made before their place in the chain is known so
/// that a batch can make them outside its write transaction (see `chain`).
pub(crate) fn records_changed_unchained(ctx: &Ctx, changes: &[NewChange]) -> Vec<Unchained> {
    let Some(at) = changes.first().map(|c| c.at) else {
        return Vec::new();
    };
    let events = changes
        .iter()
        .map(|c| Event {
            action: AuditAction::of_change(c.op),
            entity: Some(&c.entity),
            record_id: Some(c.record_id),
            details: json!({ "diff": c.diff }),
        })
        .collect();
    unchained(Source::of(ctx), at, events)
}

/// The demo loader writes up to thousands of records per call; one summary entry per
/// batch (entity and count) stands for them. Each record still has its change-log entry
/// with the full diff; a million audit rows repeating those diffs would roughly double
/// the loader's writes for no accountability gained (the system did it, all at once).
pub(crate) async fn records_loaded(
    tx: &mut Tx,
    entity: &EntityDef,
    records: &[Record],
    at: OffsetDateTime,
) -> Result<(), ServiceError> {
    let event = Event {
        action: AuditAction::RecordBulkLoaded,
        entity: Some(&entity.name),
        record_id: None,
        details: json!({
            "count": records.len(),
            "first_id": records.first().and_then(Record::id),
            "last_id": records.last().and_then(Record::id),
        }),
    };
    append(tx, Source::default(), at, vec![event]).await
}

/// For a refused password sign-in: the account the email names (if any) and which check
/// failed. Only admins see the reason; the caller always gets the same answer.
pub(crate) fn login_failure(user: Option<&Record>, password_ok: bool) -> (Option<Uuid>, &'static str) {
    match (user, password_ok) {
        (None, _) => (None, "unknown_email"),
        (Some(u), false) => (u.id(), "wrong_password"),
        (Some(u), true) => (u.id(), "inactive_user"),
    }
}

/// A successful sign-in, in the transaction that creates the session.
pub(crate) async fn login_succeeded(
    tx: &mut Tx,
    user_id: Uuid,
    at: OffsetDateTime,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> Result<(), ServiceError> {
    let source = Source { actor_id: Some(user_id), ip, user_agent, request_id: None };
    let event =
        Event { action: AuditAction::UserLogin, entity: Some("users"), record_id: Some(user_id), details: json!({}) };
    append(tx, source, at, vec![event]).await
}

/// A sign-out of `user_id`'s session, in the transaction that ends it.
pub(crate) async fn logged_out(
    tx: &mut Tx,
    user_id: Uuid,
    at: OffsetDateTime,
    origin: &crate::Origin,
    request_id: Option<&str>,
) -> Result<(), ServiceError> {
    let source = Source {
        actor_id: Some(user_id),
        ip: origin.ip.as_deref(),
        user_agent: origin.user_agent.as_deref(),
        request_id,
    };
    let event =
        Event { action: AuditAction::UserLogout, entity: Some("users"), record_id: Some(user_id), details: json!({}) };
    append(tx, source, at, vec![event]).await
}

/// A page of audit entries, newest first.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before_seq` for the next (older) page; None on the last page.
    pub next_cursor: Option<i64>,
}

/// What a retention purge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeReport {
    /// Entries deleted (0: nothing was old enough, and nothing was recorded).
    pub purged: u64,
    /// Entries written before this were deleted.
    pub cutoff: OffsetDateTime,
    /// The newest deleted entry, whose hash the `audit.purged` entry keeps as the anchor.
    pub last_purged_seq: Option<i64>,
}

impl Service {
    /// Audit entries matching `filter`, newest first (admins).
    pub async fn audit_list(&self, ctx: &Ctx, filter: &AuditFilter, limit: u32) -> Result<AuditPage, ServiceError> {
        policy::can_read_audit(&ctx.actor)?;
        let limit = limit.clamp(1, MAX_LIST_LIMIT);
        let mut tx = self.db.read().await?;
        // One more than asked tells whether another page exists.
        let mut entries = store::list(&mut tx, filter, limit + 1).await?;
        let more = entries.len() > limit as usize;
        entries.truncate(limit as usize);
        let next_cursor = if more { entries.last().map(|e| e.seq) } else { None };
        Ok(AuditPage { entries, next_cursor })
    }

    /// A sign-in that failed, recorded in a transaction of its own (there is nothing else
    /// to commit). `email` is what was typed, never the password; `user_id` is the account
    /// it names, if any; `reason` says which check failed (for admins, never the caller).
    /// Call it at every point where a sign-in is refused.
    pub(crate) async fn audit_login_failed(
        &self,
        email: &str,
        user_id: Option<Uuid>,
        reason: &str,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<(), ServiceError> {
        let email: String = email.chars().take(MAX_ATTEMPTED_EMAIL).collect();
        let event = Event {
            action: AuditAction::UserLoginFailed,
            entity: Some("users"),
            record_id: user_id,
            details: json!({ "email": email, "reason": reason }),
        };
        let source = Source { actor_id: None, ip, user_agent, request_id: None };
        let mut tx = self.db.write().await?;
        append(&mut tx, source, self.clock.now(), vec![event]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Pass a sign-in step's `result` through, recording `user.login_failed` with `reason`
    /// when the step refused the sign-in (locked out, wrong second factor). Errors that
    /// are not a refusal (database busy, internal) are passed on unrecorded.
    pub(crate) async fn audit_login_step<T>(
        &self,
        result: Result<T, ServiceError>,
        email: &str,
        user_id: Option<Uuid>,
        reason: &str,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<T, ServiceError> {
        if let Err(ServiceError::Unauthenticated | ServiceError::TooManyAttempts { .. }) = &result {
            self.audit_login_failed(email, user_id, reason, ip, user_agent).await?;
        }
        result
    }

    /// Walk the whole chain, oldest first, in pages inside one snapshot, and report the
    /// first broken link (admins).
    pub async fn audit_verify(&self, ctx: &Ctx) -> Result<VerifyReport, ServiceError> {
        policy::can_read_audit(&ctx.actor)?;
        let mut tx = self.db.read().await?;
        store::single_snapshot(&mut tx).await?;
        let purges = store::details_of(&mut tx, AuditAction::AuditPurged.as_str()).await?;
        let mut verifier = chain::Verifier::new(chain::anchors(&purges));
        let mut after = 0;
        loop {
            let page = store::after(&mut tx, after, VERIFY_PAGE).await?;
            for entry in &page {
                if let Err(broken) = verifier.check(entry) {
                    return Ok(verifier.finish(Some(broken)));
                }
            }
            match page.last() {
                Some(last) if page.len() == VERIFY_PAGE as usize => after = last.seq,
                _ => break,
            }
        }
        Ok(verifier.finish(None))
    }

    /// Delete the entries older than `older_than` (a prefix of the chain) and record an
    /// `audit.purged` entry with the count and the last deleted entry's seq and hash, from
    /// which verification then starts. Nothing old enough: nothing deleted or recorded.
    pub async fn audit_purge(&self, ctx: &Ctx, older_than: time::Duration) -> Result<PurgeReport, ServiceError> {
        policy::can_purge_audit(&ctx.actor)?;
        if older_than.is_negative() {
            return Err(keel_domain::FieldErrors::single(
                "older_than",
                "invalid",
                "the retention period cannot be negative",
            )
            .into());
        }
        let now = self.clock.now();
        let cutoff = now - older_than;
        let mut tx = self.db.write().await?;
        // Read the head before deleting: the purge entry chains to it even when it goes.
        let head = store::head(&mut tx).await?;
        let Some(purged) = store::purge_before(&mut tx, cutoff).await? else {
            return Ok(PurgeReport { purged: 0, cutoff, last_purged_seq: None });
        };
        let event = Event {
            action: AuditAction::AuditPurged,
            entity: None,
            record_id: None,
            details: json!({
                "count": purged.count,
                "cutoff": format_timestamp(cutoff),
                "last_purged_seq": purged.last_seq,
                "last_purged_hash": purged.last_hash,
            }),
        };
        append_after(&mut tx, head, Source::of(ctx), now, vec![event]).await?;
        tx.commit().await?;
        Ok(PurgeReport { purged: purged.count, cutoff, last_purged_seq: Some(purged.last_seq) })
    }
}
