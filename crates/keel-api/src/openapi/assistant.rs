//! The assistant's endpoints (`routes/assistant.rs`) in the OpenAPI document. The shapes
//! are `keel-assistant`'s serialised types, written out here once.

use serde_json::{Map, Value, json};

use super::{API, Operation, add, param, schema_ref};

fn id_param(what: &str) -> Value {
    param("id", "path", true, json!({ "type": "string", "format": "uuid" }), &format!("The {what}'s id."))
}

pub(super) fn paths(paths: &mut Map<String, Value>) {
    let chat = Operation::new("assistantChat", "Assistant", "Ask the assistant")
        .describe(
            "Answers a question about the CRM from the records the caller may see, or prepares a change as a \
             proposal (never applied until confirmed). Without a configured model the built-in engine answers: \
             it understands a set of everyday requests and declines others with examples. With a model \
             (`KEEL_AI_BASE_URL`), the model answers through the same tools as the caller, and the built-in \
             engine answers instead when it fails (`fallback_reason`). `conversation_id` \
             continues a conversation; leave it out to start one.",
        )
        .body(schema_ref("AssistantChatRequest"))
        .reply(
            "200",
            "The answer, the records it cites, proposals to confirm and the tools it called.",
            Some(schema_ref("AssistantChatReply")),
        )
        .problem("404", "The conversation is not the caller's.")
        .problem(
            "422",
            "`message` is missing, empty or too long, or `conversation_id` is not an id; `errors` names the field.",
        )
        .build();
    add(paths, &format!("{API}/assistant/chat"), "post", chat);
    let stream = Operation::new("assistantChatStream", "Assistant", "Ask the assistant, streaming the reply")
        .describe(
            "The same turn as `assistantChat`, answered as server-sent events: `delta` events `{text}` carry pieces of \
             the reply as the model writes them (the built-in engine, and a fallback, send the whole reply as one \
             piece); then one `done` event whose data is the `AssistantChatReply` (its `reply` is the whole text and \
             replaces what was streamed), or one `error` event `{status, code, detail, errors}`.",
        )
        .body(schema_ref("AssistantChatRequest"))
        .reply_with(
            "200",
            json!({
                "description": "`text/event-stream`: `delta` events, then `done` (or `error`).",
                "content": { "text/event-stream": { "schema": { "type": "string" } } },
            }),
        )
        .problem("422", "`message` is missing, empty or too long, or `conversation_id` is not an id.")
        .build();
    add(paths, &format!("{API}/assistant/chat/stream"), "post", stream);
    let list = Operation::new("listAssistantConversations", "Assistant", "The caller's conversations")
        .reply("200", "Most recently used first.", Some(json!({ "type": "object", "required": ["data"], "properties": { "data": { "type": "array", "items": schema_ref("AssistantConversation") } } })))
        .build();
    add(paths, &format!("{API}/assistant/conversations"), "get", list);
    let get = Operation::new("getAssistantConversation", "Assistant", "One conversation with its messages")
        .param(id_param("conversation"))
        .reply("200", "The conversation, messages oldest first.", Some(schema_ref("AssistantConversationDetail")))
        .problem("404", "No such conversation of the caller's.")
        .build();
    add(paths, &format!("{API}/assistant/conversations/{{id}}"), "get", get);
    let show = Operation::new("getAssistantProposal", "Assistant", "One proposal")
        .param(id_param("proposal"))
        .reply("200", "The proposal.", Some(schema_ref("AssistantProposal")))
        .problem("404", "No such proposal of the caller's.")
        .build();
    add(paths, &format!("{API}/assistant/proposals/{{id}}"), "get", show);
    let confirm = Operation::new("confirmAssistantProposal", "Assistant", "Confirm a proposal")
        .describe(
            "Runs the proposal's writes as the caller through the normal write path (validated, permission-checked, \
             change-logged and audited as the caller). Only the user it was made for can confirm it, once, before it expires.",
        )
        .param(id_param("proposal"))
        .reply("200", "Confirmed; `records` lists what was written.", Some(schema_ref("AssistantProposal")))
        .problem("403", "The caller's role may not make this change.")
        .problem("404", "No such proposal of the caller's.")
        .problem("409", "`proposal_decided` (already confirmed or cancelled) or `proposal_expired`.")
        .problem("412", "A record changed since the proposal was made.")
        .problem("422", "The proposed values do not validate any more.")
        .build();
    add(paths, &format!("{API}/assistant/proposals/{{id}}/confirm"), "post", confirm);
    let cancel = Operation::new("cancelAssistantProposal", "Assistant", "Cancel a proposal")
        .param(id_param("proposal"))
        .reply("200", "Cancelled.", Some(schema_ref("AssistantProposal")))
        .problem("404", "No such proposal of the caller's.")
        .problem("409", "`proposal_decided`: already confirmed or cancelled.")
        .build();
    add(paths, &format!("{API}/assistant/proposals/{{id}}/cancel"), "post", cancel);
    let parse = Operation::new("assistantParseContact", "Assistant", "Smart data entry: text to a contact")
        .describe(
            "Parses free text (\"Add John Smith, VP of Sales at Acme Corp, john@acme.com\", or a business card's \
             lines) into contact fields, matches the company (existing or new) and checks the email for \
             duplicates; returns the pre-filled fields and a proposal to create them.",
        )
        .body(json!({ "type": "object", "required": ["text"], "additionalProperties": false, "properties": { "text": { "type": "string", "maxLength": 4000 } } }))
        .reply("200", "The parsed contact and, when complete and new, a proposal.", Some(schema_ref("AssistantContactDraft")))
        .problem("422", "`text` is missing or empty.")
        .build();
    add(paths, &format!("{API}/assistant/parse-contact"), "post", parse);
    let email = Operation::new("assistantEmailDraft", "Assistant", "Draft an email to a contact")
        .describe("A subject and body for the purpose from the contact's company, open deals and recent activities: written by the configured model (`engine: model`), or from a template (`engine: template`; `fallback_reason` says why when a model is configured but failed). Nothing is sent.")
        .body(json!({
            "type": "object", "required": ["contact_id", "purpose"], "additionalProperties": false,
            "properties": {
                "contact_id": { "type": "string", "format": "uuid" },
                "purpose": { "enum": ["follow_up_after_demo", "proposal", "check_in", "thank_you", "custom"] },
                "notes": { "type": ["string", "null"], "description": "What to say; required for `custom`." },
            },
        }))
        .reply("200", "The draft.", Some(schema_ref("AssistantEmailDraft")))
        .problem("404", "No such contact, or the caller may not see it.")
        .problem("422", "A field is missing or invalid; `errors` names it.")
        .build();
    add(paths, &format!("{API}/assistant/email-draft"), "post", email);
    let meeting = Operation::new("assistantMeetingSummary", "Assistant", "Summarise a meeting")
        .describe(
            "A summary (by the configured model, `engine: model`, or extractive, `engine: extractive`, with \
             `fallback_reason` when the model failed), action items (owner and due date when stated), next steps, sentiment and a \
             recommended stage, plus a proposal that logs a Meeting activity, a Task per action item and the stage change.",
        )
        .body(json!({
            "type": "object", "required": ["transcript"], "additionalProperties": false,
            "properties": {
                "deal_id": { "type": ["string", "null"], "format": "uuid" },
                "contact_id": { "type": ["string", "null"], "format": "uuid" },
                "transcript": { "type": "string", "maxLength": 100000 },
            },
        }))
        .reply("200", "The analysis and the proposal.", Some(schema_ref("AssistantMeetingSummary")))
        .problem("404", "No such deal or contact, or the caller may not see it.")
        .problem("422", "A field is missing or invalid; `errors` names it.")
        .build();
    add(paths, &format!("{API}/assistant/meeting-summary"), "post", meeting);
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties })
}

pub(super) fn schemas(out: &mut Map<String, Value>) {
    let string = json!({ "type": "string" });
    let uuid = json!({ "type": "string", "format": "uuid" });
    let time = json!({ "type": "string", "format": "date-time" });
    out.insert(
        "AssistantChatRequest".into(),
        json!({ "type": "object", "required": ["message"], "additionalProperties": false, "properties": {
            "conversation_id": { "type": ["string", "null"], "format": "uuid" },
            "message": { "type": "string", "minLength": 1, "maxLength": 4000 },
        } }),
    );
    out.insert(
        "AssistantCitation".into(),
        object(&["entity", "id", "title", "url"], json!({ "entity": string, "id": uuid, "title": string, "url": { "type": "string", "description": "The record's page in the web app." } })),
    );
    out.insert(
        "AssistantToolCall".into(),
        object(&["name", "arguments"], json!({ "name": string, "arguments": { "type": "object" } })),
    );
    out.insert(
        "AssistantProposalStep".into(),
        object(&["action", "entity", "input", "label"], json!({
            "action": { "enum": ["create", "update"] }, "entity": string, "id": uuid,
            "if_match": { "type": "integer", "description": "The record's version when proposed." },
            "input": { "type": "object", "description": "Exactly what will be written; `{\"$step\": n}` stands for the id step n created." },
            "label": string,
        })),
    );
    out.insert(
        "AssistantProposal".into(),
        object(&["id", "kind", "summary", "status", "steps", "created_at", "expires_at", "records", "confirm_url", "cancel_url"], json!({
            "id": uuid, "kind": string, "summary": string,
            "status": { "enum": ["pending", "running", "confirmed", "cancelled"] },
            "steps": { "type": "array", "items": schema_ref("AssistantProposalStep") },
            "created_at": time, "expires_at": time, "decided_at": time,
            "records": { "type": "array", "items": schema_ref("AssistantCitation"), "description": "What was written." },
            "confirm_url": string, "cancel_url": string,
        })),
    );
    out.insert(
        "AssistantChatReply".into(),
        object(
            &["conversation_id", "reply", "citations", "proposals", "tool_calls", "engine"],
            json!({
                "conversation_id": uuid,
                "reply": { "type": "string", "description": "Markdown-ish text." },
                "citations": { "type": "array", "items": schema_ref("AssistantCitation") },
                "proposals": { "type": "array", "items": schema_ref("AssistantProposal") },
                "tool_calls": { "type": "array", "items": schema_ref("AssistantToolCall") },
                "engine": {
                    "type": "string",
                    "enum": ["builtin", "model"],
                    "description": "`model` when the configured model answered; `builtin` without one, or when it failed.",
                },
                "fallback_reason": {
                    "type": "string",
                    "description": "Why the configured model's answer was replaced by the built-in engine's (timeout, 429, 5xx, malformed tool call).",
                },
            }),
        ),
    );
    out.insert(
        "AssistantConversation".into(),
        object(
            &["id", "title", "created_at", "updated_at"],
            json!({ "id": uuid, "title": string, "created_at": time, "updated_at": time }),
        ),
    );
    out.insert(
        "AssistantConversationDetail".into(),
        json!({ "allOf": [schema_ref("AssistantConversation"), object(&["messages"], json!({ "messages": { "type": "array", "items": object(&["id", "role", "content", "created_at"], json!({
            "id": uuid, "role": { "enum": ["user", "assistant"] }, "content": string, "created_at": time,
            "citations": { "type": "array", "items": schema_ref("AssistantCitation") },
            "proposals": { "type": "array", "items": uuid },
            "tool_calls": { "type": "array", "items": schema_ref("AssistantToolCall") },
        })) } }))] }),
    );
    let opt = json!({ "type": ["string", "null"] });
    out.insert(
        "AssistantContactDraft".into(),
        object(&["parsed", "fields", "company", "duplicate", "missing", "proposal"], json!({
            "parsed": { "type": "object", "properties": { "first_name": opt, "last_name": opt, "title": opt, "company": opt, "email": opt, "phone": opt, "website": opt } },
            "fields": { "type": "object", "description": "The contact as the create form would hold it." },
            "company": object(&["status"], json!({ "status": { "enum": ["none", "existing", "new", "ambiguous"] }, "id": uuid, "name": string, "candidates": { "type": "array", "items": schema_ref("AssistantCitation") } })),
            "duplicate": { "oneOf": [schema_ref("AssistantCitation"), { "type": "null" }] },
            "missing": { "type": "array", "items": string },
            "proposal": { "oneOf": [schema_ref("AssistantProposal"), { "type": "null" }] },
        })),
    );
    out.insert(
        "AssistantEmailDraft".into(),
        object(
            &["subject", "body", "purpose", "used"],
            json!({
                "subject": string, "body": string, "purpose": string, "to": opt,
                "used": { "type": "array", "items": schema_ref("AssistantCitation") },
                "engine": { "enum": ["model", "template"] },
                "fallback_reason": string,
            }),
        ),
    );
    out.insert(
        "AssistantMeetingSummary".into(),
        object(&["summary", "key_points", "action_items", "next_steps", "sentiment", "records", "proposal"], json!({
            "summary": string,
            "key_points": { "type": "array", "items": string },
            "action_items": { "type": "array", "items": object(&["text"], json!({ "text": string, "owner": opt, "due_date": { "type": ["string", "null"], "format": "date" } })) },
            "next_steps": { "type": "array", "items": string },
            "sentiment": object(&["label", "score"], json!({ "label": { "enum": ["positive", "neutral", "negative"] }, "score": { "type": "integer", "minimum": -100, "maximum": 100 } })),
            "recommended_stage": opt,
            "stage_reason": opt,
            "records": { "type": "array", "items": schema_ref("AssistantCitation") },
            "proposal": schema_ref("AssistantProposal"),
            "engine": { "enum": ["model", "extractive"] },
            "fallback_reason": string,
        })),
    );
}
