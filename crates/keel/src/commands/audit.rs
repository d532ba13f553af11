//! `keel audit verify | list | purge`, and the daily retention job `keel serve` runs.

use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use keel_domain::policy::{Actor, Role};
use keel_domain::value::{format_timestamp, parse_date, parse_timestamp};
use keel_service::audit::{AuditAction, AuditEntry, AuditFilter, DEFAULT_RETENTION_DAYS, MAX_LIST_LIMIT};
use keel_service::{Ctx, Service};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain. Exit code 0 when intact, 1 naming the first broken link.
    Verify,
    /// Show entries, newest first.
    List(ListArgs),
    /// Delete entries older than the retention period (recorded as `audit.purged`).
    Purge(RetentionArgs),
}

#[derive(Args)]
struct ListArgs {
    /// Only what this user did (their id).
    #[arg(long = "user")]
    user: Option<Uuid>,
    /// Only entries about this entity, e.g. `deals`.
    #[arg(long)]
    entity: Option<String>,
    /// Only entries about this record (its id).
    #[arg(long = "record")]
    record: Option<Uuid>,
    /// Only this action, e.g. `record.updated` or `user.login_failed`.
    #[arg(long, value_parser = parse_action)]
    action: Option<AuditAction>,
    /// From this time on: RFC 3339 (2026-01-31T09:00:00Z) or a date (2026-01-31).
    #[arg(long, value_parser = parse_time)]
    since: Option<OffsetDateTime>,
    /// Before this time: RFC 3339 or a date.
    #[arg(long, value_parser = parse_time)]
    until: Option<OffsetDateTime>,
    /// At most this many entries.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_LIST_LIMIT)))]
    limit: u32,
    /// Print each entry as one JSON object per line.
    #[arg(long)]
    json: bool,
}

/// How long audit entries are kept. Shared by `keel audit purge` and `keel serve`.
#[derive(Args, Clone, Copy)]
pub struct RetentionArgs {
    /// Keep audit entries this many days; 0 keeps them forever.
    #[arg(long = "audit-retention-days", env = "KEEL_AUDIT_RETENTION_DAYS", default_value_t = DEFAULT_RETENTION_DAYS)]
    pub days: u32,
}

fn parse_action(s: &str) -> Result<AuditAction, String> {
    AuditAction::parse(s).ok_or_else(|| {
        let known: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        format!("unknown action; use one of {}", known.join(", "))
    })
}

fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    parse_timestamp(s)
        .or_else(|| parse_date(s).map(|d| d.midnight().assume_utc()))
        .ok_or_else(|| "expected an RFC 3339 time such as 2026-01-31T09:00:00Z, or a date such as 2026-01-31".into())
}

/// The CLI acts as the system: an administrator with no user behind it.
fn system() -> Ctx {
    Ctx::system(Actor::new(Uuid::nil(), Role::Admin, None))
}

pub async fn run(database_url: &str, args: AuditArgs) -> anyhow::Result<()> {
    let service = super::open(database_url).await?;
    let result = match args.command {
        AuditCommand::Verify => verify(&service).await,
        AuditCommand::List(list_args) => list(&service, list_args).await,
        AuditCommand::Purge(retention) => purge(&service, retention).await,
    };
    service.db().close().await;
    result
}

async fn verify(service: &Service) -> anyhow::Result<()> {
    let report = service.audit_verify(&system()).await.context("could not read the audit log")?;
    if let Some(broken) = report.broken {
        // An error exits with status 1.
        bail!(
            "audit log broken at seq {} ({}): {} [{} entries checked from seq {}]",
            broken.seq,
            broken.reason.as_str(),
            broken.detail,
            report.checked,
            report.first_seq.map_or_else(|| "?".into(), |s| s.to_string())
        );
    }
    match (report.first_seq, report.last_seq, report.head_hash) {
        (Some(first), Some(last), Some(head)) => {
            println!("audit log intact: {} entries, seq {first} to {last}, head hash {head}", report.checked);
        }
        _ => println!("audit log intact: no entries yet"),
    }
    Ok(())
}

async fn list(service: &Service, args: ListArgs) -> anyhow::Result<()> {
    let filter = AuditFilter {
        actor_id: args.user,
        entity: args.entity,
        record_id: args.record,
        action: args.action.map(|a| a.as_str().to_string()),
        since: args.since,
        until: args.until,
        before_seq: None,
    };
    let page = service.audit_list(&system(), &filter, args.limit).await.context("could not read the audit log")?;
    for e in &page.entries {
        if args.json {
            println!("{}", serde_json::to_string(e).context("could not print an entry")?);
        } else {
            println!("{}", line(e));
        }
    }
    if page.next_cursor.is_some() {
        eprintln!("(more entries: narrow the filters or raise --limit)");
    }
    Ok(())
}

/// `seq  time  action  actor  entity/record  ip  details`, for people.
fn line(e: &AuditEntry) -> String {
    let dash = || "-".to_string();
    let target = match (&e.entity, e.record_id) {
        (Some(entity), Some(id)) => format!("{entity}/{id}"),
        (Some(entity), None) => entity.clone(),
        (None, Some(id)) => id.to_string(),
        (None, None) => dash(),
    };
    format!(
        "{:>8}  {}  {:<18}  {:<36}  {}  {}  {}",
        e.seq,
        format_timestamp(e.at),
        e.action,
        e.actor_id.map_or_else(|| "system".into(), |id| id.to_string()),
        target,
        e.ip.clone().unwrap_or_else(dash),
        e.details
    )
}

async fn purge(service: &Service, retention: RetentionArgs) -> anyhow::Result<()> {
    if retention.days == 0 {
        println!("audit retention is 0 (keep forever): nothing purged");
        return Ok(());
    }
    let report = service
        .audit_purge(&system(), time::Duration::days(i64::from(retention.days)))
        .await
        .context("could not purge the audit log")?;
    match report.last_purged_seq {
        Some(seq) => println!(
            "purged {} audit entries written before {} (up to seq {seq})",
            report.purged,
            format_timestamp(report.cutoff)
        ),
        None => println!("no audit entries older than {} days", retention.days),
    }
    Ok(())
}

/// Run the retention purge now and then once a day, for as long as the server runs.
/// Several Keel processes sharing one PostgreSQL database may all run it: purges are
/// serialised by the writer lock, and a run that finds nothing old records nothing.
pub fn spawn_retention_job(service: Service, retention: RetentionArgs) -> Option<tokio::task::JoinHandle<()>> {
    if retention.days == 0 {
        tracing::info!("audit retention disabled (KEEL_AUDIT_RETENTION_DAYS=0): entries are kept forever");
        return None;
    }
    let older_than = time::Duration::days(i64::from(retention.days));
    Some(tokio::spawn(async move {
        let mut daily = tokio::time::interval(Duration::from_secs(24 * 60 * 60));
        daily.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            daily.tick().await;
            match service.audit_purge(&system(), older_than).await {
                Ok(r) if r.purged > 0 => tracing::info!(purged = r.purged, days = retention.days, "audit log purged"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "audit log purge failed; retrying tomorrow"),
            }
        }
    }))
}
