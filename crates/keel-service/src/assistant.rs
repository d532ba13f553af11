//! Storage for the assistant (`keel-assistant`): a user's conversations and the proposals
//! the assistant made to them. Everything is keyed by the asking user, so another user's
//! conversation or proposal answers `NotFound`. Proposals hold writes the user has not
//! confirmed yet; confirming runs them through the ordinary verbs (`create`, `update`),
//! so they are validated, permission-checked and change-logged like any other write.

use keel_store::assistant as store;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Ctx, Service, ServiceError};

pub use keel_store::assistant::{Conversation, Message, Proposal};

/// Longest conversation title kept (the first message, shortened).
const TITLE_CHARS: usize = 80;

/// One message to append to a conversation.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub role: &'static str,
    pub content: String,
    pub data: serde_json::Value,
}

/// A write the assistant proposes: the exact input of each step, kept until it expires.
#[derive(Debug, Clone)]
pub struct NewProposal {
    pub conversation_id: Option<Uuid>,
    pub kind: String,
    pub summary: String,
    pub steps: serde_json::Value,
    pub lifetime: time::Duration,
}

fn title_of(first_message: &str) -> String {
    let line = first_message.lines().next().unwrap_or("").trim();
    let mut title: String = line.chars().take(TITLE_CHARS).collect();
    if line.chars().count() > TITLE_CHARS {
        title.push('…');
    }
    if title.is_empty() { "Conversation".to_string() } else { title }
}

impl Service {
    /// The service's current time (its injectable clock): "this month" in the assistant
    /// and proposal expiry follow it, so tests can move time.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The caller's conversation `id` (NotFound when it is someone else's or unknown).
    pub async fn assistant_conversation(
        &self,
        ctx: &Ctx,
        id: Uuid,
        message_limit: u64,
    ) -> Result<(Conversation, Vec<Message>), ServiceError> {
        let mut tx = self.db.read().await?;
        let conv = store::get_conversation(&mut tx, ctx.actor.user_id, id).await?.ok_or(ServiceError::NotFound)?;
        let messages = store::messages(&mut tx, id, message_limit).await?;
        Ok((conv, messages))
    }

    /// The caller's conversations, most recently used first.
    pub async fn assistant_conversations(&self, ctx: &Ctx, limit: u64) -> Result<Vec<Conversation>, ServiceError> {
        let mut tx = self.db.read().await?;
        Ok(store::list_conversations(&mut tx, ctx.actor.user_id, limit).await?)
    }

    /// The caller's conversation `id`, or a new one titled after `first_message` when
    /// `id` is None. Opened before the assistant answers, so proposals made while answering
    /// can point at it.
    pub async fn assistant_open_conversation(
        &self,
        ctx: &Ctx,
        id: Option<Uuid>,
        first_message: &str,
    ) -> Result<Conversation, ServiceError> {
        if let Some(id) = id {
            let mut tx = self.db.read().await?;
            return store::get_conversation(&mut tx, ctx.actor.user_id, id).await?.ok_or(ServiceError::NotFound);
        }
        let now = self.clock.now();
        let conv = Conversation {
            id: Uuid::now_v7(),
            user_id: ctx.actor.user_id,
            title: title_of(first_message),
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.db.write().await?;
        store::insert_conversation(&mut tx, &conv).await?;
        tx.commit().await?;
        Ok(conv)
    }

    /// Append one exchange to the caller's conversation `id`.
    pub async fn assistant_record_turn(
        &self,
        ctx: &Ctx,
        id: Uuid,
        messages: &[NewMessage],
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let mut tx = self.db.write().await?;
        store::get_conversation(&mut tx, ctx.actor.user_id, id).await?.ok_or(ServiceError::NotFound)?;
        store::touch_conversation(&mut tx, id, now).await?;
        for m in messages {
            let message = store::Message {
                id: Uuid::now_v7(),
                role: m.role.to_string(),
                content: m.content.clone(),
                data: m.data.clone(),
                created_at: now,
            };
            store::insert_message(&mut tx, id, &message).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Store a proposal for the caller; it stays `pending` until confirmed, cancelled or expired.
    pub async fn assistant_propose(&self, ctx: &Ctx, new: NewProposal) -> Result<Proposal, ServiceError> {
        let now = self.clock.now();
        let proposal = Proposal {
            id: Uuid::now_v7(),
            user_id: ctx.actor.user_id,
            conversation_id: new.conversation_id,
            kind: new.kind,
            summary: new.summary,
            steps: new.steps,
            status: "pending".into(),
            result: serde_json::json!({ "done": [] }),
            created_at: now,
            expires_at: now + new.lifetime,
            decided_at: None,
        };
        let mut tx = self.db.write().await?;
        store::insert_proposal(&mut tx, &proposal).await?;
        tx.commit().await?;
        Ok(proposal)
    }

    /// The caller's proposal `id` (NotFound when it is someone else's or unknown).
    pub async fn assistant_proposal(&self, ctx: &Ctx, id: Uuid) -> Result<Proposal, ServiceError> {
        let mut tx = self.db.read().await?;
        store::get_proposal(&mut tx, ctx.actor.user_id, id).await?.ok_or(ServiceError::NotFound)
    }

    /// Move the caller's proposal from `from` to `to` if it is still in `from`; returns
    /// whether it moved. `decided` stamps the decision time with the service clock.
    pub async fn assistant_transition(
        &self,
        ctx: &Ctx,
        id: Uuid,
        from: &str,
        to: &str,
        result: Option<&serde_json::Value>,
        decided: bool,
    ) -> Result<bool, ServiceError> {
        let at = decided.then(|| self.clock.now());
        let mut tx = self.db.write().await?;
        let moved = store::transition_proposal(&mut tx, ctx.actor.user_id, id, from, to, result, at).await?;
        tx.commit().await?;
        Ok(moved)
    }
}

#[cfg(test)]
mod tests {
    use super::title_of;

    #[test]
    fn titles_are_the_first_line_shortened() {
        assert_eq!(title_of("Which deals are in negotiation?\nmore"), "Which deals are in negotiation?");
        assert_eq!(title_of("  "), "Conversation");
        let long = "x".repeat(100);
        assert_eq!(title_of(&long).chars().count(), 81);
    }
}
