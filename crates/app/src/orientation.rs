//! Orientation after a handout: the venue directory kept in memory, and the suggestions for one
//! handout, shared by the agent's page, the slip and the API.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use std::time::{Duration, Instant};

use passnum_core::InseeCode;
use passnum_core::orientation::Directory;
use passnum_store::{HandoutRecord, Store, StoreError, VenueCard};
use time::Date;

/// How long a loaded directory is used. A venue qualified or suspended on another server
/// sharing the database shows up in suggestions within this delay; on this server at once.
const TTL: Duration = Duration::from_secs(30);

/// How many venues a person is offered.
pub const SUGGESTIONS: usize = 5;

/// The qualified venues and the names of the référentiel categories, loaded from the
/// database at most every 30 s: a suggestion is then a pass in memory instead of reading every
/// venue, its services and the référentiel.
#[derive(Default)]
pub struct DirectoryCache {
    loaded: Mutex<Option<(Arc<Loaded>, Instant, Date)>>,
}

pub struct Loaded {
    pub directory: Directory,
    /// Category code → name.
    category_names: BTreeMap<String, String>,
}

impl Loaded {
    fn category_name(&self, code: &str) -> String {
        self.category_names
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_string())
    }
}

impl DirectoryCache {
    pub async fn get(&self, store: &Store, today: Date) -> Result<Arc<Loaded>, StoreError> {
        if let Some((d, at, day)) = &*self.loaded.lock()
            && at.elapsed() < TTL
            && *day == today
        {
            return Ok(d.clone());
        }
        let category_names = store
            .list_services()
            .await?
            .into_iter()
            .map(|s| (s.category_code, s.category_name))
            .collect();
        let d = Arc::new(Loaded {
            directory: Directory::new(store.venue_directory(today).await?),
            category_names,
        });
        *self.loaded.lock() = Some((d.clone(), Instant::now(), today));
        Ok(d)
    }

    /// After a venue changed on this server.
    pub fn invalidate(&self) {
        *self.loaded.lock() = None;
    }
}

/// One suggested venue, as shown to the person.
#[derive(Clone, Debug)]
pub struct SuggestedVenue {
    pub card: VenueCard,
    pub commune_name: String,
    pub distance_km: f64,
    pub approximate: bool,
    /// Names of the wanted référentiel categories the venue offers.
    pub offers: Vec<String>,
}

impl SuggestedVenue {
    /// "à 3,2 km", "dans la commune", "à environ 12 km".
    pub fn distance_text(&self) -> String {
        if self.distance_km < 0.05 && !self.approximate {
            return "dans la même commune".into();
        }
        let km = if self.distance_km < 10.0 {
            format!("{:.1}", self.distance_km).replace('.', ",")
        } else {
            format!("{:.0}", self.distance_km)
        };
        if self.approximate {
            format!("à environ {km} km")
        } else {
            format!("à {km} km")
        }
    }
}

/// The venues to suggest for a handout: nearest first among the qualified venues inside the
/// order's perimeter that offer what the diagnostic asks for.
pub async fn suggest(
    store: &Store,
    cache: &DirectoryCache,
    handout: &HandoutRecord,
    today: Date,
) -> Result<Vec<SuggestedVenue>, StoreError> {
    let order = store.get_order(handout.order_id).await?;
    let perimeter = order.perimeter();
    let Ok(home) = InseeCode::parse(&handout.commune_insee) else {
        return Ok(Vec::new());
    };
    let loaded = cache.get(store, today).await?;
    let diagnostic = handout.diagnostic();
    let wanted = diagnostic.categories();
    let found = loaded
        .directory
        .suggest(&home, &wanted, &perimeter, SUGGESTIONS);
    let ids: Vec<i64> = found.iter().map(|s| s.venue.id).collect();
    let cards = store.venue_cards(&ids).await?;
    Ok(found
        .iter()
        .zip(cards)
        .map(|(s, card)| SuggestedVenue {
            commune_name: passnum_core::commune::communes()
                .name_of(&card.commune_insee)
                .map_or_else(|| card.commune_insee.clone(), str::to_string),
            card,
            distance_km: s.distance_km,
            approximate: s.approximate,
            offers: s.matched.iter().map(|c| loaded.category_name(c)).collect(),
        })
        .collect())
}

/// Workshops with a free place in the next 14 days, in the communes of the suggested venues
/// (inside the order's perimeter, as they are), for what the diagnostic asks: what the agent
/// can book at once.
pub async fn workshops_for(
    store: &Store,
    handout: &HandoutRecord,
    venues: &[SuggestedVenue],
    now: passnum_core::Timestamp,
) -> Result<Vec<(passnum_store::Workshop, String)>, StoreError> {
    let mut communes: Vec<String> = venues
        .iter()
        .map(|v| v.card.commune_insee.clone())
        .collect();
    communes.sort();
    communes.dedup();
    store
        .search_workshops(&passnum_store::WorkshopSearch {
            communes,
            categories: handout
                .diagnostic()
                .categories()
                .into_iter()
                .map(str::to_string)
                .collect(),
            from: now,
            to: now.plus_ms(14 * 86_400_000),
            limit: 5,
        })
        .await
}
