//! `deal_totals(filters)`: a count and the summed amount of the deals matching the same
//! filters as `search_deals`, computed by the aggregate service in SQL over the rows the
//! user may see (never by adding up a page).

use serde::{Deserialize, Serialize};

use super::Tools;
use super::deals::DealFilters;
use crate::error::AssistantError;

/// What the question asks for: how much, or how many.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    #[default]
    Sum,
    Count,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DealTotals {
    pub count: i64,
    /// Minor units, over the amounts the user may read.
    pub amount: i64,
    /// Some amounts were left out of the sum (the role reads them only on own deals).
    pub partial_sum: bool,
    pub notes: Vec<String>,
}

#[derive(Serialize)]
struct Args<'a> {
    #[serde(flatten)]
    filters: &'a DealFilters,
    measure: Measure,
}

impl Tools {
    pub async fn deal_totals(&mut self, filters: &DealFilters, measure: Measure) -> Result<DealTotals, AssistantError> {
        self.record("deal_totals", &Args { filters, measure });
        let mut notes = Vec::new();
        let Some(pairs) = self.deal_pairs(filters, &mut notes).await? else {
            return Ok(DealTotals { notes, ..DealTotals::default() });
        };
        let query = self.query("deals", &pairs)?;
        let body = self.service().aggregate(self.ctx(), "deals", &query, None).await?;
        let total = &body["total"];
        let partial_sum = body.get("_redacted_from_sums").is_some_and(|v| v.as_array().is_some_and(|a| !a.is_empty()));
        if partial_sum && measure == Measure::Sum {
            notes.push("This total only adds up amounts on deals you own: your role cannot see the others.".into());
        }
        Ok(DealTotals {
            count: total["count"].as_i64().unwrap_or(0),
            amount: total["sum"]["amount"].as_i64().unwrap_or(0),
            partial_sum,
            notes,
        })
    }
}
