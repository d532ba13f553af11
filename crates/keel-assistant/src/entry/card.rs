//! Smart data entry, the pure part: free text about a person → contact fields.
//!
//! "Add John Smith, VP of Sales at Acme Corp, john@acme.com" and the lines of a business
//! card ("John Smith\nVP of Sales\nAcme Corp\njohn@acme.com\n+1 415 555 0100") both
//! become first/last name, title, company name, email, phone and website. No I/O: the
//! scanned-business-card feature reuses this function on OCR text.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedContact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
}

impl ParsedContact {
    pub fn has_name(&self) -> bool {
        self.first_name.is_some() || self.last_name.is_some()
    }

    pub fn full_name(&self) -> String {
        [self.first_name.as_deref(), self.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ")
    }
}

/// Command words before the details, longest first.
const PREFIXES: &[&str] = &[
    "please add a new contact",
    "please add a contact",
    "please add",
    "create a new contact",
    "add a new contact",
    "create a contact",
    "add a contact",
    "create contact",
    "add contact",
    "new contact",
    "contact:",
    "create",
    "add",
    "new",
];

const TITLE_WORDS: &[&str] = &[
    "ceo",
    "cto",
    "cfo",
    "coo",
    "cmo",
    "cio",
    "cro",
    "ciso",
    "vp",
    "svp",
    "evp",
    "avp",
    "president",
    "vice",
    "director",
    "manager",
    "head",
    "lead",
    "engineer",
    "founder",
    "co-founder",
    "cofounder",
    "owner",
    "partner",
    "officer",
    "chief",
    "consultant",
    "analyst",
    "specialist",
    "coordinator",
    "executive",
    "representative",
    "developer",
    "architect",
    "designer",
    "administrator",
    "assistant",
    "associate",
    "principal",
    "chair",
    "chairman",
    "advisor",
    "accountant",
    "buyer",
    "procurement",
    "counsel",
    "recruiter",
    "scientist",
    "researcher",
    "intern",
    "secretary",
    "treasurer",
    "controller",
    "supervisor",
    "sales",
    "marketing",
    "operations",
    "product",
    "account",
    "svp,",
    "gm",
];

const COMPANY_SUFFIXES: &[&str] = &[
    "inc",
    "inc.",
    "incorporated",
    "corp",
    "corp.",
    "corporation",
    "llc",
    "l.l.c.",
    "ltd",
    "ltd.",
    "limited",
    "gmbh",
    "ag",
    "sa",
    "s.a.",
    "plc",
    "co",
    "co.",
    "company",
    "group",
    "holdings",
    "technologies",
    "labs",
    "systems",
    "solutions",
    "industries",
    "bv",
    "b.v.",
    "oy",
    "ab",
    "pty",
    "srl",
    "spa",
    "kg",
    "llp",
    "lp",
    "partners",
    "enterprises",
    "software",
    "consulting",
    "health",
    "bank",
    "studio",
    "studios",
];

const HONORIFICS: &[&str] = &["mr", "mr.", "mrs", "mrs.", "ms", "ms.", "dr", "dr.", "prof", "prof.", "miss", "sir"];
const NAME_SUFFIXES: &[&str] = &["jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "phd", "ph.d.", "mba", "md", "m.d."];
const LABELS: &[&str] =
    &["tel", "tel.", "phone", "mobile", "cell", "m", "t", "p", "ph", "email", "e-mail", "e", "web", "w", "website"];

fn lower_words(s: &str) -> Vec<String> {
    s.split_whitespace().map(|w| w.trim_matches(|c: char| matches!(c, ',' | ';' | ':')).to_lowercase()).collect()
}

fn is_title(s: &str) -> bool {
    lower_words(s).iter().any(|w| TITLE_WORDS.contains(&w.as_str()))
}

fn is_company(s: &str) -> bool {
    lower_words(s).last().is_some_and(|w| COMPANY_SUFFIXES.contains(&w.as_str()))
}

fn looks_like_name(s: &str) -> bool {
    let ws: Vec<&str> = s.split_whitespace().collect();
    (1..=5).contains(&ws.len())
        && ws.iter().all(|w| w.chars().all(|c| c.is_alphabetic() || matches!(c, '\'' | '-' | '.' | '’')))
        && !is_title(s)
        && !is_company(s)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    let rest = &s[prefix.len()..];
    (head.eq_ignore_ascii_case(prefix) && (rest.is_empty() || rest.starts_with([' ', ':', ',']))).then_some(rest)
}

/// Take the text after a leading command ("Add", "Create a new contact", "named").
fn strip_command(text: &str) -> &str {
    let mut t = text.trim();
    if let Some(rest) = PREFIXES.iter().find_map(|p| strip_prefix_ci(t, p)) {
        t = rest.trim_start_matches([' ', ':', ',']);
    }
    for w in ["named ", "called "] {
        if let Some(rest) = strip_prefix_ci(t, w.trim_end()) {
            t = rest.trim_start();
        }
    }
    t
}

fn is_email(tok: &str) -> bool {
    let Some((local, domain)) = tok.split_once('@') else { return false };
    !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
}

fn clean_token(tok: &str) -> &str {
    tok.trim_matches(|c: char| matches!(c, '<' | '>' | '(' | ')' | ',' | ';' | '"' | '\'' | '[' | ']'))
        .trim_end_matches('.')
}

fn is_website(tok: &str) -> bool {
    let t = tok.to_lowercase();
    !t.contains('@')
        && (t.starts_with("http://")
            || t.starts_with("https://")
            || t.starts_with("www.")
            || [".com", ".io", ".org", ".net", ".co", ".ai", ".dev", ".de", ".uk"]
                .iter()
                .any(|tld| t.ends_with(tld) && t.len() > tld.len() + 1 && !t.contains(' ')))
}

/// The longest run of phone characters holding 7 to 15 digits.
fn find_phone(segment: &str) -> Option<(usize, usize)> {
    let chars: Vec<(usize, char)> = segment.char_indices().collect();
    let mut best: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < chars.len() {
        if chars[i].1 == '+' || chars[i].1.is_ascii_digit() || chars[i].1 == '(' {
            let mut j = i;
            let mut digits = 0;
            while j < chars.len() && (chars[j].1.is_ascii_digit() || " +-().".contains(chars[j].1)) {
                if chars[j].1.is_ascii_digit() {
                    digits += 1;
                }
                j += 1;
            }
            let end = if j < chars.len() { chars[j].0 } else { segment.len() };
            if (7..=15).contains(&digits) && best.is_none_or(|(s, e)| end - chars[i].0 > e - s) {
                best = Some((chars[i].0, end));
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    best
}

/// Capitalise an all-lower-case name ("john smith" → "John Smith"); leave others as typed.
fn tidy_name(s: &str) -> String {
    if s.chars().any(char::is_uppercase) {
        return s.to_string();
    }
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn split_name(name: &str) -> (Option<String>, Option<String>) {
    let mut parts: Vec<&str> = name.split_whitespace().collect();
    while parts.first().is_some_and(|w| HONORIFICS.contains(&w.to_lowercase().as_str())) {
        parts.remove(0);
    }
    while parts.len() > 1
        && parts.last().is_some_and(|w| NAME_SUFFIXES.contains(&w.to_lowercase().trim_end_matches(',')))
    {
        parts.pop();
    }
    match parts.len() {
        0 => (None, None),
        1 => (Some(tidy_name(parts[0])), None),
        _ => (Some(tidy_name(parts[0])), Some(tidy_name(&parts[1..].join(" ")))),
    }
}

/// Split "X at Y" / "X from Y" / "X @ Y" (case-insensitive, whole words).
fn split_at_company(s: &str) -> Option<(String, String)> {
    let lower = s.to_lowercase();
    for sep in [" at ", " from ", " with ", " @ "] {
        if let Some(i) = lower.find(sep) {
            let (l, r) = (s[..i].trim(), s[i + sep.len()..].trim());
            if !r.is_empty() {
                return Some((l.to_string(), r.to_string()));
            }
        }
    }
    lower.strip_prefix("at ").map(|_| (String::new(), s[3..].trim().to_string()))
}

/// Turn separators into commas: `|`, `•`, `;`, tabs, and parentheses that are not part
/// of a phone number ("(CTO, Hooli Inc)" splits, "(415) 555-0134" stays).
fn separate(body: &str) -> String {
    let chars: Vec<char> = body.chars().collect();
    let mut out = String::with_capacity(body.len());
    for (i, &c) in chars.iter().enumerate() {
        let digit_next = chars.get(i + 1).is_some_and(char::is_ascii_digit);
        let digit_before = i > 0 && chars[i - 1].is_ascii_digit();
        match c {
            '(' if !digit_next => out.push(','),
            ')' if !digit_before => out.push(','),
            '|' | '•' | ';' | '\t' => out.push(','),
            _ => out.push(c),
        }
    }
    out
}

/// Parse free text about one person into contact fields.
pub fn parse_contact_text(text: &str) -> ParsedContact {
    let mut out = ParsedContact::default();
    let body = strip_command(text);
    // Parentheses and separators all split details; a lone "-" between spaces does too.
    let normalised = separate(body).replace(" - ", ",").replace(" — ", ",");
    let mut rest: Vec<String> = Vec::new();
    for line in normalised.split(['\n', '\r', ',']) {
        let mut seg = line.trim().to_string();
        if seg.is_empty() {
            continue;
        }
        // Emails and websites are whole tokens.
        let mut kept = Vec::new();
        for tok in seg.split_whitespace() {
            let t = clean_token(tok.strip_prefix("mailto:").unwrap_or(tok));
            if is_email(t) && out.email.is_none() {
                out.email = Some(t.to_lowercase());
            } else if is_website(t) && out.website.is_none() {
                out.website = Some(t.to_string());
            } else {
                kept.push(tok);
            }
        }
        seg = kept.join(" ");
        if out.phone.is_none()
            && let Some((s, e)) = find_phone(&seg)
        {
            out.phone = Some(seg[s..e].trim().to_string());
            seg = format!("{} {}", &seg[..s], &seg[e..]).trim().to_string();
        }
        // Leftover labels ("Tel:", "Email") are not details.
        let words: Vec<&str> = seg
            .split_whitespace()
            .filter(|w| !LABELS.contains(&w.trim_end_matches(':').to_lowercase().as_str()) || !w.ends_with(':'))
            .collect();
        let seg = words.join(" ").trim_end_matches(':').trim().to_string();
        if !seg.is_empty() && !LABELS.contains(&seg.to_lowercase().as_str()) {
            rest.push(seg);
        }
    }

    let mut name: Option<String> = None;
    for (k, seg) in rest.iter().enumerate() {
        if let Some((left, right)) = split_at_company(seg) {
            if out.company.is_none() {
                out.company = Some(right);
            }
            if left.is_empty() {
                continue;
            }
            if name.is_none() && k == 0 && looks_like_name(&left) {
                name = Some(left);
            } else if out.title.is_none() {
                out.title = Some(left);
            }
            continue;
        }
        if is_company(seg) && out.company.is_none() {
            out.company = Some(seg.clone());
        } else if name.is_none() && looks_like_name(seg) {
            name = Some(seg.clone());
        } else if is_title(seg) && out.title.is_none() {
            out.title = Some(seg.clone());
        } else if out.company.is_none() && name.is_some() {
            out.company = Some(seg.clone());
        } else if name.is_none() {
            name = Some(seg.clone());
        }
    }
    if let Some(n) = name {
        (out.first_name, out.last_name) = split_name(&n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn the_guides_example() {
        let p = parse_contact_text("Add John Smith, VP of Sales at Acme Corp, john@acme.com");
        assert_eq!(
            p,
            ParsedContact {
                first_name: some("John"),
                last_name: some("Smith"),
                title: some("VP of Sales"),
                company: some("Acme Corp"),
                email: some("john@acme.com"),
                ..Default::default()
            }
        );
    }

    #[test]
    fn a_business_card() {
        let p = parse_contact_text(
            "Dr. Maria Garcia-Lopez\nChief Technology Officer\nGlobex Industries\nTel: +1 (415) 555-0134\nmaria.garcia@globex.example\nwww.globex.example",
        );
        assert_eq!(p.first_name, some("Maria"));
        assert_eq!(p.last_name, some("Garcia-Lopez"));
        assert_eq!(p.title, some("Chief Technology Officer"));
        assert_eq!(p.company, some("Globex Industries"));
        assert_eq!(p.phone, some("+1 (415) 555-0134"));
        assert_eq!(p.email, some("maria.garcia@globex.example"));
        assert_eq!(p.website, some("www.globex.example"));
    }

    #[test]
    fn everyday_variants() {
        let p = parse_contact_text("Create a new contact at TechStart Inc");
        assert_eq!(p.company, some("TechStart Inc"));
        assert!(!p.has_name());

        let p = parse_contact_text("create a new contact named Jane Doe at TechStart Inc");
        assert_eq!((p.first_name, p.last_name, p.company), (some("Jane"), some("Doe"), some("TechStart Inc")));

        let p = parse_contact_text("add jane doe from Initech LLC, jane@initech.com, 415-555-0100");
        assert_eq!(p.first_name, some("Jane"));
        assert_eq!(p.last_name, some("Doe"));
        assert_eq!(p.company, some("Initech LLC"));
        assert_eq!(p.phone, some("415-555-0100"));

        let p = parse_contact_text("Bob Lee (CTO, Hooli Inc) <bob@hooli.com>");
        assert_eq!(p.first_name, some("Bob"));
        assert_eq!(p.title, some("CTO"));
        assert_eq!(p.company, some("Hooli Inc"));
        assert_eq!(p.email, some("bob@hooli.com"));

        let p = parse_contact_text("Cher, cher@example.com");
        assert_eq!((p.first_name, p.last_name), (some("Cher"), None));

        let p = parse_contact_text("Add Ana Silva, Head of Procurement, Acme Corp");
        assert_eq!(p.title, some("Head of Procurement"));
        assert_eq!(p.company, some("Acme Corp"));
    }

    #[test]
    fn nothing_useful_yields_nothing() {
        assert_eq!(parse_contact_text(""), ParsedContact::default());
        assert_eq!(parse_contact_text("add"), ParsedContact::default());
        let p = parse_contact_text("call me at 12");
        assert_eq!(p.phone, None);
    }
}
