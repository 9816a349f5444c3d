//! Builds an allocation key from what a funder gives (a criteria table as CSV text, weights
//! typed as "qpv=30", the weight of the embedded commune populations, a fixed part), for the
//! funder's page and `passnum allocate` alike.

use std::collections::{HashMap, HashSet};

use passnum_core::InseeCode;
use passnum_core::allocation::{AllocationKey, Criterion, StructureShare, parse_criteria_csv};
use passnum_core::commune::communes;
use passnum_store::{Store, StoreError};

pub struct KeyInput<'a> {
    /// `structure;critère…` lines; `None`: every distributor, population only.
    pub criteria_csv: Option<&'a str>,
    /// "qpv=30,jeunes=10"; a criterion not named weighs 1.
    pub weights: &'a str,
    pub population_weight: Option<i64>,
    pub fixed: i64,
}

/// A key, or a French sentence saying what to fix.
pub async fn build_key(
    store: &Store,
    input: &KeyInput<'_>,
) -> Result<Result<AllocationKey, String>, StoreError> {
    let all = store.distributor_communes().await?;
    let known: HashSet<i64> = all.iter().map(|(d, _)| d.0).collect();
    let (mut criteria, rows) = match input.criteria_csv.filter(|t| !t.trim().is_empty()) {
        Some(text) => {
            let (names, rows) = match parse_criteria_csv(text, &known) {
                Ok(x) => x,
                Err(e) => return Ok(Err(e)),
            };
            let mut weights = HashMap::new();
            for part in input.weights.split(',').filter(|p| !p.trim().is_empty()) {
                let Some((name, w)) = part.rsplit_once('=') else {
                    return Ok(Err(format!(
                        "Poids « {part} » : écrivez critère=poids, par exemple qpv=30."
                    )));
                };
                let Ok(w) = w.trim().parse::<i64>() else {
                    return Ok(Err(format!(
                        "Poids « {w} » : un nombre entier est attendu."
                    )));
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
        None => (vec![], all.iter().map(|(d, _)| (d.0, vec![])).collect()),
    };
    let population = populations(&all);
    if let Some(w) = input.population_weight {
        criteria.push(Criterion {
            name: "population".into(),
            weight: w,
        });
    }
    Ok(Ok(AllocationKey {
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
    }))
}

/// Each distributor's commune population, from the embedded commune list.
pub fn populations(communes_of: &[(passnum_store::DistributorId, String)]) -> HashMap<i64, i64> {
    communes_of
        .iter()
        .map(|(d, c)| {
            let p = InseeCode::parse(c)
                .ok()
                .and_then(|c| communes().get(&c).map(|k| k.population))
                .unwrap_or(0);
            (d.0, p)
        })
        .collect()
}
