#!/bin/sh
# datakits-airflow init   once per stack start (the airflow-init service), then exits:
#   1. wait for PostgreSQL, create the databases pagila, warehouse, airflow and those of the project's
#      pipelines (DATAKITS_STACK_DATABASES: <name>_source <name>_warehouse ...) if missing
#   2. fill pagila once: the real dump when /pagila holds it (DATAKITS_PAGILA_DIR mounted there),
#      else `datakits generate pagila --scale 1`
#   3. airflow db migrate; the admin's password (AIRFLOW_ADMIN_PASSWORD) into the simple auth manager's file
# datakits-airflow ARGS...   airflow ARGS... (api-server, scheduler, dag-processor, ...)
set -eu
[ "${1:-}" = init ] || exec airflow "$@"

say() { echo "datakits-airflow init: $*"; }
: "${DATAKITS_PG_HOST:?}" "${DATAKITS_PG_USER:?}" "${PGPASSWORD:?}" "${AIRFLOW_ADMIN_PASSWORD:?}"
export PGHOST=$DATAKITS_PG_HOST PGUSER=$DATAKITS_PG_USER PGDATABASE=postgres
i=0
until pg_isready -q; do
  i=$((i + 1))
  [ $i -le 120 ] || { say "PostgreSQL at $PGHOST does not answer after 60 s"; exit 1; }
  sleep 0.5
done
for db in pagila warehouse airflow ${DATAKITS_STACK_DATABASES:-}; do
  if [ -z "$(psql -Atq -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
    psql -q -c "CREATE DATABASE \"$db\""
    say "created database $db"
  fi
done

# pagila: filled once; the database's comment says it is complete (a start killed half-way refills it)
filled=$(psql -Atq -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = 'pagila'")
if [ -z "$filled" ]; then
  psql -q -d postgres -c "DROP DATABASE pagila" -c "CREATE DATABASE pagila"
  if [ -f /pagila/pagila-schema.sql ] && [ -f /pagila/pagila-data.sql ]; then
    say "loading the Pagila dump from DATAKITS_PAGILA_DIR"
    psql -q -v ON_ERROR_STOP=1 -d pagila -f /pagila/pagila-schema.sql >/dev/null
    psql -q -v ON_ERROR_STOP=1 -d pagila -f /pagila/pagila-data.sql >/dev/null
    source=dump
  else
    say "no Pagila dump mounted (DATAKITS_PAGILA_DIR unset): generating Pagila at scale 1"
    datakits generate pagila --scale 1 --target "postgresql+psycopg2://$PGUSER:$PGPASSWORD@$PGHOST:5432/pagila" >/dev/null
    source=generated
  fi
  psql -q -c "COMMENT ON DATABASE pagila IS 'datakits: filled from the $source Pagila'"
  say "pagila filled ($source)"
fi

airflow db migrate >/dev/null
say "airflow db migrated"
printf '{"admin": "%s"}\n' "$AIRFLOW_ADMIN_PASSWORD" >"$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
say "admin user ready"
