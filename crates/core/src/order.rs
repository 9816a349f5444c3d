//! Orders: what a funder buys, and the rules every cheque of the order inherits.

use std::collections::BTreeSet;

use time::Date;

use crate::territory::{self, Level};
use crate::{
    DepartementCode, EpciCode, InseeCode, Money, MoneyError, RegionCode, Timestamp, paris,
};

/// Hard bounds that keep one order within what a programme can print and distribute, and
/// what one database transaction can hold. A national programme issues several orders.
pub const MAX_BOOKLETS: i64 = 200_000;
pub const MAX_CHEQUES_PER_BOOKLET: i64 = 50;
pub const MAX_CHEQUES_PER_ORDER: i64 = 1_000_000;
pub const MAX_FACE_VALUE_CENTS: i64 = 100_000;
pub const MAX_TOLERANCE_DAYS: i64 = 366;

/// Where the cheques of an order may be used: communes (a city takes its municipal
/// arrondissements), intercommunalités (EPCI), départements and régions, as the funder gave
/// them; the embedded commune data says which communes each one covers. Empty means
/// everywhere.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Perimeter {
    pub communes: BTreeSet<InseeCode>,
    pub epcis: BTreeSet<EpciCode>,
    pub departements: BTreeSet<DepartementCode>,
    pub regions: BTreeSet<RegionCode>,
}

impl Perimeter {
    pub fn is_everywhere(&self) -> bool {
        self.communes.is_empty()
            && self.epcis.is_empty()
            && self.departements.is_empty()
            && self.regions.is_empty()
    }

    pub fn contains(&self, commune: &InseeCode) -> bool {
        let code = commune.as_str();
        let at = |level| territory::code_of(code, level);
        self.is_everywhere()
            || self.communes.contains(commune)
            || crate::commune::city_of_arrondissement(code)
                .and_then(|city| InseeCode::parse(city).ok())
                .is_some_and(|city| self.communes.contains(&city))
            || self.departements.contains(&commune.departement())
            || at(Level::Epci).is_some_and(|e| self.epcis.iter().any(|x| x.as_str() == e))
            || at(Level::Region).is_some_and(|r| self.regions.iter().any(|x| x.as_str() == r))
    }

    /// Every entry as (level, code), communes first, as stored.
    pub fn entries(&self) -> Vec<(Level, &str)> {
        let mut out: Vec<(Level, &str)> = vec![];
        out.extend(self.communes.iter().map(|c| (Level::Commune, c.as_str())));
        out.extend(self.epcis.iter().map(|c| (Level::Epci, c.as_str())));
        out.extend(
            self.departements
                .iter()
                .map(|c| (Level::Departement, c.as_str())),
        );
        out.extend(self.regions.iter().map(|c| (Level::Region, c.as_str())));
        out
    }

    /// An entry that lies inside another one says the funder misread its own list (a town
    /// given with its département, a département with its région): refused with both names.
    pub fn check_overlaps(&self) -> Result<(), crate::PlaceError> {
        for (level, code) in self.entries() {
            if let Some(outer) = self.entry_around(level, code) {
                return Err(crate::PlaceError::Overlap {
                    inner: territory::label_of(level, code),
                    outer: territory::label_of(outer.0, outer.1),
                });
            }
        }
        Ok(())
    }

    /// Another entry that holds the whole of this one, if any.
    fn entry_around(&self, level: Level, code: &str) -> Option<(Level, &str)> {
        let epci = |e: &str| self.epcis.iter().find(|x| x.as_str() == e);
        let dep = |d: &str| self.departements.iter().find(|x| x.as_str() == d);
        let region = |r: &str| self.regions.iter().find(|x| x.as_str() == r);
        let around_commune = |c: &str| -> Option<(Level, &str)> {
            if let Some(city) = crate::commune::city_of_arrondissement(c)
                && let Some(x) = self.communes.iter().find(|x| x.as_str() == city)
            {
                return Some((Level::Commune, x.as_str()));
            }
            let at = |l| territory::code_of(c, l);
            at(Level::Epci)
                .and_then(epci)
                .map(|x| (Level::Epci, x.as_str()))
                .or_else(|| {
                    at(Level::Departement)
                        .and_then(dep)
                        .map(|x| (Level::Departement, x.as_str()))
                })
                .or_else(|| {
                    at(Level::Region)
                        .and_then(region)
                        .map(|x| (Level::Region, x.as_str()))
                })
        };
        match level {
            Level::Commune => around_commune(code),
            // An EPCI may straddle départements: inside one only if all its communes are.
            Level::Epci => {
                let members: Vec<&str> = crate::commune::communes()
                    .iter()
                    .filter(|c| c.epci == Some(code))
                    .map(|c| c.insee)
                    .collect();
                let whole = |l: Level, found: &dyn Fn(&str) -> bool| {
                    let first = members.first().and_then(|c| territory::code_of(c, l))?;
                    (found(first)
                        && members
                            .iter()
                            .all(|c| territory::code_of(c, l) == Some(first)))
                    .then_some(first)
                };
                whole(Level::Departement, &|d| dep(d).is_some())
                    .and_then(dep)
                    .map(|x| (Level::Departement, x.as_str()))
                    .or_else(|| {
                        whole(Level::Region, &|r| region(r).is_some())
                            .and_then(region)
                            .map(|x| (Level::Region, x.as_str()))
                    })
            }
            Level::Departement => territory::region_of_departement(code)
                .and_then(region)
                .map(|x| (Level::Region, x.as_str())),
            Level::Region => None,
        }
    }
}

/// The validity window printed on the cheque, plus the tolerance during which venues may
/// still accept it (the programme's usual month of grace).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    pub valid_from: Date,
    pub valid_until: Date,
    pub tolerance_days: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidityStatus {
    NotYetValid,
    Valid,
    /// After `valid_until` but inside the tolerance period.
    InTolerance,
    Expired,
}

impl Validity {
    /// Last calendar day (Paris) on which a venue may still accept the cheque.
    pub fn last_accepted_day(&self) -> Date {
        self.valid_until
            .checked_add(time::Duration::days(self.tolerance_days))
            .unwrap_or(Date::MAX)
    }

    pub fn status_at(&self, now: Timestamp) -> ValidityStatus {
        let today = paris::local_date(now);
        if today < self.valid_from {
            ValidityStatus::NotYetValid
        } else if today <= self.valid_until {
            ValidityStatus::Valid
        } else if today <= self.last_accepted_day() {
            ValidityStatus::InTolerance
        } else {
            ValidityStatus::Expired
        }
    }
}

/// The end-of-validity process, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClosingStep {
    /// J-30: tell the funder how its booklets are used.
    AlertJ30,
    /// J-15: stop handing booklets out.
    StopJ15,
    /// After the tolerance: expire what is left and return its value (credit note).
    Expiry,
}

impl ClosingStep {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AlertJ30 => "alert_j30",
            Self::StopJ15 => "stop_j15",
            Self::Expiry => "expiry",
        }
    }
}

impl Validity {
    /// The steps due on `today` (Paris), in order. A late job run catches up on all of them.
    pub fn due_steps(&self, today: Date) -> Vec<ClosingStep> {
        let minus = |days| {
            self.valid_until
                .checked_sub(time::Duration::days(days))
                .unwrap_or(Date::MIN)
        };
        let mut steps = vec![];
        if today >= minus(30) {
            steps.push(ClosingStep::AlertJ30);
        }
        if today >= minus(15) {
            steps.push(ClosingStep::StopJ15);
        }
        if today > self.last_accepted_day() {
            steps.push(ClosingStep::Expiry);
        }
        steps
    }
}

/// Where an order stands. Money moves only at `Paid` (the prepayment is held for the
/// funder) and codes exist only from `Issued`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Draft,
    Confirmed,
    Paid,
    Issued,
    Closed,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Confirmed => "confirmed",
            Self::Paid => "paid",
            Self::Issued => "issued",
            Self::Closed => "closed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Draft,
            Self::Confirmed,
            Self::Paid,
            Self::Issued,
            Self::Closed,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// As the funder reads it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "Brouillon",
            Self::Confirmed => "Confirmée, en attente de paiement",
            Self::Paid => "Payée, en attente d'émission",
            Self::Issued => "Émise",
            Self::Closed => "Clôturée",
            Self::Cancelled => "Annulée",
        }
    }

    /// Whether the order counts against the funder's declared budget.
    pub fn commits_budget(self) -> bool {
        matches!(
            self,
            Self::Confirmed | Self::Paid | Self::Issued | Self::Closed
        )
    }
}

/// An order as requested, before it is checked.
#[derive(Clone, Debug)]
pub struct OrderRequest {
    pub booklet_count: i64,
    pub cheques_per_booklet: i64,
    pub face_value_cents: i64,
    pub valid_from: Date,
    pub valid_until: Date,
    pub tolerance_days: i64,
    pub perimeter_communes: Vec<String>,
    pub perimeter_departements: Vec<String>,
    /// SIREN numbers of intercommunalités (EPCI).
    pub perimeter_epcis: Vec<String>,
    /// INSEE codes of régions.
    pub perimeter_regions: Vec<String>,
}

/// A checked order: every field is within bounds and the total is computed exactly.
#[derive(Clone, Debug)]
pub struct NewOrder {
    pub booklet_count: i64,
    pub cheques_per_booklet: i64,
    pub face_value: Money,
    pub total: Money,
    pub validity: Validity,
    pub perimeter: Perimeter,
    pub options: crate::order_options::OrderOptions,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("Le nombre de carnets doit être compris entre 1 et {MAX_BOOKLETS}.")]
    BookletCount,
    #[error(
        "Le nombre de chèques par carnet doit être compris entre 1 et {MAX_CHEQUES_PER_BOOKLET}."
    )]
    ChequesPerBooklet,
    #[error(
        "Une commande ne peut pas dépasser {MAX_CHEQUES_PER_ORDER} chèques : répartissez-la en plusieurs commandes."
    )]
    TooManyCheques,
    #[error("La valeur faciale doit être comprise entre 0,01 € et 1 000,00 €.")]
    FaceValue,
    #[error("La date de fin de validité doit suivre la date de début.")]
    DatesOutOfOrder,
    #[error("La tolérance doit être comprise entre 0 et {MAX_TOLERANCE_DAYS} jours.")]
    Tolerance,
    #[error(transparent)]
    Perimeter(#[from] crate::PlaceError),
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl NewOrder {
    pub fn parse(req: &OrderRequest) -> Result<Self, OrderError> {
        if !(1..=MAX_BOOKLETS).contains(&req.booklet_count) {
            return Err(OrderError::BookletCount);
        }
        if !(1..=MAX_CHEQUES_PER_BOOKLET).contains(&req.cheques_per_booklet) {
            return Err(OrderError::ChequesPerBooklet);
        }
        let cheques = req.booklet_count * req.cheques_per_booklet;
        if cheques > MAX_CHEQUES_PER_ORDER {
            return Err(OrderError::TooManyCheques);
        }
        if !(1..=MAX_FACE_VALUE_CENTS).contains(&req.face_value_cents) {
            return Err(OrderError::FaceValue);
        }
        if req.valid_until < req.valid_from {
            return Err(OrderError::DatesOutOfOrder);
        }
        if !(0..=MAX_TOLERANCE_DAYS).contains(&req.tolerance_days) {
            return Err(OrderError::Tolerance);
        }
        let communes = req
            .perimeter_communes
            .iter()
            .map(|c| InseeCode::parse_known(c))
            .collect::<Result<_, _>>()?;
        let departements = req
            .perimeter_departements
            .iter()
            .map(|c| DepartementCode::parse(c))
            .collect::<Result<_, _>>()?;
        let epcis = req
            .perimeter_epcis
            .iter()
            .map(|c| EpciCode::parse_known(c))
            .collect::<Result<_, _>>()?;
        let regions = req
            .perimeter_regions
            .iter()
            .map(|c| RegionCode::parse_known(c))
            .collect::<Result<_, _>>()?;
        let perimeter = Perimeter {
            communes,
            epcis,
            departements,
            regions,
        };
        perimeter.check_overlaps()?;
        let face_value = Money::positive(req.face_value_cents)?;
        Ok(Self {
            booklet_count: req.booklet_count,
            cheques_per_booklet: req.cheques_per_booklet,
            face_value,
            total: face_value.checked_mul(cheques)?,
            validity: Validity {
                valid_from: req.valid_from,
                valid_until: req.valid_until,
                tolerance_days: req.tolerance_days,
            },
            perimeter,
            options: Default::default(),
        })
    }

    /// Adds the funder's options (publics, cover text, funding split).
    pub fn with_options(
        mut self,
        req: &crate::order_options::OrderOptionsRequest,
    ) -> Result<Self, crate::order_options::OptionsError> {
        self.options = crate::order_options::OrderOptions::parse(req)?;
        Ok(self)
    }

    pub fn cheque_count(&self) -> i64 {
        self.booklet_count * self.cheques_per_booklet
    }
}

/// An order that the funder's declared budget cannot take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "Cette commande de {order} dépasse le budget déclaré du commanditaire : il reste {left} sur {budget} une fois déduites les commandes confirmées. Réduisez la commande ou faites relever le budget par l'opérateur."
)]
pub struct OverBudget {
    pub order: Money,
    pub left: Money,
    pub budget: Money,
}

impl crate::Refusal for OverBudget {
    fn code(&self) -> &'static str {
        "over_budget"
    }
}

/// Whether an order of `order` fits in the funder's declared `budget` (none: no limit), given
/// what its other confirmed orders already commit.
pub fn check_budget(
    budget: Option<Money>,
    committed_by_others: Money,
    order: Money,
) -> Result<(), OverBudget> {
    let Some(budget) = budget else {
        return Ok(());
    };
    let left = Money::from_cents((budget.cents() - committed_by_others.cents()).max(0));
    if order.cents() > left.cents() {
        return Err(OverBudget {
            order,
            left,
            budget,
        });
    }
    Ok(())
}

/// A budget lower than what the funder's confirmed orders already commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "Ce budget de {budget} est inférieur aux {committed} déjà engagés par les commandes confirmées du commanditaire : indiquez au moins {committed}."
)]
pub struct BudgetBelowCommitted {
    pub budget: Money,
    pub committed: Money,
}

impl crate::Refusal for BudgetBelowCommitted {
    fn code(&self) -> &'static str {
        "budget_below_committed"
    }
}

/// Whether a funder's new declared budget covers what its confirmed orders already commit
/// (none: no limit; a negative budget is refused as below anything).
pub fn check_new_budget(
    budget: Option<Money>,
    committed: Money,
) -> Result<(), BudgetBelowCommitted> {
    match budget {
        Some(b) if b.cents() < committed.cents() || b.cents() < 0 => Err(BudgetBelowCommitted {
            budget: b,
            committed,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_budget_covers_the_orders_already_committed() {
        let m = Money::from_cents;
        assert_eq!(check_new_budget(None, m(50_000)), Ok(()));
        assert_eq!(check_new_budget(Some(m(50_000)), m(50_000)), Ok(()));
        let e = check_new_budget(Some(m(49_999)), m(50_000)).unwrap_err();
        assert_eq!(e.committed, m(50_000));
        assert!(e.to_string().contains("indiquez au moins 500,00"), "{e}");
    }

    #[test]
    fn an_order_fits_the_budget_left_by_the_others() {
        let m = Money::from_cents;
        assert_eq!(check_budget(None, m(10_000), m(1_000_000)), Ok(()));
        assert_eq!(check_budget(Some(m(5_000)), m(3_000), m(2_000)), Ok(()));
        assert_eq!(
            check_budget(Some(m(5_000)), m(3_000), m(2_001)),
            Err(OverBudget {
                order: m(2_001),
                left: m(2_000),
                budget: m(5_000)
            })
        );
        // Others over the budget leave nothing, never a negative amount.
        let e = check_budget(Some(m(5_000)), m(6_000), m(1)).unwrap_err();
        assert_eq!(e.left, m(0));
        assert!(e.to_string().ends_with("par l'opérateur."));
    }
    use time::macros::{date, datetime};

    fn req() -> OrderRequest {
        OrderRequest {
            booklet_count: 100,
            cheques_per_booklet: 10,
            face_value_cents: 1000,
            valid_from: date!(2026 - 01 - 01),
            valid_until: date!(2026 - 12 - 31),
            tolerance_days: 30,
            perimeter_communes: vec![],
            perimeter_departements: vec!["69".into()],
            perimeter_epcis: vec![],
            perimeter_regions: vec![],
        }
    }

    #[test]
    fn computes_total_exactly() {
        let o = NewOrder::parse(&req()).unwrap();
        assert_eq!(o.total, Money::from_cents(1_000_000));
        assert_eq!(o.cheque_count(), 1000);
    }

    #[test]
    fn refuses_absurd_orders() {
        let mut r = req();
        r.booklet_count = 1_000_000_000;
        assert_eq!(NewOrder::parse(&r).unwrap_err(), OrderError::BookletCount);
        let mut r = req();
        r.booklet_count = 200_000;
        r.cheques_per_booklet = 10;
        assert_eq!(NewOrder::parse(&r).unwrap_err(), OrderError::TooManyCheques);
        let mut r = req();
        r.face_value_cents = 0;
        assert_eq!(NewOrder::parse(&r).unwrap_err(), OrderError::FaceValue);
        let mut r = req();
        r.face_value_cents = -1000;
        assert_eq!(NewOrder::parse(&r).unwrap_err(), OrderError::FaceValue);
        let mut r = req();
        r.valid_until = date!(2025 - 12 - 31);
        assert_eq!(
            NewOrder::parse(&r).unwrap_err(),
            OrderError::DatesOutOfOrder
        );
        let mut r = req();
        r.perimeter_communes = vec!["123".into()];
        assert!(matches!(
            NewOrder::parse(&r).unwrap_err(),
            OrderError::Perimeter(_)
        ));
    }

    #[test]
    fn perimeter_matches_communes_and_departements() {
        let o = NewOrder::parse(&req()).unwrap();
        assert!(o.perimeter.contains(&InseeCode::parse("69123").unwrap()));
        assert!(!o.perimeter.contains(&InseeCode::parse("75056").unwrap()));
        assert!(Perimeter::default().contains(&InseeCode::parse("75056").unwrap()));
        let insee = |c: &str| InseeCode::parse(c).unwrap();
        // Paris takes its arrondissements; an arrondissement does not take the whole city.
        let paris = Perimeter {
            communes: [insee("75056")].into(),
            ..Default::default()
        };
        assert!(paris.contains(&insee("75056")));
        assert!(paris.contains(&insee("75112")));
        assert!(!paris.contains(&insee("92012")));
        let twelfth = Perimeter {
            communes: [insee("75112")].into(),
            ..Default::default()
        };
        assert!(twelfth.contains(&insee("75112")));
        assert!(!twelfth.contains(&insee("75056")) && !twelfth.contains(&insee("75111")));
    }

    fn perimeter(
        communes: &[&str],
        epcis: &[&str],
        deps: &[&str],
        regions: &[&str],
    ) -> OrderRequest {
        let list = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        OrderRequest {
            perimeter_communes: list(communes),
            perimeter_epcis: list(epcis),
            perimeter_departements: list(deps),
            perimeter_regions: list(regions),
            ..req()
        }
    }

    #[test]
    fn an_epci_or_a_region_covers_its_communes() {
        let insee = |c: &str| InseeCode::parse(c).unwrap();
        // Métropole de Lyon: Villeurbanne and Lyon's arrondissements, not Villefranche.
        let lyon = NewOrder::parse(&perimeter(&[], &["200046977"], &[], &[]))
            .unwrap()
            .perimeter;
        assert!(lyon.contains(&insee("69266")) && lyon.contains(&insee("69383")));
        assert!(!lyon.contains(&insee("69264")));
        // Bretagne (53): Rennes and Brest, not Nantes.
        let bretagne = NewOrder::parse(&perimeter(&[], &[], &[], &["53"]))
            .unwrap()
            .perimeter;
        assert!(bretagne.contains(&insee("35238")) && bretagne.contains(&insee("29019")));
        assert!(!bretagne.contains(&insee("44109")));
        assert_eq!(bretagne.entries(), vec![(Level::Region, "53")]);
    }

    #[test]
    fn unknown_or_overlapping_territories_are_refused_with_both_names() {
        let err = |r: OrderRequest| NewOrder::parse(&r).unwrap_err().to_string();
        assert!(err(perimeter(&[], &["123456789"], &[], &[])).contains("123456789"));
        assert!(err(perimeter(&[], &[], &[], &["99"])).contains("« 99 »"));
        let inner = err(perimeter(&["69266"], &[], &["69"], &[]));
        assert!(
            inner.contains("Villeurbanne (69266)") && inner.contains("Rhône (69)"),
            "{inner}"
        );
        let arrondissement = err(perimeter(&["69123", "69381"], &[], &[], &[]));
        assert!(arrondissement.contains("Lyon (69123)"), "{arrondissement}");
        let dep = err(perimeter(&[], &[], &["29"], &["53"]));
        assert!(
            dep.contains("Finistère (29)") && dep.contains("Bretagne (53)"),
            "{dep}"
        );
        let epci = err(perimeter(&[], &["200046977"], &[], &["84"]));
        assert!(epci.contains("Auvergne-Rhône-Alpes (84)"), "{epci}");
        // Side by side, none inside another: accepted.
        assert!(NewOrder::parse(&perimeter(&["75056"], &["200046977"], &["29"], &["93"])).is_ok());
    }

    #[test]
    fn closing_steps_fall_due_in_order() {
        let v = Validity {
            valid_from: date!(2026 - 01 - 01),
            valid_until: date!(2026 - 12 - 31),
            tolerance_days: 30,
        };
        assert_eq!(v.due_steps(date!(2026 - 11 - 30)), vec![]);
        assert_eq!(
            v.due_steps(date!(2026 - 12 - 01)),
            vec![ClosingStep::AlertJ30]
        );
        assert_eq!(
            v.due_steps(date!(2026 - 12 - 16)),
            vec![ClosingStep::AlertJ30, ClosingStep::StopJ15]
        );
        assert_eq!(
            v.due_steps(date!(2027 - 01 - 30)).len(),
            2,
            "cheques are accepted until the end of the tolerance"
        );
        assert_eq!(
            v.due_steps(date!(2027 - 01 - 31)),
            vec![
                ClosingStep::AlertJ30,
                ClosingStep::StopJ15,
                ClosingStep::Expiry
            ]
        );
    }

    #[test]
    fn validity_uses_paris_days_and_tolerance() {
        let v = Validity {
            valid_from: date!(2026 - 01 - 01),
            valid_until: date!(2026 - 03 - 31),
            tolerance_days: 30,
        };
        let at = |t| v.status_at(Timestamp::from_offset_datetime(t));
        assert_eq!(
            at(datetime!(2025-12-31 22:59 UTC)),
            ValidityStatus::NotYetValid
        );
        assert_eq!(at(datetime!(2025-12-31 23:00 UTC)), ValidityStatus::Valid);
        assert_eq!(at(datetime!(2026-03-31 21:59 UTC)), ValidityStatus::Valid);
        assert_eq!(
            at(datetime!(2026-03-31 22:00 UTC)),
            ValidityStatus::InTolerance
        );
        assert_eq!(
            at(datetime!(2026-04-30 21:59 UTC)),
            ValidityStatus::InTolerance
        );
        assert_eq!(at(datetime!(2026-04-30 22:00 UTC)), ValidityStatus::Expired);
    }
}
