//! Custom field definitions, edited option lists and the schema version, plus the schema
//! changes a custom field makes: its column (`ALTER TABLE … ADD COLUMN cf_<name>`) and
//! its indexes, on both backends. sea-query builds no DDL for an existing table's new
//! column with our type mapping and partial expression indexes, so these statements are
//! written here as text; every identifier in them is a checked entity name or a custom
//! field name (`cf_` + `[a-z0-9_]`), never free input.

use keel_domain::FieldType;
use keel_domain::schema::EntityDef;
use keel_domain::value::Value;
use sea_query::{Alias, Expr, OnConflict, Order, Query};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{Backend, Tx};
use crate::error::{Result, StoreError};

fn a(s: &str) -> Alias {
    Alias::new(s)
}

fn ts(tx: &Tx, t: OffsetDateTime) -> sea_query::SimpleExpr {
    tx.encode(FieldType::Timestamp, &Value::Timestamp(t)).into()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFieldRow {
    pub entity: String,
    pub name: String,
    pub position: i64,
    pub archived: bool,
    pub definition: String,
    pub created_at: Option<OffsetDateTime>,
    pub updated_at: Option<OffsetDateTime>,
    pub version: i64,
}

const FIELD_COLUMNS: [&str; 8] =
    ["entity", "name", "position", "archived", "definition", "created_at", "updated_at", "version"];

fn field_row(r: &crate::db::Row) -> Result<StoredFieldRow> {
    Ok(StoredFieldRow {
        entity: r.text("entity")?.unwrap_or_default(),
        name: r.text("name")?.unwrap_or_default(),
        position: r.i64("position")?,
        archived: r.value("archived", FieldType::Boolean)?.as_bool().unwrap_or(false),
        definition: r.text("definition")?.unwrap_or_default(),
        created_at: r.timestamp("created_at")?,
        updated_at: r.timestamp("updated_at")?,
        version: r.i64("version")?,
    })
}

/// Every stored custom field, archived ones too, by entity and position.
pub async fn all(tx: &mut Tx) -> Result<Vec<StoredFieldRow>> {
    let mut q = Query::select();
    q.from(a("custom_fields"))
        .columns(FIELD_COLUMNS.map(a))
        .order_by(a("entity"), Order::Asc)
        .order_by(a("position"), Order::Asc);
    tx.fetch_all(&q).await?.iter().map(field_row).collect()
}

pub async fn get(tx: &mut Tx, entity: &str, name: &str) -> Result<Option<StoredFieldRow>> {
    let mut q = Query::select();
    q.from(a("custom_fields"))
        .columns(FIELD_COLUMNS.map(a))
        .and_where(Expr::col(a("entity")).eq(entity))
        .and_where(Expr::col(a("name")).eq(name));
    match tx.fetch_optional(&q).await? {
        Some(r) => Ok(Some(field_row(&r)?)),
        None => Ok(None),
    }
}

/// The next free position at the end of an entity's custom fields.
pub async fn next_position(tx: &mut Tx, entity: &str) -> Result<i64> {
    let mut q = Query::select();
    q.from(a("custom_fields"))
        .expr_as(Expr::col(a("position")).max(), a("p"))
        .and_where(Expr::col(a("entity")).eq(entity));
    let row = tx.fetch_optional(&q).await?;
    let max = match row {
        Some(r) => r.value("p", FieldType::Integer)?.as_int(),
        None => None,
    };
    Ok(max.map_or(1, |m| m + 1))
}

pub async fn insert(
    tx: &mut Tx,
    entity: &str,
    name: &str,
    position: i64,
    definition: &str,
    now: OffsetDateTime,
) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(a("custom_fields"))
        .columns(["entity", "name", "position", "archived", "definition", "created_at", "updated_at", "version"].map(a))
        .values([
            entity.into(),
            name.into(),
            position.into(),
            false.into(),
            definition.into(),
            ts(tx, now),
            ts(tx, now),
            1i64.into(),
        ])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(&q).await?;
    Ok(())
}

/// Replace a field's definition, position and archived flag; bumps its version.
pub async fn update(tx: &mut Tx, row: &StoredFieldRow, now: OffsetDateTime) -> Result<()> {
    let mut q = Query::update();
    q.table(a("custom_fields"))
        .values([
            (a("position"), row.position.into()),
            (a("archived"), row.archived.into()),
            (a("definition"), row.definition.clone().into()),
            (a("updated_at"), ts(tx, now)),
            (a("version"), Expr::col(a("version")).add(1)),
        ])
        .and_where(Expr::col(a("entity")).eq(row.entity.as_str()))
        .and_where(Expr::col(a("name")).eq(row.name.as_str()));
    tx.execute(&q).await?;
    Ok(())
}

/// Stored option lists of built-in select fields: (entity, field, JSON array).
pub async fn all_options(tx: &mut Tx) -> Result<Vec<(String, String, String)>> {
    let mut q = Query::select();
    q.from(a("field_options")).columns(["entity", "field", "options"].map(a));
    let mut out = Vec::new();
    for r in tx.fetch_all(&q).await? {
        out.push((
            r.text("entity")?.unwrap_or_default(),
            r.text("field")?.unwrap_or_default(),
            r.text("options")?.unwrap_or_default(),
        ));
    }
    Ok(out)
}

pub async fn put_options(tx: &mut Tx, entity: &str, field: &str, options: &str, now: OffsetDateTime) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(a("field_options"))
        .columns(["entity", "field", "options", "updated_at"].map(a))
        .values([entity.into(), field.into(), options.into(), ts(tx, now)])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?
        .on_conflict(
            OnConflict::columns([a("entity"), a("field")]).update_columns([a("options"), a("updated_at")]).to_owned(),
        );
    tx.execute(&q).await?;
    Ok(())
}

/// The stored schema version (bumped by every schema change).
pub async fn schema_version(tx: &mut Tx) -> Result<i64> {
    let mut q = Query::select();
    q.from(a("schema_state")).column(a("version")).and_where(Expr::col(a("id")).eq(1));
    match tx.fetch_optional(&q).await? {
        Some(r) => r.i64("version"),
        None => Ok(0),
    }
}

pub async fn bump_schema_version(tx: &mut Tx) -> Result<i64> {
    let mut q = Query::update();
    q.table(a("schema_state")).value(a("version"), Expr::col(a("version")).add(1)).and_where(Expr::col(a("id")).eq(1));
    tx.execute(&q).await?;
    schema_version(tx).await
}

/// The SQL type of a column holding values of `ty` (as the built-in columns are typed).
fn column_type(backend: Backend, ty: FieldType) -> &'static str {
    match (backend, ty) {
        (_, FieldType::Integer | FieldType::Money | FieldType::Percent | FieldType::Decimal) => "BIGINT",
        (_, FieldType::Boolean) => "BOOLEAN",
        (Backend::Sqlite, FieldType::Id | FieldType::Reference) => "BLOB",
        (Backend::Postgres, FieldType::Id | FieldType::Reference) => "UUID",
        (Backend::Postgres, FieldType::Date) => "DATE",
        (Backend::Postgres, FieldType::Timestamp) => "TIMESTAMPTZ",
        _ => "TEXT",
    }
}

/// Refuse anything but a checked identifier before it goes into SQL text.
fn ident(name: &str) -> Result<&str> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok { Ok(name) } else { Err(StoreError::Corrupt(format!("`{name}` is not a valid identifier"))) }
}

/// Index names: `<table>_<column>` (leads with the column, then id, for keyset paging)
/// and `<table>_<column>_unique`, as the built-in fields' indexes are named.
pub fn sort_index_name(table: &str, column: &str) -> String {
    format!("{table}_{column}")
}

pub fn unique_index_name(table: &str, column: &str) -> String {
    format!("{table}_{column}_unique")
}

pub async fn add_column(tx: &mut Tx, table: &str, column: &str, ty: FieldType) -> Result<()> {
    let sql = format!("ALTER TABLE {} ADD COLUMN {} {}", ident(table)?, ident(column)?, column_type(tx.backend(), ty));
    tx.execute_sql(&sql).await?;
    Ok(())
}

pub async fn drop_column(tx: &mut Tx, table: &str, column: &str) -> Result<()> {
    drop_indexes(tx, table, column).await?;
    tx.execute_sql(&format!("ALTER TABLE {} DROP COLUMN {}", ident(table)?, ident(column)?)).await?;
    Ok(())
}

/// Create the indexes a field's metadata asks for: a sort index (`(column, id)`) when it
/// is sortable, a unique index on `lower(column)` over live rows when it is unique.
pub async fn create_indexes(tx: &mut Tx, table: &str, column: &str, sortable: bool, unique: bool) -> Result<()> {
    let (t, c) = (ident(table)?, ident(column)?);
    if sortable {
        let name = sort_index_name(t, c);
        tx.execute_sql(&format!("CREATE INDEX IF NOT EXISTS {} ON {t} ({c}, id)", ident(&name)?)).await?;
    }
    if unique {
        let name = unique_index_name(t, c);
        tx.execute_sql(&format!(
            "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {t} (lower({c})) WHERE deleted_at IS NULL AND {c} IS NOT NULL",
            ident(&name)?
        ))
        .await?;
    }
    Ok(())
}

pub async fn drop_indexes(tx: &mut Tx, table: &str, column: &str) -> Result<()> {
    let (t, c) = (ident(table)?, ident(column)?);
    for name in [sort_index_name(t, c), unique_index_name(t, c)] {
        tx.execute_sql(&format!("DROP INDEX IF EXISTS {}", ident(&name)?)).await?;
    }
    Ok(())
}

/// Every non-null value of `column` (read as `ty`), with its record id: the input of a
/// type change. Reads the whole column once; the caller converts in memory.
pub async fn column_values(tx: &mut Tx, entity: &EntityDef, column: &str, ty: FieldType) -> Result<Vec<(Uuid, Value)>> {
    let mut q = Query::select();
    q.from(a(&entity.name))
        .columns([a("id"), a(column)])
        .and_where(Expr::col(a(column)).is_not_null())
        .order_by(a("id"), Order::Asc);
    let rows = tx.fetch_all(&q).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id = r.uuid("id")?.ok_or_else(|| StoreError::Corrupt(format!("{} row without id", entity.name)))?;
        out.push((id, r.value(column, ty)?));
    }
    Ok(out)
}

/// Write one converted value (type changes), moving the record's version when it changed.
pub async fn set_value(
    tx: &mut Tx,
    table: &str,
    column: &str,
    ty: FieldType,
    id: Uuid,
    v: &Value,
    bump_version: bool,
) -> Result<()> {
    let mut q = Query::update();
    q.table(a(table)).value(a(column), tx.encode(ty, v));
    if bump_version {
        q.value(a("version"), Expr::col(a("version")).add(1));
    }
    q.and_where(Expr::col(a("id")).eq(tx.encode(FieldType::Id, &Value::Uuid(id))));
    tx.execute(&q).await?;
    Ok(())
}

/// How many rows (trashed ones too) hold `value` in `column`.
pub async fn count_value(tx: &mut Tx, table: &str, column: &str, value: &str) -> Result<i64> {
    let mut q = Query::select();
    q.from(a(table)).expr_as(Expr::col(a("id")).count(), a("n")).and_where(Expr::col(a(column)).eq(value));
    match tx.fetch_optional(&q).await? {
        Some(r) => r.i64("n"),
        None => Ok(0),
    }
}

/// Ids of rows holding `value` in `column` (trashed ones too).
pub async fn ids_with_value(tx: &mut Tx, table: &str, column: &str, value: &str) -> Result<Vec<Uuid>> {
    let mut q = Query::select();
    q.from(a(table)).column(a("id")).and_where(Expr::col(a(column)).eq(value));
    let rows = tx.fetch_all(&q).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Some(id) = r.uuid("id")? {
            out.push(id);
        }
    }
    Ok(out)
}

/// How many rows hold a multi-select list containing `needle` (a JSON-quoted option).
pub async fn count_containing(tx: &mut Tx, table: &str, column: &str, needle: &str) -> Result<i64> {
    let pattern = format!("%{}%", needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let mut q = Query::select();
    q.from(a(table))
        .expr_as(Expr::col(a("id")).count(), a("n"))
        .and_where(Expr::col(a(column)).like(sea_query::LikeExpr::new(pattern).escape('\\')));
    match tx.fetch_optional(&q).await? {
        Some(r) => r.i64("n"),
        None => Ok(0),
    }
}
