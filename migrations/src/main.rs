//! `migrations [up|down|status|fresh]`: runs Flowgate's migrations against
//! `FLOWGATE_DATABASE_URL` (default `sqlite://data/flowgate.db?mode=rwc`).
//!
//! The server runs `up` itself at start-up; this tool is for operators.
use migrations::Migrator;
use sea_orm_migration::{prelude::*, sea_orm::Database};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let url = std::env::var("FLOWGATE_DATABASE_URL")
        .unwrap_or_else(|_| "sqlite://data/flowgate.db?mode=rwc".to_owned());
    let command = std::env::args().nth(1).unwrap_or_else(|| "up".to_owned());
    match run(&url, &command).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("migrations: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(url: &str, command: &str) -> Result<(), String> {
    let db = Database::connect(url)
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
    let result = match command {
        "up" => Migrator::up(&db, None).await,
        "down" => Migrator::down(&db, Some(1)).await,
        "fresh" => Migrator::fresh(&db).await,
        "status" => Migrator::status(&db).await,
        other => {
            return Err(format!(
                "unknown command `{other}` (up, down, status, fresh)"
            ))
        }
    };
    result.map_err(|e| e.to_string())
}
