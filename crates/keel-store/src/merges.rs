//! The `merges` table: one row per merge of duplicates, with what undoing it needs.

use keel_domain::FieldType;
use keel_domain::value::Value;
use sea_query::{Alias, Cond, Expr, Order, Query, SimpleExpr};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{Backend, Row, Tx};
use crate::error::{Result, StoreError};

const TABLE: &str = "merges";
const COLUMNS: [&str; 11] = [
    "id",
    "entity",
    "survivor_id",
    "other_ids",
    "actor_id",
    "merged_at",
    "survivor_fields",
    "repointed",
    "shares",
    "undone_at",
    "undone_by",
];

fn a(s: &str) -> Alias {
    Alias::new(s)
}

#[derive(Debug, Clone, PartialEq)]
pub struct MergeRow {
    pub id: Uuid,
    pub entity: String,
    pub survivor_id: Uuid,
    pub other_ids: Vec<Uuid>,
    pub actor_id: Option<Uuid>,
    pub merged_at: OffsetDateTime,
    /// `{ field: { "from": …, "to": … } }`: survivor values the merge overwrote.
    pub survivor_fields: serde_json::Value,
    /// `[{ "entity", "field", "id", "from" }]`: related rows moved to the survivor.
    pub repointed: serde_json::Value,
    /// `[{ "id", "from" }]`: shares moved to the survivor.
    pub shares: serde_json::Value,
    pub undone_at: Option<OffsetDateTime>,
    pub undone_by: Option<Uuid>,
}

fn json(tx: &Tx, v: &serde_json::Value) -> SimpleExpr {
    match tx.backend() {
        Backend::Sqlite => sea_query::Value::String(Some(Box::new(v.to_string()))).into(),
        Backend::Postgres => sea_query::Value::Json(Some(Box::new(v.clone()))).into(),
    }
}

fn uid(tx: &Tx, id: Option<Uuid>) -> SimpleExpr {
    tx.encode(FieldType::Reference, &id.map_or(Value::Null, Value::Uuid)).into()
}

fn ts(tx: &Tx, t: Option<OffsetDateTime>) -> SimpleExpr {
    tx.encode(FieldType::Timestamp, &t.map_or(Value::Null, Value::Timestamp)).into()
}

pub async fn insert(tx: &mut Tx, m: &MergeRow) -> Result<()> {
    let others = serde_json::json!(m.other_ids);
    let values = vec![
        uid(tx, Some(m.id)),
        m.entity.clone().into(),
        uid(tx, Some(m.survivor_id)),
        json(tx, &others),
        uid(tx, m.actor_id),
        ts(tx, Some(m.merged_at)),
        json(tx, &m.survivor_fields),
        json(tx, &m.repointed),
        json(tx, &m.shares),
        ts(tx, m.undone_at),
        uid(tx, m.undone_by),
    ];
    let mut q = Query::insert();
    q.into_table(a(TABLE)).columns(COLUMNS.map(a)).values(values).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(&q).await?;
    Ok(())
}

/// Mark a merge undone; false when it already was (a concurrent undo).
pub async fn mark_undone(tx: &mut Tx, id: Uuid, by: Option<Uuid>, at: OffsetDateTime) -> Result<bool> {
    let mut q = Query::update();
    q.table(a(TABLE))
        .values([(a("undone_at"), ts(tx, Some(at))), (a("undone_by"), uid(tx, by))])
        .and_where(Expr::col(a("id")).eq(tx.encode(FieldType::Id, &Value::Uuid(id))))
        .and_where(Expr::col(a("undone_at")).is_null());
    Ok(tx.execute(&q).await? == 1)
}

fn decode(r: &Row) -> Result<MergeRow> {
    let missing = |what: &str| StoreError::Corrupt(format!("merge without {what}"));
    let others: Vec<Uuid> =
        serde_json::from_value(r.json("other_ids")?).map_err(|_| StoreError::Corrupt("merges.other_ids".into()))?;
    Ok(MergeRow {
        id: r.uuid("id")?.ok_or_else(|| missing("id"))?,
        entity: r.text("entity")?.ok_or_else(|| missing("entity"))?,
        survivor_id: r.uuid("survivor_id")?.ok_or_else(|| missing("survivor"))?,
        other_ids: others,
        actor_id: r.uuid("actor_id")?,
        merged_at: r.timestamp("merged_at")?.ok_or_else(|| missing("time"))?,
        survivor_fields: r.json("survivor_fields")?,
        repointed: r.json("repointed")?,
        shares: r.json("shares")?,
        undone_at: r.timestamp("undone_at")?,
        undone_by: r.uuid("undone_by")?,
    })
}

pub async fn get(tx: &mut Tx, id: Uuid) -> Result<Option<MergeRow>> {
    let mut q = Query::select();
    q.from(a(TABLE))
        .columns(COLUMNS.map(a))
        .and_where(Expr::col(a("id")).eq(tx.encode(FieldType::Id, &Value::Uuid(id))));
    tx.fetch_optional(&q).await?.as_ref().map(decode).transpose()
}

/// Merges newest first, since `since`, before the keyset position `before` (time, id),
/// whose survivor is one of the records `visible` allows: per entity, a subquery of the
/// ids the reader may see (the caller renders it from the policy's row scope).
pub async fn recent(
    tx: &mut Tx,
    since: OffsetDateTime,
    before: Option<(OffsetDateTime, Uuid)>,
    visible: Vec<(String, Option<sea_query::SelectStatement>)>,
    limit: u64,
) -> Result<Vec<MergeRow>> {
    let mut q = Query::select();
    q.from(a(TABLE))
        .columns(COLUMNS.map(a))
        .and_where(Expr::col(a("merged_at")).gte(ts(tx, Some(since))))
        .order_by(a("merged_at"), Order::Desc)
        .order_by(a("id"), Order::Desc)
        .limit(limit);
    let mut any = Cond::any();
    for (entity, ids) in visible {
        let mut this = Cond::all().add(Expr::col(a("entity")).eq(entity));
        if let Some(ids) = ids {
            this = this.add(Expr::col(a("survivor_id")).in_subquery(ids));
        }
        any = any.add(this);
    }
    q.cond_where(any);
    if let Some((at, id)) = before {
        let at = ts(tx, Some(at));
        let id = uid(tx, Some(id));
        q.cond_where(
            Cond::any()
                .add(Expr::col(a("merged_at")).lt(at.clone()))
                .add(Cond::all().add(Expr::col(a("merged_at")).eq(at)).add(Expr::col(a("id")).lt(id))),
        );
    }
    tx.fetch_all(&q).await?.iter().map(decode).collect()
}
