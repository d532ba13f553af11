//! Duplicates and merges (`routes/merges.rs`) in the OpenAPI document. The shapes are
//! `keel_service::records::merge`'s, written out here once.

use keel_domain::duplicates::supported;
use keel_domain::schema::Schema;
use keel_service::records::merge::{MAX_MERGE, UNDO_DAYS};
use serde_json::{Map, Value, json};

use super::{API, Operation, add, param, record_ref, schema_ref};

const TAG: &str = "Duplicates";

fn uuid() -> Value {
    json!({ "type": "string", "format": "uuid" })
}

fn paging() -> Vec<Value> {
    vec![
        param(
            "limit",
            "query",
            false,
            json!({ "type": "integer", "minimum": 1, "maximum": 100, "default": 25 }),
            "Page size.",
        ),
        param("cursor", "query", false, json!({ "type": "string" }), "`next_cursor` of the previous page."),
    ]
}

pub(super) fn paths(schema: &Schema, paths: &mut Map<String, Value>) {
    for e in schema.entities.values().filter(|e| supported(&e.name)) {
        let name = &e.name;
        let pascal = super::pascal(name);
        let list = Operation::new(&format!("list{pascal}Duplicates"), TAG, &format!("Suggested duplicate {name}"))
            .describe(format!(
                "Pairs of {name} you may see that look alike, each with a score (0–100, at least 60) and the reasons. \
                 Candidates come from blocking keys in the database ({}); pairs are scored with Jaro–Winkler. \
                 Records are walked in id order: a page may hold a few pairs more than `limit` (all of its last \
                 record's) or fewer (the scan stopped after 2000 records); follow `next_cursor` until null.",
                if name == "contacts" {
                    "same company and first or last name, same phone or mobile"
                } else {
                    "domain without www., name without legal forms and punctuation, its first five letters"
                }
            ))
            .params(paging())
            .reply(
                "200",
                "One page of pairs.",
                Some(json!({
                    "type": "object",
                    "properties": {
                        "data": { "type": "array", "items": {
                            "type": "object",
                            "properties": {
                                "score": { "type": "integer" },
                                "reasons": { "type": "array", "items": schema_ref("DuplicateReason") },
                                "records": { "type": "array", "items": record_ref(e), "minItems": 2, "maxItems": 2 },
                            },
                        }},
                        "next_cursor": { "type": ["string", "null"] },
                    },
                })),
            )
            .problem("400", "`limit` or `cursor` is malformed; `errors` names it.")
            .build();
        add(paths, &format!("{API}/{name}/duplicates"), "get", list);

        let of = Operation::new(&format!("get{pascal}DuplicatesOf"), TAG, &format!("Records like one of the {name}"))
            .param(param("id", "path", true, uuid(), "The record's id."))
            .reply(
                "200",
                "Likely duplicates, best first.",
                Some(json!({
                    "type": "object",
                    "properties": { "data": { "type": "array", "items": {
                        "type": "object",
                        "properties": {
                            "score": { "type": "integer" },
                            "reasons": { "type": "array", "items": schema_ref("DuplicateReason") },
                            "record": record_ref(e),
                        },
                    }}},
                })),
            )
            .problem("404", "No such record, or you may not see it.")
            .build();
        add(paths, &format!("{API}/{name}/{{id}}/duplicates"), "get", of);

        let merge = Operation::new(&format!("merge{pascal}"), TAG, &format!("Merge duplicate {name}"))
            .describe(format!(
                "In one transaction: every record referencing the others (by the schema's reference fields) is \
                 re-pointed to the survivor, their shares move to it, the others go to the trash, and the survivor \
                 takes each value chosen in `fields`. Needs edit rights on the survivor and the re-pointed records \
                 and delete rights on the others. At most {MAX_MERGE} records. Undo within {UNDO_DAYS} days."
            ))
            .body(json!({
                "type": "object",
                "required": ["survivor", "others"],
                "additionalProperties": false,
                "properties": {
                    "survivor": uuid(),
                    "others": { "type": "array", "items": uuid(), "minItems": 1, "maxItems": MAX_MERGE - 1 },
                    "fields": {
                        "type": "object",
                        "description": "Field name → id of the record (survivor or one of the others) whose value survives.",
                        "additionalProperties": uuid(),
                    },
                },
            }))
            .reply("200", "The merge and the survivor as it is now.", Some(json!({
                "type": "object",
                "properties": { "merge": schema_ref("Merge"), "survivor": record_ref(e) },
            })))
            .problem("403", "You may not edit the survivor or a related record, or delete one of the others.")
            .problem("404", "Duplicate detection does not cover this entity.")
            .problem(
                "422",
                "The body is not valid, naming the field: `survivor`/`others[i]` unknown, not visible (`not_found`) \
                 or in the trash, the survivor among the others, an id twice, too many, `fields.x` unknown, read-only \
                 or naming a record not in the merge, or the chosen value does not fit.",
            )
            .build();
        add(paths, &format!("{API}/{name}/merge"), "post", merge);
    }

    let list = Operation::new("listMerges", TAG, "Recent merges")
        .describe(format!("Merges of the last {UNDO_DAYS} days whose survivor you may see, newest first."))
        .params(paging())
        .reply(
            "200",
            "One page of merges.",
            Some(json!({
                "type": "object",
                "properties": {
                    "data": { "type": "array", "items": schema_ref("Merge") },
                    "next_cursor": { "type": ["string", "null"] },
                },
            })),
        )
        .problem("400", "`limit` or `cursor` is malformed.")
        .build();
    add(paths, &format!("{API}/merges"), "get", list);

    let undo = Operation::new("undoMerge", TAG, "Undo a merge")
        .describe(
            "Restores the survivor's overwritten values (a value changed since the merge is kept and listed in \
             `kept_fields`), brings the others back from the trash, moves back the re-pointed records that still \
             point at the survivor (others are listed in `skipped`) and the moved shares. One transaction.",
        )
        .param(param("id", "path", true, uuid(), "The merge's id."))
        .reply("200", "What was undone.", Some(json!({
            "type": "object",
            "properties": {
                "merge": schema_ref("Merge"),
                "survivor": { "type": "object" },
                "restored": { "type": "array", "items": uuid() },
                "moved_back": { "type": "integer" },
                "kept_fields": { "type": "array", "items": { "type": "object", "properties": {
                    "field": { "type": "string" }, "current": {}, "merged": {}, "before_merge": {},
                }}},
                "skipped": { "type": "array", "items": { "type": "object", "properties": {
                    "entity": { "type": "string" }, "id": uuid(),
                    "reason": { "type": "string", "enum": ["purged", "already_restored", "changed_since_merge", "original_purged"] },
                }}},
            },
        })))
        .problem("400", "The id is not a UUID.")
        .problem("403", "You may not edit the survivor or restore the merged records.")
        .problem("404", "No such merge, or you may not see its survivor.")
        .problem(
            "409",
            "`already_undone`; `undo_expired` (older than 30 days; `merged_at` and `undo_until` say when); \
             `survivor_in_trash`; `cannot_restore`/`cannot_undo` when a value is now taken by another record.",
        )
        .build();
    add(paths, &format!("{API}/merges/{{id}}/undo"), "post", undo);
}

pub(super) fn schemas(out: &mut Map<String, Value>) {
    out.insert(
        "DuplicateReason".into(),
        json!({
            "type": "object",
            "properties": {
                "rule": { "type": "string", "enum": [
                    "same_email", "same_phone", "similar_name_same_company",
                    "same_domain", "same_normalized_name", "similar_name",
                ]},
                "fields": { "type": "array", "items": { "type": "string" } },
                "similarity": { "type": "number", "description": "Jaro–Winkler, 0–1 (name rules)." },
                "score": { "type": "integer", "description": "The score this reason alone gives." },
            },
        }),
    );
    out.insert(
        "Merge".into(),
        json!({
            "type": "object",
            "properties": {
                "id": uuid(),
                "entity": { "type": "string" },
                "survivor_id": uuid(),
                "other_ids": { "type": "array", "items": uuid() },
                "actor_id": { "type": ["string", "null"], "format": "uuid" },
                "merged_at": { "type": "string", "format": "date-time" },
                "undo_until": { "type": "string", "format": "date-time" },
                "undone_at": { "type": ["string", "null"], "format": "date-time" },
                "can_undo": { "type": "boolean" },
                "fields": { "type": "object", "description": "Survivor fields overwritten: {field: {from, to}}." },
                "repointed": { "type": "integer" },
                "shares_moved": { "type": "integer" },
            },
        }),
    );
}

#[cfg(test)]
mod tests {
    use keel_domain::schema::builtin_schema;

    #[test]
    fn duplicates_and_merges_are_documented_for_contacts_and_companies_only() {
        let d = super::super::document(&builtin_schema());
        for e in ["contacts", "companies"] {
            assert!(d["paths"][format!("/api/v1/{e}/duplicates")]["get"].is_object());
            assert!(d["paths"][format!("/api/v1/{e}/{{id}}/duplicates")]["get"].is_object());
            assert!(d["paths"][format!("/api/v1/{e}/merge")]["post"].is_object());
        }
        assert!(d["paths"]["/api/v1/deals/merge"].is_null());
        assert!(d["paths"]["/api/v1/merges"]["get"].is_object());
        assert!(d["paths"]["/api/v1/merges/{id}/undo"]["post"].is_object());
        assert!(d["components"]["schemas"]["Merge"].is_object());
    }
}
