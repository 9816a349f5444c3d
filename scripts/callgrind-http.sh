#!/usr/bin/env bash
# Instructions per redemption request over HTTP, on SQLite, for one commit: a measure the
# machine's noise does not move (BENCHMARKS.md, issues 10 and 11).
#
#   scripts/callgrind-http.sh [commit]     (default: the working tree)
#
# Builds the release binary (in a worktree for a commit), runs `passnum bench --only http`
# under callgrind for 2,000 then 4,000 redemptions on a fresh file, and prints the difference
# per request (start-up and set-up cancel out). Keeps the callgrind files for
# `callgrind_annotate --inclusive=yes`.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind est absent : apt-get install valgrind" >&2; exit 1; }
commit="${1:-}"
out="$(mktemp -d /tmp/passnum-callgrind.XXXXXX)"
if [ -n "$commit" ]; then
  src="$out/src"
  git worktree add --detach "$src" "$commit" >/dev/null
  trap 'git worktree remove --force "$src"; git worktree prune' EXIT
else
  src="$PWD"
fi
target="${CARGO_TARGET_DIR:-$PWD/target}/callgrind-${commit:-tree}"
(cd "$src" && CARGO_TARGET_DIR="$target" cargo build --release --locked -q -p passnum)
bin="$target/release/passnum"
ir() {
  local n="$1" dir="$out/run-$1"
  mkdir -p "$dir"
  (cd "$dir" && valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.$n" \
    "$bin" --database-url "$dir/bench.db" --signing-key "$dir/s.key" --household-key "$dir/h.key" \
    bench --only http --cheques "$n" --http-concurrency 8 >"$dir/log" 2>&1)
  grep -m1 "^summary:" "$out/callgrind.$n" | awk '{print $2}'
}
a="$(ir 2000)"
b="$(ir 4000)"
echo "commit ${commit:-working tree}: Ir 2,000 = $a, Ir 4,000 = $b, per request = $(( (b - a) / 2000 ))"
echo "callgrind files: $out/callgrind.2000 $out/callgrind.4000"
