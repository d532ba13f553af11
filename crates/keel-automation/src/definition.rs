//! Workflows as data: what `POST /api/v1/workflows` takes and what is stored. A trigger,
//! optional conditions, ordered actions. Every string an action sends or writes is a
//! template (see `template.rs`).

use serde::{Deserialize, Serialize};

use crate::condition::Condition;

/// What a workflow stores as its definition (name, description and the enabled flag are
/// columns of their own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    pub trigger: Trigger,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Condition>,
    pub actions: Vec<ActionSpec>,
}

/// One action with its own optional condition (the guide's "Slack notification if stage
/// = Closed Won"): when `only_if` does not hold, the action is skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_if: Option<Condition>,
    #[serde(flatten)]
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// A record of `entity` was created, updated, deleted (moved to the trash) or restored;
    /// optionally only when `field` changed, from `from` and/or to `to`.
    Record {
        entity: String,
        on: RecordEvent,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<serde_json::Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<serde_json::Value>,
    },
    /// A cron schedule in a time zone ("0 9 * * MON", "Europe/Berlin"). With a `query`,
    /// each tick loads the matching records; with its `group_by`, one run per group
    /// (one email per owner).
    Schedule {
        cron: String,
        time_zone: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        query: Option<ScheduleQuery>,
    },
    /// Only run by hand, on a record of `entity` (`POST /api/v1/workflows/{id}/run`).
    Manual { entity: String },
}

/// The records a scheduled run is about: list filters in the API's syntax
/// (`"expected_close_date[lte]": "{{ today | add_days(7) }}"`; values are templates over
/// `today` and `tick`), optionally grouped by a reference field such as `owner_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleQuery {
    pub entity: String,
    #[serde(default)]
    pub filters: std::collections::BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
}

impl Trigger {
    /// The entity whose records the workflow runs on (one at a time: not schedules).
    pub fn entity(&self) -> Option<&str> {
        match self {
            Trigger::Record { entity, .. } | Trigger::Manual { entity } => Some(entity),
            Trigger::Schedule { .. } => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordEvent {
    Created,
    Updated,
    Deleted,
    Restored,
}

impl RecordEvent {
    /// Does a change-log operation count as this event?
    pub fn matches(self, op: &str) -> bool {
        matches!(
            (self, op),
            (RecordEvent::Created, "create")
                | (RecordEvent::Updated, "update")
                | (RecordEvent::Deleted, "delete")
                | (RecordEvent::Restored, "restore")
        )
    }
}

/// Addresses: one template, or a list of them; each renders to one or more
/// comma-separated addresses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Recipients {
    One(String),
    Many(Vec<String>),
}

impl Recipients {
    pub fn templates(&self) -> Vec<&str> {
        match self {
            Recipients::One(s) => vec![s.as_str()],
            Recipients::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

// No `deny_unknown_fields` here: serde cannot combine it with `flatten`; the API
// refuses unknown action fields itself (`workflows::parse_action`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// An email over the configured SMTP server.
    SendEmail {
        to: Recipients,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cc: Option<Recipients>,
        subject: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        html: Option<String>,
    },
    /// A Slack incoming-webhook message.
    PostSlack {
        webhook_url: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<String>,
    },
    /// A Microsoft Teams incoming-webhook message (an Adaptive Card).
    PostTeams {
        webhook_url: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
    /// An HTTP POST of a JSON body, signed with HMAC-SHA256.
    CallWebhook {
        url: String,
        /// Any JSON; every string in it is a template. Default: the event and the record.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<serde_json::Value>,
        /// The signing key (else `KEEL_WEBHOOK_SECRET`; with neither, no signature).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<String>,
    },
    /// An activity (a note, by default) on the record.
    CreateActivity {
        #[serde(default = "note")]
        activity_type: String,
        subject: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
    },
    /// Give the record a new owner by territory: the first rule whose `when` holds names a
    /// user, or a team whose active members take turns (round robin); else the default.
    /// Later actions see the new owner as `assigned`.
    AssignOwner { rules: Vec<TerritoryRule>, default_user_id: String },
    /// Sandboxed JavaScript with the context as globals and `setField`/`record.save()`,
    /// `sendEmail`, `log` (actions/script.rs), stopped after `timeout_ms` or `memory_mb`.
    RunScript {
        code: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout_ms: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        memory_mb: Option<u64>,
    },
    /// Set fields of the record, or of a record it references (`target`: a reference
    /// field of the trigger record, such as `company_id`).
    UpdateRecord {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target: Option<String>,
        fields: serde_json::Map<String, serde_json::Value>,
    },
}

/// One territory: when `when` holds (`deal.company.state in [CA, OR]`), the owner is
/// `user_id`, or the next active member of `team_id` in turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TerritoryRule {
    pub when: Condition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
}

fn recipients<'a>(name: &str, r: &'a Recipients, out: &mut Vec<(String, &'a str)>) {
    match r {
        Recipients::One(s) => out.push((name.to_string(), s.as_str())),
        Recipients::Many(v) => {
            for (i, s) in v.iter().enumerate() {
                out.push((format!("{name}[{i}]"), s.as_str()));
            }
        }
    }
}

fn note() -> String {
    "Note".into()
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::SendEmail { .. } => "send_email",
            Action::PostSlack { .. } => "post_slack",
            Action::PostTeams { .. } => "post_teams",
            Action::CallWebhook { .. } => "call_webhook",
            Action::CreateActivity { .. } => "create_activity",
            Action::UpdateRecord { .. } => "update_record",
            Action::AssignOwner { .. } => "assign_owner",
            Action::RunScript { .. } => "run_script",
        }
    }

    /// Every template of the action with the field path an error names.
    pub fn templates(&self) -> Vec<(String, &str)> {
        let mut out: Vec<(String, &str)> = Vec::new();
        match self {
            Action::SendEmail { to, cc, subject, text, html } => {
                recipients("to", to, &mut out);
                if let Some(cc) = cc {
                    recipients("cc", cc, &mut out);
                }
                out.push(("subject".into(), subject));
                if let Some(t) = text {
                    out.push(("text".into(), t));
                }
                if let Some(h) = html {
                    out.push(("html".into(), h));
                }
            }
            Action::PostSlack { text, channel, .. } => {
                out.push(("text".into(), text));
                if let Some(c) = channel {
                    out.push(("channel".into(), c));
                }
            }
            Action::PostTeams { text, title, .. } => {
                out.push(("text".into(), text));
                if let Some(t) = title {
                    out.push(("title".into(), t));
                }
            }
            Action::CallWebhook { body, .. } => {
                if let Some(b) = body {
                    json_templates("body", b, &mut out);
                }
            }
            Action::CreateActivity { subject, description, .. } => {
                out.push(("subject".into(), subject));
                if let Some(d) = description {
                    out.push(("description".into(), d));
                }
            }
            Action::UpdateRecord { fields, .. } => {
                for (name, v) in fields {
                    json_templates(&format!("fields.{name}"), v, &mut out);
                }
            }
            Action::AssignOwner { .. } | Action::RunScript { .. } => {}
        }
        out
    }
}

/// The strings inside a JSON value, each a template, with their paths.
fn json_templates<'a>(path: &str, v: &'a serde_json::Value, out: &mut Vec<(String, &'a str)>) {
    match v {
        serde_json::Value::String(s) => out.push((path.to_string(), s)),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                json_templates(&format!("{path}[{i}]"), item, out);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, item) in map {
                json_templates(&format!("{path}.{k}"), item, out);
            }
        }
        _ => {}
    }
}
