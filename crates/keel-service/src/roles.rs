//! Roles as data: admins define custom roles (grants per CRM entity with own/team/all
//! scopes, plus field rules) next to the built-in admin, manager and rep. A user's
//! `role` names one of them; every request loads the definition into its `Actor`, so
//! the one policy module evaluates built-in and custom roles alike.

use std::sync::Arc;

use keel_domain::FieldErrors;
use keel_domain::policy::{self, AdminPower, Role, RoleDef};
use keel_store::changes::{self, ChangeOp};
use keel_store::{Tx, roles};
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use crate::audit::{AuditAction, Event, Source};
use crate::{Ctx, Service, ServiceError};

const BUILT_IN: [Role; 3] = [Role::Admin, Role::Manager, Role::Rep];

fn admin_only(ctx: &Ctx) -> Result<(), ServiceError> {
    Ok(policy::can_administer(&ctx.actor, AdminPower::ManageRoles)?)
}

fn parse_stored(stored: &roles::StoredRole) -> Result<RoleDef, ServiceError> {
    serde_json::from_str(&stored.definition)
        .map_err(|e| ServiceError::Internal(format!("stored role {} is not valid: {e}", stored.name)))
}

/// A stable id for a role's change-log entries (roles are keyed by name).
fn role_record_id(name: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, format!("keel-role:{name}").as_bytes())
}

impl Service {
    /// The definition of a custom role, for building an `Actor`.
    pub(crate) async fn custom_role(&self, name: &str) -> Result<Option<Arc<RoleDef>>, ServiceError> {
        let mut tx = self.db.read().await?;
        match roles::get(&mut tx, name).await? {
            Some(stored) => Ok(Some(Arc::new(parse_stored(&stored)?))),
            None => Ok(None),
        }
    }

    /// Does a role of this name exist (built-in or custom)?
    pub(crate) async fn role_exists(&self, tx: &mut Tx, name: &str) -> Result<bool, ServiceError> {
        Ok(Role::parse(name).is_some() || roles::get(tx, name).await?.is_some())
    }

    /// Every role: the built-in ones first, then the custom ones by name.
    pub async fn list_roles(&self, _ctx: &Ctx) -> Result<Vec<RoleDef>, ServiceError> {
        let mut out: Vec<RoleDef> = BUILT_IN.into_iter().map(RoleDef::builtin).collect();
        let mut tx = self.db.read().await?;
        for stored in roles::all(&mut tx).await? {
            out.push(parse_stored(&stored)?);
        }
        Ok(out)
    }

    /// One role by name (anyone signed in may read roles: they explain what a user may do).
    pub async fn get_role(&self, _ctx: &Ctx, name: &str) -> Result<RoleDef, ServiceError> {
        if let Some(role) = Role::parse(name) {
            return Ok(RoleDef::builtin(role));
        }
        self.custom_role(name).await?.map(|r| (*r).clone()).ok_or(ServiceError::NotFound)
    }

    fn decode_role(&self, mut body: Map<String, Json>) -> Result<RoleDef, ServiceError> {
        body.remove("built_in");
        let role: RoleDef = serde_json::from_value(Json::Object(body))
            .map_err(|e| FieldErrors::single("body", "invalid", format!("not a role definition: {e}")))?;
        role.validate(&self.schema())?;
        Ok(role)
    }

    pub async fn create_role(&self, ctx: &Ctx, body: Map<String, Json>) -> Result<RoleDef, ServiceError> {
        admin_only(ctx)?;
        let role = self.decode_role(body)?;
        let definition = serde_json::to_string(&role).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let mut tx = self.db.write().await?;
        if roles::get(&mut tx, &role.name).await?.is_some() {
            return Err(FieldErrors::single("name", "taken", format!("a role named `{}` exists", role.name)).into());
        }
        let now = self.clock.now();
        roles::insert(&mut tx, &role.name, &role.label, &definition, now).await?;
        self.log_role(&mut tx, ctx, ChangeOp::Create, &role.name, None, Some(&role)).await?;
        tx.commit().await?;
        Ok(role)
    }

    /// Replace a custom role's label, description, permissions and field rules (its name
    /// stays). Users holding it get the new rights on their next request.
    pub async fn update_role(
        &self,
        ctx: &Ctx,
        name: &str,
        mut body: Map<String, Json>,
    ) -> Result<RoleDef, ServiceError> {
        admin_only(ctx)?;
        if Role::parse(name).is_some() {
            return Err(ServiceError::conflict(
                "built_in_role",
                "built-in roles cannot be changed; define a custom role",
            ));
        }
        let mut tx = self.db.write().await?;
        let stored = roles::get(&mut tx, name).await?.ok_or(ServiceError::NotFound)?;
        let before = parse_stored(&stored)?;
        if body.get("name").is_some_and(|n| n.as_str() != Some(name)) {
            return Err(FieldErrors::single("name", "read_only", "a role's name cannot change").into());
        }
        let mut merged = serde_json::to_value(&before).map_err(|e| ServiceError::Internal(e.to_string()))?;
        if let Some(m) = merged.as_object_mut() {
            m.extend(std::mem::take(&mut body));
        }
        let Json::Object(merged) = merged else { return Err(ServiceError::Internal("role is not an object".into())) };
        let role = self.decode_role(merged)?;
        let definition = serde_json::to_string(&role).map_err(|e| ServiceError::Internal(e.to_string()))?;
        roles::update(&mut tx, name, &role.label, &definition, self.clock.now()).await?;
        self.log_role(&mut tx, ctx, ChangeOp::Update, name, Some(&before), Some(&role)).await?;
        tx.commit().await?;
        Ok(role)
    }

    pub async fn delete_role(&self, ctx: &Ctx, name: &str) -> Result<(), ServiceError> {
        admin_only(ctx)?;
        if Role::parse(name).is_some() {
            return Err(ServiceError::conflict("built_in_role", "built-in roles cannot be deleted"));
        }
        let mut tx = self.db.write().await?;
        let stored = roles::get(&mut tx, name).await?.ok_or(ServiceError::NotFound)?;
        let holders = roles::holders(&mut tx, name).await?;
        if holders > 0 {
            let mut details = Map::new();
            details.insert("user_count".into(), holders.into());
            return Err(ServiceError::Conflict {
                code: "role_in_use",
                message: format!("{holders} user(s) still have this role; give them another role first"),
                details,
            });
        }
        let before = parse_stored(&stored)?;
        roles::delete(&mut tx, name).await?;
        self.log_role(&mut tx, ctx, ChangeOp::Purge, name, Some(&before), None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Role changes go to the change log (entity `roles`) and the audit log
    /// (`permission.changed`) in the same transaction.
    async fn log_role(
        &self,
        tx: &mut Tx,
        ctx: &Ctx,
        op: ChangeOp,
        name: &str,
        before: Option<&RoleDef>,
        after: Option<&RoleDef>,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let diff = json!({ "definition": { "from": before, "to": after } });
        let entry = ctx.change(now, "roles", role_record_id(name), op, diff.clone());
        changes::append(tx, &entry).await?;
        let event = Event {
            action: AuditAction::PermissionChanged,
            entity: Some("roles"),
            record_id: Some(role_record_id(name)),
            details: json!({ "kind": "role", "role": name, "op": op.as_str(), "diff": diff }),
        };
        crate::audit::append(tx, Source::of(ctx), now, vec![event]).await
    }
}

/// Is `name` acceptable as a user's role? (Checked inside the write transaction.)
pub(crate) async fn check_user_role(service: &Service, tx: &mut Tx, role: Option<&str>) -> Result<(), ServiceError> {
    if let Some(name) = role
        && !service.role_exists(tx, name).await?
    {
        return Err(FieldErrors::single("role", "not_found", format!("there is no role named `{name}`")).into());
    }
    Ok(())
}
