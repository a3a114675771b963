#!/bin/sh
# First start: a socket-only server sets the root password, database and user from the environment
# (and runs /docker-entrypoint-initdb.d/*.sql, *.sh), then mariadbd serves on 0.0.0.0:3306. Like the
# official image, "ready for connections" is logged twice: by the setup server, then by the real one.
set -eu
case "${1:-}" in -*) set -- mariadbd "$@" ;; esac
case "${1:-}" in mariadbd | mysqld) shift ;; *) exec "$@" ;; esac

root_pw=${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}
allow_empty=${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-${MYSQL_ALLOW_EMPTY_PASSWORD:-}}
db=${MARIADB_DATABASE:-${MYSQL_DATABASE:-}}
user=${MARIADB_USER:-${MYSQL_USER:-}}
user_pw=${MARIADB_PASSWORD:-${MYSQL_PASSWORD:-}}
if [ -z "$root_pw" ] && [ -z "$allow_empty" ]; then
  echo "datakits-entrypoint: set MARIADB_ROOT_PASSWORD (or MYSQL_ROOT_PASSWORD, or MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1)" >&2
  exit 1
fi
str() { printf "'%s'" "$(printf '%s' "$1" | sed "s/\\\\/\\\\\\\\/g; s/'/''/g")"; }
# shellcheck disable=SC2016
ident() { printf '`%s`' "$(printf '%s' "$1" | sed 's/`/``/g')"; }

flags="--skip-name-resolve --skip-host-cache"
sock=/run/mysqld/mysqld.sock
if [ ! -e /var/lib/mysql/.datakits-initialised ]; then
  # shellcheck disable=SC2086
  mariadbd $flags --skip-networking --socket="$sock" "$@" &
  pid=$!
  i=0
  until mariadb-admin --socket="$sock" -uroot ping >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 300 ] || ! kill -0 $pid 2>/dev/null; then echo "datakits-entrypoint: setup server did not start" >&2; exit 1; fi
    sleep 0.1
  done
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    echo "DELETE FROM mysql.global_priv WHERE User='' OR (User='root' AND Host NOT IN ('localhost'));"
    echo "DELETE FROM mysql.proxies_priv WHERE Host NOT IN ('localhost');"
    echo "FLUSH PRIVILEGES;"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY $(str "$root_pw");"
    echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $(str "$root_pw");"
    if [ -n "$db" ]; then echo "CREATE DATABASE IF NOT EXISTS $(ident "$db");"; fi
    if [ -n "$user" ] && [ "$user" != root ]; then
      echo "CREATE USER $(str "$user")@'%' IDENTIFIED BY $(str "$user_pw");"
      if [ -n "$db" ]; then echo "GRANT ALL ON $(ident "$db").* TO $(str "$user")@'%';"; fi
    fi
  } | mariadb --socket="$sock" -uroot
  for f in /docker-entrypoint-initdb.d/*; do
    # shellcheck disable=SC1090
    case "$f" in
      *.sql) echo "datakits-entrypoint: running $f"; MYSQL_PWD=$root_pw mariadb --socket="$sock" -uroot ${db:+"$db"} <"$f" ;;
      *.sh) echo "datakits-entrypoint: running $f"; . "$f" ;;
    esac
  done
  kill -TERM $pid # a clean shutdown; mariadb-admin shutdown would poll for the pid file once a second
  wait $pid || true
  touch /var/lib/mysql/.datakits-initialised
  echo "datakits-entrypoint: initialised (database ${db:-none}, user ${user:-root})"
fi
# shellcheck disable=SC2086
exec mariadbd $flags --bind-address=0.0.0.0 --port=3306 --socket="$sock" "$@"
