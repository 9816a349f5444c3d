//! `passnum order …`, `passnum keys …`, `passnum print` and `passnum verify`.

use passnum_core::handout::HouseholdKey;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;
use passnum_app::booklets::OrderPrint;
use passnum_core::order::OrderRequest;
use passnum_core::order_options::{LogoKind, OrderOptionsRequest, parse_percent, sniff_logo};
use passnum_core::signature::{KeyId, SignedCheque, SigningKey, VerifyingKey};
use passnum_core::{FunderId, Money, NewOrder, OrderId, paris};
use passnum_print::keyfile;
use passnum_store::{Order, Store};
use time::Date;

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum OrderCommand {
    /// Record a draft order for a funder.
    Create {
        #[arg(long)]
        funder: i64,
        #[arg(long)]
        booklets: i64,
        #[arg(long, default_value_t = 10)]
        cheques_per_booklet: i64,
        /// Face value in euros, e.g. 10 or 12,50.
        #[arg(long, default_value = "10")]
        face_value: String,
        /// First day of validity, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day of validity, YYYY-MM-DD.
        #[arg(long)]
        until: String,
        #[arg(long, default_value_t = 30)]
        tolerance_days: i64,
        /// INSEE codes of communes (repeat or separate with commas).
        #[arg(long = "commune", value_delimiter = ',')]
        communes: Vec<String>,
        /// Département codes (repeat or separate with commas).
        #[arg(long = "departement", value_delimiter = ',')]
        departements: Vec<String>,
        /// SIREN numbers of intercommunalités, EPCI (repeat or separate with commas).
        #[arg(long = "epci", value_delimiter = ',')]
        epcis: Vec<String>,
        /// Région codes (repeat or separate with commas).
        #[arg(long = "region", value_delimiter = ',')]
        regions: Vec<String>,
        /// Priority publics: senior, isolated, non_french_speaker, young, minimum_income,
        /// job_seeker, disability.
        #[arg(long = "public", value_delimiter = ',')]
        publics: Vec<String>,
        #[arg(long, default_value = "")]
        cover_text: String,
        /// Funding split, e.g. "État=50,FEDER=21,Fonds propres=29" (must total 100 %).
        #[arg(long, default_value = "")]
        funding: String,
        /// PNG or SVG logo printed on the covers (512 KB at most).
        #[arg(long)]
        logo: Option<PathBuf>,
    },
    /// Confirm a draft (checked against the funder's budget).
    Confirm { id: i64 },
    /// Record the funder's payment: the face value is held for it in the ledger.
    Pay { id: i64 },
    /// Issue a paid order: one code per cheque, ready to print.
    Issue { id: i64 },
    /// Cancel a draft or confirmed order.
    Cancel { id: i64 },
    /// Set or replace the logo of an order not yet issued.
    Logo { id: i64, file: PathBuf },
    /// List orders, newest first.
    List {
        #[arg(long)]
        funder: Option<i64>,
    },
    /// Declare what a funder may spend on orders (in euros; "none" to clear).
    Budget { funder: i64, amount: String },
    /// The programme's operator fees (without options: show them).
    Fees {
        /// Kept from each cheque paid to a venue, in basis points (400 = 4 %); the default of
        /// payment runs.
        #[arg(long)]
        venue_bp: Option<i64>,
        /// Charged to funders on top of the face value of the orders they confirm from now on.
        #[arg(long)]
        funder_bp: Option<i64>,
    },
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// The published public keys and their state.
    List,
    /// Replace this server's signing key; the old one keeps verifying the cheques it signed.
    Rotate,
    /// Revoke a key (compromised): every cheque it signed is refused from now on.
    Revoke { kid: String },
    /// Write the public keys as JSON, for `passnum verify --keys` on a machine without the
    /// database (the same document as /.well-known/passnum-keys.json).
    Export,
}

fn date_arg(name: &str, s: &str) -> anyhow::Result<Date> {
    Date::parse(s, &time::format_description::well_known::Iso8601::DATE)
        .with_context(|| format!("--{name} : date attendue au format AAAA-MM-JJ, reçu « {s} »"))
}

/// "État=50,FEDER=21" → [("État", 5000), ("FEDER", 2100)].
fn funding_arg(s: &str) -> anyhow::Result<Vec<(String, i64)>> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|part| {
            let (source, pct) = part
                .rsplit_once('=')
                .with_context(|| format!("--funding : « {part} » ; écrivez source=pourcentage"))?;
            let bp = parse_percent(pct)
                .with_context(|| format!("--funding : « {pct} » n'est pas un pourcentage"))?;
            Ok((source.trim().to_string(), bp))
        })
        .collect()
}

pub fn read_logo(path: &Path) -> anyhow::Result<(LogoKind, Vec<u8>)> {
    let meta = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
    if meta.len() > passnum_core::order_options::MAX_LOGO_BYTES as u64 {
        bail!("{} : le logo pèse plus de 512 Ko", path.display());
    }
    let bytes = std::fs::read(path).with_context(|| format!("{}", path.display()))?;
    let kind = sniff_logo(&bytes).map_err(|e| anyhow::anyhow!("{} : {e}", path.display()))?;
    passnum_print::Logo::parse(kind, &bytes)
        .map_err(|e| anyhow::anyhow!("{} : {e}", path.display()))?;
    Ok((kind, bytes))
}

fn show(o: &Order) {
    println!(
        "commande {} — commanditaire {} — {} — {} carnets × {} chèques × {} = {} — du {} au {}",
        o.id.0,
        o.funder_id.0,
        o.status.label(),
        o.booklet_count,
        o.cheques_per_booklet,
        Money::from_cents(o.face_value_cents),
        Money::from_cents(o.total_cents),
        paris::format_date(o.valid_from),
        paris::format_date(o.valid_until),
    );
}

pub async fn order(store: &Store, cmd: OrderCommand) -> anyhow::Result<()> {
    let now = crate::now();
    match cmd {
        OrderCommand::Create {
            funder,
            booklets,
            cheques_per_booklet,
            face_value,
            from,
            until,
            tolerance_days,
            communes,
            departements,
            epcis,
            regions,
            publics,
            cover_text,
            funding,
            logo,
        } => {
            // Everything is checked before anything is written.
            let face = Money::parse_euros(&face_value)
                .map_err(|e| anyhow::anyhow!("--face-value : {e}"))?;
            let order = NewOrder::parse(&OrderRequest {
                booklet_count: booklets,
                cheques_per_booklet,
                face_value_cents: face.cents(),
                valid_from: date_arg("from", &from)?,
                valid_until: date_arg("until", &until)?,
                tolerance_days,
                perimeter_communes: communes,
                perimeter_departements: departements,
                perimeter_epcis: epcis,
                perimeter_regions: regions,
            })?
            .with_options(&OrderOptionsRequest {
                target_publics: publics,
                cover_text,
                funding: funding_arg(&funding)?,
            })?;
            let logo = logo.as_deref().map(read_logo).transpose()?;
            let o = store
                .create_draft_order(FunderId(funder), &order, now)
                .await?;
            if let Some((kind, bytes)) = logo {
                store.set_order_logo(o.id, kind, &bytes).await?;
            }
            show(&o);
            eprintln!(
                "Brouillon enregistré. Suite : passnum order confirm {}",
                o.id.0
            );
        }
        OrderCommand::Confirm { id } => show(&store.confirm_order(OrderId(id), now).await?),
        OrderCommand::Pay { id } => show(&store.record_order_payment(OrderId(id), now).await?),
        OrderCommand::Issue { id } => {
            show(&store.issue_order(OrderId(id), now).await?);
            eprintln!("Codes émis. Impression : passnum print --order {id}");
        }
        OrderCommand::Cancel { id } => show(&store.cancel_order(OrderId(id), now).await?),
        OrderCommand::Logo { id, file } => {
            let (kind, bytes) = read_logo(&file)?;
            store.set_order_logo(OrderId(id), kind, &bytes).await?;
            eprintln!("Logo enregistré ({} octets).", bytes.len());
        }
        OrderCommand::List { funder } => {
            let mut offset = 0;
            loop {
                let page = store.list_orders(funder.map(FunderId), 500, offset).await?;
                for o in &page {
                    show(o);
                }
                if page.len() < 500 {
                    break;
                }
                offset += 500;
            }
        }
        OrderCommand::Fees {
            venue_bp,
            funder_bp,
        } => {
            let mut fees = store.programme_fees().await?;
            if venue_bp.is_some() || funder_bp.is_some() {
                let venue = passnum_core::payment::FeeRate::from_basis_points(
                    venue_bp.unwrap_or(fees.venue_fee_bp),
                )?;
                let funder = passnum_core::payment::FeeRate::from_basis_points(
                    funder_bp.unwrap_or(fees.funder_fee_bp),
                )?;
                fees = store.set_programme_fees(venue, funder, now).await?;
            }
            println!(
                "Commission côté lieux : {} % ; frais côté commanditaires : {} %",
                passnum_core::order_options::percent_text(fees.venue_fee_bp),
                passnum_core::order_options::percent_text(fees.funder_fee_bp)
            );
        }
        OrderCommand::Budget { funder, amount } => {
            let budget = match amount.trim() {
                "none" | "aucun" => None,
                a => Some(Money::parse_euros(a).map_err(|e| anyhow::anyhow!("montant : {e}"))?),
            };
            let f = store.set_funder_budget(FunderId(funder), budget).await?;
            match f.budget_cents {
                Some(b) => eprintln!("Budget de {} : {}", f.name, Money::from_cents(b)),
                None => eprintln!("{} n'a plus de budget déclaré.", f.name),
            }
        }
    }
    Ok(())
}

/// This server's signing key: read from its file, created (and published) on first use.
pub async fn signing_key(store: &Store, path: &Path) -> anyhow::Result<SigningKey> {
    let (key, created) = keyfile::load_or_create(path)?;
    store
        .register_signing_key(&key.verifying_key(), crate::now())
        .await?;
    if created {
        crate::ctx::say(format!(
            "Clé de signature des chèques créée : {} (identifiant {}). Sauvegardez ce fichier ; il ne quitte pas ce serveur.",
            path.display(),
            KeyId::of(&key.verifying_key()).as_str()
        ));
    }
    Ok(key)
}

/// The household secret from its file (created on first use), checked against the one the
/// other servers of this database use.
pub async fn household_key(store: &Store, path: &Path) -> anyhow::Result<HouseholdKey> {
    let (key, created) = keyfile::household_key_load_or_create(path)?;
    store.check_household_key(&key.fingerprint()).await?;
    if created {
        crate::ctx::say(format!(
            "Clé des foyers créée : {}. Sauvegardez ce fichier ; les autres serveurs de cette base en ont besoin d'une copie.",
            path.display()
        ));
    }
    Ok(key)
}

pub async fn keys(store: &Store, path: &Path, cmd: KeysCommand) -> anyhow::Result<()> {
    let now = crate::now();
    match cmd {
        KeysCommand::List => {
            for k in store.signing_keys().await? {
                let state = match (k.revoked_at, k.retired_at) {
                    (Some(t), _) => format!("révoquée le {}", paris::format_moment(t)),
                    (None, Some(t)) => format!("retirée le {}", paris::format_moment(t)),
                    (None, None) => "active".into(),
                };
                println!(
                    "{}  créée le {}  {state}",
                    k.kid.as_str(),
                    paris::format_moment(k.created_at)
                );
            }
        }
        KeysCommand::Rotate => {
            let (old, key) = keyfile::rotate(path)?;
            let kid = store
                .register_signing_key(&key.verifying_key(), now)
                .await?;
            if let Some(old) = old {
                store.end_signing_key(&old, false, now).await.ok();
                eprintln!(
                    "Clé {} retirée (ses chèques restent valables) ; nouvelle clé {}.",
                    old.as_str(),
                    kid.as_str()
                );
            } else {
                eprintln!("Nouvelle clé {}.", kid.as_str());
            }
        }
        KeysCommand::Revoke { kid } => {
            let kid = KeyId::parse(&kid).context("identifiant de clé : 4 caractères")?;
            store.end_signing_key(&kid, true, now).await?;
            eprintln!(
                "Clé {} révoquée : les chèques qu'elle a signés sont refusés (sous 30 s sur chaque serveur).",
                kid.as_str()
            );
        }
        KeysCommand::Export => {
            let doc = passnum_app::keys::well_known_document(&store.signing_keys().await?);
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
    }
    Ok(())
}

/// Checks a scanned payload offline: with the keys of a JSON file (the well-known document)
/// or, without one, the database's.
pub async fn verify(
    store: Option<&Store>,
    keys_file: Option<&Path>,
    text: &str,
) -> anyhow::Result<()> {
    let keys: HashMap<KeyId, VerifyingKey> = match keys_file {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
            passnum_app::keys::parse_well_known(&text)
                .with_context(|| format!("{} : document de clés illisible", path.display()))?
        }
        None => {
            let store = store.context("ni base ni --keys : impossible de vérifier")?;
            store.verifying_keys().await?
        }
    };
    match SignedCheque::verify(text, |k| keys.get(k).copied()) {
        Ok((c, kid)) => {
            println!(
                "Chèque authentique : {} — {} — valable jusqu'au {} — commande {} — clé {}",
                c.code.grouped(),
                c.face_value,
                paris::format_date(c.valid_until),
                c.order.0,
                kid.as_str()
            );
            Ok(())
        }
        Err(e) => bail!("{e}"),
    }
}

pub struct PrintArgs {
    pub order: i64,
    pub out: PathBuf,
    pub merged: bool,
    pub per_file: usize,
    pub letter_template: Option<PathBuf>,
    pub public_url: String,
    pub quiet: bool,
}

/// Writes every booklet of an order (one file each, or merged files of at most `per_file`
/// booklets) and the cover letter. Booklets are drawn on every core; at most two per core
/// are in memory at once, so memory does not grow with the order.
pub async fn print(
    store: &Store,
    key: SigningKey,
    args: &PrintArgs,
) -> anyhow::Result<(usize, std::time::Duration)> {
    let started = std::time::Instant::now();
    let job = Arc::new(OrderPrint::load(store, OrderId(args.order), &args.public_url).await?);
    let key = Arc::new(key);
    std::fs::create_dir_all(&args.out).with_context(|| format!("{}", args.out.display()))?;
    let template = args
        .letter_template
        .as_deref()
        .map(std::fs::read_to_string)
        .transpose()
        .context("modèle de courrier")?;
    let letter = job.letter(template.as_deref(), paris::local_date(crate::now()))?;
    write(
        &args
            .out
            .join(format!("commande-{}-courrier.pdf", args.order)),
        &letter,
    )?;

    let total = job.order.booklet_count as usize;
    let bar = if args.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(total as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("carnets {bar:40} {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let id = job.order.id;
    if args.merged {
        // One document per volume: the PDF library keeps a document's pages until it is
        // written, so volumes bound the memory of a merged print; one volume per core is
        // drawn at a time.
        let per_file = args.per_file.max(1);
        let volumes = total.div_ceil(per_file);
        let mut running = tokio::task::JoinSet::new();
        for v in 0..volumes {
            let first = v * per_file + 1;
            let last = ((v + 1) * per_file).min(total);
            let mut booklets = Vec::with_capacity(last - first + 1);
            for n in first..=last {
                let cheques = store.booklet_cheques(id, n as i64).await?;
                let code = store.booking_code(id, n as i64).await.ok();
                booklets.push((n as i64, code, cheques));
            }
            let (job, key, bar) = (job.clone(), key.clone(), bar.clone());
            let path = args.out.join(if volumes == 1 {
                format!("commande-{}-carnets.pdf", args.order)
            } else {
                format!("commande-{}-carnets-{first:06}-{last:06}.pdf", args.order)
            });
            running.spawn_blocking(move || -> anyhow::Result<()> {
                let mut doc = passnum_print::Document::new();
                for (n, booking_code, cheques) in booklets {
                    let printed: Vec<_> = cheques
                        .into_iter()
                        .map(|(k, code)| job.cheque(&key, k, code))
                        .collect();
                    passnum_print::add_booklet(
                        &mut doc,
                        &job.info(),
                        job.logo(),
                        n,
                        booking_code.as_deref(),
                        &printed,
                    )?;
                    bar.inc(1);
                }
                write(&path, &passnum_print::finish(doc)?)
            });
            while running.len() >= workers {
                running.join_next().await.expect("running task")??;
            }
        }
        while let Some(done) = running.join_next().await {
            done??;
        }
    } else {
        let mut running = tokio::task::JoinSet::new();
        for n in 1..=total as i64 {
            let cheques = store.booklet_cheques(id, n).await?;
            let booking_code = store.booking_code(id, n).await.ok();
            let (job, key, out, order) = (job.clone(), key.clone(), args.out.clone(), args.order);
            running.spawn_blocking(move || -> anyhow::Result<()> {
                let printed: Vec<_> = cheques
                    .into_iter()
                    .map(|(k, code)| job.cheque(&key, k, code))
                    .collect();
                let pdf = passnum_print::booklet_pdf(
                    &job.info(),
                    job.logo(),
                    n,
                    booking_code.as_deref(),
                    &printed,
                )?;
                write(
                    &out.join(format!("commande-{order}-carnet-{n:06}.pdf")),
                    &pdf,
                )
            });
            // Keep the in-flight booklets bounded.
            while running.len() >= workers * 2 {
                running.join_next().await.expect("running task")??;
                bar.inc(1);
            }
        }
        while let Some(done) = running.join_next().await {
            done??;
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    Ok((total, started.elapsed()))
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    // Written aside then renamed: an interrupted print never leaves a truncated PDF behind.
    let tmp = path.with_extension("pdf.part");
    std::fs::write(&tmp, bytes).with_context(|| format!("{}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("{}", path.display()))?;
    Ok(())
}

/// `passnum print`: every booklet of an issued order, signed with this server's key.
pub async fn print_command(ctx: &crate::ctx::Ctx, args: PrintArgs) -> anyhow::Result<()> {
    let store = ctx.store().await?;
    let key = signing_key(&store, &ctx.signing_key).await?;
    let (n, took) = print(&store, key, &args).await?;
    eprintln!(
        "{n} carnets et le courrier écrits dans {} en {:.1} s.",
        args.out.display(),
        took.as_secs_f64()
    );
    Ok(())
}

/// `passnum verify`: with `--keys`, offline, without the database.
pub async fn verify_command(
    ctx: &crate::ctx::Ctx,
    text: &str,
    keys: Option<&Path>,
) -> anyhow::Result<()> {
    let store = match keys {
        Some(_) => None,
        None => Some(ctx.store().await?),
    };
    verify(store.as_ref(), keys, text).await
}
