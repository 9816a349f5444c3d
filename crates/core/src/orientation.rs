//! Orientation: which qualified venues to suggest to a person after the diagnostic.
//!
//! A venue fits when it is inside the order's perimeter and offers at least one service of a
//! category the diagnostic asks for. Fitting venues are sorted by the distance between the
//! person's commune and the venue's commune, then by how many of the wanted categories they
//! cover, then by name. The directory is built once from the venue list and queried in memory:
//! a query is one pass over the venues with a bit test and a distance each, so it stays far
//! below a millisecond per thousand venues.

use std::collections::BTreeSet;

use crate::InseeCode;
use crate::commune::{GeoPoint, communes};
use crate::order::Perimeter;

/// A qualified venue as orientation sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryVenue {
    pub id: i64,
    pub name: String,
    pub commune: InseeCode,
    /// Référentiel category codes of the services it offers.
    pub categories: BTreeSet<String>,
}

struct Entry {
    venue: DirectoryVenue,
    position: Option<GeoPoint>,
    approximate: bool,
    categories: u64,
}

/// The venues, indexed for suggestion.
pub struct Directory {
    /// Category code → bit (at most 64 categories; the référentiel has 9).
    bits: Vec<String>,
    entries: Vec<Entry>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Suggestion<'a> {
    pub venue: &'a DirectoryVenue,
    /// Straight-line distance between the two communes, in km.
    pub distance_km: f64,
    /// True when either commune's position is the centre of its EPCI or département.
    pub approximate: bool,
    /// The wanted categories this venue offers.
    pub matched: Vec<&'a str>,
}

impl Directory {
    pub fn new(venues: Vec<DirectoryVenue>) -> Self {
        let mut bits: Vec<String> = venues
            .iter()
            .flat_map(|v| v.categories.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        bits.truncate(64);
        let entries = venues
            .into_iter()
            .map(|venue| {
                let commune = communes().get(&venue.commune);
                let mut mask = 0u64;
                for c in &venue.categories {
                    if let Some(i) = bits.iter().position(|b| b == c) {
                        mask |= 1 << i;
                    }
                }
                Entry {
                    position: commune.map(|c| c.position),
                    approximate: commune.is_none_or(|c| !c.precision.is_exact()),
                    categories: mask,
                    venue,
                }
            })
            .collect();
        Directory { bits, entries }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The `limit` nearest fitting venues from `from`. A person whose commune is unknown gets
    /// no suggestion rather than a wrong one.
    pub fn suggest(
        &self,
        from: &InseeCode,
        wanted: &BTreeSet<&str>,
        perimeter: &Perimeter,
        limit: usize,
    ) -> Vec<Suggestion<'_>> {
        let Some(home) = communes().get(from) else {
            return Vec::new();
        };
        let mut wanted_mask = 0u64;
        for (i, b) in self.bits.iter().enumerate() {
            if wanted.contains(b.as_str()) {
                wanted_mask |= 1 << i;
            }
        }
        if wanted_mask == 0 {
            return Vec::new();
        }
        let mut found: Vec<(f64, u32, &Entry)> = self
            .entries
            .iter()
            .filter(|e| e.categories & wanted_mask != 0)
            .filter_map(|e| {
                let d = home.position.distance_km(e.position?);
                Some((d, (e.categories & wanted_mask).count_ones(), e))
            })
            .filter(|(_, _, e)| perimeter.contains(&e.venue.commune))
            .collect();
        let by_rank = |a: &(f64, u32, &Entry), b: &(f64, u32, &Entry)| {
            // Distances within 100 m count as equal, so that venues of one town are ranked by
            // what they offer.
            let (da, db) = ((a.0 * 10.0).round(), (b.0 * 10.0).round());
            da.total_cmp(&db)
                .then(b.1.cmp(&a.1))
                .then_with(|| a.2.venue.name.cmp(&b.2.venue.name))
                .then(a.2.venue.id.cmp(&b.2.venue.id))
        };
        if found.len() > limit {
            found.select_nth_unstable_by(limit, by_rank);
            found.truncate(limit);
        }
        found.sort_by(by_rank);
        found
            .into_iter()
            .map(|(d, _, e)| Suggestion {
                venue: &e.venue,
                distance_km: d,
                approximate: e.approximate || !home.precision.is_exact(),
                matched: self
                    .bits
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| (e.categories & wanted_mask) >> i & 1 == 1)
                    .map(|(_, b)| b.as_str())
                    .collect(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DepartementCode;

    fn venue(id: i64, name: &str, commune: &str, cats: &[&str]) -> DirectoryVenue {
        DirectoryVenue {
            id,
            name: name.into(),
            commune: InseeCode::parse(commune).unwrap(),
            categories: cats.iter().map(|c| c.to_string()).collect(),
        }
    }

    fn insee(c: &str) -> InseeCode {
        InseeCode::parse(c).unwrap()
    }

    fn directory() -> Directory {
        Directory::new(vec![
            venue(1, "Médiathèque de Lyon", "69123", &["2.1", "2.2"]),
            venue(2, "Espace numérique Villeurbanne", "69266", &["2.2"]),
            venue(3, "Cyber-base Grenoble", "38185", &["2.2", "3.5"]),
            venue(4, "Point emploi Lyon", "69123", &["3.5"]),
            venue(5, "Maison France Services Lyon", "69123", &["2.2"]),
            venue(6, "Fablab Marseille", "13055", &["2.2"]),
        ])
    }

    #[test]
    fn nearest_fitting_venues_first_and_better_coverage_within_a_town() {
        let d = directory();
        let wanted: BTreeSet<&str> = ["2.1", "2.2"].into();
        let s = d.suggest(&insee("69123"), &wanted, &Perimeter::default(), 10);
        let ids: Vec<i64> = s.iter().map(|s| s.venue.id).collect();
        // Lyon (two fitting, the one covering both first), Villeurbanne, Grenoble, Marseille;
        // the job venue offers none of the wanted categories.
        assert_eq!(ids, [1, 5, 2, 3, 6]);
        assert_eq!(s[0].matched, ["2.1", "2.2"]);
        assert_eq!(s[1].matched, ["2.2"]);
        assert!(s[2].distance_km > 0.0 && s[2].distance_km < 10.0);
        assert!(
            s.windows(2)
                .all(|w| w[0].distance_km <= w[1].distance_km + 0.05)
        );
    }

    #[test]
    fn the_perimeter_and_the_limit_apply() {
        let d = directory();
        let wanted: BTreeSet<&str> = ["2.2"].into();
        let rhone = Perimeter {
            departements: [DepartementCode::parse("69").unwrap()].into(),
            ..Default::default()
        };
        let s = d.suggest(&insee("38185"), &wanted, &rhone, 10);
        assert!(s.iter().all(|s| s.venue.commune.as_str().starts_with("69")));
        assert_eq!(s.len(), 3);
        let s = d.suggest(&insee("38185"), &wanted, &Perimeter::default(), 2);
        let ids: Vec<i64> = s.iter().map(|s| s.venue.id).collect();
        assert_eq!(ids[0], 3, "Grenoble's own venue first");
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn nothing_wanted_or_offered_suggests_nothing() {
        let d = directory();
        assert!(
            d.suggest(&insee("69123"), &["1.2"].into(), &Perimeter::default(), 5)
                .is_empty()
        );
        assert!(
            d.suggest(&insee("69123"), &BTreeSet::new(), &Perimeter::default(), 5)
                .is_empty()
        );
    }

    #[test]
    fn approximate_positions_are_flagged() {
        // L'Abergement-Clémenciat has no GeoNames point: it sits at its EPCI's centre.
        let d = directory();
        let s = d.suggest(&insee("01001"), &["2.2"].into(), &Perimeter::default(), 1);
        assert!(s[0].approximate);
        let s = d.suggest(&insee("69123"), &["2.2"].into(), &Perimeter::default(), 1);
        assert!(!s[0].approximate);
    }
}
