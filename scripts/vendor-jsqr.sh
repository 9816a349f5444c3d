#!/usr/bin/env bash
# Rebuilds crates/web/assets/vendor/jsqr from the npm package jsqr (Apache-2.0): the QR decoder
# the scan page loads, only when a mediator opens the camera on a browser without
# BarcodeDetector (iPhone, Firefox, Chromium on a desktop). Minified here with terser, once;
# nothing is fetched at build or run time.
set -euo pipefail
VERSION="${JSQR_VERSION:-1.4.0}"
TERSER="${TERSER_VERSION:-5.36.0}"
cd "$(dirname "$0")/.."
out=crates/web/assets/vendor/jsqr
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "jsqr@$VERSION" >/dev/null && tar xzf jsqr-*.tgz)
rm -rf "$out" && mkdir -p "$out"
npx --yes "terser@$TERSER" "$tmp/package/dist/jsQR.js" --compress --mangle --comments false \
  --preamble "/*! jsQR $VERSION | Apache-2.0 | https://github.com/cozmo/jsQR */" -o "$out/jsQR.min.js"
cp "$tmp/package/LICENSE" "$out/LICENSE.md"
echo "jsqr $VERSION" > "$out/VERSION"
node scripts/precompress-assets.mjs "$out"
ls -l "$out"
