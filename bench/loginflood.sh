#!/usr/bin/env bash
# Login flood: how GET latency behaves while sign-ins saturate password hashing.
#
# Measures GET /api/v1/posts/{id} alone, then again while a second load generator
# floods POST /api/v1/auth/login, in two set-ups:
#   throttled  the default per-account and per-address login limits (one attacker);
#   unthrottled login limits off, as when a flood comes from many addresses, so every
#              login reaches the argon2id hasher (m=19456 KiB, t=2, p=1, one slot per CPU).
# Needs Go and a running PostgreSQL (DATABASE_SERVER, default postgres://postgres@127.0.0.1:5432).
# Only loopback traffic; every run is bounded in time. Settings: DURATION (s, default 10),
# GET_C (default 16), LOGIN_C (default 32).
set -euo pipefail
cd "$(dirname "$0")/.."

SERVER=${DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432}
DB=quarry_flood
DURATION=${DURATION:-10}
GET_C=${GET_C:-16}
LOGIN_C=${LOGIN_C:-32}
WORK=$(mktemp -d)
API_PID=

cleanup() {
	[[ -n $API_PID ]] && kill "$API_PID" 2>/dev/null && wait "$API_PID" 2>/dev/null
	psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "failed at line $LINENO" >&2' ERR

command -v psql >/dev/null || { echo "psql is needed (apt-get install postgresql-client)" >&2; exit 1; }
echo "building bin/api and bench/load"
go build -o bin/api ./cmd/api
go build -o "$WORK/load" ./bench/load

URL="$SERVER/$DB?sslmode=disable"
psql "$SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
DATABASE_URL=$URL bin/api migrate apply >/dev/null
psql "$URL" -qc "INSERT INTO users (email, display_name, password_hash) VALUES ('seed@example.com', 'seed', 'x');
	INSERT INTO posts (author_id, title, body, status)
	SELECT 1, 'Post ' || g, repeat('body ', 40), 'published' FROM generate_series(1, 10000) g;" >/dev/null

port() { # a free port on loopback
	local p
	while :; do
		p=$((20000 + RANDOM % 20000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

start_api() { # per-account and per-address login limits
	local p
	p=$(port)
	DATABASE_URL=$URL HTTP_ADDR=127.0.0.1:$p LOG_LEVEL=error RATE_LIMIT_DEFAULT=1000000/1s \
		AUTH_LOGIN_PER_ACCOUNT=$1 AUTH_LOGIN_PER_ADDRESS=$2 bin/api serve >"$WORK/api.log" 2>&1 &
	API_PID=$!
	BASE=http://127.0.0.1:$p
	for _ in $(seq 100); do curl -fs "$BASE/readyz" >/dev/null && return; sleep 0.1; done
	echo "the API did not start:" >&2; cat "$WORK/api.log" >&2; exit 1
}

stop_api() { kill "$API_PID"; wait "$API_PID" 2>/dev/null || true; API_PID=; }

field() { sed -E "s/.*\"$2\":(\"?)([^,\"}]*).*/\2/" <<<"$1"; }
statuses() { sed -E 's/.*"statuses":\{([^}]*)\}.*/\1/' <<<"$1"; }

get_load() { "$WORK/load" -url "$BASE/api/v1/posts/{id}" -ids 10000 -c "$GET_C" -d "${DURATION}s" -warmup 1s; }

scenario() { # name, per-account limit, per-address limit
	start_api "$2" "$3"
	# The account survives from one set-up to the next (409 the second time).
	curl -s -XPOST "$BASE/api/v1/auth/register" \
		-d '{"email":"flood@example.com","password":"correct horse battery staple","display_name":"Flood"}' >/dev/null
	local alone flood login
	alone=$(get_load)
	"$WORK/load" -method POST -url "$BASE/api/v1/auth/login" -body \
		'{"email":"flood@example.com","password":"correct horse battery staple"}' \
		-c "$LOGIN_C" -d "$((DURATION + 2))s" -warmup 1s -timeout 10s >"$WORK/login.json" &
	local login_pid=$!
	sleep 1.5
	flood=$(get_load)
	wait "$login_pid"
	login=$(cat "$WORK/login.json")
	stop_api
	printf '%-12s GET alone        %8s req/s  p50 %7s ms  p99 %7s ms\n' "$1" \
		"$(field "$alone" rps)" "$(field "$alone" p50_ms)" "$(field "$alone" p99_ms)"
	printf '%-12s GET during flood %8s req/s  p50 %7s ms  p99 %7s ms\n' "" \
		"$(field "$flood" rps)" "$(field "$flood" p50_ms)" "$(field "$flood" p99_ms)"
	printf '%-12s logins           %8s req/s  p50 %7s ms  p99 %7s ms  statuses {%s}\n' "" \
		"$(field "$login" rps)" "$(field "$login" p50_ms)" "$(field "$login" p99_ms)" "$(statuses "$login")"
}

echo "GET c=$GET_C, login flood c=$LOGIN_C, ${DURATION}s each, $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC')"
scenario throttled 5/1m 20/1m
scenario unthrottled off off
