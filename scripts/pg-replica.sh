#!/usr/bin/env bash
# Starts a streaming replica of the PostgreSQL server at PRIMARY_URL, made as an operator makes
# one: `pg_basebackup -R` (a copy of the primary plus the standby settings), then `pg_ctl start`
# on a free port. The read-replica tests (issue 18) use it.
#
#   scripts/pg-replica.sh start <primary-url> <folder>   prints the replica's URL
#   scripts/pg-replica.sh stop <folder>
#
# The primary must accept replication connections from 127.0.0.1 without a password: when it
# does not and its pg_hba.conf is writable here (the machine's own cluster, as root), the line
# is added and the configuration reloaded.
set -euo pipefail

pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$pg_bin" ] && command -v pg_basebackup >/dev/null 2>&1; then pg_bin="$(dirname "$(command -v pg_basebackup)")"; fi
[ -x "$pg_bin/pg_basebackup" ] || { echo "pg_basebackup est introuvable : installez le paquet Debian postgresql." >&2; exit 1; }
as_pg=""
if [ "$(id -u)" = 0 ]; then as_pg="runuser -u postgres --"; fi

case "${1:-}" in
  start)
    primary="$2"
    dir="$3"
    rest="${primary#*://}"
    hostport="${rest#*@}"; hostport="${hostport%%/*}"
    host="${hostport%%:*}"
    port="5432"; [ "$hostport" != "$host" ] && port="${hostport#*:}"
    user="postgres"
    case "$rest" in *@*) user="${rest%%@*}"; user="${user%%:*}";; esac
    psql_p=(psql -h "$host" -p "$port" -U "$user" -d postgres -Atq)
    # Replication connections allowed from 127.0.0.1?
    if ! "${psql_p[@]}" -c "SELECT 1 FROM pg_hba_file_rules WHERE 'replication' = ANY(database) AND type = 'host' AND address IN ('127.0.0.1', 'all')" | grep -q 1; then
      hba="$("${psql_p[@]}" -c 'SHOW hba_file')"
      [ -w "$hba" ] || { echo "Le serveur $host:$port refuse les connexions de réplication et $hba n'est pas modifiable ici : ajoutez « host replication all 127.0.0.1/32 trust »." >&2; exit 1; }
      echo "host replication all 127.0.0.1/32 trust" >> "$hba"
      "${psql_p[@]}" -c 'SELECT pg_reload_conf()' >/dev/null
      sleep 1
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    [ -n "$as_pg" ] && chown postgres "$dir"
    chmod 700 "$dir"
    rport="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 54339)"
    $as_pg "$pg_bin/pg_basebackup" -h "$host" -p "$port" -U "$user" -D "$dir/data" -R -X stream --checkpoint=fast --no-sync >/dev/null
    # A copy of a Debian cluster has neither postgresql.conf nor pg_hba.conf (they live in
    # /etc): the replica gets its own, and the settings a standby needs on the command line.
    printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' > "$dir/pg_hba.conf"
    : > "$dir/pg_ident.conf"
    [ -f "$dir/data/postgresql.conf" ] || : > "$dir/data/postgresql.conf"
    [ -n "$as_pg" ] && chown postgres "$dir/pg_hba.conf" "$dir/pg_ident.conf" "$dir/data/postgresql.conf"
    $as_pg "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-p $rport -k $dir -c listen_addresses=127.0.0.1 -c hot_standby=on -c fsync=off -c max_connections=300 -c hba_file=$dir/pg_hba.conf -c ident_file=$dir/pg_ident.conf" start >/dev/null
    echo "postgres://$user@127.0.0.1:$rport/postgres"
    ;;
  stop)
    dir="$2"
    [ -d "$dir/data" ] && $as_pg "$pg_bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage : $0 start <url-du-primaire> <dossier> | stop <dossier>" >&2
    exit 2
    ;;
esac
