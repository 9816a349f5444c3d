//! The funder shares an order's booklets among its distributing structures by an allocation key.

use super::*;

#[derive(Template)]
#[template(path = "repartition.html")]
pub(super) struct AllocationPage {
    layout: Layout,
    id: i64,
    stock: i64,
    distributors: usize,
    fixed: String,
    population: String,
    criteria: String,
    weights: String,
    errors: FieldErrors,
    /// (distributor, name, booklets) of the preview.
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
    f: &AllocationForm,
) -> AllocationPage {
    AllocationPage {
        layout: Layout::new("Répartir les carnets", Some(staff), csrf, "/commanditaire"),
        id: order.0,
        stock: st.store.unallocated_booklets(order).await.unwrap_or(0),
        distributors: st
            .store
            .distributor_ids()
            .await
            .map(|d| d.len())
            .unwrap_or(0),
        fixed: f.fixe.chars().take(10).collect(),
        population: f.population.chars().take(10).collect(),
        criteria: f.criteres.chars().take(200_000).collect(),
        weights: f.poids.chars().take(500).collect(),
        errors: FieldErrors::default(),
        preview: vec![],
        parts: String::new(),
    }
}

pub async fn allocation_form(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let defaults = AllocationForm {
        fixe: "0".into(),
        population: "70".into(),
        ..Default::default()
    };
    let page = allocation_page(&st, &staff, &csrf, order.id, &defaults).await;
    render(StatusCode::OK, &page, &csrf)
}

/// Previews a key ("apercu"), or commits a previewed allocation ("valider").
pub async fn allocation_submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    Submitted { form: f, token_ok }: Submitted<AllocationForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let id = order.id.0;
    let mut page = allocation_page(&st, &staff, &csrf, order.id, &f).await;
    if !token_ok {
        page.errors.add("fixe", crate::ui::STALE_FORM_KEPT);
        return render(StatusCode::BAD_REQUEST, &page, &csrf);
    }
    if f.etape == "valider" {
        let shares: Option<Vec<(passnum_store::DistributorId, i64)>> = f
            .parts
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (d, n) = p.split_once(':')?;
                Some((
                    passnum_store::DistributorId(d.parse().ok()?),
                    n.parse().ok()?,
                ))
            })
            .collect();
        let Some(shares) = shares else {
            page.errors
                .add("fixe", "L'aperçu n'a pas pu être relu : refaites-le.");
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
        };
        return match st
            .store
            .allocate_booklets(order.id, &shares, &staff.signature(), st.clock.now())
            .await
        {
            Ok(()) => Redirect::to(&format!("/commanditaire/commandes/{id}")).into_response(),
            Err(StoreError::Invalid { message, .. })
            | Err(StoreError::Conflict { message, .. }) => {
                page.errors.add("fixe", message);
                render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf)
            }
            Err(e) => crate::ui::PageError::unavailable(e, "répartition").into_response(),
        };
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
    let key = match crate::allocation::build_key(&st.store, &input).await {
        Ok(Ok(k)) => k,
        Ok(Err(message)) => {
            page.errors.add("criteres", message);
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
        }
        Err(e) => return crate::ui::PageError::unavailable(e, "répartition").into_response(),
    };
    match key.allocate(page.stock) {
        Ok(shares) => {
            // Every structure's name, however many share the booklets.
            let names = st
                .store
                .party_names()
                .await
                .unwrap_or_default()
                .distributors;
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
