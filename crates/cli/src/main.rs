//! `passnum`: run a Pass Numérique programme.

mod bench;
pub mod demo;
mod distribution;
mod orders;
mod payments;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use passnum_app::SystemClock;
use passnum_core::{FunderId, ServiceCatalog, Timestamp, VenueId};
use passnum_store::{Actor, Store, StoreOptions};
use passnum_web::{AppState, Application};

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
    #[arg(
        long,
        global = true,
        env = "PASSNUM_PUBLIC_URL",
        default_value = "http://localhost:8080"
    )]
    public_url: String,

    #[command(subcommand)]
    command: Command,
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
    },
    /// Create a realistic demo programme (a métropole, 100 booklets, venues, tokens), then serve.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Create the data and print the tokens, but do not serve.
        #[arg(long)]
        no_serve: bool,
    },
    /// Apply pending database migrations, then exit.
    Migrate,
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Staff accounts of the web pages.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// The services référentiel.
    Services {
        #[command(subcommand)]
        command: ServicesCommand,
    },
    /// Accounting checks.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Dated jobs, for cron: the end-of-validity steps of every order (J-30 alert, J-15 stop
    /// of distribution, expiry with a credit note). Each step happens once, however often this runs.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
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
    /// Distributing structures (CCAS, mairies, médiathèques…).
    Distributor {
        #[command(subcommand)]
        command: distribution::DistributorCommand,
    },
    /// Share an order's booklets among distributors: by hand, or by key (preview, then --commit).
    Allocate(distribution::AllocateArgs),
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
    /// Where an order's booklets are: the funder's stock and each distributor's.
    Distribution {
        #[arg(long)]
        order: i64,
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

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it (it is shown only once).
    Create {
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Id of the funder, venue or distributing structure (not for the operator).
        #[arg(long = "for")]
        for_id: Option<i64>,
        /// A note to recognise the token later.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List tokens (ids, roles, labels; never the secrets).
    List,
    /// Revoke a token by its id (see `token list`); servers stop accepting it within 30 s.
    Revoke {
        #[arg(long)]
        id: i64,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create an account and print a one-time link to choose its password (valid 3 days).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Id of the funder, venue or distributing structure (not for the operator).
        #[arg(long = "for")]
        for_id: Option<i64>,
        /// Address of the server, to print a whole link.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        base_url: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Operator,
    Funder,
    Venue,
    /// An agent of a distributing structure (CCAS, mairie…), who hands booklets out.
    Distributor,
}

#[derive(Subcommand)]
enum ServicesCommand {
    /// Load or update services from a CSV file in the référentiel format.
    Load { file: std::path::PathBuf },
    /// List the services.
    List,
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Run every step that is due today (Paris).
    Run,
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Prove the trial balance sums to zero, every account agrees with its transfers, and every
    /// cheque's history (redemptions, cancellations, payouts) agrees with the ledger.
    Check,
    /// Write the ledger as a FEC file (Fichier des Écritures Comptables, 18 columns, tabs).
    Fec {
        /// Output file; by convention <SIREN>FEC<AAAAMMJJ>.txt.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Write the ledger as a CSV journal, one line per transfer.
    Journal {
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

fn actor_of(role: RoleArg, for_id: Option<i64>) -> anyhow::Result<Actor> {
    Ok(match (role, for_id) {
        (RoleArg::Operator, None) => Actor::Operator,
        (RoleArg::Operator, Some(_)) => bail!("un compte opérateur ne se rattache à aucun --for"),
        (RoleArg::Funder, Some(id)) => Actor::Funder(FunderId(id)),
        (RoleArg::Venue, Some(id)) => Actor::Venue(VenueId(id)),
        (RoleArg::Distributor, Some(id)) => Actor::Distributor(passnum_store::DistributorId(id)),
        (_, None) => {
            bail!(
                "indiquez --for <id> : le commanditaire, le lieu ou la structure auquel rattacher le compte"
            )
        }
    })
}

/// What to say when `--for` names no organisation of the role.
fn unknown_org(role: RoleArg) -> &'static str {
    match role {
        RoleArg::Funder => "aucun commanditaire n'a ce numéro : vérifiez --for",
        RoleArg::Venue => "aucun lieu n'a ce numéro : vérifiez --for",
        RoleArg::Distributor => {
            "aucune structure de distribution n'a ce numéro : vérifiez --for (passnum distributor list)"
        }
        RoleArg::Operator => "compte opérateur : sans --for",
    }
}

/// "2026-12-31".
pub fn iso_date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn now() -> Timestamp {
    Timestamp::from_offset_datetime(time::OffsetDateTime::now_utc())
}

async fn open(url: &Option<String>, default: &str, options: StoreOptions) -> anyhow::Result<Store> {
    let url = url.clone().unwrap_or_else(|| default.to_string());
    Store::connect(&url, options)
        .await
        .with_context(|| format!("ouverture de la base « {url} »"))
}

/// Serves with the key files and public address of the command line.
async fn serve(store: Store, listen: SocketAddr, cli: &Cli) -> anyhow::Result<()> {
    let key = orders::signing_key(&store, &cli.signing_key).await?;
    let household = orders::household_key(&store, &cli.household_key).await?;
    let state = AppState::new(store, Arc::new(SystemClock))
        .with_signer(key)
        .with_household_key(household)
        .with_public_url(&cli.public_url);
    let app = Application::build(state, listen)
        .await
        .with_context(|| format!("écoute sur {listen}"))?;
    eprintln!(
        "passnum écoute sur http://{}  (API : /api/v1, documentation : /api/v1/openapi.json)",
        app.local_addr()
    );
    app.run_until_stopped().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "passnum=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve {
            listen,
            rollback_window_hours,
        } => {
            if !(0..=24 * 30).contains(&rollback_window_hours) {
                bail!("--rollback-window-hours doit être compris entre 0 et 720");
            }
            let options = StoreOptions {
                rollback_window_ms: rollback_window_hours * 3_600_000,
                ..Default::default()
            };
            let store = open(&cli.database_url, "passnum.db", options).await?;
            serve(store, listen, &cli).await
        }
        Command::Demo { listen, no_serve } => {
            let store = open(
                &cli.database_url,
                "passnum-demo.db",
                StoreOptions::default(),
            )
            .await?;
            let key = orders::signing_key(&store, &cli.signing_key).await?;
            demo::create(&store, listen, true, Some(&key)).await?;
            if no_serve {
                Ok(())
            } else {
                serve(store, listen, &cli).await
            }
        }
        Command::Migrate => {
            open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            eprintln!("Base à jour.");
            Ok(())
        }
        Command::Staff {
            command:
                StaffCommand::Create {
                    email,
                    name,
                    role,
                    for_id,
                    base_url,
                },
        } => {
            let actor = actor_of(role, for_id)?;
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            let member = match store
                .create_staff(&email, &name, "!aucun-mot-de-passe", actor, now())
                .await
            {
                Err(passnum_store::StoreError::NotFound) => bail!(unknown_org(role)),
                other => other?,
            };
            let token = store
                .create_password_reset(member.id, now(), 72 * 3_600_000)
                .await?;
            println!("{}/mot-de-passe/{token}", base_url.trim_end_matches('/'));
            Ok(())
        }
        Command::Token {
            command: TokenCommand::List,
        } => {
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            for t in store.list_tokens().await? {
                let state = match t.revoked_at {
                    Some(at) => format!("révoqué le {}", passnum_core::paris::format_moment(at)),
                    None => "actif".into(),
                };
                println!(
                    "{}\t{}\t{}\t{}\t{state}",
                    t.id,
                    t.role.as_str(),
                    t.actor_id,
                    t.label
                );
            }
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Revoke { id },
        } => {
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            match store.revoke_token(id, now()).await {
                Err(passnum_store::StoreError::NotFound) => {
                    bail!("aucun jeton actif n'a l'identifiant {id}")
                }
                other => other?,
            }
            println!("Jeton {id} révoqué.");
            Ok(())
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    role,
                    for_id,
                    label,
                },
        } => {
            let actor = actor_of(role, for_id)?;
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            let token = match store.create_token(actor, &label, now()).await {
                Err(passnum_store::StoreError::NotFound) => bail!(unknown_org(role)),
                other => other?,
            };
            println!("{token}");
            Ok(())
        }
        Command::Services {
            command: ServicesCommand::Load { file },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("lecture de {}", file.display()))?;
            let catalog = ServiceCatalog::parse_csv(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            let n = store.load_services(&catalog).await?;
            eprintln!("{n} services chargés.");
            Ok(())
        }
        Command::Services {
            command: ServicesCommand::List,
        } => {
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            for s in store.list_services().await? {
                println!("{}\t{}\t{}", s.code, s.category_name, s.name);
            }
            Ok(())
        }
        Command::Ledger {
            command: LedgerCommand::Check,
        } => {
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            let tb = store.trial_balance().await?;
            let mismatches = store.verify_ledger().await?;
            println!("Somme des soldes : {} centimes", tb.total_cents);
            for a in &tb.negative_accounts {
                println!("Compte négatif : {a:?}");
            }
            for m in &mismatches {
                println!("Compte en désaccord avec ses virements : {m:?}");
            }
            let history = store.verify_cheque_history().await?;
            for h in &history {
                println!("Historique des chèques : {} ({} lignes)", h.check, h.rows);
            }
            if tb.is_balanced() && mismatches.is_empty() && history.is_empty() {
                println!("Balance équilibrée : chaque compte concorde avec ses virements.");
                println!("L'historique de chaque chèque concorde avec la comptabilité.");
                Ok(())
            } else {
                bail!("la comptabilité n'est pas équilibrée")
            }
        }
        Command::Ledger {
            command: LedgerCommand::Fec { out },
        } => {
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            ledger_export(&store, &out, true).await
        }
        Command::Ledger {
            command: LedgerCommand::Journal { out },
        } => {
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            ledger_export(&store, &out, false).await
        }
        Command::Jobs {
            command: JobsCommand::Run,
        } => {
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            let done = store.run_closing_steps(now()).await?;
            for d in &done {
                println!("Commande n° {} : {}", d.order_id, d.summary);
            }
            if done.is_empty() {
                println!("Rien à faire aujourd'hui.");
            }
            Ok(())
        }
        Command::Bank { command } => {
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            payments::bank(&store, command).await
        }
        Command::Payments { command } => {
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            payments::payments(&store, command).await
        }
        Command::Order { command } => {
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            orders::order(&store, command).await
        }
        Command::Distributor { command } => {
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            distribution::distributor(&store, command).await
        }
        Command::Allocate(args) => {
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            distribution::allocate(&store, args).await
        }
        Command::Transfer {
            order,
            from,
            to,
            booklets,
        } => {
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            store
                .transfer_booklets(
                    passnum_core::OrderId(order),
                    passnum_store::DistributorId(from),
                    passnum_store::DistributorId(to),
                    booklets,
                    now(),
                )
                .await?;
            eprintln!("{booklets} carnets transférés du distributeur n° {from} au n° {to}.");
            Ok(())
        }
        Command::BlockBooklet {
            order,
            booklet,
            stolen,
        } => {
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            let n = store
                .block_booklet(passnum_core::OrderId(order), booklet, stolen, now())
                .await?;
            eprintln!(
                "Carnet n° {booklet} déclaré {} : {n} chèques non utilisés sont bloqués.",
                if stolen { "volé" } else { "perdu" }
            );
            Ok(())
        }
        Command::Distribution { order } => {
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            distribution::show(&store, order).await
        }
        Command::Keys { command } => {
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            orders::keys(&store, &cli.signing_key, command).await
        }
        Command::Print {
            order,
            out,
            merged,
            per_file,
            letter_template,
        } => {
            let store = open(&cli.database_url, "passnum.db", StoreOptions::default()).await?;
            let key = orders::signing_key(&store, &cli.signing_key).await?;
            let args = orders::PrintArgs {
                order,
                out,
                merged,
                per_file,
                letter_template,
                public_url: cli.public_url.clone(),
                quiet: false,
            };
            let (n, took) = orders::print(&store, key, &args).await?;
            eprintln!(
                "{n} carnets et le courrier écrits dans {} en {:.1} s.",
                args.out.display(),
                took.as_secs_f64()
            );
            Ok(())
        }
        Command::Verify { text, keys } => {
            let store = match &keys {
                Some(_) => None,
                None => Some(open(&cli.database_url, "passnum.db", StoreOptions::default()).await?),
            };
            orders::verify(store.as_ref(), keys.as_deref(), &text).await
        }
        Command::Bench(args) => bench::run(cli.database_url, args).await,
    }
}

/// The ledger, streamed a page of transfers at a time: FEC (tabs, two lines per transfer) or
/// a CSV journal (one line per transfer).
async fn ledger_export(store: &Store, out: &std::path::Path, fec: bool) -> anyhow::Result<()> {
    use passnum_core::fec;
    let file =
        std::fs::File::create(out).with_context(|| format!("écriture de {}", out.display()))?;
    let mut w = csv::WriterBuilder::new()
        .delimiter(if fec { b'\t' } else { b';' })
        .from_writer(std::io::BufWriter::new(file));
    if fec {
        w.write_record(fec::HEADER)?;
    } else {
        w.write_record([
            "numero",
            "date (Paris)",
            "nature",
            "compte debite",
            "compte credite",
            "montant_centimes",
            "commande",
            "encaissement",
            "contre-passe",
            "virement",
        ])?;
    }
    let mut after = 0;
    let mut n = 0;
    loop {
        let page = store.transfers_page(after, 10_000).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for t in &page {
            if fec {
                let piece = match (t.redemption_id, t.order_id, t.payment_run_id) {
                    (Some(r), _, _) => format!("ENC{r}"),
                    (_, _, Some(p)) => format!("VIR{p}"),
                    (_, Some(o), _) => format!("CMD{o}"),
                    _ => format!("T{}", t.id),
                };
                for line in fec::lines(
                    t.id,
                    t.debit,
                    t.credit,
                    t.amount_cents,
                    &t.kind,
                    &piece,
                    t.created_at,
                ) {
                    w.write_record(&line)?;
                }
            } else {
                let name = |k: passnum_core::ledger::AccountKey| {
                    let (kind, owner) = k.parts();
                    format!("{kind}:{owner}")
                };
                let opt = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
                w.write_record([
                    t.id.to_string(),
                    passnum_core::paris::format_moment(t.created_at),
                    t.kind.clone(),
                    name(t.debit),
                    name(t.credit),
                    t.amount_cents.to_string(),
                    opt(t.order_id),
                    opt(t.redemption_id),
                    opt(t.reverses_id),
                    opt(t.payment_run_id),
                ])?;
            }
            n += 1;
        }
    }
    w.flush()?;
    eprintln!("{n} virements écrits dans {}", out.display());
    Ok(())
}
