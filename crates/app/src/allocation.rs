//! Builds an allocation key from what a funder gives (a criteria table as CSV text, weights
//! typed as "qpv=30", the weight of the embedded commune populations, a fixed part), for the
//! funder's page and `passnum allocate` alike: over every structure, over an order's member
//! territories (first stage), or over one territory's structures (second stage).

use std::collections::{HashMap, HashSet};

use passnum_core::allocation::{
    AllocationKey, Criterion, KeyUnit, StructureShare, parse_criteria_csv_of,
};
use passnum_core::commune::communes;
use passnum_core::{InseeCode, OrderId, TerritoryId};
use passnum_store::{Store, StoreError};

pub struct KeyInput<'a> {
    /// `structure;critère…` lines; `None`: every distributor, population only.
    pub criteria_csv: Option<&'a str>,
    /// "qpv=30,jeunes=10"; a criterion not named weighs 1.
    pub weights: &'a str,
    pub population_weight: Option<i64>,
    pub fixed: i64,
}

/// A key over every structure, or a French sentence saying what to fix.
pub async fn build_key(
    store: &Store,
    input: &KeyInput<'_>,
) -> Result<Result<AllocationKey, String>, StoreError> {
    let all = store.distributor_communes().await?;
    let candidates: Vec<(i64, i64)> = all.iter().map(|(d, c)| (d.0, population_of(c))).collect();
    Ok(key_among(&candidates, input, KeyUnit::Structures))
}

/// The first stage of a two-stage allocation: a key over the order's member territories, each
/// weighed by the population of its communes (counted once, whatever the number of structures
/// in them), the criteria file naming territories by number.
pub async fn build_territory_key(
    store: &Store,
    order: OrderId,
    input: &KeyInput<'_>,
) -> Result<Result<AllocationKey, String>, StoreError> {
    let territories = store.territories_of(order).await?;
    if territories.is_empty() {
        return Ok(Err(
            "Aucun territoire n'a rejoint cette commande : déclarez d'abord ses territoires membres."
                .into(),
        ));
    }
    let candidates: Vec<(i64, i64)> = territories
        .iter()
        .map(|t| (t.id.0, t.communes.iter().map(|c| population_of(c)).sum()))
        .collect();
    Ok(key_among(&candidates, input, KeyUnit::Territories))
}

/// The second stage: a key over the structures of one territory, for its referent.
pub async fn build_territory_structures_key(
    store: &Store,
    order: OrderId,
    territory: TerritoryId,
    input: &KeyInput<'_>,
) -> Result<Result<AllocationKey, String>, StoreError> {
    let structures = store.structures_of_territory(order, territory).await?;
    if structures.is_empty() {
        return Ok(Err(
            "Aucune structure n'est enregistrée sur les communes de ce territoire : faites-les enregistrer d'abord."
                .into(),
        ));
    }
    let candidates: Vec<(i64, i64)> = structures
        .iter()
        .map(|d| (d.id.0, population_of(&d.commune_insee)))
        .collect();
    Ok(key_among(&candidates, input, KeyUnit::Structures))
}

/// A key over `candidates` (id, population): the criteria file's lines (or every candidate,
/// population only), weights typed as "qpv=30", the population's weight, a fixed part.
fn key_among(
    candidates: &[(i64, i64)],
    input: &KeyInput<'_>,
    unit: KeyUnit,
) -> Result<AllocationKey, String> {
    let known: HashSet<i64> = candidates.iter().map(|(id, _)| *id).collect();
    let (mut criteria, rows) = match input.criteria_csv.filter(|t| !t.trim().is_empty()) {
        Some(text) => {
            let (names, rows) = parse_criteria_csv_of(text, &known, unit)?;
            let mut weights = HashMap::new();
            for part in input.weights.split(',').filter(|p| !p.trim().is_empty()) {
                let Some((name, w)) = part.rsplit_once('=') else {
                    return Err(format!(
                        "Poids « {part} » : écrivez critère=poids, par exemple qpv=30."
                    ));
                };
                let Ok(w) = w.trim().parse::<i64>() else {
                    return Err(format!("Poids « {w} » : un nombre entier est attendu."));
                };
                weights.insert(name.trim().to_string(), w);
            }
            let criteria: Vec<Criterion> = names
                .iter()
                .map(|n| Criterion {
                    name: n.clone(),
                    weight: weights.get(n).copied().unwrap_or(1),
                })
                .collect();
            (criteria, rows)
        }
        None => (
            vec![],
            candidates.iter().map(|(id, _)| (*id, vec![])).collect(),
        ),
    };
    let population: HashMap<i64, i64> = candidates.iter().copied().collect();
    if let Some(w) = input.population_weight {
        criteria.push(Criterion {
            name: "population".into(),
            weight: w,
        });
    }
    Ok(AllocationKey {
        criteria,
        structures: rows
            .into_iter()
            .map(|(id, mut values)| {
                if input.population_weight.is_some() {
                    values.push(population.get(&id).copied().unwrap_or(0));
                }
                StructureShare {
                    id,
                    fixed: input.fixed,
                    values,
                }
            })
            .collect(),
    })
}

/// A commune's population in the embedded list (0 if unknown).
fn population_of(commune: &str) -> i64 {
    InseeCode::parse(commune)
        .ok()
        .and_then(|c| communes().get(&c).map(|k| k.population))
        .unwrap_or(0)
}

/// Each distributor's commune population, from the embedded commune list.
pub fn populations(communes_of: &[(passnum_store::DistributorId, String)]) -> HashMap<i64, i64> {
    communes_of
        .iter()
        .map(|(d, c)| (d.0, population_of(c)))
        .collect()
}

/// Both stages planned at once: each territory's share (from the first stage's key) split at
/// once among the structures of its communes by `onward` (a fixed part and the population of
/// each structure's commune; a criteria file is not taken here). A territory without
/// structures keeps its share. Two reads, whatever the number of territories.
pub async fn plan_both_stages(
    store: &Store,
    order: OrderId,
    shares: &[(TerritoryId, i64)],
    onward: &KeyInput<'_>,
) -> Result<Result<Vec<passnum_store::TerritoryPlan>, String>, StoreError> {
    let territories = store.territories_of(order).await?;
    // Structures by commune, each with its commune's population: a territory then looks up
    // its own communes (and a city's arrondissements) instead of scanning every structure.
    let mut by_commune: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
    for (d, c) in store.distributor_communes().await? {
        let population = population_of(&c);
        by_commune.entry(c).or_default().push((d.0, population));
    }
    let mut plan = Vec::with_capacity(shares.len());
    for (t, booklets) in shares {
        let Some(territory) = territories.iter().find(|x| x.id == *t) else {
            return Ok(Err(format!(
                "Le territoire n° {t} n'est pas membre de cette commande."
            )));
        };
        let mut candidates: Vec<(i64, i64)> = territory
            .communes
            .iter()
            .flat_map(|c| {
                std::iter::once(c.clone()).chain(passnum_core::commune::arrondissements_of(c))
            })
            .filter_map(|c| by_commune.get(&c))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        let onward_shares = if candidates.is_empty() {
            vec![]
        } else {
            let input = KeyInput {
                criteria_csv: None,
                ..*onward
            };
            let key = match key_among(&candidates, &input, KeyUnit::Structures) {
                Ok(k) => k,
                Err(e) => return Ok(Err(e)),
            };
            match key.allocate(*booklets) {
                Ok(s) => s,
                Err(e) => return Ok(Err(format!("Territoire {} : {e}", territory.name))),
            }
        };
        plan.push(passnum_store::TerritoryPlan {
            territory: *t,
            booklets: *booklets,
            structures: onward_shares
                .into_iter()
                .map(|(d, n)| (passnum_store::DistributorId(d), n))
                .collect(),
        });
    }
    Ok(Ok(plan))
}
