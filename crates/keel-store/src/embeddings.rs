//! Stored embeddings of CRM records (migration 0013) for the assistant's semantic
//! retrieval: upserted and deleted by the indexer, read back in keyset chunks joined to
//! the rows the asking user may see (the policy's row scope in SQL, never a post-filter).

use keel_domain::FieldType;
use keel_domain::policy::RowScope;
use keel_domain::schema::EntityDef;
use keel_domain::value::Value;
use sea_query::{Alias, Expr, OnConflict, Order, Query};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{Row, Tx};
use crate::error::{Result, StoreError};
use crate::records::visible_condition;

fn a(s: &str) -> Alias {
    Alias::new(s)
}

/// Ids per `IN (…)` list.
const IN_CHUNK: usize = 500;

/// One record's embedding, as the indexer writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEmbedding {
    pub entity: String,
    pub record_id: Uuid,
    pub content_hash: String,
    pub model: String,
    /// Unit length.
    pub vector: Vec<f32>,
}

/// f32s as little-endian bytes (the stored form).
pub fn to_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Little-endian bytes back to f32s; None when the length is not a multiple of 4.
pub fn from_bytes(b: &[u8]) -> Option<Vec<f32>> {
    if !b.len().is_multiple_of(4) {
        return None;
    }
    Some(b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

fn bytes(row: &Row, col: &str) -> Result<Vec<u8>> {
    Ok(match row {
        Row::Sqlite(r) => sqlx::Row::try_get(r, col)?,
        Row::Postgres(r) => sqlx::Row::try_get(r, col)?,
    })
}

/// The stored content hashes of `ids` of `entity` (absent ids have none).
pub async fn hashes(tx: &mut Tx, entity: &str, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let values: Vec<sea_query::Value> =
            chunk.iter().map(|id| tx.encode(FieldType::Id, &Value::Uuid(*id))).collect();
        let mut q = Query::select();
        q.from(a("embeddings"))
            .columns([a("record_id"), a("content_hash")])
            .and_where(Expr::col(a("entity")).eq(entity))
            .and_where(Expr::col(a("record_id")).is_in(values));
        for row in tx.fetch_all(&q).await? {
            let id = row.uuid("record_id")?.ok_or_else(|| StoreError::Corrupt("embedding without record".into()))?;
            out.push((id, row.text("content_hash")?.unwrap_or_default()));
        }
    }
    Ok(out)
}

pub async fn upsert(tx: &mut Tx, e: &NewEmbedding, now: OffsetDateTime) -> Result<()> {
    let dims = i64::try_from(e.vector.len()).map_err(|_| StoreError::Corrupt("vector too long".into()))?;
    let mut q = Query::insert();
    q.into_table(a("embeddings"))
        .columns(["entity", "record_id", "content_hash", "model", "dims", "vector", "updated_at"].map(a))
        .values(vec![
            e.entity.clone().into(),
            tx.encode(FieldType::Id, &Value::Uuid(e.record_id)).into(),
            e.content_hash.clone().into(),
            e.model.clone().into(),
            dims.into(),
            sea_query::Value::Bytes(Some(Box::new(to_bytes(&e.vector)))).into(),
            tx.encode(FieldType::Timestamp, &Value::Timestamp(now)).into(),
        ])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?
        .on_conflict(
            OnConflict::columns([a("entity"), a("record_id")])
                .update_columns(["content_hash", "model", "dims", "vector", "updated_at"].map(a))
                .to_owned(),
        );
    tx.execute(&q).await?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, entity: &str, ids: &[Uuid]) -> Result<u64> {
    let mut n = 0;
    for chunk in ids.chunks(IN_CHUNK) {
        let values: Vec<sea_query::Value> =
            chunk.iter().map(|id| tx.encode(FieldType::Id, &Value::Uuid(*id))).collect();
        let mut q = Query::delete();
        q.from_table(a("embeddings"))
            .and_where(Expr::col(a("entity")).eq(entity))
            .and_where(Expr::col(a("record_id")).is_in(values));
        n += tx.execute(&q).await?;
    }
    Ok(n)
}

/// Up to `limit` vectors of `entity`'s rows visible within `scope`, after record id
/// `after`, in record-id order: the embeddings are walked by their primary key and each
/// is joined to its live row, which must pass the row scope. Vectors of another length
/// than `dims` (a different model) are skipped by the caller.
pub async fn visible_chunk(
    tx: &mut Tx,
    entity: &EntityDef,
    scope: &RowScope,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<(Uuid, Vec<f32>)>> {
    let e = a("embeddings");
    let t = a(&entity.name);
    let mut q = Query::select();
    q.from(e.clone())
        .column((e.clone(), a("record_id")))
        .column((e.clone(), a("vector")))
        .inner_join(t.clone(), Expr::col((t.clone(), a("id"))).equals((e.clone(), a("record_id"))))
        .and_where(Expr::col((e.clone(), a("entity"))).eq(entity.name.as_str()))
        .cond_where(visible_condition(tx, entity, scope));
    if let Some(after) = after {
        q.and_where(Expr::col((e.clone(), a("record_id"))).gt(tx.encode(FieldType::Id, &Value::Uuid(after))));
    }
    q.order_by((e, a("record_id")), Order::Asc).limit(limit);
    let rows = tx.fetch_all(&q).await?;
    rows.iter()
        .map(|r| {
            let id = r.uuid("record_id")?.ok_or_else(|| StoreError::Corrupt("embedding without record".into()))?;
            let v = from_bytes(&bytes(r, "vector")?)
                .ok_or_else(|| StoreError::Corrupt("an embedding's length is not a multiple of 4 bytes".into()))?;
            Ok((id, v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{from_bytes, to_bytes};

    #[test]
    fn vectors_round_trip_as_little_endian_f32() {
        let v = vec![0.5_f32, -1.25, 3.0e-7];
        let b = to_bytes(&v);
        assert_eq!(b.len(), 12);
        assert_eq!(&b[..4], &0.5_f32.to_le_bytes());
        assert_eq!(from_bytes(&b), Some(v));
        assert_eq!(from_bytes(&[1, 2, 3]), None);
    }
}
