use std::net::SocketAddr;

use anyhow::Context;
use clap::Args;
use keel_api::AppState;
use tokio::net::TcpListener;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KEEL_BIND", default_value = "127.0.0.1")]
    bind: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "KEEL_PORT", default_value_t = 8080)]
    port: u16,
    /// Load demo data first if the database has no companies yet.
    #[arg(long, env = "KEEL_DEMO")]
    demo: bool,
    /// Email of the administrator created on first start.
    #[arg(long, env = "KEEL_ADMIN_EMAIL", default_value = "admin@keel.local")]
    admin_email: String,
    /// Mark session cookies Secure (serve behind HTTPS). Also on when a proxy sends X-Forwarded-Proto: https.
    #[arg(long, env = "KEEL_SECURE_COOKIES")]
    secure_cookies: bool,
    #[command(flatten)]
    audit_retention: super::audit::RetentionArgs,
    #[command(flatten)]
    automation: super::automation::AutomationArgs,
    /// Most records one CSV export may hold, for managers (admins are not limited).
    #[arg(long, env = "KEEL_EXPORT_MAX_ROWS", default_value_t = keel_service::records::export::DEFAULT_MAX_ROWS)]
    export_max_rows: u64,
    /// Most CSV exports per user in any 24 hours, for managers (admins are not limited).
    #[arg(long, env = "KEEL_EXPORTS_PER_DAY", default_value_t = keel_service::records::export::DEFAULT_PER_DAY)]
    exports_per_day: u32,
    #[command(flatten)]
    ai: AiArgs,
}

/// The assistant's model provider (any OpenAI-compatible chat-completions endpoint).
/// Without a base URL the assistant uses its built-in engine only.
#[derive(Args)]
struct AiArgs {
    /// e.g. https://api.openai.com/v1, or http://localhost:11434/v1 for Ollama.
    #[arg(long = "ai-base-url", env = "KEEL_AI_BASE_URL")]
    base_url: Option<String>,
    /// The model name, e.g. gpt-4o-mini or llama3.1 (required with a base URL).
    #[arg(long = "ai-model", env = "KEEL_AI_MODEL")]
    model: Option<String>,
    /// Sent as a bearer token (local servers usually need none).
    #[arg(long = "ai-api-key", env = "KEEL_AI_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Sampling temperature, 0 to 2 (the provider's default when unset).
    #[arg(long = "ai-temperature", env = "KEEL_AI_TEMPERATURE")]
    temperature: Option<f32>,
    /// Most tokens in each answer of the model (the provider's default when unset).
    #[arg(long = "ai-max-tokens", env = "KEEL_AI_MAX_TOKENS")]
    max_tokens: Option<u32>,
    /// Per request to the model; the built-in engine answers when it runs out.
    #[arg(long = "ai-timeout-seconds", env = "KEEL_AI_TIMEOUT_SECONDS", default_value_t = 60)]
    timeout_seconds: u64,
    /// Embeddings model for semantic retrieval, e.g. text-embedding-3-small or
    /// nomic-embed-text. Unset: retrieval is full-text search only.
    #[arg(long = "ai-embeddings-model", env = "KEEL_AI_EMBEDDINGS_MODEL")]
    embeddings_model: Option<String>,
    /// The embeddings API root (`POST {base}/embeddings`); defaults to KEEL_AI_BASE_URL.
    #[arg(long = "ai-embeddings-base-url", env = "KEEL_AI_EMBEDDINGS_BASE_URL")]
    embeddings_base_url: Option<String>,
    /// Bearer token for the embeddings endpoint; defaults to KEEL_AI_API_KEY.
    #[arg(long = "ai-embeddings-api-key", env = "KEEL_AI_EMBEDDINGS_API_KEY", hide_env_values = true)]
    embeddings_api_key: Option<String>,
}

impl AiArgs {
    /// The configured engine, or None for the built-in one.
    fn engine(&self) -> anyhow::Result<Option<std::sync::Arc<dyn keel_api::keel_assistant::ChatEngine>>> {
        use keel_api::keel_assistant::{ModelConfig, ModelEngine};
        let Some(base_url) = self.base_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(None);
        };
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            anyhow::bail!("KEEL_AI_BASE_URL must start with http:// or https:// (got {base_url})");
        }
        let Some(model) = self.model.as_deref().map(str::trim).filter(|m| !m.is_empty()) else {
            anyhow::bail!("KEEL_AI_MODEL is required when KEEL_AI_BASE_URL is set");
        };
        if let Some(t) = self.temperature
            && !(0.0..=2.0).contains(&t)
        {
            anyhow::bail!("KEEL_AI_TEMPERATURE must be between 0 and 2 (got {t})");
        }
        if self.timeout_seconds == 0 {
            anyhow::bail!("KEEL_AI_TIMEOUT_SECONDS must be at least 1");
        }
        let config = ModelConfig {
            api_key: self.api_key.clone().filter(|k| !k.is_empty()),
            temperature: self.temperature,
            max_tokens: self.max_tokens,
            timeout: std::time::Duration::from_secs(self.timeout_seconds),
            ..ModelConfig::new(base_url, model)
        };
        let engine = ModelEngine::new(config).context("cannot set up the assistant's model client")?;
        tracing::info!(base_url, model, "assistant model provider configured");
        Ok(Some(std::sync::Arc::new(engine)))
    }
}

impl AiArgs {
    /// The embeddings endpoint, or None when no embeddings model is set.
    fn embedder(&self) -> anyhow::Result<Option<std::sync::Arc<keel_api::keel_assistant::Embedder>>> {
        use keel_api::keel_assistant::{Embedder, EmbeddingsConfig};
        let Some(model) = self.embeddings_model.as_deref().map(str::trim).filter(|m| !m.is_empty()) else {
            return Ok(None);
        };
        let base_url = self
            .embeddings_base_url
            .as_deref()
            .or(self.base_url.as_deref())
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!("KEEL_AI_EMBEDDINGS_MODEL needs KEEL_AI_EMBEDDINGS_BASE_URL or KEEL_AI_BASE_URL")
            })?;
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            anyhow::bail!("the embeddings base URL must start with http:// or https:// (got {base_url})");
        }
        let api_key = self.embeddings_api_key.clone().or_else(|| self.api_key.clone()).filter(|k| !k.is_empty());
        let config = EmbeddingsConfig {
            api_key,
            timeout: std::time::Duration::from_secs(self.timeout_seconds.max(1)),
            ..EmbeddingsConfig::new(base_url, model)
        };
        let embedder = Embedder::new(config).context("cannot set up the embeddings client")?;
        tracing::info!(base_url, model, "assistant embeddings configured");
        Ok(Some(std::sync::Arc::new(embedder)))
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Print the start-up banner. A closed stdout (a supervisor that stopped reading) must
/// not take the server down, so write errors are ignored rather than panicking.
fn banner(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

pub async fn run(database_url: &str, args: ServeArgs) -> anyhow::Result<()> {
    let config = keel_service::ServiceConfig {
        export_max_rows: args.export_max_rows,
        exports_per_day: args.exports_per_day,
        ..keel_service::ServiceConfig::default()
    };
    let automation = args.automation.config(&args.bind, args.port)?;
    let ai = args.ai.engine()?;
    let embedder = args.ai.embedder()?;
    let service = keel_service::Service::connect(database_url, config)
        .await
        .with_context(|| format!("cannot open and migrate database {}", super::redact(database_url)))?;
    let mut login_hint = None;
    if args.demo && service.count_all("users").await? == 0 {
        let report = super::seed::load(&service, &super::seed::SeedArgs::demo_defaults()).await?;
        login_hint = Some(format!("{} / {}", report.admin_email, super::seed::DEMO_PASSWORD));
    } else if args.demo && service.count_all("companies").await? == 0 {
        tracing::warn!("--demo: not loading demo data into a database that already has users");
    }
    if let Some(password) = service.bootstrap_admin(&args.admin_email).await? {
        login_hint = Some(format!("{} / {password}   (first run: change it after signing in)", args.admin_email));
    }
    let addr: SocketAddr = format!("{}:{}", args.bind, args.port)
        .parse()
        .with_context(|| format!("bad --bind/--port {}:{}", args.bind, args.port))?;
    let listener = TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let sign_in = match login_hint {
        Some(hint) => hint,
        None if args.demo => format!(
            "admin@keel.local / {} (the demo login, if this database was made with --demo)",
            super::seed::DEMO_PASSWORD
        ),
        None => "with an existing user (create one: keel user create --email … --role admin)".to_string(),
    };
    banner(&format!(
        "\n  Keel is running at http://{local}/\n  API docs:          http://{local}/api/docs\n  Database:          {}\n  Sign in:           {sign_in}\n",
        super::redact(database_url)
    ));
    let mut state = AppState::new(service.clone(), args.secure_cookies).with_automation(automation.clone());
    if let Some(engine) = ai {
        state = state.with_assistant(engine);
    }
    if let Some(embedder) = &embedder {
        state = state.with_embedder(embedder.clone());
    }
    let retention_job = super::audit::spawn_retention_job(service.clone(), args.audit_retention);
    // Workflow workers: stopped after the server, each finishing the job in hand (a job
    // cut short anyway is claimed again once its lease runs out).
    let (stop_workers, stopping) = tokio::sync::watch::channel(false);
    // The embeddings indexer follows the change log like the workflow dispatcher.
    let indexer = match (&embedder, args.automation.no_workers) {
        (Some(e), false) => {
            Some(keel_api::keel_assistant::retrieval::indexer::spawn(service.clone(), e.clone(), stopping.clone()))
        }
        _ => None,
    };
    // The background import runner: stopped with the workers, after its current batch
    // (the import resumes from there when Keel starts again).
    let import_runner = keel_service::imports::spawn_runner(service.clone(), stopping.clone());
    let workers = (!args.automation.no_workers).then(|| keel_automation::spawn(service.clone(), automation, stopping));
    let served = keel_api::serve(listener, state, shutdown_signal()).await.context("server error");
    if let Some(job) = retention_job {
        job.abort();
    }
    let _ = stop_workers.send(true);
    if let Some(workers) = workers
        && tokio::time::timeout(std::time::Duration::from_secs(30), workers).await.is_err()
    {
        tracing::warn!("the automation worker did not stop within 30 s; its job will be retried");
    }
    if let Some(indexer) = indexer
        && tokio::time::timeout(std::time::Duration::from_secs(30), indexer).await.is_err()
    {
        tracing::warn!("the embeddings indexer did not stop within 30 s; its batch will be read again");
    }
    if tokio::time::timeout(std::time::Duration::from_secs(30), import_runner).await.is_err() {
        tracing::warn!("the import runner did not stop within 30 s; its import resumes once its lease runs out");
    }
    served?;
    service.db().close().await;
    Ok(())
}
