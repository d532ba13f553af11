//! Record shares: grants of view or edit access on one record to a user or a team.

use keel_domain::FieldType;
use keel_domain::value::Value;
use sea_query::{Alias, Cond, Expr, Order, Query, SimpleExpr};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{Row, Tx};
use crate::error::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Share {
    pub id: Uuid,
    pub entity: String,
    pub record_id: Uuid,
    pub user_id: Option<Uuid>,
    pub team_id: Option<Uuid>,
    /// "view" or "edit".
    pub permission: String,
    pub created_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

const COLUMNS: [&str; 8] =
    ["id", "entity", "record_id", "user_id", "team_id", "permission", "created_by", "created_at"];

fn a(s: &str) -> Alias {
    Alias::new(s)
}

fn uid(tx: &Tx, id: Option<Uuid>) -> SimpleExpr {
    tx.encode(FieldType::Reference, &id.map_or(Value::Null, Value::Uuid)).into()
}

fn decode(r: &Row) -> Result<Share> {
    let missing = |what: &str| StoreError::Corrupt(format!("share without {what}"));
    Ok(Share {
        id: r.uuid("id")?.ok_or_else(|| missing("id"))?,
        entity: r.text("entity")?.ok_or_else(|| missing("entity"))?,
        record_id: r.uuid("record_id")?.ok_or_else(|| missing("record"))?,
        user_id: r.uuid("user_id")?,
        team_id: r.uuid("team_id")?,
        permission: r.text("permission")?.ok_or_else(|| missing("permission"))?,
        created_by: r.uuid("created_by")?,
        created_at: r.timestamp("created_at")?.ok_or_else(|| missing("time"))?,
    })
}

pub async fn insert(tx: &mut Tx, s: &Share) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(a("record_shares"))
        .columns(COLUMNS.map(a))
        .values(vec![
            uid(tx, Some(s.id)),
            s.entity.clone().into(),
            uid(tx, Some(s.record_id)),
            uid(tx, s.user_id),
            uid(tx, s.team_id),
            s.permission.clone().into(),
            uid(tx, s.created_by),
            tx.encode(FieldType::Timestamp, &Value::Timestamp(s.created_at)).into(),
        ])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(&q).await?;
    Ok(())
}

pub async fn set_permission(tx: &mut Tx, id: Uuid, permission: &str) -> Result<()> {
    let mut q = Query::update();
    q.table(a("record_shares"))
        .values([(a("permission"), permission.into())])
        .and_where(Expr::col(a("id")).eq(uid(tx, Some(id))));
    tx.execute(&q).await?;
    Ok(())
}

pub async fn for_record(tx: &mut Tx, entity: &str, record_id: Uuid) -> Result<Vec<Share>> {
    let mut q = Query::select();
    q.from(a("record_shares"))
        .columns(COLUMNS.map(a))
        .and_where(Expr::col(a("entity")).eq(entity))
        .and_where(Expr::col(a("record_id")).eq(uid(tx, Some(record_id))))
        .order_by(a("created_at"), Order::Asc);
    tx.fetch_all(&q).await?.iter().map(decode).collect()
}

pub async fn delete(tx: &mut Tx, id: Uuid) -> Result<bool> {
    let mut q = Query::delete();
    q.from_table(a("record_shares")).and_where(Expr::col(a("id")).eq(uid(tx, Some(id))));
    Ok(tx.execute(&q).await? == 1)
}

/// Remove every share of a record (when it is purged).
pub async fn delete_for_record(tx: &mut Tx, entity: &str, record_id: Uuid) -> Result<u64> {
    let mut q = Query::delete();
    q.from_table(a("record_shares"))
        .and_where(Expr::col(a("entity")).eq(entity))
        .and_where(Expr::col(a("record_id")).eq(uid(tx, Some(record_id))));
    tx.execute(&q).await
}

/// The permissions shared on a record with `user` directly or through `team`.
pub async fn granted(
    tx: &mut Tx,
    entity: &str,
    record_id: Uuid,
    user: Uuid,
    team: Option<Uuid>,
) -> Result<Vec<String>> {
    let mut grantee = Cond::any().add(Expr::col(a("user_id")).eq(uid(tx, Some(user))));
    if let Some(t) = team {
        grantee = grantee.add(Expr::col(a("team_id")).eq(uid(tx, Some(t))));
    }
    let mut q = Query::select();
    q.from(a("record_shares"))
        .column(a("permission"))
        .and_where(Expr::col(a("entity")).eq(entity))
        .and_where(Expr::col(a("record_id")).eq(uid(tx, Some(record_id))))
        .cond_where(grantee);
    let rows = tx.fetch_all(&q).await?;
    rows.iter().map(|r| r.text("permission").map(Option::unwrap_or_default)).collect()
}

/// The team a user belongs to.
pub async fn team_of(tx: &mut Tx, user: Uuid) -> Result<Option<Uuid>> {
    let mut q = Query::select();
    q.from(a("users")).column(a("team_id")).and_where(Expr::col(a("id")).eq(uid(tx, Some(user))));
    match tx.fetch_optional(&q).await? {
        Some(r) => r.uuid("team_id"),
        None => Ok(None),
    }
}

/// Teams a user is listed as a manager of.
pub async fn managed_by(tx: &mut Tx, user: Uuid) -> Result<Vec<Uuid>> {
    let mut q = Query::select();
    q.from(a("team_managers")).column(a("team_id")).and_where(Expr::col(a("user_id")).eq(uid(tx, Some(user))));
    let rows = tx.fetch_all(&q).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.extend(r.uuid("team_id")?);
    }
    Ok(out)
}

/// The managers listed for a team.
pub async fn managers_of(tx: &mut Tx, team: Uuid) -> Result<Vec<Uuid>> {
    let mut q = Query::select();
    q.from(a("team_managers"))
        .column(a("user_id"))
        .and_where(Expr::col(a("team_id")).eq(uid(tx, Some(team))))
        .order_by(a("user_id"), Order::Asc);
    let rows = tx.fetch_all(&q).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.extend(r.uuid("user_id")?);
    }
    Ok(out)
}

/// Replace a team's list of managers.
pub async fn set_managers(tx: &mut Tx, team: Uuid, users: &[Uuid], now: OffsetDateTime) -> Result<()> {
    let mut del = Query::delete();
    del.from_table(a("team_managers")).and_where(Expr::col(a("team_id")).eq(uid(tx, Some(team))));
    tx.execute(&del).await?;
    if users.is_empty() {
        return Ok(());
    }
    let mut q = Query::insert();
    q.into_table(a("team_managers")).columns(["team_id", "user_id", "created_at"].map(a));
    for u in users {
        q.values(vec![
            uid(tx, Some(team)),
            uid(tx, Some(*u)),
            tx.encode(FieldType::Timestamp, &Value::Timestamp(now)).into(),
        ])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    }
    tx.execute(&q).await?;
    Ok(())
}

/// Move a share to another record of the same entity (merging duplicates).
pub async fn move_to(tx: &mut Tx, id: Uuid, record_id: Uuid) -> Result<()> {
    let mut q = Query::update();
    q.table(a("record_shares"))
        .values([(a("record_id"), uid(tx, Some(record_id)))])
        .and_where(Expr::col(a("id")).eq(uid(tx, Some(id))));
    tx.execute(&q).await?;
    Ok(())
}
