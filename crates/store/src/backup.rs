//! Backups as the store sees them: a consistent copy of a SQLite database taken while servers
//! run, and what a backup file holds before it is restored (is it whole, which schema).
//! PostgreSQL backups are `pg_dump` archives, handled by the command line.

use std::path::Path;

use sqlx::Connection;

use crate::{Engine, Store, StoreError, migrate};

/// What a SQLite backup file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SqliteBackup {
    /// The newest migration applied in it.
    pub schema: i64,
}

impl Store {
    /// Writes a consistent copy of this SQLite database to `out` (`VACUUM INTO`: one read
    /// transaction, so servers keep redeeming meanwhile), readable by its owner only. `out`
    /// must not exist.
    pub async fn sqlite_backup_into(&self, out: &Path) -> Result<(), StoreError> {
        if self.engine() != Engine::Sqlite {
            return Err(StoreError::Config(
                "cette base est PostgreSQL : sa sauvegarde se fait avec pg_dump".into(),
            ));
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(out).map_err(|e| {
            StoreError::Config(format!(
                "le fichier de sauvegarde {} ne peut pas être créé ({e}) : choisissez un fichier qui n'existe pas encore",
                out.display()
            ))
        })?;
        let path = out.to_string_lossy().to_string();
        let result = sqlx::query("VACUUM INTO $1")
            .bind(path)
            .execute(self.pool())
            .await;
        if let Err(e) = result {
            let _ = std::fs::remove_file(out);
            return Err(e.into());
        }
        Ok(())
    }
}

/// Opens a SQLite backup read-only and checks it is whole (every page readable and consistent)
/// and made by this version of passnum or an older one.
pub async fn inspect_sqlite_backup(path: &Path) -> Result<SqliteBackup, StoreError> {
    sqlx::any::install_default_drivers();
    let broken = |why: String| StoreError::Invalid {
        code: "backup_damaged",
        message: format!(
            "Ce fichier de sauvegarde est incomplet ou abîmé ({why}) : reprenez une autre sauvegarde."
        ),
    };
    let url = format!("sqlite://{}?mode=ro", path.display());
    let mut conn = sqlx::AnyConnection::connect(&url)
        .await
        .map_err(|e| broken(e.to_string()))?;
    let verdict: Vec<String> = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_all(&mut conn)
        .await
        .map_err(|e| broken(e.to_string()))?;
    if verdict != ["ok"] {
        return Err(broken(verdict.join(" ; ")));
    }
    let schema: Option<i64> =
        sqlx::query_scalar("SELECT CAST(MAX(version) AS BIGINT) FROM schema_migrations")
            .fetch_one(&mut conn)
            .await
            .map_err(|_| StoreError::Invalid {
                code: "backup_not_passnum",
                message:
                    "Ce fichier SQLite n'est pas une base passnum (pas de table des migrations)."
                        .into(),
            })?;
    let schema = schema.unwrap_or(0);
    check_schema(schema, Engine::Sqlite)?;
    Ok(SqliteBackup { schema })
}

/// Refuses a backup made by a newer passnum: this one cannot know what its schema means.
pub fn check_schema(schema: i64, engine: Engine) -> Result<(), StoreError> {
    let head = migrate::head(engine);
    if schema > head {
        return Err(StoreError::Invalid {
            code: "backup_from_newer_version",
            message: format!(
                "Cette sauvegarde vient d'une version plus récente de passnum (migration {schema} ; celle-ci connaît jusqu'à {head}) : restaurez-la avec cette version ou une plus récente."
            ),
        });
    }
    Ok(())
}

/// Whether the PostgreSQL database at `url` has no table yet (a restore goes only there).
pub async fn postgres_is_empty(url: &str) -> Result<bool, StoreError> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(&mut conn)
    .await?;
    Ok(tables == 0)
}

impl Store {
    /// Rows of the tables an auditor recounts after a restore.
    pub async fn table_counts(&self) -> Result<Vec<(&'static str, i64)>, StoreError> {
        let mut out = vec![];
        for (label, sql) in [
            ("commanditaires", "SELECT COUNT(*) FROM funders"),
            ("commandes", "SELECT COUNT(*) FROM orders"),
            ("carnets", "SELECT COUNT(*) FROM booklets"),
            ("chèques", "SELECT COUNT(*) FROM cheques"),
            ("encaissements", "SELECT COUNT(*) FROM redemptions"),
            ("lieux", "SELECT COUNT(*) FROM venues"),
            ("virements aux lieux", "SELECT COUNT(*) FROM payment_runs"),
            ("écritures", "SELECT COUNT(*) FROM transfers"),
            ("comptes du personnel", "SELECT COUNT(*) FROM staff"),
            (
                "lignes du journal d'audit",
                "SELECT COUNT(*) FROM audit_log",
            ),
        ] {
            out.push((label, sqlx::query_scalar(sql).fetch_one(self.pool()).await?));
        }
        Ok(out)
    }
}
