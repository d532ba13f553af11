//! Invitations: an admin creates a user without knowing their password and hands them a
//! one-time link; the user chooses their password with it. Until then the account has a
//! random password nobody knows. (Sending the link by email arrives with SMTP support.)

use keel_domain::FieldErrors;
use keel_domain::policy::{Actor, Role};
use keel_store::invites;
use serde_json::{Map, Value as Json};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{new_secret, password, secret_hash};
use crate::records::Created;
use crate::{Ctx, Service, ServiceError};

/// How long an invitation stays good.
const INVITE_LIFETIME: time::Duration = time::Duration::days(7);

#[derive(Debug, Clone)]
pub struct Invite {
    pub user: Map<String, Json>,
    /// Shown once; only its hash is stored.
    pub token: String,
    pub expires_at: OffsetDateTime,
}

impl Service {
    /// Create a user (as `POST /api/v1/users` would, without a password) and an invitation.
    pub async fn invite_user(&self, ctx: &Ctx, mut input: Map<String, Json>) -> Result<Invite, ServiceError> {
        if input.contains_key("password") {
            return Err(FieldErrors::single("password", "read_only", "Invited users choose their own password").into());
        }
        // A throwaway secret satisfies the create path; it is never shown to anyone.
        input.insert("password".into(), Json::String(format!("{}{}", new_secret(), new_secret())));
        let user = match self.create(ctx, "users", input, None).await? {
            Created::New(user) => user,
            Created::Replayed { .. } => return Err(ServiceError::Internal("unexpected replay".into())),
        };
        let id = user.get("id").and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok());
        let id = id.ok_or_else(|| ServiceError::Internal("created user has no id".into()))?;
        let (token, expires_at) = self.issue_invite(ctx, id).await?;
        Ok(Invite { user, token, expires_at })
    }

    /// A fresh invitation for an existing user (the first one expired or got lost).
    pub async fn reinvite_user(&self, ctx: &Ctx, user_id: Uuid) -> Result<Invite, ServiceError> {
        let user = self.get(ctx, "users", user_id).await?;
        let (token, expires_at) = self.issue_invite(ctx, user_id).await?;
        Ok(Invite { user, token, expires_at })
    }

    async fn issue_invite(&self, ctx: &Ctx, user_id: Uuid) -> Result<(String, OffsetDateTime), ServiceError> {
        keel_domain::policy::can_administer(&ctx.actor, keel_domain::policy::AdminPower::InviteUsers)?;
        let token = new_secret();
        let now = self.clock.now();
        let expires_at = now + INVITE_LIFETIME;
        let mut tx = self.db.write().await?;
        invites::insert(&mut tx, &secret_hash(&token), user_id, Some(ctx.actor.user_id), now, expires_at).await?;
        tx.commit().await?;
        Ok((token, expires_at))
    }

    /// Set the invited user's password. The token works once and for a week; a password
    /// that breaks the rules is refused without using the token up.
    pub async fn accept_invite(&self, token: &str, new_password: &str) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let hash = secret_hash(token);
        let invalid = || FieldErrors::single("token", "invalid", "This invitation is unknown, used or expired");
        let user_id = {
            let mut tx = self.db.read().await?;
            invites::peek(&mut tx, &hash, now).await?
        };
        let user_id = user_id.ok_or_else(invalid)?;
        let system = Ctx::system(Actor::new(Uuid::nil(), Role::Admin, None));
        let user = self.get_record(&system, "users", user_id).await?;
        password::check_new_password("password", new_password, user.text("email"), user.text("name"))?;
        let consumed = {
            let mut tx = self.db.write().await?;
            let user = invites::consume(&mut tx, &hash, now).await?;
            tx.commit().await?;
            user
        };
        if consumed != Some(user_id) {
            return Err(invalid().into());
        }
        let mut input = Map::new();
        input.insert("password".into(), Json::String(new_password.to_string()));
        self.update(&system, "users", user_id, input, None).await?;
        Ok(())
    }
}
