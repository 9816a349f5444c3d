#!/usr/bin/env bash
# The whole test suite: Rust tests on SQLite and PostgreSQL, then the browser tests in
# headless Chromium. Needs PostgreSQL on 127.0.0.1:5432 (or PASSNUM_TEST_PG_URL), Node.js,
# and Chromium (/usr/bin/chromium, or CHROMIUM=/path).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --locked
cargo build --locked -p passnum
target="${CARGO_TARGET_DIR:-$PWD/target}"
(cd e2e && npm ci --no-audit --no-fund --silent && PASSNUM_BIN="$target/debug/passnum" npm test)
