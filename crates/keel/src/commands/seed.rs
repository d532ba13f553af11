//! `keel seed --demo`: the demo team, the CRM guide's samples, and as many generated
//! records as asked, written in batches through `Service::load_trusted` (rows and
//! change-log entries in one transaction per batch) so memory stays flat.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use keel_domain::value::Value;
use keel_domain::{Record, clock::Clock, clock::SystemClock};
use keel_service::Service;
use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use uuid::Uuid;

use crate::seed::{self, ActivityLinks, CompanyRef, ContactRef, DealRef, Generator};

/// The demo users' password. Demo data only: never use `--demo` for real data.
pub const DEMO_PASSWORD: &str = "keel-demo-password";
const BATCH: usize = 5_000;
/// How many contacts and deals we remember to link activities to.
const SAMPLE: usize = 50_000;

#[derive(Args, Clone)]
pub struct SeedArgs {
    /// Also create the demo team (users admin@keel.local etc.) and the guide's sample records.
    #[arg(long)]
    pub demo: bool,
    #[arg(long, default_value_t = 200)]
    pub companies: usize,
    #[arg(long, default_value_t = 1_000)]
    pub contacts: usize,
    #[arg(long, default_value_t = 400)]
    pub deals: usize,
    #[arg(long, default_value_t = 1_500)]
    pub activities: usize,
    /// Random seed, for reproducible data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

impl SeedArgs {
    pub fn demo_defaults() -> Self {
        Self { demo: true, companies: 200, contacts: 1_000, deals: 400, activities: 1_500, seed: 42 }
    }
}

pub struct Report {
    pub admin_email: String,
}

pub async fn run(database_url: &str, args: SeedArgs) -> anyhow::Result<()> {
    let service = super::open(database_url).await?;
    let started = Instant::now();
    let report = load(&service, &args).await?;
    println!("seeded in {:.1}s; sign in as {} / {DEMO_PASSWORD}", started.elapsed().as_secs_f64(), report.admin_email);
    service.db().close().await;
    Ok(())
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> Option<&'a T> {
    (!items.is_empty()).then(|| &items[rng.gen_range(0..items.len())])
}

/// Existing users' ids by email, for owners (re-seeding reuses the demo team).
async fn demo_team(service: &Service, now: time::OffsetDateTime) -> anyhow::Result<(Vec<Uuid>, String)> {
    let users = seed::demo_users();
    let admin_email = users.iter().find(|u| u.role == "admin").map_or("admin@keel.local", |u| u.email).to_string();
    if service.count_all("users").await? > 0 {
        bail!("this database already has users; seed the demo team into an empty database (use a new DATABASE_URL)");
    }
    let hash = keel_service::auth::password::hash(DEMO_PASSWORD)?;
    let mut team_ids = HashMap::new();
    let mut teams = Vec::new();
    for name in seed::DEMO_TEAMS {
        let t = seed::team_record(name, now);
        team_ids.insert(*name, t.id());
        teams.push(t);
    }
    service.load_trusted("teams", &teams).await?;
    let mut records = Vec::new();
    for u in &users {
        let mut r = seed::user_record(u, u.team.and_then(|t| team_ids.get(t).copied().flatten()), now);
        r.set("password_hash", Value::Text(hash.clone()));
        records.push(r);
    }
    service.load_trusted("users", &records).await?;
    Ok((records.iter().filter_map(Record::id).collect(), admin_email))
}

async fn flush(service: &Service, entity: &str, batch: &mut Vec<Record>) -> anyhow::Result<()> {
    if !batch.is_empty() {
        service.load_trusted(entity, batch).await.with_context(|| format!("loading {entity}"))?;
        batch.clear();
    }
    Ok(())
}

pub async fn load(service: &Service, args: &SeedArgs) -> anyhow::Result<Report> {
    let now = SystemClock.now();
    let today = now.date();
    let (user_ids, admin_email) = if args.demo {
        demo_team(service, now).await?
    } else {
        bail!("only --demo seeding exists: it creates the demo team that owns the records");
    };
    // Records belong to the manager and the reps, as in a real team.
    let owners: Vec<Uuid> = user_ids.iter().skip(1).copied().collect();
    let samples = seed::guide_samples(&owners, today, now);
    service.load_trusted("companies", &samples.companies).await?;
    service.load_trusted("contacts", &samples.contacts).await?;
    service.load_trusted("deals", &samples.deals).await?;
    service.load_trusted("activities", &samples.activities).await?;

    let mut rng = StdRng::seed_from_u64(args.seed ^ 0x5eed);
    let mut generator = Generator::new(args.seed, today, now);
    let t = Instant::now();
    let mut companies: Vec<CompanyRef> = Vec::with_capacity(args.companies);
    let mut batch = Vec::with_capacity(BATCH);
    for _ in 0..args.companies {
        let r = generator.company(&owners);
        companies.extend(CompanyRef::from_record(&r));
        batch.push(r);
        if batch.len() == BATCH {
            flush(service, "companies", &mut batch).await?;
        }
    }
    flush(service, "companies", &mut batch).await?;
    eprintln!("  {} companies in {:.1}s", args.companies, t.elapsed().as_secs_f64());

    let t = Instant::now();
    // One remembered contact per company, for deals; a bounded sample for activities.
    let mut contact_of: HashMap<Uuid, Uuid> = HashMap::new();
    let mut contacts: Vec<ContactRef> = Vec::new();
    for i in 0..args.contacts {
        let company = if rng.gen_bool(0.95) { pick(&mut rng, &companies) } else { None };
        let r = generator.contact(company, &owners);
        if let (Some(c), Some(id)) = (company, r.id()) {
            contact_of.entry(c.id).or_insert(id);
        }
        if contacts.len() < SAMPLE {
            contacts.extend(ContactRef::from_record(&r));
        } else if let Some(c) = ContactRef::from_record(&r) {
            let slot = rng.gen_range(0..=i);
            if slot < SAMPLE {
                contacts[slot] = c;
            }
        }
        batch.push(r);
        if batch.len() == BATCH {
            flush(service, "contacts", &mut batch).await?;
        }
    }
    flush(service, "contacts", &mut batch).await?;
    eprintln!("  {} contacts in {:.1}s", args.contacts, t.elapsed().as_secs_f64());

    let t = Instant::now();
    let mut deals: Vec<DealRef> = Vec::new();
    for _ in 0..args.deals {
        let Some(company) = pick(&mut rng, &companies) else {
            break;
        };
        let contact = contact_of.get(&company.id).copied().filter(|_| rng.gen_bool(0.8));
        let r = generator.deal(company, contact, &owners);
        if deals.len() < SAMPLE {
            deals.extend(DealRef::from_record(&r));
        }
        batch.push(r);
        if batch.len() == BATCH {
            flush(service, "deals", &mut batch).await?;
        }
    }
    flush(service, "deals", &mut batch).await?;
    eprintln!("  {} deals in {:.1}s", args.deals, t.elapsed().as_secs_f64());

    let t = Instant::now();
    for _ in 0..args.activities {
        let links = match rng.gen_range(0..3) {
            0 => pick(&mut rng, &deals).map(ActivityLinks::Deal),
            1 => pick(&mut rng, &contacts).map(ActivityLinks::Contact),
            _ => None,
        };
        let links = match links.or_else(|| pick(&mut rng, &companies).map(ActivityLinks::Company)) {
            Some(l) => l,
            None => break,
        };
        batch.push(generator.activity(links, &owners));
        if batch.len() == BATCH {
            flush(service, "activities", &mut batch).await?;
        }
    }
    flush(service, "activities", &mut batch).await?;
    eprintln!("  {} activities in {:.1}s", args.activities, t.elapsed().as_secs_f64());
    Ok(Report { admin_email })
}
