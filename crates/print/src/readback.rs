//! Reading printed paper back, for the tests of every crate that prints: pages rendered with
//! poppler's `pdftoppm`, QR codes decoded with zbar's `zbarimg` (Debian `poppler-utils`,
//! `zbar-tools`).
//!
//! Each page is scanned twice, as a phone takes several frames: at 200 dpi without
//! anti-aliasing (how a printer puts it on paper) and at 300 dpi with it. zbar alone misses a
//! few sound codes at any one resolution (on 1,000 printed codes: 993 read at 200 dpi, 994 at
//! 300 dpi, all 1,000 by the two scans together; the misses move with the resolution, so they
//! are the decoder's, not the print's). A broken code fails both scans.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const SCANS: &[&[&str]] = &[
    &["-r", "200", "-gray", "-png", "-aa", "no", "-aaVector", "no"],
    &["-r", "300", "-gray", "-png"],
];

/// Every QR payload found on any page of `pdf`. `work` is an empty folder for the images.
pub fn qr_payloads(pdf: &Path, work: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (n, args) in SCANS.iter().enumerate() {
        let dir = work.join(format!("scan-{n}"));
        std::fs::create_dir_all(&dir).expect("scan folder");
        let out = Command::new("pdftoppm")
            .args(*args)
            .arg(pdf)
            .arg(dir.join("p"))
            .output()
            .expect("pdftoppm (Debian poppler-utils) is needed to read PDFs back");
        assert!(
            out.status.success(),
            "pdftoppm: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut pages: Vec<_> = std::fs::read_dir(&dir)
            .expect("scan folder")
            .map(|e| e.expect("page").path())
            .collect();
        pages.sort();
        for page in pages {
            // zbarimg exits 4 on a page without any code (a cover).
            let out = Command::new("zbarimg")
                .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
                .arg(&page)
                .output()
                .expect("zbarimg (Debian zbar-tools) is needed to read QR codes back");
            found.extend(
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .map(str::to_string),
            );
        }
        std::fs::remove_dir_all(&dir).ok();
    }
    found
}
