//! A signed-in user changing their own password, and the password rules that need the
//! stored user (their email and name) when an admin sets a password through PATCH.

use keel_domain::policy::{self, Role, RowScope};
use keel_domain::{EntityDef, FieldErrors, Record};
use keel_store::records;
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::password;
use crate::{Ctx, Service, ServiceError};

impl Service {
    /// The user record with this id (trashed or not), for the auth use cases.
    pub(crate) async fn user_record(&self, id: Uuid) -> Result<Record, ServiceError> {
        let schema_users = self.schema();
        let users = schema_users.entity("users").ok_or(crate::ServiceError::NotFound)?;
        let mut tx = self.db.read().await?;
        records::get(&mut tx, users, id, &RowScope::All).await?.ok_or(ServiceError::NotFound)
    }

    /// Change the signed-in user's password. `keep_session` is the secret of the session
    /// making the request (if it came with a cookie): every other session ends. A wrong
    /// current password counts towards the sign-in lockout, so a stolen session cannot be
    /// used to guess it.
    pub async fn change_password(
        &self,
        ctx: &Ctx,
        current_password: &str,
        new_password: &str,
        keep_session: Option<&str>,
    ) -> Result<(), ServiceError> {
        let user_id = ctx.actor.user_id;
        let user = self.user_record(user_id).await?;
        let email = user.text("email");
        let attempt = self.begin_login_attempt(email.unwrap_or_default(), ctx.origin.ip.as_deref()).await?;
        if !password::verify(current_password, user.text("password_hash").unwrap_or_default()) {
            return Err(
                FieldErrors::single("current_password", "wrong_password", "The current password is wrong").into()
            );
        }
        if new_password == current_password {
            return Err(FieldErrors::single(
                "new_password",
                "unchanged",
                "The new password must differ from the current one",
            )
            .into());
        }
        password::check_new_password("new_password", new_password, email, user.text("name"))?;
        // The change goes through the one write path (validation, change log with the user
        // as actor). Changing a user record is admin-only in the policy, so this single
        // update of the caller's own password runs with an admin role; nothing else is in
        // its input.
        let own = Ctx { actor: keel_domain::policy::Actor { role: Role::Admin, ..ctx.actor.clone() }, ..ctx.clone() };
        let mut input = Map::new();
        input.insert("password".into(), Json::String(new_password.to_string()));
        self.update(&own, "users", user_id, input, None).await?;
        let mut tx = self.db.write().await?;
        self.login_attempt_succeeded(&mut tx, &attempt).await?;
        tx.commit().await?;
        self.end_other_sessions(user_id, keep_session).await?;
        Ok(())
    }

    /// For PATCH on a user: take `password` out of the input and hash it, checking it
    /// against the stored email and name as well as the ones in the input.
    pub(crate) async fn take_password_for_update(
        &self,
        ctx: &Ctx,
        entity: &EntityDef,
        input: &mut Map<String, Json>,
        id: Uuid,
    ) -> Result<Option<String>, ServiceError> {
        if entity.name == "users"
            && let Some(Json::String(p)) = input.get("password")
        {
            // Read as the actor may see it: a user they cannot see is left to the update
            // itself (404), and says nothing here.
            let user = {
                let mut tx = self.db.read().await?;
                records::get(&mut tx, entity, id, &policy::read_scope(&ctx.actor, entity)).await?
            };
            if let Some(user) = user {
                password::check_new_password("password", p, user.text("email"), user.text("name"))?;
            }
        }
        password::take_from_input(entity, input, false)
    }
}
