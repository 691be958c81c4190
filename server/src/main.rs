//! Flowgate's server binary.
//!
//! `server` serves the application; `server user-key <email>` prints a new API key for an
//! existing user (like MISP's `cake user change_authkey`).
use std::time::Duration;

use anyhow::Context;
use app::backend::services::{auth, bootstrap};
use app::backend::session_store::DbSessionStore;
use app::backend::state::LoginThrottle;
use app::backend::store::users;
use app::backend::AppState;
use leptos::config::get_configuration;
use server::config::Config;
use server::{build_router, db, spawn_session_cleanup, RouterOptions};
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: server [serve | user-key <email>]";

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The mimalloc option that decides how freed memory is given back, and the value Flowgate runs
/// with: reset (`MADV_FREE`: the pages stay mapped until the kernel needs them) rather than
/// decommitted (`MADV_DONTNEED`: they go at once). A large event's buffers (its body, the
/// webhook's document, several MB each) are freed after every run and allocated again by the
/// next; decommitted, each new buffer was faulted in page by page, which on the benchmark VM now
/// and then took 30–50 ms for one document and made the tail of one-connection latency at 10,000
/// attributes 2–5× its median (README, Performance).
const PURGE_DECOMMITS: (&str, &str) = ("MIMALLOC_PURGE_DECOMMITS", "0");

/// mimalloc reads its options from the environment when the process starts, before `main`, and
/// the project forbids unsafe code (mimalloc's `mi_option_set` is a C call), so the server
/// starts itself again, same pid and arguments, with the option in its environment. When the
/// variable is already set, its value decides; when the new start fails, the server goes on
/// with mimalloc's defaults.
fn with_allocator_options() {
    use std::os::unix::process::CommandExt;
    let (name, value) = PURGE_DECOMMITS;
    if std::env::var_os(name).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    let error = command.args(args).env(name, value).exec();
    eprintln!("could not start again with {name}={value} ({error}); going on without it");
}

fn main() -> std::process::ExitCode {
    with_allocator_options();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("could not start the async runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("server=info,app=info,tower_http=info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["serve"] => serve().await,
        ["user-key", email] => user_key(email).await,
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(anyhow::anyhow!(USAGE)),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    tracing::info!(?config, "starting Flowgate");
    // Processes started together on one database migrate and set it up one at a time.
    let startup = db::StartupLock::acquire(&config.database_url).await?;
    let db = db::connect_and_migrate(&config.database_url, config.sqlite_sync).await?;
    let seed = bootstrap::AdminSeed {
        email: config.admin_email.clone(),
        password: config.admin_password.clone(),
        api_key: config.admin_api_key.clone(),
        host_org_name: config.host_org.clone(),
    };
    let created = bootstrap::ensure_initial_data(&db, &seed)
        .await
        .map_err(|e| anyhow::anyhow!("first-start set-up failed: {e}"))?;
    startup.release().await;
    if let Some(email) = &created.admin_created {
        match &created.generated_password {
            Some(password) => tracing::warn!(
                "created site admin {email} with the generated password {password} \
                 (shown once; change it after logging in, or set FLOWGATE_ADMIN_PASSWORD before the first start)"
            ),
            None => tracing::info!("created site admin {email} with the password from FLOWGATE_ADMIN_PASSWORD"),
        }
    }

    // Computed now so the first login for an unknown address costs what any other login costs.
    app::backend::password::decoy_hash_blocking().await.ok();
    let leptos = get_configuration(None).context("reading the Leptos configuration")?;
    let mut leptos_options = leptos.leptos_options;
    leptos_options.site_addr = config.addr;
    let max_chain_depth = match std::env::var("FLOWGATE_WORKFLOW_MAX_DEPTH") {
        Ok(v) if !v.trim().is_empty() => Some(
            v.trim()
                .parse::<u8>()
                .context("FLOWGATE_WORKFLOW_MAX_DEPTH must be a number from 0 to 255")?,
        ),
        _ => None,
    };
    let runtime_options = app::backend::runtime::RuntimeOptions {
        execution_log: Some(config.log_dir.join("workflow-execution.log")),
        max_chain_depth,
        max_job_attempts: Some(config.job_max_attempts),
    };
    let workflows = app::backend::runtime::WorkflowRuntime::start(&db, runtime_options)
        .await
        .map_err(|e| anyhow::anyhow!("workflow engine start-up failed: {e}"))?;
    // The job workers' reads; as many connections as workers.
    let readers = u32::try_from(config.workers).unwrap_or(u32::MAX);
    let read_db = db::connect_readers(&config.database_url, &db, readers).await?;
    let state = AppState {
        db: db.clone(),
        read_db,
        workflows: std::sync::Arc::new(workflows),
        leptos_options: std::sync::Arc::new(leptos_options),
        login_throttle: LoginThrottle::default(),
        principals: Default::default(),
    };
    app::backend::services::zmq::bind_if_enabled(&state).await;
    app::backend::services::action_modules::refresh_in_background(&state);
    let log_hook = server::spawn_log_hook(state.clone(), Duration::from_millis(250));
    let runtime = state.workflows.clone();
    let workers = (config.workers > 0).then(|| {
        app::backend::jobs::Workers::start(
            state.clone(),
            app::backend::jobs::JobOptions {
                workers: config.workers,
                max_attempts: config.job_max_attempts,
                lease: Duration::from_secs(config.job_lease_secs),
                ..Default::default()
            },
        )
    });
    let router = build_router(
        state,
        RouterOptions {
            cookie_secure: config.cookie_secure,
            max_body_bytes: config.max_body_mb * 1024 * 1024,
            inflight_bytes: config.inflight_mb * 1024 * 1024,
        },
    );
    let cleanup = spawn_session_cleanup(DbSessionStore::new(db.clone()), Duration::from_secs(3600));
    let prune = server::spawn_run_log_prune(db.clone(), Duration::from_secs(3600));

    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    tracing::info!(
        "Flowgate listens on http://{}: log in at http://{}/users/login as {}",
        config.addr,
        config.addr,
        config.admin_email
    );
    // Answers go out as soon as they are written, not held back by Nagle's algorithm waiting
    // for the client's delayed ACK.
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("server error")?;
    // Running jobs get their grace period; the rest go back to the queue for another process.
    if let Some(workers) = workers {
        workers.shutdown().await;
    }
    // Answered runs whose log rows are still queued are written before the store closes.
    runtime.runs.settle().await;
    cleanup.abort();
    prune.abort();
    log_hook.abort();
    db.close().await.ok();
    tracing::info!("stopped");
    Ok(())
}

/// `server user-key <email>`: a new API key for an existing user, printed on stdout.
async fn user_key(email: &str) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let startup = db::StartupLock::acquire(&config.database_url).await?;
    let db = db::connect_and_migrate(&config.database_url, config.sqlite_sync).await?;
    startup.release().await;
    let user = users::find_user_by_email(&db, email)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| anyhow::anyhow!("no user with the e-mail address {email}"))?;
    let key = auth::create_authkey(&db, user.id, "created with `server user-key`", false)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // The one place the binary writes to stdout: the key is the command's output.
    use std::io::Write;
    writeln!(std::io::stdout(), "{}", key.authkey)?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received");
}
