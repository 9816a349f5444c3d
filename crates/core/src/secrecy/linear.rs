//! Which hidden cells a reader can recompute from the published ones, by linear algebra.
//!
//! Every relation "total = sum of parts" is a linear equation; the published cells are
//! constants, the hidden ones unknowns. A hidden cell is recomputable exactly when its unit
//! vector lies in the span of the equations (restricted to the unknowns): in the reduced row
//! echelon form of that system, some row is that unit vector. Solving relations one at a time
//! is not enough as soon as two hierarchies overlap (communes in EPCIs and in départements):
//! with a département {A, B, C} and an EPCI {A, B}, C = département − EPCI although every
//! relation has two or more unknowns.
//!
//! The elimination runs modulo the Mersenne prime 2⁶¹ − 1, which is exact arithmetic: with
//! coefficients ±1 on a few thousand unknowns the rank over the rationals and modulo this prime
//! could only differ if the prime divided a minor of the system, which is far beyond the size
//! those minors reach. Relations are split into independent groups (union–find over the
//! unknowns they share), so each elimination stays small.

use std::collections::{BTreeMap, HashMap};

use super::Relation;

const P: u64 = (1 << 61) - 1;

fn mul(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) % u128::from(P)) as u64
}

fn sub(a: u64, b: u64) -> u64 {
    if a >= b { a - b } else { a + P - b }
}

fn inverse(a: u64) -> u64 {
    // Fermat: a^(P−2).
    let (mut base, mut exp, mut acc) = (a, P - 2, 1u64);
    while exp > 0 {
        if exp & 1 == 1 {
            acc = mul(acc, base);
        }
        base = mul(base, base);
        exp >>= 1;
    }
    acc
}

/// An equation over the unknowns: column → non-zero coefficient.
type Row = BTreeMap<usize, u64>;

/// A basis kept in reduced row echelon form: each row has one pivot column that no other
/// row mentions.
#[derive(Default)]
struct Basis {
    rows: Vec<Row>,
    pivot_of: HashMap<usize, usize>,
}

impl Basis {
    fn insert(&mut self, mut row: Row) {
        let pivots: Vec<(usize, u64)> = row
            .iter()
            .filter(|(c, _)| self.pivot_of.contains_key(c))
            .map(|(c, v)| (*c, *v))
            .collect();
        for (col, coef) in pivots {
            // Basis rows mention no other pivot, so one pass clears every pivot column.
            for (c, v) in &self.rows[self.pivot_of[&col]] {
                let entry = row.entry(*c).or_insert(0);
                *entry = sub(*entry, mul(coef, *v));
                if *entry == 0 {
                    row.remove(c);
                }
            }
        }
        let Some((&pivot, &lead)) = row.iter().next() else {
            return;
        };
        let scale = inverse(lead);
        row.values_mut().for_each(|v| *v = mul(*v, scale));
        for other in &mut self.rows {
            if let Some(coef) = other.get(&pivot).copied() {
                for (c, v) in &row {
                    let entry = other.entry(*c).or_insert(0);
                    *entry = sub(*entry, mul(coef, *v));
                    if *entry == 0 {
                        other.remove(c);
                    }
                }
            }
        }
        self.pivot_of.insert(pivot, self.rows.len());
        self.rows.push(row);
    }

    /// Unknowns whose value the equations fix.
    fn determined(&self) -> impl Iterator<Item = usize> + '_ {
        self.rows
            .iter()
            .filter(|r| r.len() == 1)
            .filter_map(|r| r.keys().next().copied())
    }
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Hidden cells (`secret[i]`) that the published cells and `relations` determine, ascending.
pub fn recoverable(secret: &[bool], relations: &[Relation]) -> Vec<usize> {
    let equations: Vec<Row> = relations
        .iter()
        .map(|r| {
            let mut row = Row::new();
            let parts = r.parts.iter().map(|p| (*p, 1));
            for (cell, coef) in parts.chain(std::iter::once((r.total, P - 1))) {
                if secret[cell] {
                    let entry = row.entry(cell).or_insert(0);
                    *entry = (*entry + coef) % P;
                    if *entry == 0 {
                        row.remove(&cell);
                    }
                }
            }
            row
        })
        .filter(|row| !row.is_empty())
        .collect();
    let mut parent: Vec<usize> = (0..secret.len()).collect();
    for row in &equations {
        let mut cells = row.keys();
        if let Some(first) = cells.next() {
            for other in cells {
                let (a, b) = (find(&mut parent, *first), find(&mut parent, *other));
                parent[a] = b;
            }
        }
    }
    let mut groups: BTreeMap<usize, Basis> = BTreeMap::new();
    for row in equations {
        let root = row.keys().next().map_or(0, |c| find(&mut parent, *c));
        groups.entry(root).or_default().insert(row);
    }
    let mut out: Vec<usize> = groups.values().flat_map(Basis::determined).collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(total: usize, parts: &[usize]) -> Relation {
        Relation {
            total,
            parts: parts.to_vec(),
        }
    }

    #[test]
    fn a_lone_unknown_is_solved() {
        // 0 = 1 + 2 + 3, cell 1 hidden.
        let secret = [false, true, false, false];
        assert_eq!(recoverable(&secret, &[rel(0, &[1, 2, 3])]), vec![1]);
    }

    #[test]
    fn overlapping_groups_give_away_what_no_single_relation_does() {
        // Département 0 = {3, 4, 5}, EPCI 1 = {3, 4}; communes 3, 4, 5 hidden, totals shown:
        // 5 = 0 − 1.
        let secret = [false, false, false, true, true, true];
        let relations = [rel(0, &[3, 4, 5]), rel(1, &[3, 4])];
        assert_eq!(recoverable(&secret, &relations), vec![5]);
    }

    #[test]
    fn two_unknowns_tied_together_stay_unknown() {
        let secret = [false, true, true, false];
        let relations = [rel(0, &[1, 2, 3])];
        assert!(recoverable(&secret, &relations).is_empty());
    }

    #[test]
    fn a_chain_of_relations_is_followed_to_its_end() {
        // 0 = 1 + 2, 1 = 3 + 4; 1, 2, 3 hidden, but 2 is solved once 1 is: 0 shown, 3 and 4
        // linked… here 4 shown, 3 hidden: three unknowns, two equations, none fixed.
        let secret = [false, true, true, true, false];
        let relations = [rel(0, &[1, 2]), rel(1, &[3, 4])];
        assert!(recoverable(&secret, &relations).is_empty());
        // Now a third relation 2 = 5 with 5 shown: 2 fixed, then 1, then 3.
        let secret = [false, true, true, true, false, false];
        let relations = [rel(0, &[1, 2]), rel(1, &[3, 4]), rel(2, &[5])];
        assert_eq!(recoverable(&secret, &relations), vec![1, 2, 3]);
    }

    #[test]
    fn modular_arithmetic_is_exact_on_small_numbers() {
        assert_eq!(mul(inverse(7), 7), 1);
        assert_eq!(sub(1, 2), P - 1);
    }
}
