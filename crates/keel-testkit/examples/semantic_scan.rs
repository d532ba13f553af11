//! Measures the assistant's semantic scan (`keel_assistant::retrieval::nearest`) on a
//! seeded database: stores a random unit vector of `DIMS` dimensions for every live
//! company, contact, deal and activity (as the indexer would, without calling an
//! endpoint), then times the top-10 search as an admin (every row) and as a sales rep
//! (row scope in the query). Figures go to docs/BENCHMARKS.md.
//!
//! `cargo run -p keel-testkit --example semantic_scan -- DATABASE_URL [DIMS]` on a database
//! made by `keel seed`.

use std::time::Instant;

use keel_api::keel_assistant::retrieval::{nearest, normalise};
use keel_domain::policy::{Actor, Role};
use keel_service::{Ctx, Service, ServiceConfig};
use keel_store::embeddings::{NewEmbedding, upsert};
use sqlx::Row;
use uuid::Uuid;

/// A deterministic pseudo-random unit vector (xorshift), so runs compare.
fn vector(seed: u64, dims: usize) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let v: Vec<f32> = (0..dims)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 2001) as f32 / 1000.0 - 1.0
        })
        .collect();
    normalise(v).unwrap_or_else(|| vec![1.0; dims])
}

async fn ids(db: &keel_store::Db, table: &str) -> Vec<Uuid> {
    let sql = format!("SELECT id FROM {table} WHERE deleted_at IS NULL");
    match db.pool() {
        keel_store::Pool::Sqlite(p) => {
            sqlx::query(&sql).fetch_all(p).await.expect("ids").iter().map(|r| r.get::<Uuid, _>("id")).collect()
        }
        keel_store::Pool::Postgres(p) => {
            sqlx::query(&sql).fetch_all(p).await.expect("ids").iter().map(|r| r.get::<Uuid, _>("id")).collect()
        }
    }
}

async fn user(db: &keel_store::Db, role: &str) -> (Uuid, Option<Uuid>) {
    let sql = format!("SELECT id, team_id FROM users WHERE role = '{role}' ORDER BY email LIMIT 1");
    match db.pool() {
        keel_store::Pool::Sqlite(p) => {
            let r = sqlx::query(&sql).fetch_one(p).await.expect("user");
            (r.get("id"), r.get("team_id"))
        }
        keel_store::Pool::Postgres(p) => {
            let r = sqlx::query(&sql).fetch_one(p).await.expect("user");
            (r.get("id"), r.get("team_id"))
        }
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("usage: semantic_scan DATABASE_URL [DIMS]");
    let dims: usize = args.next().map_or(768, |d| d.parse().expect("DIMS is a number"));
    let service = Service::connect(&url, ServiceConfig::default()).await.expect("connect");
    let db = service.db().clone();
    let mut total = 0usize;
    let started = Instant::now();
    for entity in ["companies", "contacts", "deals", "activities"] {
        let all = ids(&db, entity).await;
        for chunk in all.chunks(5_000) {
            let mut tx = db.side_write().await.expect("tx");
            for id in chunk {
                let e = NewEmbedding {
                    entity: entity.into(),
                    record_id: *id,
                    content_hash: String::new(),
                    model: "bench".into(),
                    vector: vector(id.as_u128() as u64, dims),
                };
                upsert(&mut tx, &e, time::OffsetDateTime::now_utc()).await.expect("upsert");
            }
            tx.commit().await.expect("commit");
        }
        total += all.len();
    }
    println!("stored {total} vectors of {dims} dimensions in {:.1} s", started.elapsed().as_secs_f64());
    let query = vector(7, dims);
    for (label, role) in [("admin", "admin"), ("rep", "rep")] {
        let (id, team) = user(&db, role).await;
        let ctx = Ctx::system(Actor::new(id, Role::parse(role).expect("role"), team));
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..7 {
            let t = Instant::now();
            found = nearest(&service, &ctx, &query, 10, -1.0).await.expect("nearest").len();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!("{label}: top-{found} median {:.0} ms, max {:.0} ms (7 runs)", times[3], times[6]);
    }
}
