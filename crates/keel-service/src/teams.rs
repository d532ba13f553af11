//! Who manages a team beyond its own members with the manager role: a manager listed
//! here has `team` scope over the team's records too (one manager over several teams).

use keel_domain::FieldErrors;
use keel_domain::policy::{self, AdminPower};
use keel_store::changes::{self, ChangeOp};
use keel_store::{records, shares};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{AuditAction, Event, Source};
use crate::{Ctx, Service, ServiceError};

impl Service {
    pub async fn team_managers(&self, _ctx: &Ctx, team: Uuid) -> Result<Vec<Uuid>, ServiceError> {
        let schema_teams = self.schema();
        let teams = schema_teams.entity("teams").ok_or(crate::ServiceError::NotFound)?;
        let mut tx = self.db.read().await?;
        if !records::exists_live(&mut tx, teams, team).await? {
            return Err(ServiceError::NotFound);
        }
        Ok(shares::managers_of(&mut tx, team).await?)
    }

    /// Replace a team's managers (admins). Recorded in the change log and audited as
    /// `permission.changed`.
    pub async fn set_team_managers(&self, ctx: &Ctx, team: Uuid, users: &[Uuid]) -> Result<Vec<Uuid>, ServiceError> {
        policy::can_administer(&ctx.actor, AdminPower::ManageTeams)?;
        let mut wanted = users.to_vec();
        wanted.sort();
        wanted.dedup();
        if wanted.len() > 100 {
            return Err(FieldErrors::single("user_ids", "too_many", "A team has at most 100 listed managers").into());
        }
        let schema_teams = self.schema();
        let teams = schema_teams.entity("teams").ok_or(crate::ServiceError::NotFound)?;
        let schema_user_entity = self.schema();
        let user_entity = schema_user_entity.entity("users").ok_or(crate::ServiceError::NotFound)?;
        let mut tx = self.db.write().await?;
        if !records::exists_live(&mut tx, teams, team).await? {
            return Err(ServiceError::NotFound);
        }
        for u in &wanted {
            if !records::exists_live(&mut tx, user_entity, *u).await? {
                return Err(FieldErrors::single("user_ids", "not_found", format!("user {u} does not exist")).into());
            }
        }
        let before = shares::managers_of(&mut tx, team).await?;
        if before == wanted {
            return Ok(before);
        }
        let now = self.clock.now();
        shares::set_managers(&mut tx, team, &wanted, now).await?;
        let diff = json!({ "manager_ids": { "from": before, "to": wanted } });
        let entry = ctx.change(now, "team_managers", team, ChangeOp::Update, diff.clone());
        changes::append(&mut tx, &entry).await?;
        let event = Event {
            action: AuditAction::PermissionChanged,
            entity: Some("teams"),
            record_id: Some(team),
            details: json!({ "kind": "team_managers", "diff": diff }),
        };
        crate::audit::append(&mut tx, Source::of(ctx), now, vec![event]).await?;
        tx.commit().await?;
        Ok(wanted)
    }
}
