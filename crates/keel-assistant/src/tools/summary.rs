//! `get_deal_summary(id)`: a deal with its company, contact, owner and latest activities,
//! each read as the user (a related record they may not see is simply left out).

use keel_domain::FieldType;
use serde::Serialize;
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::deals::{DealRow, deal_row};
use super::{Tools, pair, str_of, uuid_of};
use crate::error::AssistantError;

#[derive(Debug, Clone)]
pub struct ActivityLine {
    pub id: Uuid,
    pub kind: String,
    pub subject: String,
    pub completed: bool,
    pub when: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DealSummary {
    pub deal: DealRow,
    pub probability: Option<i64>,
    pub priority: Option<String>,
    pub contact: Option<(Uuid, String)>,
    pub owner: Option<String>,
    pub notes: Option<String>,
    /// The deal's custom fields that hold a value the user may read: (label, value).
    pub custom: Vec<(String, String)>,
    pub activities: Vec<ActivityLine>,
}

#[derive(Serialize)]
struct Args {
    id: Uuid,
}

/// Number of recent activities a summary shows.
const RECENT_ACTIVITIES: u32 = 5;

async fn visible(tools: &Tools, entity: &str, id: Option<Uuid>) -> Result<Option<Map<String, Json>>, AssistantError> {
    let Some(id) = id else { return Ok(None) };
    match tools.service().get(tools.ctx(), entity, id).await {
        Ok(r) => Ok(Some(r)),
        Err(keel_service::ServiceError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl Tools {
    pub async fn get_deal_summary(&mut self, id: Uuid) -> Result<DealSummary, AssistantError> {
        self.record("get_deal_summary", &Args { id });
        let raw = self.service().get(self.ctx(), "deals", id).await?;
        let mut deal = deal_row(&raw).ok_or(keel_service::ServiceError::NotFound)?;
        let company = visible(self, "companies", deal.company_id).await?;
        deal.company = company.as_ref().and_then(|c| str_of(c, "name")).map(str::to_string);
        let contact = visible(self, "contacts", deal.contact_id)
            .await?
            .and_then(|c| Some((uuid_of(&c, "id")?, str_of(&c, "full_name")?.to_string())));
        let owner = visible(self, "users", deal.owner_id).await?.and_then(|u| str_of(&u, "name").map(str::to_string));
        let schema = self.service().schema();
        let def = schema.entity("activities").ok_or(keel_service::ServiceError::NotFound)?;
        let query = keel_domain::query::parse_list_query(
            def,
            &[pair("sort", "-created_at"), pair("limit", RECENT_ACTIVITIES.to_string())],
        )
        .map_err(AssistantError::Invalid)?;
        let page = self.service().related(self.ctx(), "deals", id, "activities", &query).await?;
        let activities = page
            .data
            .iter()
            .filter_map(|a| {
                Some(ActivityLine {
                    id: uuid_of(a, "id")?,
                    kind: str_of(a, "type").unwrap_or("Note").to_string(),
                    subject: str_of(a, "subject")?.to_string(),
                    completed: a.get("completed").and_then(Json::as_bool).unwrap_or(false),
                    when: str_of(a, "due_date")
                        .or_else(|| str_of(a, "created_at"))
                        .map(|t| t.chars().take(10).collect()),
                })
            })
            .collect();
        let custom = schema.entity("deals").map(|d| custom_lines(d, &raw)).unwrap_or_default();
        Ok(DealSummary {
            custom,
            probability: raw.get("probability").and_then(Json::as_i64),
            priority: str_of(&raw, "priority").map(str::to_string),
            notes: str_of(&raw, "notes").map(str::to_string),
            deal,
            contact,
            owner,
            activities,
        })
    }
}

/// The custom fields of `record` (as the policy presented it: a field the user may not
/// read is null there) that hold a value, as (label, text): select values by their
/// option labels, booleans as Yes/No, money in the deal's currency, percents with `%`.
/// References are left out: an id says nothing here.
fn custom_lines(entity: &keel_domain::EntityDef, record: &Map<String, Json>) -> Vec<(String, String)> {
    let label_of = |f: &keel_domain::schema::FieldDef, v: &str| {
        f.options.iter().find(|o| o.value == v).map_or_else(|| v.to_string(), |o| o.label.clone())
    };
    entity
        .fields
        .iter()
        .filter(|f| f.name.starts_with(keel_domain::schema::custom::PREFIX) && f.ty != FieldType::Reference)
        .filter_map(|f| {
            let text = match record.get(&f.name)? {
                Json::Null => return None,
                Json::Bool(b) => if *b { "Yes" } else { "No" }.to_string(),
                Json::Number(n) if f.ty == FieldType::Money => {
                    crate::parse::amount::format_money(n.as_i64()?, str_of(record, "currency").unwrap_or("USD"))
                }
                Json::Number(n) if f.ty == FieldType::Percent => format!("{n}%"),
                Json::String(s) if s.is_empty() => return None,
                Json::String(s) => label_of(f, s),
                Json::Array(items) if items.is_empty() => return None,
                Json::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), |s| label_of(f, s)))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            Some((f.label.clone(), text))
        })
        .collect()
}
