#!/usr/bin/env bash
# Replays issue 11's attacks against a real `passnum demo` (see scripts/security-smoke.py).
#   scripts/security-smoke.sh [path/to/passnum]      (default: target/debug/passnum)
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 scripts/security-smoke.py "${1:-target/debug/passnum}"
