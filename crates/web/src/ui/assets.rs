//! Static files embedded in the binary (the vendored DSFR subset and passnum's own), served
//! gzip-compressed when the browser accepts it, compressed once and kept.

use std::collections::HashMap;
use std::io::Write;
use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

macro_rules! files {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_bytes!(concat!("../../assets/", $path)) as &[u8])),*]
    };
}

const FILES: &[(&str, &[u8])] = files!(
    "dsfr/css/dsfr.min.css",
    "dsfr/fonts/Marianne-Regular.woff2",
    "dsfr/fonts/Marianne-Regular_Italic.woff2",
    "dsfr/fonts/Marianne-Medium.woff2",
    "dsfr/fonts/Marianne-Medium_Italic.woff2",
    "dsfr/fonts/Marianne-Bold.woff2",
    "dsfr/fonts/Marianne-Bold_Italic.woff2",
    "dsfr/fonts/Marianne-Light.woff2",
    "dsfr/fonts/Marianne-Light_Italic.woff2",
    "dsfr/fonts/Spectral-Regular.woff2",
    "dsfr/fonts/Spectral-ExtraBold.woff2",
    "dsfr/icons/system/fr--warning-fill.svg",
    "dsfr/icons/system/fr--info-fill.svg",
    "dsfr/icons/system/close-line.svg",
    "dsfr/icons/system/fr--success-fill.svg",
    "dsfr/icons/system/fr--error-fill.svg",
    "dsfr/icons/system/external-link-line.svg",
    "dsfr/icons/arrows/arrow-right-s-line.svg",
    "dsfr/icons/arrows/arrow-left-s-line.svg",
    "dsfr/icons/arrows/fr--arrow-right-s-last-line.svg",
    "dsfr/icons/arrows/fr--arrow-left-s-first-line.svg",
    "app/passnum.css",
    "app/scan.js",
);

struct Asset {
    raw: &'static [u8],
    gzip: Option<Vec<u8>>,
    content_type: &'static str,
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn table() -> &'static HashMap<&'static str, Asset> {
    static TABLE: OnceLock<HashMap<&'static str, Asset>> = OnceLock::new();
    TABLE.get_or_init(|| {
        FILES
            .iter()
            .map(|(path, raw)| {
                let ct = content_type(path);
                // Fonts are already compressed; text is worth it.
                let gzip = (!path.ends_with(".woff2")).then(|| {
                    let mut e =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                    e.write_all(raw).expect("in-memory gzip");
                    e.finish().expect("in-memory gzip")
                });
                (
                    *path,
                    Asset {
                        raw,
                        gzip,
                        content_type: ct,
                    },
                )
            })
            .collect()
    })
}

/// Bytes sent for a file, compressed or not (for the page-weight benchmark and tests).
pub fn transfer_size(path: &str, gzip: bool) -> Option<usize> {
    table().get(path).map(|a| match (&a.gzip, gzip) {
        (Some(g), true) => g.len(),
        _ => a.raw.len(),
    })
}

pub async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = table().get(path.as_str()) else {
        return (StatusCode::NOT_FOUND, "Fichier introuvable.").into_response();
    };
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"));
    let mut resp = match (&asset.gzip, accepts_gzip) {
        (Some(g), true) => {
            let mut r = g.clone().into_response();
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            r
        }
        _ => asset.raw.into_response(),
    };
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    resp
}
