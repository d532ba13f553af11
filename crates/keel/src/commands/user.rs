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

// The commands below run as the system administrator through the same service calls as
// the API (`PATCH /api/v1/users/{id}`), so they are validated, change-logged and audited
// (`record.updated`, `permission.changed`) like any admin's change.

#[derive(Args)]
pub struct EmailArgs {
    #[arg(long)]
    email: String,
}

#[derive(Args)]
pub struct SetRoleArgs {
    #[arg(long)]
    email: String,
    /// admin, manager, rep or a custom role's name.
    #[arg(long)]
    role: String,
}

#[derive(Args)]
pub struct SetTeamArgs {
    #[arg(long)]
    email: String,
    /// The team's name; a team of that name is created when there is none.
    #[arg(long)]
    team: String,
}

fn system() -> keel_service::Ctx {
    use keel_domain::policy::{Actor, Role};
    keel_service::Ctx::system(Actor::new(uuid::Uuid::nil(), Role::Admin, None))
}

async fn user_id(service: &keel_service::Service, email: &str) -> anyhow::Result<uuid::Uuid> {
    service.user_id_by_email(email).await?.ok_or_else(|| anyhow::anyhow!("no user with email {email}"))
}

async fn patch(database_url: &str, email: &str, changes: serde_json::Value) -> anyhow::Result<()> {
    let service = super::open(database_url).await?;
    let id = user_id(&service, email).await?;
    let serde_json::Value::Object(input) = changes else { anyhow::bail!("changes must be an object") };
    let user = service.update(&system(), "users", id, input, None).await.context("could not update the user")?;
    println!(
        "{email}: role {}, team {}, active {}",
        user.get("role").and_then(|v| v.as_str()).unwrap_or("?"),
        user.get("team_id").and_then(|v| v.as_str()).unwrap_or("none"),
        user.get("is_active").and_then(serde_json::Value::as_bool).unwrap_or(true)
    );
    service.db().close().await;
    Ok(())
}

pub async fn set_role(database_url: &str, args: SetRoleArgs) -> anyhow::Result<()> {
    patch(database_url, &args.email, serde_json::json!({ "role": args.role })).await
}

pub async fn set_active(database_url: &str, args: EmailArgs, active: bool) -> anyhow::Result<()> {
    patch(database_url, &args.email, serde_json::json!({ "is_active": active })).await
}

pub async fn set_team(database_url: &str, args: SetTeamArgs) -> anyhow::Result<()> {
    let service = super::open(database_url).await?;
    let ctx = system();
    let mut query = keel_domain::query::ListQuery::default_for(
        service.schema().entity("teams").ok_or_else(|| anyhow::anyhow!("no teams entity"))?,
    );
    query.filters.push(keel_domain::query::Filter {
        field: "name".into(),
        op: keel_domain::query::Op::Eq,
        operand: keel_domain::query::Operand::One(keel_domain::Value::Text(args.team.clone())),
    });
    let existing = service.list(&ctx, "teams", &query).await?.data.into_iter().next();
    let team = match existing {
        Some(t) => t,
        None => {
            let serde_json::Value::Object(input) = serde_json::json!({ "name": args.team }) else {
                anyhow::bail!("team input must be an object")
            };
            match service.create(&ctx, "teams", input, None).await? {
                keel_service::records::Created::New(t) => t,
                keel_service::records::Created::Replayed { .. } => anyhow::bail!("unexpected replay"),
            }
        }
    };
    let team_id = team.get("id").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    service.db().close().await;
    patch(database_url, &args.email, serde_json::json!({ "team_id": team_id })).await
}

pub async fn list(database_url: &str) -> anyhow::Result<()> {
    let service = super::open(database_url).await?;
    let ctx = system();
    let schema = service.schema();
    let entity = schema.entity("users").ok_or_else(|| anyhow::anyhow!("no users entity"))?;
    let mut query = keel_domain::query::ListQuery::default_for(entity);
    query.limit = keel_domain::query::MAX_LIMIT;
    loop {
        let page = service.list(&ctx, "users", &query).await?;
        for u in &page.data {
            let text = |k: &str| u.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            let active = u.get("is_active").and_then(serde_json::Value::as_bool).unwrap_or(true);
            println!(
                "{}\t{}\t{}\t{}",
                text("email"),
                text("role"),
                if active { "active" } else { "inactive" },
                text("name")
            );
        }
        let Some(cursor) = page.next_cursor else { break };
        let pairs = [("cursor".to_string(), cursor)];
        query.cursor = keel_domain::query::parse_list_query(entity, &pairs).ok().and_then(|q| q.cursor);
        if query.cursor.is_none() {
            break;
        }
    }
    service.db().close().await;
    Ok(())
}
