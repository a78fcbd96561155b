#!/usr/bin/env bash
# Real-browser check of the interactive API docs (/docs).
#
# Builds the API, starts it with `api dev` on a free local port (it creates and
# migrates the database; PostgreSQL must answer at DATABASE_URL's server, default
# 127.0.0.1:5432), opens /docs in Debian's headless Chromium driven by playwright-core
# (which never downloads a browser), checks that every enabled module's tag and its
# operations are rendered and that the page loads nothing from another host, saves
# a screenshot, prints its path, and stops everything it started. Then it signs in to
# the jobs console (/admin/jobs) as an administrator it creates, checks that the jobs
# are listed and that a non-administrator gets 403 (scripts/console-check.mjs), and
# saves a screenshot next to the first (…-jobs.png).
#
# Environment:
#   DOCS_CHECK_DATABASE_URL  database to use (default: quarry_docs_check on the local server,
#                            dropped first so that every run starts from the committed migrations)
#   DOCS_SCREENSHOT          where to save the screenshot (default: tmp/docs-check.png)
#   CHROMIUM                 the browser (default: /usr/bin/chromium; installed with apt-get when missing)
#   ENABLED_MODULES          as for the server (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

screenshot=${DOCS_SCREENSHOT:-$root/tmp/docs-check.png}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
db=${DOCS_CHECK_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/quarry_docs_check?sslmode=disable}

if [ ! -x "$CHROMIUM" ]; then
  echo "docs-check: installing Debian's chromium"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

if [ -z "${DOCS_CHECK_DATABASE_URL:-}" ] && command -v psql >/dev/null; then
  # The default database belongs to this check alone: a migration applied by an earlier
  # run from another branch must not make this one fail.
  psql "${db%/*}/postgres?sslmode=disable" -qXc 'DROP DATABASE IF EXISTS quarry_docs_check WITH (FORCE)' >/dev/null
fi

echo "docs-check: installing playwright-core (scripts/package-lock.json)"
(cd scripts && npm ci --no-audit --no-fund --loglevel=error)

echo "docs-check: building the API"
mkdir -p "$root/tmp" "$(dirname "$screenshot")"
go build -o bin/api ./cmd/api

port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
log=$root/tmp/docs-check-server.log
echo "docs-check: starting the API on 127.0.0.1:$port (log: $log)"
HTTP_ADDR=127.0.0.1:$port DATABASE_URL=$db DOCS_ENABLED=true bin/api dev >"$log" 2>&1 &
server=$!
stop() {
  if kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
}
trap stop EXIT

status=0
SERVER_PID=$server node scripts/docs-check.mjs "http://127.0.0.1:$port" "$screenshot" || status=$?

# The jobs console: an administrator signs in in the browser and sees the jobs the
# server's workers ran (api dev works jobs: WORKERS_ENABLED defaults to true in dev).
if [ "$status" -eq 0 ]; then
  admin_email=docs-check-admin@example.com
  admin_password=$(node -e 'console.log(require("crypto").randomBytes(18).toString("base64url"))')
  echo "$admin_password" | DATABASE_URL=$db bin/api user create-admin --email "$admin_email" >/dev/null
  ADMIN_EMAIL=$admin_email ADMIN_PASSWORD=$admin_password \
    node scripts/console-check.mjs "http://127.0.0.1:$port" "${screenshot%.png}-jobs.png" || status=$?
fi
if [ "$status" -ne 0 ]; then
  echo "docs-check: failed; the server's log:" >&2
  tail -n 40 "$log" >&2 || true
fi
exit "$status"
