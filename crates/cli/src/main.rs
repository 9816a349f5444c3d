//! `passnum`: run a Pass Numérique programme. Each command lives in its own module; this file
//! reads the command line and hands each command the shared [`ctx::Ctx`].

mod accounts;
mod backup;
mod bench;
mod ctx;
pub mod demo;
mod distribution;
mod funders;
mod ledger;
mod mail;
mod observers;
mod opendata;
mod orders;
mod payments;
mod publics;
mod serve;
mod services;
mod territories;
mod venues;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use ctx::Ctx;
pub(crate) use ctx::now;

/// passnum runs a Pass Numérique programme: funders' orders, cheques, venues, redemptions and
/// the double-entry ledger that pays every cheque exactly once.
#[derive(Parser)]
#[command(name = "passnum", version, about, long_about = None)]
struct Cli {
    /// Database: a SQLite file (`passnum.db`, `sqlite://chemin.db`) or `postgres://…`.
    /// Defaults to `passnum.db` (`passnum-demo.db` for `demo`).
    #[arg(long, global = true, env = "DATABASE_URL")]
    database_url: Option<String>,

    /// File holding this server's secret key that signs the QR codes of printed cheques
    /// (created on first use, readable by its owner only; never stored in the database).
    #[arg(
        long,
        global = true,
        env = "PASSNUM_SIGNING_KEY",
        default_value = "passnum-signing.key"
    )]
    signing_key: std::path::PathBuf,

    /// File holding the instance's secret for household hashes (one booklet per household).
    /// Created on first use; every server sharing a database needs a copy of the same file.
    #[arg(
        long,
        global = true,
        env = "PASSNUM_HOUSEHOLD_KEY",
        default_value = "passnum-household.key"
    )]
    household_key: std::path::PathBuf,

    /// Public address of this instance, printed on booklets and letters ("where to find
    /// venues": <address>/lieux).
    /// Links in pages and password e-mails are built from it, never from the request's Host.
    /// Default: `http://` + the listening address for `serve` and `demo`,
    /// `http://localhost:8080` elsewhere.
    #[arg(long, global = true, env = "PASSNUM_PUBLIC_URL")]
    public_url: Option<String>,

    /// Reverse proxy in front of `passnum serve` (an address or a CIDR network, repeatable or
    /// comma-separated): only from these peers is `X-Forwarded-For` believed, so that rate
    /// limits and sign-in throttling count each real client.
    #[arg(
        long,
        global = true,
        env = "PASSNUM_TRUSTED_PROXY",
        value_delimiter = ','
    )]
    trusted_proxy: Vec<String>,

    /// Log lines as text for a person, or as JSON for a log collector (each line of a request
    /// carries its id, also sent back as `X-Request-Id`). The level is set with RUST_LOG.
    #[arg(
        long,
        global = true,
        env = "PASSNUM_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the JSON API (and, later, the web pages).
    Serve {
        /// Address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// How long a venue may cancel its own redemption, in hours.
        #[arg(long, default_value_t = 24)]
        rollback_window_hours: i64,
        /// Address for the operations team only (never the public one): `/metrics`
        /// (OpenMetrics), `/livez`, `/readyz`. For example 127.0.0.1:9090.
        #[arg(long, env = "PASSNUM_ADMIN_LISTEN")]
        admin_listen: Option<SocketAddr>,
        /// SMTP server for e-mails (password links, alerts, payments, venue decisions,
        /// bookings): smtp://host:25, smtp://user:password@host:587?tls=required (STARTTLS) or
        /// smtps://host:465 (TLS). Without it, nothing is sent (messages wait 7 days, then are
        /// given up). Prefer the environment variable: it keeps the password out of `ps`.
        #[arg(long, env = "PASSNUM_SMTP_URL", hide_env_values = true)]
        smtp_url: Option<String>,
        /// The sender of e-mails, for example "Pass numérique <pass@example.fr>".
        #[arg(long, env = "PASSNUM_MAIL_FROM", requires = "smtp_url")]
        mail_from: Option<String>,
        /// ProConnect sign-in for staff: the provider's issuer, e.g.
        /// https://auth.agentconnect.gouv.fr/api/v2 (integration:
        /// https://fca.integ01.dev-agentconnect.fr/api/v2). Its redirect URI is
        /// <public-url>/connexion/proconnect/retour, its logout one <public-url>/connexion.
        #[arg(long, env = "PASSNUM_PROCONNECT_ISSUER", requires_all = ["proconnect_client_id", "proconnect_client_secret"])]
        proconnect_issuer: Option<String>,
        #[arg(long, env = "PASSNUM_PROCONNECT_CLIENT_ID")]
        proconnect_client_id: Option<String>,
        /// Prefer the environment variable: it keeps the secret out of `ps`.
        #[arg(long, env = "PASSNUM_PROCONNECT_CLIENT_SECRET", hide_env_values = true)]
        proconnect_client_secret: Option<String>,
        /// A PostgreSQL streaming replica of --database-url (made with `pg_basebackup -R`):
        /// dashboards, exports, public pages and listings read there while it is fresh;
        /// every decision that protects money reads the primary.
        #[arg(long, env = "PASSNUM_READ_DATABASE_URL", hide_env_values = true)]
        read_database_url: Option<String>,
        /// How far behind the primary the replica may be, in seconds, before its reads go to
        /// the primary.
        #[arg(long, default_value_t = 5, requires = "read_database_url")]
        read_max_lag_seconds: u64,
        /// Redemption batches written at once (PostgreSQL; SQLite has one writer). Each takes
        /// every scan waiting, up to 512, into one transaction (group commit). One is fastest
        /// for one programme's scans (docs/operations.md, "Redemption writers").
        #[arg(long, default_value_t = 1)]
        redeem_writers: usize,
    },
    /// Create a realistic demo programme (a métropole, 100 booklets, venues, tokens), then serve.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Create the data and print the tokens, but do not serve.
        #[arg(long)]
        no_serve: bool,
    },
    /// A consistent copy of the database while servers run: SQLite copies itself
    /// (`VACUUM INTO`), PostgreSQL calls `pg_dump` (custom format). Keep the key files too.
    Backup {
        /// The backup file to write (it must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore a backup into a new SQLite file or an empty PostgreSQL database; a truncated
    /// file, one from a newer passnum or for the other engine is refused, the target untouched.
    Restore {
        /// A file written by `passnum backup`.
        file: PathBuf,
        /// Where to restore: a SQLite file that does not exist yet, or `postgres://…` (empty).
        #[arg(long)]
        into: String,
        /// Then check the books (ledger, each cheque's history, counters, funding), count the
        /// records and check the signing keys, and print the report.
        #[arg(long)]
        verify: bool,
    },
    /// The audit trail: `passnum audit verify` checks that no line was altered or removed.
    Audit {
        #[command(subcommand)]
        command: backup::AuditCommand,
    },
    /// The e-mails of the outbox (`passnum mail status`).
    Mail {
        #[command(subcommand)]
        command: mail::MailCommand,
    },
    /// Apply pending database migrations, then exit.
    Migrate,
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: accounts::TokenCommand,
    },
    /// Staff accounts of the web pages.
    Staff {
        #[command(subcommand)]
        command: accounts::StaffCommand,
    },
    /// The services référentiel.
    Services {
        #[command(subcommand)]
        command: services::ServicesCommand,
    },
    /// Venues in the national venue standard: import (as candidates) and export.
    Venues {
        #[command(subcommand)]
        command: venues::VenuesCommand,
    },
    /// Accounting checks.
    Ledger {
        #[command(subcommand)]
        command: ledger::LedgerCommand,
    },
    /// Dated jobs, for cron: the end-of-validity steps of every order (J-30 alert, J-15 stop
    /// of distribution, expiry with a credit note) and of every venue's qualification (warning
    /// 30 days before its last day, end the day after). Each step happens once, however often
    /// this runs.
    Jobs {
        #[command(subcommand)]
        command: ledger::JobsCommand,
    },
    /// Venues' bank details.
    Bank {
        #[command(subcommand)]
        command: payments::BankCommand,
    },
    /// Payment runs: preview, create, confirm, cancel, export (SEPA file and statements).
    Payments {
        #[command(subcommand)]
        command: payments::PaymentsCommand,
    },
    /// Funders (the organisations that buy booklets): create, list.
    Funders {
        #[command(subcommand)]
        command: funders::FunderCommand,
    },
    /// Orders: draft, confirm, record payment, issue, cancel, logo, list; funders' budgets.
    Order {
        #[command(subcommand)]
        command: orders::OrderCommand,
    },
    /// The keys that sign printed cheques: list, rotate, revoke, export.
    Keys {
        #[command(subcommand)]
        command: orders::KeysCommand,
    },
    /// The programme's figures as open data (CSV, Table Schemas, datapackage.json), with
    /// statistical secrecy.
    Opendata {
        #[command(subcommand)]
        command: opendata::OpenDataCommand,
    },
    /// Observers (the State's programme team, territorial hubs) and the funders whose figures
    /// they read.
    Observers {
        #[command(subcommand)]
        command: observers::ObserverCommand,
    },
    /// Distributing structures (CCAS, mairies, médiathèques…).
    Distributor {
        #[command(subcommand)]
        command: distribution::DistributorCommand,
    },
    /// Share an order's booklets among distributors: by hand, or by key (preview, then --commit).
    Allocate(distribution::AllocateArgs),
    /// Member territories of an order (communes that joined by délibération): declare, list,
    /// attach documents, and the two stages of an allocation (territories, then their
    /// structures).
    Territory {
        #[command(subcommand)]
        command: territories::TerritoryCommand,
    },
    /// A funder's own publics for an order, next to the seven national ones: add, edit,
    /// retire, list.
    Public {
        #[command(subcommand)]
        command: publics::PublicCommand,
    },
    /// Move booklets not yet handed out from one distributor to another.
    Transfer {
        #[arg(long)]
        order: i64,
        #[arg(long)]
        from: i64,
        #[arg(long)]
        to: i64,
        #[arg(long)]
        booklets: i64,
    },
    /// Declare a booklet lost (or stolen, with --stolen): its unused cheques are blocked at once.
    BlockBooklet {
        #[arg(long)]
        order: i64,
        #[arg(long)]
        booklet: i64,
        #[arg(long)]
        stolen: bool,
    },
    /// Where an order's booklets are: the funder's stock and each distributor's; or who held
    /// how many at a date (`--at`), the recorded moves (`--moves`), or a move's procès-verbal
    /// de remise as PDF (`--pv`).
    Distribution {
        #[arg(long)]
        order: i64,
        /// Inventory per holder at the end of this day (AAAA-MM-JJ, Paris time).
        #[arg(long, conflicts_with_all = ["moves", "pv"])]
        at: Option<String>,
        /// List the moves of the order's booklets (funder → structure, structure → structure).
        #[arg(long, conflicts_with = "pv")]
        moves: bool,
        /// Write the procès-verbal de remise of this move (its number in `--moves`) as PDF.
        #[arg(long)]
        pv: Option<i64>,
        /// Where to write the procès-verbal (default: pv-remise-<commande>-<n°>.pdf).
        #[arg(long, requires = "pv")]
        out: Option<std::path::PathBuf>,
    },
    /// Print every booklet of an issued order as PDF (and its cover letter), with a progress bar.
    Print {
        #[arg(long)]
        order: i64,
        /// Output folder.
        #[arg(long, default_value = "impression")]
        out: std::path::PathBuf,
        /// One merged file (in volumes of --per-file booklets) instead of one file per booklet.
        #[arg(long)]
        merged: bool,
        #[arg(long, default_value_t = 250)]
        per_file: usize,
        /// A text template for the cover letter ({{commanditaire}}, {{cheques}}, {{valeur}}…).
        #[arg(long)]
        letter_template: Option<std::path::PathBuf>,
    },
    /// Check a scanned QR payload offline: prints the cheque if its signature is genuine.
    Verify {
        /// The scanned text (PN1:…).
        text: String,
        /// The public keys as JSON (/.well-known/passnum-keys.json or `passnum keys export`);
        /// without it, the keys of the database.
        #[arg(long)]
        keys: Option<std::path::PathBuf>,
    },
    /// Measure throughput (see BENCHMARKS.md).
    Bench(bench::BenchArgs),
}

/// glibc's malloc cost 13 % of the server's CPU under HTTP redemptions (many small, short-lived
/// allocations across threads); mimalloc's thread-local free lists cost less (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "passnum=info,warn".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        // One object per line; the request's span (its id) in each line of a request.
        LogFormat::Json => {
            ctx::use_json_logs();
            logs.json()
                .with_current_span(true)
                .with_span_list(false)
                .init()
        }
    }
    let ctx = Ctx {
        database_url: cli.database_url,
        signing_key: cli.signing_key,
        household_key: cli.household_key,
        public_url: cli.public_url,
        trusted_proxies: cli.trusted_proxy,
    };
    match run(&ctx, cli.command).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The sentence and its causes, for the person at the terminal; a backtrace (with
            // RUST_BACKTRACE set) is noise to them.
            ctx::say(format!("Erreur : {e:#}"));
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(ctx: &Ctx, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            listen,
            rollback_window_hours,
            admin_listen,
            smtp_url,
            mail_from,
            proconnect_issuer,
            proconnect_client_id,
            proconnect_client_secret,
            read_database_url,
            read_max_lag_seconds,
            redeem_writers,
        } => {
            let replica = read_database_url.map(|url| passnum_store::ReplicaOptions {
                url,
                max_lag: std::time::Duration::from_secs(read_max_lag_seconds),
            });
            let mail = serve::MailOptions {
                smtp_url,
                mail_from,
                proconnect: proconnect_issuer.map(|issuer| {
                    (
                        issuer,
                        proconnect_client_id.unwrap_or_default(),
                        proconnect_client_secret.unwrap_or_default(),
                    )
                }),
            };
            let options = serve::ServeOptions {
                rollback_window_hours,
                admin_listen,
                replica,
                redeem_writers,
            };
            serve::serve_command(ctx, listen, options, mail).await
        }
        Command::Demo { listen, no_serve } => serve::demo(ctx, listen, no_serve).await,
        Command::Migrate => serve::migrate(ctx).await,
        Command::Backup { out } => backup::backup(ctx, &out).await,
        Command::Audit { command } => backup::audit(ctx, command).await,
        Command::Mail { command } => mail::run(ctx, command).await,
        Command::Restore { file, into, verify } => backup::restore(&file, &into, verify).await,
        Command::Token { command } => accounts::token(ctx, command).await,
        Command::Staff { command } => accounts::staff(ctx, command).await,
        Command::Services { command } => services::run(ctx, command).await,
        Command::Venues { command } => venues::run(ctx, command).await,
        Command::Ledger { command } => ledger::run(ctx, command).await,
        Command::Jobs { command } => ledger::jobs(ctx, command).await,
        Command::Bank { command } => payments::bank(&ctx.store().await?, command).await,
        Command::Payments { command } => payments::payments(&ctx.store().await?, command).await,
        Command::Order { command } => orders::order(&ctx.store().await?, command).await,
        Command::Keys { command } => {
            orders::keys(&ctx.store().await?, &ctx.signing_key, command).await
        }
        Command::Opendata { command } => opendata::run(&ctx.store().await?, command).await,
        Command::Observers { command } => observers::observers(&ctx.store().await?, command).await,
        Command::Funders { command } => funders::funders(&ctx.store().await?, command).await,
        Command::Distributor { command } => {
            distribution::distributor(&ctx.store().await?, command).await
        }
        Command::Allocate(args) => distribution::allocate(&ctx.store().await?, args).await,
        Command::Territory { command } => territories::run(&ctx.store().await?, command).await,
        Command::Public { command } => publics::run(&ctx.store().await?, command).await,
        Command::Transfer {
            order,
            from,
            to,
            booklets,
        } => distribution::transfer(&ctx.store().await?, order, from, to, booklets).await,
        Command::BlockBooklet {
            order,
            booklet,
            stolen,
        } => distribution::block(&ctx.store().await?, order, booklet, stolen).await,
        Command::Distribution {
            order,
            at,
            moves,
            pv,
            out,
        } => {
            let store = ctx.store().await?;
            match (at, moves, pv) {
                (Some(at), _, _) => distribution::inventory(&store, order, &at).await,
                (None, true, _) => distribution::moves(&store, order).await,
                (None, false, Some(pv)) => distribution::handover(&store, order, pv, out).await,
                (None, false, None) => distribution::show(&store, order).await,
            }
        }
        Command::Print {
            order,
            out,
            merged,
            per_file,
            letter_template,
        } => {
            let args = orders::PrintArgs {
                order,
                out,
                merged,
                per_file,
                letter_template,
                public_url: ctx.public_url_or_default(),
                quiet: false,
            };
            orders::print_command(ctx, args).await
        }
        Command::Verify { text, keys } => orders::verify_command(ctx, &text, keys.as_deref()).await,
        Command::Bench(args) => bench::run(ctx.database_url.clone(), args).await,
    }
}
