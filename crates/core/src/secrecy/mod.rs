//! Statistical secrecy of published figures.
//!
//! A count of people or households from 1 to 10 is never published (primary secrecy); an
//! amount is published only when at least 3 units (venues) make it up and none of them more
//! than 85 % of it (the business-secrecy rule). Published totals would let anyone recompute
//! a secret cell by subtraction, so secondary suppression hides more cells until every
//! relation "total = sum of parts" holds zero or at least two secret members.
//!
//! The cells of an export are numbered by the caller; [`Relation`]s say which cells sum to
//! which (a département's month = the sum of its communes' months, the programme's month =
//! the sum of the départements', an EPCI's = the sum of its communes'). [`protect`] returns
//! which cells to hide; [`recoverable`] is the attack: linear algebra over every relation at
//! once (see `linear`), which also catches what overlapping groups give away.

mod linear;

use std::collections::HashSet;

pub use linear::recoverable;

/// Counts from 1 to this are secret.
pub const SECRET_MAX: i64 = 10;
/// An amount needs at least this many contributing units…
pub const MIN_UNITS: usize = 3;
/// …and none above this share of it, in percent.
pub const MAX_UNIT_SHARE_PCT: i64 = 85;

/// Whether a count of people is secret on its own.
pub fn count_is_secret(n: i64) -> bool {
    (1..=SECRET_MAX).contains(&n)
}

/// Whether an amount made of `units` (one amount per contributor) is secret on its own.
pub fn amount_is_secret(units: &[i64]) -> bool {
    let contributing: Vec<i64> = units.iter().copied().filter(|u| *u > 0).collect();
    let total: i64 = contributing.iter().sum();
    if total == 0 {
        return false;
    }
    contributing.len() < MIN_UNITS
        || contributing
            .iter()
            .any(|u| i128::from(*u) * 100 > i128::from(total) * i128::from(MAX_UNIT_SHARE_PCT))
}

/// `total` = the sum of `parts` (cell indices).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relation {
    pub total: usize,
    pub parts: Vec<usize>,
}

/// Hides cells until no secret cell can be recomputed. `values` are the cells' values,
/// `secret` the primary secrets (updated in place). First every relation gets zero or at
/// least two hidden members: a complement is the smallest positive visible part (hiding a
/// small value costs the reader least), failing one the total. Then the linear attack runs,
/// and each cell it still recovers gets a complement among the relations it belongs to; until
/// the attack learns nothing. Returns how many cells were hidden as complements.
pub fn protect(values: &[i64], secret: &mut [bool], relations: &[Relation]) -> usize {
    let mut added = 0;
    let mut index: Option<Vec<Vec<usize>>> = None;
    loop {
        added += no_lone_secret(values, secret, relations);
        let leaks = recoverable(secret, relations);
        if leaks.is_empty() {
            return added;
        }
        let index = index.get_or_insert_with(|| relations_of_cells(secret.len(), relations));
        let mut hid = false;
        for leak in leaks {
            if let Some(c) = complement_for(leak, values, secret, relations, index) {
                secret[c] = true;
                added += 1;
                hid = true;
            }
        }
        if !hid {
            // Nothing left to hide beside the leaks: the caller's attack will refuse it.
            return added;
        }
    }
}

/// For each cell, the relations it belongs to (as total or part).
fn relations_of_cells(cells: usize, relations: &[Relation]) -> Vec<Vec<usize>> {
    let mut of = vec![vec![]; cells];
    for (k, r) in relations.iter().enumerate() {
        for cell in std::iter::once(r.total).chain(r.parts.iter().copied()) {
            of[cell].push(k);
        }
    }
    of
}

/// A visible cell to hide so that `leak` is no longer determined: the smallest positive one
/// among the relations `leak` belongs to, else among the relations reached through hidden
/// cells from there (the equations that determine it). A cell that sits in exactly the
/// same relations as another hidden cell (a commune of the same département and EPCI) is no
/// help: it would only ever be read together with it, so it is skipped.
fn complement_for(
    leak: usize,
    values: &[i64],
    secret: &[bool],
    relations: &[Relation],
    index: &[Vec<usize>],
) -> Option<usize> {
    let members = |k: usize| {
        let r = &relations[k];
        std::iter::once(r.total).chain(r.parts.iter().copied())
    };
    let signature = |cell: usize| -> Vec<(usize, bool)> {
        index[cell]
            .iter()
            .map(|k| (*k, relations[*k].total == cell))
            .collect()
    };
    let mut seen_cells = HashSet::from([leak]);
    let mut seen_relations = HashSet::new();
    let mut hidden_signatures = HashSet::new();
    let mut frontier = vec![leak];
    while !frontier.is_empty() {
        let around: Vec<usize> = frontier
            .iter()
            .flat_map(|c| index[*c].iter().copied())
            .filter(|k| seen_relations.insert(*k))
            .collect();
        for cell in around.iter().flat_map(|k| members(*k)) {
            if secret[cell] && cell != leak {
                hidden_signatures.insert(signature(cell));
            }
        }
        let best = around
            .iter()
            .flat_map(|k| members(*k))
            .filter(|i| !secret[*i] && !hidden_signatures.contains(&signature(*i)))
            .min_by_key(|i| (values[*i] <= 0, values[*i], *i));
        if best.is_some() {
            return best;
        }
        frontier = around
            .iter()
            .flat_map(|k| members(*k))
            .filter(|i| seen_cells.insert(*i))
            .collect();
    }
    None
}

fn no_lone_secret(values: &[i64], secret: &mut [bool], relations: &[Relation]) -> usize {
    let mut added = 0;
    loop {
        let mut changed = false;
        for r in relations {
            let members = std::iter::once(r.total).chain(r.parts.iter().copied());
            if members.filter(|i| secret[*i]).count() != 1 {
                continue;
            }
            let complement = r
                .parts
                .iter()
                .copied()
                .filter(|i| !secret[*i] && values[*i] > 0)
                .min_by_key(|i| (values[*i], *i))
                .or_else(|| r.parts.iter().copied().find(|i| !secret[*i]))
                .or(Some(r.total).filter(|t| !secret[*t]));
            if let Some(c) = complement {
                secret[c] = true;
                added += 1;
                changed = true;
            }
        }
        if !changed {
            return added;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn small_counts_and_concentrated_amounts_are_secret() {
        assert!(!count_is_secret(0));
        assert!(count_is_secret(1) && count_is_secret(10));
        assert!(!count_is_secret(11));
        assert!(amount_is_secret(&[500, 500]), "two venues");
        assert!(amount_is_secret(&[900, 50, 50]), "one venue has 90 %");
        assert!(!amount_is_secret(&[400, 300, 300]));
        assert!(!amount_is_secret(&[0, 0]), "nothing to hide in nothing");
    }

    #[test]
    fn a_lone_secret_gets_a_complement_and_cannot_be_recomputed() {
        // A département (cell 0) of three communes: 4 (secret), 30, 20.
        let values = [54, 4, 30, 20];
        let rel = [Relation {
            total: 0,
            parts: vec![1, 2, 3],
        }];
        let mut secret: Vec<bool> = values.iter().map(|v| count_is_secret(*v)).collect();
        assert_eq!(recoverable(&secret, &rel), vec![1], "before: 54 - 30 - 20");
        assert_eq!(protect(&values, &mut secret, &rel), 1);
        assert_eq!(
            secret,
            [false, true, false, true],
            "the smallest other commune"
        );
        assert!(recoverable(&secret, &rel).is_empty());
    }

    #[test]
    fn a_secret_total_with_known_parts_hides_a_part_too() {
        // Two communes of 0 and 7: the département's 7 is secret, so is the 7.
        let values = [7, 0, 7];
        let rel = [Relation {
            total: 0,
            parts: vec![1, 2],
        }];
        let mut secret: Vec<bool> = values.iter().map(|v| count_is_secret(*v)).collect();
        protect(&values, &mut secret, &rel);
        assert!(recoverable(&secret, &rel).is_empty());
    }

    /// A random two-level hierarchy: a programme of départements of communes, each cell a
    /// count; after protection no secret cell can be recomputed, and no primary secret was
    /// published.
    fn hierarchy(counts: &[Vec<i64>]) -> (Vec<i64>, Vec<Relation>) {
        let mut values = vec![0];
        let mut relations = vec![];
        let mut top = Relation {
            total: 0,
            parts: vec![],
        };
        for communes in counts {
            let d = values.len();
            values.push(communes.iter().sum());
            top.parts.push(d);
            let mut rel = Relation {
                total: d,
                parts: vec![],
            };
            for c in communes {
                rel.parts.push(values.len());
                values.push(*c);
            }
            relations.push(rel);
        }
        values[0] = values[1..].iter().sum::<i64>() / 2;
        relations.push(top);
        (values, relations)
    }

    /// Communes (cells after the groups) in départements and, across them, in EPCIs: two
    /// overlapping hierarchies, as in the open-data export.
    fn overlapping(counts: &[i64], deps: &[usize], epcis: &[usize]) -> (Vec<i64>, Vec<Relation>) {
        let n = counts.len();
        let groups = |of: &[usize], base: usize| -> Vec<Relation> {
            (0..4)
                .map(|g| Relation {
                    total: base + g,
                    parts: (0..n).filter(|c| of[*c] % 4 == g).map(|c| 9 + c).collect(),
                })
                .filter(|r| !r.parts.is_empty())
                .collect()
        };
        let mut values = vec![0; 9 + n];
        values[9..].copy_from_slice(counts);
        let mut relations = groups(deps, 0);
        relations.extend(groups(epcis, 4));
        for r in &relations {
            values[r.total] = r.parts.iter().map(|p| values[*p]).sum();
        }
        values[8] = counts.iter().sum();
        relations.push(Relation {
            total: 8,
            parts: (0..4)
                .filter(|d| relations.iter().any(|r| r.total == *d))
                .collect(),
        });
        (values, relations)
    }

    /// Counts protected: no primary secret is published and no secret can be recomputed.
    fn protected_counts_leak_nothing(
        values: &[i64],
        relations: &[Relation],
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        let mut secret: Vec<bool> = values.iter().map(|v| count_is_secret(*v)).collect();
        let primary = secret.clone();
        protect(values, &mut secret, relations);
        for (p, s) in primary.iter().zip(&secret) {
            prop_assert!(!p || *s, "a primary secret stays secret");
        }
        prop_assert!(recoverable(&secret, relations).is_empty());
        Ok(())
    }

    proptest! {
        #[test]
        fn after_protection_no_secret_is_recoverable(
            counts in proptest::collection::vec(proptest::collection::vec(0i64..40, 1..6), 1..6)
        ) {
            let (values, relations) = hierarchy(&counts);
            protected_counts_leak_nothing(&values, &relations)?;
        }

        #[test]
        fn overlapping_hierarchies_leak_nothing_after_protection(
            cells in proptest::collection::vec((0i64..30, 0usize..4, 0usize..4), 1..12)
        ) {
            let counts: Vec<i64> = cells.iter().map(|c| c.0).collect();
            let deps: Vec<usize> = cells.iter().map(|c| c.1).collect();
            let epcis: Vec<usize> = cells.iter().map(|c| c.2).collect();
            let (values, relations) = overlapping(&counts, &deps, &epcis);
            protected_counts_leak_nothing(&values, &relations)?;
        }
    }
}
