//! `search_contacts(query, company?)`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::companies::CompanyRow;
use super::{Tools, pair, str_of, uuid_of};
use crate::citation::Citation;
use crate::error::AssistantError;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchContacts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// A company name: only contacts at the companies it matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRow {
    pub id: Uuid,
    pub name: String,
    pub first_name: Option<String>,
    pub title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub is_primary: bool,
    pub company_id: Option<Uuid>,
    pub company: Option<String>,
}

impl ContactRow {
    pub fn citation(&self) -> Citation {
        Citation::new("contacts", self.id, &self.name)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ContactHits {
    pub total: i64,
    pub contacts: Vec<ContactRow>,
    /// When a company was asked for: the companies its name matched.
    pub companies: Option<Vec<CompanyRow>>,
}

pub(super) fn contact_row(row: &serde_json::Map<String, serde_json::Value>) -> Option<ContactRow> {
    let name = str_of(row, "full_name").or_else(|| str_of(row, "email"))?.to_string();
    Some(ContactRow {
        id: uuid_of(row, "id")?,
        name,
        first_name: str_of(row, "first_name").map(str::to_string),
        title: str_of(row, "title").map(str::to_string),
        email: str_of(row, "email").map(str::to_string),
        phone: str_of(row, "phone").or_else(|| str_of(row, "mobile")).map(str::to_string),
        is_primary: row.get("is_primary").and_then(serde_json::Value::as_bool).unwrap_or(false),
        company_id: uuid_of(row, "company_id"),
        company: None,
    })
}

impl Tools {
    pub async fn search_contacts(&mut self, args: &SearchContacts) -> Result<ContactHits, AssistantError> {
        self.record("search_contacts", args);
        let mut pairs = vec![pair("count", "true"), pair("limit", self.config().max_results.to_string())];
        let mut matched = None;
        if let Some(company) = args.company.as_deref().filter(|c| !c.trim().is_empty()) {
            let companies = self.companies_named(company).await?;
            if companies.is_empty() {
                return Ok(ContactHits { total: 0, contacts: Vec::new(), companies: Some(companies) });
            }
            let ids: Vec<String> = companies.iter().map(|c| c.id.to_string()).collect();
            pairs.push(pair("company_id[in]", ids.join(",")));
            matched = Some(companies);
        }
        match args.query.as_deref().filter(|q| !q.trim().is_empty()) {
            Some(q) => pairs.push(pair("q", q.trim())),
            None => pairs.push(pair("sort", "last_name")),
        }
        let page = self.list("contacts", &pairs).await?;
        let mut contacts: Vec<ContactRow> = page.data.iter().filter_map(contact_row).collect();
        let ids: Vec<Uuid> = contacts.iter().filter_map(|c| c.company_id).collect();
        let names = self.names("companies", &ids, "name").await?;
        for c in &mut contacts {
            c.company = c.company_id.and_then(|id| names.get(&id).cloned());
        }
        // An exact name match first, then primary contacts, keeping the list's order otherwise.
        let q = args.query.clone().unwrap_or_default();
        contacts.sort_by_key(|c| (!c.name.eq_ignore_ascii_case(q.trim()), !c.is_primary));
        Ok(ContactHits { total: page.total.unwrap_or(contacts.len() as i64), contacts, companies: matched })
    }
}
