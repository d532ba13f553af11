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
    let hidden = policy::unreadable(&ctx.actor, entity);
    if let Some(f) = query.filters.iter().find(|f| hidden.contains(&f.field)) {
        return Err(ServiceError::Forbidden(format!("your role may not filter {} by `{}`", entity.name, f.field)));
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
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
        let mut tx = self.db.read().await?;
        super::load(&mut tx, ctx, entity, id).await
    }

    /// One record as the actor may see it.
    pub async fn get(&self, ctx: &Ctx, entity_name: &str, id: Uuid) -> Result<Map<String, Json>, ServiceError> {
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
        let record = self.get_record(ctx, entity_name, id).await?;
        Ok(present(ctx, entity, &record))
    }

    /// A page of records the actor may see.
    pub async fn list(&self, ctx: &Ctx, entity_name: &str, query: &ListQuery) -> Result<PageView, ServiceError> {
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
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
        let schema_parent = self.schema();
        let parent = schema_parent.entity(parent_name).ok_or(crate::ServiceError::NotFound)?;
        let (child, field) = schema_parent
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
    /// Many records of one entity by id, as the actor may see them (field rules applied),
    /// in one statement: those absent or outside the actor's scope are left out, as
    /// `get` would answer 404 for them. For batched reads (GraphQL's dataloaders).
    pub async fn get_many(
        &self,
        ctx: &Ctx,
        entity_name: &str,
        ids: &[Uuid],
    ) -> Result<Vec<Map<String, Json>>, ServiceError> {
        let schema = self.schema();
        let entity = schema.entity(entity_name).ok_or(ServiceError::NotFound)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let scope = policy::read_scope(&ctx.actor, entity);
        let mut tx = self.db.read().await?;
        let found = records::scoped_by_ids(&mut tx, entity, ids, &scope).await?;
        Ok(found.iter().map(|r| present(ctx, entity, r)).collect())
    }

    /// Related lists for many parents at once: the first `query.limit` `child` records
    /// (filters, search and sort of `query`; no cursor) referencing each parent through
    /// `field`, keyed by parent id. Parents the actor may not see get no list, as
    /// `related` would answer 404 for them. One statement for the parents' scope and one
    /// for the children, however many parents there are.
    pub async fn related_many(
        &self,
        ctx: &Ctx,
        parent_name: &str,
        parent_ids: &[Uuid],
        child_name: &str,
        field: &str,
        query: &ListQuery,
    ) -> Result<std::collections::HashMap<Uuid, Vec<Map<String, Json>>>, ServiceError> {
        let schema = self.schema();
        let parent = schema.entity(parent_name).ok_or(ServiceError::NotFound)?;
        let (child, reference) = schema
            .referencing(&parent.name)
            .into_iter()
            .find(|(e, f)| e.name == child_name && f.name == field)
            .ok_or(ServiceError::NotFound)?;
        let extra = guard_filters(ctx, child, query)?;
        let mut out = std::collections::HashMap::new();
        if parent_ids.is_empty() {
            return Ok(out);
        }
        let mut tx = self.db.read().await?;
        let parent_scope = policy::read_scope(&ctx.actor, parent);
        let visible: Vec<Uuid> = records::scoped_by_ids(&mut tx, parent, parent_ids, &parent_scope)
            .await?
            .iter()
            .filter_map(Record::id)
            .collect();
        for id in &visible {
            out.insert(*id, Vec::new());
        }
        let scope = policy::read_scope(&ctx.actor, child);
        let rows = records::list_by_parents(&mut tx, child, &reference.name, &visible, query, &scope, &extra).await?;
        for r in &rows {
            if let Some(parent_id) = r.get(&reference.name).as_uuid()
                && let Some(list) = out.get_mut(&parent_id)
            {
                list.push(present(ctx, child, r));
            }
        }
        Ok(out)
    }
}
