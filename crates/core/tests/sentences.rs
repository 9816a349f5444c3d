//! Every message core gives a person is a whole French sentence where it is written (capital
//! letter, final period), so no layer above rewrites it. One value of each variant whose text
//! is fixed, and a sample of those that carry data.

use passnum_core::allocation::AllocationError;
use passnum_core::handout::HandoutError;
use passnum_core::ledger::LedgerError;
use passnum_core::order::OrderError;
use passnum_core::order_options::{LogoError, OptionsError};
use passnum_core::payment::FeeError;
use passnum_core::service::CatalogError;
use passnum_core::signature::PayloadError;
use passnum_core::*;

fn assert_sentence(text: &str) {
    let first = text.chars().next().expect("a message is never empty");
    assert!(
        first.is_uppercase() || first == '«',
        "starts with a capital letter: {text}"
    );
    assert!(text.ends_with('.'), "ends with a period: {text}");
    assert!(!text.contains(".."), "one period, not two: {text}");
}

#[test]
fn every_error_message_of_core_is_a_whole_sentence() {
    let messages: Vec<String> = vec![
        AllocationError::NoStructure.to_string(),
        AllocationError::Duplicate(3).to_string(),
        AllocationError::NegativeWeight("qpv".into()).to_string(),
        AllocationError::NegativeValue(2).to_string(),
        AllocationError::WrongWidth {
            id: 1,
            got: 1,
            want: 2,
        }
        .to_string(),
        AllocationError::FixedOverStock {
            fixed: 10,
            stock: 2,
        }
        .to_string(),
        AllocationError::NothingToWeigh.to_string(),
        HandoutError::NoNeed.to_string(),
        HandoutError::UnknownNeed("x".into()).to_string(),
        HandoutError::UnknownEquipment("x".into()).to_string(),
        HandoutError::UnknownLevel("x".into()).to_string(),
        HandoutError::UnknownPublic("x".into()).to_string(),
        HandoutError::NoConsent.to_string(),
        HandoutError::NotTargetPublic("senior".into()).to_string(),
        HandoutError::OverrideReason.to_string(),
        HandoutError::HouseholdMissing.to_string(),
        LedgerError::NotPositive.to_string(),
        LedgerError::SameAccount.to_string(),
        LedgerError::Overflow.to_string(),
        OrderError::BookletCount.to_string(),
        OrderError::ChequesPerBooklet.to_string(),
        OrderError::TooManyCheques.to_string(),
        OrderError::FaceValue.to_string(),
        OrderError::DatesOutOfOrder.to_string(),
        OrderError::Tolerance.to_string(),
        OrderError::from(InseeCode::parse("6912").unwrap_err()).to_string(),
        OrderError::from(Money::parse_euros("dix").unwrap_err()).to_string(),
        OptionsError::UnknownPublic("x".into()).to_string(),
        OptionsError::CoverTooLong.to_string(),
        OptionsError::TooManyFundingLines.to_string(),
        OptionsError::FundingLine.to_string(),
        OptionsError::DuplicateFunding("FEDER".into()).to_string(),
        OptionsError::FundingSum("71".into()).to_string(),
        LogoError::TooLarge.to_string(),
        LogoError::NotAnImage.to_string(),
        LogoError::TooManyPixels.to_string(),
        LogoError::SvgScript.to_string(),
        LogoError::Unreadable.to_string(),
        LogoError::SvgNotPlain.to_string(),
        FeeError.to_string(),
        CatalogError::Empty.to_string(),
        CatalogError::Line {
            line: 2,
            reason: "code vide".into(),
        }
        .to_string(),
        PayloadError::NotAPayload.to_string(),
        PayloadError::Malformed.to_string(),
        PayloadError::UnknownKey.to_string(),
        PayloadError::BadSignature.to_string(),
        BicError.to_string(),
        Iban::parse("FR76").unwrap_err().to_string(),
        Iban::parse("12").unwrap_err().to_string(),
        Siret::parse("123").unwrap_err().to_string(),
        Siret::parse("12345678901234").unwrap_err().to_string(),
        DepartementCode::parse("999").unwrap_err().to_string(),
        ChequeCode::parse("ABC").unwrap_err().to_string(),
        RedeemRefusal::Malformed(ChequeCode::parse("ABC").unwrap_err()).to_string(),
        RedeemRefusal::Unknown.to_string(),
        RollbackRefusal::WindowClosed.to_string(),
        MoneyError::NotPositive.to_string(),
        MoneyError::Overflow.to_string(),
    ];
    for m in &messages {
        assert_sentence(m);
    }
}

#[test]
fn a_refusal_kind_survives_storage_and_older_answers_keep_their_status() {
    for (kind, text) in [
        (RefusalKind::NotFound, "\"not_found\""),
        (RefusalKind::Conflict, "\"conflict\""),
        (RefusalKind::Invalid, "\"invalid\""),
    ] {
        assert_eq!(serde_json::to_string(&kind).unwrap(), text);
        assert_eq!(serde_json::from_str::<RefusalKind>(text).unwrap(), kind);
    }
    // Every rollback and redemption refusal of today gives the kind that older stored answers
    // are read back with, so a replay across an upgrade keeps its status.
    let refusals: Vec<Box<dyn Refusal>> = vec![
        Box::new(RedeemRefusal::Unknown),
        Box::new(RedeemRefusal::Blocked),
        Box::new(RedeemRefusal::AlreadyRedeemed { at: None }),
        Box::new(RedeemRefusal::VenueNotQualified),
        Box::new(RedeemRefusal::ServiceNotOffered),
        Box::new(RollbackRefusal::Unknown),
        Box::new(RollbackRefusal::AlreadyRolledBack),
        Box::new(RollbackRefusal::AlreadyPaid),
        Box::new(RollbackRefusal::WindowClosed),
    ];
    for r in refusals {
        assert_eq!(
            RefusalKind::of_stored_code(r.code()),
            r.kind(),
            "{}",
            r.code()
        );
    }
}
