//! The one place that decides who may see and do what. Every surface (REST today;
//! GraphQL, sync, workflows and the assistant later) asks these functions with an
//! `Actor`. Reads become a `RowScope` that the store turns into SQL, so counts and
//! pagination stay true. This is the foundation's stand-in (roles + ownership); the
//! security issue grows it into teams, sharing and field rules without moving it.

use serde::Serialize;
use uuid::Uuid;

use crate::schema::EntityDef;
use crate::value::Record;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Rep,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "manager" => Some(Role::Manager),
            "rep" => Some(Role::Rep),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Rep => "rep",
        }
    }
}

/// Who is asking. Built once per request by authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Uuid,
    pub role: Role,
    pub team_id: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
    Restore,
    Purge,
    ChangeOwner,
}

/// Which rows a read may return; the store renders it as a WHERE clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowScope {
    All,
    OwnedBy(Uuid),
}

/// Why something was refused. Reads the actor may not make answer 404, never this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

fn is_directory(entity: &EntityDef) -> bool {
    matches!(entity.name.as_str(), "users" | "teams")
}

pub fn read_scope(_actor: &Actor, _entity: &EntityDef) -> RowScope {
    // Everyone in the company sees every record until teams and sharing arrive.
    RowScope::All
}

pub fn can_create(actor: &Actor, entity: &EntityDef) -> Result<(), Denied> {
    if is_directory(entity) && actor.role != Role::Admin {
        return Err(Denied(format!("only admins may create {}", entity.name)));
    }
    Ok(())
}

/// May the actor make this record's owner `owner`? Reps keep what they create.
pub fn can_assign_owner(actor: &Actor, owner: Uuid) -> Result<(), Denied> {
    if actor.role == Role::Rep && owner != actor.user_id {
        return Err(Denied("sales reps can only own records themselves; ask a manager to reassign".into()));
    }
    Ok(())
}

/// May the actor perform `action` on an existing record?
pub fn can_modify(actor: &Actor, entity: &EntityDef, record: &Record, action: Action) -> Result<(), Denied> {
    if actor.role == Role::Admin {
        return Ok(());
    }
    if is_directory(entity) {
        return Err(Denied(format!("only admins may change {}", entity.name)));
    }
    match (actor.role, action) {
        (_, Action::Purge) => Err(Denied("only admins may purge records for good".into())),
        (Role::Manager, _) => Ok(()),
        (Role::Rep, Action::Update) => {
            let mine =
                record.owner_id() == Some(actor.user_id) || record.get("assigned_to").as_uuid() == Some(actor.user_id);
            if mine { Ok(()) } else { Err(Denied(format!("you can only edit {} you own", entity.name))) }
        }
        (Role::Rep, Action::ChangeOwner) => Err(Denied("only managers and admins may reassign records".into())),
        (Role::Rep, _) => Err(Denied(format!("sales reps cannot delete or restore {}", entity.name))),
        (Role::Admin, _) => Ok(()),
    }
}

/// The change feed exposes every field of every record: admins only, for now.
pub fn can_read_changes(actor: &Actor) -> Result<(), Denied> {
    if actor.role == Role::Admin { Ok(()) } else { Err(Denied("only admins may read the change log".into())) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::builtin_schema;
    use crate::value::Value;

    fn actor(role: Role) -> Actor {
        Actor { user_id: Uuid::now_v7(), role, team_id: None }
    }

    fn owned_by(id: Uuid) -> Record {
        let mut r = Record::new();
        r.set("owner_id", Value::Uuid(id));
        r
    }

    #[test]
    fn reps_edit_their_own_deals_but_not_others() {
        let s = builtin_schema();
        let deals = s.entity("deals").expect("deals");
        let rep = actor(Role::Rep);
        assert!(can_modify(&rep, deals, &owned_by(rep.user_id), Action::Update).is_ok());
        assert!(can_modify(&rep, deals, &owned_by(Uuid::now_v7()), Action::Update).is_err());
        assert!(can_modify(&rep, deals, &owned_by(rep.user_id), Action::Delete).is_err());
    }

    #[test]
    fn only_admins_purge_and_manage_users() {
        let s = builtin_schema();
        let deals = s.entity("deals").expect("deals");
        let users = s.entity("users").expect("users");
        let manager = actor(Role::Manager);
        assert!(can_modify(&manager, deals, &owned_by(Uuid::now_v7()), Action::Delete).is_ok());
        assert!(can_modify(&manager, deals, &owned_by(Uuid::now_v7()), Action::Purge).is_err());
        assert!(can_create(&manager, users).is_err());
        assert!(can_create(&actor(Role::Admin), users).is_ok());
    }
}
