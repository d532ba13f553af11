//! `keel serve`'s automation settings: SMTP for email actions, the public URL for links
//! in messages, webhook signing, retries and the workflow depth limit. Flags and
//! `KEEL_*` variables; docs/AUTOMATION.md lists them.

use anyhow::{Context, bail};
use clap::Args;
use keel_automation::{AutomationConfig, SmtpConfig, SmtpTls};

#[derive(Args, Debug, Clone)]
pub struct AutomationArgs {
    /// SMTP server for email actions (without it, email actions fail).
    #[arg(long, env = "KEEL_SMTP_HOST")]
    smtp_host: Option<String>,
    /// SMTP port (default: 25 with --smtp-tls none, 587 with starttls, 465 with tls).
    #[arg(long, env = "KEEL_SMTP_PORT")]
    smtp_port: Option<u16>,
    #[arg(long, env = "KEEL_SMTP_USERNAME")]
    smtp_username: Option<String>,
    #[arg(long, env = "KEEL_SMTP_PASSWORD", hide_env_values = true)]
    smtp_password: Option<String>,
    /// none, starttls (required, never skipped) or tls.
    #[arg(long, env = "KEEL_SMTP_TLS", default_value = "starttls")]
    smtp_tls: String,
    /// The From: address of workflow email.
    #[arg(long, env = "KEEL_SMTP_FROM", default_value = "Keel <keel@localhost>")]
    smtp_from: String,
    /// The address people reach Keel at, for links in messages ({{ deal.url }}).
    /// Default: http://<bind>:<port>.
    #[arg(long, env = "KEEL_PUBLIC_URL")]
    public_url: Option<String>,
    /// Signs call_webhook bodies whose action has no secret of its own.
    #[arg(long, env = "KEEL_WEBHOOK_SECRET", hide_env_values = true)]
    webhook_secret: Option<String>,
    /// Tries per job before it is dead-lettered.
    #[arg(long, env = "KEEL_JOB_MAX_ATTEMPTS", default_value_t = 8)]
    job_max_attempts: i64,
    /// The first retry's wait in seconds; each further one waits twice as long (at most an hour).
    #[arg(long, env = "KEEL_JOB_BACKOFF_SECONDS", default_value_t = 30)]
    job_backoff_seconds: i64,
    /// Seconds a worker holds a job without renewing (before each action); a crashed
    /// worker's job is taken up again after this long.
    #[arg(long, env = "KEEL_JOB_LEASE_SECONDS", default_value_t = 120)]
    job_lease_seconds: i64,
    /// Changes made this many workflow runs deep trigger no further runs.
    #[arg(long, env = "KEEL_WORKFLOW_MAX_DEPTH", default_value_t = 3)]
    workflow_max_depth: i64,
    /// A webhook whose deliveries fail this many times in a row (each after all its
    /// retries) is turned off and its owner emailed.
    #[arg(long, env = "KEEL_WEBHOOK_DISABLE_AFTER", default_value_t = 5)]
    webhook_disable_after: i64,
    /// Serve the API without running workflow jobs in this process.
    #[arg(long, env = "KEEL_NO_WORKERS")]
    pub no_workers: bool,
}

impl AutomationArgs {
    pub fn config(&self, bind: &str, port: u16) -> anyhow::Result<AutomationConfig> {
        let tls = SmtpTls::parse(&self.smtp_tls)
            .with_context(|| format!("--smtp-tls / KEEL_SMTP_TLS is `{}`: use none, starttls or tls", self.smtp_tls))?;
        let smtp = self.smtp_host.as_ref().map(|host| SmtpConfig {
            host: host.clone(),
            port: self.smtp_port.unwrap_or(match tls {
                SmtpTls::None => 25,
                SmtpTls::Starttls => 587,
                SmtpTls::Tls => 465,
            }),
            username: self.smtp_username.clone(),
            password: self.smtp_password.clone(),
            tls,
            from: self.smtp_from.clone(),
            timeout: std::time::Duration::from_secs(30),
        });
        if self.job_max_attempts < 1 || self.job_backoff_seconds < 1 || self.workflow_max_depth < 1 {
            bail!("KEEL_JOB_MAX_ATTEMPTS, KEEL_JOB_BACKOFF_SECONDS and KEEL_WORKFLOW_MAX_DEPTH must be at least 1");
        }
        if self.webhook_disable_after < 1 {
            bail!("KEEL_WEBHOOK_DISABLE_AFTER must be at least 1");
        }
        if self.job_lease_seconds < 5 {
            bail!("KEEL_JOB_LEASE_SECONDS must be at least 5: an action must finish within it");
        }
        let public_url = self.public_url.clone().unwrap_or_else(|| format!("http://{bind}:{port}"));
        Ok(AutomationConfig {
            smtp,
            public_url: public_url.trim_end_matches('/').to_string(),
            webhook_secret: self.webhook_secret.clone(),
            max_attempts: self.job_max_attempts,
            backoff_base: time::Duration::seconds(self.job_backoff_seconds),
            lease: time::Duration::seconds(self.job_lease_seconds),
            max_depth: self.workflow_max_depth,
            webhook_disable_after: self.webhook_disable_after,
            ..AutomationConfig::default()
        })
    }
}
