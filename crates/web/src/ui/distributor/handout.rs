//! Handing a booklet out: the diagnostic form, its checks and the all-or-nothing write.

use super::*;

#[derive(Template)]
#[template(path = "remise.html")]
pub(super) struct HandoutPage {
    layout: Layout,
    structure: String,
    /// ("order-number", label) of the booklets in stock.
    stock: Vec<(String, String)>,
    /// Target publics of the orders in stock, for the hint.
    targets: String,
    /// Whether an order in stock allows one booklet per household (its fields shown only then).
    household_rule: bool,
    /// Whether an own public of an order in stock has an age band: the birth date is then
    /// asked (optional, checked, never kept) even without the household rule.
    age_check: bool,
    carnet: String,
    needs: Vec<(&'static str, &'static str, bool)>,
    equipment: Vec<(&'static str, &'static str, bool)>,
    levels: Vec<(&'static str, &'static str, bool)>,
    publics: Vec<PublicChoice>,
    language_need: bool,
    disability_need: bool,
    override_reason: String,
    postcode: String,
    /// The communes of the typed postcode, when it covers several.
    communes: Vec<(String, String)>,
    commune: String,
    surname: String,
    birth_date: String,
    consent: bool,
    errors: FieldErrors,
}

/// A checkbox of question 6: the national publics, then the own publics of the orders in
/// stock with the funder's criteria as hint.
pub(super) struct PublicChoice {
    code: String,
    label: String,
    hint: String,
    checked: bool,
}

/// The form as typed (repeated checkboxes arrive as repeated pairs).
#[derive(Default)]
pub(super) struct Typed {
    carnet: String,
    needs: Vec<String>,
    equipment: String,
    level: String,
    publics: Vec<String>,
    language_need: bool,
    disability_need: bool,
    override_reason: String,
    postcode: String,
    commune: String,
    surname: String,
    birth_date: String,
    consent: bool,
}

impl Typed {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut t = Typed::default();
        for (k, v) in pairs {
            let v: String = v.chars().take(600).collect();
            match k.as_str() {
                "carnet" => t.carnet = v,
                "besoin" => t.needs.push(v),
                "equipement" => t.equipment = v,
                "niveau" => t.level = v,
                "public" => t.publics.push(v),
                "langue" => t.language_need = true,
                "handicap" => t.disability_need = true,
                "derogation" => t.override_reason = v,
                "code_postal" => t.postcode = v.chars().filter(|c| !c.is_whitespace()).collect(),
                "commune" => t.commune = v,
                "nom" => t.surname = v,
                "naissance" => t.birth_date = v,
                "consentement" => t.consent = true,
                _ => {}
            }
        }
        t
    }
}

pub(super) async fn form_page(
    st: &AppState,
    staff: &StaffMember,
    d: DistributorId,
    csrf: &Csrf,
    t: &Typed,
) -> Result<HandoutPage, StoreError> {
    let stock = st.store.distributor_stock(d, STOCK_SHOWN, 0).await?;
    let mut targets: Vec<String> = vec![];
    let mut orders: Vec<OrderId> = stock.iter().map(|b| b.order_id).collect();
    orders.dedup();
    let ticked = |code: &str| t.publics.iter().any(|x| x == code);
    let mut publics: Vec<PublicChoice> = Public::ALL
        .iter()
        .map(|p| PublicChoice {
            code: p.as_str().to_string(),
            label: p.label().to_string(),
            hint: String::new(),
            checked: ticked(p.as_str()),
        })
        .collect();
    let (mut household_rule, mut age_check) = (false, false);
    let several = orders.len() > 1;
    for o in orders {
        let rules = st.store.order_rules(o).await?;
        household_rule |= rules.one_per_household;
        for p in &rules.target_publics {
            let name = rules.label(*p);
            if !targets.contains(&name) {
                targets.push(name);
            }
        }
        for p in rules.own_publics.iter().filter(|p| !p.retired) {
            age_check |= p.age.is_some();
            publics.push(PublicChoice {
                code: p.code(),
                label: if several {
                    format!("{} (commande {})", p.long_label(), o.0)
                } else {
                    p.long_label()
                },
                hint: p.criteria.clone(),
                checked: ticked(&p.code()),
            });
        }
    }
    let mut choices: Vec<(String, String)> = stock
        .iter()
        .filter(|b| !b.distribution_stopped)
        .map(|b| {
            (
                format!("{}-{}", b.order_id.0, b.number),
                format!(
                    "Commande {} — carnet n° {} ({}, {}, valable jusqu'au {})",
                    b.order_id.0,
                    b.number,
                    b.funder_name,
                    euros(b.cheques * b.face_value_cents),
                    paris::format_date(b.valid_until)
                ),
            )
        })
        .collect();
    // A booklet chosen from a later page of the stock table is offered too (the handout
    // itself checks that it is in this structure's stock).
    if let Some((order, number)) = parse_booklet(&t.carnet)
        && !choices.iter().any(|(v, _)| *v == t.carnet)
    {
        choices.insert(
            0,
            (
                t.carnet.clone(),
                format!("Commande {} — carnet n° {number}", order.0),
            ),
        );
    }
    Ok(HandoutPage {
        layout: Layout::new("Remettre un carnet", Some(staff), csrf, "/structure/remise"),
        household_rule,
        age_check,
        structure: structure_name(st, d).await,
        stock: choices,
        targets: targets.join(", "),
        carnet: t.carnet.clone(),
        needs: Need::ALL
            .iter()
            .map(|n| {
                (
                    n.as_str(),
                    n.label(),
                    t.needs.iter().any(|x| x == n.as_str()),
                )
            })
            .collect(),
        equipment: Equipment::ALL
            .iter()
            .map(|e| (e.as_str(), e.label(), t.equipment == e.as_str()))
            .collect(),
        levels: Level::ALL
            .iter()
            .map(|l| (l.as_str(), l.label(), t.level == l.as_str()))
            .collect(),
        publics,
        language_need: t.language_need,
        disability_need: t.disability_need,
        override_reason: t.override_reason.clone(),
        postcode: t.postcode.clone(),
        communes: Vec::new(),
        commune: t.commune.clone(),
        surname: t.surname.clone(),
        birth_date: t.birth_date.clone(),
        consent: t.consent,
        errors: FieldErrors::default(),
    })
}

#[derive(Deserialize)]
pub struct FormQuery {
    #[serde(default)]
    carnet: String,
}

pub async fn form(
    State(st): State<AppState>,
    headers: HeaderMap,
    DistributorStaff(staff, d): DistributorStaff,
    Query(q): Query<FormQuery>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let typed = Typed {
        carnet: q.carnet.chars().take(40).collect(),
        ..Default::default()
    };
    match form_page(&st, &staff, d, &csrf, &typed).await {
        Ok(mut page) => {
            // The lowest booklet of the stock is offered first: the agent changes it only
            // when handing out another one.
            if page.carnet.is_empty()
                && let Some((first, _)) = page.stock.first()
            {
                page.carnet = first.clone();
            }
            render(StatusCode::OK, &page, &csrf)
        }
        Err(e) => crate::ui::PageError::unavailable(e, "page remise").into_response(),
    }
}

/// "12-3" → (order 12, booklet 3).
pub(super) fn parse_booklet(s: &str) -> Option<(OrderId, i64)> {
    let (o, n) = s.trim().split_once('-')?;
    Some((OrderId(o.parse().ok()?), n.parse().ok()?))
}

/// The person's commune from the postcode and, when it covers several, the chosen commune.
/// The communes of a shared postcode are returned for the form's select.
pub(super) fn resolve_commune(
    errors: &mut FieldErrors,
    t: &Typed,
) -> (Option<InseeCode>, Vec<(String, String)>) {
    let found = communes().of_residents(&t.postcode);
    if found.is_empty() {
        errors.add(
            "code_postal",
            "Code postal inconnu : tapez les 5 chiffres du code postal de la personne, par exemple 69003.",
        );
        return (None, Vec::new());
    }
    if let [only] = found.as_slice() {
        return (InseeCode::parse(only.insee).ok(), Vec::new());
    }
    let choices = found
        .iter()
        .map(|c| (c.insee.to_string(), c.name.to_string()))
        .collect();
    match found.iter().find(|c| c.insee == t.commune) {
        Some(c) => (InseeCode::parse(c.insee).ok(), choices),
        None => {
            errors.add(
                "commune",
                "Ce code postal couvre plusieurs communes : choisissez celle de la personne.",
            );
            (None, choices)
        }
    }
}

/// The form again, with the person's answers and what to correct. Built only when a handout
/// is refused: a handout that succeeds reads neither the stock nor the rules for a page.
#[allow(clippy::too_many_arguments)]
pub(super) async fn refused_form(
    st: &AppState,
    staff: &StaffMember,
    d: DistributorId,
    csrf: &Csrf,
    t: &Typed,
    errors: FieldErrors,
    communes: Vec<(String, String)>,
    status: StatusCode,
) -> Response {
    match form_page(st, staff, d, csrf, t).await {
        Ok(mut page) => {
            page.errors = errors;
            page.communes = communes;
            render(status, &page, csrf)
        }
        Err(e) => crate::ui::PageError::unavailable(e, "page remise").into_response(),
    }
}

pub(super) fn field_of(e: &HandoutError) -> &'static str {
    match e {
        HandoutError::NoNeed | HandoutError::UnknownNeed(_) => "besoins",
        HandoutError::UnknownEquipment(_) => "equipement",
        HandoutError::UnknownLevel(_) => "niveau",
        HandoutError::UnknownPublic(_)
        | HandoutError::NotTargetPublic(_)
        | HandoutError::OutsideAgeBand { .. } => "publics",
        HandoutError::NoConsent => "consentement",
        HandoutError::OverrideReason => "derogation",
        HandoutError::HouseholdMissing => "nom",
    }
}

pub async fn submit(
    State(st): State<AppState>,
    headers: HeaderMap,
    DistributorStaff(staff, d): DistributorStaff,
    Submitted {
        form: pairs,
        token_ok,
    }: Submitted<Vec<(String, String)>>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let t = Typed::from_pairs(pairs);
    let mut errors = FieldErrors::default();
    if !token_ok {
        errors.add("carnet", crate::ui::STALE_FORM_KEPT);
        return refused_form(
            &st,
            &staff,
            d,
            &csrf,
            &t,
            errors,
            Vec::new(),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let booklet = parse_booklet(&t.carnet);
    if booklet.is_none() {
        errors.add("carnet", "Choisissez le carnet que vous remettez.");
    }
    // The questions are answered in order on the form: say first what is missing there.
    if t.equipment.is_empty() {
        errors.add(
            "equipement",
            "Indiquez l'équipement de la personne (question 2).",
        );
    }
    if t.level.is_empty() {
        errors.add("niveau", "Indiquez où en est la personne (question 3).");
    }
    let (commune, choices) = resolve_commune(&mut errors, &t);
    let (Some((order, number)), Some(commune), true) = (booklet, commune, errors.is_empty()) else {
        return refused_form(
            &st,
            &staff,
            d,
            &csrf,
            &t,
            errors,
            choices,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let household = (!t.surname.trim().is_empty() || !t.birth_date.trim().is_empty()).then(|| {
        HouseholdRequest {
            surname: t.surname.clone(),
            birth_date: t.birth_date.clone(),
            postcode: t.postcode.clone(),
        }
    });
    let req = HandoutRequest {
        needs: t.needs.clone(),
        equipment: t.equipment.clone(),
        level: t.level.clone(),
        language_need: t.language_need,
        disability_need: t.disability_need,
        publics: t.publics.clone(),
        consent: t.consent,
        override_reason: Some(t.override_reason.clone()),
        household,
    };
    let of = crate::handing::HandoutOf {
        distributor: d,
        staff_id: Some(staff.id),
        order,
        booklet_number: number,
        commune: &commune,
    };
    let (field, message, status) =
        match crate::handing::hand_out(&st.store, &st.household, of, &req, st.clock.now()).await {
            Ok(h) => return Redirect::to(&format!("/structure/remises/{}", h.id)).into_response(),
            Err(HandingError::Refused(e)) => (
                field_of(&e),
                e.to_string(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            Err(HandingError::Store(StoreError::Conflict { code, message })) => (
                if code == "household_already_served" {
                    "nom"
                } else {
                    "carnet"
                },
                message,
                StatusCode::CONFLICT,
            ),
            Err(HandingError::Store(StoreError::NotFound)) => (
                "carnet",
                "Ce carnet est introuvable : choisissez-en un dans la liste.".to_string(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            Err(HandingError::Store(e)) => {
                return crate::ui::PageError::unavailable(e, "remise").into_response();
            }
        };
    errors.add(field, message);
    refused_form(&st, &staff, d, &csrf, &t, errors, choices, status).await
}
