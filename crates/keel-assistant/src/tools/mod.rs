//! The assistant's tools: typed functions that run as the asking user through
//! keel-service, so the one policy applies (row scope, field redaction, the filter and
//! sort guards). Read tools answer; write tools only ever return a *proposal* (see
//! `crate::proposals`) that runs when the same user confirms it.
//!
//! Every call is recorded (name and arguments) so a reply can show which tools it used,
//! and so a model provider can later drive the same functions through `dispatch`.

mod companies;
mod contacts;
mod deals;
mod records;
mod resolve;
mod summary;
mod totals;
mod writes;

use std::collections::BTreeMap;
use std::sync::Arc;

use keel_domain::query::{ListQuery, parse_list_query};
use keel_service::records::PageView;
use keel_service::{Ctx, Service};
use serde::Serialize;
use serde_json::{Map, Value as Json};
use time::Date;
use uuid::Uuid;

use crate::AssistantConfig;
use crate::error::AssistantError;
use crate::retrieval::Embedder;

pub use companies::{CompanyHits, CompanyRow, SearchCompanies};
pub use contacts::{ContactHits, ContactRow, SearchContacts};
pub use deals::{DateField, DealFilters, DealHits, DealRow};
pub use records::{Found, RecordHit, RecordHits, SearchRecords, Semantic};
pub use resolve::Resolved;
pub use summary::DealSummary;
pub use totals::{DealTotals, Measure};
pub use writes::{ActivityInput, DealInput, DealUpdate, WriteOutcome};

/// One tool call as it happened: for the reply (`tool_calls`) and the conversation log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCall {
    pub name: String,
    pub arguments: Json,
}

/// The tools, bound to one user and one conversation.
pub struct Tools {
    service: Service,
    ctx: Ctx,
    config: AssistantConfig,
    conversation_id: Option<Uuid>,
    calls: Vec<ToolCall>,
    embedder: Option<Arc<Embedder>>,
    /// The user's time zone, for "today" (UTC until `load_time_zone`).
    time_zone: Option<chrono_tz::Tz>,
}

impl Tools {
    pub fn new(service: Service, ctx: Ctx, config: AssistantConfig, conversation_id: Option<Uuid>) -> Self {
        Self { service, ctx, config, conversation_id, calls: Vec::new(), embedder: None, time_zone: None }
    }

    /// Tools whose record search also finds records by meaning (semantic retrieval).
    pub fn with_embedder(mut self, embedder: Option<Arc<Embedder>>) -> Self {
        self.embedder = embedder;
        self
    }

    pub fn embedder(&self) -> Option<&Embedder> {
        self.embedder.as_deref()
    }

    pub fn service(&self) -> &Service {
        &self.service
    }

    pub fn ctx(&self) -> &Ctx {
        &self.ctx
    }

    pub fn config(&self) -> &AssistantConfig {
        &self.config
    }

    pub fn conversation_id(&self) -> Option<Uuid> {
        self.conversation_id
    }

    /// Today by the service's clock in the user's time zone (UTC when they set none), for
    /// "this month" and due dates.
    pub fn today(&self) -> Date {
        local_date(self.service.now(), self.time_zone)
    }

    /// Read the asking user's time zone (the `time_zone` of their user record).
    pub async fn load_time_zone(&mut self) -> Result<(), AssistantError> {
        let me = self.service.get_record(&self.ctx, "users", self.ctx.actor.user_id).await?;
        self.time_zone = me.text("time_zone").and_then(|z| z.parse::<chrono_tz::Tz>().ok());
        Ok(())
    }

    /// The calls made so far, in order; empties the record.
    pub fn take_calls(&mut self) -> Vec<ToolCall> {
        std::mem::take(&mut self.calls)
    }

    pub(crate) fn record(&mut self, name: &str, arguments: &impl Serialize) {
        let arguments = serde_json::to_value(arguments).unwrap_or(Json::Null);
        self.calls.push(ToolCall { name: name.to_string(), arguments });
    }

    /// A list query built from URL-style pairs and checked against the entity's metadata,
    /// exactly as the REST list endpoint does.
    pub(crate) fn query(&self, entity: &str, pairs: &[(String, String)]) -> Result<ListQuery, AssistantError> {
        let schema = self.service.schema();
        let def = schema.entity(entity).ok_or(keel_service::ServiceError::NotFound)?;
        parse_list_query(def, pairs).map_err(AssistantError::Invalid)
    }

    pub(crate) async fn list(&self, entity: &str, pairs: &[(String, String)]) -> Result<PageView, AssistantError> {
        let q = self.query(entity, pairs)?;
        Ok(self.service.list(&self.ctx, entity, &q).await?)
    }

    /// Names of the records `ids` of `entity` the user may see, in one query.
    async fn names(&self, entity: &str, ids: &[Uuid], field: &str) -> Result<BTreeMap<Uuid, String>, AssistantError> {
        let mut unique: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        unique.sort();
        unique.dedup();
        let mut out = BTreeMap::new();
        for chunk in unique.chunks(keel_domain::query::MAX_LIMIT as usize) {
            let pairs = vec![pair("id[in]", chunk.join(",")), pair("limit", keel_domain::query::MAX_LIMIT.to_string())];
            for row in self.list(entity, &pairs).await?.data {
                if let (Some(id), Some(name)) = (uuid_of(&row, "id"), str_of(&row, field)) {
                    out.insert(id, name.to_string());
                }
            }
        }
        Ok(out)
    }
}

/// The date at `now` in `zone` (UTC when None).
pub fn local_date(now: time::OffsetDateTime, zone: Option<chrono_tz::Tz>) -> Date {
    use chrono::{Offset, TimeZone};
    let Some(zone) = zone else { return now.date() };
    let Some(utc) = chrono::DateTime::from_timestamp(now.unix_timestamp(), 0) else { return now.date() };
    let seconds = zone.offset_from_utc_datetime(&utc.naive_utc()).fix().local_minus_utc();
    match time::UtcOffset::from_whole_seconds(seconds) {
        Ok(offset) => now.to_offset(offset).date(),
        Err(_) => now.date(),
    }
}

pub(crate) fn pair(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_string(), v.into())
}

pub(crate) fn str_of<'a>(row: &'a Map<String, Json>, field: &str) -> Option<&'a str> {
    row.get(field).and_then(Json::as_str).filter(|s| !s.is_empty())
}

pub(crate) fn uuid_of(row: &Map<String, Json>, field: &str) -> Option<Uuid> {
    str_of(row, field).and_then(|s| Uuid::parse_str(s).ok())
}

pub(crate) fn int_of(row: &Map<String, Json>, field: &str) -> Option<i64> {
    row.get(field).and_then(Json::as_i64)
}

pub(crate) fn is_redacted(row: &Map<String, Json>, field: &str) -> bool {
    row.get("_redacted").and_then(Json::as_array).is_some_and(|a| a.iter().any(|f| f.as_str() == Some(field)))
}

#[cfg(test)]
mod tests {
    use super::local_date;
    use time::macros::datetime;

    #[test]
    fn today_follows_the_time_zone() {
        let now = datetime!(2026-11-25 11:30 UTC);
        assert_eq!(local_date(now, None).to_string(), "2026-11-25");
        // Auckland is UTC+13 in November (daylight time): already the 26th.
        assert_eq!(local_date(now, Some(chrono_tz::Pacific::Auckland)).to_string(), "2026-11-26");
        assert_eq!(
            local_date(datetime!(2026-11-25 03:00 UTC), Some(chrono_tz::America::Los_Angeles)).to_string(),
            "2026-11-24"
        );
    }
}
