//! `keel`: the one binary. Reads configuration (flags and `KEEL_*` / `DATABASE_URL`
//! environment variables), picks the database, wires the crates together and runs a
//! command. The only place that knows about all the crates.

mod commands;
mod seed;

use clap::{Args, Parser, Subcommand};

/// mimalloc instead of glibc's malloc: the write path allocates and frees many small
/// values per record (field maps, JSON diffs, SQL parameters), and in a 200,000-row
/// import profile glibc's malloc/free took about a quarter of all CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "keel", version, about = "Keel, a self-hosted CRM")]
struct Cli {
    /// Database URL: sqlite://path.db (created if missing) or postgres://user@host/db.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://keel.db", global = true)]
    database_url: String,
    /// Log format: "pretty" for people, "json" for log collectors.
    #[arg(long, env = "KEEL_LOG_FORMAT", default_value = "pretty", global = true)]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (applies migrations first).
    Serve(Box<commands::serve::ServeArgs>),
    /// Apply database migrations and exit.
    Migrate,
    /// Load demo data: the CRM guide's samples plus generated records.
    Seed(commands::seed::SeedArgs),
    /// Manage users.
    User(UserArgs),
    /// Verify, query or purge the audit log.
    Audit(commands::audit::AuditArgs),
    /// Import a CSV file of companies, contacts or deals.
    Import(commands::import::ImportArgs),
    /// Serve the assistant's tools over the Model Context Protocol on stdio (for Claude
    /// Desktop and other AI clients), as the user of an API token.
    Mcp(commands::mcp::McpArgs),
    /// Print the GraphQL schema (SDL) of the built-in entities (docs/schema.graphql).
    GraphqlSchema,
    /// Print the version.
    Version,
}

#[derive(Args)]
struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user.
    Create(commands::user::CreateArgs),
    /// List users.
    List,
    /// Give a user another role (built-in or custom).
    SetRole(commands::user::SetRoleArgs),
    /// Put a user in a team (by team name; created if missing).
    SetTeam(commands::user::SetTeamArgs),
    /// Stop a user from signing in; ends their sessions at once.
    Deactivate(commands::user::EmailArgs),
    /// Let a deactivated user sign in again.
    Reactivate(commands::user::EmailArgs),
}

fn init_tracing(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KEEL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.log_format);
    let result = match cli.command {
        Command::Serve(args) => commands::serve::run(&cli.database_url, *args).await,
        Command::Migrate => commands::migrate(&cli.database_url).await,
        Command::Seed(args) => commands::seed::run(&cli.database_url, args).await,
        Command::User(UserArgs { command }) => match command {
            UserCommand::Create(args) => commands::user::create(&cli.database_url, args).await,
            UserCommand::List => commands::user::list(&cli.database_url).await,
            UserCommand::SetRole(args) => commands::user::set_role(&cli.database_url, args).await,
            UserCommand::SetTeam(args) => commands::user::set_team(&cli.database_url, args).await,
            UserCommand::Deactivate(args) => commands::user::set_active(&cli.database_url, args, false).await,
            UserCommand::Reactivate(args) => commands::user::set_active(&cli.database_url, args, true).await,
        },
        Command::Audit(args) => commands::audit::run(&cli.database_url, args).await,
        Command::Import(args) => commands::import::run(&cli.database_url, args).await,
        Command::Mcp(args) => commands::mcp::run(&cli.database_url, args).await,
        Command::GraphqlSchema => match keel_api::graphql::sdl(&keel_domain::schema::builtin_schema()) {
            Ok(sdl) => {
                print!("{sdl}");
                Ok(())
            }
            Err(e) => Err(anyhow::anyhow!("the GraphQL schema does not build: {e}")),
        },
        Command::Version => {
            println!("keel {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
