//! CSV import (`routes/imports.rs`) in the OpenAPI document. The report's shape is
//! `keel_service::imports::ImportReport`, written out here once.

use serde_json::{Map, Value, json};

use super::{API, Operation, add, param, schema_ref};

fn query(name: &str, schema: Value, description: &str) -> Value {
    param(name, "query", false, schema, description)
}

fn string() -> Value {
    json!({ "type": "string" })
}

fn flag() -> Value {
    json!({ "type": "boolean", "default": false })
}

/// The file as the raw body (the API's JSON-only rule does not apply: see the route).
fn with_csv_body(mut op: Value, description: &str) -> Value {
    if let Some(obj) = op.as_object_mut() {
        let schema = json!({ "type": "string", "format": "binary" });
        obj.insert(
            "requestBody".into(),
            json!({
                "required": true,
                "description": description,
                "content": {
                    "text/csv": { "schema": schema },
                    "application/csv": { "schema": schema },
                    "text/tab-separated-values": { "schema": schema },
                    "application/octet-stream": { "schema": schema },
                },
            }),
        );
    }
    op
}

fn format_params() -> Vec<Value> {
    vec![
        param(
            "entity",
            "query",
            true,
            json!({ "type": "string", "enum": ["companies", "contacts", "deals"] }),
            "What the rows are.",
        ),
        query(
            "encoding",
            string(),
            "utf-8, windows-1252, latin1 … (default: valid UTF-8 is UTF-8, anything else Windows-1252).",
        ),
        query(
            "separator",
            json!({ "type": "string", "enum": [",", ";", "|", "tab"] }),
            "Default: the one the header line uses most.",
        ),
        query(
            "mapping",
            string(),
            "A JSON object editing the automatic mapping: header → field name, or null to ignore the column, e.g. {\"Mail\":\"email\",\"Notes\":null}.",
        ),
    ]
}

pub(super) fn paths(paths: &mut Map<String, Value>) {
    let preview = Operation::new("previewImport", "Import", "Preview a CSV file")
        .describe(
            "Reads the head of the body (at most 1 MiB): the detected encoding and separator, the headers, the \
             proposed mapping (by field name, label or synonym) with required fields nothing feeds, and the first \
             20 rows. Writes nothing.",
        )
        .params(format_params())
        .reply("200", "The preview.", Some(schema_ref("ImportPreview")))
        .problem("400", "A query parameter is unknown, repeated or malformed; `errors` names it.")
        .problem("415", "The body is not sent as text/csv (or another CSV type).")
        .problem(
            "422",
            "`entity` is not importable, the mapping names an unknown column or field, or the file is empty.",
        )
        .build();
    add(paths, &format!("{API}/imports/preview"), "post", with_csv_body(preview, "The file, or its first part."));

    let mut params = format_params();
    params.extend([
        query("mode", json!({ "type": "string", "enum": ["create", "update", "upsert"], "default": "create" }), "create: every row is new; update: rows change the record their key names; upsert: both."),
        query("key", json!({ "type": "string", "enum": ["id", "email", "domain", "name"] }), "The field that finds the record: id; email (contacts, default); domain (companies, default) or name. Deals: id."),
        query("dry_run", flag(), "Check every row through the write path's validation and report; write nothing."),
        query("create_missing_companies", flag(), "Contacts and deals: create the companies they name that do not exist (or the caller cannot see)."),
        query("file_name", string(), "Recorded with the import."),
        query("resume_from", json!({ "type": "integer", "minimum": 1 }), "Skip data rows before this one: the `next_row` of a failed import."),
        query("batch_size", json!({ "type": "integer", "minimum": 1, "maximum": 5000, "default": 5000 }), "Rows checked and written together (a transaction holds one batch, or several while the check runs ahead)."),
        query("all_or_nothing", flag(), "Write the whole file in one transaction instead of one per batch."),
        query("wait", flag(), "Import within the request and answer with the report (201/409/422) instead of 202."),
    ]);
    let import = Operation::new("importCsv", "Import", "Import a CSV file")
        .describe(
            "Imports run in the background: the options and the header are checked, the file is stored and the \
             answer is 202 with the import (`status` queued, `Location` to poll for `phase`, `rows_done` and the \
             outcome); `dry_run` and `wait` answer at once. \
             The whole file is checked first, row by row, through the same validation, permission and uniqueness \
             checks as single writes; if any row fails nothing is written (422 `import_rejected` with every row's \
             errors). Otherwise it is written in batches, each one transaction with its change-log and audit \
             entries; if a batch still fails the import stops (409 `import_failed`): rows before `next_row` are in, \
             none after. Bodies up to 256 MiB, streamed to disk. See docs/API.md, CSV import.",
        )
        .params(params)
        .reply("200", "A dry run's report (`status` valid or invalid).", Some(schema_ref("ImportReport")))
        .reply("201", "Imported (`status` completed), with `wait=true`.", Some(schema_ref("ImportReport")))
        .reply("202", "Queued: the import, to poll at its `Location`.", Some(schema_ref("Import")))
        .problem("400", "A query parameter is unknown, repeated or malformed; `errors` names it.")
        .problem("403", "The caller's role may not create these records.")
        .problem("409", "`import_failed`: stopped part-way; `import` is the report with `next_row`, `errors` the rows.")
        .problem("413", "The file is larger than 256 MiB.")
        .problem("415", "The body is not sent as text/csv (or another CSV type).")
        .problem(
            "422",
            "`import_rejected`: rows have errors (`errors`: {row, line, column, field, code, message}; `import`: the \
             report); or `validation_failed` naming the parameter (entity, key, mapping.HEADER, encoding) or `file`.",
        )
        .build();
    add(paths, &format!("{API}/imports"), "post", with_csv_body(import, "The CSV file."));

    let list = Operation::new("listImports", "Import", "Past imports")
        .describe("Newest first: admins see everyone's, others their own. Dry runs are not recorded.")
        .param(query("limit", json!({ "type": "integer", "minimum": 1, "maximum": 200, "default": 50 }), "At most this many."))
        .reply("200", "Imports.", Some(json!({ "type": "object", "required": ["data"], "properties": { "data": { "type": "array", "items": schema_ref("Import") } } })))
        .build();
    add(paths, &format!("{API}/imports"), "get", list);
    let get = Operation::new("getImport", "Import", "One import")
        .param(param("id", "path", true, json!({ "type": "string", "format": "uuid" }), "The import's id."))
        .reply("200", "The import.", Some(schema_ref("Import")))
        .problem("404", "No such import, or not the caller's.")
        .build();
    add(paths, &format!("{API}/imports/{{id}}"), "get", get);
}

fn row_error() -> Value {
    json!({
        "type": "object",
        "required": ["row", "line", "code", "message"],
        "properties": {
            "row": { "type": "integer", "description": "1-based data row (the header is not a row; blank lines are not counted)." },
            "line": { "type": "integer", "description": "The physical line the row starts on (the header is line 1)." },
            "column": { "type": ["string", "null"], "description": "The file's header." },
            "field": { "type": ["string", "null"], "description": "The field the column feeds." },
            "code": { "type": "string" },
            "message": { "type": "string" },
        },
    })
}

fn mapping() -> Value {
    json!({
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "column": { "type": "integer" },
                "header": { "type": "string" },
                "field": { "type": ["string", "null"] },
                "matched_by": { "type": ["string", "null"], "enum": ["name", "label", "synonym", "explicit", null] },
            },
        },
    })
}

pub(super) fn schemas(out: &mut Map<String, Value>) {
    let count = json!({ "type": "integer" });
    out.insert("ImportRowError".into(), row_error());
    out.insert(
        "ImportPreview".into(),
        json!({
            "type": "object",
            "properties": {
                "entity": string(), "encoding": string(), "separator": string(),
                "headers": { "type": "array", "items": string() },
                "mapping": mapping(),
                "unmapped_required": { "type": "array", "items": string() },
                "fields": { "type": "array", "items": string() },
                "rows": { "type": "array", "items": { "type": "array", "items": string() } },
            },
        }),
    );
    out.insert(
        "ImportReport".into(),
        json!({
            "type": "object",
            "properties": {
                "id": { "type": ["string", "null"], "format": "uuid" },
                "status": { "type": "string", "enum": ["valid", "invalid", "rejected", "completed", "failed"] },
                "entity": string(), "mode": string(), "key": { "type": ["string", "null"] },
                "dry_run": { "type": "boolean" }, "encoding": string(), "separator": string(),
                "mapping": mapping(),
                "rows": count, "created": count, "updated": count, "unchanged": count, "skipped": count,
                "failed": count, "companies_created": count,
                "next_row": { "type": ["integer", "null"] },
                "error_count": count,
                "errors": { "type": "array", "items": schema_ref("ImportRowError"), "maxItems": 1000 },
                "elapsed_ms": count,
            },
        }),
    );
    out.insert(
        "Import".into(),
        json!({
            "type": "object",
            "properties": {
                "id": { "type": "string", "format": "uuid" }, "user_id": { "type": "string", "format": "uuid" },
                "file_name": { "type": ["string", "null"] }, "entity": string(), "mode": string(),
                "key": { "type": ["string", "null"] },
                "status": { "type": "string", "enum": ["queued", "rejected", "running", "completed", "failed"] },
                "phase": { "type": "string", "enum": ["queued", "validating", "importing", "done"] },
                "rows_done": count,
                "encoding": { "type": ["string", "null"] }, "separator": { "type": ["string", "null"] },
                "rows": count, "created": count, "updated": count, "unchanged": count, "skipped": count,
                "failed": count, "companies_created": count, "next_row": { "type": ["integer", "null"] },
                "options": { "type": "object" }, "error_count": count,
                "errors": { "type": "array", "items": schema_ref("ImportRowError") },
                "started_at": { "type": "string", "format": "date-time" },
                "finished_at": { "type": ["string", "null"], "format": "date-time" },
            },
        }),
    );
}

#[cfg(test)]
mod tests {
    use keel_domain::schema::builtin_schema;

    #[test]
    fn import_paths_take_a_csv_body_and_name_their_reports() {
        let d = super::super::document(&builtin_schema());
        let post = &d["paths"]["/api/v1/imports"]["post"];
        assert!(post["requestBody"]["content"]["text/csv"].is_object());
        assert_eq!(
            post["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ImportReport"
        );
        assert!(post["responses"]["422"].is_object());
        assert_eq!(
            post["responses"]["202"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Import"
        );
        assert!(d["paths"]["/api/v1/imports/preview"]["post"]["requestBody"]["content"]["text/csv"].is_object());
        assert!(d["paths"]["/api/v1/imports/{id}"]["get"].is_object());
        assert!(d["components"]["schemas"]["ImportRowError"]["properties"]["line"].is_object());
    }
}
