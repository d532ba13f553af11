//! `keel mcp`: the MCP server on stdio for a desktop AI client (Claude Desktop, IDE
//! agents), as the user whose personal API token it is given.

use anyhow::Context;
use clap::Args;
use keel_api::keel_assistant::mcp::{McpServer, stdio};

#[derive(Args)]
pub struct McpArgs {
    /// A personal API token (Keel: Settings → API tokens). Prefer the environment
    /// variable: a flag is visible to other users of the machine in the process list.
    #[arg(long, env = "KEEL_API_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The address people reach Keel at, for record links in answers.
    #[arg(long, env = "KEEL_PUBLIC_URL")]
    public_url: Option<String>,
}

pub async fn run(database_url: &str, args: McpArgs) -> anyhow::Result<()> {
    let token = args
        .token
        .filter(|t| !t.trim().is_empty())
        .context("an API token is required: --token or KEEL_API_TOKEN (create one in Keel: Settings → API tokens)")?;
    let service = super::open(database_url).await?;
    let server = McpServer::new(service.clone(), args.public_url);
    let input = tokio::io::BufReader::new(tokio::io::stdin());
    let served = stdio::serve(server, token.trim(), input, tokio::io::stdout()).await;
    service.db().close().await;
    served.context("keel mcp")
}
