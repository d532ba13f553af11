//! Built-in workflow templates, installable with one call and editable afterwards
//! (`POST /api/v1/workflows/templates/{key}/install`). They reproduce the CRM guide.

use serde_json::{Value as Json, json};

pub struct BuiltIn {
    pub key: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// The definition (trigger, conditions, actions).
    pub definition: fn() -> Json,
}

/// The Slack webhook a template starts with: a placeholder to replace before enabling
/// a real Slack post (the install body may give `slack_webhook_url`).
pub const SLACK_PLACEHOLDER: &str = "https://hooks.slack.com/services/REPLACE/ME";

fn notify_on_stage_change() -> Json {
    json!({
        "trigger": { "type": "record", "entity": "deals", "on": "updated", "field": "stage" },
        "actions": [
            {
                "type": "send_email",
                "to": "{{ deal.owner.email }}",
                "subject": "Deal \"{{ deal.title }}\" moved to {{ deal.stage }}",
                "text": "Hi {{ deal.owner.first_name }},\n\nThe deal \"{{ deal.title }}\" with {{ deal.company.name }} has been moved to {{ deal.stage }}.\n\nAmount: {{ deal.amount | currency }}\nExpected close: {{ deal.expected_close_date | date }}\n\nView deal: {{ deal.url }}\n"
            },
            {
                "type": "post_slack",
                "webhook_url": SLACK_PLACEHOLDER,
                "channel": "#sales-wins",
                "text": "🎉 {{ deal.owner.name }} just closed a deal!\nCompany: {{ deal.company.name }}\nAmount: {{ deal.amount | currency }}",
                "only_if": { "field": "deal.stage", "op": "eq", "value": "Closed Won" }
            },
            {
                "type": "create_activity",
                "activity_type": "Note",
                "subject": "Stage changed to {{ deal.stage }}",
                "description": "Deal moved from {{ deal.previous_stage }} to {{ deal.stage }} by {{ user.name }}"
            }
        ]
    })
}

pub const TEMPLATES: &[BuiltIn] = &[BuiltIn {
    key: "notify-deal-stage-change",
    name: "Notify on deal stage change",
    description: "Email the owner when a deal changes stage; a Slack message when it is Closed Won; a note on the deal saying who moved it from which stage to which.",
    definition: notify_on_stage_change,
}];

pub fn find(key: &str) -> Option<&'static BuiltIn> {
    TEMPLATES.iter().find(|t| t.key == key)
}
