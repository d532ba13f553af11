//! Schedule triggers: a cron expression in a time zone (croner + chrono-tz), read
//! against the service's clock so tests move time instead of waiting. Each workflow's
//! last tick is a cursor (`schedule:<id>`); a due tick becomes one job whose dedupe key
//! names the tick, so however many processes look, one run happens per tick. Ticks missed
//! while Keel was down collapse into the latest one.

use std::str::FromStr;

use chrono::TimeZone;
use chrono_tz::Tz;
use croner::Cron;
use keel_domain::query::parse_list_query;
use keel_domain::{EntityDef, FieldErrors, FieldType, Schema};
use keel_service::{Ctx, Service, ServiceError};
use minijinja::Environment;
use serde_json::{Map, Value as Json, json};
use time::OffsetDateTime;

use crate::context::{relation_name, shape_record};
use crate::definition::ScheduleQuery;
use crate::template::{self, Flavor};

/// Most records one scheduled run loads.
pub const MAX_RECORDS: usize = 1000;

/// A parsed schedule.
pub struct Schedule {
    cron: Cron,
    pub tz: Tz,
}

impl Schedule {
    pub fn parse(cron: &str, time_zone: &str) -> Result<Schedule, FieldErrors> {
        let mut errors = FieldErrors::new();
        let parsed = Cron::new(cron).parse();
        if let Err(e) = &parsed {
            errors.push(
                "trigger.cron",
                "invalid_cron",
                format!("not a cron expression (minute hour day month weekday): {e}"),
            );
        }
        let tz = Tz::from_str(time_zone);
        if tz.is_err() {
            errors.push(
                "trigger.time_zone",
                "invalid_time_zone",
                format!("`{time_zone}` is not an IANA time zone such as Europe/Berlin"),
            );
        }
        match (parsed, tz) {
            (Ok(cron), Ok(tz)) => Ok(Schedule { cron, tz }),
            _ => Err(errors),
        }
    }

    /// The latest tick after `last` and at or before `now`, if any.
    pub fn due(&self, last: OffsetDateTime, now: OffsetDateTime) -> Option<OffsetDateTime> {
        let start = self.tz.timestamp_opt(last.unix_timestamp(), 0).single()?;
        let mut due = None;
        for tick in self.cron.iter_after(start).take(10_000) {
            let t = OffsetDateTime::from_unix_timestamp(tick.timestamp()).ok()?;
            if t > now {
                break;
            }
            due = Some(t);
        }
        due
    }

    /// The tick's date and local time in the schedule's zone.
    pub fn local(&self, t: OffsetDateTime) -> (String, String) {
        match self.tz.timestamp_opt(t.unix_timestamp(), 0).single() {
            Some(local) => (local.format("%Y-%m-%d").to_string(), local.to_rfc3339()),
            None => (String::new(), String::new()),
        }
    }
}

/// The variables a scheduled run's templates see besides `workflow` and `now`.
fn vars(schema: &Schema, query: Option<&ScheduleQuery>, records: Json, group: Option<Json>) -> Map<String, Json> {
    let mut m = Map::new();
    let count = records.as_array().map_or(0, Vec::len);
    if let Some(q) = query {
        m.insert(q.entity.clone(), records.clone());
        if let Some(g) = &q.group_by
            && let Some(target) = schema.entity(&q.entity).and_then(|e| e.field(g)).and_then(|f| f.reference.clone())
        {
            let group = group.unwrap_or(Json::Null);
            m.insert(relation_name(g, &target), group.clone());
            m.insert("group".into(), group);
        }
    }
    m.insert("records".into(), records);
    m.insert("count".into(), json!(count));
    m
}

/// The context's shape for a scheduled workflow, with sample values (save-time checks).
pub fn shape(schema: &Schema, query: Option<&ScheduleQuery>) -> Json {
    let item = query.and_then(|q| schema.entity(&q.entity)).map(|e| Json::Object(shape_record(schema, e, 0, true)));
    let group = query
        .and_then(|q| Some((schema.entity(&q.entity)?, q.group_by.as_deref()?)))
        .and_then(|(e, g)| e.field(g)?.reference.as_deref().and_then(|t| schema.entity(t)))
        .map(|t| Json::Object(shape_record(schema, t, 1, true)));
    let mut m = vars(schema, query, json!(item.into_iter().collect::<Vec<_>>()), group);
    m.insert("today".into(), json!("2026-01-31"));
    m.insert(
        "tick".into(),
        json!({ "at": "2026-01-31T09:00:00Z", "local": "2026-01-31T10:00:00+01:00", "time_zone": "Europe/Berlin" }),
    );
    m.insert("workflow".into(), json!({ "id": "00000000-0000-7000-8000-000000000000", "name": "text" }));
    m.insert("now".into(), json!("2026-01-31T09:00:00Z"));
    Json::Object(m)
}

/// The query's filters rendered over `ctx` (`today`, `tick`), as list-query pairs.
pub fn pairs(
    env: &Environment<'_>,
    query: &ScheduleQuery,
    ctx: &Json,
) -> Result<Vec<(String, String)>, (String, String)> {
    let mut out = Vec::new();
    for (k, v) in &query.filters {
        let rendered =
            template::render(env, Flavor::Text, v, ctx).map_err(|e| (format!("trigger.query.filters.{k}"), e))?;
        out.push((k.clone(), rendered));
    }
    Ok(out)
}

/// Check a schedule's query: its entity, its group field and its filters (rendered over
/// sample values, then parsed like a list's query string).
pub fn check_query(schema: &Schema, query: &ScheduleQuery, errors: &mut FieldErrors) -> Option<EntityDef> {
    let Some(entity) = schema.entity(&query.entity) else {
        errors.push("trigger.query.entity", "unknown_entity", format!("there is no entity `{}`", query.entity));
        return None;
    };
    if let Some(g) = &query.group_by
        && entity.field(g).is_none_or(|f| f.ty != FieldType::Reference || f.hidden)
    {
        errors.push(
            "trigger.query.group_by",
            "unknown_field",
            format!("`{g}` is not a reference field of {}", entity.name),
        );
    }
    let env = template::environment();
    match pairs(&env, query, &shape(schema, Some(query))) {
        Err((field, e)) => errors.push(field, "invalid_template", e),
        Ok(p) => {
            if let Err(e) = parse_list_query(entity, &p) {
                for err in e.0 {
                    errors.push(format!("trigger.query.filters.{}", err.field), err.code, err.message);
                }
            }
        }
    }
    Some(entity.clone())
}

/// Load the records a scheduled run is about (at most `MAX_RECORDS`), as `ctx` may see them.
pub async fn load(
    service: &Service,
    ctx: &Ctx,
    entity: &EntityDef,
    mut pairs: Vec<(String, String)>,
    public_url: &str,
) -> Result<Vec<Json>, ServiceError> {
    pairs.push(("limit".into(), "200".into()));
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut p = pairs.clone();
        if let Some(c) = &cursor {
            p.push(("cursor".into(), c.clone()));
        }
        let query = parse_list_query(entity, &p).map_err(ServiceError::Invalid)?;
        let page = service.list(ctx, &entity.name, &query).await?;
        for mut r in page.data {
            r.remove("_redacted");
            let url = r.get("id").and_then(Json::as_str).map(|id| format!("{public_url}/{}/{id}", entity.name));
            r.insert("url".into(), url.map_or(Json::Null, Json::String));
            out.push(Json::Object(r));
            if out.len() >= MAX_RECORDS {
                return Ok(out);
            }
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// The context of a scheduled run.
pub fn context(
    schema: &Schema,
    query: Option<&ScheduleQuery>,
    records: Vec<Json>,
    group: Option<Json>,
    base: Map<String, Json>,
) -> Json {
    let mut m = vars(schema, query, Json::Array(records), group);
    m.extend(base);
    Json::Object(m)
}
