//! The assistant's own tables: conversations (with their messages) and proposals. Every
//! read and write here is keyed by the owning user as well as the id, so one user's
//! conversation or proposal is simply absent for anyone else.

use keel_domain::FieldType;
use keel_domain::value::Value;
use sea_query::{Alias, Expr, Order, Query};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{Backend, Row, Tx};
use crate::error::{Result, StoreError};

fn a(s: &str) -> Alias {
    Alias::new(s)
}

fn ts(tx: &Tx, t: OffsetDateTime) -> sea_query::SimpleExpr {
    tx.encode(FieldType::Timestamp, &Value::Timestamp(t)).into()
}

fn id(tx: &Tx, u: Uuid) -> sea_query::SimpleExpr {
    tx.encode(FieldType::Id, &Value::Uuid(u)).into()
}

/// JSON as text on SQLite, JSONB on PostgreSQL (as the change log stores diffs).
fn json(tx: &Tx, v: &serde_json::Value) -> sea_query::SimpleExpr {
    match tx.backend() {
        Backend::Sqlite => sea_query::Value::String(Some(Box::new(v.to_string()))).into(),
        Backend::Postgres => sea_query::Value::Json(Some(Box::new(v.clone()))).into(),
    }
}

fn need<T>(v: Option<T>, col: &str) -> Result<T> {
    v.ok_or_else(|| StoreError::Corrupt(format!("column `{col}` is unexpectedly empty")))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub id: Uuid,
    pub user_id: Uuid,
    pub title: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: Uuid,
    pub role: String,
    pub content: String,
    pub data: serde_json::Value,
    pub created_at: OffsetDateTime,
}

fn conversation(r: &Row) -> Result<Conversation> {
    Ok(Conversation {
        id: need(r.uuid("id")?, "id")?,
        user_id: need(r.uuid("user_id")?, "user_id")?,
        title: r.text("title")?.unwrap_or_default(),
        created_at: need(r.timestamp("created_at")?, "created_at")?,
        updated_at: need(r.timestamp("updated_at")?, "updated_at")?,
    })
}

pub async fn insert_conversation(tx: &mut Tx, c: &Conversation) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(a("assistant_conversations"))
        .columns(["id", "user_id", "title", "created_at", "updated_at"].map(a))
        .values(vec![
            id(tx, c.id),
            id(tx, c.user_id),
            c.title.as_str().into(),
            ts(tx, c.created_at),
            ts(tx, c.updated_at),
        ])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(&q).await?;
    Ok(())
}

pub async fn touch_conversation(tx: &mut Tx, conversation_id: Uuid, now: OffsetDateTime) -> Result<()> {
    let mut q = Query::update();
    q.table(a("assistant_conversations"))
        .values([(a("updated_at"), ts(tx, now))])
        .and_where(Expr::col(a("id")).eq(id(tx, conversation_id)));
    tx.execute(&q).await?;
    Ok(())
}

/// The user's conversation `conversation_id`, if it is theirs.
pub async fn get_conversation(tx: &mut Tx, user_id: Uuid, conversation_id: Uuid) -> Result<Option<Conversation>> {
    let mut q = Query::select();
    q.from(a("assistant_conversations"))
        .columns(["id", "user_id", "title", "created_at", "updated_at"].map(a))
        .and_where(Expr::col(a("id")).eq(id(tx, conversation_id)))
        .and_where(Expr::col(a("user_id")).eq(id(tx, user_id)));
    tx.fetch_optional(&q).await?.as_ref().map(conversation).transpose()
}

/// The user's most recently used conversations first.
pub async fn list_conversations(tx: &mut Tx, user_id: Uuid, limit: u64) -> Result<Vec<Conversation>> {
    let mut q = Query::select();
    q.from(a("assistant_conversations"))
        .columns(["id", "user_id", "title", "created_at", "updated_at"].map(a))
        .and_where(Expr::col(a("user_id")).eq(id(tx, user_id)))
        .order_by(a("updated_at"), Order::Desc)
        .order_by(a("id"), Order::Desc)
        .limit(limit);
    tx.fetch_all(&q).await?.iter().map(conversation).collect()
}

pub async fn insert_message(tx: &mut Tx, conversation_id: Uuid, m: &Message) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(a("assistant_messages"))
        .columns(["id", "conversation_id", "role", "content", "data", "created_at"].map(a))
        .values(vec![
            id(tx, m.id),
            id(tx, conversation_id),
            m.role.as_str().into(),
            m.content.as_str().into(),
            json(tx, &m.data),
            ts(tx, m.created_at),
        ])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(&q).await?;
    Ok(())
}

/// A conversation's messages, oldest first (ids are UUIDv7, so id order is time order);
/// at most the last `limit`.
pub async fn messages(tx: &mut Tx, conversation_id: Uuid, limit: u64) -> Result<Vec<Message>> {
    let mut q = Query::select();
    q.from(a("assistant_messages"))
        .columns(["id", "role", "content", "data", "created_at"].map(a))
        .and_where(Expr::col(a("conversation_id")).eq(id(tx, conversation_id)))
        .order_by(a("id"), Order::Desc)
        .limit(limit);
    let mut out: Vec<Message> = tx
        .fetch_all(&q)
        .await?
        .iter()
        .map(|r| {
            Ok(Message {
                id: need(r.uuid("id")?, "id")?,
                role: r.text("role")?.unwrap_or_default(),
                content: r.text("content")?.unwrap_or_default(),
                data: r.json("data")?,
                created_at: need(r.timestamp("created_at")?, "created_at")?,
            })
        })
        .collect::<Result<_>>()?;
    out.reverse();
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub id: Uuid,
    pub user_id: Uuid,
    pub conversation_id: Option<Uuid>,
    pub kind: String,
    pub summary: String,
    pub steps: serde_json::Value,
    pub status: String,
    pub result: serde_json::Value,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
}

const PROPOSAL_COLUMNS: [&str; 11] = [
    "id",
    "user_id",
    "conversation_id",
    "kind",
    "summary",
    "steps",
    "status",
    "result",
    "created_at",
    "expires_at",
    "decided_at",
];

pub async fn insert_proposal(tx: &mut Tx, p: &Proposal) -> Result<()> {
    let conversation = tx.encode(FieldType::Reference, &p.conversation_id.map_or(Value::Null, Value::Uuid));
    let decided = tx.encode(FieldType::Timestamp, &p.decided_at.map_or(Value::Null, Value::Timestamp));
    let mut q = Query::insert();
    q.into_table(a("assistant_proposals"))
        .columns(PROPOSAL_COLUMNS.map(a))
        .values(vec![
            id(tx, p.id),
            id(tx, p.user_id),
            conversation.into(),
            p.kind.as_str().into(),
            p.summary.as_str().into(),
            json(tx, &p.steps),
            p.status.as_str().into(),
            json(tx, &p.result),
            ts(tx, p.created_at),
            ts(tx, p.expires_at),
            decided.into(),
        ])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(&q).await?;
    Ok(())
}

/// The user's proposal `proposal_id`, if it is theirs.
pub async fn get_proposal(tx: &mut Tx, user_id: Uuid, proposal_id: Uuid) -> Result<Option<Proposal>> {
    let mut q = Query::select();
    q.from(a("assistant_proposals"))
        .columns(PROPOSAL_COLUMNS.map(a))
        .and_where(Expr::col(a("id")).eq(id(tx, proposal_id)))
        .and_where(Expr::col(a("user_id")).eq(id(tx, user_id)));
    let Some(r) = tx.fetch_optional(&q).await? else { return Ok(None) };
    Ok(Some(Proposal {
        id: need(r.uuid("id")?, "id")?,
        user_id: need(r.uuid("user_id")?, "user_id")?,
        conversation_id: r.uuid("conversation_id")?,
        kind: r.text("kind")?.unwrap_or_default(),
        summary: r.text("summary")?.unwrap_or_default(),
        steps: r.json("steps")?,
        status: r.text("status")?.unwrap_or_default(),
        result: r.json("result")?,
        created_at: need(r.timestamp("created_at")?, "created_at")?,
        expires_at: need(r.timestamp("expires_at")?, "expires_at")?,
        decided_at: r.timestamp("decided_at")?,
    }))
}

/// Move the user's proposal from status `from` to `to` (recording `result`, and the time
/// when `decided`). The status check is in the statement, so of two concurrent confirms
/// exactly one moves a proposal out of `pending`; returns whether this one did.
pub async fn transition_proposal(
    tx: &mut Tx,
    user_id: Uuid,
    proposal_id: Uuid,
    from: &str,
    to: &str,
    result: Option<&serde_json::Value>,
    decided: Option<OffsetDateTime>,
) -> Result<bool> {
    let mut values = vec![(a("status"), to.into())];
    if let Some(r) = result {
        values.push((a("result"), json(tx, r)));
    }
    if let Some(at) = decided {
        values.push((a("decided_at"), ts(tx, at)));
    }
    let mut q = Query::update();
    q.table(a("assistant_proposals"))
        .values(values)
        .and_where(Expr::col(a("id")).eq(id(tx, proposal_id)))
        .and_where(Expr::col(a("user_id")).eq(id(tx, user_id)))
        .and_where(Expr::col(a("status")).eq(from));
    Ok(tx.execute(&q).await? == 1)
}
