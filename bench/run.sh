#!/usr/bin/env bash
# bench/run.sh: measure GET /api/v1/posts/{id} of the full API side by side with a bare
# gin + pgxpool server running the same SELECT, and with PostgreSQL's own ceiling for
# that SELECT (pgbench), all in one run on one machine. See bench/README.md.
#
# Settings (environment):
#   DURATION=10        seconds measured per run (pgbench runs too)
#   WARMUP=2           unrecorded seconds before each run
#   CONCURRENCY=32     connections of the load generator and pgbench clients
#   ROUNDS=2           runs per target (pgbench included), alternating targets; the
#                      median is reported
#   DATABASE_SERVER=postgres://postgres@127.0.0.1:5432/?sslmode=disable
#                      server holding the benchmark database (its path is ignored)
#   BENCH_DB=quarry_bench  database dropped, created, seeded and dropped again
#   USERS=1000 POSTS=100000  seed size; ids are drawn uniformly from 1..POSTS
#   DB_MAX_CONNS=16    pool size of both servers (the API's default)
#   RATE_LIMIT=1000000/1s  the API's RATE_LIMIT_DEFAULT: the limiter stays on, as in
#                      production, with a budget the load never reaches
#   RATELIMIT_VARIANTS=1  also measure the full stack with rate limiting off, and with
#                      its counts in Redis (a redis-server of the run's own; skipped
#                      with a message when redis-server is not installed)
#   ACCESS_LOG=file    where the API's access log goes: file (production-like) or null
#   NOLOG=1            also measure the API with LOG_LEVEL=error (no access log lines)
#   PROFILE=0          1: finally CPU-profile bare and full under the same load and print
#                      where each spends its CPU per request (go tool pprof)
#   KEEP_DB=0          1: keep the benchmark database afterwards
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
DURATION=${DURATION:-10}
DURATION=${DURATION%s}
WARMUP=${WARMUP:-2}
WARMUP=${WARMUP%s}
CONCURRENCY=${CONCURRENCY:-32}
ROUNDS=${ROUNDS:-2}
DATABASE_SERVER=${DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432/?sslmode=disable}
BENCH_DB=${BENCH_DB:-quarry_bench}
USERS=${USERS:-1000}
POSTS=${POSTS:-100000}
DB_MAX_CONNS=${DB_MAX_CONNS:-16}
DB_MIN_CONNS=2
RATE_LIMIT=${RATE_LIMIT:-1000000/1s}
RATELIMIT_VARIANTS=${RATELIMIT_VARIANTS:-1}
ACCESS_LOG=${ACCESS_LOG:-file}
NOLOG=${NOLOG:-1}
PROFILE=${PROFILE:-0}
KEEP_DB=${KEEP_DB:-0}

for v in DURATION WARMUP CONCURRENCY ROUNDS USERS POSTS DB_MAX_CONNS; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a whole number, got '${!v}'"
done
((DURATION >= 1 && CONCURRENCY >= 1 && ROUNDS >= 1 && USERS >= 1 && POSTS >= 1 && DB_MAX_CONNS >= DB_MIN_CONNS)) ||
	die "DURATION, CONCURRENCY, ROUNDS, USERS and POSTS must be at least 1, DB_MAX_CONNS at least $DB_MIN_CONNS"
[[ $BENCH_DB =~ ^[a-z_][a-z0-9_]*$ ]] || die "BENCH_DB must be a plain lower-case identifier, got '$BENCH_DB'"
case $ACCESS_LOG in file | null) ;; *) die "ACCESS_LOG must be file or null, got '$ACCESS_LOG'" ;; esac

# Tools. pgbench ships with PostgreSQL, not always on PATH.
command -v go >/dev/null || die "go is not on PATH"
command -v psql >/dev/null || die "psql is not on PATH: install the PostgreSQL client (Debian: apt-get install postgresql-client)"
PGBENCH=$(command -v pgbench || true)
if [[ -z $PGBENCH ]]; then
	for p in /usr/lib/postgresql/*/bin/pgbench /usr/pgsql-*/bin/pgbench /opt/homebrew/bin/pgbench /usr/local/bin/pgbench; do
		[[ -x $p ]] && PGBENCH=$p
	done
fi
if [[ -z $PGBENCH ]]; then
	echo "bench: pgbench not found (PATH, /usr/lib/postgresql/*/bin): the database-ceiling row is skipped." >&2
	echo "bench: install it to get it (Debian: apt-get install postgresql-contrib or postgresql-client-15)." >&2
fi

REDIS_SERVER=""
if [[ $RATELIMIT_VARIANTS == 1 ]]; then
	REDIS_SERVER=$(command -v redis-server || true)
	[[ -z $REDIS_SERVER && -x /usr/bin/redis-server ]] && REDIS_SERVER=/usr/bin/redis-server
	if [[ -z $REDIS_SERVER ]]; then
		echo "bench: redis-server not found (PATH, /usr/bin): the rate-limit-in-Redis row is skipped." >&2
		echo "bench: install it to get it (Debian: apt-get install redis-server)." >&2
	fi
fi

# Database URLs: DATABASE_SERVER with its path replaced.
server_base=$(sed -E 's#^([A-Za-z]+://[^/?]*).*#\1#' <<<"$DATABASE_SERVER")
query=""
[[ $DATABASE_SERVER == *\?* ]] && query="?${DATABASE_SERVER#*\?}"
ADMIN_URL="$server_base/postgres$query"
BENCH_URL="$server_base/$BENCH_DB$query"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/quarry-bench.XXXXXX")
RESULTS_DIR="$ROOT/bench/results"
PIDS=()
DB_CREATED=0
CHILD=""
cleanup() {
	local pid
	if [[ -n $CHILD ]]; then kill "$CHILD" 2>/dev/null || true; fi
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if ((DB_CREATED)) && [[ $KEEP_DB != 1 ]]; then
		psql "$ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" >/dev/null 2>&1 ||
			echo "bench: could not drop database $BENCH_DB" >&2
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# run_child OUT CMD...: run CMD with stdout to OUT and stderr to OUT.err, in the
# background and waited for, so that Ctrl-C or a TERM is handled at once, not after it.
run_child() {
	local out=$1 rc=0
	shift
	"$@" >"$out" 2>"$out.err" &
	CHILD=$!
	wait "$CHILD" || rc=$?
	CHILD=""
	if ((rc != 0)); then cat "$out.err" >&2; fi
	return "$rc"
}

# 1. Build.
log "building bin/api, bench/load, bench/bare"
cd "$ROOT"
mkdir -p bin
go build -o bin/api ./cmd/api
go build -o "$WORK/load" ./bench/load
go build -o "$WORK/bare" ./bench/bare
if [[ $PROFILE == 1 ]]; then
	go build -o "$WORK/apiprof" ./bench/apiprof
fi
LOAD="$WORK/load"

# The CPU time of a process in clock ticks, from /proc (Linux); empty elsewhere.
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_ticks() { [[ -r /proc/$1/stat ]] && awk '{print $14 + $15}' "/proc/$1/stat" || true; }
# The busy and total ticks of the whole machine, from /proc/stat (Linux).
machine_ticks() { [[ -r /proc/stat ]] && awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat || true; }

# A benchmark on a busy machine measures the other work as much as the code.
if [[ -r /proc/stat ]]; then
	read -r b0 t0 < <(machine_ticks)
	sleep 1
	read -r b1 t1 < <(machine_ticks)
	busy=$(((b1 - b0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1)))
	if ((busy > 15)); then
		echo "bench: warning: the machine was $busy% busy before the run: other work competes for the CPUs and the numbers will be noisy." >&2
	fi
fi

# 2. A fresh, migrated, seeded database.
log "creating database $BENCH_DB on $server_base (users: $USERS, posts: $POSTS)"
psql "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "SET client_min_messages TO warning" -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" -c "CREATE DATABASE $BENCH_DB" >/dev/null ||
	die "cannot create $BENCH_DB on $server_base: is PostgreSQL running and DATABASE_SERVER right?"
DB_CREATED=1
# Connections: the server under load holds up to DB_MAX_CONNS, idle ones DB_MIN_CONNS
# each, and pgbench CONCURRENCY.
free_conns=$(psql "$ADMIN_URL" -AtqX -c "SELECT current_setting('max_connections')::int - count(*) FROM pg_stat_activity" 2>/dev/null || echo "")
if [[ -n $free_conns ]] && ((free_conns < CONCURRENCY + DB_MAX_CONNS + 12)); then
	echo "bench: warning: PostgreSQL has only $free_conns free connections (max_connections); this run needs about $((CONCURRENCY + DB_MAX_CONNS + 12)):" >&2
	echo "bench: another benchmark or test suite may be using the server, and pgbench or the servers may fail to connect." >&2
fi
(cd "$WORK" && DATABASE_URL="$BENCH_URL" "$ROOT/bin/api" migrate apply --dir "$ROOT/migrations" --schema "$ROOT/schema") >"$WORK/migrate.log" 2>&1 ||
	{
		cat "$WORK/migrate.log" >&2
		die "migrate apply failed"
	}
cat >"$WORK/seed.sql" <<'SQL'
INSERT INTO users (email, display_name, password_hash, role)
SELECT 'user' || g || '@example.com', 'User ' || g, 'argon2id$' || md5(g::text),
       CASE WHEN g % 100 = 0 THEN 'admin' ELSE 'user' END
FROM generate_series(1, :users) AS g;

INSERT INTO posts (author_id, title, body, status, created_at, updated_at)
SELECT 1 + g % :users,
       'Post number ' || g,
       repeat('Lorem ipsum dolor sit amet, consectetur adipiscing elit. ', 4 + g % 12),
       'published', -- drafts are 404 to anonymous readers: every id must answer 200
       now() - make_interval(mins => g),
       now() - make_interval(mins => g / 2)
FROM generate_series(1, :posts) AS g;

VACUUM ANALYZE users;
VACUUM ANALYZE posts;
SQL
psql "$BENCH_URL" -qX -v ON_ERROR_STOP=1 -v users="$USERS" -v posts="$POSTS" -f "$WORK/seed.sql" >/dev/null

# 3. Servers: each on a free loopback port (free_port), all started once and kept up.

# The servers' pools close connections idle for 2 s (checked every second) down to
# their DB_MIN_CONNS: under load none is idle that long, and between its runs a server
# then holds 2 connections instead of DB_MAX_CONNS, which leaves PostgreSQL's
# max_connections room for the others and pgbench.
SERVER_URL="$BENCH_URL$([[ $BENCH_URL == *\?* ]] && echo '&' || echo '?')pool_max_conn_idle_time=2s&pool_health_check_period=1s"

# start_api TARGET LOG_LEVEL STDOUT [BINARY [ENV...]]: the API on a free port; ENV
# (KEY=VALUE) overrides the settings above.
start_api() {
	local t=$1 level=$2 out=$3 bin=${4:-$ROOT/bin/api}
	shift 4 2>/dev/null || shift $#
	free_port
	(cd "$WORK" && exec env APP_ENV=dev DATABASE_URL="$SERVER_URL" DB_HEALTH_CHECK_PERIOD=1s HTTP_ADDR="127.0.0.1:$P" \
		LOG_FORMAT=json LOG_LEVEL="$level" DB_MAX_CONNS="$DB_MAX_CONNS" DB_MIN_CONNS="$DB_MIN_CONNS" \
		RATE_LIMIT_DEFAULT="$RATE_LIMIT" REDIS_URL= "$@" \
		"$bin" serve >"$out" 2>"$WORK/$t.stderr") &
	PIDS+=($!)
	put PID "$t" $!
	put URL "$t" "http://127.0.0.1:$P/api/v1/posts/{id}"
}

# start_bare TARGET [ARGS...]: the bare server on a free port.
start_bare() {
	local t=$1
	shift
	free_port
	"$WORK/bare" -addr "127.0.0.1:$P" -max-conns "$DB_MAX_CONNS" -min-conns "$DB_MIN_CONNS" \
		-database-url "$SERVER_URL" "$@" 2>"$WORK/$t.stderr" &
	PIDS+=($!)
	put PID "$t" $!
	put URL "$t" "http://127.0.0.1:$P/posts/{id}"
}

# wait_up TARGET: wait until TARGET answers 2xx; keep its answer for id 42.
wait_up() {
	if ! "$LOAD" -url "$(get URL "$1")" -wait 20s -show -show-id 42 >"$WORK/$1.show" 2>&1; then
		cat "$WORK/$1.show" "$WORK/$1.stderr" >&2 2>/dev/null || true
		die "$1 did not come up"
	fi
}

if [[ $ACCESS_LOG == file ]]; then
	FULL_LOG="$WORK/access.log"
	LOG_WHERE="JSON access log appended to a file"
else
	FULL_LOG=/dev/null
	LOG_WHERE="JSON access log written to /dev/null"
fi
TARGETS=(bare full)
start_bare bare
put LABEL bare "bare (gin, no middleware, pgxpool)"
start_api full info "$FULL_LOG"
put LABEL full "full (access log: $ACCESS_LOG)"
if [[ $NOLOG == 1 ]]; then
	start_api nolog error /dev/null
	put LABEL nolog "full, LOG_LEVEL=error (no access log)"
	TARGETS+=(nolog)
fi
for t in "${TARGETS[@]}"; do wait_up "$t"; done
echo "Response of id 42, bare: $(tail -n 1 "$WORK/bare.show")"
echo "Response of id 42, full: $(tail -n 1 "$WORK/full.show")"

# 4. Load: ROUNDS rounds over the targets, the order reversed every other round. Each
# HTTP run also records the server's CPU time per request (Linux), which other work on
# the machine disturbs much less than throughput. pgbench runs the same SELECT,
# prepared, without HTTP: the database's own ceiling on this machine.
field() { sed -nE "s/.*\"$2\":(-?[0-9.eE+]+).*/\1/p" <<<"$1"; }

# CPU accounting of one HTTP run, Linux only: the server process, the PostgreSQL
# backends serving the benchmark database, the load generator (the shell's children, via
# `times`), and the rest of the machine's busy time (kernel threads, any other work
# running meanwhile), all per request served.
pg_pids() { psql "$BENCH_URL" -AtqX -c "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()" 2>/dev/null | tr '\n' ' '; }
# pg_snapshot: "pid ticks" of every backend of the benchmark database, one a line.
pg_snapshot() {
	local p
	for p in $(pg_pids); do
		echo "$p $(cpu_ticks "$p")"
	done
}
# pg_delta BEFORE AFTER: the backends' CPU ticks between two snapshots: backends in
# both count their difference, backends opened in between count whole, and backends
# closed in between (idle ones of other targets' pools) are left out.
pg_delta() { awk 'FILENAME == ARGV[1] {t0[$1] = $2; next} NF == 2 {d += $2 - ($1 in t0 ? t0[$1] : 0)} END {print d + 0}' "$1" "$2"; }
# children_seconds FILE: the CPU seconds of the shell's finished children, from the
# output of `times` (which must run in this shell, not in a $(…) subshell).
children_seconds() { awk 'NR == 2 {n = 0; for (i = 1; i <= 2; i++) {split($i, a, "m"); sub(/s$/, "", a[2]); n += a[1] * 60 + a[2]}; print n}' "$1"; }

run_http() {
	local t=$1 pid out c0 c1 m0 m1 extra="" rd0=0 rd1=0
	pid=$(get PID "$t")
	if [[ $t == rlredis ]]; then rd0=$(cpu_ticks "$REDIS_PID"); fi
	c0=$(cpu_ticks "$pid")
	if [[ -n $c0 ]]; then
		pg_snapshot >"$WORK/pg0"
		m0=$(machine_ticks)
		times >"$WORK/times0"
	fi
	run_child "$WORK/run.json" "$LOAD" -url "$(get URL "$t")" -ids "$POSTS" -c "$CONCURRENCY" -d "${DURATION}s" -warmup "${WARMUP}s" ||
		die "load generator failed against $t"
	out=$(cat "$WORK/run.json")
	if [[ -n $c0 ]]; then
		times >"$WORK/times1"
		m1=$(machine_ticks)
		c1=$(cpu_ticks "$pid")
		if [[ $t == rlredis ]]; then rd1=$(cpu_ticks "$REDIS_PID"); fi
		pg_snapshot >"$WORK/pg1"
		extra=$(awk -v n="$(field "$out" all_reqs)" -v tck="$CLK_TCK" -v srv=$((c1 - c0)) -v pg="$(pg_delta "$WORK/pg0" "$WORK/pg1")" -v rd=$((${rd1:-0} - ${rd0:-0})) \
			-v ldr="$(awk -v a="$(children_seconds "$WORK/times0")" -v b="$(children_seconds "$WORK/times1")" 'BEGIN {print b - a}')" -v m0="$m0" -v m1="$m1" 'BEGIN {
				split(m0, a, " "); split(m1, b, " "); busy = b[1] - a[1]; total = b[2] - a[2]
				if (n <= 0 || total <= 0) exit
				u = 1e6 / tck / n
				rest = busy - srv - pg - rd - ldr * tck
				printf ",\"server_cpu_us_per_req\":%.1f,\"pg_cpu_us_per_req\":%.1f,\"load_cpu_us_per_req\":%.1f", srv * u, pg * u, ldr * 1e6 / n
				if (rd > 0) printf ",\"redis_cpu_us_per_req\":%.1f", rd * u
				printf ",\"rest_cpu_us_per_req\":%.1f,\"machine_busy_pct\":%.0f", rest * u, 100 * busy / total
			}')
		out="${out%\}}$extra}"
	fi
	echo "$out" >>"$WORK/$t.jsonl"
	log "round $r/$ROUNDS $(printf '%-7s' "$t") $(field "$out" rps) req/s  p50 $(field "$out" p50_ms) ms  p99 $(field "$out" p99_ms) ms  errors $(field "$out" errors)  non2xx $(field "$out" non2xx)  CPU µs/req: server $(field "$out" server_cpu_us_per_req), postgres $(field "$out" pg_cpu_us_per_req), load $(field "$out" load_cpu_us_per_req), rest $(field "$out" rest_cpu_us_per_req); machine $(field "$out" machine_busy_pct)% busy"
}

run_pgbench() {
	local dir="$WORK/pgbench.$r" tps failed lat
	mkdir -p "$dir"
	run_child "$dir/out" "$PGBENCH" -n -f "$WORK/select.sql" -c "$CONCURRENCY" -j "$PGBENCH_THREADS" -T "$DURATION" \
		-M prepared --log --log-prefix="$dir/tx" "$BENCH_URL" || die "pgbench failed"
	tps=$(sed -nE 's/^tps = ([0-9.]+) \(without initial connection time\).*/\1/p' "$dir/out")
	failed=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$dir/out")
	# The per-transaction log has one line per transaction: client, transaction,
	# latency in µs, script, epoch seconds, µs. p50 and p99 are nearest-rank.
	lat=$(cat "$dir"/tx.* | awk '{print $3}' | sort -n |
		awk '{a[NR] = $1}
			END {i = int(NR * 0.50); if (i < NR * 0.50) i++; j = int(NR * 0.99); if (j < NR * 0.99) j++;
				printf "\"p50_ms\":%.3f,\"p99_ms\":%.3f", a[i] / 1000, a[j] / 1000}')
	echo "{\"rps\":$tps,$lat,\"errors\":${failed:-0},\"non2xx\":0}" >>"$WORK/pgbench.jsonl"
	sed "s/^/round $r: /" "$dir/out" >>"$WORK/pgbench.out"
	rm -f "$dir"/tx.*
	log "round $r/$ROUNDS pgbench $tps tps  p50 $(field "$lat" p50_ms) ms  p99 $(field "$lat" p99_ms) ms"
}

ALL=("${TARGETS[@]}")
if [[ -n $PGBENCH ]]; then
	printf '\\set id random(1, %d)\nSELECT id, author_id, title, body, status, created_at, updated_at FROM posts WHERE id = :id;\n' "$POSTS" >"$WORK/select.sql"
	PGBENCH_THREADS=$((CONCURRENCY < 2 ? 1 : 2))
	ALL+=(pgbench)
fi
for ((r = 1; r <= ROUNDS; r++)); do
	order=("${ALL[@]}")
	if ((r % 2 == 0)); then
		order=()
		for ((i = ${#ALL[@]} - 1; i >= 0; i--)); do order+=("${ALL[$i]}"); done
	fi
	for t in "${order[@]}"; do
		if [[ $t == pgbench ]]; then run_pgbench; else run_http "$t"; fi
	done
done

# 5. Rate limiting, in a second phase (a database allows only so many connections:
# pgbench's and five pools would be too many for PostgreSQL's default of 100): the full
# stack as above (the same server: limiter on, counts in memory) against the same
# with RATE_LIMIT_DEFAULT=off and with its counts in a redis-server of the run's own,
# ROUNDS rounds alternating as above. Bare and LOG_LEVEL=error are done: stopped.
RL=()
if [[ $RATELIMIT_VARIANTS == 1 ]]; then
	for t in bare nolog; do
		pid=$(get PID "$t")
		[[ -n $pid ]] || continue
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rl_log() { if [[ $ACCESS_LOG == file ]]; then echo "$WORK/access-$1.log"; else echo /dev/null; fi; }
	RL=(rlmem rloff)
	put URL rlmem "$(get URL full)"
	put PID rlmem "$(get PID full)"
	put LABEL rlmem "full, rate limit in memory (= full)"
	start_api rloff info "$(rl_log rloff)" "$ROOT/bin/api" RATE_LIMIT_DEFAULT=off
	put LABEL rloff "full, rate limit off"
	if [[ -n $REDIS_SERVER ]]; then
		free_port
		REDIS_PORT=$P
		"$REDIS_SERVER" --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
			--daemonize no --loglevel warning >"$WORK/redis.log" 2>&1 &
		PIDS+=($!)
		REDIS_PID=$!
		for _ in $(seq 1 100); do
			(exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null && break
			sleep 0.1
		done
		(exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null || {
			cat "$WORK/redis.log" >&2
			die "redis-server did not come up"
		}
		start_api rlredis info "$(rl_log rlredis)" "$ROOT/bin/api" REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
			RATE_LIMIT_KEY_PREFIX=quarry:bench:
		put LABEL rlredis "full, rate limit in Redis"
		RL+=(rlredis)
	fi
	for t in "${RL[@]:1}"; do wait_up "$t"; done
	for ((r = 1; r <= ROUNDS; r++)); do
		order=("${RL[@]}")
		if ((r % 2 == 0)); then
			order=()
			for ((i = ${#RL[@]} - 1; i >= 0; i--)); do order+=("${RL[$i]}"); done
		fi
		for t in "${order[@]}"; do run_http "$t"; done
	done
	ALL+=("${RL[@]}")
	TARGETS+=("${RL[@]}")
fi

# 6. The tables: medians over the rounds.
median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) print ""; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
col() { while read -r line; do field "$line" "$2"; done <"$WORK/$1.jsonl" | median; }
sumcol() { while read -r line; do field "$line" "$2"; done <"$WORK/$1.jsonl" | awk '{s += $1} END {print s + 0}'; }
for t in "${ALL[@]}"; do
	put RPS "$t" "$(col "$t" rps)"
	put P50 "$t" "$(col "$t" p50_ms)"
	put P99 "$t" "$(col "$t" p99_ms)"
	put CPU "$t" "$(col "$t" server_cpu_us_per_req)"
	put PGCPU "$t" "$(col "$t" pg_cpu_us_per_req)"
	put LOADCPU "$t" "$(col "$t" load_cpu_us_per_req)"
	put RESTCPU "$t" "$(col "$t" rest_cpu_us_per_req)"
	put BUSY "$t" "$(col "$t" machine_busy_pct)"
	put REDISCPU "$t" "$(col "$t" redis_cpu_us_per_req)"
	put ERR "$t" "$(sumcol "$t" errors)"
	put NON "$t" "$(sumcol "$t" non2xx)"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b}'; }
cpu_model=$(sed -nE 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)

{
	echo
	echo "Quarry bench, $(date -u +'%Y-%m-%d %H:%M UTC'), $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') CPUs${cpu_model:+ ($cpu_model)},"
	echo "$(go env GOVERSION), PostgreSQL $(psql "$ADMIN_URL" -AtqX -c 'SHOW server_version' | cut -d' ' -f1)."
	echo "GET post by random id in 1..$POSTS; c=$CONCURRENCY, ${DURATION}s per run after ${WARMUP}s warm-up, $ROUNDS round(s) per target"
	echo "(medians), pool $DB_MAX_CONNS on both servers; full stack: $LOG_WHERE,"
	echo "rate limit $RATE_LIMIT per client (in memory)."
	echo
	printf '%-42s %9s %8s %8s %10s %7s %7s\n' target "req/s" "p50 ms" "p99 ms" "CPU µs/req" errors non2xx
	for t in full nolog bare; do
		[[ -n $(get RPS "$t") ]] || continue
		cpu=$(get CPU "$t")
		[[ -n $cpu ]] && cpu=$(printf '%.1f' "$cpu")
		printf '%-42s %9.0f %8.2f %8.2f %10s %7d %7d\n' "$(get LABEL "$t")" "$(get RPS "$t")" "$(get P50 "$t")" "$(get P99 "$t")" \
			"${cpu:--}" "$(get ERR "$t")" "$(get NON "$t")"
	done
	if [[ -n $(get RPS pgbench) ]]; then
		printf '%-42s %9.0f %8.2f %8.2f %10s %7d %7s\n' "pgbench (same SELECT, -M prepared, c=$CONCURRENCY)" \
			"$(get RPS pgbench)" "$(get P50 pgbench)" "$(get P99 pgbench)" - "$(get ERR pgbench)" -
	else
		printf '%-42s %9s\n' "pgbench (same SELECT)" skipped
	fi
	echo "(CPU µs/req: CPU time of the server process alone, user + system, over warm-up and run.)"
	if [[ -n $(get PGCPU full) ]]; then
		echo
		printf '%-42s %8s %9s %9s %8s %8s %9s\n' "CPU per request, µs" server postgres "load gen" rest total "busy"
		for t in full nolog bare; do
			[[ -n $(get PGCPU "$t") ]] || continue
			printf '%-42s %8.1f %9.1f %9.1f %8.1f %8.1f %8.0f%%\n' "$(get LABEL "$t")" "$(get CPU "$t")" "$(get PGCPU "$t")" \
				"$(get LOADCPU "$t")" "$(get RESTCPU "$t")" \
				"$(awk -v a="$(get CPU "$t")" -v b="$(get PGCPU "$t")" -v c="$(get LOADCPU "$t")" -v d="$(get RESTCPU "$t")" 'BEGIN {print a + b + c + d}')" \
				"$(get BUSY "$t")"
		done
		echo "(server, postgres: the server process and the database backends serving it; load gen: bench/load;"
		echo " rest: the machine's busy time not in those: kernel threads (e.g. writing back the access log) and"
		echo " any other work running meanwhile, a few µs on an idle machine; busy: all CPUs of the machine."
		echo " While busy is near 100%, req/s is about the number of CPUs / total.)"
	fi
	echo
	printf '%-22s %8s %12s %12s\n' ratio "req/s" "p99" "CPU/req"
	printf '%-22s %8s %11sx %11sx\n' "full / bare" "$(ratio "$(get RPS full)" "$(get RPS bare)")" \
		"$(ratio "$(get P99 full)" "$(get P99 bare)")" "$(ratio "$(get CPU full)" "$(get CPU bare)")"
	if [[ -n $(get RPS nolog) ]]; then
		printf '%-22s %8s %11sx %11sx\n' "full no-log / bare" "$(ratio "$(get RPS nolog)" "$(get RPS bare)")" \
			"$(ratio "$(get P99 nolog)" "$(get P99 bare)")" "$(ratio "$(get CPU nolog)" "$(get CPU bare)")"
	fi
	printf '%-22s %8s %11sx\n' "full / pgbench" "$(ratio "$(get RPS full)" "$(get RPS pgbench)")" "$(ratio "$(get P99 full)" "$(get P99 pgbench)")"
	printf '%-22s %8s %11sx\n' "bare / pgbench" "$(ratio "$(get RPS bare)" "$(get RPS pgbench)")" "$(ratio "$(get P99 bare)" "$(get P99 pgbench)")"
	if ((${#RL[@]} > 0)); then
		echo
		echo "Rate limiting (second phase: these targets alternating, $ROUNDS round(s), medians; budget $RATE_LIMIT):"
		echo
		printf '%-42s %9s %8s %8s %10s %9s %7s %7s\n' target "req/s" "p50 ms" "p99 ms" "CPU µs/req" "Redis µs" errors non2xx
		for t in "${RL[@]}"; do
			cpu=$(get CPU "$t")
			rcpu=$(get REDISCPU "$t")
			printf '%-42s %9.0f %8.2f %8.2f %10s %9s %7d %7d\n' "$(get LABEL "$t")" "$(get RPS "$t")" "$(get P50 "$t")" "$(get P99 "$t")" \
				"${cpu:--}" "${rcpu:--}" "$(get ERR "$t")" "$(get NON "$t")"
		done
		echo "(CPU µs/req: the server process alone; Redis µs: CPU of redis-server per request.)"
		echo
		printf '%-22s %8s %12s %12s\n' ratio "req/s" "p99" "CPU/req"
		printf '%-22s %8s %11sx %11sx\n' "rate limit on / off" "$(ratio "$(get RPS rlmem)" "$(get RPS rloff)")" \
			"$(ratio "$(get P99 rlmem)" "$(get P99 rloff)")" "$(ratio "$(get CPU rlmem)" "$(get CPU rloff)")"
		if [[ -n $(get RPS rlredis) ]]; then
			printf '%-22s %8s %11sx %11sx\n' "Redis / off" "$(ratio "$(get RPS rlredis)" "$(get RPS rloff)")" \
				"$(ratio "$(get P99 rlredis)" "$(get P99 rloff)")" "$(ratio "$(get CPU rlredis)" "$(get CPU rloff)")"
			printf '%-22s %8s %11sx %11sx\n' "Redis / in memory" "$(ratio "$(get RPS rlredis)" "$(get RPS rlmem)")" \
				"$(ratio "$(get P99 rlredis)" "$(get P99 rlmem)")" "$(ratio "$(get CPU rlredis)" "$(get CPU rlmem)")"
		else
			echo "(no Redis row: redis-server is not installed)"
		fi
	fi
	for t in "${TARGETS[@]}"; do
		if (($(get ERR "$t") + $(get NON "$t") > 0)); then
			echo
			echo "WARNING: $t answered $(get NON "$t") non-2xx and had $(get ERR "$t") failed requests: its numbers measure something else"
			echo "than the success path (a 404, 429 or 5xx costs differently); see bench/results for the raw runs."
		fi
	done
	if [[ $ACCESS_LOG == file && -f $FULL_LOG ]]; then
		echo
		echo "Access log of the full stack: $(wc -l <"$FULL_LOG" | tr -d ' ') lines, $(du -h "$FULL_LOG" | cut -f1) (temporary file, deleted)."
	fi
} | tee "$WORK/table.txt"

mkdir -p "$RESULTS_DIR"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
{
	cat "$WORK/table.txt"
	echo
	echo "Raw runs:"
	for t in "${ALL[@]}"; do sed "s/^/$t /" "$WORK/$t.jsonl"; done
	if [[ -f $WORK/pgbench.out ]]; then sed 's/^/pgbench /' "$WORK/pgbench.out"; fi
} >"$RESULTS_DIR/$stamp.txt"
echo "(saved to bench/results/$stamp.txt)"

# 7. Optional: where the CPU goes. Bare and full are CPU-profiled in turn under the
# same load, and pprof's cumulative times are divided by the requests served while
# profiling. For the middleware chain, a layer's own time is its time minus the next one's.
if [[ $PROFILE == 1 ]]; then
	free_port
	PPROF_PORT=$P
	start_bare bare_prof -pprof "127.0.0.1:$PPROF_PORT"
	put PPROF bare_prof "$PPROF_PORT"
	free_port
	put PPROF full_prof "$P"
	start_api full_prof info "$WORK/full_prof.log" "$WORK/apiprof" "PPROF_ADDR=127.0.0.1:$(get PPROF full_prof)"
	mkdir -p "$RESULTS_DIR"
	for t in bare_prof full_prof; do
		wait_up "$t"
		"$LOAD" -url "$(get URL "$t")" -ids "$POSTS" -c "$CONCURRENCY" -d "$((DURATION + 2))s" -warmup 1s >"$WORK/$t.json" &
		loadpid=$!
		PIDS+=("$loadpid")
		sleep 1
		go tool pprof -proto -output "$RESULTS_DIR/cpu-${t%_prof}.pprof" \
			"http://127.0.0.1:$(get PPROF "$t")/debug/pprof/profile?seconds=$DURATION" >/dev/null 2>&1 ||
			die "could not fetch the CPU profile of $t"
		wait "$loadpid"
	done
	{
		echo
		echo "CPU per request while profiled (pprof cumulative time / requests served), µs:"
		for t in bare_prof full_prof; do
			reqs=$(awk -v r="$(field "$(cat "$WORK/$t.json")" rps)" -v d="$DURATION" 'BEGIN {printf "%d", r * d}')
			echo "  ${t%_prof} ($(field "$(cat "$WORK/$t.json")" rps) req/s while profiled):"
			go tool pprof -top -cum -nodecount=3000 -unit=ms "$RESULTS_DIR/cpu-${t%_prof}.pprof" 2>/dev/null |
				awk -v n="$reqs" '
					function us(v) { sub(/ms$/, "", v); return v * 1000 / n }
					NR <= 6 { next }
					{ name = $6; for (i = 7; i <= NF; i++) name = name " " $i; c = us($4) }
					# Closures of the project: middleware and route dependencies run nested (each
					# calls the next through c.Next), so those whose time includes the time of the
					# handler are the layers around it.
					name ~ /^github\.com\/quarrydev\/quarry\/internal\/.*\.func[0-9]+$/ {
						label = name; sub(/^github\.com\/quarrydev\/quarry\/internal\//, "", label); gsub(/\[[^]]*\]/, "[...]", label)
						chain[++k] = label; ccum[k] = c
						if (name ~ /\(\*Router\)\.handler\.func1$/) handler = c
					}
					name ~ /^net\/http\.\(\*conn\)\.serve$/ { want["net/http conn.serve (everything per request)"] = c }
					name ~ /^github.com\/jackc\/pgx\/v5\.\(\*Conn\)\.Query$/ { want["pgx Conn.Query (the SELECT round trip)"] = c }
					name ~ /^github.com\/jackc\/pgx\/v5\/pgxpool\.\(\*Pool\)\.Acquire$/ { want["pgxpool Acquire"] = c }
					name ~ /^context\.WithTimeoutCause$/ { want["context.WithTimeoutCause (pool acquire timeout)"] = c }
					name ~ /^context\.WithTimeout$/ { want["context.WithTimeout (request deadline)"] = c }
					name ~ /^log\/slog\.\(\*Logger\)\.LogAttrs$/ { want["slog LogAttrs (access log line)"] = c }
					name ~ /^encoding\/json\.Marshal$/ { want["encoding/json Marshal (response body)"] = c }
					name ~ /^net\/http\.\(\*response\)\.finishRequest$/ { want["net/http finishRequest (write response)"] = c }
					name ~ /^net\/http\.\(\*conn\)\.readRequest$/ { want["net/http readRequest (parse request)"] = c }
					name ~ /^runtime\.gcBgMarkWorker$/ { want["runtime gcBgMarkWorker (GC)"] = c }
					name ~ /^runtime\.mallocgc$/ { want["runtime mallocgc (allocation)"] = c }
					name ~ /^internal\/runtime\/syscall\/linux\.Syscall6$/ { want["syscalls"] = c }
					END {
						for (w in want) printf "    %8.2f  %s\n", want[w], w | "sort -k2"
						close("sort -k2")
						if (k == 0) exit
						print "    middleware chain (cumulative, then own time = minus the next layer):"
						for (i = 1; i <= k && ccum[i] >= handler; i++) {
							if (ccum[i] > handler) printf "    %8.2f  %-64s own %6.2f\n", ccum[i], chain[i], ccum[i] - ccum[i + 1]
							else printf "    %8.2f  %s\n", ccum[i], chain[i]
						}
					}'
		done
		echo "  (profiles saved in bench/results/cpu-bare.pprof and cpu-full.pprof; go tool pprof -http=127.0.0.1:0 FILE)"
	} | tee -a "$RESULTS_DIR/$stamp.txt"
fi
