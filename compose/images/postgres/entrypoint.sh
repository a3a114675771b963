#!/bin/sh
# First start: give POSTGRES_USER its POSTGRES_PASSWORD and create POSTGRES_DB in the cluster made at build
# time (single-user mode, no network); then run postgres on 0.0.0.0:5432.
set -eu
case "${1:-}" in -*) set -- postgres "$@" ;; esac
[ "${1:-}" = postgres ] || exec "$@"
shift
case " $* " in *" --version "* | *" -V "* | *" --help "* | *" -? "*) exec postgres "$@" ;; esac

user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
  echo "datakits-entrypoint: set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust)" >&2
  exit 1
fi
str() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }
ident() { printf '"%s"' "$(printf '%s' "$1" | sed 's/"/""/g')"; }

if [ ! -e "$PGDATA/datakits-initialised" ]; then
  echo "host all all all $auth" >>"$PGDATA/pg_hba.conf"
  {
    if [ "$user" = postgres ]; then
      echo "ALTER ROLE postgres PASSWORD $(str "${POSTGRES_PASSWORD:-}")"
    else
      echo "CREATE ROLE $(ident "$user") SUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS LOGIN PASSWORD $(str "${POSTGRES_PASSWORD:-}")"
    fi
    if [ "$db" != postgres ]; then echo "CREATE DATABASE $(ident "$db") OWNER $(ident "$user")"; fi
  } | postgres --single -D "$PGDATA" -c fsync=off postgres >/dev/null
  touch "$PGDATA/datakits-initialised"
  echo "datakits-entrypoint: user $user, database $db"
fi
exec postgres -D "$PGDATA" "$@"
