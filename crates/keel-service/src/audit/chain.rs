//! The audit log's hash chain: the canonical form of an entry, its hash, and the
//! verifier that walks the chain and names the first broken link.
//!
//! # Byte layout (format version 1)
//!
//! ```text
//! hash      = lowercase_hex( SHA-256( prev_hash || canonical ) )
//! prev_hash = the previous entry's `hash`: 64 ASCII bytes [0-9a-f]; for the very first
//!             entry, 64 ASCII zeros ("000…0")
//! canonical = the UTF-8 bytes of this JSON array, with no whitespace anywhere:
//!             [1,seq,at,actor_id,action,entity,record_id,details,ip,user_agent,request_id]
//! ```
//!
//! Nothing separates `prev_hash` from `canonical`: `prev_hash` always has exactly 64 bytes.
//! The array's members, in this order:
//!
//! | member       | JSON form                                                          |
//! |--------------|--------------------------------------------------------------------|
//! | `1`          | the format version, the integer 1                                  |
//! | `seq`        | integer, decimal, no sign or leading zeros                         |
//! | `at`         | string `YYYY-MM-DDTHH:MM:SS.ffffffZ`: UTC, exactly six fractional digits (microseconds, what both databases keep) |
//! | `actor_id`   | string, lowercase hyphenated UUID, or `null`                       |
//! | `action`     | string, e.g. `"record.updated"`                                    |
//! | `entity`     | string or `null`                                                   |
//! | `record_id`  | string, lowercase hyphenated UUID, or `null`                       |
//! | `details`    | canonical JSON (below)                                             |
//! | `ip`, `user_agent`, `request_id` | string or `null`                               |
//!
//! Canonical JSON: no whitespace; object members sorted by the UTF-8 bytes of their keys;
//! integers in decimal (`-12`, `0`); other numbers as serde_json prints them (shortest
//! round-trip form); `true`, `false`, `null`; strings in double quotes with `"` → `\"`,
//! `\` → `\\`, U+0008 → `\b`, U+000C → `\f`, U+000A → `\n`, U+000D → `\r`, U+0009 → `\t`,
//! every other character below U+0020 as `\u00xx` (lowercase hex), and everything else,
//! non-ASCII included, as its raw UTF-8 bytes. This is the same escaping RFC 8785 uses.
//!
//! Written by hand (thirty lines) rather than taken from a crate because these bytes
//! must never change: a dependency update that altered them would break every chain. The
//! round trip through PostgreSQL's JSONB (which reorders keys and drops whitespace) does
//! not change the canonical form, which is why it is recomputed from values rather than
//! stored text.
//!
//! # What verification checks
//!
//! Entries are read oldest first. For each one: its `seq` follows the previous entry's
//! (else a gap: entries were deleted), its `prev_hash` equals the previous entry's `hash`,
//! and its `hash` is what the layout above gives (else the entry was altered). The oldest
//! remaining entry either is seq 1 and chains from the 64 zeros, or was left by a
//! retention purge: an `audit.purged` entry records `last_purged_seq` and
//! `last_purged_hash`, and the oldest entry must be seq `last_purged_seq + 1` with
//! `prev_hash == last_purged_hash`. The purge entry is itself part of the chain, so a
//! forged anchor breaks the chain where it sits.
//!
//! A hash chain cannot show that the newest entries were removed, or that someone with
//! write access rewrote the whole chain; keep the head hash (printed by
//! `keel audit verify`) somewhere else to detect that.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use keel_domain::value::format_timestamp;
use keel_store::audit::AuditEntry;
use serde::Serialize;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry ever written.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// The canonical form's version, its first member.
const FORMAT_VERSION: u8 = 1;

/// The entry's canonical serialisation (everything but `prev_hash` and `hash`).
pub fn canonical(e: &AuditEntry) -> String {
    let mut out = canonical_head(e.seq);
    out.push_str(&canonical_tail(e));
    out
}

/// The canonical form up to and including the comma after `seq`.
fn canonical_head(seq: i64) -> String {
    format!("[{FORMAT_VERSION},{seq},")
}

/// The canonical form after `seq`'s comma: all of it that does not depend on the
/// entry's place in the chain, so it can be made before the entry is numbered.
pub fn canonical_tail(e: &AuditEntry) -> String {
    let mut out = String::with_capacity(256);
    write_str(&mut out, &format_timestamp(e.at));
    out.push(',');
    write_opt(&mut out, e.actor_id.map(|u| u.to_string()).as_deref());
    out.push(',');
    write_str(&mut out, &e.action);
    out.push(',');
    write_opt(&mut out, e.entity.as_deref());
    out.push(',');
    write_opt(&mut out, e.record_id.map(|u| u.to_string()).as_deref());
    out.push(',');
    write_json(&mut out, &e.details);
    for s in [&e.ip, &e.user_agent, &e.request_id] {
        out.push(',');
        write_opt(&mut out, s.as_deref());
    }
    out.push(']');
    out
}

/// `hash` for an entry whose `prev_hash` is set.
pub fn entry_hash(e: &AuditEntry) -> String {
    hash_of(&e.prev_hash, e.seq, &canonical_tail(e))
}

/// `hash` for the entry numbered `seq` after `prev_hash`, from its `canonical_tail`.
pub fn hash_of(prev_hash: &str, seq: i64, tail: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical_head(seq).as_bytes());
    h.update(tail.as_bytes());
    hex::encode(h.finalize())
}

fn write_opt(out: &mut String, s: Option<&str>) {
    match s {
        Some(s) => write_str(out, s),
        None => out.push_str("null"),
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_json(out: &mut String, v: &Json) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Json::String(s) => write_str(out, s),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Json::Object(map) => {
            let mut members: Vec<(&String, &Json)> = map.iter().collect();
            members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                write_json(out, v);
            }
            out.push('}');
        }
    }
}

/// Why a link is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakReason {
    /// The entry's content does not hash to its `hash`: it was altered.
    HashMismatch,
    /// The entry's `prev_hash` is not the previous entry's `hash` (or the 64 zeros, or the
    /// purge anchor): an entry before it was altered and re-hashed, or replaced.
    PrevHashMismatch,
    /// Sequence numbers skip: entries before this one were deleted.
    Gap,
}

impl BreakReason {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakReason::HashMismatch => "hash mismatch",
            BreakReason::PrevHashMismatch => "prev_hash mismatch",
            BreakReason::Gap => "gap",
        }
    }
}

/// The first broken link: the entry at `seq` does not fit the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: BreakReason,
    pub detail: String,
}

/// The outcome of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// True when every entry checked out.
    pub ok: bool,
    /// Entries checked (up to and including the broken one).
    pub checked: u64,
    /// The oldest entry (later than 1 after a retention purge).
    pub first_seq: Option<i64>,
    /// The newest entry checked.
    pub last_seq: Option<i64>,
    /// The `hash` of `last_seq`: record it elsewhere to detect a rewrite of the whole chain.
    pub head_hash: Option<String>,
    pub broken: Option<BrokenLink>,
}

/// The retention anchors: `last_purged_seq → last_purged_hash` from the `audit.purged`
/// entries' details.
pub fn anchors(purge_details: &[(i64, Json)]) -> BTreeMap<i64, String> {
    purge_details
        .iter()
        .filter_map(|(_, d)| {
            Some((d.get("last_purged_seq")?.as_i64()?, d.get("last_purged_hash")?.as_str()?.to_string()))
        })
        .collect()
}

/// Walks the chain one entry at a time (the caller pages through the table).
pub struct Verifier {
    anchors: BTreeMap<i64, String>,
    /// The last good entry's seq and hash.
    prev: Option<(i64, String)>,
    first_seq: Option<i64>,
    checked: u64,
}

impl Verifier {
    pub fn new(anchors: BTreeMap<i64, String>) -> Self {
        Self { anchors, prev: None, first_seq: None, checked: 0 }
    }

    /// Check the next entry in seq order.
    pub fn check(&mut self, e: &AuditEntry) -> Result<(), BrokenLink> {
        self.checked += 1;
        let broken = |reason: BreakReason, detail: String| BrokenLink { seq: e.seq, reason, detail };
        match &self.prev {
            None => {
                self.first_seq = Some(e.seq);
                if e.seq == 1 {
                    if e.prev_hash != GENESIS_HASH {
                        return Err(broken(
                            BreakReason::PrevHashMismatch,
                            "the first entry does not chain from the 64 zeros".into(),
                        ));
                    }
                } else {
                    match self.anchors.get(&(e.seq - 1)) {
                        None => {
                            return Err(broken(
                                BreakReason::Gap,
                                format!(
                                    "the oldest entry is seq {}, but no audit.purged entry accounts for entries 1 to {}",
                                    e.seq,
                                    e.seq - 1
                                ),
                            ));
                        }
                        Some(anchor) if *anchor != e.prev_hash => {
                            return Err(broken(
                                BreakReason::PrevHashMismatch,
                                format!(
                                    "prev_hash is not the hash of purged entry {} that audit.purged recorded",
                                    e.seq - 1
                                ),
                            ));
                        }
                        Some(_) => {}
                    }
                }
            }
            Some((prev_seq, prev_hash)) => {
                if e.seq != prev_seq + 1 {
                    return Err(broken(
                        BreakReason::Gap,
                        format!(
                            "seq {} follows seq {prev_seq}: entries {} to {} are missing",
                            e.seq,
                            prev_seq + 1,
                            e.seq - 1
                        ),
                    ));
                }
                if e.prev_hash != *prev_hash {
                    return Err(broken(
                        BreakReason::PrevHashMismatch,
                        format!("prev_hash is not the hash of entry {prev_seq}: that entry was altered or replaced"),
                    ));
                }
            }
        }
        if entry_hash(e) != e.hash {
            return Err(broken(
                BreakReason::HashMismatch,
                "the entry's content does not match its hash: it was altered".into(),
            ));
        }
        self.prev = Some((e.seq, e.hash.clone()));
        Ok(())
    }

    pub fn finish(self, broken: Option<BrokenLink>) -> VerifyReport {
        let (last_seq, head_hash) = match (&broken, self.prev) {
            (Some(b), _) => (Some(b.seq), None),
            (None, Some((seq, hash))) => (Some(seq), Some(hash)),
            (None, None) => (None, None),
        };
        VerifyReport {
            ok: broken.is_none(),
            checked: self.checked,
            first_seq: self.first_seq,
            last_seq,
            head_hash,
            broken,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    fn entry(seq: i64, prev_hash: &str) -> AuditEntry {
        let mut e = AuditEntry {
            seq,
            at: keel_domain::value::parse_timestamp("2026-03-04T05:06:07.123456Z").expect("time"),
            actor_id: Some(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001)),
            action: "record.updated".into(),
            entity: Some("companies".into()),
            record_id: Some(Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002)),
            details: json!({ "diff": { "name": { "to": "Acme \"Ü\"\n", "from": null }, "city": { "from": "Lyon", "to": "Nice" } } }),
            ip: Some("127.0.0.1".into()),
            user_agent: None,
            request_id: Some("req-1".into()),
            prev_hash: prev_hash.into(),
            hash: String::new(),
        };
        e.hash = entry_hash(&e);
        e
    }

    #[test]
    fn the_canonical_form_is_the_documented_one() {
        let e = entry(7, GENESIS_HASH);
        assert_eq!(
            canonical(&e),
            concat!(
                r#"[1,7,"2026-03-04T05:06:07.123456Z","01900000-0000-7000-8000-000000000001","record.updated","companies","#,
                r#""01900000-0000-7000-8000-000000000002","#,
                r#"{"diff":{"city":{"from":"Lyon","to":"Nice"},"name":{"from":null,"to":"Acme \"Ü\"\n"}}},"#,
                r#""127.0.0.1",null,"req-1"]"#
            )
        );
        // Pinned (computed outside Rust from the layout above, as
        // sha256(("0" * 64 + canonical).encode())): if this changes, every stored chain
        // stops verifying.
        assert_eq!(e.hash, "fb88649cb442e3a0ebaf21712c6d5a2b1273eaeb4eb656640b533c0053a34222");
    }

    #[test]
    fn control_characters_escape_like_rfc_8785() {
        let mut s = String::new();
        write_str(&mut s, "a\u{1}\u{1f}\t\\/é");
        assert_eq!(s, "\"a\\u0001\\u001f\\t\\\\/é\"");
    }

    #[test]
    fn key_order_does_not_change_the_hash() {
        let a = entry(1, GENESIS_HASH);
        let mut b = a.clone();
        b.details = serde_json::from_str(
            r#"{"diff":{"name":{"from":null,"to":"Acme \"Ü\"\n"},"city":{"to":"Nice","from":"Lyon"}}}"#,
        )
        .expect("json");
        assert_eq!(entry_hash(&a), entry_hash(&b));
    }

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for seq in 1..=n {
            let prev = out.last().map_or(GENESIS_HASH.to_string(), |e| e.hash.clone());
            out.push(entry(seq, &prev));
        }
        out
    }

    fn verify(entries: &[AuditEntry], anchors: BTreeMap<i64, String>) -> VerifyReport {
        let mut v = Verifier::new(anchors);
        for e in entries {
            if let Err(b) = v.check(e) {
                return v.finish(Some(b));
            }
        }
        v.finish(None)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let entries = chain(5);
        let r = verify(&entries, BTreeMap::new());
        assert!(r.ok, "{r:?}");
        assert_eq!((r.checked, r.first_seq, r.last_seq), (5, Some(1), Some(5)));
        assert_eq!(r.head_hash.as_deref(), Some(entries[4].hash.as_str()));
    }

    #[test]
    fn an_altered_entry_is_a_hash_mismatch_at_its_seq() {
        let mut entries = chain(5);
        entries[2].ip = Some("10.0.0.1".into());
        let b = verify(&entries, BTreeMap::new()).broken.expect("broken");
        assert_eq!((b.seq, b.reason), (3, BreakReason::HashMismatch));
    }

    #[test]
    fn an_altered_and_rehashed_entry_breaks_the_next_link() {
        let mut entries = chain(5);
        entries[2].ip = Some("10.0.0.1".into());
        entries[2].hash = entry_hash(&entries[2]);
        let b = verify(&entries, BTreeMap::new()).broken.expect("broken");
        assert_eq!((b.seq, b.reason), (4, BreakReason::PrevHashMismatch));
    }

    #[test]
    fn a_deleted_entry_is_a_gap_at_the_next_seq() {
        let mut entries = chain(5);
        entries.remove(2);
        let b = verify(&entries, BTreeMap::new()).broken.expect("broken");
        assert_eq!((b.seq, b.reason), (4, BreakReason::Gap));
        let mut entries = chain(5);
        entries.remove(0);
        let b = verify(&entries, BTreeMap::new()).broken.expect("broken");
        assert_eq!((b.seq, b.reason), (2, BreakReason::Gap), "a missing start needs a purge anchor");
    }

    #[test]
    fn a_purged_prefix_verifies_from_its_anchor() {
        let entries = chain(6);
        let anchor = BTreeMap::from([(3, entries[2].hash.clone())]);
        let r = verify(&entries[3..], anchor);
        assert!(r.ok, "{r:?}");
        assert_eq!(r.first_seq, Some(4));
        let wrong = BTreeMap::from([(3, entries[1].hash.clone())]);
        let b = verify(&entries[3..], wrong).broken.expect("broken");
        assert_eq!((b.seq, b.reason), (4, BreakReason::PrevHashMismatch));
    }

    #[test]
    fn anchors_come_from_purge_details() {
        let a = anchors(&[(9, json!({ "count": 3, "last_purged_seq": 3, "last_purged_hash": "ab" })), (10, json!({}))]);
        assert_eq!(a, BTreeMap::from([(3, "ab".to_string())]));
    }
}
