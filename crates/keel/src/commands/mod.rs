//! One module per CLI command.

pub mod audit;
pub mod automation;
pub mod import;
pub mod mcp;
pub mod seed;
pub mod serve;
pub mod user;

use anyhow::Context;
use keel_service::{Service, ServiceConfig};

/// Connect, migrate, and build the service: every command starts here.
pub async fn open(database_url: &str) -> anyhow::Result<Service> {
    Service::connect(database_url, ServiceConfig::default())
        .await
        .with_context(|| format!("cannot open and migrate database {}", redact(database_url)))
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
