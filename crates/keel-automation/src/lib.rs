//! Workflow automation: workflows as data (a trigger, conditions, ordered actions),
//! templates, and durable execution. Events come from the change log through a stored
//! cursor; each (workflow, event) becomes one job in the database; workers run the
//! actions, recording each one's result before the next. Everything goes through
//! keel-service — the one write path — and never through SQL (docs/AUTOMATION.md).

pub mod actions;
pub mod builtin;
pub mod condition;
pub mod config;
pub mod context;
pub mod definition;
pub mod dispatch;
pub mod engine;
pub mod schedule;
mod scheduled;
pub mod template;
pub mod validate;
pub mod webhooks;
mod workflows;

pub use config::{AutomationConfig, SmtpConfig, SmtpTls};
pub use engine::spawn;
pub use workflows::Automation;
