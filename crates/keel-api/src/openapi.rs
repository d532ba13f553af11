//! The OpenAPI 3.1 document for Keel's REST API (`/api/openapi.json`) and the offline
//! docs page that renders it (`/api/docs`).
//!
//! The document is generated from the schema metadata (`keel_domain::Schema`), never
//! written out field by field. Validation, list filters, sorting and the handlers all read
//! that same metadata, so a field added there (built-in today, custom fields later) shows
//! up here with the same type, limits, options and access, and the document cannot drift
//! from what the server accepts. It is built with `serde_json::json!` rather than utoipa
//! builders because every component is computed at run time from data, which plain JSON
//! says more directly than typed builders.

use std::collections::BTreeSet;

use keel_domain::query::{DEFAULT_LIMIT, MAX_LIMIT};
use keel_domain::schema::{Access, EntityDef, FieldDef, FieldType, OnDelete, Schema};
use keel_service::audit::{AuditAction, MAX_LIST_LIMIT as MAX_AUDIT_LIMIT};
use serde_json::{Map, Value, json};

mod assistant;
mod imports;
mod merges;
mod webhooks;

const API: &str = "/api/v1";
const JSON: &str = "application/json";
const PROBLEM_JSON: &str = "application/problem+json";
const SESSION_COOKIE: &str = "keel_session";
/// Most ids one bulk request may name, so one request stays one short transaction.
const BULK_MAX: usize = 1000;
const PASSWORD_MIN_LENGTH: usize = 12;
const TOKEN_NAME_MAX_LENGTH: usize = 100;
/// The change feed pages larger than record lists: sync clients read it in bulk.
const CHANGES_DEFAULT_LIMIT: u32 = 100;
const CHANGES_MAX_LIMIT: u32 = 1000;
/// The audit log's page size when `limit` is not given (as `routes/audit.rs`).
const AUDIT_DEFAULT_LIMIT: u32 = 100;
/// Query parameters the list endpoints read themselves; a field with one of these names
/// can still be filtered as `name[eq]=…`, so it gets no plain equality parameter.
const RESERVED_PARAMS: &[&str] = &["q", "sort", "limit", "cursor", "count", "trashed"];
/// Required fields the service fills in when a create leaves them out. The metadata has no
/// notion of a default value yet, so the few that exist are named here.
const DEFAULTED_ON_CREATE: &[(&str, &str)] = &[("deals", "stage"), ("users", "role")];
/// Every field type, for the `/api/v1/schema` description (serialised through serde so the
/// spelling is the one the metadata endpoint uses).
const FIELD_TYPES: &[FieldType] = &[
    FieldType::Id,
    FieldType::Text,
    FieldType::LongText,
    FieldType::Email,
    FieldType::Phone,
    FieldType::Url,
    FieldType::Select,
    FieldType::Integer,
    FieldType::Money,
    FieldType::Currency,
    FieldType::Percent,
    FieldType::Boolean,
    FieldType::Date,
    FieldType::Timestamp,
    FieldType::Reference,
    FieldType::Decimal,
    FieldType::MultiSelect,
];

/// The OpenAPI 3.1.0 document for every entity in `schema` plus the fixed endpoints
/// (auth, schema, change feed, health).
pub fn document(schema: &Schema) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": info(),
        "servers": [{ "url": "/" }],
        "tags": tags(schema),
        "security": [{ "bearer": [] }, { "session": [] }],
        "paths": paths(schema),
        "components": {
            "securitySchemes": security_schemes(),
            "parameters": parameters(schema),
            "schemas": schemas(schema),
        },
    })
}

/// The interactive API docs page served at `/api/docs`. Self-contained (inline CSS and
/// vanilla JS, no CDN or web fonts) because Keel is self-hosted and often air-gapped.
pub fn docs_html() -> String {
    DOCS_HTML.to_string()
}

// ---------------------------------------------------------------------------------------
// Top level

fn info() -> Value {
    json!({
        "title": "Keel API",
        "version": env!("CARGO_PKG_VERSION"),
        "description": "The REST API of Keel, the self-hosted CRM. The web app uses exactly this API.\n\n\
            Authentication: a personal API token as `Authorization: Bearer …` (create one with \
            POST /api/v1/auth/tokens), or the `keel_session` cookie set by POST /api/v1/auth/login.\n\n\
            Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code` \
            and per-field `errors`.\n\n\
            Lists page by keyset: follow `next_cursor` until it is null. Every record carries a \
            `version`; GET returns it as `ETag`, and PATCH with `If-Match` refuses stale edits with 412.\n\n\
            Money is an integer amount of minor units (cents) with an ISO 4217 `currency`. \
            Timestamps are UTC, RFC 3339.\n\n\
            Writes authenticated by the session cookie must come from Keel's own origin: an `Origin` (or \
            `Referer`) naming another host is refused with 403 `csrf_rejected`.",
        "license": { "name": "AGPL-3.0-only", "identifier": "AGPL-3.0-only" },
    })
}

fn tags(schema: &Schema) -> Vec<Value> {
    let mut tags: Vec<Value> = schema
        .entities
        .values()
        .map(|e| json!({ "name": e.label, "description": format!("{} records and their related lists.", e.label) }))
        .collect();
    tags.push(json!({ "name": "Auth", "description": "Sign in and out, the current user, personal API tokens." }));
    tags.push(json!({ "name": "Meta", "description": "Schema metadata and the change feed." }));
    tags.push(json!({ "name": "Audit", "description": "The tamper-evident audit log (admins only)." }));
    tags.push(
        json!({ "name": "Dashboard", "description": "Sales figures for the dashboard, computed in the database." }),
    );
    tags.push(
        json!({ "name": "Roles", "description": "Built-in and custom roles: grants per entity and field rules." }),
    );
    tags.push(json!({ "name": "Fields", "description": "Custom fields and editable select options (admins)." }));
    tags.push(
        json!({ "name": "Workflows", "description": "Workflow automation, run history and background jobs (admins)." }),
    );
    tags.push(json!({ "name": "Webhooks", "description": "Outbound webhooks: subscriptions, signed deliveries, the delivery log (admins)." }));
    tags.push(json!({ "name": "Import", "description": "CSV import of companies, contacts and deals: preview, dry run, import, history." }));
    tags.push(json!({ "name": "Assistant", "description": "Questions about the CRM, proposals to confirm, smart data entry, email drafts, meeting summaries." }));
    tags.push(json!({ "name": "Duplicates", "description": "Duplicate suggestions for contacts and companies, merging them, and undoing a merge." }));
    tags.push(json!({ "name": "Health", "description": "Liveness and readiness probes." }));
    tags
}

fn security_schemes() -> Value {
    json!({
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token, created with POST /api/v1/auth/tokens.",
        },
        "session": {
            "type": "apiKey",
            "in": "cookie",
            "name": SESSION_COOKIE,
            "description": "The session cookie set by POST /api/v1/auth/login (what the web app uses).",
        },
    })
}

// ---------------------------------------------------------------------------------------
// Naming

/// `deal_stage` → `DealStage`: component names and operationId parts.
fn pascal(s: &str) -> String {
    s.split(['_', '-', ' '])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// The record component of an entity: its singular in PascalCase (`Company`).
fn record_name(e: &EntityDef) -> String {
    pascal(&e.singular)
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn record_ref(e: &EntityDef) -> Value {
    schema_ref(&record_name(e))
}

/// The signed-in user as the auth endpoints return it: the `users` record when the
/// schema has one, so the reference always resolves.
fn user_schema(schema: &Schema) -> Value {
    match schema.entity("users") {
        Some(users) => record_ref(users),
        None => json!({ "type": "object" }),
    }
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

// ---------------------------------------------------------------------------------------
// Operations

/// An operation under construction. `build` adds the 401 answer to every operation that
/// needs credentials, so no path can forget it.
struct Operation {
    op: Map<String, Value>,
    params: Vec<Value>,
    responses: Map<String, Value>,
    public: bool,
}

impl Operation {
    fn new(id: &str, tag: &str, summary: &str) -> Self {
        let mut op = Map::new();
        op.insert("operationId".into(), json!(id));
        op.insert("tags".into(), json!([tag]));
        op.insert("summary".into(), json!(summary));
        Self { op, params: Vec::new(), responses: Map::new(), public: false }
    }

    fn describe(mut self, text: impl Into<String>) -> Self {
        self.op.insert("description".into(), Value::String(text.into()));
        self
    }

    fn param(mut self, p: Value) -> Self {
        self.params.push(p);
        self
    }

    fn params(mut self, ps: impl IntoIterator<Item = Value>) -> Self {
        self.params.extend(ps);
        self
    }

    fn body(mut self, schema: Value) -> Self {
        self.op.insert("requestBody".into(), json!({ "required": true, "content": { JSON: { "schema": schema } } }));
        self
    }

    /// A success answer; `schema` None means no body.
    fn reply(mut self, status: &str, description: &str, schema: Option<Value>) -> Self {
        let mut r = Map::new();
        r.insert("description".into(), json!(description));
        if let Some(s) = schema {
            r.insert("content".into(), json!({ JSON: { "schema": s } }));
        }
        self.responses.insert(status.into(), Value::Object(r));
        self
    }

    fn reply_with(mut self, status: &str, response: Value) -> Self {
        self.responses.insert(status.into(), response);
        self
    }

    fn problem(self, status: &str, description: &str) -> Self {
        self.reply_with(status, problem_response(description, schema_ref("Problem")))
    }

    /// No credentials needed (sign-in, probes).
    fn public(mut self) -> Self {
        self.public = true;
        self
    }

    fn build(mut self) -> Value {
        if self.public {
            self.op.insert("security".into(), json!([]));
        } else {
            self.responses.entry("401").or_insert_with(|| {
                problem_response("Not signed in: no valid session cookie or bearer token.", schema_ref("Problem"))
            });
        }
        if !self.params.is_empty() {
            self.op.insert("parameters".into(), Value::Array(self.params));
        }
        self.op.insert("responses".into(), Value::Object(self.responses));
        Value::Object(self.op)
    }
}

fn problem_response(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { PROBLEM_JSON: { "schema": schema } } })
}

fn param(name: &str, location: &str, required: bool, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": location, "required": required, "schema": schema, "description": description })
}

fn id_param(e: &EntityDef) -> Value {
    param("id", "path", true, json!({ "type": "string", "format": "uuid" }), &format!("The {}'s id.", e.singular))
}

fn add(paths: &mut Map<String, Value>, path: &str, method: &str, op: Value) {
    let item = paths.entry(path).or_insert_with(|| json!({}));
    if let Some(obj) = item.as_object_mut() {
        obj.insert(method.into(), op);
    }
}

// ---------------------------------------------------------------------------------------
// Paths

fn paths(schema: &Schema) -> Map<String, Value> {
    let mut paths = Map::new();
    for e in schema.entities.values() {
        entity_paths(schema, e, &mut paths);
    }
    meta_paths(schema, &mut paths);
    audit_paths(&mut paths);
    dashboard_paths(&mut paths);
    assistant::paths(&mut paths);
    imports::paths(&mut paths);
    webhooks::paths(&mut paths);
    merges::paths(schema, &mut paths);
    auth_paths(schema, &mut paths);
    login_security_paths(&mut paths);
    role_paths(&mut paths);
    field_paths(&mut paths);
    workflow_paths(&mut paths);
    health_paths(&mut paths);
    paths
}

/// Workflow automation (docs/AUTOMATION.md): admins only, every change audited.
fn workflow_paths(paths: &mut Map<String, Value>) {
    let id = param("id", "path", true, json!({ "type": "string", "format": "uuid" }), "The workflow's id.");
    let limit = param(
        "limit",
        "query",
        false,
        json!({ "type": "integer", "minimum": 1, "maximum": 200 }),
        "At most this many (default 50).",
    );
    let record = json!({ "type": "object", "required": ["record_id"], "properties": { "record_id": { "type": "string", "format": "uuid" } } });
    let forbidden = "Only admins may manage workflows.";
    let invalid = "The definition is not valid: each error names the place (`trigger.field`, `conditions.all[0].field`, `actions[0].subject`) and the rule (an undefined template variable is `invalid_template`).";
    let ops = [
        ("/workflows", "get", Operation::new("listWorkflows", "Workflows", "Every workflow").reply("200", "The workflows, newest first.", Some(json!({ "type": "object", "properties": { "data": { "type": "array", "items": schema_ref("Workflow") } } })))),
        ("/workflows", "post", Operation::new("createWorkflow", "Workflows", "Define a workflow").describe("A trigger, optional conditions and ordered actions; every template is checked against the trigger entity's fields.").body(schema_ref("Workflow")).reply("201", "The workflow (ETag: its version).", Some(schema_ref("Workflow"))).problem("422", invalid)),
        ("/workflows/templates", "get", Operation::new("listWorkflowTemplates", "Workflows", "Built-in workflow templates").reply("200", "The templates, each with its key and definition.", Some(json!({ "type": "object" })))),
        ("/workflows/templates/{key}/install", "post", Operation::new("installWorkflowTemplate", "Workflows", "Install a built-in template").param(param("key", "path", true, json!({ "type": "string" }), "The template's key, e.g. `notify-deal-stage-change`.")).body(json!({ "type": "object", "properties": { "name": { "type": "string" }, "description": { "type": "string" }, "enabled": { "type": "boolean" }, "slack_webhook_url": { "type": "string", "format": "uri" } } })).reply("201", "The new workflow.", Some(schema_ref("Workflow"))).problem("404", "No such template.")),
        ("/workflows/{id}", "get", Operation::new("getWorkflow", "Workflows", "One workflow").param(id.clone()).reply("200", "The workflow (ETag: its version).", Some(schema_ref("Workflow"))).problem("404", "No such workflow.")),
        ("/workflows/{id}", "patch", Operation::new("updateWorkflow", "Workflows", "Change, enable or disable a workflow").describe("Replaces the given keys (`{\"enabled\": false}` disables it); the saver becomes the user the workflow acts as. `If-Match` answers 412 when stale.").param(id.clone()).body(schema_ref("Workflow")).reply("200", "The workflow.", Some(schema_ref("Workflow"))).problem("404", "No such workflow.").problem("412", "The workflow changed since that version.").problem("422", invalid)),
        ("/workflows/{id}", "delete", Operation::new("deleteWorkflow", "Workflows", "Delete a workflow").describe("Its run history stays.").param(id.clone()).reply("204", "Deleted.", None).problem("404", "No such workflow.")),
        ("/workflows/{id}/run", "post", Operation::new("runWorkflow", "Workflows", "Run a workflow on a record now").describe("Queues a run (also of a disabled workflow); conditions are evaluated when it runs.").param(id.clone()).body(record.clone()).reply("202", "The queued job.", Some(schema_ref("Job"))).problem("404", "No such workflow or record.")),
        ("/workflows/{id}/dry-run", "post", Operation::new("dryRunWorkflow", "Workflows", "Show what a workflow would do on a record").describe("Evaluates the conditions and renders every action (recipients, subject, bodies, payloads, field values) without sending or writing anything.").param(id.clone()).body(record).reply("200", "`conditions_met`, each action's rendered `input` (or `error`, or `skipped`), and the context templates saw.", Some(json!({ "type": "object" }))).problem("404", "No such workflow or record.")),
        ("/workflows/{id}/runs", "get", Operation::new("listWorkflowRuns", "Workflows", "A workflow's run history").describe("Newest first: the trigger event, status, error, and every try of every action with its input, output, error and duration.").param(id).param(limit.clone()).reply("200", "The runs.", Some(json!({ "type": "object", "properties": { "data": { "type": "array", "items": schema_ref("WorkflowRun") } } })))),
        ("/jobs", "get", Operation::new("listJobs", "Workflows", "Background jobs").describe("Newest first; `status=dead` lists the dead letters.").param(param("status", "query", false, json!({ "type": "string", "enum": ["queued", "running", "done", "dead"] }), "Only jobs in this state.")).param(limit).reply("200", "The jobs.", Some(json!({ "type": "object", "properties": { "data": { "type": "array", "items": schema_ref("Job") } } })))),
        ("/jobs/{id}/retry", "post", Operation::new("retryJob", "Workflows", "Retry a dead job").describe("Back in the queue with fresh attempts; actions its run already did are not repeated. Audited.").param(param("id", "path", true, json!({ "type": "string", "format": "uuid" }), "The job's id.")).reply("200", "The job.", Some(schema_ref("Job"))).problem("404", "No such job.").problem("409", "Only dead jobs can be retried.")),
    ];
    for (path, method, op) in ops {
        add(paths, &format!("{API}{path}"), method, op.problem("403", forbidden).build());
    }
}

fn workflow_schemas(out: &mut Map<String, Value>) {
    out.insert("Workflow".into(), json!({
        "type": "object",
        "description": "A workflow: a trigger, optional conditions and ordered actions (docs/AUTOMATION.md).",
        "required": ["name", "trigger", "actions"],
        "properties": {
            "id": { "type": "string", "format": "uuid", "readOnly": true },
            "name": { "type": "string", "maxLength": 200 },
            "description": { "type": ["string", "null"] },
            "enabled": { "type": "boolean", "default": true },
            "trigger": { "type": "object", "description": "`{type: record, entity, on: created|updated|deleted|restored, field?, from?, to?}` or `{type: manual, entity}`." },
            "conditions": { "type": ["object", "null"], "description": "`{all: […]}`, `{any: […]}`, `{not: …}` or `{field, op, value}`." },
            "actions": { "type": "array", "items": { "type": "object", "description": "`type`: send_email, post_slack, post_teams, call_webhook, create_activity or update_record, with its fields and an optional `only_if` condition." } },
            "version": { "type": "integer", "readOnly": true },
        }
    }));
    out.insert(
        "Job".into(),
        json!({
            "type": "object",
            "properties": {
                "id": { "type": "string", "format": "uuid" },
                "kind": { "type": "string" },
                "payload": { "type": "object" },
                "dedupe_key": { "type": "string" },
                "status": { "type": "string", "enum": ["queued", "running", "done", "dead"] },
                "attempts": { "type": "integer" },
                "max_attempts": { "type": "integer" },
                "run_after": { "type": "string", "format": "date-time" },
                "last_error": { "type": ["string", "null"] },
            }
        }),
    );
    out.insert("WorkflowRun".into(), json!({
        "type": "object",
        "properties": {
            "id": { "type": "string", "format": "uuid", "description": "Also the job's id." },
            "workflow_id": { "type": "string", "format": "uuid" },
            "trigger": { "type": "object" },
            "status": { "type": "string", "enum": ["queued", "running", "retrying", "succeeded", "skipped", "failed", "dead"] },
            "conditions_met": { "type": ["boolean", "null"] },
            "error": { "type": ["string", "null"] },
            "steps": { "type": "array", "items": { "type": "object", "properties": {
                "action_index": { "type": "integer" }, "attempt": { "type": "integer" }, "action_type": { "type": "string" },
                "status": { "type": "string", "enum": ["done", "failed", "skipped"] }, "input": {}, "output": {},
                "error": { "type": ["string", "null"] }, "duration_ms": { "type": "integer" } } } },
        }
    }));
}

/// Custom fields and select options (docs/API.md "Custom fields"): admins only, audited.
fn field_paths(paths: &mut Map<String, Value>) {
    let entity = param(
        "entity",
        "path",
        true,
        json!({ "type": "string", "enum": keel_domain::schema::custom::ENTITIES }),
        "The entity whose fields these are.",
    );
    let name = param("name", "path", true, json!({ "type": "string" }), "The field's name (`cf_…`).");
    let option = json!({ "type": "object", "required": ["value"], "properties": {
        "value": { "type": "string" }, "label": { "type": "string" },
        "probability": { "type": "integer", "minimum": 0, "maximum": 100, "description": "Deal stages only." },
        "closed": { "type": "string", "enum": ["won", "lost"], "description": "Deal stages only." },
        "color": { "type": "string" }, "retired": { "type": "boolean" } } });
    let types = [
        "text",
        "long_text",
        "number",
        "currency",
        "percent",
        "date",
        "datetime",
        "boolean",
        "select",
        "multi_select",
        "email",
        "phone",
        "url",
        "rating",
        "reference",
    ];
    let field = json!({ "type": "object", "required": ["name", "label", "type"], "properties": {
        "name": { "type": "string", "description": "`cf_` + a-z, 0-9, _ (the prefix is added when missing); also the column." },
        "label": { "type": "string", "maxLength": 100 },
        "type": { "type": "string", "enum": types },
        "help": { "type": "string", "maxLength": 500 },
        "required": { "type": "boolean" },
        "default": { "description": "A value of the field's type, filled in on create." },
        "unique": { "type": "boolean", "description": "Text, email, phone, URL: unique among live records, ignoring case." },
        "min": { "type": "integer" }, "max": { "type": "integer" },
        "max_length": { "type": "integer", "minimum": 1, "maximum": 65536 },
        "options": { "type": "array", "items": option.clone() },
        "reference": { "type": "string", "enum": keel_domain::schema::custom::REFERENCE_TARGETS },
        "read_roles": { "type": "array", "items": { "type": "string" } },
        "write_roles": { "type": "array", "items": { "type": "string" } },
        "entity": { "type": "string", "readOnly": true }, "position": { "type": "integer", "readOnly": true },
        "archived": { "type": "boolean", "readOnly": true }, "version": { "type": "integer", "readOnly": true } } });
    let page = json!({ "type": "object", "properties": { "data": { "type": "array", "items": field.clone() } } });
    let forbidden = "Only admins may manage fields.";
    let list = Operation::new("listFields", "Fields", "An entity's custom fields")
        .describe("Every custom field of the entity, archived ones too, in order.")
        .param(entity.clone())
        .reply("200", "The fields.", Some(page.clone()))
        .problem("403", forbidden)
        .build();
    let create = Operation::new("createField", "Fields", "Add a custom field")
        .describe("Adds the field to the schema and a column `cf_…` (indexed when sortable; a unique index when unique) to the table.")
        .param(entity.clone())
        .body(field.clone())
        .reply("201", "The field.", Some(field.clone()))
        .problem("403", forbidden)
        .problem("422", "The definition is not valid (each error names the key and the rule), or the name is taken.")
        .build();
    let get = Operation::new("getField", "Fields", "One custom field")
        .param(entity.clone())
        .param(name.clone())
        .reply("200", "The field.", Some(field.clone()))
        .problem("403", forbidden)
        .problem("404", "No such field.")
        .build();
    let update = Operation::new("updateField", "Fields", "Change a custom field")
        .describe("Replaces the given keys (not the name). A new `type` converts every stored value, or changes nothing and answers 409 `type_change_refused` with `failed_count` and up to 20 `failures` (record id, value, reason).")
        .param(entity.clone())
        .param(name.clone())
        .body(field.clone())
        .reply("200", "The field.", Some(field.clone()))
        .problem("403", forbidden)
        .problem("404", "No such field.")
        .problem("409", "Values cannot be converted (`type_change_refused`), or removed options are in use (`option_in_use`).")
        .problem("422", "The definition is not valid.")
        .build();
    let archive = |id: &str, summary: &str, what: &str| {
        Operation::new(id, "Fields", summary)
            .describe(what)
            .param(entity.clone())
            .param(name.clone())
            .reply("200", "The field.", Some(field.clone()))
            .problem("403", forbidden)
            .problem("404", "No such field.")
            .build()
    };
    let reorder = Operation::new("reorderFields", "Fields", "Order an entity's custom fields")
        .param(entity.clone())
        .body(json!({ "type": "object", "required": ["order"], "properties": { "order": { "type": "array", "items": { "type": "string" } } } }))
        .reply("200", "The fields in their new order.", Some(page))
        .problem("403", forbidden)
        .problem("422", "order must list each custom field of the entity once.")
        .build();
    let options = Operation::new("setFieldOptions", "Fields", "Edit a select field's options")
        .describe("Built-in selects (industry, size, department, stage, source, priority, activity type) and custom selects. Add, relabel, reorder, retire (`retired: true`: kept on records, not offered). Deal stages carry a probability and need a live won and lost stage. Removing an option records hold needs `replacements: {old: new}`; those records move, each as a logged update.")
        .param(entity.clone())
        .param(name.clone())
        .body(json!({ "type": "object", "required": ["options"], "properties": {
            "options": { "type": "array", "items": option }, "replacements": { "type": "object", "additionalProperties": { "type": "string" } } } }))
        .reply("200", "The options.", Some(json!({ "type": "object" })))
        .problem("403", forbidden)
        .problem("404", "No such field.")
        .problem("409", "Removed options are in use and have no replacement (`option_in_use` with counts).")
        .problem("422", "The options are not valid.")
        .build();
    add(paths, &format!("{API}/fields/{{entity}}"), "get", list);
    add(paths, &format!("{API}/fields/{{entity}}"), "post", create);
    add(paths, &format!("{API}/fields/{{entity}}/order"), "put", reorder);
    add(paths, &format!("{API}/fields/{{entity}}/{{name}}"), "get", get);
    add(paths, &format!("{API}/fields/{{entity}}/{{name}}"), "patch", update);
    add(
        paths,
        &format!("{API}/fields/{{entity}}/{{name}}/archive"),
        "post",
        archive("archiveField", "Archive a custom field", "Hides the field everywhere; its data stays."),
    );
    add(
        paths,
        &format!("{API}/fields/{{entity}}/{{name}}/unarchive"),
        "post",
        archive("unarchiveField", "Unarchive a custom field", "Shows the field again, with its data."),
    );
    add(paths, &format!("{API}/fields/{{entity}}/{{name}}/options"), "put", options);
}

/// Roles as data (docs/SECURITY.md): everyone reads them, admins define custom ones.
fn role_paths(paths: &mut Map<String, Value>) {
    let name = param("name", "path", true, json!({ "type": "string" }), "The role's name.");
    let list = Operation::new("listRoles", "Roles", "Every role")
        .describe("The built-in roles (admin, manager, rep) and the custom ones, with their grants and field rules.")
        .reply("200", "The roles.", Some(schema_ref("RolePage")))
        .build();
    let create = Operation::new("createRole", "Roles", "Define a custom role")
        .describe("Admins only. Grants per CRM entity (read, update, delete, share: none/own/team/all; create and reassign: true/false; missing means no) and field rules (read/write: none/own/all).")
        .body(schema_ref("Role"))
        .reply("201", "The role.", Some(schema_ref("Role")))
        .problem("403", "Only admins may manage roles.")
        .problem("422", "A reserved or taken name, an unknown entity or field, or a scope a field rule cannot take.")
        .build();
    let get = Operation::new("getRole", "Roles", "One role")
        .param(name.clone())
        .reply("200", "The role.", Some(schema_ref("Role")))
        .problem("404", "No such role.")
        .build();
    let update = Operation::new("updateRole", "Roles", "Change a custom role")
        .describe(
            "Admins only. Replaces the given keys; users holding the role get the new rights on their next request.",
        )
        .param(name.clone())
        .body(schema_ref("Role"))
        .reply("200", "The role.", Some(schema_ref("Role")))
        .problem("403", "Only admins may manage roles.")
        .problem("404", "No such role.")
        .problem("409", "Built-in roles cannot be changed.")
        .problem("422", "The definition is not valid.")
        .build();
    let delete = Operation::new("deleteRole", "Roles", "Delete a custom role")
        .param(name)
        .reply("204", "Deleted.", None)
        .problem("403", "Only admins may manage roles.")
        .problem("404", "No such role.")
        .problem("409", "Built-in, or users still hold it (`role_in_use` with `user_count`).")
        .build();
    add(paths, &format!("{API}/roles"), "get", list);
    add(paths, &format!("{API}/roles"), "post", create);
    add(paths, &format!("{API}/roles/{{name}}"), "get", get);
    add(paths, &format!("{API}/roles/{{name}}"), "patch", update);
    add(paths, &format!("{API}/roles/{{name}}"), "delete", delete);

    let team = param("id", "path", true, json!({ "type": "string", "format": "uuid" }), "The team's id.");
    let managers = json!({
        "type": "object", "additionalProperties": false, "required": ["user_ids"],
        "properties": { "user_ids": { "type": "array", "items": { "type": "string", "format": "uuid" }, "maxItems": 100 } },
    });
    let get_managers = Operation::new("getTeamManagers", "Teams", "A team's listed managers")
        .param(team.clone())
        .reply("200", "The managers' user ids.", Some(managers.clone()))
        .problem("404", "No such team.")
        .build();
    let set_managers = Operation::new("setTeamManagers", "Teams", "Replace a team's listed managers")
        .describe(
            "Admins only. Listed managers get `team` scope over the team's records, in addition to their own team.",
        )
        .param(team)
        .body(managers.clone())
        .reply("200", "The managers' user ids.", Some(managers))
        .problem("403", "Only admins may change who manages a team.")
        .problem("404", "No such team.")
        .problem("422", "An unknown user, or more than 100.")
        .build();
    let invite_reply = json!({
        "type": "object", "required": ["user", "token", "expires_at"],
        "properties": {
            "user": schema_ref("User"),
            "token": { "type": "string", "description": "Shown once: the invitee passes it to accept-invite." },
            "expires_at": { "type": "string", "format": "date-time" },
        },
    });
    let invite = Operation::new("inviteUser", "Users", "Invite a user")
        .describe("Admins only. Creates the user (body as for creating a user, without `password`) and a one-time invitation valid for 7 days.")
        .body(schema_ref("UserUpdate"))
        .reply("201", "The user and the invitation token.", Some(invite_reply.clone()))
        .problem("403", "Only admins may invite users.")
        .problem("422", "The user fields are not valid.")
        .build();
    let reinvite = Operation::new("reinviteUser", "Users", "Issue a new invitation")
        .param(param("id", "path", true, json!({ "type": "string", "format": "uuid" }), "The user's id."))
        .reply("201", "The user and a new invitation token.", Some(invite_reply))
        .problem("403", "Only admins may invite users.")
        .problem("404", "No such user.")
        .build();
    let accept = Operation::new("acceptInvite", "Auth", "Accept an invitation")
        .describe("No sign-in needed: sets the invited user's password. The token works once; a password that breaks the rules is refused without using it up.")
        .body(json!({
            "type": "object", "additionalProperties": false, "required": ["token", "password"],
            "properties": { "token": { "type": "string" }, "password": { "type": "string", "minLength": 12 } },
        }))
        .reply("204", "The password is set; sign in with it.", None)
        .problem("422", "An unknown, used or expired token (`token`), or a password that breaks the rules (`password`).")
        .build();
    let mut accept = accept;
    if let Some(op) = accept.as_object_mut() {
        op.insert("security".into(), json!([]));
    }
    add(paths, &format!("{API}/users/invite"), "post", invite);
    add(paths, &format!("{API}/users/{{id}}/invite"), "post", reinvite);
    add(paths, &format!("{API}/auth/accept-invite"), "post", accept);
    add(paths, &format!("{API}/teams/{{id}}/managers"), "get", get_managers);
    add(paths, &format!("{API}/teams/{{id}}/managers"), "put", set_managers);
}

fn role_schemas(out: &mut Map<String, Value>) {
    let scope = json!({ "type": "string", "enum": ["none", "own", "team", "all"], "default": "none" });
    out.insert(
        "Grants".into(),
        json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "read": scope, "update": scope, "delete": scope, "share": scope,
                "create": { "type": "boolean", "default": false },
                "reassign": { "type": "boolean", "default": false },
            },
        }),
    );
    out.insert(
        "FieldRule".into(),
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["entity", "field", "read", "write"],
            "properties": {
                "entity": { "type": "string" }, "field": { "type": "string" },
                "read": { "type": "string", "enum": ["none", "own", "all"] },
                "write": { "type": "string", "enum": ["none", "own", "all"] },
            },
        }),
    );
    out.insert(
        "Role".into(),
        json!({
            "type": "object",
            "required": ["name", "label"],
            "properties": {
                "name": { "type": "string", "pattern": "^[a-z0-9_-]{2,40}$" },
                "label": { "type": "string", "maxLength": 100 },
                "description": { "type": ["string", "null"] },
                "permissions": {
                    "type": "object",
                    "description": "Grants per entity: companies, contacts, deals, activities.",
                    "additionalProperties": schema_ref("Grants"),
                },
                "field_rules": { "type": "array", "items": schema_ref("FieldRule") },
                "built_in": { "type": "boolean", "readOnly": true },
            },
        }),
    );
    out.insert(
        "RolePage".into(),
        json!({ "type": "object", "required": ["data"], "properties": { "data": { "type": "array", "items": schema_ref("Role") } } }),
    );
}

fn entity_paths(schema: &Schema, e: &EntityDef, paths: &mut Map<String, Value>) {
    let base = format!("{API}/{}", e.name);
    let item = format!("{base}/{{id}}");
    add(paths, &base, "get", list_operation(e));
    add(paths, &base, "post", create_operation(e));
    add(paths, &item, "get", get_operation(e));
    add(paths, &item, "patch", update_operation(e));
    add(paths, &item, "delete", delete_operation(schema, e));
    if e.soft_delete {
        add(paths, &format!("{item}/restore"), "post", restore_operation(e));
        add(paths, &format!("{item}/purge"), "post", purge_operation(schema, e));
    }
    add(paths, &format!("{base}/bulk/delete"), "post", bulk_delete_operation(e));
    add(paths, &format!("{base}/export.csv"), "get", export_operation(e));
    if e.owned {
        add(paths, &format!("{base}/bulk/owner"), "post", bulk_owner_operation(e));
    }
    for (other, field) in related_lists(schema, e) {
        add(paths, &format!("{item}/{}", other.name), "get", related_operation(e, other, field));
    }
    if keel_domain::policy::shareable(&e.name) {
        share_paths(e, &item, paths);
    }
}

/// Record sharing (docs/SECURITY.md): list, grant or change, revoke.
fn share_paths(e: &EntityDef, item: &str, paths: &mut Map<String, Value>) {
    let name = pascal(&e.singular);
    let list =
        Operation::new(&format!("list{name}Shares"), &e.label, &format!("Who this {} is shared with", e.singular))
            .param(id_param(e))
            .reply("200", "The shares.", Some(schema_ref("SharePage")))
            .problem("404", &format!("No such {}, or you may not see it.", e.singular))
            .build();
    let grant = Operation::new(&format!("share{name}"), &e.label, &format!("Share this {}", e.singular))
        .describe(format!(
            "Grants a user or a team view or edit access to this {}. Sharing again with the same grantee changes \
             the permission. Owners (reps) and managers of the owner's team may share.",
            e.singular
        ))
        .param(id_param(e))
        .body(schema_ref("ShareRequest"))
        .reply("201", "The share.", Some(schema_ref("Share")))
        .problem("403", &format!("You may not share this {}.", e.singular))
        .problem("404", &format!("No such {}, or you may not see it.", e.singular))
        .problem("422", "Not exactly one of user_id/team_id, an unknown grantee, or a permission other than view/edit.")
        .build();
    let revoke = Operation::new(&format!("unshare{name}"), &e.label, &format!("Stop sharing this {}", e.singular))
        .param(id_param(e))
        .param(param("share_id", "path", true, json!({ "type": "string", "format": "uuid" }), "The share to revoke."))
        .reply("204", "Revoked.", None)
        .problem("403", &format!("You may not share this {}.", e.singular))
        .problem("404", "No such record or share.")
        .build();
    add(paths, &format!("{item}/shares"), "get", list);
    add(paths, &format!("{item}/shares"), "post", grant);
    add(paths, &format!("{item}/shares/{{share_id}}"), "delete", revoke);
}

fn share_schemas(out: &mut Map<String, Value>) {
    let uuid = json!({ "type": "string", "format": "uuid" });
    let nullable_uuid = json!({ "type": ["string", "null"], "format": "uuid" });
    out.insert(
        "ShareRequest".into(),
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["permission"],
            "description": "Exactly one of user_id and team_id.",
            "properties": {
                "user_id": uuid, "team_id": uuid,
                "permission": { "type": "string", "enum": ["view", "edit"] },
            },
        }),
    );
    out.insert(
        "Share".into(),
        json!({
            "type": "object",
            "required": ["id", "entity", "record_id", "user_id", "team_id", "permission", "created_by", "created_at"],
            "properties": {
                "id": uuid, "entity": { "type": "string" }, "record_id": uuid,
                "user_id": nullable_uuid, "team_id": nullable_uuid,
                "permission": { "type": "string", "enum": ["view", "edit"] },
                "created_by": nullable_uuid, "created_at": { "type": "string", "format": "date-time" },
            },
        }),
    );
    out.insert(
        "SharePage".into(),
        json!({ "type": "object", "required": ["data"], "properties": { "data": { "type": "array", "items": schema_ref("Share") } } }),
    );
}

/// The related lists of `e`, one per referencing entity. When an entity links to `e`
/// through several fields (activities → users via `owner_id` and `assigned_to`), the
/// first field names the list, so every path stays unique.
fn related_lists<'a>(schema: &'a Schema, e: &EntityDef) -> Vec<(&'a EntityDef, &'a FieldDef)> {
    let mut seen = BTreeSet::new();
    schema.referencing(&e.name).into_iter().filter(|(other, _)| seen.insert(other.name.clone())).collect()
}

/// Entities whose records go with a record of `e` when it is deleted (deals with their
/// company): deleting such a record needs `cascade=true` while children remain.
fn cascade_children<'a>(schema: &'a Schema, e: &EntityDef) -> Vec<&'a EntityDef> {
    schema
        .entities
        .values()
        .filter(|other| other.fields.iter().any(|f| references_with(f, &e.name, OnDelete::Cascade)))
        .collect()
}

/// Fields that keep a record of `e` from being purged while they point at it.
fn restricting_fields(schema: &Schema, e: &EntityDef) -> Vec<String> {
    let mut out = Vec::new();
    for other in schema.entities.values() {
        for f in other.fields.iter().filter(|f| references_with(f, &e.name, OnDelete::Restrict)) {
            out.push(format!("{}.{}", other.name, f.name));
        }
    }
    out
}

fn references_with(f: &FieldDef, target: &str, on_delete: OnDelete) -> bool {
    f.ty == FieldType::Reference && f.reference.as_deref() == Some(target) && f.on_delete == Some(on_delete)
}

fn unique_fields(e: &EntityDef) -> Vec<&str> {
    e.visible_fields().filter(|f| f.unique).map(|f| f.name.as_str()).collect()
}

fn list_operation(e: &EntityDef) -> Value {
    Operation::new(&format!("list{}", pascal(&e.name)), &e.label, &format!("List {}", lower(&e.label)))
        .describe(list_description(e))
        .params(list_params(e, None))
        .reply("200", &format!("A page of {}.", lower(&e.label)), Some(schema_ref(&format!("{}Page", record_name(e)))))
        .problem(
            "400",
            "A query parameter is invalid (unknown field or operator, a value of the wrong type, a cursor from another list); `errors` names each one.",
        )
        .build()
}

/// CSV export of a list view (docs/SECURITY.md, "Exports"): the list's filters, `q` and sort.
fn export_operation(e: &EntityDef) -> Value {
    let params: Vec<Value> = list_params(e, None)
        .into_iter()
        .filter(|p| {
            let r = p["$ref"].as_str().unwrap_or_default();
            !["limit", "cursor", "count"].iter().any(|k| r.ends_with(&format!("/{k}")))
        })
        .collect();
    let csv = json!({
        "description": "RFC 4180 CSV (CRLF line ends). The first line is a watermark comment, `# Exported by <email> \
            (<user id>) at <RFC 3339 UTC> from /api/v1/<entity>?<query>`; then a header row of the entity's field \
            names; then one row per record, values as in the JSON API (empty when null or redacted). Text cells \
            starting with `=`, `+`, `-` or `@` get a leading `'` (formula injection).",
        "headers": {
            "Content-Disposition": { "description": "`attachment; filename=\"<entity>-<date>.csv\"`", "schema": { "type": "string" } },
            "X-Export-Rows": { "description": "How many records the file holds.", "schema": { "type": "integer", "minimum": 0 } },
        },
        "content": { "text/csv": { "schema": { "type": "string" } } },
    });
    Operation::new(&format!("export{}", pascal(&e.name)), &e.label, &format!("Export {} as CSV", lower(&e.label)))
        .describe(format!(
            "Every {} the same list (filters, `q`, `sort`, `trashed`) would show you, as a CSV download, with the \
             list's row- and field-level security. Managers export their team's records, at most 1,000 per export \
             and 5 exports in 24 hours (configurable); admins without limits; reps may not export. Every export \
             is recorded in the audit log (`export.completed`). `limit`, `cursor` and `count` are ignored.",
            e.singular
        ))
        .params(params)
        .reply_with("200", csv)
        .problem("400", "A query parameter is invalid, as for the list; `errors` names each one.")
        .problem("403", "Your role may not export, or may not sort by a field it cannot always read.")
        .problem("422", "`export_too_large`: more records match than one export may hold (`count`, `limit`); narrow the filter.")
        .reply_with(
            "429",
            json!({
                "description": "`export_limit_reached`: the per-day export limit is used up (`limit`, `retry_after`).",
                "headers": { "Retry-After": { "description": "Seconds until another export is allowed.", "schema": { "type": "integer", "minimum": 1 } } },
                "content": { PROBLEM_JSON: { "schema": schema_ref("Problem") } },
            }),
        )
        .build()
}

fn related_operation(parent: &EntityDef, other: &EntityDef, field: &FieldDef) -> Value {
    let id = format!("list{}{}", record_name(parent), pascal(&other.name));
    let summary = format!("List the {} of a {}", lower(&other.label), parent.singular);
    let description = format!(
        "{} whose `{}` is this {}. Takes the same parameters as GET {API}/{} (except a `{}` filter, which the path fixes).\n\n{}",
        other.label,
        field.name,
        parent.singular,
        other.name,
        field.name,
        list_description(other)
    );
    Operation::new(&id, &parent.label, &summary)
        .describe(description)
        .param(id_param(parent))
        .params(list_params(other, Some(&field.name)))
        .reply(
            "200",
            &format!("A page of {}.", lower(&other.label)),
            Some(schema_ref(&format!("{}Page", record_name(other)))),
        )
        .problem("400", "A query parameter is invalid; `errors` names each one.")
        .problem("404", &format!("No such {}, or you may not see it.", parent.singular))
        .build()
}

fn list_description(e: &EntityDef) -> String {
    let mut text = format!(
        "One page of {} at a time, ordered by `sort` (default `{}`). Paging is by keyset: pass `next_cursor` back as `cursor` \
         (with the same sort and filters) until it is null. `count=true` adds `total`.\n\n\
         Every field can be filtered. `field=value` matches equal values, and `field[op]=value` takes op from: \
         `eq`, `ne`, `lt`, `lte`, `gt`, `gte`, `in` (comma-separated values), `contains` (substring, text fields only), \
         `is_null` (`true` or `false`). Filters combine with AND, e.g. `?created_at[gte]=2026-01-01T00:00:00Z&id[ne]=…`.",
        lower(&e.label),
        e.default_sort
    );
    if e.has_search() {
        text.push_str(&format!("\n\n`q` searches {} by word prefix.", search_labels(e)));
    }
    text
}

fn search_labels(e: &EntityDef) -> String {
    e.searchable_fields().filter(|f| !f.hidden).map(|f| lower(&f.label)).collect::<Vec<_>>().join(", ")
}

/// The list parameters of `e`, as references into `components/parameters` (seventeen list
/// operations share them; inlined, they would be most of the document). `fixed` is the
/// reference field a related-list path already pins, which therefore gets no filter.
fn list_params(e: &EntityDef, fixed: Option<&str>) -> Vec<Value> {
    let mut keys = Vec::new();
    if e.has_search() {
        keys.push(search_key(e));
    }
    keys.push(sort_key(e));
    keys.extend(["limit", "cursor", "count"].map(String::from));
    if e.soft_delete {
        keys.push("trashed".into());
    }
    keys.extend(filter_fields(e).filter(|f| Some(f.name.as_str()) != fixed).map(|f| filter_key(e, f)));
    keys.iter().map(|k| json!({ "$ref": format!("#/components/parameters/{k}") })).collect()
}

fn search_key(e: &EntityDef) -> String {
    format!("{}.q", record_name(e))
}

fn sort_key(e: &EntityDef) -> String {
    format!("{}.sort", record_name(e))
}

/// Filter keys cannot collide with `q`/`sort`: fields with reserved names get no filter.
fn filter_key(e: &EntityDef, f: &FieldDef) -> String {
    format!("{}.{}", record_name(e), f.name)
}

/// Fields with a plain `field=value` parameter: every visible field whose name the list
/// endpoint does not read itself.
fn filter_fields(e: &EntityDef) -> impl Iterator<Item = &FieldDef> {
    e.visible_fields().filter(|f| !RESERVED_PARAMS.contains(&f.name.as_str()))
}

/// `components/parameters`: the shared paging parameters and, per entity, search, sort
/// and one equality filter per field.
fn parameters(schema: &Schema) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert(
        "limit".into(),
        param(
            "limit",
            "query",
            false,
            json!({ "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT }),
            "Records per page.",
        ),
    );
    out.insert(
        "cursor".into(),
        param("cursor", "query", false, json!({ "type": "string" }), "Opaque: the `next_cursor` of the previous page."),
    );
    out.insert(
        "count".into(),
        param(
            "count",
            "query",
            false,
            json!({ "type": "boolean", "default": false }),
            "Include `total`, the number of records matching the filters.",
        ),
    );
    out.insert(
        "trashed".into(),
        param(
            "trashed",
            "query",
            false,
            json!({ "type": "boolean", "default": false }),
            "List the trash instead of live records.",
        ),
    );
    for e in schema.entities.values() {
        if e.has_search() {
            let description = format!("Full-text search over {}; each word matches as a prefix.", search_labels(e));
            out.insert(
                search_key(e),
                param("q", "query", false, json!({ "type": "string", "maxLength": 200 }), &description),
            );
        }
        out.insert(sort_key(e), sort_param(e));
        for f in filter_fields(e) {
            out.insert(filter_key(e, f), filter_param(f));
        }
    }
    out
}

fn sort_param(e: &EntityDef) -> Value {
    let keys: Vec<String> =
        e.visible_fields().filter(|f| f.sortable).flat_map(|f| [f.name.clone(), format!("-{}", f.name)]).collect();
    param(
        "sort",
        "query",
        false,
        json!({ "type": "string", "enum": keys, "default": e.default_sort }),
        "A sortable field; a leading `-` sorts descending.",
    )
}

fn filter_param(f: &FieldDef) -> Value {
    param(
        &f.name,
        "query",
        false,
        Value::Object(value_schema(f, false)),
        &format!(
            "Only records whose {} equals this value. `{}[op]=value` takes the other operators (see the operation's description).",
            lower(&f.label),
            f.name
        ),
    )
}

fn idempotency_param() -> Value {
    param(
        "Idempotency-Key",
        "header",
        false,
        json!({ "type": "string", "pattern": "^[!-~]{1,255}$" }),
        "1 to 255 visible ASCII characters unique to this create (a UUID works). Retrying with the same key replays the first response \
         (marked `Idempotent-Replayed: true`) instead of creating a second record.",
    )
}

fn if_match_param() -> Value {
    param(
        "If-Match",
        "header",
        false,
        json!({ "type": "string" }),
        "The `ETag` (quoted version) of the record you edited. When the record has changed since, the update is refused with 412.",
    )
}

fn create_operation(e: &EntityDef) -> Value {
    Operation::new(&format!("create{}", record_name(e)), &e.label, &format!("Create a {}", e.singular))
        .describe("Validates the body against the field metadata and records the change in the change log, in one transaction.")
        .param(idempotency_param())
        .body(schema_ref(&format!("{}Create", record_name(e))))
        .reply_with("201", record_reply(e, &format!("The new {}.", e.singular), true))
        .problem("400", "The body is not a JSON object, or the Idempotency-Key is malformed.")
        .problem("403", &format!("Your role may not create {}.", lower(&e.label)))
        .problem("409", &conflict_description(e))
        .problem("422", "A field is invalid; `errors` lists each one.")
        .build()
}

fn conflict_description(e: &EntityDef) -> String {
    let unique = unique_fields(e);
    if unique.is_empty() {
        "The Idempotency-Key was already used for a different request.".into()
    } else {
        format!(
            "Another live {} already has this {}, or the Idempotency-Key was already used for a different request.",
            e.singular,
            unique.join(" / ")
        )
    }
}

fn etag_header() -> Value {
    json!({ "description": "The record's version, quoted (`\"3\"`). Send it back as `If-Match`.", "schema": { "type": "string" } })
}

/// A record answer with its version as `ETag` (and, for a create, its `Location`).
fn record_reply(e: &EntityDef, description: &str, created: bool) -> Value {
    let mut headers = Map::new();
    headers.insert("ETag".into(), etag_header());
    if created {
        headers.insert(
            "Location".into(),
            json!({ "description": "The new record's URL.", "schema": { "type": "string" } }),
        );
    }
    json!({ "description": description, "headers": headers, "content": { JSON: { "schema": record_ref(e) } } })
}

fn get_operation(e: &EntityDef) -> Value {
    Operation::new(&format!("get{}", record_name(e)), &e.label, &format!("Get a {}", e.singular))
        .param(id_param(e))
        .reply_with("200", record_reply(e, &format!("The {}.", e.singular), false))
        .problem("404", &format!("No such {}, or you may not see it.", e.singular))
        .build()
}

fn update_operation(e: &EntityDef) -> Value {
    let mut op = Operation::new(&format!("update{}", record_name(e)), &e.label, &format!("Update a {}", e.singular))
        .describe("Changes only the fields in the body; `null` clears an optional field.")
        .param(id_param(e))
        .param(if_match_param())
        .body(schema_ref(&format!("{}Update", record_name(e))))
        .reply_with("200", record_reply(e, &format!("The updated {}.", e.singular), false))
        .problem("400", "The body is not a JSON object.")
        .problem("403", &format!("Your role may not change this {}.", e.singular))
        .problem("404", &format!("No such {}, or you may not see it.", e.singular))
        .problem("412", "The record changed since the version in If-Match; fetch it again and reapply your edit.")
        .problem("422", "A field is invalid; `errors` lists each one.");
    let unique = unique_fields(e);
    if !unique.is_empty() {
        op = op.problem("409", &format!("Another live {} already has this {}.", e.singular, unique.join(" / ")));
    }
    op.build()
}

fn delete_operation(schema: &Schema, e: &EntityDef) -> Value {
    let (summary, gone) = if e.soft_delete {
        (
            format!("Move a {} to the trash", e.singular),
            "Moved to the trash; POST …/restore brings it back.".to_string(),
        )
    } else {
        (format!("Delete a {}", e.singular), "Deleted.".to_string())
    };
    let mut op = Operation::new(&format!("delete{}", record_name(e)), &e.label, &summary)
        .param(id_param(e))
        .reply("204", &gone, None)
        .problem("403", &format!("Your role may not delete this {}.", e.singular))
        .problem("404", &format!("No such {}, or you may not see it.", e.singular));
    let children = cascade_children(schema, e);
    if !children.is_empty() {
        let names = children.iter().map(|c| lower(&c.label)).collect::<Vec<_>>().join(" and ");
        op = op
            .param(param(
                "cascade",
                "query",
                false,
                json!({ "type": "boolean", "default": false }),
                &format!(
                    "Also move its {names} to the trash. Without it, a {} that still has {names} is refused with 409.",
                    e.singular
                ),
            ))
            .reply_with(
                "409",
                problem_response(
                    &format!(
                        "The {} still has {names}; the problem says how many. Retry with `cascade=true`.",
                        e.singular
                    ),
                    children_problem(&children),
                ),
            );
    }
    op.build()
}

/// A Problem that also counts the remaining children: `{"deal_count": 3, …}`.
fn children_problem(children: &[&EntityDef]) -> Value {
    let mut props = Map::new();
    for c in children {
        props.insert(
            format!("{}_count", c.singular),
            json!({ "type": "integer", "minimum": 1, "description": format!("How many {} remain.", lower(&c.label)) }),
        );
    }
    json!({ "allOf": [schema_ref("Problem"), { "type": "object", "properties": props }] })
}

fn restore_operation(e: &EntityDef) -> Value {
    let mut op = Operation::new(
        &format!("restore{}", record_name(e)),
        &e.label,
        &format!("Restore a {} from the trash", e.singular),
    )
    .param(id_param(e))
    .reply("200", &format!("The restored {}.", e.singular), Some(record_ref(e)))
    .problem("403", &format!("Your role may not restore {}.", lower(&e.label)))
    .problem("404", &format!("No such {} in the trash.", e.singular));
    let unique = unique_fields(e);
    if !unique.is_empty() {
        op = op.problem("409", &format!("A live {} has taken its {} meanwhile.", e.singular, unique.join(" / ")));
    }
    op.build()
}

fn purge_operation(schema: &Schema, e: &EntityDef) -> Value {
    let mut op =
        Operation::new(&format!("purge{}", record_name(e)), &e.label, &format!("Purge a {} for good", e.singular))
            .describe("Admins only. Removes the record permanently; it cannot be restored.")
            .param(id_param(e))
            .reply("204", "Removed for good.", None)
            .problem("403", "Only admins may purge records.")
            .problem("404", &format!("No such {}.", e.singular));
    let restricting = restricting_fields(schema, e);
    if !restricting.is_empty() {
        op = op.problem(
            "409",
            &format!("Other records still point at it ({}); reassign them first.", restricting.join(", ")),
        );
    }
    op.build()
}

fn bulk_delete_operation(e: &EntityDef) -> Value {
    Operation::new(&format!("bulkDelete{}", pascal(&e.name)), &e.label, &format!("Delete many {}", lower(&e.label)))
        .describe(format!(
            "Moves up to {BULK_MAX} {} to the trash in one transaction; `deleted` counts the records moved.",
            lower(&e.label)
        ))
        .body(schema_ref("BulkIds"))
        .reply("200", "How many were deleted.", Some(schema_ref("BulkDeleted")))
        .problem("400", "The body is not a JSON object.")
        .problem("403", &format!("Your role may not delete {}.", lower(&e.label)))
        .problem(
            "422",
            &format!("`ids` is empty, has more than {BULK_MAX} entries or holds something that is not a UUID."),
        )
        .build()
}

fn bulk_owner_operation(e: &EntityDef) -> Value {
    Operation::new(
        &format!("bulkChangeOwner{}", pascal(&e.name)),
        &e.label,
        &format!("Reassign many {}", lower(&e.label)),
    )
    .describe(format!(
        "Sets `owner_id` on up to {BULK_MAX} {} in one transaction; `updated` counts the records changed.",
        lower(&e.label)
    ))
    .body(schema_ref("BulkChangeOwner"))
    .reply("200", "How many were reassigned.", Some(schema_ref("BulkUpdated")))
    .problem("400", "The body is not a JSON object.")
    .problem("403", "Only managers and admins may reassign records.")
    .problem("422", &format!("`ids` is empty, has more than {BULK_MAX} entries, or `owner_id` is not an active user."))
    .build()
}

fn meta_paths(schema: &Schema, paths: &mut Map<String, Value>) {
    let get_schema = Operation::new("getSchema", "Meta", "The schema metadata")
        .describe("Every entity and field with type, limits, options and access: what forms, filters and imports are built from.")
        .reply("200", "The metadata.", Some(schema_ref("SchemaMetadata")))
        .build();
    add(paths, &format!("{API}/schema"), "get", get_schema);

    let after = param(
        "after",
        "query",
        false,
        json!({ "type": "integer", "format": "int64", "minimum": 0, "default": 0 }),
        "Return entries with a `seq` greater than this: the `next_after` of the previous page.",
    );
    let limit = param(
        "limit",
        "query",
        false,
        json!({ "type": "integer", "minimum": 1, "maximum": CHANGES_MAX_LIMIT, "default": CHANGES_DEFAULT_LIMIT }),
        "Entries per page.",
    );
    let entities: Vec<&str> = schema.entities.keys().map(String::as_str).collect();
    let changes = Operation::new("listChanges", "Meta", "Read the change log")
        .describe(format!(
            "Admins only. Every create, update, delete, restore and purge of {} in commit order, with the field diff. \
             Poll with `after=next_after` to follow it.",
            entities.join(", ")
        ))
        .param(after)
        .param(limit)
        .reply("200", "A page of change entries.", Some(schema_ref("ChangePage")))
        .problem("400", "`after` or `limit` is invalid, or the query has another parameter.")
        .problem("403", "Only admins may read the change log.")
        .build();
    add(paths, &format!("{API}/changes"), "get", changes);
}

fn auth_paths(schema: &Schema, paths: &mut Map<String, Value>) {
    let set_cookie = json!({
        "description": format!("`{SESSION_COOKIE}=…; HttpOnly; SameSite=Lax; Path=/`: the session."),
        "schema": { "type": "string" },
    });
    let login_ok = json!({
        "description": "Signed in.",
        "headers": { "Set-Cookie": set_cookie },
        "content": { JSON: { "schema": {
            "type": "object",
            "required": ["user"],
            "properties": { "user": user_schema(schema) },
        } } },
    });
    let login = Operation::new("login", "Auth", "Sign in")
        .describe(format!(
            "Checks the email and password and sets the `{SESSION_COOKIE}` cookie. For an account with two-factor \
             authentication the body also needs `totp_code` (or a `recovery_code`); without one the answer is 401 \
             `two_factor_required` and no session. 5 failures for one account, or 20 from one address, within \
             15 minutes lock it for 15 minutes (429, whatever the password)."
        ))
        .public()
        .body(schema_ref("LoginRequest"))
        .reply_with("200", login_ok)
        .problem("400", "The body is not a JSON object.")
        .problem(
            "401",
            "`invalid_credentials`: wrong email, password or code, or the user is deactivated. \
             `two_factor_required`: the password is right; send `totp_code` or `recovery_code` too.",
        )
        .problem("422", "`email` or `password` is missing, or both `totp_code` and `recovery_code` were sent.")
        .reply_with("429", too_many_attempts())
        .build();
    add(paths, &format!("{API}/auth/login"), "post", login);

    let logout = Operation::new("logout", "Auth", "Sign out")
        .describe("Ends the session and clears the cookie.")
        .reply("204", "Signed out.", None)
        .build();
    add(paths, &format!("{API}/auth/logout"), "post", logout);

    let me = Operation::new("getMe", "Auth", "The signed-in user")
        .reply("200", "The user.", Some(user_schema(schema)))
        .build();
    add(paths, &format!("{API}/auth/me"), "get", me);

    let create_token = Operation::new("createToken", "Auth", "Create a personal API token")
        .describe("The token is in this response only; store it now. Send it as `Authorization: Bearer …`.")
        .body(schema_ref("TokenCreate"))
        .reply("201", "The new token.", Some(schema_ref("TokenCreated")))
        .problem("400", "The body is not a JSON object.")
        .problem("422", "`name` is missing or too long.")
        .build();
    add(paths, &format!("{API}/auth/tokens"), "post", create_token);

    let list_tokens = Operation::new("listTokens", "Auth", "List your API tokens")
        .describe("The tokens themselves are never shown again, only their names.")
        .reply("200", "Your tokens.", Some(schema_ref("TokenList")))
        .build();
    add(paths, &format!("{API}/auth/tokens"), "get", list_tokens);

    let delete_token = Operation::new("deleteToken", "Auth", "Revoke an API token")
        .param(param("id", "path", true, json!({ "type": "string", "format": "uuid" }), "The token's id."))
        .reply("204", "Revoked; requests with it now answer 401.", None)
        .problem("404", "No such token of yours.")
        .build();
    add(paths, &format!("{API}/auth/tokens/{{id}}"), "delete", delete_token);
}

fn audit_paths(paths: &mut Map<String, Value>) {
    let uuid = json!({ "type": "string", "format": "uuid" });
    let time = json!({ "type": "string", "description": "RFC 3339, or a date (midnight UTC)." });
    let actions: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
    let list = Operation::new("listAuditEntries", "Audit", "Query the audit log")
        .describe(
            "Admins only. Record changes (with the field diff), sign-ins, failed sign-ins, sign-outs, permission and \
             settings changes, exports and the log's own retention purges, each with the actor, time, IP address, user \
             agent and request id. Newest first; filters combine with AND. Follow `next_cursor` (pass it as `cursor`) \
             until it is null.",
        )
        .param(param("user_id", "query", false, uuid.clone(), "Only what this user did."))
        .param(param(
            "entity",
            "query",
            false,
            json!({ "type": "string" }),
            "Only entries about this entity, e.g. `deals`.",
        ))
        .param(param("record_id", "query", false, uuid, "Only entries about this record."))
        .param(param("action", "query", false, json!({ "type": "string", "enum": actions }), "Only this action."))
        .param(param("since", "query", false, time.clone(), "Only entries at or after this time."))
        .param(param("until", "query", false, time, "Only entries before this time."))
        .param(param(
            "limit",
            "query",
            false,
            json!({ "type": "integer", "minimum": 1, "maximum": MAX_AUDIT_LIMIT, "default": AUDIT_DEFAULT_LIMIT }),
            "Entries per page.",
        ))
        .param(param("cursor", "query", false, json!({ "type": "string" }), "The `next_cursor` of the previous page."))
        .reply("200", "A page of audit entries.", Some(schema_ref("AuditPage")))
        .problem("400", "A query parameter is invalid, repeated or unknown; `errors` names each one.")
        .problem("403", "Only admins may read the audit log.")
        .build();
    add(paths, &format!("{API}/audit"), "get", list);

    let verify = Operation::new("verifyAuditLog", "Audit", "Verify the audit log's hash chain")
        .describe(
            "Admins only. Walks the chain from the oldest entry and reports the first broken link: an altered entry \
             (`hash_mismatch`), an altered and re-hashed one (`prev_hash_mismatch` at the next entry) or deleted entries \
             (`gap`). `keel audit verify` does the same from the command line.",
        )
        .reply("200", "The result; `ok` is false when a link is broken.", Some(schema_ref("AuditVerification")))
        .problem("400", "The request has a query parameter; this operation takes none.")
        .problem("403", "Only admins may verify the audit log.")
        .build();
    add(paths, &format!("{API}/audit/verify"), "get", verify);
}

fn dashboard_paths(paths: &mut Map<String, Value>) {
    let dashboard = Operation::new("getDashboard", "Dashboard", "The dashboard's figures")
        .describe(
            "Won revenue this month and last, open deals closing in the next 7 and 30 days, the win rate and won \
             revenue per month over the twelve months ending with this one, the open pipeline per stage (with \
             weighted amounts) and the ten companies with the most won revenue. Every figure is an aggregate over \
             the deals the caller may see, like `GET /api/v1/deals/aggregate`: a role that reads amounts only on \
             its own deals gets sums of those, and `_redacted_from_sums` says so. A company the caller may not see \
             is listed with `name: null`.",
        )
        .param(param(
            "today",
            "query",
            false,
            json!({ "type": "string", "format": "date" }),
            "The caller's local date (`YYYY-MM-DD`), which the months and windows are counted from. Default: \
             today's date in UTC.",
        ))
        .reply("200", "The figures.", Some(schema_ref("Dashboard")))
        .problem("400", "`today` is not a date, is repeated, or another parameter was given; `errors` names each one.")
        .build();
    add(paths, &format!("{API}/dashboard"), "get", dashboard);
}

fn health_paths(paths: &mut Map<String, Value>) {
    let status = |value: &str| json!({ "type": "object", "required": ["status"], "properties": { "status": { "const": value } } });
    let live = Operation::new("getHealth", "Health", "Liveness")
        .public()
        .reply("200", "The process is up.", Some(status("ok")))
        .build();
    add(paths, "/healthz", "get", live);
    let ready = Operation::new("getReadiness", "Health", "Readiness")
        .describe("Ready when the database answers.")
        .public()
        .reply("200", "Ready to serve.", Some(status("ready")))
        .problem("503", "Not ready: the database is unreachable.")
        .build();
    add(paths, "/readyz", "get", ready);
}

// ---------------------------------------------------------------------------------------
// Components

fn schemas(schema: &Schema) -> Map<String, Value> {
    let mut out = Map::new();
    for e in schema.entities.values() {
        let name = record_name(e);
        out.insert(name.clone(), record_schema(e));
        out.insert(format!("{name}Create"), write_schema(e, true));
        out.insert(format!("{name}Update"), write_schema(e, false));
        out.insert(format!("{name}Page"), page_schema(e));
    }
    workflow_schemas(&mut out);
    out.insert("Problem".into(), problem_schema());
    out.insert("FieldProblem".into(), field_problem_schema());
    out.insert("ChangeEntry".into(), change_entry_schema(schema));
    out.insert(
        "ChangePage".into(),
        json!({
            "type": "object",
            "required": ["data", "next_after"],
            "properties": {
                "data": { "type": "array", "items": schema_ref("ChangeEntry") },
                "next_after": { "type": "integer", "format": "int64", "description": "Pass as `after` for the next page (the last `seq` seen)." },
            },
        }),
    );
    bulk_schemas(&mut out);
    share_schemas(&mut out);
    role_schemas(&mut out);
    auth_schemas(&mut out);
    login_security_schemas(&mut out);
    metadata_schemas(&mut out);
    audit_schemas(&mut out);
    dashboard_schemas(schema, &mut out);
    assistant::schemas(&mut out);
    imports::schemas(&mut out);
    webhooks::schemas(&mut out);
    merges::schemas(&mut out);
    out
}

/// The value part of a field's schema: type, format and options. `nullable` adds `null`
/// to both the type and the options, since an enum without it would refuse `null`.
fn value_schema(f: &FieldDef, nullable: bool) -> Map<String, Value> {
    let mut s = Map::new();
    if f.ty == FieldType::MultiSelect {
        let values: Vec<Value> = f.options.iter().map(|o| json!(o.value)).collect();
        s.insert("type".into(), if nullable { json!(["array", "null"]) } else { json!("array") });
        s.insert("items".into(), json!({ "type": "string", "enum": values }));
        s.insert("uniqueItems".into(), json!(true));
        return s;
    }
    let ty = f.ty.json_type();
    s.insert("type".into(), if nullable { json!([ty, "null"]) } else { json!(ty) });
    if let Some(format) = f.ty.json_format() {
        s.insert("format".into(), json!(format));
    }
    if !f.options.is_empty() {
        let mut values: Vec<Value> = f.options.iter().map(|o| json!(o.value)).collect();
        if nullable {
            values.push(Value::Null);
        }
        s.insert("enum".into(), Value::Array(values));
    }
    s
}

/// A field's full schema: value, limits, title and description.
fn field_schema(f: &FieldDef, nullable: bool) -> Map<String, Value> {
    let mut s = value_schema(f, nullable);
    s.insert("title".into(), json!(f.label));
    if let (Some(n), true) = (f.max_length, f.options.is_empty()) {
        s.insert("maxLength".into(), json!(n));
    }
    if let Some(n) = f.min {
        s.insert("minimum".into(), json!(n));
    }
    if let Some(n) = f.max {
        s.insert("maximum".into(), json!(n));
    }
    let description = field_description(f);
    if !description.is_empty() {
        s.insert("description".into(), json!(description));
    }
    s
}

fn field_description(f: &FieldDef) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(help) = &f.help {
        parts.push(help.clone());
    }
    if let Some(target) = &f.reference {
        parts.push(format!("Id of a record in `{target}`."));
    }
    if f.unique {
        parts.push("Unique among live records, ignoring case.".into());
    }
    let probabilities: Vec<String> =
        f.options.iter().filter_map(|o| o.probability.map(|p| format!("{} {p}%", o.value))).collect();
    if !probabilities.is_empty() {
        parts.push(format!("Win probability by option: {}.", probabilities.join(", ")));
    }
    parts.join(" ")
}

/// The record as the API returns it: every visible field, always present (null when unset).
fn record_schema(e: &EntityDef) -> Value {
    let mut props = Map::new();
    for f in e.visible_fields() {
        let mut s = field_schema(f, f.nullable());
        if f.access != Access::Writable {
            s.insert("readOnly".into(), json!(true));
        }
        props.insert(f.name.clone(), Value::Object(s));
    }
    props.insert(
        "_redacted".into(),
        json!({
            "type": "array",
            "items": { "type": "string" },
            "readOnly": true,
            "description": "Fields your role may not read on this record; they are returned as null (docs/SECURITY.md).",
        }),
    );
    let required: Vec<&str> = e.visible_fields().map(|f| f.name.as_str()).collect();
    json!({
        "type": "object",
        "title": e.label,
        "description": format!("A {} as the API returns it.", e.singular),
        "required": required,
        "properties": props,
    })
}

fn defaulted_on_create(e: &EntityDef, f: &FieldDef) -> bool {
    DEFAULTED_ON_CREATE.iter().any(|(entity, field)| *entity == e.name && *field == f.name)
}

/// An entity that stores a password hash takes the password itself on writes.
fn takes_password(e: &EntityDef) -> bool {
    e.field("password_hash").is_some_and(|f| f.hidden)
}

/// The body of a create (`create`) or an update: writable fields only. Optional fields
/// accept `null`; a create must carry the required ones the service does not default.
fn write_schema(e: &EntityDef, create: bool) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in e.visible_fields().filter(|f| f.is_writable()) {
        let mut s = field_schema(f, !f.required);
        if create && f.required {
            if defaulted_on_create(e, f) {
                append_description(&mut s, "Optional on create: the server fills in a default.");
            } else {
                required.push(f.name.clone());
            }
        }
        props.insert(f.name.clone(), Value::Object(s));
    }
    if takes_password(e) {
        props.insert(
            "password".into(),
            json!({ "type": "string", "minLength": PASSWORD_MIN_LENGTH, "writeOnly": true, "title": "Password", "description": "Stored only as a hash; never returned." }),
        );
        if create {
            required.push("password".into());
        }
    }
    let (title, what) = if create { ("Create", "create") } else { ("Update", "update") };
    let mut s = Map::new();
    s.insert("type".into(), json!("object"));
    s.insert("title".into(), json!(format!("{} {title}", record_name(e))));
    s.insert("description".into(), json!(format!("The body of a {} {what}.", e.singular)));
    if !required.is_empty() {
        s.insert("required".into(), json!(required));
    }
    s.insert("properties".into(), Value::Object(props));
    s.insert("additionalProperties".into(), json!(false));
    Value::Object(s)
}

fn append_description(schema: &mut Map<String, Value>, text: &str) {
    let joined = match schema.get("description").and_then(Value::as_str) {
        Some(existing) => format!("{existing} {text}"),
        None => text.to_string(),
    };
    schema.insert("description".into(), json!(joined));
}

fn page_schema(e: &EntityDef) -> Value {
    json!({
        "type": "object",
        "required": ["data", "next_cursor"],
        "properties": {
            "data": { "type": "array", "items": record_ref(e) },
            "next_cursor": { "type": ["string", "null"], "description": "Pass as `cursor` for the next page; null on the last page." },
            "total": { "type": "integer", "minimum": 0, "description": "Records matching the filters; present only when `count=true`." },
        },
    })
}

fn problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "An RFC 9457 problem. Extra members (such as `deal_count`) add detail.",
        "required": ["type", "title", "status"],
        "properties": {
            "type": { "type": "string", "format": "uri-reference", "description": "Identifies the kind of problem." },
            "title": { "type": "string", "description": "A short, human summary of the kind of problem." },
            "status": { "type": "integer", "minimum": 400, "maximum": 599 },
            "detail": { "type": "string", "description": "What went wrong this time." },
            "code": { "type": "string", "description": "A stable, machine-readable code." },
            "request_id": { "type": "string", "description": "Quote it when reporting a problem; the logs carry it too." },
            "errors": { "type": "array", "items": schema_ref("FieldProblem"), "description": "One entry per invalid field or parameter." },
        },
        "additionalProperties": true,
    })
}

fn field_problem_schema() -> Value {
    json!({
        "type": "object",
        "required": ["field", "code", "message"],
        "properties": {
            "field": { "type": "string", "description": "The field or parameter name." },
            "code": { "type": "string", "description": "A stable code, e.g. `required` or `too_long`." },
            "message": { "type": "string", "description": "What to change, for a person." },
        },
    })
}

fn change_entry_schema(schema: &Schema) -> Value {
    let entities: Vec<&str> = schema.entities.keys().map(String::as_str).collect();
    json!({
        "type": "object",
        "required": ["seq", "at", "actor_id", "entity", "record_id", "op", "diff", "request_id"],
        "properties": {
            "seq": { "type": "integer", "format": "int64", "description": "Monotonic position in the log." },
            "at": { "type": "string", "format": "date-time" },
            "actor_id": { "type": ["string", "null"], "format": "uuid", "description": "The user who made the change; null for the system." },
            "entity": { "type": "string", "enum": entities },
            "record_id": { "type": "string", "format": "uuid" },
            "op": { "type": "string", "enum": ["create", "update", "delete", "restore", "purge"] },
            "diff": {
                "type": "object",
                "description": "Changed fields: name → {from, to}.",
                "additionalProperties": {
                    "type": "object",
                    "required": ["from", "to"],
                    "properties": { "from": {}, "to": {} },
                },
            },
            "request_id": { "type": ["string", "null"] },
        },
    })
}

fn bulk_schemas(out: &mut Map<String, Value>) {
    let ids = json!({ "type": "array", "items": { "type": "string", "format": "uuid" }, "minItems": 1, "maxItems": BULK_MAX });
    out.insert(
        "BulkIds".into(),
        json!({ "type": "object", "required": ["ids"], "properties": { "ids": ids }, "additionalProperties": false }),
    );
    out.insert(
        "BulkChangeOwner".into(),
        json!({
            "type": "object",
            "required": ["ids", "owner_id"],
            "properties": { "ids": ids, "owner_id": { "type": "string", "format": "uuid", "description": "The user who will own the records." } },
            "additionalProperties": false,
        }),
    );
    out.insert("BulkDeleted".into(), json!({ "type": "object", "required": ["deleted"], "properties": { "deleted": { "type": "integer", "minimum": 0 } } }));
    out.insert("BulkUpdated".into(), json!({ "type": "object", "required": ["updated"], "properties": { "updated": { "type": "integer", "minimum": 0 } } }));
}

fn auth_schemas(out: &mut Map<String, Value>) {
    out.insert(
        "LoginRequest".into(),
        json!({
            "type": "object",
            "required": ["email", "password"],
            "properties": {
                "email": { "type": "string", "format": "email" },
                "password": { "type": "string", "writeOnly": true },
                "totp_code": { "type": "string", "writeOnly": true, "description": "The 6-digit code from the authenticator app (accounts with two-factor authentication)." },
                "recovery_code": { "type": "string", "writeOnly": true, "description": "Instead of `totp_code`: one of the recovery codes; each works once." },
            },
            "additionalProperties": false,
        }),
    );
    out.insert(
        "TokenCreate".into(),
        json!({
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": { "type": "string", "minLength": 1, "maxLength": TOKEN_NAME_MAX_LENGTH, "description": "What the token is for, e.g. `zapier`." },
            },
            "additionalProperties": false,
        }),
    );
    let token_props = json!({
        "id": { "type": "string", "format": "uuid" },
        "name": { "type": "string" },
        "created_at": { "type": "string", "format": "date-time" },
        "last_used_at": { "type": ["string", "null"], "format": "date-time" },
    });
    out.insert("ApiToken".into(), json!({ "type": "object", "required": ["id", "name", "created_at", "last_used_at"], "properties": token_props }));
    let mut created = token_props;
    if let Some(obj) = created.as_object_mut() {
        obj.insert(
            "token".into(),
            json!({ "type": "string", "description": "The secret. Shown only in this response." }),
        );
    }
    out.insert("TokenCreated".into(), json!({ "type": "object", "required": ["id", "name", "token", "created_at", "last_used_at"], "properties": created }));
    out.insert(
        "TokenList".into(),
        json!({ "type": "object", "required": ["data"], "properties": { "data": { "type": "array", "items": schema_ref("ApiToken") } } }),
    );
}

// ---------------------------------------------------------------------------------------
// Sign-in hardening: sessions, password change, two-factor authentication

/// The 429 of a locked-out sign-in, with the seconds to wait.
fn too_many_attempts() -> Value {
    json!({
        "description": "`too_many_attempts`: too many failed sign-ins for this account or from this address. \
            Says nothing about whether the account exists or the password is right.",
        "headers": { "Retry-After": { "description": "Seconds until the lock ends.", "schema": { "type": "integer", "minimum": 1 } } },
        "content": { PROBLEM_JSON: { "schema": schema_ref("Problem") } },
    })
}

/// Mark an operation's request body optional (`{}` when left out).
fn optional_body(mut op: Value) -> Value {
    if let Some(body) = op.get_mut("requestBody").and_then(Value::as_object_mut) {
        body.insert("required".into(), json!(false));
    }
    op
}

fn login_security_paths(paths: &mut Map<String, Value>) {
    let everywhere = Operation::new("logoutEverywhere", "Auth", "Sign out everywhere")
        .describe(
            "Ends every session of the signed-in user, this one included, and clears the cookie. With \
             `{\"tokens\": true}` also revokes all their personal API tokens. The body may be left out.",
        )
        .body(schema_ref("RevokeRequest"))
        .reply("200", "What was ended.", Some(schema_ref("Revoked")))
        .problem("422", "`tokens` is not a boolean.")
        .build();
    add(paths, &format!("{API}/auth/logout-everywhere"), "post", optional_body(everywhere));

    let revoke = Operation::new("revokeUserSessions", "Auth", "End a user's sessions (admins)")
        .describe(
            "Admins only. Ends every session of the user; with `{\"tokens\": true}` also revokes their API tokens. \
             Deactivating a user (`is_active: false`) ends their sessions too. The body may be left out.",
        )
        .param(param("id", "path", true, json!({ "type": "string", "format": "uuid" }), "The user's id."))
        .body(schema_ref("RevokeRequest"))
        .reply("200", "What was ended.", Some(schema_ref("Revoked")))
        .problem("403", "Only admins may end other users' sessions.")
        .problem("404", "No such user.")
        .build();
    add(paths, &format!("{API}/users/{{id}}/revoke-sessions"), "post", optional_body(revoke));

    let password = Operation::new("changePassword", "Auth", "Change your password")
        .describe(format!(
            "Needs the current password. The new one must have at least {PASSWORD_MIN_LENGTH} characters, not be \
             one of the most common passwords, and not contain your email or name. Every other session of yours \
             ends; the one making the request (if it is a session) stays. A wrong current password counts towards \
             the sign-in lockout."
        ))
        .body(schema_ref("PasswordChange"))
        .reply("204", "Changed.", None)
        .problem("400", "The body is not a JSON object.")
        .problem("422", "`current_password` is wrong, or `new_password` breaks a rule (`errors` says which).")
        .reply_with("429", too_many_attempts())
        .build();
    add(paths, &format!("{API}/auth/password"), "post", password);

    let status = Operation::new("getTwoFactor", "Auth", "Two-factor status")
        .reply("200", "Whether two-factor authentication is on.", Some(schema_ref("TwoFactorStatus")))
        .build();
    add(paths, &format!("{API}/auth/2fa"), "get", status);

    let setup = Operation::new("setupTwoFactor", "Auth", "Start setting up two-factor authentication")
        .describe(
            "Creates a new TOTP secret (SHA-1, 6 digits, 30 s) and returns it with an `otpauth://` URI to show as a \
             QR code. Nothing changes at sign-in until POST /api/v1/auth/2fa/enable confirms it with a code.",
        )
        .reply("200", "The new secret.", Some(schema_ref("TwoFactorSetup")))
        .problem("409", "`two_factor_enabled`: already on; disable it first.")
        .build();
    add(paths, &format!("{API}/auth/2fa/setup"), "post", setup);

    let enable = Operation::new("enableTwoFactor", "Auth", "Turn two-factor authentication on")
        .describe("Confirms the secret from setup with a current code. Returns 10 recovery codes, shown only here.")
        .body(schema_ref("TwoFactorEnable"))
        .reply("200", "On; keep the recovery codes somewhere safe.", Some(schema_ref("RecoveryCodes")))
        .problem("400", "The body is not a JSON object.")
        .problem("409", "`two_factor_not_set_up` (call setup first) or `two_factor_enabled`.")
        .problem("422", "The code is wrong or expired.")
        .build();
    add(paths, &format!("{API}/auth/2fa/enable"), "post", enable);

    let disable = Operation::new("disableTwoFactor", "Auth", "Turn two-factor authentication off")
        .describe(
            "Needs the password and a current `code` or a `recovery_code`. Wrong answers count towards the lockout.",
        )
        .body(schema_ref("TwoFactorDisable"))
        .reply("204", "Off.", None)
        .problem("400", "The body is not a JSON object.")
        .problem("409", "`two_factor_not_enabled`.")
        .problem("422", "The password or the code is wrong, or no code was sent.")
        .reply_with("429", too_many_attempts())
        .build();
    add(paths, &format!("{API}/auth/2fa/disable"), "post", disable);
}

fn login_security_schemas(out: &mut Map<String, Value>) {
    let secret = json!({ "type": "string", "writeOnly": true });
    let code = json!({ "type": "string", "writeOnly": true, "description": "6 digits from the authenticator app." });
    out.insert(
        "RevokeRequest".into(),
        json!({
            "type": "object",
            "properties": { "tokens": { "type": "boolean", "default": false, "description": "Also revoke the personal API tokens." } },
            "additionalProperties": false,
        }),
    );
    out.insert(
        "Revoked".into(),
        json!({
            "type": "object",
            "required": ["sessions_ended", "tokens_revoked"],
            "properties": { "sessions_ended": { "type": "integer" }, "tokens_revoked": { "type": "integer" } },
        }),
    );
    out.insert(
        "PasswordChange".into(),
        json!({
            "type": "object",
            "required": ["current_password", "new_password"],
            "properties": {
                "current_password": secret,
                "new_password": { "type": "string", "writeOnly": true, "minLength": PASSWORD_MIN_LENGTH, "maxLength": 1024 },
            },
            "additionalProperties": false,
        }),
    );
    out.insert(
        "TwoFactorStatus".into(),
        json!({
            "type": "object",
            "required": ["enabled", "pending", "recovery_codes_left"],
            "properties": {
                "enabled": { "type": "boolean" },
                "pending": { "type": "boolean", "description": "Set up but not yet confirmed with a code." },
                "recovery_codes_left": { "type": "integer" },
            },
        }),
    );
    out.insert(
        "TwoFactorSetup".into(),
        json!({
            "type": "object",
            "required": ["secret", "otpauth_uri"],
            "properties": {
                "secret": { "type": "string", "description": "Base32, for typing into the app by hand." },
                "otpauth_uri": { "type": "string", "description": "`otpauth://totp/Keel:…`, for a QR code." },
            },
        }),
    );
    out.insert(
        "TwoFactorEnable".into(),
        json!({ "type": "object", "required": ["code"], "properties": { "code": code.clone() }, "additionalProperties": false }),
    );
    out.insert(
        "RecoveryCodes".into(),
        json!({
            "type": "object",
            "required": ["recovery_codes"],
            "properties": { "recovery_codes": { "type": "array", "items": { "type": "string" }, "minItems": 10, "maxItems": 10 } },
        }),
    );
    out.insert(
        "TwoFactorDisable".into(),
        json!({
            "type": "object",
            "required": ["password"],
            "properties": {
                "password": secret,
                "code": code,
                "recovery_code": { "type": "string", "writeOnly": true, "description": "Instead of `code`." },
            },
            "additionalProperties": false,
        }),
    );
}

fn audit_schemas(out: &mut Map<String, Value>) {
    let hash = json!({ "type": "string", "pattern": "^[0-9a-f]{64}$" });
    out.insert(
        "AuditEntry".into(),
        json!({
            "type": "object",
            "required": ["seq", "at", "actor_id", "action", "entity", "record_id", "details", "ip", "user_agent", "request_id", "prev_hash", "hash"],
            "properties": {
                "seq": { "type": "integer", "format": "int64", "description": "Position in the chain; consecutive." },
                "at": { "type": "string", "format": "date-time" },
                "actor_id": { "type": ["string", "null"], "format": "uuid", "description": "Who did it; null for the system or an anonymous caller (failed sign-in)." },
                "action": { "type": "string", "description": "e.g. `record.updated`, `user.login_failed`." },
                "entity": { "type": ["string", "null"] },
                "record_id": { "type": ["string", "null"], "format": "uuid" },
                "details": { "type": "object", "description": "Record changes: `diff` (field → {from, to}). Failed sign-ins: the attempted `email` and the `reason`. Purges: `count`, `cutoff`, `last_purged_seq`, `last_purged_hash`." },
                "ip": { "type": ["string", "null"] },
                "user_agent": { "type": ["string", "null"] },
                "request_id": { "type": ["string", "null"] },
                "prev_hash": hash,
                "hash": { "type": "string", "pattern": "^[0-9a-f]{64}$", "description": "SHA-256 over prev_hash and the entry's canonical form (docs/SECURITY.md)." },
            },
        }),
    );
    out.insert(
        "AuditPage".into(),
        json!({
            "type": "object",
            "required": ["data", "next_cursor"],
            "properties": {
                "data": { "type": "array", "items": schema_ref("AuditEntry") },
                "next_cursor": { "type": ["string", "null"], "description": "Pass as `cursor` for the next (older) page; null on the last page." },
            },
        }),
    );
    out.insert(
        "AuditVerification".into(),
        json!({
            "type": "object",
            "required": ["ok", "checked", "first_seq", "last_seq", "head_hash", "broken"],
            "properties": {
                "ok": { "type": "boolean" },
                "checked": { "type": "integer", "minimum": 0, "description": "Entries checked." },
                "first_seq": { "type": ["integer", "null"], "format": "int64", "description": "The oldest entry (above 1 after a retention purge)." },
                "last_seq": { "type": ["integer", "null"], "format": "int64" },
                "head_hash": { "type": ["string", "null"], "description": "The newest entry's hash when intact: keep a copy elsewhere to detect a rewritten chain." },
                "broken": {
                    "type": ["object", "null"],
                    "required": ["seq", "reason", "detail"],
                    "properties": {
                        "seq": { "type": "integer", "format": "int64", "description": "The first entry that does not fit the chain." },
                        "reason": { "type": "string", "enum": ["hash_mismatch", "prev_hash_mismatch", "gap"] },
                        "detail": { "type": "string" },
                    },
                },
            },
        }),
    );
}

/// The shape of `GET /api/v1/dashboard`; stage names come from the deals' stage options.
fn dashboard_schemas(schema: &Schema, out: &mut Map<String, Value>) {
    let open: Vec<&str> = schema
        .entity("deals")
        .and_then(|d| d.field("stage"))
        .map(|f| f.options.iter().filter(|o| o.closed.is_none()).map(|o| o.value.as_str()).collect())
        .unwrap_or_default();
    let int = json!({ "type": "integer", "format": "int64" });
    let money = json!({ "type": "integer", "format": "int64", "description": "Integer minor units." });
    out.insert(
        "DashboardTally".into(),
        json!({
            "type": "object",
            "required": ["count", "amount"],
            "properties": { "count": int, "amount": money },
        }),
    );
    out.insert(
        "Dashboard".into(),
        json!({
            "type": "object",
            "required": ["today", "won_this_month", "won_last_month", "closing_next_7_days", "closing_next_30_days", "conversion", "revenue_by_month", "open_by_stage", "top_companies"],
            "properties": {
                "today": { "type": "string", "format": "date", "description": "The date the figures are for." },
                "won_this_month": { "$ref": "#/components/schemas/DashboardTally", "description": "Deals in a won stage with `actual_close_date` in this calendar month (all of it)." },
                "won_last_month": schema_ref("DashboardTally"),
                "closing_next_7_days": { "$ref": "#/components/schemas/DashboardTally", "description": "Open deals with `expected_close_date` from today to today + 7 days, inclusive." },
                "closing_next_30_days": schema_ref("DashboardTally"),
                "conversion": {
                    "type": "object",
                    "required": ["won", "lost", "rate"],
                    "description": "Deals won and lost with `actual_close_date` in the twelve months ending with this one.",
                    "properties": {
                        "won": int,
                        "lost": int,
                        "rate": { "type": ["number", "null"], "description": "won / (won + lost); null when none closed." },
                    },
                },
                "revenue_by_month": {
                    "type": "array",
                    "minItems": 12,
                    "maxItems": 12,
                    "description": "Won deals per month (by `actual_close_date`), oldest first, ending with this month; empty months included.",
                    "items": {
                        "type": "object",
                        "required": ["month", "count", "amount"],
                        "properties": { "month": { "type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$" }, "count": int, "amount": money },
                    },
                },
                "open_by_stage": {
                    "type": "array",
                    "description": "Every open stage in pipeline order, empty ones included.",
                    "items": {
                        "type": "object",
                        "required": ["stage", "count", "amount", "weighted_amount"],
                        "properties": {
                            "stage": { "type": "string", "enum": open },
                            "count": int,
                            "amount": money,
                            "weighted_amount": { "type": "integer", "format": "int64", "description": "sum(amount × probability) / 100." },
                        },
                    },
                },
                "top_companies": {
                    "type": "array",
                    "maxItems": 10,
                    "description": "Companies by won amount (all time), largest first, ties by name.",
                    "items": {
                        "type": "object",
                        "required": ["company_id", "name", "count", "amount"],
                        "properties": {
                            "company_id": { "type": "string", "format": "uuid" },
                            "name": { "type": ["string", "null"], "description": "Null when the caller may not see the company." },
                            "count": int,
                            "amount": money,
                        },
                    },
                },
                "_redacted_from_sums": { "type": "array", "items": { "type": "string" }, "description": "Present when the caller reads these deal fields only on their own deals: sums leave the other deals' values out." },
            },
        }),
    );
}

/// The shape of `GET /api/v1/schema`: the metadata types themselves, not any entity's fields.
fn metadata_schemas(out: &mut Map<String, Value>) {
    let types: Vec<Value> = FIELD_TYPES.iter().filter_map(|t| serde_json::to_value(t).ok()).collect();
    out.insert(
        "SchemaMetadata".into(),
        json!({
            "type": "object",
            "required": ["entities"],
            "properties": { "entities": { "type": "object", "additionalProperties": schema_ref("EntityMetadata"), "description": "Keyed by entity name." } },
        }),
    );
    out.insert(
        "EntityMetadata".into(),
        json!({
            "type": "object",
            "required": ["name", "singular", "label", "owned", "soft_delete", "default_sort", "fields"],
            "properties": {
                "name": { "type": "string", "description": "Plural; the URL segment." },
                "singular": { "type": "string" },
                "label": { "type": "string" },
                "owned": { "type": "boolean", "description": "Records have an `owner_id`." },
                "soft_delete": { "type": "boolean", "description": "Deleting moves to the trash." },
                "default_sort": { "type": "string" },
                "fields": { "type": "array", "items": schema_ref("FieldMetadata") },
            },
        }),
    );
    out.insert(
        "FieldMetadata".into(),
        json!({
            "type": "object",
            "required": ["name", "label", "type", "required", "access", "unique", "sortable", "searchable"],
            "properties": {
                "name": { "type": "string" },
                "label": { "type": "string" },
                "type": { "type": "string", "enum": types },
                "required": { "type": "boolean" },
                "access": { "type": "string", "enum": ["writable", "system", "derived"] },
                "max_length": { "type": "integer" },
                "min": { "type": "integer", "format": "int64" },
                "max": { "type": "integer", "format": "int64" },
                "options": { "type": "array", "items": schema_ref("SelectOptionMetadata") },
                "reference": { "type": "string", "description": "The referenced entity." },
                "on_delete": { "type": "string", "enum": ["set_null", "cascade", "restrict"] },
                "unique": { "type": "boolean" },
                "sortable": { "type": "boolean" },
                "searchable": { "type": "boolean" },
                "help": { "type": "string" },
            },
        }),
    );
    out.insert(
        "SelectOptionMetadata".into(),
        json!({
            "type": "object",
            "required": ["value", "label"],
            "properties": {
                "value": { "type": "string" },
                "label": { "type": "string" },
                "probability": { "type": "integer", "description": "Deal stages: the win probability the stage implies." },
                "closed": { "type": "string", "enum": ["won", "lost"] },
                "color": { "type": "string" },
            },
        }),
    );
}

// ---------------------------------------------------------------------------------------
// The docs page. Everything from the document reaches the DOM through text nodes
// (`textContent`, `append(string)`), never as markup.

const DOCS_HTML: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Keel API</title>
<style>
:root { --fg: #1c2330; --muted: #5b6576; --line: #e3e7ee; --side: #f6f8fb; --accent: #2f6fec; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
  display: grid; grid-template-columns: 250px 1fr; min-height: 100vh; }
nav { background: var(--side); border-right: 1px solid var(--line); padding: 16px; position: sticky; top: 0; height: 100vh; overflow: auto; }
nav h1 { font-size: 18px; margin: 0; }
nav .tag { display: block; width: 100%; text-align: left; border: 0; background: none; padding: 6px 8px;
  border-radius: 6px; cursor: pointer; font: inherit; color: inherit; }
nav .tag.active, nav .tag:hover { background: #e3eafa; }
main { padding: 24px 32px; max-width: 1100px; min-width: 0; }
details.op { border: 1px solid var(--line); border-radius: 8px; margin: 0 0 10px; }
details.op > summary { cursor: pointer; padding: 10px 12px; display: flex; gap: 12px; align-items: center; }
.method { font: 600 12px/1 ui-monospace, monospace; padding: 5px 0; border-radius: 4px; color: #fff; width: 64px; text-align: center; text-transform: uppercase; }
.get { background: #2f6fec; } .post { background: #1f9d55; } .patch, .put { background: #b7791f; } .delete { background: #d64545; }
.path, code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
.muted { color: var(--muted); }
.opbody { padding: 4px 16px 16px; border-top: 1px solid var(--line); }
.desc { white-space: pre-wrap; }
h3 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 18px 0 4px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; border-bottom: 1px solid var(--line); padding: 6px 8px; vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
.req { color: #d64545; font-size: 12px; margin-left: 6px; }
input, textarea { font: 13px ui-monospace, monospace; border: 1px solid #cfd6e1; border-radius: 6px; padding: 6px 8px; width: 100%; }
textarea { min-height: 150px; }
.try { background: var(--side); border-radius: 8px; padding: 12px; margin-top: 18px; }
.try label { display: block; margin: 8px 0 2px; font-size: 12px; color: var(--muted); }
button.send { margin-top: 12px; background: var(--accent); color: #fff; border: 0; border-radius: 6px; padding: 8px 18px; cursor: pointer; font: inherit; }
pre { background: #111827; color: #e5e7eb; padding: 12px; border-radius: 6px; overflow: auto; max-height: 420px; white-space: pre-wrap; }
.error { color: #d64545; }
</style>
</head>
<body>
<nav>
  <h1>Keel API</h1>
  <div class="muted" id="version"></div>
  <p><label class="muted" for="token">API token (optional; otherwise your session is used)</label>
  <input id="token" type="password" autocomplete="off" placeholder="Bearer token"></p>
  <div id="tags"></div>
  <p><a href="/api/openapi.json">openapi.json</a></p>
</nav>
<main id="main"><p>Loading…</p></main>
<script>
"use strict";
const METHODS = ["get", "post", "put", "patch", "delete"];
const main = document.getElementById("main");
let spec = {};
let uid = 0;

// Builds an element; strings become text nodes, so data is never parsed as markup.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

function lookup(ref) {
  if (!ref.startsWith("#/")) return {};
  const keys = ref.slice(2).split("/").map(k => k.replace(/~1/g, "/").replace(/~0/g, "~"));
  return keys.reduce((o, k) => (o && typeof o === "object" ? o[k] : undefined), spec) || {};
}

function deref(schema) {
  let s = schema || {};
  for (let i = 0; s.$ref && i < 20; i++) s = lookup(s.$ref);
  return s;
}

// Resolves $ref and merges allOf, so a body renders as one table of fields.
function flatten(schema) {
  const s = deref(schema);
  if (!s.allOf) return s;
  const out = { type: "object", properties: {}, required: [] };
  for (const part of s.allOf) {
    const p = flatten(part);
    Object.assign(out.properties, p.properties || {});
    out.required.push(...(p.required || []));
    out.description = out.description || p.description;
  }
  return out;
}

function typeLabel(s) {
  if (!s) return "";
  if (s.$ref) return s.$ref.split("/").pop();
  if (s.allOf) return s.allOf.map(typeLabel).join(" + ");
  const types = [].concat(s.type || "any").map(t => (t === "array" ? typeLabel(s.items) + "[]" : t));
  return types.join(" | ") + (s.format ? " (" + s.format + ")" : "");
}

function constraints(s) {
  const out = [];
  if (s.enum) out.push("one of: " + s.enum.map(v => (v === null ? "null" : v)).join(", "));
  if (s.minLength !== undefined) out.push("min length " + s.minLength);
  if (s.maxLength !== undefined) out.push("max length " + s.maxLength);
  if (s.minimum !== undefined) out.push("min " + s.minimum);
  if (s.maximum !== undefined) out.push("max " + s.maximum);
  if (s.minItems !== undefined) out.push("min items " + s.minItems);
  if (s.maxItems !== undefined) out.push("max items " + s.maxItems);
  if (s.default !== undefined) out.push("default " + JSON.stringify(s.default));
  if (s.readOnly) out.push("read-only");
  if (s.writeOnly) out.push("write-only");
  return out.join("; ");
}

function notes(s) {
  return [s.description || s.title || "", constraints(s)].filter(Boolean).join(" — ");
}

function table(headers, rows) {
  return el("table", {}, el("thead", {}, el("tr", {}, headers.map(h => el("th", {}, h)))), el("tbody", {}, rows));
}

function fieldTable(schema) {
  const s = flatten(schema);
  if (!s.properties) return el("p", { class: "mono" }, typeLabel(schema));
  const required = new Set(s.required || []);
  return table(["Field", "Type", "Notes"], Object.entries(s.properties).map(([name, p]) =>
    el("tr", {},
      el("td", { class: "mono" }, name, required.has(name) ? el("span", { class: "req" }, "required") : null),
      el("td", { class: "mono" }, typeLabel(p)),
      el("td", {}, notes(deref(p))))));
}

function paramTable(params) {
  return table(["Name", "In", "Type", "Notes"], params.map(p =>
    el("tr", {},
      el("td", { class: "mono" }, p.name, p.required ? el("span", { class: "req" }, "required") : null),
      el("td", {}, p.in),
      el("td", { class: "mono" }, typeLabel(p.schema)),
      el("td", {}, [p.description, constraints(p.schema || {})].filter(Boolean).join(" — ")))));
}

function responseList(responses) {
  return table(["Status", "Description", "Body"], Object.entries(responses || {}).map(([status, r]) => {
    const [type, media] = Object.entries(r.content || {})[0] || ["", {}];
    return el("tr", {},
      el("td", { class: "mono" }, status),
      el("td", {}, r.description || "", Object.keys(r.headers || {}).length ? " (headers: " + Object.keys(r.headers).join(", ") + ")" : ""),
      el("td", { class: "mono" }, type ? typeLabel(media.schema) + " — " + type : ""));
  }));
}

// A starting body: the required fields with placeholder values of the right type.
function example(schema, depth = 0) {
  const s = flatten(schema);
  if (depth > 5) return null;
  if (s.default !== undefined) return s.default;
  if (s.enum) return s.enum[0];
  const t = [].concat(s.type || "object")[0];
  if (t === "object") {
    const o = {};
    for (const name of s.required || []) o[name] = example((s.properties || {})[name], depth + 1);
    return o;
  }
  if (t === "array") return s.minItems ? [example(s.items, depth + 1)] : [];
  if (t === "integer" || t === "number") return s.minimum ?? 0;
  if (t === "boolean") return false;
  if (s.format === "uuid") return "00000000-0000-0000-0000-000000000000";
  if (s.format === "date") return new Date().toISOString().slice(0, 10);
  if (s.format === "date-time") return new Date().toISOString();
  if (s.format === "email") return "someone@example.com";
  return "";
}

function tryIt(path, method, op) {
  const inputs = [];
  const box = el("div", { class: "try" }, el("strong", {}, "Try it"));
  for (const p of (op.parameters || []).map(deref)) {
    const id = "f" + ++uid;
    const input = el("input", { id, autocomplete: "off" });
    inputs.push([p, input]);
    box.append(el("label", { for: id }, p.name + " (" + p.in + ")" + (p.required ? " *" : "")), input);
  }
  let body = null;
  const media = ((op.requestBody || {}).content || {})["application/json"];
  if (media) {
    body = el("textarea", { spellcheck: "false", "aria-label": "JSON body" });
    body.value = JSON.stringify(example(media.schema), null, 2);
    box.append(el("label", {}, "JSON body"), body);
  }
  const out = el("div");
  box.append(el("button", { class: "send", type: "button", onclick: () => send(path, method, inputs, body, out) }, "Send"), out);
  return box;
}

async function send(path, method, inputs, body, out) {
  let url = path;
  const query = new URLSearchParams();
  const headers = { Accept: "application/json, application/problem+json" };
  for (const [p, input] of inputs) {
    const v = input.value.trim();
    if (!v) continue;
    if (p.in === "path") url = url.replace("{" + p.name + "}", encodeURIComponent(v));
    else if (p.in === "query") query.append(p.name, v);
    else if (p.in === "header") headers[p.name] = v;
  }
  if (/[{}]/.test(url)) return out.replaceChildren(el("p", { class: "error" }, "Fill in the path parameters."));
  const token = document.getElementById("token").value.trim();
  if (token) headers.Authorization = "Bearer " + token;
  const init = { method: method.toUpperCase(), headers, credentials: "include" };
  if (body && body.value.trim()) {
    try { JSON.parse(body.value); } catch (e) { return out.replaceChildren(el("p", { class: "error" }, "The body is not valid JSON: " + e.message)); }
    headers["Content-Type"] = "application/json";
    init.body = body.value;
  }
  if (query.toString()) url += "?" + query;
  out.replaceChildren(el("p", { class: "muted" }, init.method + " " + url + " …"));
  try {
    const res = await fetch(url, init);
    const text = await res.text();
    let pretty = text;
    try { pretty = JSON.stringify(JSON.parse(text), null, 2); } catch (_) { /* not JSON: show as is */ }
    const hdrs = [...res.headers].map(([k, v]) => k + ": " + v).join("\n");
    out.replaceChildren(
      el("p", {}, el("strong", {}, res.status + " " + res.statusText), " ", el("span", { class: "mono" }, init.method + " " + url)),
      el("pre", {}, hdrs), el("pre", {}, pretty || "(empty body)"));
  } catch (e) {
    out.replaceChildren(el("p", { class: "error" }, "Request failed: " + e.message));
  }
}

function operationBody(path, method, op) {
  const media = ((op.requestBody || {}).content || {})["application/json"];
  return el("div", { class: "opbody" },
    op.description ? el("p", { class: "desc" }, op.description) : null,
    el("p", { class: "muted mono" }, "operationId: " + op.operationId,
      Array.isArray(op.security) && op.security.length === 0 ? " · no sign-in needed" : ""),
    (op.parameters || []).length ? [el("h3", {}, "Parameters"), paramTable(op.parameters.map(deref))] : null,
    media ? [el("h3", {}, "Request body: " + typeLabel(media.schema)), fieldTable(media.schema)] : null,
    el("h3", {}, "Responses"), responseList(op.responses),
    tryIt(path, method, op));
}

function operation({ path, method, op }) {
  const d = el("details", { class: "op", id: op.operationId || "" },
    el("summary", {}, el("span", { class: "method " + method }, method), el("span", { class: "path" }, path), el("span", { class: "muted" }, op.summary || "")));
  // Bodies render on first open: the page stays light with a hundred operations.
  d.addEventListener("toggle", () => { if (d.open && d.children.length === 1) d.append(operationBody(path, method, op)); });
  return d;
}

function operationsByTag() {
  const byTag = new Map((spec.tags || []).map(t => [t.name, []]));
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      for (const tag of op.tags || ["Other"]) {
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag).push({ path, method, op });
      }
    }
  }
  return byTag;
}

function show(byTag, tag) {
  for (const b of document.querySelectorAll("nav .tag")) b.classList.toggle("active", b.dataset.tag === tag);
  const info = (spec.tags || []).find(t => t.name === tag) || {};
  main.replaceChildren(el("h2", {}, tag), info.description ? el("p", { class: "muted" }, info.description) : null,
    (byTag.get(tag) || []).map(operation));
}

function showOverview() {
  for (const b of document.querySelectorAll("nav .tag")) b.classList.toggle("active", b.dataset.tag === "");
  const info = spec.info || {};
  main.replaceChildren(el("h2", {}, (info.title || "API") + " " + (info.version || "")), el("p", { class: "desc" }, info.description || ""));
}

function start(doc) {
  spec = doc;
  document.getElementById("version").textContent = "OpenAPI " + (doc.openapi || "") + " · v" + ((doc.info || {}).version || "");
  const byTag = operationsByTag();
  const nav = document.getElementById("tags");
  const go = tag => { history.replaceState(null, "", "#" + encodeURIComponent(tag)); tag ? show(byTag, tag) : showOverview(); };
  nav.replaceChildren(el("button", { class: "tag", "data-tag": "", onclick: () => go("") }, "Overview"),
    [...byTag.keys()].filter(t => byTag.get(t).length).map(t =>
      el("button", { class: "tag", "data-tag": t, onclick: () => go(t) }, t + " (" + byTag.get(t).length + ")")));
  const wanted = decodeURIComponent(location.hash.slice(1));
  byTag.has(wanted) ? show(byTag, wanted) : showOverview();
}

fetch("/api/openapi.json", { credentials: "include", headers: { Accept: "application/json" } })
  .then(r => { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
  .then(start)
  .catch(e => main.replaceChildren(el("p", { class: "error" }, "Could not load /api/openapi.json: " + e.message)));
</script>
</body>
</html>
"##;

#[cfg(test)]
mod tests {
    use super::*;
    use keel_domain::schema::builtin_schema;

    fn doc() -> Value {
        document(&builtin_schema())
    }

    fn component<'a>(doc: &'a Value, name: &str) -> &'a Value {
        doc.pointer(&format!("/components/schemas/{name}")).unwrap_or_else(|| panic!("component {name}"))
    }

    fn operation<'a>(doc: &'a Value, path: &str, method: &str) -> &'a Value {
        doc["paths"].get(path).and_then(|p| p.get(method)).unwrap_or_else(|| panic!("{method} {path}"))
    }

    fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                out.push((path.clone(), method.clone(), op));
            }
        }
        out
    }

    /// An operation's parameters, with `$ref`s into components/parameters resolved.
    fn params<'a>(doc: &'a Value, op: &'a Value) -> Vec<&'a Value> {
        let resolve = |p: &'a Value| match p["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => doc.pointer(pointer).unwrap_or_else(|| panic!("dangling {pointer}")),
            None => p,
        };
        op["parameters"].as_array().map(|ps| ps.iter().map(resolve).collect()).unwrap_or_default()
    }

    fn param_names<'a>(doc: &'a Value, op: &'a Value) -> Vec<&'a str> {
        params(doc, op).into_iter().filter_map(|p| p["name"].as_str()).collect()
    }

    fn collect_refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                    out.push(r);
                }
                map.values().for_each(|c| collect_refs(c, out));
            }
            Value::Array(items) => items.iter().for_each(|c| collect_refs(c, out)),
            _ => {}
        }
    }

    #[test]
    fn the_document_declares_openapi_3_1() {
        assert_eq!(doc()["openapi"], "3.1.0");
    }

    #[test]
    fn sign_in_hardening_is_documented() {
        let d = doc();
        let login = operation(&d, "/api/v1/auth/login", "post");
        assert!(login.pointer("/responses/429/headers/Retry-After").is_some());
        assert!(component(&d, "LoginRequest")["properties"].get("totp_code").is_some());
        for (path, method) in [
            ("/api/v1/auth/logout-everywhere", "post"),
            ("/api/v1/users/{id}/revoke-sessions", "post"),
            ("/api/v1/auth/password", "post"),
            ("/api/v1/auth/2fa", "get"),
            ("/api/v1/auth/2fa/setup", "post"),
            ("/api/v1/auth/2fa/enable", "post"),
            ("/api/v1/auth/2fa/disable", "post"),
        ] {
            operation(&d, path, method);
        }
        let everywhere = operation(&d, "/api/v1/auth/logout-everywhere", "post");
        assert_eq!(everywhere.pointer("/requestBody/required"), Some(&json!(false)));
    }

    #[test]
    fn every_entity_has_list_create_get_update_delete_paths() {
        let schema = builtin_schema();
        let d = document(&schema);
        for e in schema.entities.values() {
            let base = format!("/api/v1/{}", e.name);
            let item = format!("{base}/{{id}}");
            for (path, method) in [(&base, "get"), (&base, "post"), (&item, "get"), (&item, "patch"), (&item, "delete")]
            {
                operation(&d, path, method);
            }
            operation(&d, &format!("{item}/restore"), "post");
            operation(&d, &format!("{item}/purge"), "post");
            operation(&d, &format!("{base}/bulk/delete"), "post");
            assert_eq!(d["paths"].get(format!("{base}/bulk/owner")).is_some(), e.owned, "bulk owner for {}", e.name);
        }
    }

    #[test]
    fn company_component_takes_limits_and_options_from_the_metadata() {
        let schema = builtin_schema();
        let d = document(&schema);
        let company = component(&d, "Company");
        assert_eq!(company["properties"]["name"]["maxLength"], 200);
        let meta: Vec<&str> = schema
            .entity("companies")
            .and_then(|c| c.field("industry"))
            .expect("industry")
            .options
            .iter()
            .map(|o| o.value.as_str())
            .collect();
        let documented = company["properties"]["industry"]["enum"].as_array().expect("industry enum");
        let strings: Vec<&str> = documented.iter().filter_map(Value::as_str).collect();
        assert_eq!(strings, meta);
        assert!(documented.contains(&Value::Null), "industry is optional, so null must be allowed");
    }

    #[test]
    fn optional_fields_are_nullable_and_system_fields_read_only() {
        let d = doc();
        let company = &component(&d, "Company")["properties"];
        assert_eq!(company["domain"]["type"], json!(["string", "null"]));
        assert_eq!(company["name"]["type"], json!("string"));
        assert_eq!(company["id"]["readOnly"], true);
        assert_eq!(company["id"]["format"], "uuid");
        assert!(company["name"].get("readOnly").is_none());
        assert_eq!(component(&d, "Contact")["properties"]["full_name"]["readOnly"], true);
        assert_eq!(company["domain"]["description"].as_str().map(|s| s.contains("acme.com")), Some(true));
    }

    #[test]
    fn no_part_of_the_document_mentions_password_hash() {
        let text = doc().to_string();
        assert!(!text.contains("password_hash"));
    }

    #[test]
    fn company_create_requires_name_and_leaves_out_system_fields() {
        let d = doc();
        let create = component(&d, "CompanyCreate");
        assert!(create["required"].as_array().expect("required").contains(&json!("name")));
        for absent in ["id", "created_at", "version", "deleted_at"] {
            assert!(create["properties"].get(absent).is_none(), "{absent} must not be writable");
        }
        assert_eq!(create["additionalProperties"], false);
        assert!(
            component(&d, "ContactCreate")["properties"].get("full_name").is_none(),
            "derived fields are not writable"
        );
    }

    #[test]
    fn updates_require_nothing_and_refuse_unknown_fields() {
        let d = doc();
        let update = component(&d, "DealUpdate");
        assert!(update.get("required").is_none());
        assert_eq!(update["additionalProperties"], false);
        assert!(update["properties"].get("title").is_some());
    }

    #[test]
    fn fields_the_service_defaults_are_optional_on_create() {
        let d = doc();
        let deal = component(&d, "DealCreate")["required"].as_array().expect("required").clone();
        assert!(!deal.contains(&json!("stage")));
        assert!(deal.contains(&json!("title")) && deal.contains(&json!("company_id")));
        let user = component(&d, "UserCreate")["required"].as_array().expect("required").clone();
        assert!(!user.contains(&json!("role")));
        assert!(user.contains(&json!("email")));
    }

    #[test]
    fn users_take_a_write_only_password_required_only_on_create() {
        let d = doc();
        let create = component(&d, "UserCreate");
        assert_eq!(create["properties"]["password"]["writeOnly"], true);
        assert_eq!(create["properties"]["password"]["minLength"], 12);
        assert!(create["required"].as_array().expect("required").contains(&json!("password")));
        assert!(component(&d, "UserUpdate")["properties"].get("password").is_some());
        assert!(component(&d, "User")["properties"].get("password").is_none());
    }

    #[test]
    fn operation_ids_are_unique() {
        let d = doc();
        let mut seen = BTreeSet::new();
        for (path, method, op) in operations(&d) {
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(seen.insert(id.to_string()), "duplicate operationId {id}");
        }
        for id in [
            "listCompanies",
            "createCompany",
            "getCompany",
            "updateCompany",
            "deleteCompany",
            "restoreCompany",
            "purgeCompany",
        ] {
            assert!(seen.contains(id), "{id}");
        }
        for id in
            ["bulkDeleteCompanies", "bulkChangeOwnerCompanies", "listCompanyContacts", "listActivities", "getActivity"]
        {
            assert!(seen.contains(id), "{id}");
        }
    }

    #[test]
    fn the_dashboard_takes_today_and_lists_the_open_stages_from_the_metadata() {
        let d = doc();
        let op = operation(&d, "/api/v1/dashboard", "get");
        assert_eq!(param_names(&d, op), ["today"]);
        let dashboard = component(&d, "Dashboard");
        let stage = &dashboard["properties"]["open_by_stage"]["items"]["properties"]["stage"];
        assert_eq!(stage["enum"], json!(["Prospecting", "Qualification", "Proposal", "Negotiation"]));
        assert!(dashboard["required"].as_array().is_some_and(|r| r.len() == 9));
    }

    #[test]
    fn every_ref_resolves_to_something_in_the_document() {
        let d = doc();
        let mut refs = Vec::new();
        collect_refs(&d, &mut refs);
        assert!(refs.len() > 50, "the walk found too few refs: {}", refs.len());
        for r in refs {
            let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("external ref {r}"));
            assert!(d.pointer(pointer).is_some(), "dangling $ref {r}");
        }
    }

    #[test]
    fn every_error_response_is_a_problem_document() {
        let d = doc();
        for (path, method, op) in operations(&d) {
            for (status, response) in op["responses"].as_object().expect("responses") {
                if status.as_str() < "400" {
                    continue;
                }
                let schema = response
                    .pointer("/content/application~1problem+json/schema")
                    .unwrap_or_else(|| panic!("{method} {path} {status}"));
                let mut refs = Vec::new();
                collect_refs(schema, &mut refs);
                assert!(refs.contains(&"#/components/schemas/Problem"), "{method} {path} {status}");
            }
        }
    }

    #[test]
    fn authenticated_operations_answer_401_and_public_ones_need_no_credentials() {
        let d = doc();
        for (path, method, op) in operations(&d) {
            let public = op.get("security") == Some(&json!([]));
            let expected =
                matches!(path.as_str(), "/api/v1/auth/login" | "/api/v1/auth/accept-invite" | "/healthz" | "/readyz");
            assert_eq!(public, expected, "{method} {path}");
            if !public {
                assert!(op["responses"].get("401").is_some(), "{method} {path}");
            }
        }
        assert_eq!(d["security"], json!([{ "bearer": [] }, { "session": [] }]));
        assert_eq!(d["components"]["securitySchemes"]["session"]["name"], "keel_session");
    }

    #[test]
    fn related_lists_follow_the_references() {
        let d = doc();
        let op = operation(&d, "/api/v1/companies/{id}/contacts", "get");
        assert_eq!(op["operationId"], "listCompanyContacts");
        assert_eq!(
            op.pointer("/responses/200/content/application~1json/schema/$ref"),
            Some(&json!("#/components/schemas/ContactPage"))
        );
        let names = param_names(&d, op);
        assert!(names.contains(&"id") && names.contains(&"sort") && names.contains(&"email"));
        assert!(!names.contains(&"company_id"), "the path fixes the company");
        operation(&d, "/api/v1/companies/{id}/deals", "get");
        operation(&d, "/api/v1/teams/{id}/users", "get");
        assert!(d["paths"].get("/api/v1/deals/{id}/companies").is_none());
    }

    #[test]
    fn list_parameters_come_from_the_metadata() {
        let schema = builtin_schema();
        let d = document(&schema);
        let op = operation(&d, "/api/v1/deals", "get");
        let names = param_names(&d, op);
        for expected in ["q", "sort", "limit", "cursor", "count", "trashed", "amount", "stage", "company_id"] {
            assert!(names.contains(&expected), "{expected}");
        }
        let all = params(&d, op);
        let sort = all.iter().find(|p| p["name"] == "sort").expect("sort");
        let keys = sort["schema"]["enum"].as_array().expect("enum");
        assert!(keys.contains(&json!("amount")) && keys.contains(&json!("-amount")));
        assert!(!keys.contains(&json!("notes")), "notes is not sortable");
        assert_eq!(sort["schema"]["default"], "-updated_at");
        let limit = all.iter().find(|p| p["name"] == "limit").expect("limit");
        assert_eq!(limit["schema"]["maximum"], 200);
        assert!(op["description"].as_str().expect("description").contains("is_null"));
    }

    #[test]
    fn search_is_offered_only_where_fields_are_searchable() {
        let mut schema = builtin_schema();
        if let Some(teams) = schema.entities.get_mut("teams") {
            teams.fields.iter_mut().for_each(|f| f.searchable = false);
        }
        let d = document(&schema);
        assert!(!param_names(&d, operation(&d, "/api/v1/teams", "get")).contains(&"q"));
        assert!(param_names(&d, operation(&d, "/api/v1/companies", "get")).contains(&"q"));
    }

    #[test]
    fn a_field_added_to_the_metadata_appears_everywhere_it_belongs() {
        let mut schema = builtin_schema();
        if let Some(companies) = schema.entities.get_mut("companies") {
            companies.fields.push(FieldDef::new("tier", "Tier", FieldType::Integer).sortable());
        }
        let d = document(&schema);
        assert_eq!(component(&d, "Company")["properties"]["tier"]["type"], json!(["integer", "null"]));
        assert!(component(&d, "CompanyCreate")["properties"].get("tier").is_some());
        assert!(component(&d, "CompanyUpdate")["properties"].get("tier").is_some());
        assert!(param_names(&d, operation(&d, "/api/v1/companies", "get")).contains(&"tier"));
    }

    #[test]
    fn deleting_a_company_offers_cascade_and_explains_the_deal_conflict() {
        let d = doc();
        let op = operation(&d, "/api/v1/companies/{id}", "delete");
        assert!(param_names(&d, op).contains(&"cascade"));
        let conflict = op.pointer("/responses/409/content/application~1problem+json/schema").expect("409");
        assert!(conflict.to_string().contains("deal_count"));
        assert!(!param_names(&d, operation(&d, "/api/v1/contacts/{id}", "delete")).contains(&"cascade"));
        assert!(op["responses"].get("204").is_some());
    }

    #[test]
    fn get_returns_the_etag_and_patch_takes_if_match() {
        let d = doc();
        assert!(operation(&d, "/api/v1/deals/{id}", "get").pointer("/responses/200/headers/ETag").is_some());
        let patch = operation(&d, "/api/v1/deals/{id}", "patch");
        assert!(param_names(&d, patch).contains(&"If-Match"));
        assert!(patch["responses"].get("412").is_some());
        let create = operation(&d, "/api/v1/deals", "post");
        assert!(param_names(&d, create).contains(&"Idempotency-Key"));
        assert!(create.pointer("/responses/201/headers/Location").is_some());
        assert_eq!(
            create.pointer("/responses/201/content/application~1json/schema/$ref"),
            Some(&json!("#/components/schemas/Deal"))
        );
    }

    #[test]
    fn the_change_log_entry_lists_every_entity_and_operation() {
        let d = doc();
        let entry = component(&d, "ChangeEntry");
        assert_eq!(entry["properties"]["op"]["enum"], json!(["create", "update", "delete", "restore", "purge"]));
        assert!(entry["properties"]["entity"]["enum"].as_array().expect("entities").contains(&json!("deals")));
        assert_eq!(component(&d, "ChangePage")["properties"]["next_after"]["format"], "int64");
    }

    #[test]
    fn the_metadata_schema_knows_every_field_type_in_use() {
        let schema = builtin_schema();
        let d = document(&schema);
        let types = component(&d, "FieldMetadata")["properties"]["type"]["enum"].as_array().expect("types").clone();
        for f in schema.entities.values().flat_map(|e| &e.fields) {
            let t = serde_json::to_value(f.ty).expect("serialise");
            assert!(types.contains(&t), "{t}");
        }
    }

    #[test]
    fn the_docs_page_loads_nothing_from_elsewhere_and_never_parses_data_as_markup() {
        let html = docs_html();
        assert!(html.contains("/api/openapi.json"));
        for forbidden in [
            "http://",
            "https://",
            "<link",
            "src=",
            "@import",
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
        ] {
            assert!(!html.contains(forbidden), "docs page contains {forbidden}");
        }
        assert!(html.contains("credentials: \"include\""));
    }

    #[test]
    fn exports_take_the_list_filters_but_not_its_paging() {
        let d = doc();
        let export = operation(&d, "/api/v1/deals/export.csv", "get");
        let names = param_names(&d, export);
        for expected in ["q", "sort", "trashed", "amount", "stage"] {
            assert!(names.contains(&expected), "export lacks {expected}");
        }
        for paging in ["limit", "cursor", "count"] {
            assert!(!names.contains(&paging), "export takes {paging}");
        }
        assert!(export.pointer("/responses/200/content/text~1csv").is_some());
        assert!(export.pointer("/responses/429/headers/Retry-After").is_some());
    }
}
