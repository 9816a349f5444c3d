#!/usr/bin/env bash
# Issue 18, item 3: HTTP redemptions on PostgreSQL driven by an external load generator (wrk,
# scripts/bench/wrk-redeem.lua), against `pgbench -N` (simple updates, one commit each) on the
# same PostgreSQL server and machine, in alternating rounds of one run; prints each round and
# the medians' ratio. Needs wrk and pgbench (Debian packages wrk and postgresql-contrib's
# pgbench, in the server's package on Debian).
#
#   scripts/bench/http-vs-pgbench.sh [binary] [rounds] [seconds] [connections]
#
# connections may be a comma-separated list (32,64,96): each round then measures every level,
# the same count of connections for wrk and of clients for pgbench, and the medians are given
# per level. (pgbench needs as many PostgreSQL connections: keep under max_connections.)
#
# PASSNUM_BENCH_PG is the server (default postgres://postgres@127.0.0.1:5432); the databases
# passnum_wrk and passnum_pgbench are created and dropped.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="$(realpath "${1:-target/release/passnum}")"
rounds="${2:-3}"
secs="${3:-10}"
conns="${4:-32}"
pg="${PASSNUM_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
hostport="${pg#*@}"; host="${hostport%%:*}"; port="${hostport#*:}"
user="${pg#*://}"; user="${user%%@*}"
psql_admin=(psql -h "$host" -p "$port" -U "$user" -d postgres -Atq)
threads=2
work="$(mktemp -d /tmp/passnum-wrk.XXXXXX)"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  "${psql_admin[@]}" -c "DROP DATABASE IF EXISTS passnum_wrk" -c "DROP DATABASE IF EXISTS passnum_pgbench" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"${psql_admin[@]}" -c "DROP DATABASE IF EXISTS passnum_pgbench" -c "CREATE DATABASE passnum_pgbench"
# Scale 50: 50 branches, so that 32 clients of -N (which updates accounts only) do not queue
# on the same rows; 5,000,000 accounts.
pgbench -h "$host" -p "$port" -U "$user" -i -s 50 -q passnum_pgbench >/dev/null 2>&1

IFS=, read -r -a levels <<< "$conns"
declare -A http_rates pgbench_rates
for round in $(seq 1 "$rounds"); do
for conns in "${levels[@]}"; do
  # A fresh database and fixture each round: cheques enough for the round at 15,000/s.
  "${psql_admin[@]}" -c "DROP DATABASE IF EXISTS passnum_wrk" -c "CREATE DATABASE passnum_wrk"
  url="$pg/passnum_wrk${PASSNUM_BENCH_DB_PARAMS:+?$PASSNUM_BENCH_DB_PARAMS}"
  (cd "$work" && "$bin" --database-url "$url" bench --prepare-http "$work/fixture" --cheques $((15000 * secs)) >/dev/null 2>&1)
  http_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  (cd "$work" && exec "$bin" --database-url "$url" serve --listen "127.0.0.1:$http_port" ${PASSNUM_BENCH_SERVE_ARGS:-} >"$work/serve.log" 2>&1) &
  server=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$http_port/livez" >/dev/null 2>&1 && break
    sleep 0.1
  done
  out="$(PASSNUM_WRK_FIXTURE="$work/fixture" PASSNUM_WRK_THREADS=$threads \
    wrk -t$threads -c"$conns" -d"${secs}s" -s scripts/bench/wrk-redeem.lua "http://127.0.0.1:$http_port")"
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
  summary="$(echo "$out" | grep '^created=')"
  created="$(echo "$summary" | sed 's/created=\([0-9]*\).*/\1/')"
  other="$(echo "$summary" | sed 's/.*other=\([0-9]*\).*/\1/')"
  if [ "$other" != 0 ]; then
    echo "round $round: $other answers other than 201 (see $work/serve.log)" >&2
    echo "$out" >&2
    exit 1
  fi
  http=$(python3 -c "print(round($created / $secs))")
  tps="$(pgbench -h "$host" -p "$port" -U "$user" -N -n -c "$conns" -j $threads -T "$secs" passnum_pgbench 2>/dev/null \
    | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -n 1)"
  tps=$(python3 -c "print(round($tps))")
  echo "round $round, $conns connections: HTTP redemptions $http/s ($summary) · pgbench -N $tps tps"
  http_rates[$conns]+="$http "
  pgbench_rates[$conns]+="$tps "
done
done
for conns in "${levels[@]}"; do
python3 - "$conns" "${http_rates[$conns]}" "${pgbench_rates[$conns]}" <<'PY'
import statistics, sys
h = [int(x) for x in sys.argv[2].split()]
p = [int(x) for x in sys.argv[3].split()]
mh, mp = statistics.median(h), statistics.median(p)
print(f"median, {sys.argv[1]} connections: HTTP {mh:.0f}/s, pgbench -N {mp:.0f} tps, ratio {mh / mp:.2f}")
PY
done
