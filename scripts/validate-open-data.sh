#!/usr/bin/env bash
# The open-data files, checked with a real validator. First the file of venues, against the
# national venue standard: frictionless (pinned, from PyPI) validates what `passnum venues export` writes and
# what GET /open-data/lieux-de-mediation-numerique.csv serves, on the demo's data, with the
# schema copied in data/standards/mediation-num/. Both must be the same file.
#
#   scripts/validate-open-data.sh [path/to/passnum]      (default: target/debug/passnum)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/debug/passnum}")"
venv="${PASSNUM_OPEN_DATA_VENV:-$PWD/target/open-data-venv}"
if [ ! -x "$venv/bin/frictionless" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "frictionless==5.18.1"
fi
dir="$(mktemp -d /tmp/passnum-open-data.XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
keys=(--database-url "$dir/od.db" --signing-key "$dir/s.key" --household-key "$dir/h.key")
"$bin" "${keys[@]}" demo --listen "127.0.0.1:$port" > "$dir/demo.log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 60); do
  grep -q "passnum écoute sur" "$dir/demo.log" && break
  sleep 1
done
cp data/standards/mediation-num/schema.json "$dir/"
"$bin" "${keys[@]}" venues export --out "$dir/export.csv"
python3 -c 'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1]).read())' \
  "http://127.0.0.1:$port/open-data/lieux-de-mediation-numerique.csv" "$dir/served.csv"
cmp "$dir/export.csv" "$dir/served.csv" || { echo "the served file differs from the export" >&2; exit 1; }
rows=$(($(wc -l < "$dir/export.csv") - 1))
[ "$rows" -ge 3 ] || { echo "only $rows venues exported: the demo's qualified venues are missing" >&2; exit 1; }
# frictionless reads only paths inside its working folder.
(cd "$dir" && "$venv/bin/frictionless" validate --schema schema.json export.csv) > "$dir/report" 2>&1 \
  || { cat "$dir/report"; exit 1; }
echo "open data: $rows venues, valid under the national standard (frictionless)"
# The figures' export: five CSV files with Table Schemas, the venues file and the data
# package, valid as a whole; cells of 1 to 10 people are "secret".
"$bin" "${keys[@]}" opendata export --out "$dir/od" > "$dir/od.log"
(cd "$dir/od" && "$venv/bin/frictionless" validate datapackage.json) > "$dir/report" 2>&1 \
  || { cat "$dir/report"; exit 1; }
grep -q "^20[0-9][0-9]-[0-9][0-9]," "$dir/od/chiffres-programme.csv" \
  || { echo "no month in the programme's figures" >&2; exit 1; }
grep -q "^20[0-9][0-9]-[0-9][0-9],[0-9]\{9\}," "$dir/od/chiffres-par-epci.csv" \
  || { echo "no EPCI line in the figures" >&2; exit 1; }
cmp "$dir/od/lieux-de-mediation-numerique.csv" "$dir/export.csv" \
  || { echo "the data package's venues file differs from the venues export" >&2; exit 1; }
echo "open data: $(cat "$dir/od.log")"
