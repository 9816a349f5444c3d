//! Steps of an order from the pages: the funder confirms, cancels or declares a booklet lost; the operator records the payment and issues.

use super::*;

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    confirmation: Option<String>,
    /// For "carnet-perdu": the booklet's number and "perdu" or "vole".
    #[serde(default)]
    carnet: String,
    #[serde(default)]
    motif: String,
    /// For "deplacer": "stock" (the funder's) or a structure's number, the receiving
    /// structure's number, and how many booklets.
    #[serde(default)]
    depuis: String,
    #[serde(default)]
    vers: String,
    #[serde(default)]
    nombre: String,
}

/// The page for an order that is not the funder's (or does not exist: they look the same).
pub(in crate::ui) const ORDER_NOT_FOUND: PageError = PageError::NotFound {
    heading: "Commande introuvable",
    text: "Cette commande n'existe pas parmi les vôtres.",
};

pub(super) fn refused(staff: &passnum_store::StaffMember, csrf: &Csrf, e: StoreError) -> Response {
    match e {
        StoreError::Conflict { message, .. } | StoreError::Invalid { message, .. } => {
            crate::ui::message(
                StatusCode::CONFLICT,
                Some(staff),
                csrf,
                "Action impossible",
                &message,
            )
        }
        other => crate::ui::PageError::unavailable(other, "commande").into_response(),
    }
}

/// Confirm ("confirmer") or cancel ("annuler", which needs the confirmation box) a draft.
pub async fn action(
    State(st): State<AppState>,
    headers: HeaderMap,
    FunderOrder(staff, order): FunderOrder,
    Path((_, action)): Path<(i64, String)>,
    PageForm(f): PageForm<ActionForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let id = order.id.0;
    let now = st.clock.now();
    let done = match action.as_str() {
        "confirmer" => st.store.confirm_order(order.id, now).await,
        "annuler" if f.confirmation.is_some() => st.store.cancel_order(order.id, now).await,
        "carnet-perdu" => {
            let Ok(number) = f.carnet.trim().parse::<i64>() else {
                return crate::ui::message(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(&staff),
                    &csrf,
                    "Numéro de carnet manquant",
                    "Indiquez le numéro du carnet perdu ou volé (imprimé sur sa couverture).",
                );
            };
            if f.confirmation.is_none() {
                return crate::ui::message(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(&staff),
                    &csrf,
                    "Déclaration non confirmée",
                    "Cochez la case de confirmation : les chèques non utilisés du carnet seront refusés.",
                );
            }
            return match st
                .store
                .block_booklet(order.id, number, f.motif == "vole", now)
                .await
            {
                Ok(_) => Redirect::to(&format!("/commanditaire/commandes/{id}")).into_response(),
                Err(StoreError::NotFound) => crate::ui::message(
                    StatusCode::NOT_FOUND,
                    Some(&staff),
                    &csrf,
                    "Carnet introuvable",
                    &format!(
                        "Cette commande n'a pas de carnet n° {number} : vérifiez le numéro sur la couverture."
                    ),
                ),
                Err(e) => refused(&staff, &csrf, e),
            };
        }
        "deplacer" => {
            let to = f.vers.trim().parse::<i64>().ok();
            let count = f.nombre.trim().parse::<i64>().ok().filter(|n| *n > 0);
            let (Some(to), Some(count)) = (to, count) else {
                return crate::ui::message(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(&staff),
                    &csrf,
                    "Carnets non déplacés",
                    "Choisissez la structure qui reçoit et un nombre de carnets supérieur à zéro : rien n'a été changé.",
                );
            };
            let to = passnum_store::DistributorId(to);
            let moved = match f.depuis.trim() {
                "stock" => {
                    st.store
                        .allocate_booklets(order.id, &[(to, count)], &staff.signature(), now)
                        .await
                }
                from => match from.parse::<i64>() {
                    Ok(from) => {
                        st.store
                            .transfer_booklets(
                                order.id,
                                passnum_store::DistributorId(from),
                                to,
                                count,
                                &staff.signature(),
                                now,
                            )
                            .await
                    }
                    Err(_) => return ORDER_NOT_FOUND.into_response(),
                },
            };
            return match moved {
                Ok(()) => Redirect::to(&format!("/commanditaire/commandes/{id}")).into_response(),
                Err(e) => refused(&staff, &csrf, e),
            };
        }
        "annuler" => {
            return crate::ui::message(
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&staff),
                &csrf,
                "Annulation non confirmée",
                "Cochez la case « Je confirme l'annulation » pour annuler la commande.",
            );
        }
        _ => return ORDER_NOT_FOUND.into_response(),
    };
    match done {
        Ok(_) => Redirect::to(&format!("/commanditaire/commandes/{id}")).into_response(),
        Err(e) => refused(&staff, &csrf, e),
    }
}

/// What the operator is about to do to an order, asked once more before it is done: recording
/// a payment posts it to the ledger, issuing creates the cheque codes; neither is undone.
#[derive(Template)]
#[template(path = "operateur_commande_etape.html")]
pub(in crate::ui) struct StepPage {
    layout: Layout,
    id: i64,
    action: &'static str,
    heading: String,
    consequence: &'static str,
    button: &'static str,
    funder: String,
    booklets: i64,
    total: String,
    errors: FieldErrors,
}

async fn step_page(
    st: &AppState,
    staff: &passnum_store::StaffMember,
    csrf: &Csrf,
    id: i64,
    action: &str,
) -> Result<StepPage, Response> {
    let not_found = || {
        crate::ui::message(
            StatusCode::NOT_FOUND,
            Some(staff),
            csrf,
            "Commande introuvable",
            "Cette commande n'existe pas.",
        )
    };
    let (action, heading, consequence, button) = match action {
        "paiement" => (
            "paiement",
            format!("Paiement reçu pour la commande n° {id} ?"),
            "Le montant est enregistré dans la comptabilité, cantonné au nom du commanditaire : cette écriture ne s'annule pas.",
            "Enregistrer le paiement",
        ),
        "emission" => (
            "emission",
            format!("Émettre les carnets de la commande n° {id} ?"),
            "Un code est créé et signé pour chaque chèque, prêt à imprimer : les carnets émis ne peuvent plus être modifiés.",
            "Émettre les carnets",
        ),
        _ => return Err(not_found()),
    };
    let order = match st.store.get_order(OrderId(id)).await {
        Ok(o) => o,
        Err(StoreError::NotFound) => return Err(not_found()),
        Err(e) => return Err(PageError::unavailable(e, "commande").into_response()),
    };
    let funder = st
        .store
        .get_funder(order.funder_id)
        .await
        .map(|f| f.name)
        .unwrap_or_default();
    Ok(StepPage {
        layout: Layout::new(heading.clone(), Some(staff), csrf, "/operateur/commandes"),
        id,
        action,
        heading,
        consequence,
        button,
        funder,
        booklets: order.booklet_count,
        total: crate::ui::euros(order.total_cents),
        errors: FieldErrors::default(),
    })
}

/// The question before an operator's step on an order.
pub async fn operator_step(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path((id, action)): Path<(i64, String)>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    match step_page(&st, &staff, &csrf, id, &action).await {
        Ok(page) => render(StatusCode::OK, &page, &csrf),
        Err(r) => r,
    }
}

/// The operator records a payment ("paiement") or issues the codes ("emission"), once the
/// box "Je confirme" of the question page is ticked.
pub async fn operator_action(
    State(st): State<AppState>,
    headers: HeaderMap,
    OperatorStaff(staff): OperatorStaff,
    Path((id, action)): Path<(i64, String)>,
    PageForm(f): PageForm<ActionForm>,
) -> Response {
    let csrf = Csrf::from_headers(&headers);
    let mut page = match step_page(&st, &staff, &csrf, id, &action).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if f.confirmation.as_deref() != Some("1") {
        page.errors.add(
            "confirmation",
            "Cochez « Je confirme » : cette étape ne s'annule pas.",
        );
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page, &csrf);
    }
    let now = st.clock.now();
    let done = match page.action {
        "paiement" => st.store.record_order_payment(OrderId(id), now).await,
        _ => st.store.issue_order(OrderId(id), now).await,
    };
    match done {
        Ok(_) => Redirect::to("/operateur/commandes").into_response(),
        Err(e) => refused(&staff, &csrf, e),
    }
}

/// What the order page says about the workflow.
pub fn status_help(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Draft => {
            "Vérifiez la commande puis confirmez-la : la facture de prépaiement sera alors émise."
        }
        OrderStatus::Confirmed => {
            "Commande confirmée : réglez la facture de prépaiement. Les carnets seront émis dès réception du paiement."
        }
        OrderStatus::Paid => {
            "Paiement reçu et cantonné à votre nom : l'opérateur émet les carnets."
        }
        OrderStatus::Issued => {
            "Carnets émis : téléchargez-les pour l'impression, avec le courrier d'accompagnement."
        }
        OrderStatus::Closed => "Commande clôturée.",
        OrderStatus::Cancelled => "Commande annulée : aucun montant n'a été engagé.",
    }
}
