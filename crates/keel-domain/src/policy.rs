//! The one place that decides who may see and do what. Every surface (REST today;
//! GraphQL, sync, workflows and the assistant later) asks these functions with an
//! `Actor`. Reads become a `RowScope` that the store renders as SQL, so counts and
//! pagination stay true; a write is checked against `Access`, the facts the service
//! gathers about one record (who owns it, is the owner a teammate, is it shared).
//!
//! The role table (`grants`) and the field rules (`field_rules`) are data: a reviewer can
//! check them against the CRM guide line by line.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::FieldErrors;
use crate::schema::EntityDef;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Rep,
    /// A role an admin defined; its grants travel in `Actor::custom`.
    Custom,
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
            Role::Custom => "custom",
        }
    }
}

/// Who is asking. Built once per request by authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Uuid,
    pub role: Role,
    /// The actor's team (shares to a team reach its members).
    pub team_id: Option<Uuid>,
    /// Further teams the actor manages: their `team` scope covers these too.
    pub managed_teams: Vec<Uuid>,
    /// The definition of a custom role (`role == Role::Custom`).
    pub custom: Option<std::sync::Arc<RoleDef>>,
}

impl Actor {
    /// An actor with a built-in role.
    pub fn new(user_id: Uuid, role: Role, team_id: Option<Uuid>) -> Self {
        Self { user_id, role, team_id, managed_teams: Vec::new(), custom: None }
    }

    /// The teams whose records the `team` scope reaches: the actor's own and those they manage.
    pub fn teams(&self) -> Vec<Uuid> {
        let mut teams: Vec<Uuid> = self.team_id.into_iter().collect();
        for t in &self.managed_teams {
            if !teams.contains(t) {
                teams.push(*t);
            }
        }
        teams
    }
}

/// How far a permission reaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    #[default]
    None,
    /// Records the actor owns (or, for activities, is assigned).
    Own,
    /// Records owned by anyone in the actor's team.
    Team,
    All,
}

/// What one role may do with one entity. Missing keys in a role definition mean "no".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Grants {
    pub read: Scope,
    pub create: bool,
    pub update: Scope,
    pub delete: Scope,
    /// Share a record with a user or team.
    pub share: Scope,
    /// Give a record to another owner.
    pub reassign: bool,
}

const NOTHING: Grants = Grants {
    read: Scope::None,
    create: false,
    update: Scope::None,
    delete: Scope::None,
    share: Scope::None,
    reassign: false,
};

/// Entities whose records roles grant access to (users and teams are the directory).
pub fn is_crm(entity: &str) -> bool {
    matches!(entity, "companies" | "contacts" | "deals" | "activities")
}

/// What the actor's role grants on `entity`: the built-in table or the custom role.
pub fn grants_of(actor: &Actor, entity: &str) -> Grants {
    match (actor.role, &actor.custom) {
        (Role::Custom, Some(def)) if is_crm(entity) => def.permissions.get(entity).copied().unwrap_or(NOTHING),
        (Role::Custom, _) => grants(Role::Custom, entity),
        (role, _) => grants(role, entity),
    }
}

/// The role table, after the CRM guide: reps create and edit their own records, see
/// their team's read-only and delete nothing; managers run their team; admins do all.
pub fn grants(role: Role, entity: &str) -> Grants {
    let all = Grants {
        read: Scope::All,
        create: true,
        update: Scope::All,
        delete: Scope::All,
        share: Scope::All,
        reassign: true,
    };
    match (role, entity) {
        (Role::Admin, _) => all,
        // The directory: everyone may look people and teams up (owner pickers); only admins change it.
        (_, "users" | "teams") => Grants { read: Scope::All, ..NOTHING },
        (Role::Manager, e) if is_crm(e) => Grants {
            read: Scope::Team,
            create: true,
            update: Scope::Team,
            delete: Scope::Team,
            share: Scope::Team,
            reassign: true,
        },
        (Role::Rep, e) if is_crm(e) => Grants {
            read: Scope::Team,
            create: true,
            update: Scope::Own,
            delete: Scope::None,
            share: Scope::Own,
            reassign: false,
        },
        _ => NOTHING,
    }
}

/// A rule narrowing one field below the record's own access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRule {
    pub entity: String,
    pub field: String,
    /// Where the value may be read (`Own` or `All`; elsewhere it reads as null, redacted).
    pub read: Scope,
    /// Where it may be changed.
    pub write: Scope,
}

fn rule(entity: &str, field: &str, read: Scope, write: Scope) -> FieldRule {
    FieldRule { entity: entity.into(), field: field.into(), read, write }
}

/// The guide's field-level rules for the built-in roles: a rep sees deal amounts only on
/// their own deals; contact notes are edited by the contact's owner only.
pub fn builtin_field_rules(role: Role) -> Vec<FieldRule> {
    match role {
        Role::Admin | Role::Custom => Vec::new(),
        Role::Manager => vec![rule("contacts", "notes", Scope::All, Scope::Own)],
        Role::Rep => {
            vec![rule("deals", "amount", Scope::Own, Scope::Own), rule("contacts", "notes", Scope::All, Scope::Own)]
        }
    }
}

/// The field rules that bind this actor.
pub fn field_rules(actor: &Actor) -> Vec<FieldRule> {
    match (actor.role, &actor.custom) {
        (Role::Custom, Some(def)) => def.field_rules.clone(),
        (role, _) => builtin_field_rules(role),
    }
}

/// A role as data: its grants per CRM entity and its field rules. Built-in roles are
/// described the same way (`RoleDef::builtin`) so clients see one shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleDef {
    pub name: String,
    pub label: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub permissions: std::collections::BTreeMap<String, Grants>,
    #[serde(default)]
    pub field_rules: Vec<FieldRule>,
    #[serde(default)]
    pub built_in: bool,
}

impl RoleDef {
    pub fn builtin(role: Role) -> RoleDef {
        let (label, description) = match role {
            Role::Admin => ("Admin", "Everything, including users, settings, exports of all data and purge."),
            Role::Manager => {
                ("Sales Manager", "Views and edits all records of their team; reassigns; exports their team's data.")
            }
            Role::Rep => ("Sales Rep", "Creates and edits own records; views the team's read-only; deletes nothing."),
            Role::Custom => ("Custom", ""),
        };
        RoleDef {
            name: role.as_str().into(),
            label: label.into(),
            description: Some(description.into()),
            permissions: ["companies", "contacts", "deals", "activities"]
                .into_iter()
                .map(|e| (e.to_string(), grants(role, e)))
                .collect(),
            field_rules: builtin_field_rules(role),
            built_in: true,
        }
    }

    /// Check a custom role against the schema: CRM entities only, known fields, and field
    /// rules that the policy can evaluate per record (`none`, `own` or `all`).
    pub fn validate(&self, schema: &crate::schema::Schema) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        let name_ok = (2..=40).contains(&self.name.len())
            && self.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !name_ok {
            errors.push("name", "invalid_name", "A role name is 2 to 40 characters: a-z, 0-9, _ and -");
        } else if Role::parse(&self.name).is_some() || self.name == "custom" {
            errors.push("name", "reserved", format!("`{}` is a built-in role", self.name));
        }
        if self.label.trim().is_empty() || self.label.chars().count() > 100 {
            errors.push("label", "invalid_length", "A role label is 1 to 100 characters");
        }
        for entity in self.permissions.keys() {
            if !is_crm(entity) {
                errors.push(
                    format!("permissions.{entity}"),
                    "unknown_entity",
                    "Roles grant access to companies, contacts, deals and activities",
                );
            }
        }
        for (i, r) in self.field_rules.iter().enumerate() {
            let known = schema.entity(&r.entity).and_then(|e| e.field(&r.field)).is_some_and(|f| !f.hidden);
            if !is_crm(&r.entity) || !known {
                errors.push(
                    format!("field_rules[{i}]"),
                    "unknown_field",
                    format!("{}.{} is not a field", r.entity, r.field),
                );
            }
            if r.read == Scope::Team || r.write == Scope::Team {
                errors.push(format!("field_rules[{i}]"), "unsupported_scope", "Field rules take none, own or all");
            }
        }
        errors.into_result()
    }
}

/// Rows a read may return; the store renders it as a WHERE clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowScope {
    All,
    Restricted(Restriction),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restriction {
    pub user: Uuid,
    /// Also rows owned by members of these teams (`team` scope).
    pub teams: Vec<Uuid>,
    /// The user's own team, through which team shares reach them.
    pub member_team: Option<Uuid>,
    /// Fields naming the user a row belongs to (`owner_id`; activities add `assigned_to`).
    pub owner_fields: Vec<&'static str>,
    /// Rows shared with the user or their team count (the entity can be shared).
    pub shares: bool,
    /// A row is also visible when the record it hangs off is (activities: their
    /// company, contact or deal): (reference field, entity).
    pub parents: Vec<(&'static str, &'static str)>,
}

/// Entities that records can be shared on (the guide's `deal_shares`, generalised).
pub fn shareable(entity: &str) -> bool {
    matches!(entity, "companies" | "contacts" | "deals")
}

pub fn owner_fields(entity: &str) -> Vec<&'static str> {
    if entity == "activities" { vec!["owner_id", "assigned_to"] } else { vec!["owner_id"] }
}

pub fn read_scope(actor: &Actor, entity: &EntityDef) -> RowScope {
    read_scope_named(actor, &entity.name)
}

fn read_scope_named(actor: &Actor, entity: &str) -> RowScope {
    let g = grants_of(actor, entity);
    match g.read {
        Scope::All => RowScope::All,
        scope => RowScope::Restricted(Restriction {
            user: actor.user_id,
            teams: if scope == Scope::Team { actor.teams() } else { Vec::new() },
            member_team: actor.team_id,
            owner_fields: if scope == Scope::None { Vec::new() } else { owner_fields(entity) },
            shares: shareable(entity),
            parents: if entity == "activities" {
                vec![("company_id", "companies"), ("contact_id", "contacts"), ("deal_id", "deals")]
            } else {
                Vec::new()
            },
        }),
    }
}

/// The restriction for a parent entity named in `Restriction::parents`.
pub fn parent_scope(actor: &Actor, parent: &str) -> RowScope {
    read_scope_named(actor, parent)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SharePermission {
    View,
    Edit,
}

impl SharePermission {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "view" => Some(Self::View),
            "edit" => Some(Self::Edit),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::View => "view",
            Self::Edit => "edit",
        }
    }
}

/// What the service found out about one record, relative to the actor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Access {
    /// The actor owns it (or, for activities, is assigned to it).
    pub owned: bool,
    /// Its owner is in a team whose records the actor's `team` scope reaches.
    pub teammate: bool,
    /// The strongest share granting the actor (or their team) access.
    pub share: Option<SharePermission>,
}

impl Access {
    fn within(&self, scope: Scope) -> bool {
        match scope {
            Scope::All => true,
            Scope::Team => self.owned || self.teammate,
            Scope::Own => self.owned,
            Scope::None => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Update,
    Delete,
    Restore,
    Purge,
    ChangeOwner,
    Share,
}

/// Why something was refused. Records the actor may not see answer 404, never this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

pub fn can_create(actor: &Actor, entity: &EntityDef) -> Result<(), Denied> {
    if grants_of(actor, &entity.name).create {
        Ok(())
    } else {
        Err(Denied(format!("your role may not create {}", entity.name)))
    }
}

/// May the actor perform `action` on a record they can see?
pub fn can_modify(actor: &Actor, entity: &EntityDef, access: &Access, action: Action) -> Result<(), Denied> {
    let g = grants_of(actor, &entity.name);
    let name = &entity.name;
    let allowed = match action {
        Action::Update => access.within(g.update) || access.share == Some(SharePermission::Edit),
        Action::Delete | Action::Restore => access.within(g.delete),
        Action::Purge => actor.role == Role::Admin,
        Action::ChangeOwner => g.reassign && access.within(g.update),
        Action::Share => shareable(name) && access.within(g.share),
    };
    if allowed {
        return Ok(());
    }
    Err(Denied(match action {
        Action::Update => format!("you may not edit this {}", entity.singular),
        Action::Delete | Action::Restore => format!("your role may not delete or restore this {}", entity.singular),
        Action::Purge => "only admins may purge records for good".into(),
        Action::ChangeOwner => format!("your role may not reassign this {}", entity.singular),
        Action::Share => format!("you may not share this {}", entity.singular),
    }))
}

/// May the actor make `owner` the owner of a new record? Reps keep what they create.
pub fn can_assign_owner(actor: &Actor, entity: &EntityDef, owner: Uuid) -> Result<(), FieldErrors> {
    if owner == actor.user_id || grants_of(actor, &entity.name).reassign {
        Ok(())
    } else {
        Err(FieldErrors::single("owner_id", "forbidden", "Your role may only create records owned by yourself"))
    }
}

/// The name of the actor's role, as field definitions list roles.
pub fn role_name(actor: &Actor) -> &str {
    match (&actor.custom, actor.role) {
        (Some(def), Role::Custom) => &def.name,
        (_, role) => role.as_str(),
    }
}

/// Rules a custom field's definition sets (`read_roles`, `write_roles`): a role not listed
/// reads it as redacted everywhere or may not write it. Admins are never restricted.
fn definition_rules(actor: &Actor, entity: &EntityDef) -> Vec<FieldRule> {
    if actor.role == Role::Admin {
        return Vec::new();
    }
    let role = role_name(actor);
    let listed = |roles: &Option<Vec<String>>| roles.as_ref().is_none_or(|r| r.iter().any(|n| n == role));
    entity
        .fields
        .iter()
        .filter_map(|f| {
            let read = listed(&f.read_roles);
            let write = read && listed(&f.write_roles);
            if read && write {
                return None;
            }
            let scope = |ok: bool| if ok { Scope::All } else { Scope::None };
            Some(rule(&entity.name, &f.name, scope(read), scope(write)))
        })
        .collect()
}

/// Every field rule binding the actor on this entity: the role's and the fields' own.
pub fn entity_field_rules(actor: &Actor, entity: &EntityDef) -> Vec<FieldRule> {
    let mut rules: Vec<FieldRule> = field_rules(actor).into_iter().filter(|r| r.entity == entity.name).collect();
    rules.extend(definition_rules(actor, entity));
    rules
}

/// Fields of a record this actor must not read, given whether they own it.
pub fn redacted_fields(actor: &Actor, entity: &EntityDef, owned: bool) -> Vec<String> {
    entity_field_rules(actor, entity)
        .into_iter()
        .filter(|r| r.entity == entity.name && !Access { owned, ..Access::default() }.within(r.read))
        .map(|r| r.field)
        .collect()
}

/// Fields readable only on some rows: filtering on them must be limited to those rows,
/// and sorting by them would leak the hidden values' order.
pub fn partially_readable(actor: &Actor, entity: &EntityDef) -> Vec<String> {
    entity_field_rules(actor, entity)
        .into_iter()
        .filter(|r| r.entity == entity.name && r.read != Scope::All)
        .map(|r| r.field)
        .collect()
}

/// Fields the actor may read on no record at all: filtering by them would reveal the
/// hidden values even on the actor's own records, so it is refused like sorting.
pub fn unreadable(actor: &Actor, entity: &EntityDef) -> Vec<String> {
    entity_field_rules(actor, entity).into_iter().filter(|r| r.read == Scope::None).map(|r| r.field).collect()
}

/// Check a write's changed fields against the field rules.
pub fn check_field_writes<'a>(
    actor: &Actor,
    entity: &EntityDef,
    access: &Access,
    changed: impl IntoIterator<Item = &'a str>,
) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    let rules = entity_field_rules(actor, entity);
    for field in changed {
        if rules.iter().filter(|r| r.field == field).any(|rule| !access.within(rule.write)) {
            errors.push(field, "forbidden", format!("Your role may not change `{field}` on this {}", entity.singular));
        }
    }
    errors.into_result()
}

/// The change feed exposes every field of every record: admins only.
pub fn can_read_changes(actor: &Actor) -> Result<(), Denied> {
    if actor.role == Role::Admin { Ok(()) } else { Err(Denied("only admins may read the change log".into())) }
}

/// The audit log shows every change, sign-in and export across all records: admins only.
pub fn can_read_audit(actor: &Actor) -> Result<(), Denied> {
    if actor.role == Role::Admin { Ok(()) } else { Err(Denied("only admins may read the audit log".into())) }
}

/// Deleting old audit entries (retention): admins and the system only.
pub fn can_purge_audit(actor: &Actor) -> Result<(), Denied> {
    if actor.role == Role::Admin { Ok(()) } else { Err(Denied("only admins may purge the audit log".into())) }
}

/// How much one export may take. The numbers are configuration (`ServiceConfig`), not policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportLimit {
    /// Any number of rows, any number of exports (admins: "export of all data").
    Unlimited,
    /// At most the configured rows per export and exports per rolling day.
    Limited,
}

/// May the actor bulk export `entity` (CSV of a list view)? The rows are still those their
/// row scope lets them read, with field rules applied. Reps "cannot bulk export"; managers
/// export their team's CRM records, limited; admins export everything. Based on the role
/// name for now: roles other than these (custom roles) may not export.
pub fn can_export(actor: &Actor, entity: &EntityDef) -> Result<ExportLimit, Denied> {
    let crm = is_crm(&entity.name);
    match actor.role {
        Role::Admin => Ok(ExportLimit::Unlimited),
        Role::Manager if crm => Ok(ExportLimit::Limited),
        Role::Manager => Err(Denied(format!("your role may not export {}", entity.name))),
        _ => Err(Denied("your role cannot bulk export".into())),
    }
}

/// Powers over the system itself, which stay with the built-in admin role (custom roles
/// shape access to CRM records only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminPower {
    /// Define, change and delete roles.
    ManageRoles,
    /// Change who manages a team.
    ManageTeams,
    /// Invite users.
    InviteUsers,
    /// End another user's sessions.
    RevokeSessions,
    /// Define, change, run and inspect workflows, and retry their dead jobs. Workflows act
    /// on any record as the admin who saved them, so this stays with admins.
    ManageWorkflows,
    /// Define, change and inspect outbound webhooks. A subscription receives every
    /// record of the events it names, whoever may read them, so this stays with admins.
    ManageWebhooks,
    /// Add, change, reorder and archive custom fields; edit select options.
    ManageFields,
}

pub fn can_administer(actor: &Actor, power: AdminPower) -> Result<(), Denied> {
    if actor.role == Role::Admin {
        return Ok(());
    }
    Err(Denied(
        match power {
            AdminPower::ManageRoles => "only admins may manage roles",
            AdminPower::ManageTeams => "only admins may change who manages a team",
            AdminPower::InviteUsers => "only admins may invite users",
            AdminPower::RevokeSessions => "only admins may end other users' sessions",
            AdminPower::ManageWorkflows => "only admins may manage workflows",
            AdminPower::ManageWebhooks => "only admins may manage webhooks",
            AdminPower::ManageFields => "only admins may manage fields and their options",
        }
        .into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::builtin_schema;

    fn actor(role: Role) -> Actor {
        Actor::new(Uuid::now_v7(), role, Some(Uuid::now_v7()))
    }

    const OWN: Access = Access { owned: true, teammate: true, share: None };
    const TEAMMATES: Access = Access { owned: false, teammate: true, share: None };
    const STRANGERS: Access = Access { owned: false, teammate: false, share: None };

    #[test]
    fn reps_edit_their_own_deals_only_and_delete_nothing() {
        let s = builtin_schema();
        let deals = s.entity("deals").expect("deals");
        let rep = actor(Role::Rep);
        assert!(can_modify(&rep, deals, &OWN, Action::Update).is_ok());
        assert!(can_modify(&rep, deals, &TEAMMATES, Action::Update).is_err());
        assert!(can_modify(&rep, deals, &OWN, Action::Delete).is_err());
        assert!(can_modify(&rep, deals, &OWN, Action::ChangeOwner).is_err());
    }

    #[test]
    fn an_edit_share_lets_a_rep_edit_but_a_view_share_does_not() {
        let s = builtin_schema();
        let deals = s.entity("deals").expect("deals");
        let rep = actor(Role::Rep);
        let edit = Access { share: Some(SharePermission::Edit), ..STRANGERS };
        let view = Access { share: Some(SharePermission::View), ..STRANGERS };
        assert!(can_modify(&rep, deals, &edit, Action::Update).is_ok());
        assert!(can_modify(&rep, deals, &view, Action::Update).is_err());
    }

    #[test]
    fn managers_run_their_team_and_only_admins_purge() {
        let s = builtin_schema();
        let deals = s.entity("deals").expect("deals");
        let users = s.entity("users").expect("users");
        let manager = actor(Role::Manager);
        assert!(can_modify(&manager, deals, &TEAMMATES, Action::Delete).is_ok());
        assert!(can_modify(&manager, deals, &STRANGERS, Action::Update).is_err());
        assert!(can_modify(&manager, deals, &TEAMMATES, Action::Purge).is_err());
        assert!(can_create(&manager, users).is_err());
        assert!(can_create(&actor(Role::Admin), users).is_ok());
    }

    #[test]
    fn reps_read_deal_amounts_only_on_their_own_deals() {
        let s = builtin_schema();
        let deals = s.entity("deals").expect("deals");
        let rep = actor(Role::Rep);
        assert_eq!(redacted_fields(&rep, deals, false), vec!["amount"]);
        assert!(redacted_fields(&rep, deals, true).is_empty());
        assert!(redacted_fields(&actor(Role::Manager), deals, false).is_empty());
    }

    #[test]
    fn contact_notes_are_edited_by_the_owner_only() {
        let s = builtin_schema();
        let contacts = s.entity("contacts").expect("contacts");
        let manager = actor(Role::Manager);
        assert!(check_field_writes(&manager, contacts, &TEAMMATES, ["notes"]).is_err());
        assert!(check_field_writes(&manager, contacts, &OWN, ["notes", "title"]).is_ok());
        assert!(check_field_writes(&actor(Role::Admin), contacts, &STRANGERS, ["notes"]).is_ok());
    }

    #[test]
    fn only_admins_hold_the_admin_powers() {
        for power in [
            AdminPower::ManageRoles,
            AdminPower::ManageTeams,
            AdminPower::InviteUsers,
            AdminPower::RevokeSessions,
            AdminPower::ManageWorkflows,
            AdminPower::ManageWebhooks,
        ] {
            assert!(can_administer(&actor(Role::Admin), power).is_ok());
            assert!(can_administer(&actor(Role::Manager), power).is_err());
            assert!(can_administer(&actor(Role::Custom), power).is_err());
        }
    }

    #[test]
    fn reps_read_their_team_and_admins_everything() {
        let s = builtin_schema();
        let deals = s.entity("deals").expect("deals");
        let rep = actor(Role::Rep);
        match read_scope(&rep, deals) {
            RowScope::Restricted(r) => {
                assert_eq!(r.teams, rep.team_id.into_iter().collect::<Vec<_>>());
                assert!(r.shares);
            }
            RowScope::All => panic!("reps must not read everything"),
        }
        assert_eq!(read_scope(&actor(Role::Admin), deals), RowScope::All);
    }
}
