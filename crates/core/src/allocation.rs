//! Allocation keys: how a funder shares the booklets of an order among distributors.
//!
//! Each structure gets a fixed number, plus a share of the rest proportional to a weighted sum
//! of criteria (population, population in priority neighbourhoods, any figure the funder
//! uploads). Each criterion is first normalised (a structure's part of the criterion's
//! total), so criteria measured in different units can be weighted together. Shares are
//! rounded with the largest-remainder method: the total is always exactly the stock given.

use std::collections::{BTreeMap, HashSet};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Criterion {
    pub name: String,
    /// Relative weight, ≥ 0 (for example 70 and 30).
    pub weight: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StructureShare {
    /// The distributor.
    pub id: i64,
    /// Booklets given whatever the criteria.
    pub fixed: i64,
    /// One value per criterion, in the criteria's order, ≥ 0.
    pub values: Vec<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllocationKey {
    pub criteria: Vec<Criterion>,
    pub structures: Vec<StructureShare>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    #[error("La clé ne contient aucune structure.")]
    NoStructure,
    #[error("La structure n° {0} apparaît deux fois : gardez une seule ligne par structure.")]
    Duplicate(i64),
    #[error("Le poids du critère « {0} » est négatif : les poids sont des nombres positifs.")]
    NegativeWeight(String),
    #[error(
        "La structure n° {0} a une valeur négative ou une part fixe négative : corrigez la ligne."
    )]
    NegativeValue(i64),
    #[error(
        "La structure n° {id} a {got} valeurs au lieu de {want} (une par critère) : complétez la ligne."
    )]
    WrongWidth { id: i64, got: usize, want: usize },
    #[error(
        "Les parts fixes demandent {fixed} carnets, il n'y en a que {stock} en stock : réduisez-les."
    )]
    FixedOverStock { fixed: i64, stock: i64 },
    #[error(
        "Aucun critère ne départage les structures (poids ou valeurs tous nuls) : donnez au moins un critère avec un poids et des valeurs."
    )]
    NothingToWeigh,
}

impl AllocationKey {
    fn check(&self) -> Result<(), AllocationError> {
        if self.structures.is_empty() {
            return Err(AllocationError::NoStructure);
        }
        if let Some(c) = self.criteria.iter().find(|c| c.weight < 0) {
            return Err(AllocationError::NegativeWeight(c.name.clone()));
        }
        let mut seen = HashSet::new();
        for s in &self.structures {
            if !seen.insert(s.id) {
                return Err(AllocationError::Duplicate(s.id));
            }
            if s.values.len() != self.criteria.len() {
                return Err(AllocationError::WrongWidth {
                    id: s.id,
                    got: s.values.len(),
                    want: self.criteria.len(),
                });
            }
            if s.fixed < 0 || s.values.iter().any(|v| *v < 0) {
                return Err(AllocationError::NegativeValue(s.id));
            }
        }
        Ok(())
    }

    /// Shares `stock` booklets: (structure id, booklets) in the key's order. The total is
    /// exactly `stock`. Whatever order the structures come in (a page, the API, a CSV file),
    /// the shares are computed over them sorted by id, so the result is the same and a tie
    /// for the last booklets goes to the lowest structure id.
    pub fn allocate(&self, stock: i64) -> Result<Vec<(i64, i64)>, AllocationError> {
        self.check()?;
        let mut sorted = self.clone();
        sorted.structures.sort_by_key(|s| s.id);
        let shares: std::collections::HashMap<i64, i64> =
            sorted.allocate_sorted(stock)?.into_iter().collect();
        Ok(self
            .structures
            .iter()
            .map(|s| (s.id, shares.get(&s.id).copied().unwrap_or(0)))
            .collect())
    }

    fn allocate_sorted(&self, stock: i64) -> Result<Vec<(i64, i64)>, AllocationError> {
        let fixed: i64 = self.structures.iter().map(|s| s.fixed).sum();
        if fixed > stock {
            return Err(AllocationError::FixedOverStock { fixed, stock });
        }
        let pool = stock - fixed;
        let scores = self.scores();
        let total: f64 = scores.iter().sum();
        if pool > 0 && total <= 0.0 {
            return Err(AllocationError::NothingToWeigh);
        }
        let quotas: Vec<f64> = scores
            .iter()
            .map(|s| {
                if total > 0.0 {
                    pool as f64 * s / total
                } else {
                    0.0
                }
            })
            .collect();
        let variable = largest_remainder(pool, &quotas);
        Ok(self
            .structures
            .iter()
            .zip(variable)
            .map(|(s, v)| (s.id, s.fixed + v))
            .collect())
    }

    /// Each structure's weighted sum of its normalised criteria.
    fn scores(&self) -> Vec<f64> {
        let totals: Vec<i64> = (0..self.criteria.len())
            .map(|j| self.structures.iter().map(|s| s.values[j]).sum())
            .collect();
        self.structures
            .iter()
            .map(|s| {
                self.criteria
                    .iter()
                    .enumerate()
                    .filter(|(j, c)| c.weight > 0 && totals[*j] > 0)
                    .map(|(j, c)| c.weight as f64 * s.values[j] as f64 / totals[j] as f64)
                    .sum()
            })
            .collect()
    }
}

/// Rounds quotas summing to `total` into integers summing to exactly `total`: each gets the
/// floor of its quota, then the units left go to the largest fractional parts (ties: the
/// earlier structure). Floating-point excess is taken back from the smallest fractions.
pub fn largest_remainder(total: i64, quotas: &[f64]) -> Vec<i64> {
    let mut out: Vec<i64> = quotas.iter().map(|q| q.max(0.0).floor() as i64).collect();
    let frac = |i: usize| quotas[i].max(0.0) - quotas[i].max(0.0).floor();
    let mut order: Vec<usize> = (0..quotas.len()).collect();
    // Largest fraction first; stable, so ties keep the key's order.
    order.sort_by(|a, b| frac(*b).total_cmp(&frac(*a)));
    let mut left = total - out.iter().sum::<i64>();
    while left < 0 {
        // Rounding pushed a quota over an integer: take back from the smallest fractions.
        let mut changed = false;
        for &i in order.iter().rev() {
            if left == 0 {
                break;
            }
            if out[i] > 0 {
                out[i] -= 1;
                left += 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    while left > 0 && !order.is_empty() {
        for &i in &order {
            if left == 0 {
                break;
            }
            out[i] += 1;
            left -= 1;
        }
    }
    out
}

/// Criterion names, and each structure's values in that order.
pub type CriteriaTable = (Vec<String>, BTreeMap<i64, Vec<i64>>);

/// What the lines of a key share among: structures, or an order's member territories (the first
/// stage of a two-stage allocation). Only the sentences differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyUnit {
    Structures,
    Territories,
}

impl KeyUnit {
    fn noun(self) -> &'static str {
        match self {
            Self::Structures => "la structure",
            Self::Territories => "le territoire",
        }
    }

    fn among(self) -> &'static str {
        match self {
            Self::Structures => "parmi les structures qui peuvent en recevoir",
            Self::Territories => "parmi les territoires membres de la commande",
        }
    }
}

/// Reads a criteria file of structures: see [`parse_criteria_csv_of`].
pub fn parse_criteria_csv(text: &str, known: &HashSet<i64>) -> Result<CriteriaTable, String> {
    parse_criteria_csv_of(text, known, KeyUnit::Structures)
}

/// Reads a criteria file: a header `structure;name1;name2…` (or `territoire;…`) then one line
/// per structure or territory with its number and one whole number per criterion (`;` or `,`
/// separated). Weights are given separately.
pub fn parse_criteria_csv_of(
    text: &str,
    known: &HashSet<i64>,
    unit: KeyUnit,
) -> Result<CriteriaTable, String> {
    let noun = unit.noun();
    let delimiter = if text.lines().next().is_some_and(|l| l.contains(';')) {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("L'en-tête est illisible ({e}) : enregistrez le fichier en CSV."))?
        .clone();
    if headers.len() < 2 {
        return Err(
            "L'en-tête doit nommer la colonne des numéros puis au moins un critère.".into(),
        );
    }
    let names: Vec<String> = headers.iter().skip(1).map(str::to_string).collect();
    let mut rows = BTreeMap::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.map_err(|e| format!("Ligne {line} illisible ({e}) : corrigez-la."))?;
        let id: i64 = record.get(0).and_then(|s| s.parse().ok()).ok_or_else(|| {
            format!("Ligne {line} : le numéro de la première colonne doit être un nombre entier.")
        })?;
        if !known.contains(&id) {
            return Err(format!(
                "Ligne {line} : {noun} n° {id} n'existe pas {} : vérifiez son numéro.",
                unit.among()
            ));
        }
        let values: Vec<i64> = record
            .iter()
            .skip(1)
            .map(|v| v.replace([' ', '\u{a0}'], "").parse::<i64>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("Ligne {line} : chaque critère est un nombre entier."))?;
        if values.len() != names.len() {
            return Err(format!(
                "Ligne {line} : {} valeurs au lieu de {}.",
                values.len(),
                names.len()
            ));
        }
        if values.iter().any(|v| *v < 0) {
            return Err(format!(
                "Ligne {line} : une valeur est négative ; les critères sont positifs."
            ));
        }
        if rows.insert(id, values).is_some() {
            return Err(format!("Ligne {line} : {noun} n° {id} apparaît deux fois."));
        }
    }
    Ok((names, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(fixed: &[i64], pops: &[i64], qpv: &[i64]) -> AllocationKey {
        AllocationKey {
            criteria: vec![
                Criterion {
                    name: "population".into(),
                    weight: 70,
                },
                Criterion {
                    name: "qpv".into(),
                    weight: 30,
                },
            ],
            structures: fixed
                .iter()
                .enumerate()
                .map(|(i, f)| StructureShare {
                    id: i as i64 + 1,
                    fixed: *f,
                    values: vec![pops[i], qpv[i]],
                })
                .collect(),
        }
    }

    #[test]
    fn fixed_part_plus_weighted_criteria_exactly() {
        // 100 booklets: 10 fixed each, 70 shared by 70 % population and 30 % QPV.
        let k = key(&[10, 10, 10], &[50_000, 30_000, 20_000], &[0, 5_000, 5_000]);
        let a = k.allocate(100).unwrap();
        assert_eq!(a.iter().map(|(_, n)| n).sum::<i64>(), 100);
        // Quotas: 70 × (0.7×0.5 + 0) = 24.5; 70 × (0.7×0.3 + 0.3×0.5) = 25.2; 70 × (0.14 + 0.15) = 20.3.
        assert_eq!(a, vec![(1, 10 + 25), (2, 10 + 25), (3, 10 + 20)]);
    }

    #[test]
    fn largest_remainders_get_the_units_left() {
        assert_eq!(largest_remainder(10, &[3.3, 3.3, 3.4]), vec![3, 3, 4]);
        assert_eq!(
            largest_remainder(2, &[0.5, 0.5, 0.5, 0.5]),
            vec![1, 1, 0, 0]
        );
        assert_eq!(largest_remainder(0, &[0.0, 0.0]), vec![0, 0]);
    }

    #[test]
    fn the_order_the_structures_come_in_changes_nothing_and_ties_go_to_the_lowest_id() {
        // Three equal structures, 10 booklets: one is left over after 3 each.
        let k = key(&[0, 0, 0], &[5, 5, 5], &[1, 1, 1]);
        assert_eq!(k.allocate(10).unwrap(), vec![(1, 4), (2, 3), (3, 3)]);
        let mut reversed = k.clone();
        reversed.structures.reverse();
        assert_eq!(reversed.allocate(10).unwrap(), vec![(3, 3), (2, 3), (1, 4)]);
    }

    #[test]
    fn bad_keys_are_explained() {
        let mut k = key(&[10, 10], &[1, 1], &[1, 1]);
        assert_eq!(
            k.allocate(15),
            Err(AllocationError::FixedOverStock {
                fixed: 20,
                stock: 15
            })
        );
        k.criteria[0].weight = -1;
        assert!(matches!(
            k.allocate(100),
            Err(AllocationError::NegativeWeight(_))
        ));
        let mut k = key(&[0, 0], &[1, 1], &[1, 1]);
        k.structures[1].id = 1;
        assert_eq!(k.allocate(10), Err(AllocationError::Duplicate(1)));
        let k = key(&[0, 0], &[0, 0], &[0, 0]);
        assert_eq!(k.allocate(10), Err(AllocationError::NothingToWeigh));
        let k = key(&[0, 0], &[-5, 1], &[1, 1]);
        assert_eq!(k.allocate(10), Err(AllocationError::NegativeValue(1)));
    }

    #[test]
    fn criteria_files_are_checked() {
        let known: HashSet<i64> = [1, 2, 3].into();
        let (names, rows) =
            parse_criteria_csv("structure;population;qpv\n1;1 200;30\n2;800;0\n", &known).unwrap();
        assert_eq!(names, vec!["population", "qpv"]);
        assert_eq!(rows[&1], vec![1200, 30]);
        assert!(
            parse_criteria_csv("structure;population\n9;10\n", &known)
                .unwrap_err()
                .contains("n'existe pas")
        );
        assert!(
            parse_criteria_csv("structure;population\n1;10\n1;12\n", &known)
                .unwrap_err()
                .contains("deux fois")
        );
        assert!(
            parse_criteria_csv("structure;population\n1;-10\n", &known)
                .unwrap_err()
                .contains("négative")
        );
        assert!(parse_criteria_csv("structure,population\n1,abc\n", &known).is_err());
    }

    proptest! {
        /// No booklet is lost or counted twice: the shares always add up to the stock, every
        /// structure gets at least its fixed part, and no one is more than one booklet away
        /// from its exact quota.
        #[test]
        fn shares_add_up_and_stay_within_one_of_the_quota(
            rows in proptest::collection::vec((0i64..20, 0i64..2_000_000, 0i64..100_000), 1..60),
            w1 in 0i64..100, w2 in 0i64..100, extra in 0i64..100_000,
        ) {
            let fixed: Vec<i64> = rows.iter().map(|r| r.0).collect();
            let pops: Vec<i64> = rows.iter().map(|r| r.1 + 1).collect();
            let qpv: Vec<i64> = rows.iter().map(|r| r.2).collect();
            let mut k = key(&fixed, &pops, &qpv);
            k.criteria[0].weight = w1 + 1;
            k.criteria[1].weight = w2;
            let stock = fixed.iter().sum::<i64>() + extra;
            let a = k.allocate(stock).unwrap();
            prop_assert_eq!(a.iter().map(|(_, n)| n).sum::<i64>(), stock);
            let scores = k.scores();
            let total: f64 = scores.iter().sum();
            for (i, (_, n)) in a.iter().enumerate() {
                prop_assert!(*n >= fixed[i]);
                let quota = extra as f64 * scores[i] / total;
                prop_assert!(((n - fixed[i]) as f64 - quota).abs() < 1.0 + 1e-6);
            }
        }

        #[test]
        fn largest_remainder_is_exact_for_any_quotas(parts in proptest::collection::vec(0.0f64..1000.0, 1..50)) {
            let total_f: f64 = parts.iter().sum();
            let total = total_f.round() as i64;
            let scaled: Vec<f64> = parts.iter().map(|p| if total_f > 0.0 { p * total as f64 / total_f } else { 0.0 }).collect();
            let out = largest_remainder(total, &scaled);
            prop_assert_eq!(out.iter().sum::<i64>(), total);
            prop_assert!(out.iter().all(|n| *n >= 0));
        }
    }
}
