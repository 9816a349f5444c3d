//! Whether two places are the same, the way the national cartography decides it: a veto when
//! their communes differ or they come from the same source (a source does not list a place
//! twice); otherwise the mean of a name similarity, an address similarity and a distance score,
//! each left out when one side lacks it.

use crate::commune::{GeoPoint, folded};

/// At or above: a link is suggested to the operator.
pub const SUGGEST_AT: f64 = 0.50;
/// At or above: the places are linked without asking.
pub const LINK_AT: f64 = 0.85;
/// Two points this far apart or more score 0 on distance.
const FAR_M: f64 = 500.0;

/// What a comparison needs of a place.
#[derive(Clone, Copy, Debug)]
pub struct Comparable<'a> {
    pub commune_insee: &'a str,
    pub source: &'a str,
    pub name: &'a str,
    pub address: &'a str,
    pub position: Option<GeoPoint>,
}

/// The score of two places in 0..=1, or `None` under a veto.
pub fn score(a: &Comparable<'_>, b: &Comparable<'_>) -> Option<f64> {
    if a.commune_insee != b.commune_insee || (!a.source.is_empty() && a.source == b.source) {
        return None;
    }
    let mut parts = vec![dice(&words(a.name), &words(b.name))];
    let (ka, kb) = (address_key(a.address), address_key(b.address));
    if !ka.is_empty() && !kb.is_empty() {
        parts.push(dice(&ka, &kb));
    }
    if let (Some(pa), Some(pb)) = (a.position, b.position) {
        parts.push((1.0 - pa.distance_km(pb) * 1000.0 / FAR_M).max(0.0));
    }
    Some(parts.iter().sum::<f64>() / parts.len() as f64)
}

/// What to do with a place given its best score against what is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    New,
    Suggest,
    Link,
}

pub fn verdict(best: Option<f64>) -> Verdict {
    match best {
        Some(s) if s >= LINK_AT => Verdict::Link,
        Some(s) if s >= SUGGEST_AT => Verdict::Suggest,
        _ => Verdict::New,
    }
}

/// Folded words, without punctuation, joined by one space.
fn words(s: &str) -> String {
    folded(s)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// An address with the usual abbreviations spelt out, so "12 bd V. Hugo" meets
/// "12 boulevard Victor Hugo" half-way.
fn address_key(s: &str) -> String {
    words(s)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| match w {
            "bd" | "bld" | "boul" => "boulevard",
            "av" | "ave" => "avenue",
            "r" => "rue",
            "pl" => "place",
            "che" | "ch" => "chemin",
            "imp" => "impasse",
            "rte" => "route",
            "all" => "allee",
            "fg" | "fbg" => "faubourg",
            "st" => "saint",
            "ste" => "sainte",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sørensen–Dice coefficient over character bigrams (1 for equal strings).
fn dice(a: &str, b: &str) -> f64 {
    if a == b {
        return if a.is_empty() { 0.0 } else { 1.0 };
    }
    let grams = |s: &str| -> Vec<(char, char)> {
        let cs: Vec<char> = s.chars().collect();
        let mut g: Vec<(char, char)> = cs.windows(2).map(|w| (w[0], w[1])).collect();
        g.sort_unstable();
        g
    };
    let (ga, gb) = (grams(a), grams(b));
    if ga.is_empty() || gb.is_empty() {
        return 0.0;
    }
    // Sorted multisets: count the common bigrams in one merge.
    let (mut i, mut j, mut common) = (0, 0, 0);
    while i < ga.len() && j < gb.len() {
        match ga[i].cmp(&gb[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    2.0 * common as f64 / (ga.len() + gb.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place<'a>(
        commune: &'a str,
        source: &'a str,
        name: &'a str,
        address: &'a str,
    ) -> Comparable<'a> {
        Comparable {
            commune_insee: commune,
            source,
            name,
            address,
            position: None,
        }
    }

    #[test]
    fn vetoes_come_first() {
        let a = place("69383", "coop", "Médiathèque", "1 rue X");
        assert_eq!(
            score(&a, &place("69384", "passnum", "Médiathèque", "1 rue X")),
            None
        );
        assert_eq!(
            score(&a, &place("69383", "coop", "Médiathèque", "1 rue X")),
            None
        );
        assert_eq!(
            score(&a, &place("69383", "passnum", "Médiathèque", "1 rue X")),
            Some(1.0)
        );
    }

    #[test]
    fn the_same_place_written_differently_is_linked_or_suggested() {
        let mut a = place(
            "69383",
            "coop",
            "Médiathèque Jean Macé",
            "12 bd Victor Hugo",
        );
        let mut b = place(
            "69383",
            "passnum",
            "MEDIATHEQUE JEAN-MACE",
            "12 boulevard Victor-Hugo",
        );
        assert_eq!(verdict(score(&a, &b)), Verdict::Link, "{:?}", score(&a, &b));
        a.position = Some(GeoPoint {
            latitude: 45.7500,
            longitude: 4.8400,
        });
        b.position = Some(GeoPoint {
            latitude: 45.7501,
            longitude: 4.8401,
        });
        assert_eq!(verdict(score(&a, &b)), Verdict::Link);
        // Another place of the same commune, far away: new.
        let c = Comparable {
            position: Some(GeoPoint {
                latitude: 45.7600,
                longitude: 4.8600,
            }),
            ..place(
                "69383",
                "passnum",
                "Espace numérique du centre social",
                "3 rue Garibaldi",
            )
        };
        assert_eq!(verdict(score(&a, &c)), Verdict::New, "{:?}", score(&a, &c));
        // Same name, another address nearby: worth a look, not a link.
        let d = place(
            "69383",
            "passnum",
            "Médiathèque Jean Macé",
            "40 rue de Marseille",
        );
        let plain = place(
            "69383",
            "coop",
            "Médiathèque Jean Macé",
            "12 bd Victor Hugo",
        );
        assert_eq!(
            verdict(score(&plain, &d)),
            Verdict::Suggest,
            "{:?}",
            score(&plain, &d)
        );
    }

    #[test]
    fn absent_parts_are_left_out_of_the_mean() {
        let a = place("69383", "coop", "Médiathèque Jean Macé", "");
        let b = place("69383", "passnum", "Médiathèque Jean Macé", "12 rue X");
        assert_eq!(score(&a, &b), Some(1.0));
    }
}
