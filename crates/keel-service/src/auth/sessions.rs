//! Session lifetime beyond the 30-day expiry: the idle timeout, signing out everywhere,
//! an admin ending a user's sessions, and ending a user's sessions when they are
//! deactivated.

use keel_domain::policy::RowScope;
use keel_domain::{EntityDef, Record};
use keel_store::login_security as store;
use keel_store::{Tx, records};
use time::Duration;
use uuid::Uuid;

use super::secret_hash;
use crate::{Ctx, Service, ServiceError};

/// A session's last use is written at most this often, so a busy client does not turn
/// every read into a write.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// What a revocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Revoked {
    pub sessions: u64,
    pub tokens: u64,
}

impl Service {
    /// The user of the session with this secret, if it has neither expired nor been idle
    /// longer than the idle timeout. Records the use (at most once a minute).
    pub(crate) async fn live_session_user(&self, session_token: &str) -> Result<Option<Uuid>, ServiceError> {
        let hash = secret_hash(session_token);
        let now = self.clock.now();
        let session = {
            let mut tx = self.db.read().await?;
            store::session_times(&mut tx, &hash).await?
        };
        let Some(session) = session else {
            return Ok(None);
        };
        if session.expires_at <= now || now - session.last_active() >= self.config.session_idle_timeout {
            return Ok(None);
        }
        if now - session.last_active() >= TOUCH_EVERY {
            let mut tx = self.db.write().await?;
            store::touch_session(&mut tx, &hash, now, now - TOUCH_EVERY).await?;
            tx.commit().await?;
        }
        Ok(Some(session.user_id))
    }

    /// Forget sessions past the idle timeout (expired ones are pruned at sign-in too).
    pub(crate) async fn prune_idle_sessions(&self, tx: &mut Tx) -> Result<(), ServiceError> {
        store::delete_idle_sessions(tx, self.clock.now() - self.config.session_idle_timeout).await?;
        Ok(())
    }

    /// End every session of the signed-in user (this one included) and, with `tokens`,
    /// revoke their personal API tokens too.
    pub async fn logout_everywhere(&self, ctx: &Ctx, tokens: bool) -> Result<Revoked, ServiceError> {
        self.revoke(ctx.actor.user_id, None, tokens).await
    }

    /// An admin ends all of a user's sessions (and, with `tokens`, their API tokens).
    pub async fn revoke_user_sessions(&self, ctx: &Ctx, user_id: Uuid, tokens: bool) -> Result<Revoked, ServiceError> {
        keel_domain::policy::can_administer(&ctx.actor, keel_domain::policy::AdminPower::RevokeSessions)?;
        let schema_users = self.schema();
        let users = schema_users.entity("users").ok_or(crate::ServiceError::NotFound)?;
        let exists = {
            let mut tx = self.db.read().await?;
            records::get(&mut tx, users, user_id, &RowScope::All).await?.is_some()
        };
        if !exists {
            return Err(ServiceError::NotFound);
        }
        self.revoke(user_id, None, tokens).await
    }

    /// End a user's sessions except `keep` (a session secret), e.g. after a password change.
    pub(crate) async fn end_other_sessions(&self, user_id: Uuid, keep: Option<&str>) -> Result<u64, ServiceError> {
        Ok(self.revoke(user_id, keep, false).await?.sessions)
    }

    async fn revoke(&self, user_id: Uuid, keep: Option<&str>, tokens: bool) -> Result<Revoked, ServiceError> {
        let keep = keep.map(secret_hash);
        let mut tx = self.db.write().await?;
        let sessions = store::delete_user_sessions(&mut tx, user_id, keep.as_deref()).await?;
        let tokens = if tokens { store::delete_user_tokens(&mut tx, user_id).await? } else { 0 };
        tx.commit().await?;
        Ok(Revoked { sessions, tokens })
    }
}

/// Called by the user update in its transaction: a user deactivated there loses their
/// sessions at once. (Their tokens stop working too, because every request re-reads the
/// user; they are kept so that reactivating the user restores their integrations.)
pub(crate) async fn after_user_update(
    tx: &mut Tx,
    entity: &EntityDef,
    before: &Record,
    after: &Record,
) -> Result<(), ServiceError> {
    let deactivated =
        after.get("is_active").as_bool() == Some(false) && before.get("is_active").as_bool() != Some(false);
    if entity.name == "users" && deactivated {
        let id = after.id().ok_or(ServiceError::NotFound)?;
        store::delete_user_sessions(tx, id, None).await?;
    }
    Ok(())
}
