//! `search_companies(query, industry?, size?)`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Tools, pair, str_of, uuid_of};
use crate::citation::Citation;
use crate::error::AssistantError;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchCompanies {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    /// One or more of the size values (`51-200`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub size: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompanyRow {
    pub id: Uuid,
    pub name: String,
    pub industry: Option<String>,
    pub size: Option<String>,
    pub city: Option<String>,
    pub domain: Option<String>,
}

impl CompanyRow {
    pub fn citation(&self) -> Citation {
        Citation::new("companies", self.id, &self.name)
    }
}

#[derive(Debug, Clone, Default)]
pub struct CompanyHits {
    pub total: i64,
    pub companies: Vec<CompanyRow>,
}

pub(super) fn company_row(row: &serde_json::Map<String, serde_json::Value>) -> Option<CompanyRow> {
    Some(CompanyRow {
        id: uuid_of(row, "id")?,
        name: str_of(row, "name")?.to_string(),
        industry: str_of(row, "industry").map(str::to_string),
        size: str_of(row, "size").map(str::to_string),
        city: str_of(row, "city").map(str::to_string),
        domain: str_of(row, "domain").map(str::to_string),
    })
}

impl Tools {
    pub async fn search_companies(&mut self, args: &SearchCompanies) -> Result<CompanyHits, AssistantError> {
        self.record("search_companies", args);
        let mut pairs = vec![pair("count", "true"), pair("limit", self.config().max_results.to_string())];
        if let Some(q) = args.query.as_deref().filter(|q| !q.trim().is_empty()) {
            pairs.push(pair("q", q.trim()));
        } else {
            pairs.push(pair("sort", "name"));
        }
        if let Some(i) = &args.industry {
            pairs.push(pair("industry", i.clone()));
        }
        if !args.size.is_empty() {
            pairs.push(pair("size[in]", args.size.join(",")));
        }
        let page = self.list("companies", &pairs).await?;
        let mut companies: Vec<CompanyRow> = page.data.iter().filter_map(company_row).collect();
        // Full-text search ranks nothing; put an exact name first.
        if let Some(q) = &args.query {
            companies.sort_by_key(|c| !c.name.eq_ignore_ascii_case(q.trim()));
        }
        Ok(CompanyHits { total: page.total.unwrap_or(companies.len() as i64), companies })
    }
}
