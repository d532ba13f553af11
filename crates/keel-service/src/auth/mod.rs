//! Authentication: passwords → sessions (cookie), personal API tokens (bearer), and the
//! Actor every request runs as. Secrets are random 256-bit values; only their SHA-256
//! hashes are stored, so a database leak does not leak live credentials.

mod account;
mod invites;
pub use invites::Invite;
pub mod lockout;
pub mod password;
mod sessions;
pub mod totp;

pub use sessions::Revoked;
pub(crate) use sessions::after_user_update;
pub use totp::{SecondFactor, TotpSetup, TwoFactorStatus};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keel_domain::policy::{Actor, Role, RowScope};
use keel_domain::query::{Filter, ListQuery, Op, Operand};
use keel_domain::value::Value;
use keel_domain::{FieldErrors, Record};
pub use keel_store::auth::ApiToken;
use keel_store::auth::{self as store, NewSession};
use keel_store::records;
use rand::RngCore;
use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::records::Created;
use crate::{Ctx, Service, ServiceError};

const TOKEN_PREFIX: &str = "keel_";

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A fixed argon2 hash to verify against when the email is unknown, so a failed login
/// takes as long whether or not the account exists.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| password::hash("keel-dummy-password").unwrap_or_default())
}

pub struct Login {
    pub session_token: String,
    pub user: Map<String, Json>,
    pub expires_at: time::OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct NewToken {
    pub token: ApiToken,
    /// Shown once; only its hash is stored.
    pub secret: String,
}

fn actor_of(user: &Record) -> Option<Actor> {
    if !user.get("deleted_at").is_null() || user.get("is_active").as_bool() == Some(false) {
        return None;
    }
    // A name that is not built-in is a custom role; `actor_for` loads its definition.
    let role = Role::parse(user.text("role")?).unwrap_or(Role::Custom);
    Some(Actor::new(user.id()?, role, user.get("team_id").as_uuid()))
}

impl Service {
    /// The id of the user with this email (any state), for operators' tools.
    pub async fn user_id_by_email(&self, email: &str) -> Result<Option<Uuid>, ServiceError> {
        Ok(self.user_by("email", Value::Text(email.trim().to_lowercase())).await?.and_then(|u| u.id()))
    }

    async fn user_by(&self, field: &str, value: Value) -> Result<Option<Record>, ServiceError> {
        let schema_users = self.schema();
        let users = schema_users.entity("users").ok_or(crate::ServiceError::NotFound)?;
        let mut tx = self.db.read().await?;
        let mut q = ListQuery::default_for(users);
        q.limit = 1;
        q.filters.push(Filter { field: field.into(), op: Op::Eq, operand: Operand::One(value) });
        Ok(records::list(&mut tx, users, &q, &RowScope::All, &[]).await?.records.into_iter().next())
    }

    pub async fn login(
        &self,
        email: &str,
        password: &str,
        second_factor: Option<&SecondFactor>,
        ip: Option<&str>,
        user_agent: Option<&str>,
    ) -> Result<Login, ServiceError> {
        let email = email.trim().to_lowercase();
        // Counted before the password is checked; refused with 429 while locked out.
        let started = self.begin_login_attempt(&email, ip).await;
        let attempt = self.audit_login_step(started, &email, None, "locked_out", ip, user_agent).await?;
        let user = self.user_by("email", Value::Text(email.clone())).await?;
        let stored = user.as_ref().and_then(|u| u.text("password_hash")).unwrap_or(dummy_hash()).to_string();
        // argon2 is slow on purpose: keep it off the async workers.
        let candidate = password.to_string();
        let ok = tokio::task::spawn_blocking(move || password::verify(&candidate, &stored))
            .await
            .map_err(|e| ServiceError::Internal(format!("password check failed: {e}")))?;
        let actor = user.as_ref().and_then(actor_of);
        if !ok || actor.is_none() {
            let (user_id, reason) = crate::audit::login_failure(user.as_ref(), ok);
            self.audit_login_failed(&email, user_id, reason, ip, user_agent).await?;
        }
        let (Some(user), Some(actor), true) = (user, actor, ok) else {
            return Err(ServiceError::Unauthenticated);
        };
        let second = self.second_factor_for_login(&attempt, actor.user_id, second_factor).await;
        self.audit_login_step(second, &email, Some(actor.user_id), "wrong_second_factor", ip, user_agent).await?;
        let secret = new_secret();
        let now = self.clock.now();
        let expires_at = now + self.config.session_ttl;
        let mut tx = self.db.write().await?;
        store::insert_session(
            &mut tx,
            &NewSession {
                token_hash: &secret_hash(&secret),
                user_id: actor.user_id,
                created_at: now,
                expires_at,
                ip,
                user_agent,
            },
        )
        .await?;
        store::delete_expired_sessions(&mut tx, now).await?;
        self.prune_idle_sessions(&mut tx).await?;
        self.login_attempt_succeeded(&mut tx, &attempt).await?;
        crate::audit::login_succeeded(&mut tx, actor.user_id, now, ip, user_agent).await?;
        tx.commit().await?;
        let schema_users = self.schema();
        let users = schema_users.entity("users").ok_or(crate::ServiceError::NotFound)?;
        Ok(Login { session_token: secret, user: users.public_json(&user), expires_at })
    }

    /// End a session. `origin` and `request_id` go into the audit entry.
    pub async fn logout(
        &self,
        session_token: &str,
        origin: &crate::Origin,
        request_id: Option<&str>,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let hash = secret_hash(session_token);
        let mut tx = self.db.write().await?;
        let user_id = store::session_user(&mut tx, &hash, now).await?;
        store::delete_session(&mut tx, &hash).await?;
        if let Some(user_id) = user_id {
            crate::audit::logged_out(&mut tx, user_id, now, origin, request_id).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn actor_for(&self, user_id: Uuid) -> Result<Actor, ServiceError> {
        let schema_users = self.schema();
        let users = schema_users.entity("users").ok_or(crate::ServiceError::NotFound)?;
        let mut tx = self.db.read().await?;
        let user = records::get(&mut tx, users, user_id, &RowScope::All).await?;
        drop(tx);
        let mut actor = user.as_ref().and_then(actor_of).ok_or(ServiceError::Unauthenticated)?;
        if actor.role != Role::Admin {
            let mut tx = self.db.read().await?;
            actor.managed_teams = keel_store::shares::managed_by(&mut tx, actor.user_id).await?;
        }
        if actor.role == Role::Custom {
            // A missing definition leaves the actor with no CRM rights at all.
            let name = user.as_ref().and_then(|u| u.text("role")).unwrap_or_default();
            actor.custom = self.custom_role(name).await?;
        }
        Ok(actor)
    }

    pub async fn authenticate_session(&self, session_token: &str) -> Result<Actor, ServiceError> {
        // Live: neither expired nor idle past the idle timeout (see `sessions.rs`).
        let user_id = self.live_session_user(session_token).await?;
        self.actor_for(user_id.ok_or(ServiceError::Unauthenticated)?).await
    }

    pub async fn authenticate_token(&self, bearer: &str) -> Result<Actor, ServiceError> {
        if !bearer.starts_with(TOKEN_PREFIX) {
            return Err(ServiceError::Unauthenticated);
        }
        let token = {
            let mut tx = self.db.read().await?;
            store::token_by_hash(&mut tx, &secret_hash(bearer)).await?
        };
        self.actor_for(token.ok_or(ServiceError::Unauthenticated)?.user_id).await
    }

    pub async fn me(&self, ctx: &Ctx) -> Result<Map<String, Json>, ServiceError> {
        self.get(ctx, "users", ctx.actor.user_id).await
    }

    pub async fn create_token(&self, ctx: &Ctx, name: &str) -> Result<NewToken, ServiceError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(FieldErrors::single("name", "invalid_length", "Token name must be 1 to 100 characters").into());
        }
        let secret = format!("{TOKEN_PREFIX}{}", new_secret());
        let token = ApiToken {
            id: Uuid::now_v7(),
            user_id: ctx.actor.user_id,
            name: name.to_string(),
            created_at: self.clock.now(),
            last_used_at: None,
        };
        let mut tx = self.db.write().await?;
        store::insert_token(&mut tx, &token, &secret_hash(&secret)).await?;
        tx.commit().await?;
        Ok(NewToken { token, secret })
    }

    pub async fn list_tokens(&self, ctx: &Ctx) -> Result<Vec<ApiToken>, ServiceError> {
        let mut tx = self.db.read().await?;
        Ok(store::tokens_of(&mut tx, ctx.actor.user_id).await?)
    }

    pub async fn revoke_token(&self, ctx: &Ctx, id: Uuid) -> Result<(), ServiceError> {
        let mut tx = self.db.write().await?;
        if !store::delete_token(&mut tx, ctx.actor.user_id, id).await? {
            return Err(ServiceError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Create a user outside any request (the CLI, first run): runs as the system.
    pub async fn create_user_as_system(
        &self,
        email: &str,
        name: &str,
        role: &str,
        password: &str,
    ) -> Result<Map<String, Json>, ServiceError> {
        let system = Ctx::system(Actor::new(Uuid::nil(), Role::Admin, None));
        let input = json!({ "email": email, "name": name, "role": role, "password": password });
        let Json::Object(input) = input else {
            return Err(ServiceError::Internal("user input is not an object".into()));
        };
        match self.create(&system, "users", input, None).await? {
            Created::New(user) => Ok(user),
            Created::Replayed { .. } => Err(ServiceError::Internal("unexpected replay".into())),
        }
    }

    /// On first start, with no users at all, create an admin and return its password.
    pub async fn bootstrap_admin(&self, email: &str) -> Result<Option<String>, ServiceError> {
        let schema_users = self.schema();
        let users = schema_users.entity("users").ok_or(crate::ServiceError::NotFound)?;
        let count = {
            let mut tx = self.db.read().await?;
            records::count_all(&mut tx, users).await?
        };
        if count > 0 {
            return Ok(None);
        }
        let password = new_secret()[..20].to_string();
        self.create_user_as_system(email, "Administrator", "admin", &password).await?;
        Ok(Some(password))
    }
}
