//! `passnum ledger` (checks and exports of the books) and `passnum jobs` (dated steps).

use anyhow::{Context, bail};
use clap::Subcommand;
use passnum_store::Store;

use crate::ctx::{Ctx, now};

#[derive(Subcommand)]
pub enum JobsCommand {
    /// Run every step that is due today (Paris), then forget what is only kept for a while.
    Run {
        /// Days an idempotency key is kept (a retry within them gets the first answer);
        /// never less than the rollback window plus a day.
        #[arg(long, default_value_t = 7)]
        keep_idempotency_days: i64,
        /// Days a sign-in attempt is kept (at least 1: throttling looks back 24 hours).
        #[arg(long, default_value_t = 1)]
        keep_sign_in_attempts_days: i64,
        /// Days a handout's diagnostic answers and household fingerprint are kept after the
        /// last contact (the handout or the booklet's latest redemption); docs/rgpd.md.
        #[arg(long, default_value_t = 730)]
        keep_handout_answers_days: i64,
        /// Refresh the open-data export in this folder (`passnum opendata export`) on the first
        /// run of each month, and whenever the folder has none yet.
        #[arg(long)]
        open_data_dir: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum LedgerCommand {
    /// Prove the trial balance sums to zero, every account agrees with its transfers, every
    /// cheque's history (redemptions, cancellations, payouts) agrees with the ledger, and the
    /// figures' counters agree with the rows they count.
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

pub async fn run(ctx: &Ctx, command: LedgerCommand) -> anyhow::Result<()> {
    let store = ctx.store().await?;
    match command {
        LedgerCommand::Check => {
            let findings = books_findings(&store).await?;
            for f in &findings {
                println!("{f}");
            }
            if findings.is_empty() {
                println!("Balance équilibrée : chaque compte concorde avec ses virements.");
                println!("L'historique de chaque chèque concorde avec la comptabilité.");
                println!(
                    "Les compteurs des chiffres concordent avec les chèques, les carnets et les virements."
                );
                println!(
                    "Les rapports de financement concordent au centime avec le compte de chaque commanditaire."
                );
                Ok(())
            } else {
                bail!("la comptabilité n'est pas équilibrée")
            }
        }
        LedgerCommand::Fec { out } => ledger_export(&store, &out, true).await,
        LedgerCommand::Journal { out } => ledger_export(&store, &out, false).await,
    }
}

/// Everything that disagrees in the books: the trial balance, each account against its
/// transfers, each cheque's history, the figures' counters and the funding reports. Empty when
/// all agree (`passnum ledger check`, `passnum restore --verify`).
pub async fn books_findings(store: &Store) -> anyhow::Result<Vec<String>> {
    let mut out = vec![];
    let tb = store.trial_balance().await?;
    if tb.total_cents != 0 {
        out.push(format!("Somme des soldes : {} centimes", tb.total_cents));
    }
    for a in &tb.negative_accounts {
        out.push(format!("Compte négatif : {a:?}"));
    }
    for m in store.verify_ledger().await? {
        out.push(format!("Compte en désaccord avec ses virements : {m:?}"));
    }
    for h in store.verify_cheque_history().await? {
        out.push(format!(
            "Historique des chèques : {} ({} lignes)",
            h.check, h.rows
        ));
    }
    for f in store.figures_check().await? {
        out.push(format!("Compteurs des chiffres : {f}"));
    }
    for f in store.funding_check().await? {
        out.push(format!("Financements : {f}"));
    }
    Ok(out)
}

pub async fn jobs(ctx: &Ctx, command: JobsCommand) -> anyhow::Result<()> {
    let JobsCommand::Run {
        keep_idempotency_days,
        keep_sign_in_attempts_days,
        keep_handout_answers_days,
        open_data_dir,
    } = command;
    if keep_idempotency_days < 1 || keep_sign_in_attempts_days < 1 || keep_handout_answers_days < 1
    {
        anyhow::bail!("Les durées de conservation se comptent en jours, au moins 1.");
    }
    let store = ctx.store().await?;
    let done = store.run_closing_steps(now()).await?;
    for d in &done {
        println!("Commande n° {} : {}", d.order_id, d.summary);
    }
    let venues = store.run_qualification_steps(now()).await?;
    for d in &venues {
        println!(
            "Lieu n° {} ({}) : {}",
            d.venue_id.0, d.venue_name, d.summary
        );
    }
    if done.is_empty() && venues.is_empty() {
        println!("Rien à faire aujourd'hui.");
    }
    const DAY_MS: i64 = 24 * 3_600_000;
    let purged = store
        .housekeeping(
            now(),
            passnum_store::Retention {
                idempotency_ms: keep_idempotency_days * DAY_MS,
                sign_in_attempts_ms: keep_sign_in_attempts_days * DAY_MS,
                handout_answers_ms: keep_handout_answers_days * DAY_MS,
            },
        )
        .await?;
    if let Some(dir) = &open_data_dir {
        let package = dir.join("datapackage.json");
        let this_month = passnum_app::activity::Month::of(now()).bounds().0;
        let stale = std::fs::metadata(&package)
            .and_then(|m| m.modified())
            .map(|t| {
                let ms = t
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64);
                ms < this_month.unix_ms()
            })
            .unwrap_or(true);
        if stale {
            let (files, hidden, venues) =
                crate::opendata::export(&store, dir, 24, "passnum").await?;
            println!(
                "Données ouvertes du mois écrites dans {} : {files} fichiers, {hidden} cases « secret », {venues} lieux.",
                dir.display()
            );
        }
    }
    // Contacts given for reminders are kept only until the workshop is over.
    let contacts = store.erase_past_booking_contacts(now()).await?;
    println!(
        "Nettoyage : {} clés d'idempotence, {} tentatives de connexion, {} sessions expirées, {} liens de mot de passe expirés, {} contacts de réservation effacés, {} diagnostics de remise effacés (sans contact depuis {} jours).",
        purged.idempotency_keys,
        purged.sign_in_attempts,
        purged.sessions,
        purged.password_links,
        contacts,
        purged.handout_answers,
        keep_handout_answers_days
    );
    if purged.mail_given_up + purged.mail_deleted > 0 {
        println!(
            "E-mails : {} abandonnés (en attente depuis 7 jours), {} anciens effacés.",
            purged.mail_given_up, purged.mail_deleted
        );
    }
    // After a payment run, the venues' marks pass the cheques it paid: the next run reads
    // only what came after (store `payments/marks.rs`).
    let marks = store.move_payment_marks(now()).await?;
    if marks > 0 {
        println!("Virements : repère de paiement avancé pour {marks} lieux.");
    }
    // Every day, the audit trail checked and its head printed: the daily report (cron's mail,
    // the timer's journal) then keeps the hash outside the database.
    crate::backup::report_audit(&store).await
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
