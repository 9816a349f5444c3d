#!/usr/bin/env bash
# Rebuilds data/territories.tsv: the names of the EPCI (intercommunalités), départements and
# régions that the figures group communes by (communes.tsv carries each commune's EPCI and
# département code). Source: @etalab/decoupage-administratif from the npm registry (Etalab,
# Licence Ouverte 2.0), the same pinned version as communes.tsv.
# Columns: kind (epci, departement, region), code, name, parent (the département's région).
set -euo pipefail
VERSION="${DECOUPAGE_VERSION:-6.0.0}"
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@etalab/decoupage-administratif@$VERSION" >/dev/null \
  && mkdir dec && tar xzf etalab-decoupage-administratif-*.tgz -C dec)
node -e '
const [epciFile, depFile, regFile] = process.argv.slice(1);
const clean = s => String(s).replace(/[\t\n\r]/g, " ");
const rows = [];
for (const e of require(epciFile)) rows.push(["epci", e.code, clean(e.nom), ""]);
for (const d of require(depFile)) rows.push(["departement", d.code, clean(d.nom), d.region || ""]);
for (const r of require(regFile)) rows.push(["region", r.code, clean(r.nom), ""]);
process.stdout.write("kind\tcode\tname\tparent\n" + rows.map(r => r.join("\t")).join("\n") + "\n");
' "$tmp/dec/package/data/epci.json" "$tmp/dec/package/data/departements.json" "$tmp/dec/package/data/regions.json" > data/territories.tsv
wc -l data/territories.tsv
