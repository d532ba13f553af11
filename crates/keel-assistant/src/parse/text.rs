//! Word-level helpers shared by the parsers: lower-cased words with their original
//! spelling kept (names keep their capitals), phrase lookup on word boundaries, and
//! "the name after a preposition".

/// One word of a request: as typed, and lower-cased with surrounding punctuation removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub raw: String,
    pub norm: String,
    /// The word ended a clause (`,` `?` `.` `!` `;` `:` after it).
    pub ends_clause: bool,
}

/// Split a request into words. Inner punctuation that belongs to a token stays (`$1.2M`,
/// `john@acme.com`, `51-200`, `O'Brien`); trailing `?`, `,` and the like end a clause.
pub fn words(text: &str) -> Vec<Word> {
    text.split_whitespace()
        .filter_map(|tok| {
            let trimmed_end = tok.trim_end_matches([',', '?', '.', '!', ';', ':', ')', '"']);
            let ends_clause = trimmed_end.len() != tok.len();
            let raw = trimmed_end.trim_start_matches(['(', '"']).to_string();
            if raw.is_empty() {
                return None;
            }
            let norm = raw
                .to_lowercase()
                .trim_matches(|c: char| !(c.is_alphanumeric() || c == '$' || c == '+' || c == '\''))
                .to_string();
            Some(Word { raw, norm, ends_clause })
        })
        .collect()
}

/// Lower-case text with single spaces and no clause punctuation, padded with a space on
/// each side, so `has(" this week ")` matches whole words only.
pub fn padded(text: &str) -> String {
    let mut out = String::from(" ");
    for w in words(text) {
        out.push_str(&w.norm);
        out.push(' ');
    }
    out
}

/// Whether the padded text contains any of `phrases` as whole words.
pub fn has_any(padded: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| padded.contains(&format!(" {p} ")))
}

/// Index of the first word where `phrase` (lower-case words) starts.
pub fn find_phrase(words: &[Word], phrase: &str) -> Option<usize> {
    let parts: Vec<&str> = phrase.split(' ').collect();
    (0..words.len())
        .find(|&i| i + parts.len() <= words.len() && parts.iter().enumerate().all(|(k, p)| words[i + k].norm == *p))
}

/// Words that end a name phrase: comparisons, periods, clause starters.
const STOP: &[&str] = &[
    "over",
    "above",
    "under",
    "below",
    "more",
    "less",
    "greater",
    "between",
    "at",
    "with",
    "for",
    "from",
    "in",
    "on",
    "closing",
    "close",
    "closes",
    "closed",
    "due",
    "this",
    "next",
    "last",
    "that",
    "which",
    "who",
    "where",
    "worth",
    "about",
    "regarding",
    "re",
    "by",
    "to",
    "and",
    "or",
    "today",
    "tomorrow",
    "yesterday",
    "as",
    "into",
    "is",
    "are",
    "was",
    "were",
    "amount",
    "valued",
    "stage",
    "owned",
    "called",
    "named",
    "titled",
    "saying",
    "because",
];

/// Leading words a name phrase drops ("the Acme deal" → "Acme").
const LEADING: &[&str] = &["the", "our", "my", "a", "an", "their", "his", "her"];

/// The name after the first of `preps` (original spelling), up to a stop word or the end
/// of the clause: "Who is the contact at Acme Corp?" with `at` → "Acme Corp".
pub fn phrase_after(words: &[Word], preps: &[&str]) -> Option<String> {
    let start = words.iter().position(|w| preps.contains(&w.norm.as_str()) && !w.ends_clause)? + 1;
    phrase_from(words, start)
}

/// The name starting at word `start`, up to a stop word or the end of the clause.
pub fn phrase_from(words: &[Word], start: usize) -> Option<String> {
    let mut i = start;
    while i < words.len() && LEADING.contains(&words[i].norm.as_str()) {
        i += 1;
    }
    let mut parts = Vec::new();
    while i < words.len() {
        let w = &words[i];
        if STOP.contains(&w.norm.as_str()) || w.norm.starts_with('$') {
            break;
        }
        parts.push(w.raw.trim_end_matches("'s").trim_end_matches("’s").to_string());
        if w.ends_clause || w.raw.ends_with("'s") {
            break;
        }
        i += 1;
    }
    let phrase = parts.join(" ").trim().to_string();
    (!phrase.is_empty()).then_some(phrase)
}

/// Capitalised words right before word `end` ("Show Acme Corp deals" → "Acme Corp"),
/// leaving out sentence-initial command words.
pub fn capitalised_before(words: &[Word], end: usize) -> Option<String> {
    const COMMANDS: &[&str] = &[
        "show",
        "list",
        "find",
        "get",
        "display",
        "which",
        "what",
        "all",
        "my",
        "the",
        "summarize",
        "summarise",
        "tell",
        "me",
        "any",
        "open",
        "our",
        "won",
        "lost",
        "i",
        "who",
        "give",
    ];
    let mut start = end;
    while start > 0 {
        let w = &words[start - 1];
        let capital = w.raw.chars().next().is_some_and(char::is_uppercase);
        if !capital || COMMANDS.contains(&w.norm.as_str()) || w.ends_clause {
            break;
        }
        start -= 1;
    }
    let phrase: Vec<String> =
        words[start..end].iter().map(|w| w.raw.trim_end_matches("'s").trim_end_matches("’s").to_string()).collect();
    let phrase = phrase.join(" ");
    (!phrase.is_empty()).then_some(phrase)
}

/// Text between the first two double quotes, if any: `called "Q4 expansion"`.
pub fn quoted(text: &str) -> Option<String> {
    let start = text.find(['"', '“'])?;
    let rest = &text[start + text[start..].chars().next().map_or(1, char::len_utf8)..];
    let end = rest.find(['"', '”'])?;
    let q = rest[..end].trim();
    (!q.is_empty()).then(|| q.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_tokens_and_mark_clause_ends() {
        let w = words("Who is the contact at Acme Corp? Over $1.2M, john@acme.com.");
        assert_eq!(w[5].raw, "Acme");
        assert_eq!(w[6].raw, "Corp");
        assert!(w[6].ends_clause);
        assert_eq!(w[8].norm, "$1.2m");
        assert_eq!(w[9].raw, "john@acme.com");
    }

    #[test]
    fn phrases_after_prepositions_stop_at_stop_words() {
        let w = words("Who is the contact at Acme Corp?");
        assert_eq!(phrase_after(&w, &["at"]).as_deref(), Some("Acme Corp"));
        let w = words("Log a call with Sarah Johnson about pricing");
        assert_eq!(phrase_after(&w, &["with"]).as_deref(), Some("Sarah Johnson"));
        let w = words("deals with Globex over $5K");
        assert_eq!(phrase_after(&w, &["with"]).as_deref(), Some("Globex"));
        let w = words("Summarize the Acme Corp's deal");
        assert_eq!(phrase_from(&w, 1).as_deref(), Some("Acme Corp"));
    }

    #[test]
    fn capitalised_names_before_a_noun() {
        let w = words("Show Acme Corp deals");
        assert_eq!(capitalised_before(&w, 3).as_deref(), Some("Acme Corp"));
        let w = words("show my deals");
        assert_eq!(capitalised_before(&w, 2), None);
    }

    #[test]
    fn padded_matching_is_whole_words() {
        let p = padded("What deals are closing this week?");
        assert!(has_any(&p, &["this week"]));
        assert!(!has_any(&p, &["closed"]));
        assert_eq!(quoted("a deal called \"Q4 expansion\" for Acme").as_deref(), Some("Q4 expansion"));
    }
}
