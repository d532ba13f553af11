//! Background imports: `import_enqueue` stores the file (in the database, in parts, so
//! any Keel process sharing it can run the import and a restart still has it) and an
//! `imports` row with status `queued`; the runner `keel serve` starts (`spawn_runner`)
//! claims it under a lease, runs both passes, and writes its progress (phase, rows done
//! of total) to the row as it goes: the web app and the CLI poll `GET /api/v1/imports/{id}`.
//!
//! Restarts: each batch commits its records together with the row's `next_row` and a
//! renewed lease. A runner told to stop ends between batches and gives the lease back;
//! one that dies (SIGKILL, power) leaves the lease to run out (`LEASE`). Either way the
//! next runner to claim the import resumes it from `next_row` (or, if it died during the
//! dry run, starts over — nothing was written yet). A runner whose lease was taken over
//! cannot commit another batch (`StoreError::LeaseLost`).

use std::io::{Read, Write};

use keel_store::imports::{self as store, FILE_PART_BYTES, ImportRow};
use serde_json::{Value as Json, json};
use tokio::sync::watch;
use uuid::Uuid;

use super::run::{Held, Importer, LEASE};
use super::{Format, ImportMode, ImportOptions, ImportSource, RowError};
use crate::{Ctx, Service, ServiceError};

/// Conflict code: a background run stopped because Keel is stopping (it resumes later).
pub const INTERRUPTED: &str = "import_interrupted";
/// Conflict code: another runner took the import over (this one's lease ran out).
pub const LEASE_LOST: &str = "import_lease_lost";
/// How often an idle runner looks for imports queued by other Keel processes (its own
/// process wakes it at once).
const POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// Errors that end a run without finishing the import: another run carries on.
pub(crate) fn hands_over(e: &ServiceError) -> bool {
    matches!(e, ServiceError::Conflict { code, .. } if *code == INTERRUPTED || *code == LEASE_LOST)
}

/// Why a write pass stopped, for the import's record (the importer's own words for what
/// they can act on; no database internals).
pub(crate) fn stopped_because(e: &ServiceError) -> String {
    match e {
        ServiceError::Invalid(f) | ServiceError::ForbiddenFields(f) => f.to_string(),
        ServiceError::Conflict { message, .. } => message.clone(),
        ServiceError::Forbidden(m) => m.clone(),
        ServiceError::PreconditionFailed { .. } => {
            "a record changed while it was being imported; resume to continue".into()
        }
        ServiceError::Busy => "the database was busy; resume to continue".into(),
        _ => "the database failed while importing; resume to continue".into(),
    }
}

/// The options a queued import was asked for, as stored in `options.request`.
fn request_json(opts: &ImportOptions) -> Json {
    json!({
        "mode": opts.mode.as_str(),
        "key": opts.key,
        "create_missing_companies": opts.create_missing_companies,
        "encoding": opts.format.encoding,
        "separator": opts.format.separator,
        "mapping": opts.format.mapping,
        "file_name": opts.file_name,
        "resume_from": opts.resume_from,
        "batch_size": opts.batch_size,
        "all_or_nothing": opts.all_or_nothing,
    })
}

fn options_from(entity: &str, r: &Json) -> Option<ImportOptions> {
    let mode = ImportMode::parse(r.get("mode")?.as_str()?)?;
    let text = |k: &str| r.get(k).and_then(Json::as_str).map(str::to_string);
    let flag = |k: &str| r.get(k).and_then(Json::as_bool).unwrap_or(false);
    let mut o = ImportOptions::new(entity, mode);
    o.key = text("key");
    o.create_missing_companies = flag("create_missing_companies");
    o.format = Format {
        encoding: text("encoding"),
        separator: text("separator"),
        mapping: serde_json::from_value(r.get("mapping").cloned().unwrap_or(Json::Null)).unwrap_or_default(),
    };
    o.file_name = text("file_name");
    o.resume_from = r.get("resume_from").and_then(Json::as_u64);
    if let Some(n) = r.get("batch_size").and_then(Json::as_u64) {
        o.batch_size = usize::try_from(n).unwrap_or(super::DEFAULT_BATCH_SIZE);
    }
    o.all_or_nothing = flag("all_or_nothing");
    Some(o)
}

fn io_error(what: &str, e: std::io::Error) -> ServiceError {
    tracing::error!(error = %e, "{what}");
    ServiceError::Internal(format!("{what}: {e}"))
}

/// Read until `buf` is full or the file ends; the bytes read.
fn fill(reader: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl Service {
    /// Check an import's options and the file's header (the same 4xx answers as a
    /// synchronous import), store the file and queue the import. The runner of this
    /// process starts on it at once.
    pub async fn import_enqueue(
        &self,
        ctx: &Ctx,
        source: ImportSource,
        options: ImportOptions,
    ) -> Result<ImportRow, ServiceError> {
        super::importable(self, &options.entity)?;
        if options.dry_run {
            return Err(keel_domain::FieldErrors::single(
                "dry_run",
                "not_queued",
                "a dry run writes nothing and is answered at once",
            )
            .into());
        }
        let request = request_json(&options);
        let importer = Importer::new(self, ctx, source.clone(), options)?;
        let mut row = importer.import_row(&super::run::Tally::default());
        row.status = "queued".into();
        row.phase = "queued".into();
        if let Json::Object(o) = &mut row.options {
            o.insert("request".into(), request);
        }
        let mut reader = source.open()?;
        let mut tx = self.db.side_write().await?;
        store::insert(&mut tx, &row).await?;
        let mut buf = vec![0u8; FILE_PART_BYTES];
        let mut part = 0i64;
        loop {
            let n = fill(&mut reader, &mut buf).map_err(|e| io_error("reading an import file", e))?;
            if n == 0 {
                break;
            }
            store::insert_file_part(&mut tx, row.id, part, buf[..n].to_vec()).await?;
            part += 1;
        }
        tx.commit().await?;
        self.import_wake.notify_one();
        Ok(row)
    }

    /// Claim the next waiting import, if any, and run it to its end (or until `stop`).
    /// Returns whether there was one.
    pub async fn import_run_next(&self, runner: &str, stop: &watch::Receiver<bool>) -> Result<bool, ServiceError> {
        let now = self.clock.now();
        let claimed = {
            let mut tx = self.db.side_write().await?;
            let claimed = store::claim(&mut tx, runner, now, now + LEASE).await?;
            tx.commit().await?;
            claimed
        };
        let Some(row) = claimed else { return Ok(false) };
        let id = row.id;
        tracing::info!(import = %id, phase = %row.phase, next_row = ?row.next_row, "running a background import");
        match self.run_claimed(row, stop).await {
            Ok(()) => {}
            Err(e) if matches!(&e, ServiceError::Conflict { code, .. } if *code == INTERRUPTED) => {
                // Give the lease back: the next start resumes at once.
                let mut tx = self.db.side_write().await?;
                if let Some(mut row) = store::get(&mut tx, id, None).await?
                    && row.locked_by.as_deref() == Some(runner)
                {
                    row.locked_until = Some(self.clock.now());
                    store::update(&mut tx, &row).await?;
                }
                tx.commit().await?;
                tracing::info!(import = %id, "background import paused; it resumes when Keel starts again");
            }
            Err(e) if hands_over(&e) => tracing::warn!(import = %id, "another runner took this import over"),
            Err(e) => {
                tracing::warn!(import = %id, error = %e, "background import stopped");
                self.import_failed(id, runner, &e).await?;
            }
        }
        Ok(true)
    }

    /// Mark a held import failed (when it ended before `run` could record why).
    async fn import_failed(&self, id: Uuid, runner: &str, e: &ServiceError) -> Result<(), ServiceError> {
        let mut tx = self.db.side_write().await?;
        if let Some(mut row) = store::get(&mut tx, id, None).await?
            && row.locked_by.as_deref() == Some(runner)
            && matches!(row.status.as_str(), "queued" | "running")
        {
            let mut errors: Vec<Json> = row.errors.as_array().cloned().unwrap_or_default();
            errors.push(json!(RowError {
                row: row.next_row.map_or(0, |n| n as u64),
                line: 0,
                column: None,
                field: None,
                code: "import_stopped".into(),
                message: stopped_because(e),
            }));
            row.errors = Json::Array(errors);
            row.error_count += 1;
            row.status = "failed".into();
            row.phase = "done".into();
            row.finished_at = Some(self.clock.now());
            row.locked_until = None;
            store::update(&mut tx, &row).await?;
            store::delete_file(&mut tx, id).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn run_claimed(&self, row: ImportRow, stop: &watch::Receiver<bool>) -> Result<(), ServiceError> {
        let invalid = |m: &str| ServiceError::conflict("import_unrunnable", m.to_string());
        let request = row.options.get("request").cloned().unwrap_or(Json::Null);
        let mut options =
            options_from(&row.entity, &request).ok_or_else(|| invalid("the import's stored options are unreadable"))?;
        let actor = self
            .actor_for(row.user_id)
            .await
            .map_err(|_| invalid("the user who started the import can no longer act (deactivated?)"))?;
        let ctx = Ctx { request_id: Some(format!("import-{}", row.id)), ..Ctx::system(actor) };
        let file = self.import_file(row.id).await?;
        // Part-way through writing (batches commit one by one): resume after the last one.
        let resuming = row.phase == "importing" && !options.all_or_nothing && row.next_row.is_some();
        if resuming {
            options.resume_from = row.next_row.map(|n| n as u64);
        }
        let importer = Importer::new(self, &ctx, ImportSource::Path(file.path().to_path_buf()), options)?
            .held(Held { stop: stop.clone(), resuming });
        importer.run(None, Some(row)).await?;
        drop(file);
        Ok(())
    }

    /// The stored file of import `id`, copied to a local temporary file.
    async fn import_file(&self, id: Uuid) -> Result<tempfile::NamedTempFile, ServiceError> {
        let mut file = tempfile::NamedTempFile::new().map_err(|e| io_error("creating an import's file", e))?;
        let mut part = 0i64;
        loop {
            let data = {
                let mut tx = self.db.read().await?;
                store::file_part(&mut tx, id, part).await?
            };
            let Some(data) = data else { break };
            file.write_all(&data).map_err(|e| io_error("writing an import's file", e))?;
            part += 1;
        }
        if part == 0 {
            return Err(ServiceError::conflict("import_unrunnable", "the import's file is gone"));
        }
        file.flush().map_err(|e| io_error("writing an import's file", e))?;
        Ok(file)
    }
}

/// The background import runner of one Keel process: runs queued imports one at a time
/// until `stopping` turns true (a run in progress stops after its current batch).
pub fn spawn_runner(service: Service, mut stopping: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let runner = format!("imports-{}", Uuid::now_v7());
        loop {
            if *stopping.borrow() {
                break;
            }
            match service.import_run_next(&runner, &stopping).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "the import runner could not claim work"),
            }
            tokio::select! {
                () = service.import_wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
                changed = stopping.changed() => if changed.is_err() { break },
            }
        }
    })
}
