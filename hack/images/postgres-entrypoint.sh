#!/bin/sh
# The devcluster's PostgreSQL image (Debian's postgresql-15) keeps the upstream image's interface,
# so the chart runs it unchanged: POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB and PGDATA; on an
# empty data directory the cluster is created, the database made, and every *.sql and *.sh of
# /docker-entrypoint-initdb.d run once. The new cluster is built beside PGDATA and moved into place
# only when all of that succeeded, so a failed first start leaves nothing half-initialised for the
# next start to skip over. Clients authenticate with SCRAM passwords; only the container's own
# Unix socket is trusted.
set -eu

: "${PGDATA:=/var/lib/postgresql/data}"
socket_dir=/var/run/postgresql

initialise() {
  user="${POSTGRES_USER:-postgres}"
  database="${POSTGRES_DB:-$user}"
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "POSTGRES_PASSWORD is empty: a new data directory needs the superuser's password" >&2
    exit 1
  fi
  staging="$PGDATA.initialising"
  rm -rf "$staging"
  mkdir -p "$staging"
  chmod 700 "$staging"
  password_file="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$password_file"
  initdb --pgdata="$staging" --username="$user" --pwfile="$password_file" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$password_file"
  echo "listen_addresses = '*'" >>"$staging/postgresql.conf"
  echo "host all all all scram-sha-256" >>"$staging/pg_hba.conf"

  pg_ctl --pgdata="$staging" --wait --silent \
    --options="-c listen_addresses='' -c unix_socket_directories=$socket_dir" start
  run_sql() { psql --quiet -v ON_ERROR_STOP=1 --host="$socket_dir" --username="$user" "$@"; }
  if [ "$database" != postgres ]; then
    run_sql --dbname=postgres --command="CREATE DATABASE \"$database\""
  fi
  for script in /docker-entrypoint-initdb.d/*; do
    case "$script" in
      *.sql) echo "running $script"; run_sql --dbname="$database" --file="$script" ;;
      *.sh) echo "running $script"; . "$script" ;;
      *) [ ! -e "$script" ] || echo "ignoring $script" ;;
    esac
  done
  pg_ctl --pgdata="$staging" --wait --silent --mode=fast stop
  # An empty PGDATA that is a mount point cannot be replaced: the cluster moves into it instead.
  if [ -d "$PGDATA" ] && ! rmdir "$PGDATA" 2>/dev/null; then
    mv "$staging"/* "$PGDATA"/
    rmdir "$staging"
  else
    mv "$staging" "$PGDATA"
  fi
  echo "initialised $PGDATA (database $database, user $user)"
}

if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  initialise
fi
exec "$@"
