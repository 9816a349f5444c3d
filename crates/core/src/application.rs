//! What a venue sends when it applies: supporting documents are checked by their content,
//! not by the name or type the browser gives.

/// A document is at most 5 MiB…
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024 * 1024;
/// …and an application carries at most five of them (the whole form stays under 26 MiB).
pub const MAX_DOCUMENTS: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentType {
    Pdf,
    Jpeg,
    Png,
}

impl DocumentType {
    /// Recognised by the file's first bytes.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else {
            None
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
        }
    }

    pub fn from_mime(s: &str) -> Option<Self> {
        [Self::Pdf, Self::Jpeg, Self::Png]
            .into_iter()
            .find(|t| t.mime() == s)
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Jpeg => "jpg",
            Self::Png => "png",
        }
    }
}

/// A supporting document, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// Safe to put in a `Content-Disposition` header: letters, digits, `-`, `_`, `.`.
    pub file_name: String,
    pub kind: DocumentType,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error(
        "« {0} » n'est ni un PDF, ni une image JPEG ou PNG : envoyez le document dans l'un de ces formats."
    )]
    WrongType(String),
    #[error(
        "« {0} » dépasse 5 Mo : réduisez-le (numérisation en 150 ppp, par exemple) ou envoyez-le en plusieurs parties."
    )]
    TooLarge(String),
    #[error("« {0} » est vide.")]
    Empty(String),
    #[error("Cinq documents au plus : regroupez-les dans un PDF.")]
    TooMany,
}

impl Document {
    pub fn check(file_name: &str, bytes: Vec<u8>) -> Result<Self, DocumentError> {
        let shown: String = file_name.chars().take(80).collect();
        if bytes.is_empty() {
            return Err(DocumentError::Empty(shown));
        }
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(DocumentError::TooLarge(shown));
        }
        let kind = DocumentType::sniff(&bytes).ok_or(DocumentError::WrongType(shown))?;
        Ok(Self {
            file_name: safe_file_name(file_name, kind),
            kind,
            bytes,
        })
    }
}

/// The name without its folders, accents folded, anything else replaced, with the extension
/// of what the file really is.
fn safe_file_name(name: &str, kind: DocumentType) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let stem = base.rsplit_once('.').map_or(base, |(s, _)| s);
    let mut clean: String = stem
        .chars()
        .map(crate::text::unaccented)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if clean.trim_matches('_').is_empty() {
        clean = "document".into();
    }
    format!("{clean}.{}", kind.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_recognised_by_their_content() {
        let pdf =
            Document::check("C:\\Mes docs\\Statuts signés.PDF", b"%PDF-1.7 ...".to_vec()).unwrap();
        assert_eq!(pdf.kind, DocumentType::Pdf);
        assert_eq!(pdf.file_name, "Statuts_signes.pdf");
        let png = Document::check("logo.pdf", b"\x89PNG\r\n\x1a\n....".to_vec()).unwrap();
        assert_eq!(png.file_name, "logo.png");
        assert_eq!(
            Document::check("virus.exe", b"MZ\x90\x00".to_vec()),
            Err(DocumentError::WrongType("virus.exe".into()))
        );
        assert!(matches!(
            Document::check("vide.pdf", vec![]),
            Err(DocumentError::Empty(_))
        ));
        let mut big = b"%PDF-".to_vec();
        big.resize(MAX_DOCUMENT_BYTES + 1, b' ');
        assert!(matches!(
            Document::check("gros.pdf", big),
            Err(DocumentError::TooLarge(_))
        ));
        assert_eq!(
            Document::check("../../etc/passwd", b"\xFF\xD8\xFF\xE0".to_vec())
                .unwrap()
                .file_name,
            "passwd.jpg"
        );
        assert_eq!(
            DocumentType::from_mime("image/png"),
            Some(DocumentType::Png)
        );
    }
}
