//! Custom role definitions, stored as JSON text (the same on both backends: they are
//! small, read by name, and never queried inside).

use keel_domain::FieldType;
use keel_domain::value::Value;
use sea_query::{Alias, Asterisk, Expr, Func, Order, Query};
use time::OffsetDateTime;

use crate::db::Tx;
use crate::error::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRole {
    pub name: String,
    pub definition: String,
    pub version: i64,
}

fn a(s: &str) -> Alias {
    Alias::new(s)
}

fn ts(tx: &Tx, t: OffsetDateTime) -> sea_query::SimpleExpr {
    tx.encode(FieldType::Timestamp, &Value::Timestamp(t)).into()
}

pub async fn get(tx: &mut Tx, name: &str) -> Result<Option<StoredRole>> {
    let mut q = Query::select();
    q.from(a("roles")).columns(["name", "definition", "version"].map(a)).and_where(Expr::col(a("name")).eq(name));
    match tx.fetch_optional(&q).await? {
        Some(r) => Ok(Some(StoredRole {
            name: r.text("name")?.unwrap_or_default(),
            definition: r.text("definition")?.unwrap_or_default(),
            version: r.i64("version")?,
        })),
        None => Ok(None),
    }
}

pub async fn all(tx: &mut Tx) -> Result<Vec<StoredRole>> {
    let mut q = Query::select();
    q.from(a("roles")).columns(["name", "definition", "version"].map(a)).order_by(a("name"), Order::Asc);
    let rows = tx.fetch_all(&q).await?;
    rows.iter()
        .map(|r| {
            Ok(StoredRole {
                name: r.text("name")?.unwrap_or_default(),
                definition: r.text("definition")?.unwrap_or_default(),
                version: r.i64("version")?,
            })
        })
        .collect()
}

pub async fn insert(tx: &mut Tx, name: &str, label: &str, definition: &str, now: OffsetDateTime) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(a("roles"))
        .columns(["name", "label", "definition", "created_at", "updated_at", "version"].map(a))
        .values(vec![name.into(), label.into(), definition.into(), ts(tx, now), ts(tx, now), 1i64.into()])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(&q).await?;
    Ok(())
}

pub async fn update(tx: &mut Tx, name: &str, label: &str, definition: &str, now: OffsetDateTime) -> Result<bool> {
    let mut q = Query::update();
    q.table(a("roles"))
        .values([
            (a("label"), label.into()),
            (a("definition"), definition.into()),
            (a("updated_at"), ts(tx, now)),
            (a("version"), Expr::col(a("version")).add(1)),
        ])
        .and_where(Expr::col(a("name")).eq(name));
    Ok(tx.execute(&q).await? == 1)
}

pub async fn delete(tx: &mut Tx, name: &str) -> Result<bool> {
    let mut q = Query::delete();
    q.from_table(a("roles")).and_where(Expr::col(a("name")).eq(name));
    Ok(tx.execute(&q).await? == 1)
}

/// How many users (trashed ones included) hold the role.
pub async fn holders(tx: &mut Tx, name: &str) -> Result<i64> {
    let mut q = Query::select();
    q.from(a("users")).expr_as(Func::count(Expr::col(Asterisk)), a("n")).and_where(Expr::col(a("role")).eq(name));
    match tx.fetch_optional(&q).await? {
        Some(r) => r.i64("n"),
        None => Ok(0),
    }
}
