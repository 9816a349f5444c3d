//! The embedded list of French communes (data/communes.tsv, built by scripts/build-communes.sh).
//!
//! Parsed once on first use into a map by INSEE code; every perimeter and venue commune is
//! checked against it, so a typo in a code is refused instead of silently excluding a town.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::InseeCode;

const COMMUNES_TSV: &str = include_str!("../../../data/communes.tsv");

#[derive(Clone, Debug, PartialEq)]
pub struct Commune {
    pub insee: &'static str,
    pub name: &'static str,
    pub departement: &'static str,
    pub postcodes: Vec<&'static str>,
    pub population: i64,
    /// SIREN of the commune's EPCI (intercommunalité), when it belongs to one.
    pub epci: Option<&'static str>,
    pub position: GeoPoint,
    pub precision: Precision,
}

/// The city a municipal arrondissement belongs to (Paris 75101–75120, Lyon 69381–69389,
/// Marseille 13201–13216), by INSEE code: venues are often registered with the
/// arrondissement's code, and a perimeter names the city.
pub fn city_of_arrondissement(insee: &str) -> Option<&'static str> {
    let n: u32 = insee.parse().ok()?;
    match n {
        75101..=75120 => Some("75056"),
        69381..=69389 => Some("69123"),
        13201..=13216 => Some("13055"),
        _ => None,
    }
}

/// The codes of a city's municipal arrondissements (none for other communes): the converse of
/// [`city_of_arrondissement`].
pub fn arrondissements_of(city: &str) -> Vec<String> {
    let range = match city {
        "75056" => 75101..=75120,
        "69123" => 69381..=69389,
        "13055" => 13201..=13216,
        _ => return vec![],
    };
    range.map(|n: u32| n.to_string()).collect()
}

/// A point in WGS 84 degrees.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
}

impl GeoPoint {
    /// Great-circle distance in kilometres (haversine). Straight-line distance is what the
    /// data allows: it ranks venues well enough at the scale of a perimeter, and the person is
    /// shown the address, not a route.
    pub fn distance_km(self, other: GeoPoint) -> f64 {
        const EARTH_RADIUS_KM: f64 = 6371.0;
        let (la1, la2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dla = la2 - la1;
        let dlo = (other.longitude - self.longitude).to_radians();
        let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
    }
}

/// How a commune's position was obtained (see scripts/build-communes.sh): its own point, or
/// the centre of its EPCI or département when the open data has no point for it. Distances
/// from an approximate position are shown as approximate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    Commune,
    Epci,
    Departement,
}

impl Precision {
    pub fn is_exact(self) -> bool {
        self == Precision::Commune
    }
}

pub struct Communes {
    by_code: HashMap<&'static str, Commune>,
}

impl Communes {
    pub fn get(&self, code: &InseeCode) -> Option<&Commune> {
        self.by_code.get(code.as_str())
    }

    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }

    /// The commune a stored code names, if known.
    pub fn by_insee(&self, code: &str) -> Option<&Commune> {
        self.by_code.get(code.trim())
    }

    /// The name of the commune a stored code names, if it is a known commune.
    pub fn name_of(&self, code: &str) -> Option<&'static str> {
        self.by_code.get(code.trim()).map(|c| c.name)
    }

    /// Communes served by a postcode, by name (a postcode often covers several communes).
    pub fn by_postcode(&self, postcode: &str) -> Vec<&Commune> {
        let mut found: Vec<&Commune> = self
            .by_code
            .values()
            .filter(|c| c.postcodes.contains(&postcode))
            .collect();
        found.sort_by(|a, b| a.name.cmp(b.name).then(a.insee.cmp(b.insee)));
        found
    }

    /// The communes a person living at `postcode` may be in: those of the postcode, less a
    /// city whose arrondissement shares it (69003 is Lyon 3e Arrondissement, not "Lyon" as
    /// well), so that a form asks to choose only where the postcode truly covers several.
    pub fn of_residents(&self, postcode: &str) -> Vec<&Commune> {
        let found = self.by_postcode(postcode);
        let folded_names: Vec<String> = found.iter().map(|c| folded(c.name)).collect();
        found
            .iter()
            .zip(&folded_names)
            .filter(|(_, name)| {
                let city = format!("{name} ");
                !folded_names
                    .iter()
                    .any(|n| n.starts_with(&city) && n.ends_with("arrondissement"))
            })
            .map(|(c, _)| *c)
            .collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Commune> {
        self.by_code.values()
    }
}

/// The embedded list. The file is part of the build, so a malformed line is a build defect
/// caught by the tests below, not a run-time condition.
pub fn communes() -> &'static Communes {
    static LIST: OnceLock<Communes> = OnceLock::new();
    LIST.get_or_init(|| {
        let by_code = COMMUNES_TSV
            .lines()
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(|line| {
                let f: Vec<&'static str> = line.split('\t').collect();
                let c = Commune {
                    insee: f[0],
                    name: f[1],
                    departement: f[2],
                    postcodes: f[3].split(',').filter(|p| !p.is_empty()).collect(),
                    population: f[4].parse().unwrap_or(0),
                    epci: Some(f[5]).filter(|e| !e.is_empty()),
                    position: GeoPoint {
                        latitude: f[6].parse().unwrap_or(0.0),
                        longitude: f[7].parse().unwrap_or(0.0),
                    },
                    precision: match f[8] {
                        "commune" => Precision::Commune,
                        "epci" => Precision::Epci,
                        _ => Precision::Departement,
                    },
                };
                (c.insee, c)
            })
            .collect();
        Communes { by_code }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DepartementCode;

    #[test]
    fn every_line_is_a_well_formed_commune() {
        let lines = COMMUNES_TSV.lines().skip(1).filter(|l| !l.is_empty());
        let mut n = 0;
        for line in lines {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 9, "{line}");
            let code = InseeCode::parse(f[0]).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(code.as_str(), f[0], "codes are stored upper-case");
            DepartementCode::parse(f[2]).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert!(!f[1].is_empty());
            assert!(f[4].parse::<i64>().is_ok(), "{line}");
            assert!(f[5].is_empty() || f[5].len() == 9, "EPCI SIREN: {line}");
            let (lat, lon): (f64, f64) = (f[6].parse().unwrap(), f[7].parse().unwrap());
            // Metropolitan France and the five overseas départements, nothing at (0, 0).
            assert!(
                (-22.0..52.0).contains(&lat) && (-62.0..56.0).contains(&lon),
                "{line}"
            );
            assert!(lat.abs() > 1.0, "{line}");
            assert!(["commune", "epci", "departement"].contains(&f[8]), "{line}");
            n += 1;
        }
        assert_eq!(communes().len(), n, "no code appears twice");
        assert!(n > 34_000);
    }

    #[test]
    fn knows_lyon_ajaccio_and_the_paris_arrondissements() {
        let lyon = communes().get(&InseeCode::parse("69123").unwrap()).unwrap();
        assert_eq!(lyon.name, "Lyon");
        assert_eq!(lyon.departement, "69");
        assert!(lyon.population > 400_000);
        assert!(lyon.postcodes.contains(&"69001"));
        assert_eq!(
            communes()
                .get(&InseeCode::parse("2a004").unwrap())
                .unwrap()
                .name,
            "Ajaccio"
        );
        assert!(
            communes()
                .get(&InseeCode::parse("75108").unwrap())
                .is_some()
        );
        assert!(
            communes()
                .get(&InseeCode::parse("69999").unwrap())
                .is_none()
        );
    }

    #[test]
    fn distances_between_known_communes() {
        let get = |c: &str| communes().get(&InseeCode::parse(c).unwrap()).unwrap();
        let (paris, lyon, marseille) = (get("75056"), get("69123"), get("13055"));
        assert!(paris.precision.is_exact() && lyon.precision.is_exact());
        // Paris–Lyon is about 392 km as the crow flies, Lyon–Marseille about 278 km.
        let pl = paris.position.distance_km(lyon.position);
        assert!((380.0..405.0).contains(&pl), "{pl}");
        let lm = lyon.position.distance_km(marseille.position);
        assert!((265.0..290.0).contains(&lm), "{lm}");
        assert_eq!(paris.position.distance_km(paris.position), 0.0);
        assert_eq!(
            get("75108").position,
            paris.position,
            "arrondissements take their city's point"
        );
        assert_eq!(lyon.epci, Some("200046977"));
        let names: Vec<&str> = communes()
            .by_postcode("69001")
            .iter()
            .map(|c| c.name)
            .collect();
        assert!(
            names.contains(&"Lyon") && names.contains(&"Lyon 1er Arrondissement"),
            "{names:?}"
        );
        assert!(communes().by_postcode("00000").is_empty());
    }

    #[test]
    fn approximate_positions_stay_in_their_departement() {
        // A commune placed at its EPCI's centre is still near the centre of its département
        // (no département is 250 km across): guards against a mismatched GeoNames point.
        let mut by_dep: HashMap<&str, (f64, f64, f64)> = HashMap::new();
        for c in communes().iter() {
            let e = by_dep.entry(c.departement).or_default();
            *e = (
                e.0 + c.position.latitude,
                e.1 + c.position.longitude,
                e.2 + 1.0,
            );
        }
        for c in communes().iter() {
            let (la, lo, n) = by_dep[c.departement];
            let centre = GeoPoint {
                latitude: la / n,
                longitude: lo / n,
            };
            let d = c.position.distance_km(centre);
            assert!(
                d < 250.0,
                "{} {} is {d:.0} km from its département's centre",
                c.insee,
                c.name
            );
        }
    }
}

/// Letters without accents, in lower case, hyphens and apostrophes as spaces: "Vénissieux",
/// "venissieux" and "VENISSIEUX" read the same, as do "Saint-Priest" and "saint priest".
pub fn folded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        out.push(match c {
            '-' | '\'' | '’' => ' ',
            other => crate::text::unaccented(other),
        });
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Communes {
    /// Every commune's folded name with its code, folded once for the life of the process.
    fn folded_names(&self) -> &[(String, &'static str)] {
        static FOLDED: OnceLock<Vec<(String, &'static str)>> = OnceLock::new();
        FOLDED.get_or_init(|| self.iter().map(|c| (folded(c.name), c.insee)).collect())
    }

    /// The communes a person means by `query`: a postcode ("69003"), else an INSEE code, or a
    /// commune's name; a city with arrondissements brings them too ("Lyon": Lyon and its nine
    /// arrondissements). Empty when nothing matches.
    pub fn matching(&self, query: &str) -> Vec<&Commune> {
        let q = folded(query);
        if q.len() == 5 && q.bytes().all(|b| b.is_ascii_alphanumeric()) {
            // People type postcodes; an INSEE code (what programs send) only when no postcode
            // is written so.
            let by_postcode = self.by_postcode(&q);
            if !by_postcode.is_empty() {
                return by_postcode;
            }
            if let Some(c) = InseeCode::parse(&q).ok().and_then(|code| self.get(&code)) {
                return vec![c];
            }
        }
        if q.is_empty() {
            return vec![];
        }
        let arrondissements = format!("{q} ");
        let mut found: Vec<&Commune> = self
            .folded_names()
            .iter()
            .filter(|(name, _)| {
                *name == q
                    || (name.starts_with(&arrondissements) && name.ends_with("arrondissement"))
            })
            .filter_map(|(_, insee)| self.by_code.get(*insee))
            .collect();
        found.sort_by(|a, b| a.insee.cmp(b.insee));
        found
    }
}

/// Why a postcode and a commune name do not designate one commune.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocateError {
    #[error("Aucune commune ne correspond à ce code postal et à ce nom : vérifiez-les.")]
    NoMatch,
    #[error("Plusieurs communes partagent ce code postal : écrivez le nom de la vôtre ({0}).")]
    Ambiguous(String),
}

impl Communes {
    /// The commune of an address, from its postcode and the name a person wrote (which may be
    /// empty when the postcode is enough). The name only chooses among the communes of a
    /// postcode, so a misspelt name never loses a right postcode. Where a city and its arrondissements share a
    /// postcode (69003: Lyon, Lyon 3e), the arrondissement is the more precise answer.
    pub fn locate(&self, postcode: &str, name: &str) -> Result<&Commune, LocateError> {
        let mut found = self.matching(postcode);
        let wanted = folded(name);
        if !wanted.is_empty() && found.len() > 1 {
            let named: Vec<&Commune> = found
                .iter()
                .copied()
                .filter(|c| {
                    let n = folded(c.name);
                    n == wanted || n.starts_with(&format!("{wanted} "))
                })
                .collect();
            if named.is_empty() {
                return Err(LocateError::NoMatch);
            }
            found = named;
        }
        if found.len() > 1 {
            let arrondissements: Vec<&Commune> = found
                .iter()
                .copied()
                .filter(|c| folded(c.name).ends_with("arrondissement"))
                .collect();
            if arrondissements.len() == 1 {
                found = arrondissements;
            }
        }
        match found.as_slice() {
            [] => Err(LocateError::NoMatch),
            [one] => Ok(one),
            many => Err(LocateError::Ambiguous(
                many.iter().map(|c| c.name).collect::<Vec<_>>().join(", "),
            )),
        }
    }
}

#[cfg(test)]
mod matching_tests {
    use super::*;

    #[test]
    fn an_address_is_in_one_commune() {
        let c = communes();
        assert_eq!(c.locate("69003", "").unwrap().insee, "69383");
        assert_eq!(c.locate("69003", "Lyon").unwrap().insee, "69383");
        assert_eq!(c.locate("69200", "vénissieux").unwrap().insee, "69259");
        assert_eq!(c.locate("69200", "").unwrap().insee, "69259");
        // One commune for the postcode: it decides, whatever the spelling of the name.
        assert_eq!(c.locate("69200", "Venissieu").unwrap().insee, "69259");
        assert_eq!(c.locate("69003", "Paris"), Err(LocateError::NoMatch));
        assert_eq!(c.locate("00000", ""), Err(LocateError::NoMatch));
    }

    #[test]
    fn a_person_finds_communes_by_name_postcode_or_code() {
        let c = communes();
        let codes = |q: &str| -> Vec<&str> { c.matching(q).iter().map(|c| c.insee).collect() };
        assert_eq!(codes("venissieux"), ["69259"]);
        assert_eq!(codes("  VÉNISSIEUX "), ["69259"]);
        assert_eq!(codes("69200"), ["69259"]);
        assert_eq!(codes("69259"), ["69259"]);
        let lyon = codes("Lyon");
        assert_eq!(lyon.len(), 10, "{lyon:?}");
        assert!(lyon.contains(&"69123") && lyon.contains(&"69383"));
        // A venue may be registered under the city or its arrondissement: both are found.
        assert_eq!(codes("69003"), ["69123", "69383"]);
        let residents =
            |p: &str| -> Vec<&str> { communes().of_residents(p).iter().map(|c| c.insee).collect() };
        assert_eq!(residents("69003"), ["69383"], "Lyon 3e, not Lyon as well");
        assert_eq!(residents("75015"), ["75115"]);
        assert_eq!(residents("13001"), ["13201"]);
        let shared = residents("01400");
        assert!(
            shared.len() > 1,
            "a postcode of several communes still asks: {shared:?}"
        );
        assert_eq!(
            shared,
            communes()
                .by_postcode("01400")
                .iter()
                .map(|c| c.insee)
                .collect::<Vec<_>>()
        );
        assert!(codes("Atlantide").is_empty());
        assert!(codes("").is_empty());
        assert_eq!(folded("Saint-Priest"), folded("saint priest"));
    }
}
