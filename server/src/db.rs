//! Connecting to the store and bringing its schema up to date.
use anyhow::Context;
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};

/// When a SQLite commit is on disk (`FLOWGATE_SQLITE_SYNC`); PostgreSQL has its own
/// `synchronous_commit`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SqliteSync {
    /// `synchronous=NORMAL` in WAL mode (the default, as SQLite recommends for WAL): a commit
    /// does not wait for the disk. A process that crashes or is killed loses nothing; a power
    /// cut or an operating-system crash can lose the transactions of the last moment, never the
    /// file's consistency.
    #[default]
    Normal,
    /// `synchronous=FULL`: every commit waits for the write-ahead log to reach the disk (an
    /// fsync per transaction: several milliseconds on most disks).
    Full,
}

/// Connects, prepares SQLite (parent folder, WAL, `sync`), and runs every pending migration.
/// A failed migration is an error: the server must not start on a half-migrated schema.
pub async fn connect_and_migrate(
    url: &str,
    sync: SqliteSync,
) -> anyhow::Result<DatabaseConnection> {
    if let Some(path) = sqlite_file(url) {
        create_parent(path)?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false);
    let level = match sync {
        SqliteSync::Normal => sea_orm::sqlx::sqlite::SqliteSynchronous::Normal,
        SqliteSync::Full => sea_orm::sqlx::sqlite::SqliteSynchronous::Full,
    };
    options.map_sqlx_sqlite_opts(move |o| o.synchronous(level));
    let db = Database::connect(options)
        .await
        .with_context(|| format!("cannot connect to {}", crate::config::redact_url(url)))?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL lets readers proceed while a write is in progress; the setting persists in the file.
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    Migrator::up(&db, None)
        .await
        .context("database migration failed")?;
    Ok(db)
}

/// Read-only connections alongside `db` (the store's one writer on SQLite), for reads that need
/// no transaction: the data of queued trigger runs. On a SQLite file, a pool of up to `readers`
/// read-only connections: in WAL mode they read the committed state while the writer writes, so
/// background work does not queue its reads behind (or ahead of) requests on the one writing
/// connection. Elsewhere (PostgreSQL's pool, an in-memory SQLite) the same pool as `db`.
pub async fn connect_readers(
    url: &str,
    db: &DatabaseConnection,
    readers: u32,
) -> anyhow::Result<DatabaseConnection> {
    if sqlite_file(url).is_none() || readers == 0 {
        return Ok(db.clone());
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .min_connections(0)
        .max_connections(readers)
        .map_sqlx_sqlite_opts(|o| o.read_only(true));
    Database::connect(options)
        .await
        .with_context(|| format!("cannot open {} for reading", crate::config::redact_url(url)))
}

/// The folder of the SQLite file at `path`, created if missing.
fn create_parent(path: &str) -> anyhow::Result<()> {
    if let Some(parent) = std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the database folder {}", parent.display()))?;
    }
    Ok(())
}

/// Held while a process migrates and sets up the store, so processes started together on one
/// database do it one after the other (the later ones find it done).
pub enum StartupLock {
    /// An exclusive lock on `<file>.startup-lock` beside a SQLite file.
    File(std::fs::File),
    /// A session advisory lock, on a PostgreSQL connection of its own.
    Postgres(DatabaseConnection),
    /// Nothing to share (an in-memory database).
    None,
}

/// The advisory lock's key ("Flowgate start-up").
const STARTUP_LOCK_KEY: i64 = 0x466c_6f77_6761_7465;

impl StartupLock {
    /// Waits for the lock of the store at `url`.
    pub async fn acquire(url: &str) -> anyhow::Result<Self> {
        if let Some(path) = sqlite_file(url) {
            create_parent(path)?;
            let path = format!("{path}.startup-lock");
            let file = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)?;
                file.lock()?;
                Ok(file)
            })
            .await?
            .context("cannot lock the database's start-up lock file")?;
            return Ok(Self::File(file));
        }
        if !url.starts_with("postgres") {
            return Ok(Self::None);
        }
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .sqlx_logging(false)
            .min_connections(1)
            .max_connections(1);
        let conn = Database::connect(options)
            .await
            .with_context(|| format!("cannot connect to {}", crate::config::redact_url(url)))?;
        conn.execute_unprepared(&format!("SELECT pg_advisory_lock({STARTUP_LOCK_KEY})"))
            .await
            .context("cannot take the start-up lock")?;
        Ok(Self::Postgres(conn))
    }

    /// Lets the next process start (closing the lock's connection ends its session and lock;
    /// dropping the file unlocks it).
    pub async fn release(self) {
        if let Self::Postgres(conn) = self {
            conn.close().await.ok();
        }
    }
}

/// The file path of a `sqlite://path?…` URL, if it names a file.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn readers_see_committed_writes_and_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("f.db").display());
        let db = connect_and_migrate(&url, SqliteSync::Normal).await.unwrap();
        let readers = connect_readers(&url, &db, 2).await.unwrap();
        db.execute_unprepared("CREATE TABLE t (v INTEGER)")
            .await
            .unwrap();
        db.execute_unprepared("INSERT INTO t VALUES (42)")
            .await
            .unwrap();
        let read = || async {
            let row = readers
                .query_one_raw(sea_orm::Statement::from_string(
                    DbBackend::Sqlite,
                    "SELECT max(v) AS v FROM t",
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get::<i32>("", "v").unwrap()
        };
        assert_eq!(read().await, 42);
        // While the writer is inside a transaction, readers see the last commit, at once.
        use sea_orm::TransactionTrait;
        let txn = db.begin().await.unwrap();
        txn.execute_unprepared("INSERT INTO t VALUES (43)")
            .await
            .unwrap();
        let during = tokio::time::timeout(std::time::Duration::from_secs(1), read())
            .await
            .expect("a reader does not wait for the writer");
        assert_eq!(during, 42);
        txn.commit().await.unwrap();
        assert_eq!(read().await, 43);
        assert!(
            readers
                .execute_unprepared("INSERT INTO t VALUES (1)")
                .await
                .is_err(),
            "the readers are read-only"
        );

        // An in-memory store has no file to share: the readers are its own pool.
        let memory = connect_and_migrate("sqlite::memory:", SqliteSync::Normal)
            .await
            .unwrap();
        let same = connect_readers("sqlite::memory:", &memory, 2)
            .await
            .unwrap();
        memory
            .execute_unprepared("CREATE TABLE m (v INTEGER)")
            .await
            .unwrap();
        assert!(same
            .execute_unprepared("INSERT INTO m VALUES (1)")
            .await
            .is_ok());
    }

    #[test]
    fn sqlite_paths_are_found() {
        assert_eq!(
            sqlite_file("sqlite://data/flowgate.db?mode=rwc"),
            Some("data/flowgate.db")
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x@y/z"), None);
    }
}
