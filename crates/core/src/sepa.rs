//! SEPA credit transfer file (ISO 20022 pain.001.001.03): one payment information block for
//! the operator's account, one transaction per venue.

use std::fmt::Write;

use crate::{Bic, Iban, Money};

pub struct Debtor {
    pub name: String,
    pub iban: Iban,
    pub bic: Bic,
}

pub struct Transfer {
    /// Unique per transfer, kept by the banks end to end (at most 35 characters).
    pub end_to_end_id: String,
    pub amount: Money,
    pub creditor_name: String,
    pub creditor_iban: Iban,
    pub creditor_bic: Bic,
    /// What the venue reads on its bank statement (at most 140 characters).
    pub remittance: String,
}

/// The characters every SEPA bank accepts: Latin letters, digits and `/ - ? : ( ) . , ' +` and
/// space. Accents are replaced by their base letter; anything else becomes a space.
pub fn sepa_text(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        // Ligatures become two letters ("Œuvres" → "OEuvres"), not a space.
        let pair = match c {
            'Œ' => Some("OE"),
            'œ' => Some("oe"),
            'Æ' => Some("AE"),
            'æ' => Some("ae"),
            'ß' => Some("ss"),
            _ => None,
        };
        if let Some(p) = pair {
            out.push_str(p);
            continue;
        }
        let mapped = match c {
            'à' | 'â' | 'ä' | 'á' => 'a',
            'À' | 'Â' | 'Ä' | 'Á' => 'A',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'É' | 'È' | 'Ê' | 'Ë' => 'E',
            'î' | 'ï' | 'í' => 'i',
            'Î' | 'Ï' | 'Í' => 'I',
            'ô' | 'ö' | 'ó' => 'o',
            'Ô' | 'Ö' | 'Ó' => 'O',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'Ù' | 'Û' | 'Ü' | 'Ú' => 'U',
            'ç' => 'c',
            'Ç' => 'C',
            'ÿ' => 'y',
            'Ÿ' => 'Y',
            'ñ' => 'n',
            'Ñ' => 'N',
            '’' => '\'',
            c if c.is_ascii_alphanumeric() || "/-?:().,'+ ".contains(c) => c,
            _ => ' ',
        };
        out.push(mapped);
    }
    let trimmed: String = out.split_whitespace().collect::<Vec<_>>().join(" ");
    trimmed.chars().take(max).collect()
}

fn amount(m: Money) -> String {
    format!("{}.{:02}", m.cents() / 100, m.cents() % 100)
}

/// The whole XML document. `message_id` is unique per file (at most 35 characters);
/// `created_at` is ISO 8601 with its offset (`2026-12-01T09:00:00+01:00`, see
/// `paris::iso_with_offset`); `execution_date` is `2026-12-02`.
pub fn credit_transfer(
    message_id: &str,
    created_at: &str,
    execution_date: &str,
    debtor: &Debtor,
    transfers: &[Transfer],
) -> Result<String, crate::MoneyError> {
    let total = transfers
        .iter()
        .try_fold(Money::ZERO, |acc, t| acc.checked_add(t.amount))?;
    let n = transfers.len();
    let mut x = String::with_capacity(600 + n * 700);
    let id = sepa_text(message_id, 35);
    let _ = write!(
        x,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<CstmrCdtTrfInitn>
<GrpHdr><MsgId>{id}</MsgId><CreDtTm>{created_at}</CreDtTm><NbOfTxs>{n}</NbOfTxs><CtrlSum>{sum}</CtrlSum><InitgPty><Nm>{dn}</Nm></InitgPty></GrpHdr>
<PmtInf><PmtInfId>{id}</PmtInfId><PmtMtd>TRF</PmtMtd><BtchBookg>false</BtchBookg><NbOfTxs>{n}</NbOfTxs><CtrlSum>{sum}</CtrlSum><PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl></PmtTpInf><ReqdExctnDt>{execution_date}</ReqdExctnDt><Dbtr><Nm>{dn}</Nm></Dbtr><DbtrAcct><Id><IBAN>{di}</IBAN></Id><Ccy>EUR</Ccy></DbtrAcct><DbtrAgt><FinInstnId><BIC>{db}</BIC></FinInstnId></DbtrAgt><ChrgBr>SLEV</ChrgBr>
"#,
        sum = amount(total),
        dn = sepa_text(&debtor.name, 70),
        di = debtor.iban.as_str(),
        db = debtor.bic.as_str(),
    );
    for t in transfers {
        let _ = writeln!(
            x,
            "<CdtTrfTxInf><PmtId><EndToEndId>{}</EndToEndId></PmtId><Amt><InstdAmt Ccy=\"EUR\">{}</InstdAmt></Amt><CdtrAgt><FinInstnId><BIC>{}</BIC></FinInstnId></CdtrAgt><Cdtr><Nm>{}</Nm></Cdtr><CdtrAcct><Id><IBAN>{}</IBAN></Id></CdtrAcct><RmtInf><Ustrd>{}</Ustrd></RmtInf></CdtTrfTxInf>",
            sepa_text(&t.end_to_end_id, 35),
            amount(t.amount),
            t.creditor_bic.as_str(),
            sepa_text(&t.creditor_name, 70),
            t.creditor_iban.as_str(),
            sepa_text(&t.remittance, 140),
        );
    }
    x.push_str("</PmtInf>\n</CstmrCdtTrfInitn>\n</Document>\n");
    Ok(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_to_the_sepa_character_set() {
        assert_eq!(
            sepa_text("Médiathèque d’Évian & Cie <test>", 70),
            "Mediatheque d'Evian Cie test"
        );
        assert_eq!(sepa_text("x".repeat(50).as_str(), 35).len(), 35);
    }

    #[test]
    fn ligatures_become_two_letters() {
        assert_eq!(
            sepa_text("Œuvres sociales de Lætitia Straße", 70),
            "OEuvres sociales de Laetitia Strasse"
        );
    }

    #[test]
    fn amounts_and_totals_are_exact() {
        let d = Debtor {
            name: "Opérateur".into(),
            iban: Iban::parse("FR7630006000011234567890189").unwrap(),
            bic: Bic::parse("AGRIFRPP").unwrap(),
        };
        let t = |c| Transfer {
            end_to_end_id: "R1-V1".into(),
            amount: Money::from_cents(c),
            creditor_name: "Lieu".into(),
            creditor_iban: Iban::parse("DE89370400440532013000").unwrap(),
            creditor_bic: Bic::parse("COBADEFF").unwrap(),
            remittance: "Pass Numerique".into(),
        };
        let xml = credit_transfer(
            "R1",
            "2026-12-01T09:00:00",
            "2026-12-02",
            &d,
            &[t(960), t(5)],
        )
        .unwrap();
        assert!(xml.contains("<CtrlSum>9.65</CtrlSum>"));
        assert!(xml.contains("<InstdAmt Ccy=\"EUR\">0.05</InstdAmt>"));
        assert_eq!(xml.matches("<CdtTrfTxInf>").count(), 2);
    }
}
