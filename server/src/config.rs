//! Configuration from the environment. Every setting has a working default except secrets.
use std::net::SocketAddr;

use anyhow::Context;

/// Flowgate's settings; Leptos reads its own `LEPTOS_*` variables separately.
#[derive(Clone)]
pub struct Config {
    /// `FLOWGATE_DATABASE_URL`: `sqlite://…?mode=rwc` (default) or `postgres://…`.
    pub database_url: String,
    /// `FLOWGATE_ADDR`: where to listen.
    pub addr: SocketAddr,
    /// `FLOWGATE_ADMIN_EMAIL`: the first site admin, created at first start.
    pub admin_email: String,
    /// `FLOWGATE_ADMIN_PASSWORD`: that admin's password; generated and logged once if unset.
    pub admin_password: Option<String>,
    /// `FLOWGATE_ADMIN_API_KEY`: a 40-character key given to that admin at first start.
    pub admin_api_key: Option<String>,
    /// `FLOWGATE_HOST_ORG`: name of the host organisation created at first start.
    pub host_org: String,
    /// `FLOWGATE_COOKIE_SECURE`: mark the session cookie `Secure` (default true; browsers
    /// accept it on http://127.0.0.1 and http://localhost too).
    pub cookie_secure: bool,
    /// `FLOWGATE_LOG_DIR`: where `workflow-execution.log` is written (default `data/logs`).
    pub log_dir: std::path::PathBuf,
    /// `FLOWGATE_MAX_BODY_MB`: largest request body accepted, in MiB (default 64).
    pub max_body_mb: usize,
    /// `FLOWGATE_INFLIGHT_MB`: request bodies handled at once, in MiB (default 16); more wait.
    pub inflight_mb: usize,
    /// `FLOWGATE_WORKERS`: queued jobs this process runs at once (default 2, 0 runs none: the
    /// process only serves requests and queues jobs for the others).
    pub workers: usize,
    /// `FLOWGATE_JOB_MAX_ATTEMPTS`: attempts of a job before it is dead (default 3).
    pub job_max_attempts: i32,
    /// `FLOWGATE_JOB_LEASE_SECS`: how long a job stays its worker's without a heartbeat, so how
    /// soon the job of a process that died runs elsewhere (default 30, at least 3).
    pub job_lease_secs: u64,
    /// `FLOWGATE_SQLITE_SYNC`: `normal` (default) or `full`, see [`crate::db::SqliteSync`].
    pub sqlite_sync: crate::db::SqliteSync,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/flowgate.db?mode=rwc";

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let addr = var("FLOWGATE_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into());
        let cookie_secure = match var("FLOWGATE_COOKIE_SECURE").as_deref() {
            None => true,
            Some("1" | "true" | "yes") => true,
            Some("0" | "false" | "no") => false,
            Some(other) => {
                anyhow::bail!("FLOWGATE_COOKIE_SECURE must be true or false, not `{other}`")
            }
        };
        let sqlite_sync = match var("FLOWGATE_SQLITE_SYNC").as_deref() {
            None | Some("normal") => crate::db::SqliteSync::Normal,
            Some("full") => crate::db::SqliteSync::Full,
            Some(other) => {
                anyhow::bail!("FLOWGATE_SQLITE_SYNC must be normal or full, not `{other}`")
            }
        };
        Ok(Self {
            sqlite_sync,
            database_url: var("FLOWGATE_DATABASE_URL")
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.into()),
            addr: addr.parse().with_context(|| {
                format!("FLOWGATE_ADDR `{addr}` is not an address like 127.0.0.1:3000")
            })?,
            admin_email: var("FLOWGATE_ADMIN_EMAIL").unwrap_or_else(|| "admin@admin.test".into()),
            admin_password: var("FLOWGATE_ADMIN_PASSWORD"),
            admin_api_key: var("FLOWGATE_ADMIN_API_KEY"),
            host_org: var("FLOWGATE_HOST_ORG").unwrap_or_else(|| "ORGNAME".into()),
            cookie_secure,
            log_dir: var("FLOWGATE_LOG_DIR")
                .unwrap_or_else(|| "data/logs".into())
                .into(),
            max_body_mb: mib_var("FLOWGATE_MAX_BODY_MB", crate::DEFAULT_MAX_BODY_MB, 4096)?,
            inflight_mb: mib_var("FLOWGATE_INFLIGHT_MB", crate::DEFAULT_INFLIGHT_MB, 65536)?,
            workers: count_var("FLOWGATE_WORKERS", 2, 0, 256)?,
            job_max_attempts: i32::try_from(count_var("FLOWGATE_JOB_MAX_ATTEMPTS", 3, 1, 100)?)
                .unwrap_or(3),
            job_lease_secs: count_var("FLOWGATE_JOB_LEASE_SECS", 30, 3, 3600)? as u64,
        })
    }
}

// Hand-written so that secrets never reach a log line.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("addr", &self.addr)
            .field("admin_email", &self.admin_email)
            .field(
                "admin_password",
                &self.admin_password.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "admin_api_key",
                &self.admin_api_key.as_ref().map(|_| "[redacted]"),
            )
            .field("host_org", &self.host_org)
            .field("cookie_secure", &self.cookie_secure)
            .field("log_dir", &self.log_dir)
            .field("max_body_mb", &self.max_body_mb)
            .field("inflight_mb", &self.inflight_mb)
            .field("workers", &self.workers)
            .field("job_max_attempts", &self.job_max_attempts)
            .field("job_lease_secs", &self.job_lease_secs)
            .field("sqlite_sync", &self.sqlite_sync)
            .finish()
    }
}

/// The URL with any password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// A count from environment variable `name`: `default` when unset, else `min` to `max`.
fn count_var(name: &str, default: usize, min: usize, max: usize) -> anyhow::Result<usize> {
    match std::env::var(name).ok().filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .with_context(|| format!("{name} must be a number from {min} to {max}, not `{v}`")),
    }
}

/// A size in MiB from environment variable `name`: `default` when unset, else 1 to `max`.
fn mib_var(name: &str, default: usize, max: usize) -> anyhow::Result<usize> {
    match std::env::var(name).ok().filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .with_context(|| format!("{name} must be a number of MiB from 1 to {max}, not `{v}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://flow:s3cret@db:5432/flowgate"),
            "postgres://flow:***@db:5432/flowgate"
        );
        assert_eq!(
            redact_url("sqlite://data/flowgate.db?mode=rwc"),
            "sqlite://data/flowgate.db?mode=rwc"
        );
    }
}
