//! Embeds every file under `assets/` (the vendored DSFR subset and passnum's own CSS/JS), so
//! the binary serves them without reading the disk and nothing is missing at run time.

use std::fmt::Write;
use std::path::Path;

fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("assets dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, root, out);
        } else if p.extension().is_none_or(|e| e != "md")
            && p.file_name().is_some_and(|n| n != "VERSION")
        {
            out.push(
                p.strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}

fn main() {
    // Read when the script runs (not baked in when it is compiled): a build script reused
    // from a shared target directory must still read this checkout's assets.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("assets");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = vec![];
    walk(&root, &root, &mut files);
    let mut code = String::from("&[\n");
    for f in files {
        writeln!(
            code,
            "    ({f:?}, include_bytes!({:?}) as &[u8]),",
            root.join(&f).display().to_string()
        )
        .unwrap();
    }
    code.push(']');
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("assets.rs");
    std::fs::write(out, code).unwrap();
}
