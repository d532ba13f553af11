//! Meeting notes without a model, pure: an extractive summary (the most informative
//! sentences, in their order), pattern-based action items with owner and due date when
//! stated ("John will send the proposal by Friday"), next steps, a lexicon sentiment and
//! a recommended deal stage from what was discussed.

use std::collections::BTreeMap;

use serde::Serialize;
use time::Date;

use crate::parse::period::find_due_date;
use crate::parse::vocab::{LOST, OPEN_STAGES, WON};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionItem {
    pub text: String,
    /// Who said they would do it; "me" for the person taking notes ("I will …").
    pub owner: Option<String>,
    pub due_date: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sentiment {
    /// positive, neutral or negative.
    pub label: &'static str,
    /// -100 (all negative words) to 100 (all positive).
    pub score: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Analysis {
    pub summary: String,
    pub key_points: Vec<String>,
    pub action_items: Vec<ActionItem>,
    pub next_steps: Vec<String>,
    pub sentiment: Sentiment,
    pub recommended_stage: Option<String>,
    /// The words that suggested the stage.
    pub stage_reason: Option<String>,
}

/// Sentences kept for the summary.
const SUMMARY_SENTENCES: usize = 3;

const STOPWORDS: &[&str] = &[
    "the", "a", "an", "and", "or", "but", "to", "of", "in", "on", "for", "with", "at", "by", "from", "is", "are",
    "was", "were", "be", "been", "it", "this", "that", "we", "i", "you", "they", "he", "she", "our", "your", "their",
    "will", "would", "can", "could", "should", "have", "has", "had", "do", "does", "did", "so", "if", "as", "about",
    "just", "also", "then", "there", "here", "what", "which", "who", "me", "us", "them", "my", "not", "all", "any",
    "some", "yes", "no", "ok", "okay", "um", "uh", "like", "really", "very", "get", "got", "going", "think", "know",
];

const CUES: &[&str] = &[
    "agreed",
    "agree",
    "decided",
    "decision",
    "budget",
    "price",
    "pricing",
    "timeline",
    "concern",
    "concerns",
    "interested",
    "need",
    "needs",
    "requirement",
    "requirements",
    "contract",
    "deadline",
    "priority",
    "risk",
    "integration",
    "approve",
    "approval",
];

const POSITIVE: &[&str] = &[
    "great",
    "excited",
    "love",
    "loved",
    "interested",
    "impressed",
    "happy",
    "perfect",
    "excellent",
    "agree",
    "agreed",
    "definitely",
    "valuable",
    "helpful",
    "good",
    "pleased",
    "positive",
    "like",
    "liked",
    "enthusiastic",
    "fantastic",
    "keen",
    "amazing",
    "easy",
    "clear",
    "confident",
    "works",
    "thanks",
    "thank",
    "approved",
    "nice",
    "glad",
];

const NEGATIVE: &[&str] = &[
    "concern",
    "concerns",
    "concerned",
    "worried",
    "worry",
    "expensive",
    "problem",
    "problems",
    "issue",
    "issues",
    "unfortunately",
    "disappointed",
    "frustrated",
    "difficult",
    "risk",
    "risky",
    "delay",
    "delays",
    "delayed",
    "unhappy",
    "hesitant",
    "unclear",
    "blocker",
    "blocked",
    "costly",
    "complaint",
    "bad",
    "slow",
    "confusing",
    "cancel",
];

fn words_of(s: &str) -> Vec<String> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '\'')).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// A sentence and who said it ("Sarah: …" in a transcript).
#[derive(Debug, Clone)]
struct Sentence {
    speaker: Option<String>,
    text: String,
}

fn speaker_of(line: &str) -> (Option<String>, &str) {
    if let Some((head, rest)) = line.split_once(':') {
        let head = head.trim();
        let is_name = !head.is_empty()
            && head.split_whitespace().count() <= 3
            && head.chars().next().is_some_and(char::is_uppercase)
            && head.chars().all(|c| c.is_alphabetic() || c == ' ' || c == '.' || c == '-');
        let label =
            matches!(head.to_lowercase().as_str(), "action item" | "todo" | "to do" | "next steps" | "next step");
        if is_name && !label {
            return (Some(head.to_string()), rest.trim());
        }
    }
    (None, line.trim())
}

fn sentences(transcript: &str) -> Vec<Sentence> {
    let mut out = Vec::new();
    for line in transcript.lines() {
        let (speaker, rest) = speaker_of(line);
        let mut current = String::new();
        let chars: Vec<char> = rest.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            current.push(c);
            let boundary = matches!(c, '.' | '!' | '?') && chars.get(i + 1).is_none_or(|n| n.is_whitespace());
            if boundary {
                push_sentence(&mut out, &speaker, &current);
                current.clear();
            }
        }
        push_sentence(&mut out, &speaker, &current);
    }
    out
}

fn push_sentence(out: &mut Vec<Sentence>, speaker: &Option<String>, text: &str) {
    let t = text.trim();
    if t.chars().filter(|c| c.is_alphanumeric()).count() >= 3 {
        out.push(Sentence { speaker: speaker.clone(), text: t.to_string() });
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Remove the due-date phrase from an action ("send the proposal by Friday" → "send the proposal").
fn without_due(text: &str) -> String {
    let lower = text.to_lowercase();
    let cut = [
        " by ",
        " before ",
        " until ",
        " on monday",
        " on tuesday",
        " on wednesday",
        " on thursday",
        " on friday",
        " tomorrow",
        " next week",
        " end of",
        " this week",
        " today",
    ]
    .iter()
    .filter_map(|m| lower.find(m))
    .min();
    let t = match cut {
        Some(i) => &text[..i],
        None => text,
    };
    t.trim().trim_end_matches(['.', '!', ',', ';']).trim().to_string()
}

/// Recognise an action item in one sentence: "<owner> will/'ll/needs to/is going to
/// <action>", "Action item: …", "Let's …".
fn action_in(s: &Sentence, today: Date) -> Option<ActionItem> {
    let text = s.text.trim_end_matches(['.', '!']);
    let lower = text.to_lowercase();
    let due = |t: &str| find_due_date(t, today).map(keel_domain::value::format_date);
    for label in ["action item:", "action:", "todo:", "to do:", "to-do:"] {
        if let Some(rest) = lower.strip_prefix(label) {
            let rest = &text[text.len() - rest.len()..];
            return Some(ActionItem { text: capitalise(&without_due(rest)), owner: None, due_date: due(rest) });
        }
    }
    let ws: Vec<&str> = text.split_whitespace().collect();
    for (i, w) in ws.iter().enumerate() {
        let lw = w.to_lowercase();
        let (owner_end, action_start) = match lw.as_str() {
            "will" | "shall" => (i, i + 1),
            _ if lw.ends_with("'ll") || lw.ends_with("’ll") => (i + 1, i + 1),
            "needs" | "need" if ws.get(i + 1).is_some_and(|n| n.eq_ignore_ascii_case("to")) => (i, i + 2),
            "is" | "are"
                if ws.get(i + 1).is_some_and(|n| n.eq_ignore_ascii_case("going"))
                    && ws.get(i + 2).is_some_and(|n| n.eq_ignore_ascii_case("to")) =>
            {
                (i, i + 3)
            }
            _ => continue,
        };
        let owner_words: Vec<&str> = if lw.ends_with("'ll") || lw.ends_with("’ll") {
            vec![w.trim_end_matches("'ll").trim_end_matches("’ll")]
        } else {
            ws[..owner_end].to_vec()
        };
        if owner_words.is_empty() || owner_words.len() > 3 || action_start >= ws.len() {
            continue;
        }
        let owner_raw = owner_words.join(" ");
        let owner = match owner_raw.to_lowercase().as_str() {
            "i" => Some(s.speaker.clone().unwrap_or_else(|| "me".into())),
            "we" | "let's" => Some("we".into()),
            "you" => None,
            _ if owner_words.iter().all(|w| w.chars().next().is_some_and(char::is_uppercase))
                && !["The", "This", "That", "It", "There", "Which"].contains(&owner_words[0]) =>
            {
                Some(owner_raw.clone())
            }
            _ => continue,
        };
        // "will" about the product or the future in general is not a task.
        let action = ws[action_start..].join(" ");
        if action.split_whitespace().count() < 2
            || matches!(ws[action_start].to_lowercase().as_str(), "be" | "have" | "probably" | "not")
        {
            continue;
        }
        return Some(ActionItem { text: capitalise(&without_due(&action)), owner, due_date: due(&action) });
    }
    if let Some(rest) = lower.strip_prefix("let's ").or_else(|| lower.strip_prefix("let us ")) {
        let rest = &text[text.len() - rest.len()..];
        return Some(ActionItem {
            text: capitalise(&without_due(rest)),
            owner: Some("we".into()),
            due_date: due(rest),
        });
    }
    None
}

fn sentiment(all: &[Sentence]) -> Sentiment {
    let (mut pos, mut neg) = (0i64, 0i64);
    for s in all {
        let ws = words_of(&s.text);
        for (i, w) in ws.iter().enumerate() {
            let negated = ws[i.saturating_sub(2)..i].iter().any(|p| {
                matches!(p.as_str(), "not" | "no" | "never" | "don't" | "isn't" | "wasn't" | "aren't" | "didn't")
            });
            let (p, n) = (POSITIVE.contains(&w.as_str()), NEGATIVE.contains(&w.as_str()));
            match (p, n, negated) {
                (true, _, false) | (_, true, true) => pos += 1,
                (true, _, true) | (_, true, false) => neg += 1,
                _ => {}
            }
        }
    }
    let score = if pos + neg == 0 { 0 } else { (pos - neg) * 100 / (pos + neg) };
    let label = match score {
        s if s > 20 => "positive",
        s if s < -20 => "negative",
        _ => "neutral",
    };
    Sentiment { label, score }
}

/// Stage cues, furthest stage first; "lost" cues win over everything.
const STAGE_CUES: &[(&str, &[&str])] = &[
    (
        LOST,
        &[
            "not interested",
            "went with another",
            "chose another",
            "chose a competitor",
            "no budget",
            "not moving forward",
            "decided against",
            "cancel the project",
        ],
    ),
    (
        WON,
        &[
            "signed the contract",
            "contract is signed",
            "contract was signed",
            "have signed",
            "purchase order",
            "verbal commit",
            "verbal yes",
            "closed the deal",
        ],
    ),
    (
        "Negotiation",
        &[
            "discount",
            "negotiat",
            "terms",
            "redline",
            "legal review",
            "ready to sign",
            "procurement",
            "counteroffer",
            "counter offer",
        ],
    ),
    ("Proposal", &["proposal", "quote", "pricing", "statement of work", "sow"]),
    ("Qualification", &["budget", "decision maker", "timeline", "requirements", "pain point", "use case"]),
];

fn stage_rank(stage: &str) -> usize {
    OPEN_STAGES.iter().position(|s| *s == stage).unwrap_or(if stage == WON { 10 } else { 0 })
}

/// May a summary recommend moving a deal from `current` to `stage`? Only to a known
/// stage, only forward (or to lost), never from a closed stage or to the same one.
pub fn allowed_move(current: Option<&str>, stage: &str) -> bool {
    let known = OPEN_STAGES.contains(&stage) || stage == WON || stage == LOST;
    let closed = current.is_some_and(|c| c == WON || c == LOST);
    let forward = match current {
        None => true,
        Some(c) => stage == LOST || stage_rank(stage) > stage_rank(c),
    };
    known && !closed && forward && current != Some(stage)
}

fn recommend(transcript: &str, current: Option<&str>) -> (Option<String>, Option<String>) {
    let lower = format!(" {} ", transcript.to_lowercase());
    for (stage, cues) in STAGE_CUES {
        if let Some(cue) = cues.iter().find(|c| lower.contains(&format!(" {c}"))) {
            let closed = current.is_some_and(|c| c == WON || c == LOST);
            let forward = match current {
                None => true,
                Some(c) => *stage == LOST || stage_rank(stage) > stage_rank(c),
            };
            if closed || !forward || current == Some(stage) {
                return (None, None);
            }
            return (Some(stage.to_string()), Some(format!("mentions “{cue}”")));
        }
    }
    (None, None)
}

/// Analyse a transcript or notes. `today` dates "by Friday"; `current_stage` is the deal's,
/// so only a move forward (or to lost) is recommended.
pub fn analyze(transcript: &str, today: Date, current_stage: Option<&str>) -> Analysis {
    let all = sentences(transcript);
    let mut freq: BTreeMap<String, i64> = BTreeMap::new();
    for s in &all {
        for w in words_of(&s.text) {
            if !STOPWORDS.contains(&w.as_str()) && w.len() > 2 {
                *freq.entry(w).or_default() += 1;
            }
        }
    }
    let mut scored: Vec<(i64, usize)> = all
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let ws = words_of(&s.text);
            let content: i64 = ws.iter().filter_map(|w| freq.get(w)).sum();
            let cues = ws.iter().filter(|w| CUES.contains(&w.as_str())).count() as i64;
            // Per-word density, so long rambling sentences do not win by length alone.
            let len = ws.len().max(1) as i64;
            (content * 100 / (len + 4) + cues * 60, i)
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut chosen: Vec<usize> = scored.iter().take(SUMMARY_SENTENCES).map(|(_, i)| *i).collect();
    chosen.sort();
    let key_points: Vec<String> = chosen.iter().map(|i| all[*i].text.clone()).collect();

    let action_items: Vec<ActionItem> = all.iter().filter_map(|s| action_in(s, today)).collect();
    let mut next_steps: Vec<String> = all
        .iter()
        .filter(|s| {
            let l = s.text.to_lowercase();
            [
                "next step",
                "follow up",
                "follow-up",
                "schedule",
                "meet again",
                "next meeting",
                "reconvene",
                "circle back",
            ]
            .iter()
            .any(|c| l.contains(c))
        })
        .map(|s| s.text.clone())
        .collect();
    if next_steps.is_empty() {
        next_steps = action_items
            .iter()
            .map(|a| match (&a.owner, &a.due_date) {
                (Some(o), Some(d)) => format!("{o}: {} (by {d})", a.text),
                (Some(o), None) => format!("{o}: {}", a.text),
                (None, Some(d)) => format!("{} (by {d})", a.text),
                (None, None) => a.text.clone(),
            })
            .collect();
    }
    let (recommended_stage, stage_reason) = recommend(transcript, current_stage);
    Analysis {
        summary: key_points.join(" "),
        key_points,
        action_items,
        next_steps,
        sentiment: sentiment(&all),
        recommended_stage,
        stage_reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        keel_domain::value::parse_date("2026-11-25").expect("date") // a Wednesday
    }

    const CALL: &str = "Sarah: Thanks for the demo, the team was really impressed with the reporting.\n\
        Sarah: Our budget for this is approved, but we have concerns about the integration timeline.\n\
        Me: Understood. John will send the proposal by Friday.\n\
        Sarah: I'll review it with our CFO next week.\n\
        Me: Let's schedule a follow-up call after that.\n\
        Sarah: The weather was nice today.";

    #[test]
    fn action_items_with_owner_and_due_date() {
        let a = analyze(CALL, today(), Some("Qualification"));
        assert_eq!(
            a.action_items[0],
            ActionItem {
                text: "Send the proposal".into(),
                owner: Some("John".into()),
                due_date: Some("2026-11-27".into())
            }
        );
        assert_eq!(
            a.action_items[1],
            ActionItem {
                text: "Review it with our CFO".into(),
                owner: Some("Sarah".into()),
                due_date: Some("2026-11-30".into())
            }
        );
        assert_eq!(a.action_items[2].owner.as_deref(), Some("we"));
        assert_eq!(a.action_items.len(), 3);
    }

    #[test]
    fn summary_sentiment_stage_and_next_steps() {
        let a = analyze(CALL, today(), Some("Qualification"));
        assert_eq!(a.key_points.len(), 3);
        assert!(a.summary.contains("budget"), "{}", a.summary);
        assert!(!a.summary.contains("weather"), "{}", a.summary);
        assert_eq!(a.sentiment.label, "positive", "{:?}", a.sentiment);
        assert_eq!(a.recommended_stage.as_deref(), Some("Proposal"));
        assert_eq!(a.next_steps, vec!["Let's schedule a follow-up call after that."]);
        // Already further along: no move backwards.
        assert_eq!(analyze(CALL, today(), Some("Negotiation")).recommended_stage, None);
    }

    #[test]
    fn negative_calls_and_lost_deals() {
        let a = analyze(
            "Unfortunately they are not interested. They were frustrated by the delays and not happy with support.",
            today(),
            Some("Proposal"),
        );
        assert_eq!(a.sentiment.label, "negative");
        assert_eq!(a.recommended_stage.as_deref(), Some(LOST));
        assert!(a.action_items.is_empty());
        let won = analyze("Great news: they signed the contract this morning.", today(), Some("Negotiation"));
        assert_eq!(won.recommended_stage.as_deref(), Some(WON));
        let empty = analyze("", today(), None);
        assert_eq!(empty.summary, "");
        assert_eq!(empty.sentiment.label, "neutral");
    }

    #[test]
    fn labelled_items_and_plain_will() {
        let a = analyze(
            "Action item: update the security questionnaire by 2026-12-04.\nThe product will be faster.",
            today(),
            None,
        );
        assert_eq!(
            a.action_items,
            vec![ActionItem {
                text: "Update the security questionnaire".into(),
                owner: None,
                due_date: Some("2026-12-04".into())
            }]
        );
    }
}
