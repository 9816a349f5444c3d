// Brotli copies (`FILE.br`, quality 11) of the large vendored text assets, made once when they
// are vendored: the binary embeds them and serves them to browsers that accept `br`, a quarter
// lighter than gzip for the DSFR stylesheet and the QR decoder, with no compressor in passnum.
//   node scripts/precompress-assets.mjs DIR...      writes FILE.br for every .css/.js file
//   node scripts/precompress-assets.mjs --check DIR  fails if a FILE.br is missing or stale
import { brotliCompressSync, brotliDecompressSync, constants } from "node:zlib";
import { readdirSync, readFileSync, writeFileSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";

const check = process.argv[2] === "--check";
const dirs = process.argv.slice(check ? 3 : 2);
if (!dirs.length) { console.error("usage: precompress-assets.mjs [--check] DIR..."); process.exit(2); }

function* texts(dir) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* texts(path);
    else if (/\.(css|js)$/.test(name)) yield path;
  }
}

let bad = 0;
for (const dir of dirs) for (const path of texts(dir)) {
  const raw = readFileSync(path);
  if (check) {
    const ok = existsSync(path + ".br") && brotliDecompressSync(readFileSync(path + ".br")).equals(raw);
    if (!ok) { console.error(`${path}.br is missing or does not match ${path}: run node scripts/precompress-assets.mjs ${dir}`); bad++; }
  } else {
    const br = brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } });
    writeFileSync(path + ".br", br);
    console.log(`${path}: ${raw.length} → ${br.length} bytes`);
  }
}
process.exit(bad ? 1 : 0);
