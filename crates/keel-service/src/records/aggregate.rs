use keel_domain::policy;
use keel_domain::query::ListQuery;
use keel_domain::schema::FieldType;
use keel_domain::{EntityDef, FieldErrors};
use keel_store::records::{self, Group, SumRule};
use serde_json::{Map, Value as Json, json};

use crate::{Ctx, Service, ServiceError};

/// Fields a summary may be grouped by: ones with few distinct values.
fn groupable(entity: &EntityDef, field: &str) -> bool {
    entity
        .field(field)
        .is_some_and(|f| !f.hidden && matches!(f.ty, FieldType::Select | FieldType::Reference | FieldType::Boolean))
}

fn group_json(g: &Group) -> Json {
    let sums: Map<String, Json> = g.sums.iter().map(|(f, v)| (f.clone(), json!(v))).collect();
    let mut out = json!({ "key": g.key.to_json(), "count": g.count, "sum": sums });
    if let (Some(w), Some(map)) = (g.weighted, out.as_object_mut()) {
        map.insert("weighted_amount".into(), json!(w));
    }
    out
}

impl Service {
    /// Counts and money sums over the records a list with the same filters would show,
    /// optionally grouped (the pipeline's per-stage totals). Sums leave out values the
    /// actor may not read: a rep's deal totals only add up their own amounts.
    pub async fn aggregate(
        &self,
        ctx: &Ctx,
        entity_name: &str,
        query: &ListQuery,
        group_by: Option<&str>,
    ) -> Result<Json, ServiceError> {
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
        let partial = policy::partially_readable(&ctx.actor, entity);
        if let Some(g) = group_by
            && (!groupable(entity, g) || partial.iter().any(|p| p == g))
        {
            return Err(FieldErrors::single(
                "group_by",
                "not_groupable",
                format!("{} cannot be grouped by `{g}`; use a select, reference or yes/no field", entity.label),
            )
            .into());
        }
        let extra = super::read::guard_filters(ctx, entity, query)?;
        let rules = policy::field_rules(&ctx.actor);
        let sums: Vec<(String, SumRule)> = entity
            .fields
            .iter()
            .filter(|f| f.ty == FieldType::Money)
            .map(|f| {
                // A money field readable nowhere sums to 0; one readable on own records
                // only sums those.
                let readable_nowhere =
                    rules.iter().any(|r| r.entity == entity.name && r.field == f.name && r.read == policy::Scope::None);
                let rule = if readable_nowhere {
                    SumRule::Hidden
                } else if partial.contains(&f.name) {
                    SumRule::OwnedBy(ctx.actor.user_id)
                } else {
                    SumRule::All
                };
                (f.name.clone(), rule)
            })
            .collect();
        let scope = policy::read_scope(&ctx.actor, entity);
        let mut tx = self.db.read().await?;
        let groups = records::aggregate(&mut tx, entity, query, &scope, &extra, group_by, &sums).await?;

        let mut total = Group {
            key: keel_domain::Value::Null,
            count: 0,
            sums: sums.iter().map(|(f, _)| (f.clone(), 0)).collect(),
            weighted: groups.first().and_then(|g| g.weighted.map(|_| 0)),
        };
        for g in &groups {
            total.count += g.count;
            for (slot, (_, v)) in total.sums.iter_mut().zip(&g.sums) {
                slot.1 += v;
            }
            if let (Some(t), Some(w)) = (total.weighted.as_mut(), g.weighted) {
                *t += w;
            }
        }
        let mut body = json!({ "total": group_json(&total) });
        if let Some(map) = body.as_object_mut() {
            map.remove("key");
            if let Some(t) = map.get_mut("total").and_then(Json::as_object_mut) {
                t.remove("key");
            }
            if group_by.is_some() {
                map.insert("groups".into(), Json::Array(groups.iter().map(group_json).collect()));
            }
            if !partial.is_empty() {
                map.insert("_redacted_from_sums".into(), json!(partial));
            }
        }
        Ok(body)
    }
}
