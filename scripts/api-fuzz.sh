#!/usr/bin/env bash
# A real API fuzzer against the OpenAPI document, with each role's token: schemathesis (from
# PyPI, pinned) generates requests from the document, and the run fails on any 5xx answer or
# any status the document does not declare. Bounded to a few minutes.
#
#   scripts/api-fuzz.sh [path/to/passnum]      (default: target/debug/passnum)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/debug/passnum}"
venv="${PASSNUM_FUZZ_VENV:-$PWD/target/fuzz-venv}"
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==4.32.5"
fi
dir="$(mktemp -d /tmp/passnum-fuzz.XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$bin" --database-url "$dir/fuzz.db" --signing-key "$dir/s.key" --household-key "$dir/h.key" \
  demo --listen "127.0.0.1:$port" > "$dir/demo.log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 60); do
  grep -q "passnum écoute sur" "$dir/demo.log" && break
  sleep 1
done
token() { grep "$1" "$dir/demo.log" | head -n 1 | awk '{print $NF}'; }
for role in "jeton opérateur" "jeton commanditaire" "jeton lieu n° 1"; do
  echo "== schemathesis, $role"
  # Run from the temporary folder: schemathesis keeps a cache in its working directory. One
  # worker: with two, Hypothesis parses lambdas' source from threads and CPython 3.11 now and
  # then fails with "AST constructor recursion depth mismatch" (a tool crash, not a finding).
  (cd "$dir" && "$venv/bin/st" run "http://127.0.0.1:$port/api/v1/openapi.json" \
    -H "Authorization: Bearer $(token "$role")" \
    --checks not_a_server_error,status_code_conformance \
    --max-examples 25 --workers 1 --seed 1 --no-color > "$dir/st.log" 2>&1) || { cat "$dir/st.log"; exit 1; }
  tail -n 6 "$dir/st.log"
done
