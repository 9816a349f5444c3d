//! Booklets and cover letters of an order as PDF, shared by the web pages, the API and
//! `passnum print`: what is printed comes from the store, and each QR code is signed here.

use passnum_core::order_options::percent_text;
use passnum_core::signature::{SignedCheque, SigningKey};
use passnum_core::{ChequeCode, Money, OrderId, OrderStatus, paris};
use passnum_print::{BookletInfo, Logo, PdfError, PrintedCheque};
use passnum_store::{Order, Store, StoreError};
use time::Date;

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pdf(#[from] PdfError),
    #[error("Cette commande n'est pas encore émise : ses carnets s'impriment une fois émise.")]
    NotIssued,
}

/// What every booklet of an order shares, loaded once.
pub struct OrderPrint {
    pub order: Order,
    funder: String,
    face_value: String,
    booklet_value: String,
    valid_from: String,
    valid_until: String,
    accepted_until: Option<String>,
    perimeter: String,
    venues_url: String,
    funding: String,
    logo: Option<Logo>,
}

/// The perimeter in words: "Rhône (69), Villeurbanne (69266)" or "partout en France", from
/// the widest territory to the narrowest.
pub fn perimeter_words(order: &Order) -> String {
    use passnum_core::territory::{Level, label_of};
    let levels = [
        (Level::Region, &order.perimeter_regions),
        (Level::Departement, &order.perimeter_departements),
        (Level::Epci, &order.perimeter_epcis),
        (Level::Commune, &order.perimeter_communes),
    ];
    let parts: Vec<String> = levels
        .iter()
        .flat_map(|(level, codes)| codes.iter().map(|c| label_of(*level, c)))
        .collect();
    if parts.is_empty() {
        "dans tous les lieux qualifiés, partout en France".into()
    } else {
        format!(
            "dans les lieux qualifiés de ce territoire : {}",
            parts.join(", ")
        )
    }
}

impl OrderPrint {
    pub async fn load(store: &Store, id: OrderId, public_url: &str) -> Result<Self, PrintError> {
        let order = store.get_order(id).await?;
        if !matches!(order.status, OrderStatus::Issued | OrderStatus::Closed) {
            return Err(PrintError::NotIssued);
        }
        let funder = store.get_funder(order.funder_id).await?.name;
        let logo = match store.order_logo(id).await? {
            Some((kind, bytes)) => Some(Logo::parse(kind, &bytes)?),
            None => None,
        };
        let validity = passnum_core::Validity {
            valid_from: order.valid_from,
            valid_until: order.valid_until,
            tolerance_days: order.tolerance_days,
        };
        let face = Money::from_cents(order.face_value_cents);
        Ok(Self {
            funder,
            face_value: face.to_string(),
            booklet_value: Money::from_cents(order.face_value_cents * order.cheques_per_booklet)
                .to_string(),
            valid_from: paris::format_date(order.valid_from),
            valid_until: paris::format_date(order.valid_until),
            accepted_until: (order.tolerance_days > 0)
                .then(|| paris::format_date(validity.last_accepted_day())),
            perimeter: perimeter_words(&order),
            venues_url: format!("{public_url}/lieux"),
            funding: order
                .funding
                .iter()
                .map(|l| format!("{} {} %", l.source, percent_text(l.basis_points)))
                .collect::<Vec<_>>()
                .join(", "),
            logo,
            order,
        })
    }

    pub fn info(&self) -> BookletInfo<'_> {
        BookletInfo {
            funder: &self.funder,
            order_id: self.order.id.0,
            face_value: &self.face_value,
            booklet_value: &self.booklet_value,
            valid_from: &self.valid_from,
            valid_until: &self.valid_until,
            accepted_until: self.accepted_until.as_deref(),
            perimeter: &self.perimeter,
            venues_url: &self.venues_url,
            cover_text: &self.order.cover_text,
            funding: &self.funding,
            logo: None,
        }
    }

    pub fn logo(&self) -> Option<&Logo> {
        self.logo.as_ref()
    }

    /// A cheque as printed, with its signed payload.
    pub fn cheque(&self, key: &SigningKey, number: i64, code: ChequeCode) -> PrintedCheque {
        let signed = SignedCheque {
            code,
            face_value: Money::from_cents(self.order.face_value_cents),
            valid_until: self.order.valid_until,
            order: self.order.id,
        };
        PrintedCheque {
            number,
            code: code.grouped(),
            payload: signed.payload(key),
        }
    }

    /// One booklet as a PDF.
    pub async fn booklet(
        &self,
        store: &Store,
        key: &SigningKey,
        number: i64,
    ) -> Result<Vec<u8>, PrintError> {
        let cheques: Vec<PrintedCheque> = store
            .booklet_cheques(self.order.id, number)
            .await?
            .into_iter()
            .map(|(n, code)| self.cheque(key, n, code))
            .collect();
        let booking_code = store.booking_code(self.order.id, number).await.ok();
        Ok(passnum_print::booklet_pdf(
            &self.info(),
            self.logo(),
            number,
            booking_code.as_deref(),
            &cheques,
        )?)
    }

    /// The cover letter, from `template` (passnum's wording when `None`).
    pub fn letter(&self, template: Option<&str>, today: Date) -> Result<Vec<u8>, PrintError> {
        let cheques = self.order.cheques_per_booklet.to_string();
        let date = paris::format_date(today);
        let lieux = self.venues_url.clone();
        let values: [(&str, &str); 10] = [
            ("commanditaire", &self.funder),
            ("date", &date),
            ("cheques", &cheques),
            ("valeur", &self.face_value),
            ("valeur_carnet", &self.booklet_value),
            ("debut", &self.valid_from),
            ("fin", &self.valid_until),
            ("perimetre", &self.perimeter),
            ("lieux", &lieux),
            ("texte", &self.order.cover_text),
        ];
        let body = passnum_print::fill_letter(
            template.unwrap_or(passnum_print::DEFAULT_TEMPLATE),
            &values,
        )?;
        Ok(passnum_print::letter_pdf(&body, self.logo())?)
    }
}
