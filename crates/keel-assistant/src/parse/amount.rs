//! Money in requests: "$50K", "$1.2M", "50,000", "2 million", "$75,000.50" → integer
//! minor units (cents), and the comparisons around them ("over", "at least", "between …
//! and …"). Decimal arithmetic on integers, never floating point.

use serde::{Deserialize, Serialize};

use super::text::Word;

/// Bounds on an amount, in minor units; any may be absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmountRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gt: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gte: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lt: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lte: Option<i64>,
}

impl AmountRange {
    pub fn is_empty(&self) -> bool {
        *self == AmountRange::default()
    }
}

fn multiplier(suffix: &str) -> Option<i128> {
    Some(match suffix {
        "" => 1,
        "k" | "thousand" | "grand" => 1_000,
        "m" | "mm" | "mn" | "million" | "millions" => 1_000_000,
        "b" | "bn" | "billion" => 1_000_000_000,
        _ => return None,
    })
}

/// One amount in whole currency units written as `word` (optionally followed by a scale
/// word in `next`): returns minor units and how many words it used. Plain numbers need a
/// `$` or a scale (a bare "2026" is more likely a year) unless `bare_ok`.
pub fn amount_at(word: &str, next: Option<&str>, bare_ok: bool) -> Option<(i64, usize)> {
    let w = word.to_lowercase();
    let (dollar, rest) = match w.strip_prefix('$') {
        Some(r) => (true, r),
        None => (false, w.strip_prefix("usd").unwrap_or(&w)),
    };
    let rest = rest.trim_end_matches('+');
    let digits_end = rest.find(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.')).unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(digits_end);
    if number.is_empty() || !number.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let (mut scale, mut used) = (multiplier(suffix)?, 1);
    if suffix.is_empty()
        && let Some(m) = next.and_then(|n| multiplier(n.trim_end_matches(['.', ',', '?'])))
        && m > 1
    {
        scale = m;
        used = 2;
    }
    if !dollar && scale == 1 && !bare_ok && !number.contains(',') {
        return None;
    }
    let cents = decimal_cents(number, scale)?;
    Some((cents, used))
}

/// "1,234.5" × `scale` in cents, exactly. Commas must group thousands.
fn decimal_cents(number: &str, scale: i128) -> Option<i64> {
    let (int_part, frac) = match number.split_once('.') {
        Some((i, f)) => (i, f),
        None => (number, ""),
    };
    if frac.contains([',', '.']) || frac.len() > 6 {
        return None;
    }
    let groups: Vec<&str> = int_part.split(',').collect();
    if groups.len() > 1 && (groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
        return None;
    }
    let int: i128 = groups.concat().parse().ok()?;
    let frac_digits = frac.len() as u32;
    let frac_value: i128 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    let denom = 10i128.pow(frac_digits);
    let mantissa = int.checked_mul(denom)?.checked_add(frac_value)?;
    let cents = mantissa.checked_mul(scale)?.checked_mul(100)? / denom;
    i64::try_from(cents).ok()
}

/// The comparison words before an amount, longest first.
const LOWER_EXCLUSIVE: &[&str] =
    &["more than", "greater than", "bigger than", "larger than", "higher than", "over", "above", "exceeding", ">"];
const LOWER_INCLUSIVE: &[&str] = &["at least", "minimum of", "min", "no less than", ">="];
const UPPER_EXCLUSIVE: &[&str] = &["less than", "smaller than", "lower than", "under", "below", "<"];
const UPPER_INCLUSIVE: &[&str] = &["at most", "up to", "no more than", "maximum of", "max", "<="];

fn preceded_by(words: &[Word], i: usize, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| {
        let parts: Vec<&str> = p.split(' ').collect();
        parts.len() <= i && parts.iter().enumerate().all(|(k, part)| words[i - parts.len() + k].norm == *part)
    })
}

/// Amount bounds stated in a request: "over $50K", "between $10K and $20K",
/// "$100K or more", "at most 5,000". Returns None when no bound is stated.
pub fn find_range(words: &[Word]) -> Option<AmountRange> {
    let mut range = AmountRange::default();
    let mut i = 0;
    while i < words.len() {
        let next = words.get(i + 1).map(|w| w.norm.as_str());
        let between = preceded_by(words, i, &["between"]);
        let compared = between
            || [LOWER_EXCLUSIVE, LOWER_INCLUSIVE, UPPER_EXCLUSIVE, UPPER_INCLUSIVE]
                .iter()
                .any(|p| preceded_by(words, i, p));
        let Some((cents, used)) = amount_at(&words[i].norm, next, compared) else {
            i += 1;
            continue;
        };
        let after: Vec<&str> = words[i + used..].iter().take(2).map(|w| w.norm.as_str()).collect();
        if between {
            // "between $10K and $20K": the second amount follows "and".
            let hi_at = i + used + 1;
            if words.get(i + used).is_some_and(|w| w.norm == "and")
                && let Some((hi, used2)) = words
                    .get(hi_at)
                    .and_then(|w| amount_at(&w.norm, words.get(hi_at + 1).map(|n| n.norm.as_str()), true))
            {
                range.gte = Some(cents.min(hi));
                range.lte = Some(cents.max(hi));
                i = hi_at + used2;
                continue;
            }
        }
        if preceded_by(words, i, LOWER_INCLUSIVE)
            || words[i].norm.ends_with('+')
            || matches!(after.as_slice(), ["or", "more" | "above" | "higher" | "over"] | ["and", "up" | "above"])
        {
            range.gte = Some(cents);
        } else if preceded_by(words, i, LOWER_EXCLUSIVE) {
            range.gt = Some(cents);
        } else if preceded_by(words, i, UPPER_INCLUSIVE)
            || matches!(after.as_slice(), ["or", "less" | "below" | "under"])
        {
            range.lte = Some(cents);
        } else if preceded_by(words, i, UPPER_EXCLUSIVE) {
            range.lt = Some(cents);
        }
        i += used;
    }
    (!range.is_empty()).then_some(range)
}

/// The first amount in a request however it is introduced ("worth $20K", "for 15,000"),
/// for creating or updating a deal.
pub fn find_amount(words: &[Word]) -> Option<i64> {
    (0..words.len()).find_map(|i| {
        let bare_ok = preceded_by(words, i, &["worth", "for", "of", "to", "amount", "valued at", "value"]);
        amount_at(&words[i].norm, words.get(i + 1).map(|w| w.norm.as_str()), bare_ok).map(|(c, _)| c)
    })
}

/// Whole currency units with thousands separators: 5000000 → "$50,000"; cents shown
/// only when there are any.
pub fn format_money(minor: i64, currency: &str) -> String {
    let symbol = match currency {
        "USD" | "" => "$",
        "EUR" => "€",
        "GBP" => "£",
        _ => "",
    };
    let negative = minor < 0;
    let abs = minor.unsigned_abs();
    let (whole, cents) = (abs / 100, abs % 100);
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if negative { "-" } else { "" };
    let body = if cents == 0 { grouped } else { format!("{grouped}.{cents:02}") };
    if symbol.is_empty() { format!("{sign}{body} {currency}") } else { format!("{sign}{symbol}{body}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::text::words;

    #[test]
    fn amounts_in_everyday_spellings() {
        assert_eq!(amount_at("$50k", None, false), Some((5_000_000, 1)));
        assert_eq!(amount_at("$1.2m", None, false), Some((120_000_000, 1)));
        assert_eq!(amount_at("50,000", None, false), Some((5_000_000, 1)));
        assert_eq!(amount_at("$75,000.50", None, false), Some((7_500_050, 1)));
        assert_eq!(amount_at("2", Some("million"), false), Some((200_000_000, 2)));
        assert_eq!(amount_at("$500", None, false), Some((50_000, 1)));
        assert_eq!(amount_at("$100k+", None, false), Some((10_000_000, 1)));
        assert_eq!(amount_at("2026", None, false), None, "a bare number is not money");
        assert_eq!(amount_at("2026", None, true), Some((202_600, 1)));
        assert_eq!(amount_at("1,00", None, true), None, "commas group thousands");
        assert_eq!(amount_at("abc", None, true), None);
        assert_eq!(amount_at("$99999999999999999999", None, true), None, "overflow is no amount");
    }

    #[test]
    fn comparisons_become_bounds() {
        let r = find_range(&words("deals with tech companies over $50K")).expect("bound");
        assert_eq!(r, AmountRange { gt: Some(5_000_000), ..Default::default() });
        let r = find_range(&words("deals under 20,000")).expect("bound");
        assert_eq!(r, AmountRange { lt: Some(2_000_000), ..Default::default() });
        let r = find_range(&words("deals between $10K and $25K")).expect("bound");
        assert_eq!(r, AmountRange { gte: Some(1_000_000), lte: Some(2_500_000), ..Default::default() });
        let r = find_range(&words("deals of $1M or more")).expect("bound");
        assert_eq!(r, AmountRange { gte: Some(100_000_000), ..Default::default() });
        let r = find_range(&words("at least $5k and at most $9k")).expect("bound");
        assert_eq!(r, AmountRange { gte: Some(500_000), lte: Some(900_000), ..Default::default() });
        let r = find_range(&words("deals above 50 thousand")).expect("bound");
        assert_eq!(r.gt, Some(5_000_000));
        assert_eq!(find_range(&words("deals closing in 2026")), None);
        assert_eq!(find_range(&words("what deals are closing this month")), None);
    }

    #[test]
    fn first_amount_for_writes() {
        assert_eq!(find_amount(&words("create a deal for Acme worth $20K")), Some(2_000_000));
        assert_eq!(find_amount(&words("set the amount to 30000")), Some(3_000_000));
        assert_eq!(find_amount(&words("create a deal for Acme")), None);
    }

    #[test]
    fn money_formats_with_separators() {
        assert_eq!(format_money(5_000_000, "USD"), "$50,000");
        assert_eq!(format_money(120_000_050, "USD"), "$1,200,000.50");
        assert_eq!(format_money(0, "EUR"), "€0");
        assert_eq!(format_money(1_000, "CHF"), "10 CHF");
    }
}
