//! The funder shares an order's booklets by an allocation key: among its distributing
//! structures, among the order's member territories (first stage), or a territory's share
//! among the territory's own structures (second stage), from the funder's pages or the
//! referent's. One page, four scopes.

use passnum_core::TerritoryId;

use super::*;

/// What an allocation page shares, and among whom.
#[derive(Clone, Copy)]
pub(crate) enum Scope {
    /// The funder's stock among every structure.
    Structures,
    /// The funder's stock among the member territories.
    Territories,
    /// A territory's stock among its structures, from the funder's pages.
    TerritoryStructures(TerritoryId),
    /// The same, from its référent's own pages.
    OwnTerritory(TerritoryId),
}

#[derive(Template)]
#[template(path = "repartition.html")]
pub(super) struct AllocationPage {
    layout: Layout,
    /// Where the form posts.
    action: String,
    /// Where "back" goes.
    back: String,
    /// "Répartir les carnets de la commande n° 12", "… entre les territoires membres".
    heading: String,
    /// "Carnets encore dans votre stock", "Carnets du territoire Liévin encore à répartir".
    stock_label: String,
    stock: i64,
    /// "Distributeurs enregistrés : 12", "Territoires membres : 36".
    among: String,
    /// "structure" or "territoire": the criteria file's first column, the fixed part's and the
    /// preview's words.
    unit: &'static str,
    fixed: String,
    population: String,
    criteria: String,
    weights: String,
    errors: FieldErrors,
    /// (structure or territory, name, booklets) of the preview.
    preview: Vec<(i64, String, i64)>,
    /// The preview as "id:n,id:n", sent back to commit it.
    parts: String,
}

#[derive(Deserialize, Default)]
pub struct AllocationForm {
    #[serde(default)]
    etape: String,
    #[serde(default)]
    fixe: String,
    #[serde(default)]
    population: String,
    #[serde(default)]
    criteres: String,
    #[serde(default)]
    poids: String,
    #[serde(default)]
    parts: String,
}

pub(super) async fn allocation_page(
    st: &AppState,
    staff: &passnum_store::StaffMember,
    csrf: &Csrf,
    order: OrderId,
    scope: Scope,
    f: &AllocationForm,
) -> Result<AllocationPage, Response> {
    let id = order.0;
    let unavailable = |e| crate::ui::PageError::unavailable(e, "répartition").into_response();
    let (action, back, heading, stock_label, stock, among, unit) = match scope {
        Scope::Structures => (
            format!("/commanditaire/commandes/{id}/repartition"),
            format!("/commanditaire/commandes/{id}"),
            format!("Répartir les carnets de la commande n° {id}"),
            "Carnets encore dans votre stock".to_string(),
            st.store
                .unallocated_booklets(order)
                .await
                .map_err(unavailable)?,
            format!(
                "Distributeurs enregistrés : {}",
                st.store.distributor_ids().await.map_err(unavailable)?.len()
            ),
            "structure",
        ),
        Scope::Territories => (
            format!("/commanditaire/commandes/{id}/territoires/repartition"),
            format!("/commanditaire/commandes/{id}/territoires"),
            format!("Répartir les carnets de la commande n° {id} entre les territoires membres"),
            "Carnets encore dans votre stock".to_string(),
            st.store
                .unallocated_booklets(order)
                .await
                .map_err(unavailable)?,
            format!(
                "Territoires membres : {} ; la population d'un territoire est celle de ses communes",
                st.store
                    .territories_of(order)
                    .await
                    .map_err(unavailable)?
                    .len()
            ),
            "territoire",
        ),
        Scope::TerritoryStructures(t) | Scope::OwnTerritory(t) => {
            let territory = match st.store.territory(order, t).await {
                Ok(t) => t,
                Err(StoreError::NotFound) => {
                    return Err(crate::ui::PageError::NotFound {
                        heading: "Territoire introuvable",
                        text: "Cette commande n'a pas de territoire membre sous ce numéro.",
                    }
                    .into_response());
                }
                Err(e) => return Err(unavailable(e)),
            };
            let (action, back) = match scope {
                Scope::OwnTerritory(_) => (
                    "/territoire/repartition".to_string(),
                    "/territoire".to_string(),
                ),
                _ => (
                    format!("/commanditaire/commandes/{id}/territoires/{t}/repartition"),
                    format!("/commanditaire/commandes/{id}/territoires/{t}"),
                ),
            };
            (
                action,
                back,
                format!("Répartir les carnets du territoire {}", territory.name),
                format!("Carnets du territoire {} encore à répartir", territory.name),
                territory.in_stock,
                format!(
                    "Structures sur ses communes : {}",
                    st.store
                        .structures_of_territory(order, t)
                        .await
                        .map_err(unavailable)?
                        .len()
                ),
                "structure",
            )
        }
    };
    Ok(AllocationPage {
        layout: Layout::new(heading.clone(), Some(staff), csrf, "/commanditaire"),
        action,
        back,
        heading,
        stock_label,
        stock,
        among,
        unit,
        fixed: f.fixe.chars().take(10).collect(),
        population: f.population.chars().take(10).collect(),
        criteria: f.criteres.chars().take(200_000).collect(),
        weights: f.poids.chars().take(500).collect(),
        errors: FieldErrors::default(),
        preview: vec![],
        parts: String::new(),
    })
}

fn defaults() -> AllocationForm {
    AllocationForm {
        fixe: "0".into(),
        population: "70".into(),
        ..Default::default()
    }
}

pub async fn allocation_form(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
) -> Response {
    show(&st, &headers, &staff, order.id, Scope::Structures).await
}

/// First stage: the funder's stock among the member territories.
pub async fn territory_allocation_form(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
) -> Response {
    show(&st, &headers, &staff, order.id, Scope::Territories).await
}

/// Second stage: a territory's stock among its structures.
pub async fn territory_share_form(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    Path((_, t)): Path<(i64, i64)>,
) -> Response {
    let scope = Scope::TerritoryStructures(TerritoryId(t));
    show(&st, &headers, &staff, order.id, scope).await
}

pub(crate) async fn show(
    st: &AppState,
    headers: &HeaderMap,
    staff: &passnum_store::StaffMember,
    order: OrderId,
    scope: Scope,
) -> Response {
    let csrf = Csrf::from_headers(headers);
    match allocation_page(st, staff, &csrf, order, scope, &defaults()).await {
        Ok(page) => render(StatusCode::OK, &page, &csrf),
        Err(r) => r,
    }
}

/// Previews a key ("apercu"), or commits a previewed allocation ("valider").
pub async fn allocation_submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    form: Submitted<AllocationForm>,
) -> Response {
    submit(&st, &headers, &staff, order.id, Scope::Structures, form).await
}

pub async fn territory_allocation_submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    form: Submitted<AllocationForm>,
) -> Response {
    submit(&st, &headers, &staff, order.id, Scope::Territories, form).await
}

pub async fn territory_share_submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    Path((_, t)): Path<(i64, i64)>,
    form: Submitted<AllocationForm>,
) -> Response {
    let scope = Scope::TerritoryStructures(TerritoryId(t));
    submit(&st, &headers, &staff, order.id, scope, form).await
}

pub(crate) async fn submit(
    st: &AppState,
    headers: &HeaderMap,
    staff: &passnum_store::StaffMember,
    order: OrderId,
    scope: Scope,
    Submitted { form: f, token_ok }: Submitted<AllocationForm>,
) -> Response {
    let csrf = Csrf::from_headers(headers);
    let mut page = match allocation_page(st, staff, &csrf, order, scope, &f).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if !token_ok {
        page.errors.add("fixe", crate::ui::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    if f.etape == "valider" {
        return commit(st, staff, order, scope, &f.parts, page, &csrf).await;
    }
    let fixed = match f.fixe.trim() {
        "" => 0,
        s => match s.parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => {
                page.errors
                    .add("fixe", "Indiquez un nombre de carnets, 0 ou plus.");
                -1
            }
        },
    };
    let population_weight = match f.population.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                page.errors.add(
                    "population",
                    "Indiquez un poids, un nombre entier positif, ou laissez vide.",
                );
                None
            }
        },
    };
    if !page.errors.is_empty() {
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    }
    let input = crate::allocation::KeyInput {
        criteria_csv: Some(f.criteres.as_str()),
        weights: &f.poids,
        population_weight,
        fixed,
    };
    let built = match scope {
        Scope::Structures => crate::allocation::build_key(&st.store, &input).await,
        Scope::Territories => {
            crate::allocation::build_territory_key(&st.store, order, &input).await
        }
        Scope::TerritoryStructures(t) | Scope::OwnTerritory(t) => {
            crate::allocation::build_territory_structures_key(&st.store, order, t, &input).await
        }
    };
    let key = match built {
        Ok(Ok(k)) => k,
        Ok(Err(message)) => {
            page.errors.add("criteres", message);
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
        }
        Err(e) => return crate::ui::PageError::unavailable(e, "répartition").into_response(),
    };
    match key.allocate(page.stock) {
        Ok(shares) => {
            // Every name, however many share the booklets.
            let names: std::collections::BTreeMap<i64, String> = match scope {
                Scope::Territories => st
                    .store
                    .territories_of(order)
                    .await
                    .unwrap_or_default()
                    .into_iter()
                    .map(|t| (t.id.0, t.name))
                    .collect(),
                _ => st
                    .store
                    .party_names()
                    .await
                    .unwrap_or_default()
                    .distributors
                    .into_iter()
                    .collect(),
            };
            page.parts = shares
                .iter()
                .map(|(d, n)| format!("{d}:{n}"))
                .collect::<Vec<_>>()
                .join(",");
            page.preview = shares
                .into_iter()
                .map(|(d, n)| (d, names.get(&d).cloned().unwrap_or_default(), n))
                .collect();
            crate::audit::unchanged(render(StatusCode::OK, &page, &csrf))
        }
        Err(e) => {
            page.errors.add("criteres", e.to_string());
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
        }
    }
}

/// Commits a previewed allocation, sent back as "id:n,id:n".
async fn commit(
    st: &AppState,
    staff: &passnum_store::StaffMember,
    order: OrderId,
    scope: Scope,
    parts: &str,
    mut page: AllocationPage,
    csrf: &Csrf,
) -> Response {
    let shares: Option<Vec<(i64, i64)>> = parts
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (d, n) = p.split_once(':')?;
            Some((d.parse().ok()?, n.parse().ok()?))
        })
        .collect();
    let Some(shares) = shares else {
        page.errors
            .add("fixe", "L'aperçu n'a pas pu être relu : refaites-le.");
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, csrf);
    };
    let (by, now) = (staff.signature(), st.clock.now());
    let structures = || {
        shares
            .iter()
            .map(|(d, n)| (passnum_store::DistributorId(*d), *n))
            .collect::<Vec<_>>()
    };
    let done = match scope {
        Scope::Structures => {
            st.store
                .allocate_booklets(order, &structures(), &by, now)
                .await
        }
        Scope::Territories => {
            let territories: Vec<(TerritoryId, i64)> =
                shares.iter().map(|(t, n)| (TerritoryId(*t), *n)).collect();
            st.store
                .allocate_to_territories(order, &territories, &by, now)
                .await
        }
        Scope::TerritoryStructures(t) | Scope::OwnTerritory(t) => {
            st.store
                .allocate_from_territory(order, t, &structures(), &by, now)
                .await
        }
    };
    match done {
        Ok(()) => Redirect::to(&page.back).into_response(),
        Err(StoreError::Invalid { message, .. }) | Err(StoreError::Conflict { message, .. }) => {
            page.errors.add("fixe", message);
            render(StatusCode::UNPROCESSABLE_ENTITY, &page, csrf)
        }
        Err(e) => crate::ui::PageError::unavailable(e, "répartition").into_response(),
    }
}
