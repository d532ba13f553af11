//! Automation settings. `keel serve` fills them from flags and `KEEL_*` variables
//! (docs/AUTOMATION.md lists them); the defaults run with nothing set, minus email.

use std::time::Duration;

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text (a local relay, a test server).
    None,
    /// Plain, then upgraded with STARTTLS (required, never silently skipped).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl SmtpTls {
    pub fn parse(s: &str) -> Option<SmtpTls> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Some(SmtpTls::None),
            "starttls" => Some(SmtpTls::Starttls),
            "tls" => Some(SmtpTls::Tls),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    pub tls: SmtpTls,
    /// The From: address, e.g. `Keel <keel@example.com>`.
    pub from: String,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct AutomationConfig {
    /// Email actions fail (permanently) without it.
    pub smtp: Option<SmtpConfig>,
    /// The web app's address, for `{{ deal.url }}` (no trailing slash).
    pub public_url: String,
    /// Signs `call_webhook` bodies whose action has no `secret` of its own.
    pub webhook_secret: Option<String>,
    /// Tries per job before it is dead-lettered.
    pub max_attempts: i64,
    /// The first retry waits this long; each further one twice as long, up to `backoff_max`.
    pub backoff_base: time::Duration,
    pub backoff_max: time::Duration,
    /// How often an idle worker looks for new changes and due jobs.
    pub poll_interval: Duration,
    /// How long a claimed job is the worker's without news (renewed before each action);
    /// after that another worker may take it: how soon a crashed worker's job resumes.
    pub lease: time::Duration,
    /// Changes made by workflow runs this many levels deep trigger no further runs.
    pub max_depth: i64,
    /// Timeout for each outgoing HTTP call (Slack, Teams, webhooks).
    pub http_timeout: Duration,
    /// Names this process in job leases.
    pub worker_id: String,
    /// A webhook whose deliveries fail this many times in a row (each after all its
    /// retries) is disabled and its owner emailed.
    pub webhook_disable_after: i64,
}

impl Default for AutomationConfig {
    fn default() -> Self {
        Self {
            smtp: None,
            public_url: "http://127.0.0.1:8080".into(),
            webhook_secret: None,
            max_attempts: 8,
            backoff_base: time::Duration::seconds(30),
            backoff_max: time::Duration::hours(1),
            poll_interval: Duration::from_secs(1),
            lease: time::Duration::minutes(2),
            max_depth: 3,
            http_timeout: Duration::from_secs(10),
            worker_id: format!("keel-{}", uuid::Uuid::now_v7().simple()),
            webhook_disable_after: 5,
        }
    }
}

impl AutomationConfig {
    /// The wait before try `attempt + 1`, after `attempt` tries failed: base · 2^(attempt-1), capped.
    pub fn backoff(&self, attempt: i64) -> time::Duration {
        let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        let wait = self.backoff_base.saturating_mul(2i32.saturating_pow(exp));
        if wait > self.backoff_max { self.backoff_max } else { wait }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = AutomationConfig::default();
        assert_eq!(c.backoff(1), time::Duration::seconds(30));
        assert_eq!(c.backoff(2), time::Duration::seconds(60));
        assert_eq!(c.backoff(4), time::Duration::seconds(240));
        assert_eq!(c.backoff(40), time::Duration::hours(1));
    }
}
