//! Workflow definitions. The definition is an opaque JSON document here; keel-automation
//! gives it meaning and validates it before the service stores it.

use sea_query::{Expr, Order, Query};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{a, json, opt_text, opt_uuid, read_bool, required, ts, uuid, values_err};
use crate::db::{Row, Tx};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredWorkflow {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub definition: serde_json::Value,
    /// The entity a record trigger watches (None for schedule and manual triggers).
    pub trigger_entity: Option<String>,
    pub enabled: bool,
    pub created_by: Option<Uuid>,
    /// Who saved it last: the workflow acts as this user.
    pub updated_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

const COLUMNS: [&str; 11] = [
    "id",
    "name",
    "description",
    "definition",
    "trigger_entity",
    "enabled",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
    "version",
];

fn decode(r: &Row) -> Result<StoredWorkflow> {
    Ok(StoredWorkflow {
        id: required(r.uuid("id")?, "id")?,
        name: r.text("name")?.unwrap_or_default(),
        description: r.text("description")?,
        definition: r.json("definition")?,
        trigger_entity: r.text("trigger_entity")?,
        enabled: read_bool(r, "enabled")?.unwrap_or(false),
        created_by: r.uuid("created_by")?,
        updated_by: r.uuid("updated_by")?,
        created_at: required(r.timestamp("created_at")?, "created_at")?,
        updated_at: required(r.timestamp("updated_at")?, "updated_at")?,
        version: r.i64("version")?,
    })
}

pub async fn get(tx: &mut Tx, id: Uuid) -> Result<Option<StoredWorkflow>> {
    let mut q = Query::select();
    q.from(a("workflows")).columns(COLUMNS.map(a)).and_where(Expr::col(a("id")).eq(uuid(tx, id)));
    tx.fetch_optional(&q).await?.as_ref().map(decode).transpose()
}

/// Every workflow, newest first.
pub async fn all(tx: &mut Tx) -> Result<Vec<StoredWorkflow>> {
    let mut q = Query::select();
    q.from(a("workflows"))
        .columns(COLUMNS.map(a))
        .order_by(a("created_at"), Order::Desc)
        .order_by(a("id"), Order::Desc);
    tx.fetch_all(&q).await?.iter().map(decode).collect()
}

/// Enabled workflows with a record trigger: what the dispatcher matches changes against.
pub async fn enabled_record_triggered(tx: &mut Tx) -> Result<Vec<StoredWorkflow>> {
    let mut q = Query::select();
    q.from(a("workflows"))
        .columns(COLUMNS.map(a))
        .and_where(Expr::col(a("enabled")).eq(true))
        .and_where(Expr::col(a("trigger_entity")).is_not_null())
        .order_by(a("created_at"), Order::Asc);
    tx.fetch_all(&q).await?.iter().map(decode).collect()
}

/// Every enabled workflow (the scheduler picks the scheduled ones).
pub async fn enabled(tx: &mut Tx) -> Result<Vec<StoredWorkflow>> {
    let mut q = Query::select();
    q.from(a("workflows"))
        .columns(COLUMNS.map(a))
        .and_where(Expr::col(a("enabled")).eq(true))
        .order_by(a("created_at"), Order::Asc);
    tx.fetch_all(&q).await?.iter().map(decode).collect()
}

pub async fn insert(tx: &mut Tx, w: &StoredWorkflow) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(a("workflows"))
        .columns(COLUMNS.map(a))
        .values(vec![
            uuid(tx, w.id),
            w.name.clone().into(),
            opt_text(tx, w.description.as_deref()),
            json(tx, &w.definition),
            opt_text(tx, w.trigger_entity.as_deref()),
            w.enabled.into(),
            opt_uuid(tx, w.created_by),
            opt_uuid(tx, w.updated_by),
            ts(tx, w.created_at),
            ts(tx, w.updated_at),
            w.version.into(),
        ])
        .map_err(values_err)?;
    tx.execute(&q).await?;
    Ok(())
}

/// Replace everything but the id and the creation facts, if the stored version is
/// `expected_version`. Returns whether a row changed.
pub async fn update(tx: &mut Tx, w: &StoredWorkflow, expected_version: i64) -> Result<bool> {
    let mut q = Query::update();
    q.table(a("workflows"))
        .values([
            (a("name"), w.name.clone().into()),
            (a("description"), opt_text(tx, w.description.as_deref())),
            (a("definition"), json(tx, &w.definition)),
            (a("trigger_entity"), opt_text(tx, w.trigger_entity.as_deref())),
            (a("enabled"), w.enabled.into()),
            (a("updated_by"), opt_uuid(tx, w.updated_by)),
            (a("updated_at"), ts(tx, w.updated_at)),
            (a("version"), w.version.into()),
        ])
        .and_where(Expr::col(a("id")).eq(uuid(tx, w.id)))
        .and_where(Expr::col(a("version")).eq(expected_version));
    Ok(tx.execute(&q).await? == 1)
}

pub async fn delete(tx: &mut Tx, id: Uuid) -> Result<bool> {
    let mut q = Query::delete();
    q.from_table(a("workflows")).and_where(Expr::col(a("id")).eq(uuid(tx, id)));
    Ok(tx.execute(&q).await? == 1)
}
