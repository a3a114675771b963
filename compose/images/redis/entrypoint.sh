#!/bin/sh
# datakits-entrypoint redis-server [ARGS...]: Redis with the password REDIS_PASSWORD, on every interface of the
# container (compose publishes it on 127.0.0.1 only), no snapshots, no append-only file.
# The password goes into a config file only the server's user reads: never onto a command line.
# datakits-entrypoint OTHER...: runs OTHER (redis-cli, sh, ...).
set -eu
[ "${1:-}" = redis-server ] || exec "$@"
shift
if [ -z "${REDIS_PASSWORD:-}" ]; then
  echo "datakits-entrypoint: REDIS_PASSWORD is not set; the broker never runs without a password" >&2
  exit 1
fi
umask 077
conf=$(mktemp /tmp/redis.XXXXXX.conf)
cat >"$conf" <<CONF
bind 0.0.0.0
port 6379
protected-mode no
requirepass $REDIS_PASSWORD
save ""
appendonly no
dir /var/lib/redis
logfile ""
CONF
exec redis-server "$conf" "$@"
