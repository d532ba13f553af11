use anyhow::Context;
use clap::Args;

#[derive(Args)]
pub struct CreateArgs {
    #[arg(long)]
    email: String,
    /// admin, manager or rep.
    #[arg(long, default_value = "rep")]
    role: String,
    /// At least 12 characters. Prefer KEEL_PASSWORD so it stays out of shell history.
    #[arg(long, env = "KEEL_PASSWORD", hide_env_values = true)]
    password: String,
    /// Display name (defaults to the part of the email before @).
    #[arg(long)]
    name: Option<String>,
}

pub async fn create(database_url: &str, args: CreateArgs) -> anyhow::Result<()> {
    let service = super::open(database_url).await?;
    let name = args.name.unwrap_or_else(|| args.email.split('@').next().unwrap_or("user").to_string());
    let user = service
        .create_user_as_system(&args.email, &name, &args.role, &args.password)
        .await
        .context("could not create the user")?;
    println!("created {} user {} ({})", args.role, args.email, user.get("id").and_then(|v| v.as_str()).unwrap_or("?"));
    service.db().close().await;
    Ok(())
}
