//! `passnum backup` and `passnum restore`: a copy of the books that restores, and a restore that
//! proves it did (the ledger checks, the counts, the signing keys); `passnum audit verify`.
//!
//! SQLite: a consistent online copy (`VACUUM INTO`), restored by copying it next to the target
//! and renaming it once it is checked, so a refused file leaves the target untouched.
//! PostgreSQL: `pg_dump` in custom format, restored by `pg_restore` in one transaction into an
//! empty database (anything wrong rolls it all back).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use passnum_core::signature::{KeyId, VerifyingKey};
use passnum_store::backup::{check_schema, inspect_sqlite_backup, postgres_is_empty};
use passnum_store::{Engine, Store, StoreOptions, engine_of, normalize_url, sqlite_file};

use crate::ctx::Ctx;

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
const PG_DUMP_MAGIC: &[u8] = b"PGDMP";

fn database_url(ctx: &Ctx) -> String {
    normalize_url(ctx.database_url.as_deref().unwrap_or("passnum.db"))
}

pub async fn backup(ctx: &Ctx, out: &Path) -> anyhow::Result<()> {
    let url = database_url(ctx);
    let started = Instant::now();
    match engine_of(&url)? {
        Engine::Sqlite => {
            let store = ctx.store().await?;
            store.sqlite_backup_into(out).await?;
            store.close().await;
        }
        Engine::Postgres => {
            // Created first, readable by its owner only: pg_dump writes into it and keeps
            // that mode (the archive holds password hashes, IBANs and household hashes).
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options.open(out).with_context(|| {
                format!(
                    "le fichier {} ne peut pas être créé : choisissez un fichier qui n'existe pas encore",
                    out.display()
                )
            })?;
            let status = Command::new("pg_dump")
                .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
                .arg(out)
                .arg(&url)
                .status()
                .map_err(|_| {
                    let _ = std::fs::remove_file(out);
                    missing("pg_dump")
                })?;
            if !status.success() {
                let _ = std::fs::remove_file(out);
                bail!("pg_dump a échoué (voir son message ci-dessus) : aucune sauvegarde écrite");
            }
        }
    }
    let size = std::fs::metadata(out)?.len();
    println!(
        "Sauvegarde écrite : {} ({:.1} Mo en {:.1} s). Gardez aussi une copie des fichiers de clés (signature, foyers).",
        out.display(),
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn missing(tool: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{tool} est introuvable : installez le client PostgreSQL (paquet postgresql-client, de la même version majeure que le serveur ou plus récente), puis recommencez"
    )
}

/// Which engine a backup file is for, from its first bytes.
fn kind_of(file: &Path) -> anyhow::Result<Engine> {
    let mut head = [0u8; 16];
    let n = std::io::Read::read(
        &mut std::fs::File::open(file).with_context(|| format!("lecture de {}", file.display()))?,
        &mut head,
    )?;
    if head[..n].starts_with(SQLITE_MAGIC) {
        Ok(Engine::Sqlite)
    } else if head[..n].starts_with(PG_DUMP_MAGIC) {
        Ok(Engine::Postgres)
    } else {
        bail!(
            "{} n'est pas une sauvegarde passnum (ni une base SQLite, ni une archive pg_dump) : rien n'a été restauré",
            file.display()
        )
    }
}

pub async fn restore(file: &Path, into: &str, check: bool) -> anyhow::Result<()> {
    let target = normalize_url(into);
    let (kind, engine) = (kind_of(file)?, engine_of(&target)?);
    let started = Instant::now();
    let done = match (kind, engine) {
        (Engine::Sqlite, Engine::Sqlite) => restore_sqlite(file, &target).await?,
        (Engine::Postgres, Engine::Postgres) => restore_postgres(file, &target).await?,
        (Engine::Sqlite, Engine::Postgres) => bail!(
            "ce fichier est une sauvegarde SQLite : restaurez-la dans un fichier (--into passnum.db), pas dans PostgreSQL ; rien n'a été restauré"
        ),
        (Engine::Postgres, Engine::Sqlite) => bail!(
            "ce fichier est une archive PostgreSQL (pg_dump) : restaurez-la dans une base PostgreSQL vide (--into postgres://…) ; rien n'a été restauré"
        ),
    };
    println!("{done}");
    println!(
        "Restauration faite en {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    if check {
        let store = Store::connect(&target, StoreOptions::default())
            .await
            .context("ouverture de la base restaurée")?;
        let report = verify(&store).await;
        store.close().await;
        let report = report?;
        report.print();
        if !report.findings.is_empty() {
            bail!("la base restaurée ne passe pas les vérifications (voir ci-dessus)");
        }
    }
    Ok(())
}

/// Restores a SQLite backup into the file `target` names; says what it did.
pub(crate) async fn restore_sqlite(file: &Path, target: &str) -> anyhow::Result<String> {
    let path = sqlite_file(target).context("restaurez dans un fichier SQLite, pas en mémoire")?;
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
        bail!(
            "{} existe déjà : restaurez dans un fichier qui n'existe pas encore (rien n'a été touché)",
            path.display()
        );
    }
    let backup = inspect_sqlite_backup(file).await?;
    // Copied beside the target, then renamed: the target appears whole or not at all.
    let partial = partial_path(&path);
    let copied =
        std::fs::copy(file, &partial).with_context(|| format!("copie vers {}", partial.display()));
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    #[cfg(unix)]
    std::fs::set_permissions(
        &partial,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )?;
    std::fs::rename(&partial, &path)?;
    Ok(format!(
        "Base SQLite restaurée dans {} (migration {} de la sauvegarde ; les suivantes s'appliquent à l'ouverture).",
        path.display(),
        backup.schema
    ))
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".restauration-en-cours");
    path.with_file_name(name)
}

async fn restore_postgres(file: &Path, target: &str) -> anyhow::Result<String> {
    if !postgres_is_empty(target).await? {
        bail!(
            "la base cible n'est pas vide : restaurez dans une base neuve (createdb), rien n'a été touché"
        );
    }
    // The schema version, read from the archive itself before anything is written.
    let listing = Command::new("pg_restore")
        .args(["--data-only", "--table=schema_migrations", "--file=-"])
        .arg(file)
        .output()
        .map_err(|_| missing("pg_restore"))?;
    if !listing.status.success() {
        bail!(
            "cette archive est incomplète ou abîmée ({}) : reprenez une autre sauvegarde ; rien n'a été restauré",
            String::from_utf8_lossy(&listing.stderr).trim()
        );
    }
    let schema = schema_of_dump(&String::from_utf8_lossy(&listing.stdout))
        .context("cette archive ne contient pas de base passnum (pas de table des migrations)")?;
    check_schema(schema, Engine::Postgres)?;
    let out = Command::new("pg_restore")
        .args([
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
        ])
        .arg(target)
        .arg(file)
        .output()
        .map_err(|_| missing("pg_restore"))?;
    if !out.status.success() {
        bail!(
            "pg_restore a échoué ({}) ; la restauration était une seule transaction : la base cible est restée vide",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(format!(
        "Base PostgreSQL restaurée (migration {schema} de la sauvegarde)."
    ))
}

/// The newest version in the `COPY schema_migrations … FROM stdin;` block of a data-only dump.
fn schema_of_dump(sql: &str) -> Option<i64> {
    let block = sql.split("COPY public.schema_migrations").nth(1)?;
    block
        .lines()
        .skip(1)
        .take_while(|l| *l != "\\.")
        .filter_map(|l| l.split('\t').next()?.parse::<i64>().ok())
        .max()
}

/// What a restored database holds, and what disagrees in it (nothing, when it is sound).
pub(crate) struct Report {
    pub counts: Vec<(&'static str, i64)>,
    pub findings: Vec<String>,
}

impl Report {
    fn print(&self) {
        for (label, n) in &self.counts {
            println!("  {label} : {n}");
        }
        for f in &self.findings {
            println!("  ÉCART : {f}");
        }
        if self.findings.is_empty() {
            println!(
                "Vérifiée : balance équilibrée, chaque compte et chaque chèque concordent avec les écritures, les compteurs et les financements aussi, les clés de signature et le journal d'audit sont intègres."
            );
        }
    }
}

/// The counts, the books' checks and the signing keys of a restored database.
pub(crate) async fn verify(store: &Store) -> anyhow::Result<Report> {
    let counts = store.table_counts().await?;
    let mut findings = crate::ledger::books_findings(store).await?;
    for k in store.signing_keys().await? {
        let genuine = VerifyingKey::from_bytes(&k.public_key)
            .is_ok_and(|key| KeyId::of(&key).as_str() == k.kid.as_str());
        if !genuine {
            findings.push(format!(
                "Clé de signature {} : la clé publique ne correspond pas à son identifiant",
                k.kid.as_str()
            ));
        }
    }
    if let passnum_store::AuditVerdict::Broken { line, why } = store.verify_audit().await? {
        findings.push(format!("Journal d'audit : ligne {line}, {why}"));
    }
    Ok(Report { counts, findings })
}

#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Check every line of the audit trail against the one before and its own hash, and the
    /// head; prints the head hash to keep outside the database. Exit 1 when a line does not hold.
    Verify,
}

pub async fn audit(ctx: &Ctx, command: AuditCommand) -> anyhow::Result<()> {
    let AuditCommand::Verify = command;
    let store = ctx.store().await?;
    let verdict = report_audit(&store).await;
    store.close().await;
    verdict?;
    println!(
        "Notez cette empreinte hors de la base : une réécriture complète du journal la changerait."
    );
    Ok(())
}

/// Checks the audit trail and prints its head; an error names the first line that does not
/// hold (`passnum audit verify`, `passnum jobs run`).
pub async fn report_audit(store: &Store) -> anyhow::Result<()> {
    match store.verify_audit().await? {
        passnum_store::AuditVerdict::Intact { lines, head } => {
            println!("Journal d'audit intact : {lines} lignes, empreinte de tête {head}.");
            Ok(())
        }
        passnum_store::AuditVerdict::Broken { line, why } => {
            bail!("journal d'audit altéré à la ligne {line} : {why}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_version_is_read_from_a_data_only_dump() {
        let sql = "SET x;\nCOPY public.schema_migrations (version, applied_at) FROM stdin;\n1\t10\n24\t11\n3\t12\n\\.\n\n";
        assert_eq!(schema_of_dump(sql), Some(24));
        assert_eq!(schema_of_dump("SET x;\n"), None);
    }
}
