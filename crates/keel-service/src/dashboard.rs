//! The dashboard's figures (`GET /api/v1/dashboard`): won revenue, deals closing soon,
//! win rate, revenue by month, the open pipeline and the best customers — every one an SQL
//! aggregate over the deals the viewer may see (`keel_store::records::aggregate`), with the
//! same row scope and field rules as `GET /api/v1/{entity}/aggregate`. Nothing loads deals
//! into memory; the largest result is one row per day of the twelve-month window. Six
//! statements in one read transaction: won per day, won/lost per stage, open deals closing
//! per day, open deals per stage, the top companies (ranked and cut in SQL) and their names.
//!
//! Indexes: the existing `(stage, id)`, `(actual_close_date, id)` and
//! `(expected_close_date, id)` serve these. Measured on a million deals, PostgreSQL (with
//! its statistics) combines them for the windows and scans where most rows are read anyway;
//! composite `(stage, date)` indexes made SQLite's windowed figures faster but, lacking
//! statistics, SQLite then also chose them for the stage-only figures and read the table out
//! of order, which made the whole dashboard slower, so there is no migration for it.

use keel_domain::policy::{self, FieldRule, Scope};
use keel_domain::query::{Filter, ListQuery, Op, Operand};
use keel_domain::schema::EntityDef;
use keel_domain::value::{Value, format_date, parse_date};
use keel_domain::{FieldErrors, Record};
use keel_store::records::{self, Group, SumRule, TopBy};
use serde::Serialize;
use serde_json::Value as Json;
use time::{Date, Duration, Month};
use uuid::Uuid;

use crate::{Ctx, Service, ServiceError};

/// Months in `revenue_by_month` (and the window of `conversion`), ending with the current one.
pub const MONTHS: usize = 12;
/// Companies in `top_companies`.
pub const TOP_COMPANIES: u64 = 10;
const SOON: i64 = 7;
const LATER: i64 = 30;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub count: i64,
    /// Integer minor units; for a role that reads amounts only on its own deals, only those.
    pub amount: i64,
}

impl Tally {
    fn add(&mut self, g: &Group) {
        self.count += g.count;
        self.amount += amount(g);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conversion {
    pub won: i64,
    pub lost: i64,
    /// `won / (won + lost)`; null when no deal closed in the window.
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthTally {
    /// `YYYY-MM`.
    pub month: String,
    pub count: i64,
    pub amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageTally {
    pub stage: String,
    pub count: i64,
    pub amount: i64,
    /// `sum(amount × probability) / 100` over the same deals.
    pub weighted_amount: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompanyTally {
    pub company_id: Uuid,
    /// Null when the viewer may not see the company (or its name), or it is in the trash.
    pub name: Option<String>,
    pub count: i64,
    pub amount: i64,
}

/// The body of `GET /api/v1/dashboard`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    /// The date the figures are for (`YYYY-MM-DD`).
    pub today: String,
    /// Deals won (a "won" stage) with `actual_close_date` in today's calendar month.
    pub won_this_month: Tally,
    pub won_last_month: Tally,
    /// Open deals with `expected_close_date` from today to today + 7 days, inclusive.
    pub closing_next_7_days: Tally,
    pub closing_next_30_days: Tally,
    /// Deals won and lost with `actual_close_date` in the twelve months ending with this one.
    pub conversion: Conversion,
    /// Won deals per month of that window, oldest first, months without any included.
    pub revenue_by_month: Vec<MonthTally>,
    /// Open deals per open stage, in the schema's stage order, empty stages included.
    pub open_by_stage: Vec<StageTally>,
    /// The companies with the most won revenue (all time), largest first, ties by name.
    pub top_companies: Vec<CompanyTally>,
    /// Fields the viewer reads only on their own deals: sums leave the others' values out.
    #[serde(rename = "_redacted_from_sums", skip_serializing_if = "Vec::is_empty")]
    pub redacted_from_sums: Vec<String>,
}

/// The date ranges the figures cover, all derived from `today`.
#[derive(Debug, Clone, Copy)]
struct Windows {
    today: Date,
    /// The first day of the oldest month in the window.
    first_month: Date,
    /// The first day after the window (the first of next month).
    end: Date,
    soon: Date,
    later: Date,
}

/// The first day of the month `n` months after the one `d` is in (`n` may be negative).
fn month_start(d: Date, n: i32) -> Option<Date> {
    let index = d.year().checked_mul(12)?.checked_add(i32::from(u8::from(d.month())) - 1)?.checked_add(n)?;
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    Date::from_calendar_date(index.div_euclid(12), month, 1).ok()
}

fn windows(today: Date) -> Option<Windows> {
    let months = i32::try_from(MONTHS).ok()?;
    Some(Windows {
        today,
        first_month: month_start(today, 1 - months)?,
        end: month_start(today, 1)?,
        soon: today.checked_add(Duration::days(SOON))?,
        later: today.checked_add(Duration::days(LATER))?,
    })
}

/// A `today` parameter: a `YYYY-MM-DD` date whose windows exist in the calendar.
pub fn parse_today(raw: &str) -> Option<Date> {
    parse_date(raw).filter(|d| windows(*d).is_some())
}

fn month_label(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), u8::from(d.month()))
}

/// Months from the window's first month to the one `d` is in.
fn months_between(first: Date, d: Date) -> i32 {
    (d.year() - first.year()) * 12 + i32::from(u8::from(d.month())) - i32::from(u8::from(first.month()))
}

fn amount(g: &Group) -> i64 {
    g.sums.first().map_or(0, |(_, v)| *v)
}

fn filter(field: &str, op: Op, value: Value) -> Filter {
    Filter { field: field.into(), op, operand: Operand::One(value) }
}

fn one_of(field: &str, values: &[String]) -> Filter {
    Filter {
        field: field.into(),
        op: Op::In,
        operand: Operand::Many(values.iter().cloned().map(Value::Text).collect()),
    }
}

/// Stage values by how they close a deal: open (`None`), "won" or "lost", in schema order.
fn stages(deals: &EntityDef, closed: Option<&str>) -> Vec<String> {
    deals
        .field("stage")
        .map(|f| f.options.iter().filter(|o| o.closed.as_deref() == closed).map(|o| o.value.clone()).collect())
        .unwrap_or_default()
}

/// What one figure asks of the store: the deals matching `filters`, optionally grouped.
struct Figure<'a> {
    deals: &'a EntityDef,
    ctx: &'a Ctx,
    scope: &'a policy::RowScope,
    /// The viewer's field rules on deals.
    rules: &'a [FieldRule],
    sums: &'a [(String, SumRule)],
}

impl Figure<'_> {
    /// Where the viewer may read a deal field.
    fn readable(&self, field: &str) -> Scope {
        self.rules.iter().filter(|r| r.field == field).map(|r| r.read).min().unwrap_or(Scope::All)
    }

    /// The query, plus the filters the field rules add: a figure that filters or groups
    /// on a field the viewer reads only on their own deals counts only those (as a list
    /// filtered on such a field does), and one on a field they may read nowhere counts
    /// nothing (None), so no figure reveals a hidden value.
    fn query(&self, filters: Vec<Filter>, uses: &[&str]) -> Option<(ListQuery, Vec<Filter>)> {
        let reach = filters
            .iter()
            .map(|f| f.field.as_str())
            .chain(uses.iter().copied())
            .map(|f| self.readable(f))
            .min()
            .unwrap_or(Scope::All);
        let extra = match reach {
            Scope::All => Vec::new(),
            Scope::Team | Scope::Own => vec![filter("owner_id", Op::Eq, Value::Uuid(self.ctx.actor.user_id))],
            Scope::None => return None,
        };
        let mut query = ListQuery::default_for(self.deals);
        query.filters = filters;
        Some((query, extra))
    }

    /// Counts and sums per value of `group_by`; `uses` names any other field the figure
    /// reveals something about (the probability, in weighted amounts).
    async fn groups(
        &self,
        tx: &mut keel_store::Tx,
        filters: Vec<Filter>,
        group_by: &str,
        uses: &[&str],
    ) -> Result<Vec<Group>, ServiceError> {
        let uses: Vec<&str> = uses.iter().copied().chain([group_by]).collect();
        let Some((query, extra)) = self.query(filters, &uses) else {
            return Ok(Vec::new());
        };
        Ok(records::aggregate(tx, self.deals, &query, self.scope, &extra, Some(group_by), self.sums).await?)
    }
}

impl Service {
    /// The dashboard's figures for `today` (default: today's UTC date by the service's clock).
    pub async fn dashboard(&self, ctx: &Ctx, today: Option<Date>) -> Result<Dashboard, ServiceError> {
        let schema_deals = self.schema();
        let deals = schema_deals.entity("deals").ok_or(crate::ServiceError::NotFound)?;
        let schema_companies = self.schema();
        let companies = schema_companies.entity("companies").ok_or(crate::ServiceError::NotFound)?;
        let today = today.unwrap_or_else(|| self.clock.now().to_offset(time::UtcOffset::UTC).date());
        let w = windows(today).ok_or_else(|| {
            ServiceError::Invalid(FieldErrors::single("today", "out_of_range", "today is too far from the present"))
        })?;

        let partial = policy::partially_readable(&ctx.actor, deals);
        let rules: Vec<FieldRule> =
            policy::field_rules(&ctx.actor).into_iter().filter(|r| r.entity == deals.name).collect();
        let scope = policy::read_scope(&ctx.actor, deals);
        let mut fig = Figure { deals, ctx, scope: &scope, rules: &rules, sums: &[] };
        // As `/deals/aggregate`: amounts the viewer reads only on their own deals are summed
        // over those (`Team` field rules are applied as `Own`, as when a record is shown).
        let rule = match fig.readable("amount") {
            Scope::All => SumRule::All,
            Scope::Team | Scope::Own => SumRule::OwnedBy(ctx.actor.user_id),
            Scope::None => SumRule::Hidden,
        };
        let sums = [("amount".to_string(), rule)];
        fig.sums = &sums;
        let (open, won, lost) = (stages(deals, None), stages(deals, Some("won")), stages(deals, Some("lost")));
        let in_window = |field: &str| {
            [filter(field, Op::Gte, Value::Date(w.first_month)), filter(field, Op::Lt, Value::Date(w.end))]
        };

        let mut tx = self.db.read().await?;

        // Won revenue per day of the window (at most 366 rows), bucketed into months here.
        let mut filters = vec![one_of("stage", &won)];
        filters.extend(in_window("actual_close_date"));
        let by_day = fig.groups(&mut tx, filters, "actual_close_date", &[]).await?;
        let mut months: Vec<MonthTally> = (0..MONTHS)
            .map(|i| {
                let start = i32::try_from(i).ok().and_then(|i| month_start(w.first_month, i)).unwrap_or(w.first_month);
                MonthTally { month: month_label(start), count: 0, amount: 0 }
            })
            .collect();
        for g in &by_day {
            let slot = g.key.as_date().and_then(|d| usize::try_from(months_between(w.first_month, d)).ok());
            if let Some(m) = slot.and_then(|i| months.get_mut(i)) {
                m.count += g.count;
                m.amount += amount(g);
            }
        }
        let tally = |m: Option<&MonthTally>| m.map_or(Tally::default(), |m| Tally { count: m.count, amount: m.amount });
        let won_this_month = tally(months.last());
        let won_last_month = tally(months.len().checked_sub(2).and_then(|i| months.get(i)));

        // Won and lost over the same window.
        let closed: Vec<String> = won.iter().chain(&lost).cloned().collect();
        let mut filters = vec![one_of("stage", &closed)];
        filters.extend(in_window("actual_close_date"));
        let by_stage = fig.groups(&mut tx, filters, "stage", &[]).await?;
        let count_of = |names: &[String]| -> i64 {
            by_stage
                .iter()
                .filter(|g| g.key.as_text().is_some_and(|k| names.iter().any(|n| n == k)))
                .map(|g| g.count)
                .sum()
        };
        let (won_n, lost_n) = (count_of(&won), count_of(&lost));
        #[allow(clippy::cast_precision_loss)]
        let rate = (won_n + lost_n > 0).then(|| won_n as f64 / (won_n + lost_n) as f64);

        // Open deals expected to close in the next 30 days, per day (at most 31 rows).
        let filters = vec![
            one_of("stage", &open),
            filter("expected_close_date", Op::Gte, Value::Date(w.today)),
            filter("expected_close_date", Op::Lte, Value::Date(w.later)),
        ];
        let (mut soon, mut later) = (Tally::default(), Tally::default());
        for g in fig.groups(&mut tx, filters, "expected_close_date", &[]).await? {
            later.add(&g);
            if g.key.as_date().is_some_and(|d| d <= w.soon) {
                soon.add(&g);
            }
        }

        // The open pipeline per stage.
        let pipeline = fig.groups(&mut tx, vec![one_of("stage", &open)], "stage", &["probability"]).await?;
        let open_by_stage = open
            .iter()
            .map(|stage| {
                let g = pipeline.iter().find(|g| g.key.as_text() == Some(stage.as_str()));
                StageTally {
                    stage: stage.clone(),
                    count: g.map_or(0, |g| g.count),
                    amount: g.map_or(0, amount),
                    weighted_amount: g.and_then(|g| g.weighted).unwrap_or(0),
                }
            })
            .collect();

        // The best customers: won amount per company, ranked and cut in SQL.
        let company_scope = policy::read_scope(&ctx.actor, companies);
        let names_hidden = policy::partially_readable(&ctx.actor, companies).iter().any(|p| p == "name");
        let top =
            TopBy { sum: 0, tie_label: (!names_hidden).then_some(("name", &company_scope)), limit: TOP_COMPANIES };
        let leaders = match fig.query(vec![one_of("stage", &won)], &["company_id"]) {
            Some((query, extra)) => {
                records::aggregate_top(&mut tx, deals, &query, &scope, &extra, "company_id", &sums, top).await?
            }
            None => Vec::new(),
        };
        let ids: Vec<Uuid> = leaders.iter().filter_map(|g| g.key.as_uuid()).collect();
        let names = self.company_names(&mut tx, ctx, companies, &company_scope, &ids).await?;
        let top_companies = leaders
            .iter()
            .filter_map(|g| {
                let id = g.key.as_uuid()?;
                let name = names.iter().find(|(i, _)| *i == id).and_then(|(_, n)| n.clone());
                Some(CompanyTally { company_id: id, name, count: g.count, amount: amount(g) })
            })
            .collect();

        Ok(Dashboard {
            today: format_date(today),
            won_this_month,
            won_last_month,
            closing_next_7_days: soon,
            closing_next_30_days: later,
            conversion: Conversion { won: won_n, lost: lost_n, rate },
            revenue_by_month: months,
            open_by_stage,
            top_companies,
            redacted_from_sums: partial,
        })
    }

    /// Names of the companies `ids` as the viewer's lists show them: one query through the
    /// read scope, with field rules applied, so a company they may not see (or one in the
    /// trash) has no name here.
    async fn company_names(
        &self,
        tx: &mut keel_store::Tx,
        ctx: &Ctx,
        companies: &EntityDef,
        scope: &policy::RowScope,
        ids: &[Uuid],
    ) -> Result<Vec<(Uuid, Option<String>)>, ServiceError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = ListQuery::default_for(companies);
        query.filters = vec![Filter {
            field: "id".into(),
            op: Op::In,
            operand: Operand::Many(ids.iter().copied().map(Value::Uuid).collect()),
        }];
        query.limit = u32::try_from(ids.len()).unwrap_or(u32::MAX);
        let page = records::list(tx, companies, &query, scope, &[]).await?;
        Ok(page
            .records
            .iter()
            .filter_map(|r: &Record| {
                let shown = crate::records::present(ctx, companies, r);
                let name = shown.get("name").and_then(Json::as_str).map(str::to_string);
                Some((r.id()?, name))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        parse_date(s).expect("date")
    }

    #[test]
    fn windows_cross_year_ends() {
        let w = windows(d("2026-02-10")).expect("windows");
        assert_eq!(w.first_month, d("2025-03-01"));
        assert_eq!(w.end, d("2026-03-01"));
        assert_eq!(w.soon, d("2026-02-17"));
        assert_eq!(w.later, d("2026-03-12"));
        let w = windows(d("2026-12-31")).expect("windows");
        assert_eq!(w.first_month, d("2026-01-01"));
        assert_eq!(w.end, d("2027-01-01"));
        assert_eq!(months_between(w.first_month, d("2026-12-05")), 11);
        assert_eq!(month_label(w.first_month), "2026-01");
    }

    #[test]
    fn today_must_be_a_real_date_with_room_for_its_windows() {
        assert!(parse_today("2026-11-24").is_some());
        assert!(parse_today("2026-02-30").is_none());
        assert!(parse_today("24/11/2026").is_none());
        assert!(parse_today("9999-12-31").is_none(), "next month does not exist");
        assert!(parse_today("").is_none());
    }
}
