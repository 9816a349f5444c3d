#!/usr/bin/env bash
# The whole test suite: Rust tests on SQLite and PostgreSQL, then the browser tests in
# headless Chromium.
#
# It sets up what it can by itself: PostgreSQL is PASSNUM_TEST_PG_URL if given, else the server
# listening on 127.0.0.1:5432, else a throwaway cluster started here from the installed
# PostgreSQL binaries (initdb + pg_ctl, in a temporary folder, on a free port, removed at the
# end). A missing tool stops it at once with the package to install.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { # need <command> <what to install>
  command -v "$1" >/dev/null 2>&1 || { echo "Il manque « $1 » : installez $2, puis relancez ./scripts/test.sh." >&2; exit 1; }
}
need cargo "Rust (https://rustup.rs)"
need node "Node.js 20 ou plus récent (paquet Debian nodejs)"
need npm "npm (paquet Debian npm)"
need xmllint "le paquet Debian libxml2-utils"
need pdftoppm "le paquet Debian poppler-utils"
need pdftotext "le paquet Debian poppler-utils"
need zbarimg "le paquet Debian zbar-tools"
need pg_dump "le client PostgreSQL (paquet Debian postgresql-client), pour les tests de sauvegarde"
need pg_restore "le client PostgreSQL (paquet Debian postgresql-client), pour les tests de sauvegarde"
if [ -z "${CHROMIUM:-}" ]; then need chromium "le paquet Debian chromium (ou indiquez CHROMIUM=/chemin/vers/chromium)"; fi

pg_dir=""
replica_dir=""
cleanup() {
  if [ -n "$replica_dir" ]; then scripts/pg-replica.sh stop "$replica_dir" || true; fi
  if [ -n "$pg_dir" ]; then
    $as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  fi
}
trap cleanup EXIT

if [ -z "${PASSNUM_TEST_PG_URL:-}" ]; then
  if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    export PASSNUM_TEST_PG_URL="postgres://postgres@127.0.0.1:5432/postgres"
  else
    pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -z "$pg_bin" ] && command -v initdb >/dev/null 2>&1; then pg_bin="$(dirname "$(command -v initdb)")"; fi
    [ -n "$pg_bin" ] || { echo "PostgreSQL est introuvable : installez le paquet Debian postgresql (ou indiquez PASSNUM_TEST_PG_URL=postgres://…), puis relancez ./scripts/test.sh." >&2; exit 1; }
    # initdb refuses to run as root: the cluster then belongs to the postgres account.
    as_pg=""
    pg_dir="$(mktemp -d /tmp/passnum-pg.XXXXXX)"
    if [ "$(id -u)" = 0 ]; then as_pg="runuser -u postgres --"; chown postgres "$pg_dir"; fi
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 54329)"
    echo "PostgreSQL n'écoute pas sur 127.0.0.1:5432 : grappe jetable sur le port $port ($pg_dir)." >&2
    $as_pg "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust --no-sync >/dev/null
    $as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w \
      -o "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
    export PASSNUM_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
  fi
fi

# A streaming replica of that server (pg_basebackup -R), for the read-replica tests (issue 18),
# unless PASSNUM_TEST_PG_REPLICA_URL names one.
if [ -z "${PASSNUM_TEST_PG_REPLICA_URL:-}" ]; then
  need pg_basebackup "le paquet Debian postgresql, pour la réplique des tests de lecture"
  replica_dir="$(mktemp -d /tmp/passnum-replica.XXXXXX)"
  PASSNUM_TEST_PG_REPLICA_URL="$(scripts/pg-replica.sh start "$PASSNUM_TEST_PG_URL" "$replica_dir")"
  export PASSNUM_TEST_PG_REPLICA_URL
fi

# aiosmtpd (from PyPI, pinned): the real SMTP server the e-mail tests send to.
need python3 "Python 3 avec venv (paquets Debian python3 et python3-venv)"
mail_venv="${PASSNUM_MAIL_VENV:-$PWD/target/mail-venv}"
if ! "$mail_venv/bin/python" -c "import aiosmtpd" >/dev/null 2>&1; then
  python3 -m venv "$mail_venv"
  "$mail_venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==1.4.6"
fi
export PASSNUM_TEST_PYTHON="$mail_venv/bin/python"

# The brotli copies of vendored assets must be those of the files beside them.
node scripts/precompress-assets.mjs --check crates/web/assets/dsfr crates/web/assets/vendor
# The npm packages first: the browser tests, and oidc-provider, the real OpenID provider the
# ProConnect tests of the Rust suite sign in with.
(cd e2e && npm ci --no-audit --no-fund --silent)
cargo test --workspace --locked
# The PostgreSQL tests a second time with every transaction at SERIALIZABLE, as an operator or a
# distributed PostgreSQL-compatible engine may run (issue 18): serialization failures are
# retried, a spent budget answers a stable error, nothing answers 500.
PASSNUM_TEST_PG_SERIALIZABLE=1 cargo test --workspace --locked -- postgres
cargo build --locked -p passnum
target="${CARGO_TARGET_DIR:-$PWD/target}"
(cd e2e && PASSNUM_BIN="$target/debug/passnum" npm test)
