//! The GraphQL schema, generated from the entity metadata (`keel_domain::schema`) with
//! async-graphql's dynamic API: custom fields are more `FieldDef`s, so the schema is
//! built at run time, never written out by hand.
//!
//! Per entity (type name from its singular: `deals` → `Deal`):
//! - `type Deal`: its visible fields under their REST names (`amount`, `company_id`,
//!   `_redacted`), a field per reference (`company_id` → `company: Company`) and a list
//!   per entity referencing it (`company { deals(filter, q, sort, limit) }`);
//! - `deals(first, after, filter, q, sort, trashed): DealConnection!` (Relay-style,
//!   forward-only, on the service's keyset pagination) and `deal(id: ID!): Deal`;
//! - for CRM entities, `createDeal(input)`, `updateDeal(id, input, expectedVersion)` and
//!   `deleteDeal(id, cascade)`.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputObject, InputValue, Object, ResolverContext, Scalar, Schema as GqlSchema,
    SchemaError, TypeRef, ValueAccessor,
};
use async_graphql::{Error, Value as GqlValue};
use keel_domain::query::{ListQuery, encode_cursor_json, parse_list_query};
use keel_domain::schema::{Access, EntityDef, FieldType, Schema};
use keel_service::records::{Created, PageView};
use keel_service::{Ctx, Service};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::errors::{api_error, service_error};
use super::loaders::{Rec, RefKey, RefLoader, RelKey, RelLoader};
use crate::error::ApiError;

/// Deepest selection accepted (`companies.edges.node.deals.company.name` is 6).
pub const MAX_DEPTH: usize = 10;
/// Most fields one operation may select (each field counts 1, async-graphql's measure).
pub const MAX_COMPLEXITY: usize = 500;

/// What a request's resolvers work with: the service and who is asking.
pub struct Env {
    pub service: Service,
    pub ctx: Ctx,
}

/// The page a connection field resolved to.
struct Conn {
    records: Vec<Rec>,
    cursors: Vec<String>,
    next_cursor: Option<String>,
    total: Option<i64>,
}

struct Edge {
    record: Rec,
    cursor: String,
}

struct PageInfo {
    has_next: bool,
    start: Option<String>,
    end: Option<String>,
}

/// `deals` → `Deal`, `sales_reps` → `SalesRep` (from the singular).
pub fn type_name(entity: &EntityDef) -> String {
    entity
        .singular
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut cs = p.chars();
            cs.next().map(|c| c.to_ascii_uppercase().to_string() + cs.as_str()).unwrap_or_default()
        })
        .collect()
}

/// A GraphQL name: `[_A-Za-z][_0-9A-Za-z]*`, not starting with `__` (reserved).
fn valid_name(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && cs.all(|c| c == '_' || c.is_ascii_alphanumeric())
        && !s.starts_with("__")
}

fn output_type(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Id | FieldType::Reference => TypeRef::ID,
        FieldType::Integer | FieldType::Money => "Int64",
        FieldType::Percent => TypeRef::INT,
        FieldType::Boolean => TypeRef::BOOLEAN,
        FieldType::Date => "Date",
        FieldType::Timestamp => "DateTime",
        _ => TypeRef::STRING,
    }
}

fn filter_type(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Id | FieldType::Reference => "IDFilter",
        FieldType::Integer | FieldType::Money | FieldType::Percent => "IntFilter",
        FieldType::Boolean => "BooleanFilter",
        FieldType::Date => "DateFilter",
        FieldType::Timestamp => "DateTimeFilter",
        _ => "StringFilter",
    }
}

/// Fields of `entity` GraphQL shows: visible, with a valid name.
fn gql_fields(entity: &EntityDef) -> impl Iterator<Item = &keel_domain::FieldDef> {
    entity.visible_fields().filter(|f| valid_name(&f.name))
}

/// Name of the object field for reference `field`: `company_id` → `company`,
/// `assigned_to` → `assigned_to_user`; never one of the entity's own field names.
fn reference_name(entity: &EntityDef, field: &keel_domain::FieldDef, target: &EntityDef) -> String {
    let base = match field.name.strip_suffix("_id") {
        Some(stem) if !stem.is_empty() => stem.to_string(),
        _ => format!("{}_{}", field.name, target.singular),
    };
    let mut name = base;
    while entity.field(&name).is_some() {
        name.push_str("_record");
    }
    name
}

/// The related lists of `entity`: (list field name, child entity, reference field).
fn related_lists<'a>(schema: &'a Schema, entity: &EntityDef) -> Vec<(String, &'a EntityDef, String)> {
    let refs = schema.referencing(&entity.name);
    let mut out = Vec::new();
    let mut taken: BTreeSet<String> = entity.fields.iter().map(|f| f.name.clone()).collect();
    for (child, field) in &refs {
        if !valid_name(&child.name) || !valid_name(&field.name) {
            continue;
        }
        let same_child = refs.iter().filter(|(c, _)| c.name == child.name).count();
        let mut name = if same_child == 1 {
            child.name.clone()
        } else {
            format!("{}_by_{}", child.name, field.name.strip_suffix("_id").unwrap_or(&field.name))
        };
        while taken.contains(&name) {
            name.push_str("_list");
        }
        taken.insert(name.clone());
        out.push((name, *child, field.name.clone()));
    }
    out
}

fn parent_rec<'a>(ctx: &ResolverContext<'a>) -> Result<&'a Rec, Error> {
    ctx.parent_value.try_downcast_ref::<Rec>()
}

fn env<'a>(ctx: &ResolverContext<'a>) -> Result<&'a Env, Error> {
    ctx.data::<Env>()
}

fn parse_id(raw: &str) -> Result<Uuid, Error> {
    crate::extract::parse_id(raw).map_err(api_error)
}

/// A filter operand as the REST query string writes it.
fn raw_operand(v: &GqlValue) -> Option<String> {
    match v {
        GqlValue::Null => None,
        GqlValue::String(s) => Some(s.clone()),
        GqlValue::Enum(s) => Some(s.to_string()),
        GqlValue::Number(n) => Some(n.to_string()),
        GqlValue::Boolean(b) => Some(b.to_string()),
        GqlValue::List(items) => Some(items.iter().filter_map(raw_operand).collect::<Vec<_>>().join(",")),
        _ => Some(String::new()),
    }
}

/// The list arguments as REST query pairs, parsed by the same `parse_list_query`: the
/// same operators, limits, validation and error codes as `GET /api/v1/{entity}`.
/// `first`/`after` map to `limit`/`cursor` and are named so in errors.
fn list_query(entity: &EntityDef, ctx: &ResolverContext<'_>, count: bool, top: bool) -> Result<ListQuery, Error> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let text = |v: ValueAccessor<'_>| v.as_value().clone();
    let (limit_arg, cursor_arg) = if top { ("first", Some("after")) } else { ("limit", None) };
    if let Some(v) = ctx.args.get(limit_arg).map(text).and_then(|v| raw_operand(&v)) {
        pairs.push(("limit".into(), v));
    }
    if let Some(name) = cursor_arg
        && let Some(v) = ctx.args.get(name).map(text).and_then(|v| raw_operand(&v))
    {
        pairs.push(("cursor".into(), v));
    }
    for name in ["q", "sort", "trashed"] {
        if let Some(v) = ctx.args.get(name).map(text).and_then(|v| raw_operand(&v)) {
            pairs.push((name.into(), v));
        }
    }
    if let Some(filter) = ctx.args.get("filter")
        && let Ok(obj) = filter.object()
    {
        for (field, ops) in obj.iter() {
            let Ok(ops) = ops.object() else { continue };
            for (op, v) in ops.iter() {
                if let Some(raw) = raw_operand(v.as_value()) {
                    pairs.push((format!("{field}[{op}]"), raw));
                }
            }
        }
    }
    let mut query = parse_list_query(entity, &pairs).map_err(|mut errors| {
        for e in &mut errors.0 {
            match e.field.as_str() {
                "limit" => e.field = limit_arg.to_string(),
                "cursor" => e.field = "after".to_string(),
                _ => {}
            }
        }
        api_error(ApiError::invalid_query(errors))
    })?;
    query.count = count;
    Ok(query)
}

/// The input object of a mutation as the JSON body REST takes (explicit nulls kept).
fn input_body(ctx: &ResolverContext<'_>) -> Result<Map<String, Json>, Error> {
    let input = ctx.args.try_get("input")?.object()?;
    let mut body = Map::new();
    for (k, v) in input.iter() {
        let json = v.as_value().clone().into_json().map_err(|e| Error::new(format!("`{k}`: {e}")))?;
        body.insert(k.to_string(), json);
    }
    Ok(body)
}

fn record_object(schema: &Schema, entity: &EntityDef) -> Object {
    let mut obj = Object::new(type_name(entity)).description(format!("{} (`/api/v1/{}`)", entity.label, entity.name));
    for f in gql_fields(entity) {
        let name = f.name.clone();
        let ty = if f.name == "id" { TypeRef::named_nn(TypeRef::ID) } else { TypeRef::named(output_type(f.ty)) };
        let mut field = Field::new(f.name.clone(), ty, move |ctx| {
            let name = name.clone();
            FieldFuture::new(async move {
                let rec = parent_rec(&ctx)?;
                match rec.get(&name) {
                    None | Some(Json::Null) => Ok(None),
                    Some(v) => Ok(Some(FieldValue::value(GqlValue::from_json(v.clone())?))),
                }
            })
        });
        field = field.description(f.help.clone().unwrap_or_else(|| f.label.clone()));
        obj = obj.field(field);
    }
    obj = obj.field(
        Field::new("_redacted", TypeRef::named_list(TypeRef::STRING), |ctx| {
            FieldFuture::new(async move {
                let rec = parent_rec(&ctx)?;
                match rec.get("_redacted") {
                    Some(v) => Ok(Some(FieldValue::value(GqlValue::from_json(v.clone())?))),
                    None => Ok(None),
                }
            })
        })
        .description("Fields your role may not read on this record (shown as null)"),
    );
    // References: `company_id` → `company`.
    for f in gql_fields(entity).filter(|f| f.ty == FieldType::Reference) {
        let Some(target) = f.reference.as_deref().and_then(|t| schema.entity(t)) else { continue };
        if !valid_name(&target.name) {
            continue;
        }
        let field_name = f.name.clone();
        let target_name = target.name.clone();
        obj = obj.field(
            Field::new(reference_name(entity, f, target), TypeRef::named(type_name(target)), move |ctx| {
                let field_name = field_name.clone();
                let target_name = target_name.clone();
                FieldFuture::new(async move {
                    let rec = parent_rec(&ctx)?;
                    let Some(id) = rec.get(&field_name).and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok())
                    else {
                        return Ok(None);
                    };
                    let loader = ctx.data::<DataLoader<RefLoader>>()?;
                    let found = loader.load_one(RefKey { entity: target_name, id }).await?;
                    Ok(found.map(FieldValue::owned_any))
                })
            })
            .description(format!("The record `{}` refers to", f.name)),
        );
    }
    // Related lists: `company { contacts }`.
    for (list_name, child, field) in related_lists(schema, entity) {
        let parent_entity = entity.name.clone();
        let child_name = child.name.clone();
        let child_def = child.clone();
        let description = format!("{} whose `{field}` is this {}", child.label, entity.singular);
        let f = Field::new(list_name, TypeRef::named_nn_list_nn(type_name(child)), move |ctx| {
            let parent_entity = parent_entity.clone();
            let child_name = child_name.clone();
            let field = field.clone();
            let child_def = child_def.clone();
            FieldFuture::new(async move {
                let rec = parent_rec(&ctx)?;
                let Some(parent) = rec.get("id").and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok()) else {
                    return Ok(Some(FieldValue::list(Vec::<FieldValue>::new())));
                };
                let query = list_query(&child_def, &ctx, false, false)?;
                let loader = ctx.data::<DataLoader<RelLoader>>()?;
                let query_key = loader.loader().register(query);
                let key = RelKey { parent_entity, child: child_name, field, query_key, parent };
                let list = loader.load_one(key).await?.unwrap_or_default();
                Ok(Some(FieldValue::list(list.iter().map(|r| FieldValue::owned_any(r.clone())).collect::<Vec<_>>())))
            })
        })
        .description(description)
        .argument(InputValue::new("filter", TypeRef::named(format!("{}Filter", type_name(child)))));
        obj = obj.field(list_args(f, false));
    }
    obj
}

fn list_args(f: Field, top: bool) -> Field {
    let f = if top {
        f.argument(
            InputValue::new("first", TypeRef::named(TypeRef::INT)).description("Page size, 1 to 200 (default 25)"),
        )
        .argument(
            InputValue::new("after", TypeRef::named(TypeRef::STRING)).description("`endCursor` of the previous page"),
        )
        .argument(InputValue::new("trashed", TypeRef::named(TypeRef::BOOLEAN)).description("List the trash instead"))
    } else {
        f.argument(
            InputValue::new("limit", TypeRef::named(TypeRef::INT))
                .description("Most records per parent, 1 to 200 (default 25)"),
        )
    };
    f.argument(InputValue::new("q", TypeRef::named(TypeRef::STRING)).description("Full-text search")).argument(
        InputValue::new("sort", TypeRef::named(TypeRef::STRING))
            .description("A sortable field, `-` first for descending: `-amount`"),
    )
}

fn filter_input(entity: &EntityDef) -> InputObject {
    let mut obj = InputObject::new(format!("{}Filter", type_name(entity)))
        .description(format!("Filters on {}; all given conditions must hold", entity.label));
    for f in gql_fields(entity) {
        obj = obj.field(InputValue::new(f.name.clone(), TypeRef::named(filter_type(f.ty))));
    }
    obj
}

fn record_input(entity: &EntityDef) -> InputObject {
    let mut obj = InputObject::new(format!("{}Input", type_name(entity))).description(format!(
        "Fields of a {} to set; on update, only those given change (null clears). Required fields are checked \
         as in REST, with the same error codes.",
        entity.singular
    ));
    for f in gql_fields(entity).filter(|f| f.access == Access::Writable) {
        obj = obj.field(InputValue::new(f.name.clone(), TypeRef::named(output_type(f.ty))));
    }
    obj
}

/// `StringFilter`, `IntFilter`… : the REST operators, each an optional field.
fn scalar_filters() -> Vec<InputObject> {
    let mut out = Vec::new();
    for (name, scalar, ordered, contains) in [
        ("StringFilter", TypeRef::STRING, true, true),
        ("IntFilter", "Int64", true, false),
        ("DateFilter", "Date", true, false),
        ("DateTimeFilter", "DateTime", true, false),
        ("IDFilter", TypeRef::ID, false, false),
        ("BooleanFilter", TypeRef::BOOLEAN, false, false),
    ] {
        let mut obj = InputObject::new(name)
            .field(InputValue::new("eq", TypeRef::named(scalar)))
            .field(InputValue::new("ne", TypeRef::named(scalar)).description("Not equal (includes empty values)"));
        if ordered {
            for op in ["lt", "lte", "gt", "gte"] {
                obj = obj.field(InputValue::new(op, TypeRef::named(scalar)));
            }
        }
        if scalar != TypeRef::BOOLEAN {
            obj =
                obj.field(InputValue::new("in", TypeRef::named_nn_list(scalar)).description("One of up to 500 values"));
        }
        if contains {
            obj = obj.field(
                InputValue::new("contains", TypeRef::named(TypeRef::STRING)).description("Case-insensitive substring"),
            );
        }
        obj = obj.field(InputValue::new("is_null", TypeRef::named(TypeRef::BOOLEAN)));
        out.push(obj);
    }
    out
}

fn connection_types(entity: &EntityDef) -> (Object, Object) {
    let t = type_name(entity);
    let edge = Object::new(format!("{t}Edge"))
        .field(Field::new("cursor", TypeRef::named_nn(TypeRef::STRING), |ctx| {
            FieldFuture::new(async move {
                let e = ctx.parent_value.try_downcast_ref::<Edge>()?;
                Ok(Some(FieldValue::value(GqlValue::String(e.cursor.clone()))))
            })
        }))
        .field(Field::new("node", TypeRef::named_nn(t.clone()), |ctx| {
            FieldFuture::new(async move {
                let e = ctx.parent_value.try_downcast_ref::<Edge>()?;
                Ok(Some(FieldValue::owned_any(e.record.clone())))
            })
        }));
    let conn = Object::new(format!("{t}Connection"))
        .field(Field::new("edges", TypeRef::named_nn_list_nn(format!("{t}Edge")), |ctx| {
            FieldFuture::new(async move {
                let c = ctx.parent_value.try_downcast_ref::<Conn>()?;
                let edges = c
                    .records
                    .iter()
                    .zip(&c.cursors)
                    .map(|(r, cursor)| FieldValue::owned_any(Edge { record: r.clone(), cursor: cursor.clone() }));
                Ok(Some(FieldValue::list(edges.collect::<Vec<_>>())))
            })
        }))
        .field(Field::new("nodes", TypeRef::named_nn_list_nn(t.clone()), |ctx| {
            FieldFuture::new(async move {
                let c = ctx.parent_value.try_downcast_ref::<Conn>()?;
                Ok(Some(FieldValue::list(
                    c.records.iter().map(|r| FieldValue::owned_any(r.clone())).collect::<Vec<_>>(),
                )))
            })
        }))
        .field(Field::new("pageInfo", TypeRef::named_nn("PageInfo"), |ctx| {
            FieldFuture::new(async move {
                let c = ctx.parent_value.try_downcast_ref::<Conn>()?;
                Ok(Some(FieldValue::owned_any(PageInfo {
                    has_next: c.next_cursor.is_some(),
                    start: c.cursors.first().cloned(),
                    end: c.next_cursor.clone().or_else(|| c.cursors.last().cloned()),
                })))
            })
        }))
        .field(
            Field::new("totalCount", TypeRef::named(TypeRef::INT), |ctx| {
                FieldFuture::new(async move {
                    let c = ctx.parent_value.try_downcast_ref::<Conn>()?;
                    Ok(c.total.map(|n| FieldValue::value(GqlValue::from(n))))
                })
            })
            .description("Records matching the filters (counted only when selected)"),
        );
    (conn, edge)
}

fn page_info() -> Object {
    fn info<'a>(ctx: &ResolverContext<'a>) -> Result<&'a PageInfo, Error> {
        ctx.parent_value.try_downcast_ref::<PageInfo>()
    }
    Object::new("PageInfo")
        .description("Forward pagination: pass `endCursor` as `after` while `hasNextPage`")
        .field(Field::new("hasNextPage", TypeRef::named_nn(TypeRef::BOOLEAN), |ctx| {
            FieldFuture::new(async move { Ok(Some(FieldValue::value(GqlValue::from(info(&ctx)?.has_next)))) })
        }))
        .field(Field::new("hasPreviousPage", TypeRef::named_nn(TypeRef::BOOLEAN), |_| {
            FieldFuture::new(async move { Ok(Some(FieldValue::value(GqlValue::from(false)))) })
        }))
        .field(Field::new("startCursor", TypeRef::named(TypeRef::STRING), |ctx| {
            FieldFuture::new(async move { Ok(info(&ctx)?.start.clone().map(|s| FieldValue::value(GqlValue::from(s)))) })
        }))
        .field(Field::new("endCursor", TypeRef::named(TypeRef::STRING), |ctx| {
            FieldFuture::new(async move { Ok(info(&ctx)?.end.clone().map(|s| FieldValue::value(GqlValue::from(s)))) })
        }))
}

/// Cursors for each record of a page, in the list's sort order (the last one equals the
/// REST `next_cursor` when there is a next page).
fn with_cursors(query: &ListQuery, page: PageView) -> Conn {
    let records: Vec<Rec> = page.data.into_iter().map(Arc::new).collect();
    let cursors = records
        .iter()
        .map(|r| {
            let id = r.get("id").and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok()).unwrap_or_default();
            encode_cursor_json(r.get(&query.sort.field).unwrap_or(&Json::Null), id)
        })
        .collect();
    Conn { records, cursors, next_cursor: page.next_cursor, total: page.total }
}

fn query_fields(mut query: Object, entity: &EntityDef) -> Object {
    let t = type_name(entity);
    let name = entity.name.clone();
    let def = entity.clone();
    let list = Field::new(entity.name.clone(), TypeRef::named_nn(format!("{t}Connection")), move |ctx| {
        let name = name.clone();
        let def = def.clone();
        FieldFuture::new(async move {
            let count = ctx.look_ahead().field("totalCount").exists();
            let query = list_query(&def, &ctx, count, true)?;
            let env = env(&ctx)?;
            let page = env.service.list(&env.ctx, &name, &query).await.map_err(service_error)?;
            Ok(Some(FieldValue::owned_any(with_cursors(&query, page))))
        })
    })
    .description(format!("{}, a page at a time", entity.label))
    .argument(InputValue::new("filter", TypeRef::named(format!("{t}Filter"))));
    query = query.field(list_args(list, true));
    let name = entity.name.clone();
    query.field(
        Field::new(entity.singular.clone(), TypeRef::named(t.clone()), move |ctx| {
            let name = name.clone();
            FieldFuture::new(async move {
                let id = parse_id(ctx.args.try_get("id")?.string()?)?;
                let env = env(&ctx)?;
                match env.service.get(&env.ctx, &name, id).await {
                    Ok(r) => Ok(Some(FieldValue::owned_any(Arc::new(r)))),
                    Err(keel_service::ServiceError::NotFound) => Ok(None),
                    Err(e) => Err(service_error(e)),
                }
            })
        })
        .description(format!("One {} by id (null when absent or not visible to you)", entity.singular))
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID))),
    )
}

fn mutation_fields(mut mutation: Object, entity: &EntityDef) -> Object {
    let t = type_name(entity);
    let name = entity.name.clone();
    mutation = mutation.field(
        Field::new(format!("create{t}"), TypeRef::named_nn(t.clone()), move |ctx| {
            let name = name.clone();
            FieldFuture::new(async move {
                let body = input_body(&ctx)?;
                let env = env(&ctx)?;
                match env.service.create(&env.ctx, &name, body, None).await.map_err(service_error)? {
                    Created::New(r) => Ok(Some(FieldValue::owned_any(Arc::new(r)))),
                    Created::Replayed { .. } => Err(Error::new("internal: a replay without an idempotency key")),
                }
            })
        })
        .argument(InputValue::new("input", TypeRef::named_nn(format!("{t}Input")))),
    );
    let name = entity.name.clone();
    mutation = mutation.field(
        Field::new(format!("update{t}"), TypeRef::named_nn(t.clone()), move |ctx| {
            let name = name.clone();
            FieldFuture::new(async move {
                let id = parse_id(ctx.args.try_get("id")?.string()?)?;
                let expected = match ctx.args.get("expectedVersion") {
                    Some(v) if !v.is_null() => Some(v.i64()?),
                    _ => None,
                };
                let body = input_body(&ctx)?;
                let env = env(&ctx)?;
                let r = env.service.update(&env.ctx, &name, id, body, expected).await.map_err(service_error)?;
                Ok(Some(FieldValue::owned_any(Arc::new(r))))
            })
        })
        .description(
            "Change some fields; with `expectedVersion` (like If-Match) a stale version fails with `version_mismatch`",
        )
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
        .argument(InputValue::new("input", TypeRef::named_nn(format!("{t}Input"))))
        .argument(InputValue::new("expectedVersion", TypeRef::named(TypeRef::INT))),
    );
    let name = entity.name.clone();
    mutation.field(
        Field::new(format!("delete{t}"), TypeRef::named_nn(TypeRef::BOOLEAN), move |ctx| {
            let name = name.clone();
            FieldFuture::new(async move {
                let id = parse_id(ctx.args.try_get("id")?.string()?)?;
                let cascade = match ctx.args.get("cascade") {
                    Some(v) if !v.is_null() => v.boolean()?,
                    _ => false,
                };
                let env = env(&ctx)?;
                env.service.delete(&env.ctx, &name, id, cascade).await.map_err(service_error)?;
                Ok(Some(FieldValue::value(GqlValue::from(true))))
            })
        })
        .description("Move to the trash (`cascade` also trashes dependent records)")
        .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
        .argument(InputValue::new("cascade", TypeRef::named(TypeRef::BOOLEAN))),
    )
}

/// Build the executable schema for `schema`.
pub fn build(schema: &Schema) -> Result<GqlSchema, SchemaError> {
    let entities: Vec<&EntityDef> =
        schema.entities.values().filter(|e| valid_name(&e.name) && !type_name(e).is_empty()).collect();
    let mut query = Object::new("Query");
    let mut mutation = Object::new("Mutation");
    let mut builder_types: Vec<Object> = Vec::new();
    let mut inputs: Vec<InputObject> = scalar_filters();
    for e in &entities {
        query = query_fields(query, e);
        if keel_domain::policy::is_crm(&e.name) {
            mutation = mutation_fields(mutation, e);
            inputs.push(record_input(e));
        }
        builder_types.push(record_object(schema, e));
        let (conn, edge) = connection_types(e);
        builder_types.push(conn);
        builder_types.push(edge);
        inputs.push(filter_input(e));
    }
    let mut builder = GqlSchema::build("Query", Some("Mutation"), None)
        .register(Scalar::new("Int64").description("A 64-bit integer (money in minor units, counts)"))
        .register(Scalar::new("Date").description("A calendar date, `YYYY-MM-DD`"))
        .register(Scalar::new("DateTime").description("An RFC 3339 timestamp in UTC"))
        .register(page_info())
        .register(query)
        .register(mutation)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY);
    for t in builder_types {
        builder = builder.register(t);
    }
    for i in inputs {
        builder = builder.register(i);
    }
    builder.finish()
}
