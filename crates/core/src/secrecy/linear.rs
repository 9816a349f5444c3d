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
//! those minors reach. Hidden cells that appear in exactly the same relations are merged first
//! (see `recoverable`), and the relations are split into independent systems (union–find over
//! the unknowns they share), so each elimination stays small.

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
    // Each hidden cell's column: the relations it appears in, with its coefficient.
    let mut columns: BTreeMap<usize, Vec<(usize, u64)>> = BTreeMap::new();
    for (k, r) in relations.iter().enumerate() {
        let parts = r.parts.iter().map(|p| (*p, 1));
        for (cell, coef) in parts.chain(std::iter::once((r.total, P - 1))) {
            if secret[cell] {
                let column = columns.entry(cell).or_default();
                match column.last_mut() {
                    Some((last, c)) if *last == k => *c = (*c + coef) % P,
                    _ => column.push((k, coef)),
                }
            }
        }
    }
    // Twins: hidden cells with the same column (communes of the same département and EPCI)
    // only ever appear as their sum, so no combination of relations isolates one of them.
    // Each group becomes one unknown, never determined when it has two cells or more; the
    // system shrinks from communes to groups before the elimination.
    let mut groups: HashMap<Vec<(usize, u64)>, Vec<usize>> = HashMap::new();
    for (cell, mut column) in columns {
        column.retain(|(_, c)| *c != 0);
        groups.entry(column).or_default().push(cell);
    }
    let mut equations: Vec<Row> = vec![Row::new(); relations.len()];
    let mut lone: Vec<Option<usize>> = Vec::with_capacity(groups.len());
    for (column, cells) in groups {
        let unknown = lone.len();
        lone.push((cells.len() == 1).then(|| cells[0]));
        for (k, coef) in column {
            equations[k].insert(unknown, coef);
        }
    }
    let equations: Vec<Row> = equations.into_iter().filter(|r| !r.is_empty()).collect();
    let mut parent: Vec<usize> = (0..lone.len()).collect();
    for row in &equations {
        let mut unknowns = row.keys();
        if let Some(first) = unknowns.next() {
            for other in unknowns {
                let (a, b) = (find(&mut parent, *first), find(&mut parent, *other));
                parent[a] = b;
            }
        }
    }
    let mut systems: BTreeMap<usize, Basis> = BTreeMap::new();
    for row in equations {
        let root = row.keys().next().map_or(0, |c| find(&mut parent, *c));
        systems.entry(root).or_default().insert(row);
    }
    let mut out: Vec<usize> = systems
        .values()
        .flat_map(Basis::determined)
        .filter_map(|unknown| lone[unknown])
        .collect();
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

    /// The same attack without merging twins or splitting systems: one elimination over every
    /// hidden cell.
    fn plain(secret: &[bool], relations: &[Relation]) -> Vec<usize> {
        let mut basis = Basis::default();
        for r in relations {
            let mut row = Row::new();
            for (cell, coef) in r.parts.iter().map(|p| (*p, 1)).chain([(r.total, P - 1)]) {
                if secret[cell] {
                    let e = row.entry(cell).or_insert(0);
                    *e = (*e + coef) % P;
                    if *e == 0 {
                        row.remove(&cell);
                    }
                }
            }
            basis.insert(row);
        }
        let mut out: Vec<usize> = basis.determined().collect();
        out.sort_unstable();
        out
    }

    proptest::proptest! {
        #[test]
        fn merging_twins_finds_exactly_what_a_full_elimination_finds(
            hidden in proptest::collection::vec(proptest::bool::ANY, 12),
            groups in proptest::collection::vec((0usize..12, proptest::collection::vec(0usize..12, 1..5)), 1..8),
        ) {
            let relations: Vec<Relation> = groups
                .into_iter()
                .map(|(total, parts)| {
                    let mut parts: Vec<usize> = parts.into_iter().filter(|p| *p != total).collect();
                    parts.sort_unstable();
                    parts.dedup();
                    rel(total, &parts)
                })
                .collect();
            proptest::prop_assert_eq!(recoverable(&hidden, &relations), plain(&hidden, &relations));
        }
    }
}
