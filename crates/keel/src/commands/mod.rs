//! One module per CLI command.

pub mod seed;
pub mod serve;
pub mod user;

use std::sync::Arc;

use anyhow::Context;
use keel_domain::clock::SystemClock;
use keel_service::{Service, ServiceConfig};
use keel_store::Db;

/// Connect, migrate, and build the service: every command starts here.
pub async fn open(database_url: &str) -> anyhow::Result<Service> {
    let db = Db::connect(database_url).await.with_context(|| format!("cannot open database {}", redact(database_url)))?;
    db.migrate().await.context("migrations failed")?;
    Ok(Service::new(db, keel_domain::schema::builtin_schema(), Arc::new(SystemClock), ServiceConfig::default()))
}

pub async fn migrate(database_url: &str) -> anyhow::Result<()> {
    let service = open(database_url).await?;
    service.db().close().await;
    println!("migrations applied to {}", redact(database_url));
    Ok(())
}

/// Hide a password in a database URL before printing it.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}://{user}:***@{}", &url[..s], &url[at + 1..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
