use keel_domain::Record;
use keel_domain::policy;
use keel_domain::query::{Filter, ListQuery, Op, Operand};
use keel_domain::value::Value;
use keel_store::records::{self, Page};
use uuid::Uuid;

use crate::{Ctx, Service, ServiceError};

impl Service {
    /// One record, trashed or not, if the actor may see it.
    pub async fn get(&self, ctx: &Ctx, entity_name: &str, id: Uuid) -> Result<Record, ServiceError> {
        let entity = self.entity(entity_name)?;
        let mut tx = self.db.read().await?;
        super::load(&mut tx, ctx, entity, id).await
    }

    /// A page of records the actor may see.
    pub async fn list(&self, ctx: &Ctx, entity_name: &str, query: &ListQuery) -> Result<Page, ServiceError> {
        let entity = self.entity(entity_name)?;
        let scope = policy::read_scope(&ctx.actor, entity);
        let mut tx = self.db.read().await?;
        Ok(records::list(&mut tx, entity, query, &scope, &[]).await?)
    }

    /// A related list: `child` records that reference the `parent` record (a company's
    /// contacts, a deal's activities). The parent must be visible to the actor.
    pub async fn related(
        &self,
        ctx: &Ctx,
        parent_name: &str,
        parent_id: Uuid,
        child_name: &str,
        query: &ListQuery,
    ) -> Result<Page, ServiceError> {
        let parent = self.entity(parent_name)?;
        let (child, field) = self
            .schema
            .referencing(&parent.name)
            .into_iter()
            .find(|(e, _)| e.name == child_name)
            .ok_or(ServiceError::NotFound)?;
        let mut tx = self.db.read().await?;
        super::load(&mut tx, ctx, parent, parent_id).await?;
        let link = Filter { field: field.name.clone(), op: Op::Eq, operand: Operand::One(Value::Uuid(parent_id)) };
        let scope = policy::read_scope(&ctx.actor, child);
        Ok(records::list(&mut tx, child, query, &scope, &[link]).await?)
    }
}
