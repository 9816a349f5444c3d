//! The API's representation of things: what clients send and receive. Input DTOs refuse
//! unknown fields; they are parsed into domain types once, in the handlers.

use passnum_core::{Money, Timestamp};
use passnum_store::{ChequeStatus, Funder, Order, OrderCounts, Redemption, Venue};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

pub fn date_out(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub fn date_in(field: &str, s: &str) -> Result<Date, ApiError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), fmt).map_err(|_| {
        ApiError::invalid(
            "invalid_date",
            format!("« {field} » doit être une date au format AAAA-MM-JJ, par exemple 2026-12-31."),
        )
    })
}

pub(crate) fn ts(t: Timestamp) -> String {
    t.to_rfc3339()
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// At most 500; 50 by default.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl Page {
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(50)
    }
    pub fn offset(&self) -> i64 {
        self.offset.unwrap_or(0)
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFunder {
    #[schema(example = "Métropole de Lyon")]
    pub name: String,
    /// departement, region, metropole, epci, commune, caf, etat, entreprise, association, autre
    #[schema(example = "metropole")]
    pub kind: String,
}

#[derive(Serialize, ToSchema)]
pub struct FunderDto {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub created_at: String,
}

impl From<Funder> for FunderDto {
    fn from(f: Funder) -> Self {
        Self {
            id: f.id.0,
            name: f.name,
            kind: f.kind,
            created_at: ts(f.created_at),
        }
    }
}

#[derive(Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PerimeterDto {
    /// INSEE commune codes, e.g. "69123".
    #[serde(default)]
    pub communes: Vec<String>,
    /// Département codes, e.g. "69", "2A", "974".
    #[serde(default)]
    pub departements: Vec<String>,
    /// SIREN numbers of intercommunalités (EPCI), e.g. "200046977" (Métropole de Lyon).
    #[serde(default)]
    pub epcis: Vec<String>,
    /// INSEE codes of régions, e.g. "84" (Auvergne-Rhône-Alpes).
    #[serde(default)]
    pub regions: Vec<String>,
}

fn default_cheques_per_booklet() -> i64 {
    10
}
fn default_face_value() -> i64 {
    1000
}
fn default_tolerance() -> i64 {
    30
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    /// Required for the operator; a funder orders for itself.
    pub funder_id: Option<i64>,
    #[schema(example = 100)]
    pub booklet_count: i64,
    #[serde(default = "default_cheques_per_booklet")]
    #[schema(example = 10)]
    pub cheques_per_booklet: i64,
    #[serde(default = "default_face_value")]
    #[schema(example = 1000)]
    pub face_value_cents: i64,
    #[schema(example = "2026-01-01")]
    pub valid_from: String,
    #[schema(example = "2026-12-31")]
    pub valid_until: String,
    #[serde(default = "default_tolerance")]
    pub tolerance_days: i64,
    /// Empty means everywhere. Commune codes must name a commune of the embedded list.
    #[serde(default)]
    pub perimeter: PerimeterDto,
    /// Priority publics: senior, isolated, non_french_speaker, young, minimum_income,
    /// job_seeker, disability.
    #[serde(default)]
    pub target_publics: Vec<String>,
    /// Printed on the booklet cover and in the cover letter (at most 1,500 characters).
    #[serde(default)]
    pub cover_text: String,
    /// How the order is funded; when given, the shares sum to 100 %.
    #[serde(default)]
    pub funding: Vec<FundingLineDto>,
}

#[derive(Deserialize, Serialize, ToSchema, Clone)]
#[serde(deny_unknown_fields)]
pub struct FundingLineDto {
    #[schema(example = "FEDER")]
    pub source: String,
    /// Share in basis points (1 % = 100).
    #[schema(example = 2100)]
    pub basis_points: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CountsDto {
    pub issued: i64,
    pub redeemed: i64,
    pub paid: i64,
    pub blocked: i64,
    pub expired: i64,
    pub remaining_value_cents: i64,
}

impl From<OrderCounts> for CountsDto {
    fn from(c: OrderCounts) -> Self {
        Self {
            issued: c.issued,
            redeemed: c.redeemed,
            paid: c.paid,
            blocked: c.blocked,
            expired: c.expired,
            remaining_value_cents: c.remaining_value_cents,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OrderDto {
    pub id: i64,
    pub funder_id: i64,
    pub status: String,
    pub booklet_count: i64,
    pub cheques_per_booklet: i64,
    pub face_value_cents: i64,
    pub total_cents: i64,
    pub valid_from: String,
    pub valid_until: String,
    pub tolerance_days: i64,
    pub perimeter: PerimeterDto,
    pub created_at: String,
    pub target_publics: Vec<String>,
    pub cover_text: String,
    pub funding: Vec<FundingLineDto>,
    pub has_logo: bool,
    /// The operator's fee charged to the funder on top of the face value, frozen when the
    /// order is confirmed (0 before).
    pub funder_fee_cents: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<String>,
    /// Present on single-order reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<CountsDto>,
}

impl From<Order> for OrderDto {
    fn from(o: Order) -> Self {
        Self {
            id: o.id.0,
            funder_id: o.funder_id.0,
            status: o.status.as_str().into(),
            booklet_count: o.booklet_count,
            cheques_per_booklet: o.cheques_per_booklet,
            face_value_cents: o.face_value_cents,
            total_cents: o.total_cents,
            valid_from: date_out(o.valid_from),
            valid_until: date_out(o.valid_until),
            tolerance_days: o.tolerance_days,
            perimeter: PerimeterDto {
                communes: o.perimeter_communes,
                departements: o.perimeter_departements,
                epcis: o.perimeter_epcis,
                regions: o.perimeter_regions,
            },
            created_at: ts(o.created_at),
            target_publics: o
                .target_publics
                .iter()
                .map(|p| p.as_str().to_string())
                .collect(),
            cover_text: o.cover_text,
            funding: o
                .funding
                .into_iter()
                .map(|l| FundingLineDto {
                    source: l.source,
                    basis_points: l.basis_points,
                })
                .collect(),
            has_logo: o.has_logo,
            funder_fee_cents: o.funder_fee_cents,
            confirmed_at: o.confirmed_at.map(ts),
            paid_at: o.paid_at.map(ts),
            issued_at: o.issued_at.map(ts),
            cancelled_at: o.cancelled_at.map(ts),
            counts: None,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChequePageQuery {
    /// Cursor: the `next_after` of the previous page.
    pub after: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ChequeItemDto {
    pub booklet_number: i64,
    pub number: i64,
    /// The code as printed, e.g. "7KQ2M-XW4RT-9HC3D".
    pub code: String,
    pub state: String,
}

#[derive(Serialize, ToSchema)]
pub struct ChequePage {
    pub items: Vec<ChequeItemDto>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_after: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVenue {
    #[schema(example = "73282932000074")]
    pub siret: String,
    #[schema(example = "Médiathèque de la Part-Dieu")]
    pub name: String,
    #[schema(example = "69123")]
    pub commune_insee: String,
    /// applied (default) or qualified.
    pub status: Option<String>,
    /// Last day of qualification, if any.
    pub qualified_until: Option<String>,
    /// Street address.
    #[schema(example = "19 boulevard Marius Vivier Merle, 69003 Lyon")]
    pub address: Option<String>,
    /// How to book: telephone, e-mail or web page.
    #[schema(example = "04 78 62 18 00")]
    pub contact: Option<String>,
    /// Codes of the services offered (référentiel); empty or absent: every service.
    #[serde(default)]
    pub services: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetVenueStatus {
    /// applied (back to the queue), waiting (for the venue), qualified, refused, suspended,
    /// expired or revoked.
    pub status: String,
    /// Last day of a qualification (AAAA-MM-JJ); none: open-ended.
    pub qualified_until: Option<String>,
    /// Why: required to ask the venue for something, refuse, suspend or withdraw.
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct VenueDto {
    pub id: i64,
    pub siret: String,
    pub name: String,
    pub commune_insee: String,
    pub status: String,
    pub qualified_until: Option<String>,
    pub created_at: String,
    pub address: String,
    pub contact: String,
    /// Codes of the services offered (an empty catalogue offers none).
    pub services: Vec<String>,
    pub legal_representative: String,
    /// When the applicant accepted the programme's charter; none: registered by the operator.
    pub charter_accepted_at: Option<String>,
}

impl From<Venue> for VenueDto {
    fn from(v: Venue) -> Self {
        Self {
            id: v.id.0,
            siret: v.siret,
            name: v.name,
            commune_insee: v.commune_insee,
            status: v.status.as_str().into(),
            qualified_until: v.qualified_until.map(date_out),
            created_at: ts(v.created_at),
            address: v.address,
            contact: v.contact,
            services: v.services,
            legal_representative: v.legal_representative,
            charter_accepted_at: v.charter_accepted_at.map(ts),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRedemption {
    /// As typed or scanned: case, spaces and dashes do not matter.
    #[schema(example = "7KQ2M-XW4RT-9HC3D")]
    pub code: String,
    /// A service of the référentiel, e.g. "2.1.07".
    #[schema(example = "2.1.07")]
    pub service_code: String,
    /// The workshop the cheque is used for (one of the venue's, today): one cheque per booklet
    /// per workshop. Omit it for a venue that publishes no workshops, unless the programme
    /// requires one.
    #[serde(default)]
    pub workshop_id: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct RedemptionDto {
    pub id: i64,
    pub cheque_code: String,
    pub venue_id: i64,
    pub funder_id: i64,
    pub order_id: i64,
    pub service_code: String,
    pub amount_cents: i64,
    /// The amount as a French reader expects it, e.g. "10,00 €".
    pub amount: String,
    pub redeemed_at: String,
    /// Until when the venue may cancel it.
    pub rollback_until: String,
    pub rolled_back_at: Option<String>,
    pub workshop_id: Option<i64>,
}

impl RedemptionDto {
    pub fn new(r: Redemption, window_ms: i64) -> Self {
        Self {
            id: r.id.0,
            cheque_code: r.cheque_code,
            venue_id: r.venue_id.0,
            funder_id: r.funder_id.0,
            order_id: r.order_id.0,
            service_code: r.service_code,
            amount_cents: r.amount_cents,
            amount: Money::from_cents(r.amount_cents).to_string(),
            redeemed_at: ts(r.redeemed_at),
            rollback_until: ts(r.redeemed_at.plus_ms(window_ms)),
            rolled_back_at: r.rolled_back_at.map(ts),
            workshop_id: r.workshop_id,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RedemptionPageQuery {
    /// Cursor: redemptions with a smaller id than this.
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ChequeStatusDto {
    pub code: String,
    /// issued, redeemed, paid, blocked or expired.
    pub state: String,
    pub face_value_cents: i64,
    pub valid_from: String,
    pub valid_until: String,
    /// Last day a venue may accept it (validity end plus tolerance).
    pub last_accepted_day: String,
    pub redeemed_at: Option<String>,
}

impl From<ChequeStatus> for ChequeStatusDto {
    fn from(s: ChequeStatus) -> Self {
        Self {
            code: s.code,
            state: s.state.as_str().into(),
            face_value_cents: s.face_value_cents,
            valid_from: date_out(s.valid_from),
            valid_until: date_out(s.valid_until),
            last_accepted_day: date_out(s.last_accepted_day),
            redeemed_at: s.redeemed_at.map(ts),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct BalanceDto {
    /// world, operator, funder_held or venue_payable.
    pub account_kind: String,
    pub owner_id: i64,
    pub debits_cents: i64,
    pub credits_cents: i64,
    /// credits − debits. Only the world account may be negative.
    pub balance_cents: i64,
}

#[derive(Serialize, ToSchema)]
pub struct TrialBalanceDto {
    /// Sum of all balances: always 0.
    pub total_cents: i64,
    pub balanced: bool,
    /// Accounts (other than the world) with a negative balance: always empty.
    pub negative_accounts: Vec<String>,
    /// Accounts whose totals disagree with their transfers: always empty.
    pub mismatched_accounts: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ServiceDto {
    pub code: String,
    pub level: i64,
    pub level_name: String,
    pub category_code: String,
    pub category_name: String,
    pub name: String,
    /// A deactivated service is kept for old redemptions but offered and scanned no more.
    pub active: bool,
    /// Its value in the national venue standard's `services` column (the operator's choice,
    /// else its category's).
    pub standard_service: String,
}

impl From<passnum_core::service::Service> for ServiceDto {
    fn from(s: passnum_core::service::Service) -> Self {
        Self {
            standard_service: passnum_core::standard::standard_service(
                &s.standard_service,
                &s.category_code,
                s.level,
            )
            .to_string(),
            code: s.code.as_str().into(),
            level: s.level,
            level_name: s.level_name,
            category_code: s.category_code,
            category_name: s.category_name,
            name: s.name,
            active: s.active,
        }
    }
}

/// A service created or renamed by the operator; the code in the path gives its level and
/// category.
#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutService {
    /// The service's name, as people read it.
    pub name: String,
    /// Renames the whole category; omitted or empty keeps its name (required for a new
    /// category).
    #[serde(default)]
    pub category_name: String,
    /// Renames the whole level; omitted or empty keeps its name (required for a new level).
    #[serde(default)]
    pub level_name: String,
}

/// One line of the référentiel's history.
#[derive(Serialize, ToSchema)]
pub struct ServiceChangeDto {
    pub code: String,
    pub at: String,
    /// Who made it: a staff member's name, the API or a loaded file.
    pub by: String,
    pub change: String,
}

impl From<passnum_store::ServiceChange> for ServiceChangeDto {
    fn from(c: passnum_store::ServiceChange) -> Self {
        Self {
            code: c.code,
            at: ts(c.at),
            by: c.by,
            change: c.change,
        }
    }
}

#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateService {
    /// false deactivates the service (never deleted), true offers it again.
    pub active: Option<bool>,
    /// One of the nine `services` values of the national standard; "" returns to the
    /// category's.
    pub standard_service: Option<String>,
}
