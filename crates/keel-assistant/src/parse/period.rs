//! Relative dates in requests, resolved against "today" from the service's clock:
//! today/tomorrow/yesterday, this/next/last week/month/quarter/year, the next or past N
//! days, a month by name, Q1–Q4, an ISO date, and weekdays ("by Friday"). Weeks start on
//! Monday; quarters are calendar quarters.

use time::{Date, Duration, Month, Weekday};

use super::text::{Word, has_any, padded, words};

/// An inclusive range of dates, and how the request named it (for the answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
    pub label: String,
}

fn period(from: Date, to: Date, label: impl Into<String>) -> Option<Period> {
    Some(Period { from, to, label: label.into() })
}

fn month_start(d: Date) -> Date {
    d.replace_day(1).unwrap_or(d)
}

fn month_end(d: Date) -> Date {
    let days = d.month().length(d.year());
    d.replace_day(days).unwrap_or(d)
}

fn add_months(d: Date, n: i32) -> Date {
    let index = d.year() * 12 + (u8::from(d.month()) as i32 - 1) + n;
    let (year, month0) = (index.div_euclid(12), index.rem_euclid(12));
    let month = Month::try_from((month0 + 1) as u8).unwrap_or(Month::January);
    Date::from_calendar_date(year, month, 1).unwrap_or(d)
}

fn week_start(d: Date) -> Date {
    d - Duration::days(i64::from(d.weekday().number_days_from_monday()))
}

fn quarter_start(d: Date) -> Date {
    let m0 = (u8::from(d.month()) - 1) / 3 * 3;
    add_months(Date::from_calendar_date(d.year(), Month::January, 1).unwrap_or(d), i32::from(m0))
}

fn year_start(year: i32) -> Option<Date> {
    Date::from_calendar_date(year, Month::January, 1).ok()
}

fn year_end(year: i32) -> Option<Date> {
    Date::from_calendar_date(year, Month::December, 31).ok()
}

const MONTHS: &[(&str, Month)] = &[
    ("january", Month::January),
    ("february", Month::February),
    ("march", Month::March),
    ("april", Month::April),
    ("may", Month::May),
    ("june", Month::June),
    ("july", Month::July),
    ("august", Month::August),
    ("september", Month::September),
    ("october", Month::October),
    ("november", Month::November),
    ("december", Month::December),
    ("jan", Month::January),
    ("feb", Month::February),
    ("mar", Month::March),
    ("apr", Month::April),
    ("jun", Month::June),
    ("jul", Month::July),
    ("aug", Month::August),
    ("sep", Month::September),
    ("sept", Month::September),
    ("oct", Month::October),
    ("nov", Month::November),
    ("dec", Month::December),
];

const WEEKDAYS: &[(&str, Weekday)] = &[
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

fn number_word(s: &str) -> Option<i64> {
    let n = match s {
        "one" | "a" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "ten" => 10,
        "fourteen" => 14,
        "thirty" => 30,
        "sixty" => 60,
        "ninety" => 90,
        _ => return s.parse().ok().filter(|n| (1..=3660).contains(n)),
    };
    Some(n)
}

/// "next 30 days", "past two weeks", "within 7 days", "last 3 months".
fn rolling(ws: &[Word], today: Date) -> Option<Period> {
    for i in 0..ws.len().saturating_sub(2) {
        let (dir, n, unit) = (ws[i].norm.as_str(), ws[i + 1].norm.as_str(), ws[i + 2].norm.as_str());
        let forward = matches!(dir, "next" | "within" | "coming");
        let backward = matches!(dir, "last" | "past" | "previous");
        let Some(n) = number_word(n) else { continue };
        if !(forward || backward) {
            continue;
        }
        let days = match unit {
            "day" | "days" => n,
            "week" | "weeks" => n * 7,
            "month" | "months" => n * 30,
            _ => continue,
        };
        let label = format!("the {} {} {unit}", if forward { "next" } else { "past" }, ws[i + 1].norm);
        return if forward {
            period(today, today + Duration::days(days), label)
        } else {
            period(today - Duration::days(days), today, label)
        };
    }
    None
}

/// A month by name ("in March", "March 2027"): this year's, or the year given.
fn named_month(ws: &[Word], today: Date) -> Option<Period> {
    for (i, w) in ws.iter().enumerate() {
        let Some((_, month)) = MONTHS.iter().find(|(n, _)| *n == w.norm) else { continue };
        // "may" is also a verb: only as a month next to a preposition or a year.
        let prev = i.checked_sub(1).map(|p| ws[p].norm.as_str());
        let year: Option<i32> = ws.get(i + 1).and_then(|n| n.norm.parse().ok()).filter(|y| (1900..=9999).contains(y));
        if w.norm == "may" && !matches!(prev, Some("in" | "of" | "for" | "during")) && year.is_none() {
            continue;
        }
        let y = year.unwrap_or(today.year());
        let start = Date::from_calendar_date(y, *month, 1).ok()?;
        return period(start, month_end(start), format!("{} {y}", month_name(*month)));
    }
    None
}

fn month_name(m: Month) -> String {
    format!("{m}")
}

/// "Q3", "Q1 2027".
fn named_quarter(ws: &[Word], today: Date) -> Option<Period> {
    for (i, w) in ws.iter().enumerate() {
        let q = match w.norm.as_str() {
            "q1" => 0,
            "q2" => 1,
            "q3" => 2,
            "q4" => 3,
            _ => continue,
        };
        let year: i32 = ws
            .get(i + 1)
            .and_then(|n| n.norm.parse().ok())
            .filter(|y| (1900..=9999).contains(y))
            .unwrap_or(today.year());
        let start = add_months(year_start(year)?, q * 3);
        return period(start, add_months(start, 3) - Duration::days(1), format!("Q{} {year}", q + 1));
    }
    None
}

fn iso_date(ws: &[Word]) -> Option<Date> {
    ws.iter().find_map(|w| keel_domain::value::parse_date(w.norm.trim_end_matches('.')))
}

/// The period a request names, if any. `today` comes from the service clock.
pub fn find_period(text: &str, today: Date) -> Option<Period> {
    let p = padded(text);
    let ws = words(text);
    if has_any(&p, &["today", "this day"]) {
        return period(today, today, "today");
    }
    if has_any(&p, &["tomorrow"]) {
        let d = today + Duration::days(1);
        return period(d, d, "tomorrow");
    }
    if has_any(&p, &["yesterday"]) {
        let d = today - Duration::days(1);
        return period(d, d, "yesterday");
    }
    if let Some(r) = rolling(&ws, today) {
        return Some(r);
    }
    for (unit, phrases) in [
        ("week", ["this week", "next week", "last week", "past week", "previous week", "current week"]),
        ("month", ["this month", "next month", "last month", "past month", "previous month", "current month"]),
        (
            "quarter",
            ["this quarter", "next quarter", "last quarter", "past quarter", "previous quarter", "current quarter"],
        ),
        ("year", ["this year", "next year", "last year", "past year", "previous year", "current year"]),
    ] {
        let Some(which) = phrases.iter().find(|ph| has_any(&p, &[ph])) else { continue };
        let offset = match which.split(' ').next() {
            Some("next") => 1,
            Some("last" | "past" | "previous") => -1,
            _ => 0,
        };
        let label = match offset {
            1 => format!("next {unit}"),
            -1 => format!("last {unit}"),
            _ => format!("this {unit}"),
        };
        return match unit {
            "week" => {
                let start = week_start(today) + Duration::weeks(offset);
                period(start, start + Duration::days(6), label)
            }
            "month" => {
                let start = add_months(month_start(today), offset as i32);
                period(start, month_end(start), label)
            }
            "quarter" => {
                let start = add_months(quarter_start(today), offset as i32 * 3);
                period(start, add_months(start, 3) - Duration::days(1), label)
            }
            _ => {
                let y = today.year() + offset as i32;
                period(year_start(y)?, year_end(y)?, label)
            }
        };
    }
    if has_any(&p, &["end of the month", "end of month", "month end"]) {
        return period(today, month_end(today), "by the end of the month");
    }
    if has_any(&p, &["end of the week", "end of week"]) {
        return period(today, week_start(today) + Duration::days(6), "by the end of the week");
    }
    if let Some(q) = named_quarter(&ws, today) {
        return Some(q);
    }
    if let Some(m) = named_month(&ws, today) {
        return Some(m);
    }
    iso_date(&ws).and_then(|d| period(d, d, keel_domain::value::format_date(d)))
}

/// A due date for a task or an action item: "by Friday" (the next Friday after today),
/// "tomorrow", "next week" (its Monday), "end of the month", "2026-12-01", or the first
/// day of any period `find_period` understands.
pub fn find_due_date(text: &str, today: Date) -> Option<Date> {
    let ws = words(text);
    let p = padded(text);
    for (name, day) in WEEKDAYS {
        if has_any(&p, &[name]) {
            let ahead = (i64::from(day.number_days_from_monday())
                - i64::from(today.weekday().number_days_from_monday()))
            .rem_euclid(7);
            if has_any(&p, &[&format!("next {name}")]) {
                // "next Friday": the Friday of next week.
                return Some(week_start(today) + Duration::days(7 + i64::from(day.number_days_from_monday())));
            }
            // "by Friday": the coming one; today's weekday means a week from today.
            return Some(today + Duration::days(if ahead == 0 { 7 } else { ahead }));
        }
    }
    if has_any(&p, &["end of the month", "end of month", "month end"]) {
        return Some(month_end(today));
    }
    if has_any(&p, &["end of the week", "end of week", "eow"]) {
        return Some(week_start(today) + Duration::days(4));
    }
    if let Some(d) = iso_date(&ws) {
        return Some(d);
    }
    let found = find_period(text, today)?;
    // A past period makes no due date.
    (found.to >= today).then(|| found.from.max(today))
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_domain::value::parse_date;

    fn d(s: &str) -> Date {
        parse_date(s).expect("date")
    }

    fn range(text: &str, today: &str) -> (String, String) {
        let p = find_period(text, d(today)).unwrap_or_else(|| panic!("no period in {text:?}"));
        (keel_domain::value::format_date(p.from), keel_domain::value::format_date(p.to))
    }

    #[test]
    fn relative_weeks_months_quarters_years() {
        // 2026-11-25 is a Wednesday.
        let today = "2026-11-25";
        assert_eq!(range("closing this week", today), ("2026-11-23".into(), "2026-11-29".into()));
        assert_eq!(range("next week", today), ("2026-11-30".into(), "2026-12-06".into()));
        assert_eq!(range("last week", today), ("2026-11-16".into(), "2026-11-22".into()));
        assert_eq!(range("this month", today), ("2026-11-01".into(), "2026-11-30".into()));
        assert_eq!(range("next month", today), ("2026-12-01".into(), "2026-12-31".into()));
        assert_eq!(range("last month", today), ("2026-10-01".into(), "2026-10-31".into()));
        assert_eq!(range("this quarter", today), ("2026-10-01".into(), "2026-12-31".into()));
        assert_eq!(range("How much did we win last quarter?", today), ("2026-07-01".into(), "2026-09-30".into()));
        assert_eq!(range("next quarter", today), ("2027-01-01".into(), "2027-03-31".into()));
        assert_eq!(range("this year", today), ("2026-01-01".into(), "2026-12-31".into()));
        assert_eq!(range("last year", today), ("2025-01-01".into(), "2025-12-31".into()));
    }

    #[test]
    fn year_boundaries_and_named_periods() {
        assert_eq!(range("last month", "2027-01-10"), ("2026-12-01".into(), "2026-12-31".into()));
        assert_eq!(range("last quarter", "2027-02-01"), ("2026-10-01".into(), "2026-12-31".into()));
        assert_eq!(range("next month", "2026-12-31"), ("2027-01-01".into(), "2027-01-31".into()));
        assert_eq!(range("this month", "2028-02-10"), ("2028-02-01".into(), "2028-02-29".into()));
        assert_eq!(range("deals closing in March", "2026-11-25"), ("2026-03-01".into(), "2026-03-31".into()));
        assert_eq!(range("Q1 2027", "2026-11-25"), ("2027-01-01".into(), "2027-03-31".into()));
        assert_eq!(range("today", "2026-11-25"), ("2026-11-25".into(), "2026-11-25".into()));
        assert_eq!(range("tomorrow", "2026-11-25"), ("2026-11-26".into(), "2026-11-26".into()));
        assert_eq!(range("in the next 30 days", "2026-11-25"), ("2026-11-25".into(), "2026-12-25".into()));
        assert_eq!(range("over the past two weeks", "2026-11-25"), ("2026-11-11".into(), "2026-11-25".into()));
        assert_eq!(range("on 2026-12-03", "2026-11-25"), ("2026-12-03".into(), "2026-12-03".into()));
        assert!(find_period("you may see deals", d("2026-11-25")).is_none(), "`may` the verb is no month");
        assert!(find_period("which deals are in negotiation", d("2026-11-25")).is_none());
    }

    #[test]
    fn due_dates() {
        let today = d("2026-11-25"); // Wednesday
        assert_eq!(find_due_date("John will send the proposal by Friday", today), Some(d("2026-11-27")));
        assert_eq!(find_due_date("by Wednesday", today), Some(d("2026-12-02")), "today's weekday means next week");
        assert_eq!(find_due_date("by next Monday", today), Some(d("2026-11-30")));
        assert_eq!(find_due_date("by next Friday", today), Some(d("2026-12-04")));
        assert_eq!(find_due_date("tomorrow", today), Some(d("2026-11-26")));
        assert_eq!(find_due_date("next week", today), Some(d("2026-11-30")));
        assert_eq!(find_due_date("by end of month", today), Some(d("2026-11-30")));
        assert_eq!(find_due_date("before 2026-12-10", today), Some(d("2026-12-10")));
        assert_eq!(find_due_date("we talked", today), None);
        assert_eq!(find_due_date("last week", today), None);
    }
}
