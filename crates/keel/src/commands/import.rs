//! `keel import FILE --entity contacts …`: the CSV import, as a user (the first admin
//! unless `--as` names another), with progress on stderr.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use keel_service::Ctx;
use keel_service::imports::{Format, ImportMode, ImportOptions, ImportReport, ImportSource, Progress};

#[derive(Args)]
pub struct ImportArgs {
    /// The CSV file.
    file: PathBuf,
    /// companies, contacts or deals.
    #[arg(long)]
    entity: String,
    /// create (every row is new), update (by key) or upsert.
    #[arg(long, default_value = "create")]
    mode: String,
    /// The field that finds the record to update: id, email (contacts), domain or name (companies).
    #[arg(long)]
    key: Option<String>,
    /// Check every row and report, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Create the companies that contacts and deals name but that do not exist yet.
    #[arg(long)]
    create_missing_companies: bool,
    /// The email of the user to import as (default: the first admin).
    #[arg(long = "as")]
    as_user: Option<String>,
    /// Edit the automatic mapping: HEADER=FIELD, or HEADER= to ignore a column (repeatable).
    #[arg(long = "map")]
    map: Vec<String>,
    /// utf-8, windows-1252, latin1 … (default: detected).
    #[arg(long)]
    encoding: Option<String>,
    /// , ; | or tab (default: detected from the header line).
    #[arg(long)]
    separator: Option<String>,
    /// Skip data rows before this one (what a failed import reported as next_row).
    #[arg(long)]
    resume_from: Option<u64>,
    /// Rows checked and written together (a transaction holds one or more batches).
    #[arg(long, default_value_t = keel_service::imports::DEFAULT_BATCH_SIZE)]
    batch_size: usize,
    /// Write the whole file in one transaction.
    #[arg(long)]
    all_or_nothing: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

fn mapping(pairs: &[String]) -> anyhow::Result<BTreeMap<String, Option<String>>> {
    let mut out = BTreeMap::new();
    for p in pairs {
        let Some((header, field)) = p.split_once('=') else { bail!("--map takes HEADER=FIELD, not `{p}`") };
        out.insert(header.to_string(), (!field.trim().is_empty()).then(|| field.trim().to_string()));
    }
    Ok(out)
}

/// One stderr line per phase, rewritten after every batch: rows done and the rate.
fn progress_printer() -> impl Fn(Progress) + Send + Sync {
    let phase = std::sync::Mutex::new(("", std::time::Duration::ZERO));
    move |p: Progress| {
        let Ok(mut current) = phase.lock() else { return };
        if current.0 != p.phase {
            if !current.0.is_empty() {
                eprintln!();
            }
            *current = (p.phase, p.elapsed);
        }
        let secs = (p.elapsed - current.1).as_secs_f64().max(0.001);
        match p.total.filter(|t| *t > 0) {
            Some(total) => eprint!(
                "\r{:<10} {:>10} / {} rows ({:>3}%)  {:>9.0} rows/s",
                p.phase,
                p.rows,
                total,
                p.rows * 100 / total,
                p.rows as f64 / secs
            ),
            None => eprint!("\r{:<10} {:>10} rows  {:>9.0} rows/s", p.phase, p.rows, p.rows as f64 / secs),
        }
        let _ = std::io::stderr().flush();
    }
}

fn print_report(r: &ImportReport) {
    eprintln!();
    println!(
        "{}: {} rows · {} created · {} updated · {} unchanged · {} skipped · {} failed · {} companies created · {:.1} s",
        r.status,
        r.rows,
        r.created,
        r.updated,
        r.unchanged,
        r.skipped,
        r.failed,
        r.companies_created,
        r.elapsed_ms as f64 / 1000.0
    );
    if let Some(id) = r.id {
        println!("import {id}");
    }
    for e in &r.errors {
        println!(
            "row {} (line {}) {}: {} — {}",
            e.row,
            e.line,
            e.column.as_deref().or(e.field.as_deref()).unwrap_or("-"),
            e.code,
            e.message
        );
    }
    if r.error_count > r.errors.len() as u64 {
        println!("… and {} more errors", r.error_count - r.errors.len() as u64);
    }
    if let Some(next) = r.next_row {
        println!("stopped: resume with --resume-from {next}");
    }
}

pub async fn run(database_url: &str, args: ImportArgs) -> anyhow::Result<()> {
    let service = super::open(database_url).await?;
    let user_id = match &args.as_user {
        Some(email) => service.user_id_by_email(email).await?.with_context(|| format!("no user with email {email}"))?,
        None => service.first_admin().await?.context("no admin yet: create one with `keel user create`")?,
    };
    let actor = service.actor_of_user(user_id).await.context("that user cannot act (deactivated?)")?;
    let ctx = Ctx::system(actor);
    let Some(mode) = ImportMode::parse(&args.mode) else { bail!("--mode must be create, update or upsert") };
    let mut options = ImportOptions::new(&args.entity, mode);
    options.key = args.key;
    options.dry_run = args.dry_run;
    options.create_missing_companies = args.create_missing_companies;
    options.format = Format { encoding: args.encoding, separator: args.separator, mapping: mapping(&args.map)? };
    options.file_name = args.file.file_name().map(|n| n.to_string_lossy().into_owned());
    options.resume_from = args.resume_from;
    options.batch_size = args.batch_size;
    options.all_or_nothing = args.all_or_nothing;
    let progress = progress_printer();
    let report = service
        .import(&ctx, ImportSource::Path(args.file.clone()), options, Some(&progress))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    service.db().close().await;
    if args.json {
        eprintln!();
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    match report.status {
        "completed" | "valid" => Ok(()),
        status => bail!("import {status}"),
    }
}
