//! Turning names in a request into records the user may see: companies by name (an exact
//! match wins over prefix matches), a company scope for deal filters (industry and/or
//! name → company ids, with bounded queries), deals, contacts and users by name.

use keel_domain::query::MAX_LIMIT;
use uuid::Uuid;

use super::companies::{CompanyRow, company_row};
use super::contacts::{ContactRow, contact_row};
use super::deals::{DealRow, deal_row};
use super::{Tools, pair, str_of, uuid_of};
use crate::error::AssistantError;

/// The most company ids one deal filter carries (the list API's `in` limit).
pub const MAX_SCOPE_COMPANIES: usize = 500;

/// What a name resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved<T> {
    One(T),
    /// Several equally good matches: the user should say which.
    Many(Vec<T>),
    None,
}

/// Companies a deal filter is limited to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompanyScope {
    Any,
    Ids {
        ids: Vec<Uuid>,
        truncated: bool,
    },
    /// The industry or name matched no company the user may see.
    NoMatch,
}

fn prefer_exact<T>(mut rows: Vec<T>, name: &str, name_of: impl Fn(&T) -> &str) -> Vec<T> {
    let wanted = name.trim();
    if rows.iter().any(|r| name_of(r).eq_ignore_ascii_case(wanted)) {
        rows.retain(|r| name_of(r).eq_ignore_ascii_case(wanted));
    }
    rows
}

impl Tools {
    /// Companies whose name (or domain) matches `name`; only the exact ones when any is exact.
    pub(crate) async fn companies_named(&self, name: &str) -> Result<Vec<CompanyRow>, AssistantError> {
        let pairs = vec![pair("q", name.trim()), pair("limit", "50")];
        let rows: Vec<CompanyRow> = self.list("companies", &pairs).await?.data.iter().filter_map(company_row).collect();
        Ok(prefer_exact(rows, name, |c| c.name.as_str()))
    }

    /// One company by name.
    pub(crate) async fn company_by_name(&self, name: &str) -> Result<Resolved<CompanyRow>, AssistantError> {
        let mut rows = self.companies_named(name).await?;
        Ok(match rows.len() {
            0 => Resolved::None,
            1 => Resolved::One(rows.remove(0)),
            _ => Resolved::Many(rows),
        })
    }

    /// The companies a deal filter on company industry and/or name is limited to: one
    /// paged query over companies (at most `MAX_SCOPE_COMPANIES` ids), never one per deal.
    pub(crate) async fn company_scope(
        &self,
        industry: Option<&str>,
        name: Option<&str>,
    ) -> Result<CompanyScope, AssistantError> {
        if industry.is_none() && name.is_none() {
            return Ok(CompanyScope::Any);
        }
        if let Some(n) = name {
            let mut rows = self.companies_named(n).await?;
            if let Some(i) = industry {
                rows.retain(|c| c.industry.as_deref() == Some(i));
            }
            return Ok(match rows.is_empty() {
                true => CompanyScope::NoMatch,
                false => CompanyScope::Ids { ids: rows.iter().map(|c| c.id).collect(), truncated: false },
            });
        }
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        let truncated = loop {
            let mut pairs = vec![pair("sort", "id"), pair("limit", MAX_LIMIT.to_string())];
            if let Some(i) = industry {
                pairs.push(pair("industry", i));
            }
            if let Some(c) = &cursor {
                pairs.push(pair("cursor", c.clone()));
            }
            let page = self.list("companies", &pairs).await?;
            ids.extend(page.data.iter().filter_map(|r| uuid_of(r, "id")));
            if ids.len() > MAX_SCOPE_COMPANIES {
                ids.truncate(MAX_SCOPE_COMPANIES);
                break true;
            }
            match page.next_cursor {
                Some(c) if ids.len() < MAX_SCOPE_COMPANIES => cursor = Some(c),
                Some(_) => break true,
                None => break false,
            }
        };
        Ok(if ids.is_empty() { CompanyScope::NoMatch } else { CompanyScope::Ids { ids, truncated } })
    }

    /// A deal named in a request ("the Acme deal"): by title, or the deals of the
    /// companies the name matches. Open deals win when exactly one is open.
    pub(crate) async fn deal_by_name(&self, name: &str) -> Result<Resolved<DealRow>, AssistantError> {
        let mut found: Vec<DealRow> = Vec::new();
        let by_title = self.list("deals", &[pair("q", name.trim()), pair("limit", "10")]).await?;
        found.extend(by_title.data.iter().filter_map(deal_row));
        let companies = self.companies_named(name).await?;
        if !companies.is_empty() {
            let ids: Vec<String> = companies.iter().map(|c| c.id.to_string()).collect();
            let page = self.list("deals", &[pair("company_id[in]", ids.join(",")), pair("limit", "10")]).await?;
            for d in page.data.iter().filter_map(deal_row) {
                if !found.iter().any(|f| f.id == d.id) {
                    found.push(d);
                }
            }
        }
        let exact: Vec<DealRow> = found.iter().filter(|d| d.title.eq_ignore_ascii_case(name.trim())).cloned().collect();
        if exact.len() == 1 {
            found = exact;
        }
        if found.len() > 1 {
            let open: Vec<DealRow> = found.iter().filter(|d| d.is_open()).cloned().collect();
            if open.len() == 1 {
                found = open;
            }
        }
        self.attach_company_names(&mut found).await?;
        Ok(match found.len() {
            0 => Resolved::None,
            1 => Resolved::One(found.remove(0)),
            _ => Resolved::Many(found),
        })
    }

    /// A contact named in a request ("Sarah Johnson"), exact full name preferred.
    pub(crate) async fn contact_by_name(&self, name: &str) -> Result<Resolved<ContactRow>, AssistantError> {
        let page = self.list("contacts", &[pair("q", name.trim()), pair("limit", "10")]).await?;
        let mut rows = prefer_exact(page.data.iter().filter_map(contact_row).collect(), name, |c| c.name.as_str());
        Ok(match rows.len() {
            0 => Resolved::None,
            1 => Resolved::One(rows.remove(0)),
            _ => Resolved::Many(rows),
        })
    }

    /// A user (for "deals owned by Sam Rivera"): id and name.
    pub(crate) async fn user_by_name(&self, name: &str) -> Result<Resolved<(Uuid, String)>, AssistantError> {
        let page = self.list("users", &[pair("q", name.trim()), pair("limit", "10")]).await?;
        let rows: Vec<(Uuid, String)> =
            page.data.iter().filter_map(|r| Some((uuid_of(r, "id")?, str_of(r, "name")?.to_string()))).collect();
        let mut rows = prefer_exact(rows, name, |r| r.1.as_str());
        Ok(match rows.len() {
            0 => Resolved::None,
            1 => Resolved::One(rows.remove(0)),
            _ => Resolved::Many(rows),
        })
    }
}
