use keel_domain::policy;
use keel_domain::query::{Filter, ListQuery, Op, Operand};
use keel_domain::value::Value;
use keel_domain::{EntityDef, Record};
use keel_store::records::{self, Page};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::{PageView, present};
use crate::{Ctx, Service, ServiceError};

/// Filters and sorts may not reveal what field rules hide: a filter on a field the actor
/// can read only on their own records is limited to their own records, and sorting by
/// such a field (which would leak the order of hidden values) is refused.
pub(super) fn guard_filters(ctx: &Ctx, entity: &EntityDef, query: &ListQuery) -> Result<Vec<Filter>, ServiceError> {
    let partial = policy::partially_readable(&ctx.actor, entity);
    if partial.is_empty() {
        return Ok(Vec::new());
    }
    if partial.contains(&query.sort.field) {
        return Err(ServiceError::Forbidden(format!(
            "your role may not sort {} by `{}`",
            entity.name, query.sort.field
        )));
    }
    if query.filters.iter().any(|f| partial.contains(&f.field)) {
        return Ok(vec![Filter {
            field: "owner_id".into(),
            op: Op::Eq,
            operand: Operand::One(Value::Uuid(ctx.actor.user_id)),
        }]);
    }
    Ok(Vec::new())
}

fn view(ctx: &Ctx, entity: &EntityDef, page: Page) -> PageView {
    PageView {
        data: page.records.iter().map(|r| present(ctx, entity, r)).collect(),
        next_cursor: page.next_cursor,
        total: page.total,
    }
}

impl Service {
    /// One record, trashed or not, if the actor may see it (as stored, for internal use).
    pub async fn get_record(&self, ctx: &Ctx, entity_name: &str, id: Uuid) -> Result<Record, ServiceError> {
        let entity = self.entity(entity_name)?;
        let mut tx = self.db.read().await?;
        super::load(&mut tx, ctx, entity, id).await
    }

    /// One record as the actor may see it.
    pub async fn get(&self, ctx: &Ctx, entity_name: &str, id: Uuid) -> Result<Map<String, Json>, ServiceError> {
        let entity = self.entity(entity_name)?;
        let record = self.get_record(ctx, entity_name, id).await?;
        Ok(present(ctx, entity, &record))
    }

    /// A page of records the actor may see.
    pub async fn list(&self, ctx: &Ctx, entity_name: &str, query: &ListQuery) -> Result<PageView, ServiceError> {
        let entity = self.entity(entity_name)?;
        let extra = guard_filters(ctx, entity, query)?;
        let scope = policy::read_scope(&ctx.actor, entity);
        let mut tx = self.db.read().await?;
        let page = records::list(&mut tx, entity, query, &scope, &extra).await?;
        Ok(view(ctx, entity, page))
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
    ) -> Result<PageView, ServiceError> {
        let parent = self.entity(parent_name)?;
        let (child, field) = self
            .schema
            .referencing(&parent.name)
            .into_iter()
            .find(|(e, _)| e.name == child_name)
            .ok_or(ServiceError::NotFound)?;
        let mut extra = guard_filters(ctx, child, query)?;
        let mut tx = self.db.read().await?;
        super::load(&mut tx, ctx, parent, parent_id).await?;
        extra.push(Filter { field: field.name.clone(), op: Op::Eq, operand: Operand::One(Value::Uuid(parent_id)) });
        let scope = policy::read_scope(&ctx.actor, child);
        let page = records::list(&mut tx, child, query, &scope, &extra).await?;
        Ok(view(ctx, child, page))
    }
}
