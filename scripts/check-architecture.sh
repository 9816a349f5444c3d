#!/usr/bin/env bash
# Reports how the code measures against the house rules of docs/architecture.md: modules over
# 600 lines above their tests, functions over 120 lines, CSRF comparisons in page handlers,
# `lock().expect` outside tests, and what the command line imports from the HTTP crate.
# Prints a report; with --strict (as CI runs it), exits 1 when a rule is broken.
set -uo pipefail
cd "$(dirname "$0")/.."
strict=${1:-}
broken=0

echo "== Modules over 600 lines above #[cfg(test)]"
for f in $(find crates/*/src -name '*.rs' | sort); do
  n=$(awk '/^[[:space:]]*#\[cfg\(test\)\]/{exit} {n++} END{print n+0}' "$f")
  if [ "$n" -gt 600 ]; then echo "  $f: $n"; broken=1; fi
done

echo "== Functions over 120 lines (outside tests)"
for f in $(find crates/*/src -name '*.rs' | sort); do
  awk -v file="$f" '
    /^[[:space:]]*#\[cfg\(test\)\]/ { exit }
    /^[[:space:]]*(pub(\([a-z]+\))? )?(async )?fn [a-z_0-9]+/ && start == 0 {
      match($0, /^[[:space:]]*/); indent = RLENGTH; start = NR; name = $0; next
    }
    start > 0 && $0 ~ "^[[:space:]]{" indent "}}[[:space:]]*$" {
      match($0, /^[[:space:]]*/)
      if (RLENGTH == indent) {
        if (NR - start + 1 > 120) { gsub(/^[[:space:]]+/, "", name); printf "  %s:%d: %d lines: %s\n", file, start, NR - start + 1, substr(name, 1, 70) }
        start = 0
      }
    }' "$f"
done | tee /tmp/passnum-long-fns.$$ 
[ -s /tmp/passnum-long-fns.$$ ] && broken=1
rm -f /tmp/passnum-long-fns.$$

echo "== CSRF comparisons in page handlers (only form extractors may compare, as 'token_ok: csrf.matches(&token)')"
grep -n "csrf.matches\|\.matches(&" crates/web/src/ui/*.rs | grep -v "ui/error.rs\|ui/session.rs" | grep -v "token_ok: csrf.matches(&token)" && broken=1

echo "== lock().expect outside tests"
for f in $(find crates/*/src -name '*.rs'); do
  awk -v file="$f" '/^[[:space:]]*#\[cfg\(test\)\]/{exit} /lock\(\)[[:space:]]*\.expect|lock\(\)\.unwrap\(\)/ {printf "  %s:%d\n", file, NR; found=1} END{exit found?1:0}' "$f" || broken=1
done

echo "== What crates/cli imports from passnum_web"
grep -rhoE "passnum_web::[A-Za-z_:{}, ]+" crates/cli/src | sort | uniq -c

if [ "$strict" = "--strict" ] && [ "$broken" -ne 0 ]; then exit 1; fi
exit 0
