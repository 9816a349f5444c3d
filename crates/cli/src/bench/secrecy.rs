//! Statistical secrecy at national scale, without a database: every commune of France with
//! handouts and uses for 24 months (deterministic pseudo-random counts, a third of them from
//! 1 to 10), three venues per commune over the three levels of the référentiel; then
//! `open_figures::build` (primary secrecy, complements, the linear attack on every measure)
//! and the files, three times; median.

use std::time::Instant;

use passnum_store::{CommuneCount, OpenDataCounts, VenueMonthPaid, VenueMonthUse};

use super::median;

/// A small deterministic generator (xorshift), so each run protects the same cells.
struct Draw(u64);

impl Draw {
    fn next(&mut self, below: i64) -> i64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below as u64) as i64
    }
    /// 0 (a third), 1 to 10 (a third) or 11 to 200.
    fn count(&mut self) -> i64 {
        match self.next(3) {
            0 => 0,
            1 => 1 + self.next(10),
            _ => 11 + self.next(190),
        }
    }
}

fn national_counts(months: usize, communes: usize) -> OpenDataCounts {
    let mut d = Draw(0x9e37_79b9_7f4a_7c15);
    let mut c = OpenDataCounts {
        levels: vec![
            (1, "Découvrir".into()),
            (2, "Apprendre".into()),
            (3, "Maîtriser".into()),
        ],
        bought: vec![1_000; months],
        ..Default::default()
    };
    let mut all: Vec<_> = passnum_core::commune::communes().iter().collect();
    all.sort_by_key(|c| c.insee);
    for (i, commune) in all.into_iter().take(communes).enumerate() {
        let insee = commune.insee.to_string();
        for month in 0..months {
            c.handed_out.push(CommuneCount {
                commune: insee.clone(),
                month,
                n: d.count(),
            });
            for v in 0..3 {
                let venue_id = (i * 3 + v) as i64;
                let cheques = d.count();
                c.used.push(VenueMonthUse {
                    commune: insee.clone(),
                    month,
                    venue_id,
                    level: v as i64 + 1,
                    cheques,
                    cents: cheques * 1_000,
                });
                c.paid.push(VenueMonthPaid {
                    commune: insee.clone(),
                    month,
                    venue_id,
                    cents: cheques * 950,
                });
            }
        }
    }
    c
}

pub fn bench_secrecy(communes: usize) -> anyhow::Result<()> {
    let months = 24;
    let communes = communes.min(passnum_core::commune::communes().iter().count());
    let counts = national_counts(months, communes);
    let slugs: Vec<String> = (0..months)
        .map(|m| format!("{}-{:02}", 2025 + m / 12, m % 12 + 1))
        .collect();
    let mut times = vec![];
    let mut hidden = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let figures = passnum_app::open_figures::build(&counts, slugs.clone())?;
        let files = figures.files();
        times.push(t.elapsed());
        hidden = figures.hidden;
        anyhow::ensure!(files.len() == 5, "five files");
    }
    println!(
        "| open-data secrecy (national) | none | {communes} communes × {months} months | 1 | median {:.2} s | {hidden} cells hidden, linear attack on 4 measures |",
        median(times).as_secs_f64()
    );
    Ok(())
}
