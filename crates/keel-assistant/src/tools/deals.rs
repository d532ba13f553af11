//! `search_deals(filters)`: stage, owner, amount range, close date range, company
//! industry and company name. Company filters are a two-step lookup (companies → their
//! ids → deals with `company_id` in them), each one bounded query.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::resolve::CompanyScope;
use super::{Tools, int_of, is_redacted, pair, str_of, uuid_of};
use crate::citation::Citation;
use crate::error::AssistantError;
use crate::parse::amount::AmountRange;
use crate::parse::vocab::{LOST, WON};

/// Which date a close-date range applies to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateField {
    #[default]
    ExpectedCloseDate,
    ActualCloseDate,
}

impl DateField {
    pub fn column(self) -> &'static str {
        match self {
            DateField::ExpectedCloseDate => "expected_close_date",
            DateField::ActualCloseDate => "actual_close_date",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealFilters {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<String>,
    /// `me`, or a user's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<AmountRange>,
    /// Inclusive `YYYY-MM-DD` bounds on `date_field`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_to: Option<String>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub date_field: DateField,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Words of the deal's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealRow {
    pub id: Uuid,
    pub title: String,
    /// None when the user may not read it (`amount_hidden`).
    pub amount: Option<i64>,
    pub amount_hidden: bool,
    pub currency: String,
    pub stage: String,
    pub expected_close_date: Option<String>,
    pub actual_close_date: Option<String>,
    pub company_id: Option<Uuid>,
    pub company: Option<String>,
    pub contact_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub version: i64,
}

impl DealRow {
    pub fn is_open(&self) -> bool {
        self.stage != WON && self.stage != LOST
    }

    /// "Acme Corp – Expansion", or the title alone.
    pub fn label(&self) -> String {
        match &self.company {
            Some(c) if !self.title.contains(c.as_str()) => format!("{c} – {}", self.title),
            _ => self.title.clone(),
        }
    }

    pub fn citation(&self) -> Citation {
        Citation::new("deals", self.id, &self.label())
    }
}

pub(super) fn deal_row(row: &serde_json::Map<String, serde_json::Value>) -> Option<DealRow> {
    Some(DealRow {
        id: uuid_of(row, "id")?,
        title: str_of(row, "title")?.to_string(),
        amount: int_of(row, "amount"),
        amount_hidden: is_redacted(row, "amount"),
        currency: str_of(row, "currency").unwrap_or("USD").to_string(),
        stage: str_of(row, "stage").unwrap_or_default().to_string(),
        expected_close_date: str_of(row, "expected_close_date").map(str::to_string),
        actual_close_date: str_of(row, "actual_close_date").map(str::to_string),
        company_id: uuid_of(row, "company_id"),
        company: None,
        contact_id: uuid_of(row, "contact_id"),
        owner_id: uuid_of(row, "owner_id"),
        version: int_of(row, "version").unwrap_or(0),
    })
}

#[derive(Debug, Clone, Default)]
pub struct DealHits {
    pub total: i64,
    pub deals: Vec<DealRow>,
    /// Why the answer may be partial or empty, in words for the user.
    pub notes: Vec<String>,
}

impl Tools {
    /// The list-query pairs for `filters`, or None when a company filter matched nothing
    /// (no deal can match). Shared with `deal_totals`.
    pub(super) async fn deal_pairs(
        &self,
        filters: &DealFilters,
        notes: &mut Vec<String>,
    ) -> Result<Option<Vec<(String, String)>>, AssistantError> {
        let mut pairs = Vec::new();
        if !filters.stages.is_empty() {
            pairs.push(pair("stage[in]", filters.stages.join(",")));
        }
        match filters.owner.as_deref() {
            None => {}
            Some("me") => pairs.push(pair("owner_id", self.ctx().actor.user_id.to_string())),
            Some(name) => match self.user_by_name(name).await? {
                super::Resolved::One((id, _)) => pairs.push(pair("owner_id", id.to_string())),
                super::Resolved::Many(users) => {
                    let ids: Vec<String> = users.iter().map(|u| u.0.to_string()).collect();
                    pairs.push(pair("owner_id[in]", ids.join(",")));
                }
                super::Resolved::None => {
                    notes.push(format!("I found no user named “{name}”."));
                    return Ok(None);
                }
            },
        }
        if let Some(a) = &filters.amount {
            for (op, v) in [("gt", a.gt), ("gte", a.gte), ("lt", a.lt), ("lte", a.lte)] {
                if let Some(v) = v {
                    pairs.push(pair(&format!("amount[{op}]"), v.to_string()));
                }
            }
            if !keel_domain::policy::partially_readable(&self.ctx().actor, &self.deals_def()?)
                .iter()
                .all(|f| f != "amount")
            {
                notes.push("Amount filters only cover deals you own: your role sees other amounts as hidden.".into());
            }
        }
        let col = filters.date_field.column();
        if let Some(from) = &filters.close_from {
            pairs.push(pair(&format!("{col}[gte]"), from.clone()));
        }
        if let Some(to) = &filters.close_to {
            pairs.push(pair(&format!("{col}[lte]"), to.clone()));
        }
        if let Some(q) = filters.query.as_deref().filter(|q| !q.trim().is_empty()) {
            pairs.push(pair("q", q.trim()));
        }
        match self.company_scope(filters.industry.as_deref(), filters.company.as_deref()).await? {
            CompanyScope::Any => {}
            CompanyScope::NoMatch => {
                notes.push(match (&filters.company, &filters.industry) {
                    (Some(c), _) => format!("I found no company matching “{c}” that you can see."),
                    (None, Some(i)) => format!("I found no {i} companies that you can see."),
                    (None, None) => "No company matched.".into(),
                });
                return Ok(None);
            }
            CompanyScope::Ids { ids, truncated } => {
                if truncated {
                    notes.push(format!(
                        "Only the first {} matching companies were considered.",
                        super::resolve::MAX_SCOPE_COMPANIES
                    ));
                }
                let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
                pairs.push(pair("company_id[in]", ids.join(",")));
            }
        }
        Ok(Some(pairs))
    }

    fn deals_def(&self) -> Result<keel_domain::EntityDef, AssistantError> {
        Ok(self.service().schema().entity("deals").cloned().ok_or(keel_service::ServiceError::NotFound)?)
    }

    pub async fn search_deals(&mut self, filters: &DealFilters) -> Result<DealHits, AssistantError> {
        self.record("search_deals", filters);
        let mut notes = Vec::new();
        let Some(mut pairs) = self.deal_pairs(filters, &mut notes).await? else {
            return Ok(DealHits { total: 0, deals: Vec::new(), notes });
        };
        // Soonest close first when asking about closing; latest close first for closed deals.
        let sort = match (filters.close_from.is_some() || filters.close_to.is_some(), filters.date_field) {
            (true, DateField::ExpectedCloseDate) => "expected_close_date",
            (_, DateField::ActualCloseDate) => "-actual_close_date",
            _ => "-updated_at",
        };
        pairs.push(pair("sort", sort));
        pairs.push(pair("count", "true"));
        pairs.push(pair("limit", self.config().max_results.to_string()));
        let page = self.list("deals", &pairs).await?;
        let mut deals: Vec<DealRow> = page.data.iter().filter_map(deal_row).collect();
        self.attach_company_names(&mut deals).await?;
        Ok(DealHits { total: page.total.unwrap_or(deals.len() as i64), deals, notes })
    }

    /// Fill in company names for a page of deals with one query.
    pub(crate) async fn attach_company_names(&self, deals: &mut [DealRow]) -> Result<(), AssistantError> {
        let ids: Vec<Uuid> = deals.iter().filter_map(|d| d.company_id).collect();
        if ids.is_empty() {
            return Ok(());
        }
        let names = self.names("companies", &ids, "name").await?;
        for d in deals {
            d.company = d.company_id.and_then(|id| names.get(&id).cloned());
        }
        Ok(())
    }
}
