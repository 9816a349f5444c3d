#!/usr/bin/env bash
# Rebuilds crates/web/assets/dsfr from the npm package @gouvfr/dsfr, keeping only what passnum
# uses: the core and a few components' CSS (concatenated), the JavaScript of the components that
# need it (the header's phone menu is a modal), and the fonts and icons that CSS references.
# Nothing is loaded from a CDN at run time; the files are embedded in the binary.
set -euo pipefail
VERSION="${DSFR_VERSION:-1.15.3}"
COMPONENTS="button input form select alert header footer table badge logo link skiplink notice callout breadcrumb pagination tag checkbox radio upload modal navigation"
# DSFR scripts are ES modules that read the global `window.dsfr` the core sets: loaded in this order.
SCRIPTS="core/core component/modal/modal component/navigation/navigation component/header/header"
cd "$(dirname "$0")/.."
out=crates/web/assets/dsfr
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@gouvfr/dsfr@$VERSION" >/dev/null && tar xzf gouvfr-dsfr-*.tgz)
dist="$tmp/package/dist"
rm -rf "$out" && mkdir -p "$out/css"
{
  cat "$dist/core/core.main.min.css"
  for c in $COMPONENTS; do
    # Component files sit two levels deep: rebase their icon URLs on the bundle's folder.
    sed 's#url(\.\./\.\./#url(../#g' "$dist/component/$c/$c.main.min.css"
  done
} > "$out/css/dsfr.min.css"
# Copy every file the bundle references (woff2 only: every supported browser reads it).
grep -o 'url([^)]*)' "$out/css/dsfr.min.css" | sed -e 's/^url(//' -e 's/)$//' -e "s/[\"']//g" \
  | grep '^\.\./' | grep -v '\.woff$' | sort -u | while read -r rel; do
    f="${rel#../}"
    mkdir -p "$out/$(dirname "$f")"
    cp "$dist/$f" "$out/$f"
  done
mkdir -p "$out/js"
for s in $SCRIPTS; do cp "$dist/$s.module.min.js" "$out/js/$(basename "$s").module.min.js"; done
cp "$tmp/package/LICENSE.md" "$out/LICENSE.md"
echo "@gouvfr/dsfr $VERSION: $COMPONENTS; scripts: $SCRIPTS" > "$out/VERSION"
node scripts/precompress-assets.mjs "$out"
du -sh "$out"
