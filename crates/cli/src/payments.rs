//! `passnum bank …` and `passnum payments …`: bank details and monthly payment runs.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use passnum_app::statements::{Names, venue_statements};
use passnum_core::payment::FeeRate;
use passnum_core::sepa::Debtor;
use passnum_core::{BankDetails, Bic, Iban, Money, VenueId, paris};
use passnum_store::Store;
use time::Date;

use crate::now;

#[derive(Subcommand)]
pub enum BankCommand {
    /// Record new bank details for a venue; its payments wait until they are confirmed.
    Set {
        #[arg(long)]
        venue: i64,
        #[arg(long)]
        iban: String,
        #[arg(long)]
        bic: String,
        /// Account holder, as the bank knows it.
        #[arg(long)]
        holder: String,
    },
    /// Confirm a venue's pending bank details (after checking them with the venue).
    Confirm {
        #[arg(long)]
        venue: i64,
        /// The id printed by `bank set` or `bank show`.
        #[arg(long)]
        account: i64,
    },
    /// Show a venue's bank details and their history.
    Show {
        #[arg(long)]
        venue: i64,
    },
}

#[derive(Subcommand)]
pub enum PaymentsCommand {
    /// What a run would pay, and which venues' cheques would wait (nothing is written).
    Preview(RunArgs),
    /// Prepare a run (a draft that can still be cancelled).
    Create(RunArgs),
    /// Confirm a run: the cheques become paid and the ledger posts the payments. Final.
    Confirm {
        #[arg(long)]
        run: i64,
    },
    /// Cancel a draft run: its cheques go to a later run.
    Cancel {
        #[arg(long)]
        run: i64,
    },
    /// Record that a paid cheque must be recovered: deducted from its venue's next run and
    /// refunded to its funder (a confirmed run is never changed).
    Correct {
        /// The redemption paid wrongly (see the venue's statement or `ledger journal`).
        #[arg(long)]
        redemption: i64,
        /// Why: printed on the venue's statement.
        #[arg(long)]
        reason: String,
    },
    /// Corrections waiting for a run, or recovered by one (`--run`).
    Corrections {
        #[arg(long)]
        run: Option<i64>,
    },
    /// Write the SEPA credit transfer file and one CSV statement per venue.
    Export {
        #[arg(long)]
        run: i64,
        /// Folder to write into (created if needed).
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// The operator's account, debited by the transfers.
        #[arg(long)]
        debtor_name: String,
        #[arg(long)]
        debtor_iban: String,
        #[arg(long)]
        debtor_bic: String,
        /// Requested execution date (YYYY-MM-DD); tomorrow by default.
        #[arg(long)]
        execution_date: Option<String>,
        /// Also write each statement as PDF.
        #[arg(long)]
        pdf: bool,
    },
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// Last day (Paris) of the redemptions to pay, YYYY-MM-DD: at most yesterday.
    #[arg(long)]
    cutoff: String,
    /// Operator's fee on the venue side, in basis points (400 = 4 %). Default: the
    /// programme's (`passnum fees`).
    #[arg(long)]
    fee_bp: Option<i64>,
}

fn date(s: &str) -> anyhow::Result<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), fmt).with_context(|| format!("« {s} » n'est pas une date AAAA-MM-JJ"))
}

async fn parse_run(store: &Store, args: &RunArgs) -> anyhow::Result<(Date, FeeRate)> {
    let fee = match args.fee_bp {
        Some(bp) => FeeRate::from_basis_points(bp)?,
        None => store.programme_fees().await?.venue(),
    };
    Ok((date(&args.cutoff)?, fee))
}

pub async fn bank(store: &Store, cmd: BankCommand) -> anyhow::Result<()> {
    match cmd {
        BankCommand::Set {
            venue,
            iban,
            bic,
            holder,
        } => {
            let details = BankDetails::parse(&iban, &bic, &holder).map_err(|errors| {
                let sentences: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
                anyhow::anyhow!(sentences.join(" "))
            })?;
            let a = store
                .set_bank_account(VenueId(venue), &details, now())
                .await?;
            println!(
                "Coordonnées n° {} enregistrées pour le lieu {venue} : {}, {}.",
                a.id, a.iban, a.bic
            );
            println!(
                "Ses paiements sont suspendus jusqu'à confirmation : passnum bank confirm --venue {venue} --account {}",
                a.id
            );
        }
        BankCommand::Confirm { venue, account } => {
            store
                .confirm_bank_account(VenueId(venue), account, now())
                .await?;
            println!("Coordonnées n° {account} du lieu {venue} confirmées.");
        }
        BankCommand::Show { venue } => {
            for a in store.bank_accounts(VenueId(venue)).await? {
                let state = match (a.superseded_at, a.confirmed_at) {
                    (Some(_), _) => "remplacées",
                    (None, Some(_)) => "actuelles, confirmées",
                    (None, None) => "actuelles, EN ATTENTE de confirmation",
                };
                println!(
                    "n° {}\t{}\t{}\t{}\t{}\t{state}",
                    a.id,
                    paris::format_moment(a.created_at),
                    a.iban,
                    a.bic,
                    a.holder
                );
            }
        }
    }
    Ok(())
}

pub async fn payments(store: &Store, cmd: PaymentsCommand) -> anyhow::Result<()> {
    match cmd {
        PaymentsCommand::Preview(args) => {
            let (cutoff, fee) = parse_run(store, &args).await?;
            let p = store.preview_payment_run(cutoff, fee, now()).await?;
            println!(
                "Arrêté au {} ; commission {} points de base.",
                paris::format_date(cutoff),
                fee.basis_points()
            );
            println!("lieu\tchèques\tbrut\tcommission\tnet");
            for l in &p.venues {
                println!(
                    "{} {}\t{}\t{}\t{}\t{}",
                    l.venue_id,
                    l.venue_name,
                    l.cheques,
                    Money::from_cents(l.gross_cents),
                    Money::from_cents(l.fee_cents),
                    Money::from_cents(l.net_cents)
                );
            }
            for w in &p.waiting {
                let why = if w.reason == "no_bank_details" {
                    "pas de coordonnées bancaires"
                } else {
                    "coordonnées à confirmer"
                };
                println!(
                    "EN ATTENTE {} {}\t{} chèques\t{}\t({why})",
                    w.venue_id,
                    w.venue_name,
                    w.cheques,
                    Money::from_cents(w.gross_cents)
                );
            }
        }
        PaymentsCommand::Create(args) => {
            let (cutoff, fee) = parse_run(store, &args).await?;
            let r = store.create_payment_run(cutoff, fee, now()).await?;
            println!(
                "Virement n° {} préparé : {} chèques, {} brut, {} de commission, {} à verser.",
                r.id,
                r.cheques,
                Money::from_cents(r.gross_cents),
                Money::from_cents(r.fee_cents),
                Money::from_cents(r.net_cents)
            );
            println!(
                "Vérifiez-le (passnum payments export), puis : passnum payments confirm --run {}",
                r.id
            );
        }
        PaymentsCommand::Confirm { run } => {
            let r = store.confirm_payment_run(run, now()).await?;
            println!(
                "Virement n° {} confirmé : {} chèques payés, {} versés.",
                r.id,
                r.cheques,
                Money::from_cents(r.net_cents)
            );
        }
        PaymentsCommand::Correct { redemption, reason } => {
            let c = store.create_correction(redemption, &reason, now()).await?;
            println!(
                "Correction n° {} du chèque {} : {} remboursé au commanditaire, dont {} retenu sur le prochain virement du lieu n° {} (ce qu'il a reçu) et {} de commission rendue par l'opérateur.",
                c.id,
                c.cheque_code,
                Money::from_cents(c.amount_cents),
                Money::from_cents(c.recovered_cents()),
                c.venue_id.0,
                Money::from_cents(c.fee_cents)
            );
        }
        PaymentsCommand::Corrections { run } => {
            for c in store.corrections(run).await? {
                println!(
                    "n° {}  lieu {}  {}  {} (repris au lieu {})  virement corrigé {}  {}  « {} »",
                    c.id,
                    c.venue_id.0,
                    c.cheque_code,
                    Money::from_cents(c.amount_cents),
                    Money::from_cents(c.recovered_cents()),
                    c.corrected_run_id,
                    c.run_id.map_or("en attente".to_string(), |r| format!(
                        "retenu sur le virement {r}"
                    )),
                    c.reason
                );
            }
        }
        PaymentsCommand::Cancel { run } => {
            store.cancel_payment_run(run, now()).await?;
            println!("Virement n° {run} annulé : ses chèques iront dans un prochain virement.");
        }
        PaymentsCommand::Export {
            run,
            out,
            debtor_name,
            debtor_iban,
            debtor_bic,
            execution_date,
            pdf,
        } => {
            let debtor = Debtor {
                name: debtor_name,
                iban: Iban::parse(&debtor_iban)?,
                bic: Bic::parse(&debtor_bic)?,
            };
            let execution = match execution_date {
                Some(d) => date(&d)?,
                None => paris::local_date(now()).next_day().context("date")?,
            };
            export(store, run, &out, &debtor, execution, pdf).await?;
        }
    }
    Ok(())
}

/// The SEPA file and the statements of a run. Memory stays bounded: statements are streamed
/// a page at a time, whatever the number of cheques.
pub async fn export(
    store: &Store,
    run: i64,
    out: &Path,
    debtor: &Debtor,
    execution: Date,
    pdf: bool,
) -> anyhow::Result<()> {
    let r = store.payment_run(run).await?;
    if r.status == passnum_store::RunStatus::Cancelled {
        bail!("le virement n° {run} est annulé : il n'y a rien à exporter");
    }
    std::fs::create_dir_all(out).with_context(|| format!("création de {}", out.display()))?;
    let lines = store.payment_run_lines(run).await?;
    let xml =
        passnum_app::sepa_file::sepa_file_of(store, run, &lines, debtor, execution, now(), true)
            .await?;
    let sepa_path = out.join(format!("virement-{run}.xml"));
    std::fs::write(&sepa_path, xml)
        .with_context(|| format!("écriture de {}", sepa_path.display()))?;
    let bar = indicatif::ProgressBar::new(lines.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("relevés {bar:40} {pos}/{len} lieux ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut names = Names::load(store).await?;
    let corrections = store.corrections(Some(run)).await?;
    for chunk in lines.chunks(100) {
        for statement in venue_statements(store, &mut names, run, chunk, &corrections).await? {
            let venue = statement.total.venue_id;
            let path = out.join(format!("releve-{run}-lieu-{venue}.csv"));
            let file = std::fs::File::create(&path)
                .with_context(|| format!("écriture de {}", path.display()))?;
            std::io::Write::flush(&mut statement.write_csv(std::io::BufWriter::new(file))?)?;
            if pdf {
                let path = out.join(format!("releve-{run}-lieu-{venue}.pdf"));
                std::fs::write(&path, statement.pdf(&r)?)
                    .with_context(|| format!("écriture de {}", path.display()))?;
            }
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    eprintln!(
        "Écrit : {} et {} relevés dans {}",
        sepa_path.display(),
        lines.len(),
        out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use passnum_core::order::OrderRequest;
    use passnum_core::{ChequeCode, InseeCode, NewOrder, Siret, VenueStatus};
    use passnum_store::testing::{TestDb, TestEngine};
    use passnum_store::{NewVenue, Outcome, RedeemRequest};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn export_writes_a_valid_sepa_file_and_statements_that_add_up() {
        let db = TestDb::new(TestEngine::Sqlite).await;
        let s = &db.store;
        let today = paris::local_date(now());
        let long_ago = now().plus_ms(-3 * 24 * 3_600_000);
        let f = s
            .create_funder("Département de l'Ain", "departement", long_ago)
            .await
            .unwrap();
        let order = NewOrder::parse(&OrderRequest {
            booklet_count: 1,
            cheques_per_booklet: 10,
            face_value_cents: 1000,
            valid_from: today - time::Duration::days(30),
            valid_until: today + time::Duration::days(30),
            tolerance_days: 0,
            perimeter_communes: vec![],
            perimeter_departements: vec![],
            perimeter_epcis: vec![],
            perimeter_regions: vec![],
        })
        .unwrap();
        let o = s.create_order(f.id, &order, long_ago).await.unwrap();
        let v = s
            .create_venue(
                &NewVenue {
                    siret: Siret::parse("21690123000005").unwrap().into(),
                    name: "Médiathèque; \"centrale\"".into(),
                    commune: InseeCode::parse("01053").unwrap(),
                    status: VenueStatus::Qualified,
                    qualified_until: None,
                    address: String::new(),
                    contact: String::new(),
                    services: s.referentiel_codes(),
                },
                long_ago,
            )
            .await
            .unwrap();
        let a = s
            .set_bank_account(
                v.id,
                &BankDetails::parse("FR7630006000011234567890189", "AGRIFRPP", "Commune").unwrap(),
                long_ago,
            )
            .await
            .unwrap();
        s.confirm_bank_account(v.id, a.id, long_ago).await.unwrap();
        for c in s.list_cheques(o.id, 0, 3).await.unwrap() {
            let req = RedeemRequest {
                venue_id: v.id,
                code: ChequeCode::parse(&c.code).unwrap(),
                service_code: "2.2.02".into(),
                workshop_id: None,
                now: long_ago,
                idempotency: None,
            };
            assert!(matches!(
                s.redeem(req).await.unwrap().outcome,
                Outcome::Accepted(_)
            ));
        }
        let run = s
            .create_payment_run(
                today - time::Duration::days(1),
                FeeRate::from_basis_points(400).unwrap(),
                now(),
            )
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let debtor = Debtor {
            name: "Opérateur".into(),
            iban: Iban::parse("FR1420041010050500013M02606").unwrap(),
            bic: Bic::parse("PSSTFRPPLIL").unwrap(),
        };
        export(s, run.id, dir.path(), &debtor, today, true)
            .await
            .unwrap();
        let pdf = dir
            .path()
            .join(format!("releve-{}-lieu-{}.pdf", run.id, v.id));
        let text = std::process::Command::new("pdftotext")
            .arg(&pdf)
            .arg("-")
            .output()
            .expect("pdftotext");
        let text = String::from_utf8(text.stdout).unwrap();
        assert!(
            text.contains("Total : 3 chèques") && text.contains("28,80"),
            "{text}"
        );
        let xml = dir.path().join(format!("virement-{}.xml", run.id));
        let xsd = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../core/tests/data/pain.001.001.03.xsd"
        );
        let check = std::process::Command::new("xmllint")
            .args(["--noout", "--schema", xsd])
            .arg(&xml)
            .output()
            .expect("xmllint");
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );
        assert!(
            std::fs::read_to_string(&xml)
                .unwrap()
                .contains("<CtrlSum>28.80</CtrlSum>")
        );
        let mut r = csv::ReaderBuilder::new()
            .delimiter(b';')
            .from_path(
                dir.path()
                    .join(format!("releve-{}-lieu-{}.csv", run.id, v.id)),
            )
            .unwrap();
        let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
        assert_eq!(rows.len(), 4);
        assert_eq!(&rows[0][3], "Déclarer ses revenus en ligne");
        assert_eq!(&rows[0][4], "Département de l'Ain");
        assert_eq!(
            (&rows[0][5], &rows[0][6], &rows[0][7]),
            ("10,00", "0,40", "9,60")
        );
        assert_eq!(
            (&rows[3][0], &rows[3][5], &rows[3][7]),
            ("TOTAL", "30,00", "28,80")
        );
    }
}
