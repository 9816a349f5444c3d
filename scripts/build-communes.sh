#!/usr/bin/env bash
# Rebuilds data/communes.tsv, the commune list embedded in passnum, from the npm package
# @etalab/decoupage-administratif (Etalab, Licence Ouverte 2.0; INSEE Code officiel
# géographique and populations). Keeps current communes and the municipal arrondissements of
# Paris, Lyon and Marseille (venues are often registered with those codes), in metropolitan
# France and the five overseas départements (the collectivités d'outre-mer — 975, 977, 978,
# 98x — have their own rules and, in the Pacific, their own currency).
# Columns: insee, name, departement, postcodes (comma-separated), population.
set -euo pipefail
VERSION="${DECOUPAGE_VERSION:-6.0.0}"
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@etalab/decoupage-administratif@$VERSION" >/dev/null && tar xzf etalab-decoupage-administratif-*.tgz)
node -e '
const communes = require(process.argv[1]);
const com = d => ["975", "977", "978"].includes(d) || d.startsWith("98");
const keep = communes.filter(c => (c.type === "commune-actuelle" || c.type === "arrondissement-municipal") && !com(c.departement));
keep.sort((a, b) => a.code.localeCompare(b.code));
const clean = s => String(s).replace(/[\t\n\r]/g, " ");
const lines = keep.map(c => [c.code, clean(c.nom), c.departement, (c.codesPostaux || []).join(","), c.population ?? 0].join("\t"));
process.stdout.write("insee\tname\tdepartement\tpostcodes\tpopulation\n" + lines.join("\n") + "\n");
' "$tmp/package/data/communes.json" > data/communes.tsv
echo "# @etalab/decoupage-administratif $VERSION, built $(date -u +%Y-%m-%d)" > data/communes.VERSION
wc -l data/communes.tsv
