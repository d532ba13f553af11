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

/// Open stages, for "not closed" filters.
const OPEN_STAGES: &str = "Prospecting,Qualification,Proposal,Negotiation";

fn close_date_reminders() -> Json {
    json!({
        "trigger": {
            "type": "schedule", "cron": "0 8 * * *", "time_zone": "UTC",
            "query": {
                "entity": "deals",
                "filters": {
                    "expected_close_date[gte]": "{{ today }}",
                    "expected_close_date[lte]": "{{ today | add_days(7) }}",
                    "stage[in]": OPEN_STAGES
                },
                "group_by": "owner_id"
            }
        },
        "actions": [{
            "type": "send_email",
            "to": "{{ owner.email }}",
            "subject": "{{ count }} deals closing this week",
            "text": "Hi {{ owner.first_name }},\n\nThese deals are expected to close in the next 7 days:\n{% for d in deals %}\n- {{ d.title }}: {{ d.amount | currency(d.currency or 'USD') }}, {{ d.stage }}, closes {{ d.expected_close_date | date }}\n  {{ d.url }}{% endfor %}\n"
        }]
    })
}

fn weekly_digest() -> Json {
    json!({
        "trigger": {
            "type": "schedule", "cron": "0 9 * * MON", "time_zone": "UTC",
            "query": {
                "entity": "deals",
                "filters": { "updated_at[gte]": "{{ tick.at | add_days(-7) }}" },
                "group_by": "owner_id"
            }
        },
        "actions": [{
            "type": "send_email",
            "to": "{{ owner.email }}",
            "subject": "Your weekly sales summary",
            "text": "Hi {{ owner.first_name }},\n\nIn the last 7 days you worked on {{ count }} deals worth {{ deals | map(attribute='amount') | select | sum | currency('USD') }}.\nWins: {{ deals | selectattr('stage', 'eq', 'Closed Won') | list | length }}\n{% for d in deals %}\n- {{ d.title }} ({{ d.stage }}): {{ d.amount | currency(d.currency or 'USD') }}{% endfor %}\n"
        }]
    })
}

fn assign_by_territory() -> Json {
    json!({
        "trigger": { "type": "record", "entity": "deals", "on": "created" },
        "actions": [
            { "type": "assign_owner", "rules": [], "default_user_id": "" },
            {
                "type": "send_email",
                "to": "{{ assigned.email }}",
                "subject": "New deal assigned: {{ deal.title }}",
                "text": "Hi {{ assigned.first_name }},\n\nYou've been assigned a new deal in {{ deal.company.state or deal.company.country or 'your territory' }}: {{ deal.title }} with {{ deal.company.name }} ({{ deal.amount | currency }}).\n\nView deal: {{ deal.url }}\n"
            }
        ]
    })
}

pub const TEMPLATES: &[BuiltIn] = &[
    BuiltIn {
        key: "notify-deal-stage-change",
        name: "Notify on deal stage change",
        description: "Email the owner when a deal changes stage; a Slack message when it is Closed Won; a note on the deal saying who moved it from which stage to which.",
        definition: notify_on_stage_change,
    },
    BuiltIn {
        key: "auto-assign-deals-by-territory",
        name: "Auto-assign deals by territory",
        description: "When a deal is created, give it to the owner of its company's territory (a user, or a team in turn; else the default owner) and email the new owner.",
        definition: assign_by_territory,
    },
    BuiltIn {
        key: "deal-close-date-reminders",
        name: "Deal close date reminders",
        description: "Daily at 8:00: one email per owner listing their open deals expected to close within 7 days.",
        definition: close_date_reminders,
    },
    BuiltIn {
        key: "weekly-sales-digest",
        name: "Weekly sales digest",
        description: "Mondays at 9:00: each rep's deals touched in the last 7 days, their value and the wins.",
        definition: weekly_digest,
    },
];

pub fn find(key: &str) -> Option<&'static BuiltIn> {
    TEMPLATES.iter().find(|t| t.key == key)
}
