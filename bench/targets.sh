#!/usr/bin/env bash
# bench/targets.sh: every performance target of the API measured in one run, each
# scenario side by side with its bare baseline (bench/bare), and one table of ratios
# against the targets. See bench/README.md ("Targets").
#
# Scenarios (targets alternate within a round, the order reverses every other round,
# the tables show medians):
#   get       GET /api/v1/posts/{id}, anonymous, random id       vs bare GET /posts/{id}
#   get_auth  the same with a bearer token (a users lookup)       vs bare GET /posts/{id}
#   list      GET /api/v1/posts?limit=20 (first keyset page)      vs bare GET /posts?limit=20
#   create    POST /api/v1/posts, signed in, audited              vs bare POST /posts
#             (bare: the post and its audit row in one transaction; both write a draft,
#             and create_pub beside them publishes: its job is enqueued and worked too)
#   rss       resident memory of the API under the load above (the largest VmRSS at
#             the end of a run)
#   flood     GET p99 of an API instance alone, and while a second load generator
#             floods POST /api/v1/auth/login with its login limits off (a flood from
#             many addresses reaches the password hasher on every attempt)
#
# Settings (environment):
#   DURATION=8 WARMUP=2 ROUNDS=3 CONCURRENCY=32   per HTTP run
#   FLOOD_GET_C=16 FLOOD_LOGIN_C=32               the flood scenario's connections
#   SCENARIOS="get list create flood"             the scenarios to run (rss comes with get,
#                                                 list or create; get includes get_auth)
#   FLOOD_BASELINE=                               another API binary (e.g. built from main)
#                                                 whose flood scenario alternates with this
#                                                 tree's, each with its own rows and ratio
#   DATABASE_SERVER=postgres://postgres@127.0.0.1:5432/?sslmode=disable
#   BENCH_DB=quarry_targets USERS=1000 POSTS=100000 DB_MAX_CONNS=16
#   PROFILE=0   1: then CPU-profile bare and the API per scenario (bench/results/cpu-*.pprof)
#   KEEP_DB=0   1: keep the benchmark database
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
DURATION=${DURATION:-8}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
CONCURRENCY=${CONCURRENCY:-32}
FLOOD_GET_C=${FLOOD_GET_C:-16}
FLOOD_LOGIN_C=${FLOOD_LOGIN_C:-32}
DATABASE_SERVER=${DATABASE_SERVER:-postgres://postgres@127.0.0.1:5432/?sslmode=disable}
BENCH_DB=${BENCH_DB:-quarry_targets}
USERS=${USERS:-1000}
POSTS=${POSTS:-100000}
DB_MAX_CONNS=${DB_MAX_CONNS:-16}
DB_MIN_CONNS=2
PROFILE=${PROFILE:-0}
KEEP_DB=${KEEP_DB:-0}
SCENARIOS=${SCENARIOS:-get list create flood}
FLOOD_BASELINE=${FLOOD_BASELINE:-}
RATE_LIMIT=1000000/1s

for v in DURATION WARMUP ROUNDS CONCURRENCY FLOOD_GET_C FLOOD_LOGIN_C USERS POSTS DB_MAX_CONNS; do
	[[ ${!v} =~ ^[0-9]+$ ]] && ((${!v} >= 1)) || die "$v must be a whole number of at least 1, got '${!v}'"
done
((DB_MAX_CONNS >= DB_MIN_CONNS)) || die "DB_MAX_CONNS must be at least $DB_MIN_CONNS"
read -r -a SCENARIO_LIST <<<"$SCENARIOS"
((${#SCENARIO_LIST[@]} > 0)) || die "SCENARIOS names no scenario"
for s in "${SCENARIO_LIST[@]}"; do
	[[ $s =~ ^(get|list|create|flood)$ ]] || die "SCENARIOS: unknown scenario '$s' (get, list, create, flood)"
done
has() { [[ " ${SCENARIO_LIST[*]} " == *" $1 "* ]]; }
if [[ -n $FLOOD_BASELINE ]]; then
	[[ -x $FLOOD_BASELINE ]] || die "FLOOD_BASELINE is not an executable: '$FLOOD_BASELINE'"
	FLOOD_BASELINE=$(cd "$(dirname "$FLOOD_BASELINE")" && pwd)/$(basename "$FLOOD_BASELINE")
	has flood || die "FLOOD_BASELINE needs the flood scenario in SCENARIOS"
fi
[[ $BENCH_DB =~ ^[a-z_][a-z0-9_]*$ ]] || die "BENCH_DB must be a plain lower-case identifier, got '$BENCH_DB'"
command -v go >/dev/null || die "go is not on PATH"
command -v psql >/dev/null || die "psql is not on PATH (Debian: apt-get install postgresql-client)"
command -v curl >/dev/null || die "curl is not on PATH"
[[ -r /proc/self/stat ]] || die "the CPU and memory accounting reads /proc (Linux only)"

server_base=$(sed -E 's#^([A-Za-z]+://[^/?]*).*#\1#' <<<"$DATABASE_SERVER")
query=""
[[ $DATABASE_SERVER == *\?* ]] && query="?${DATABASE_SERVER#*\?}"
ADMIN_URL="$server_base/postgres$query"
BENCH_URL="$server_base/$BENCH_DB$query"
SERVER_URL="$BENCH_URL$([[ $BENCH_URL == *\?* ]] && echo '&' || echo '?')pool_max_conn_idle_time=2s&pool_health_check_period=1s"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/quarry-targets.XXXXXX")
RESULTS_DIR="$ROOT/bench/results"
PIDS=()
DB_CREATED=0
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	if ((DB_CREATED)) && [[ $KEEP_DB != 1 ]]; then
		psql "$ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" >/dev/null 2>&1 ||
			echo "bench: could not drop database $BENCH_DB" >&2
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# 1. Build.
log "building bin/api, bench/load, bench/bare"
cd "$ROOT"
mkdir -p bin "$RESULTS_DIR"
go build -o bin/api ./cmd/api
go build -o "$WORK/load" ./bench/load
go build -o "$WORK/bare" ./bench/bare
[[ $PROFILE == 1 ]] && go build -o "$WORK/apiprof" ./bench/apiprof
LOAD="$WORK/load"
# The linker leaves a new executable's page cache in large folios, which the kernel
# maps whole when any page of them is touched; an installed binary is read from disk
# page by page. Drop the new executables from the page cache (written out first), so
# resident memory counts the pages the servers use, as it would in production.
for exe in bin/api "$WORK/bare"; do
	sync "$exe" && dd if="$exe" iflag=nocache count=0 status=none ||
		log "could not drop $exe from the page cache: its resident memory may count whole large folios"
done

CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# rss_mb PID: "VmRSS RssAnon" in MB: all resident pages, and those that are the
# process's own memory (heap, stacks) rather than its executable's mapped pages.
rss_mb() { awk '/^VmRSS:/ {r = $2} /^RssAnon:/ {a = $2} END {printf "%.1f %.1f\n", r / 1024, a / 1024}' "/proc/$1/status"; }

# 2. Database: migrated, seeded as bench/run.sh seeds it.
log "creating database $BENCH_DB (users: $USERS, posts: $POSTS)"
psql "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "SET client_min_messages TO warning" \
	-c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" -c "CREATE DATABASE $BENCH_DB" >/dev/null ||
	die "cannot create $BENCH_DB: is PostgreSQL running and DATABASE_SERVER right?"
DB_CREATED=1
(cd "$WORK" && DATABASE_URL="$BENCH_URL" "$ROOT/bin/api" migrate apply --dir "$ROOT/migrations" --schema "$ROOT/schema") >"$WORK/migrate.log" 2>&1 ||
	{
		cat "$WORK/migrate.log" >&2
		die "migrate apply failed"
	}
psql "$BENCH_URL" -qX -v ON_ERROR_STOP=1 -v users="$USERS" -v posts="$POSTS" >/dev/null <<'SQL'
INSERT INTO users (email, display_name, password_hash, role)
SELECT 'user' || g || '@example.com', 'User ' || g, 'argon2id$' || md5(g::text),
       CASE WHEN g % 100 = 0 THEN 'admin' ELSE 'user' END
FROM generate_series(1, :users) AS g;
INSERT INTO posts (author_id, title, body, status, created_at, updated_at)
SELECT 1 + g % :users, 'Post number ' || g,
       repeat('Lorem ipsum dolor sit amet, consectetur adipiscing elit. ', 4 + g % 12),
       'published', now() - make_interval(mins => g), now() - make_interval(mins => g / 2)
FROM generate_series(1, :posts) AS g;
VACUUM ANALYZE users;
VACUUM ANALYZE posts;
SQL

# 3. Servers, each on a free loopback port (free_port).

# start_api NAME BINARY [ENV...]: the API with every feature on (JSON access log to a
# file, rate limiting with a budget the load never reaches, metrics, security headers).
start_api() {
	local n=$1 bin=$2
	shift 2
	free_port
	(cd "$WORK" && exec env APP_ENV=dev DATABASE_URL="$SERVER_URL" DB_HEALTH_CHECK_PERIOD=1s HTTP_ADDR="127.0.0.1:$P" \
		LOG_FORMAT=json LOG_LEVEL=info DB_MAX_CONNS="$DB_MAX_CONNS" DB_MIN_CONNS="$DB_MIN_CONNS" \
		RATE_LIMIT_DEFAULT="$RATE_LIMIT" REDIS_URL= ACCESS_TOKEN_TTL=12h "$@" \
		"$bin" serve >>"$WORK/access-$n.log" 2>"$WORK/$n.stderr") &
	PIDS+=($!)
	put PID "$n" $!
	put BASE "$n" "http://127.0.0.1:$P"
}
start_bare() {
	local n=$1
	shift
	free_port
	"$WORK/bare" -addr "127.0.0.1:$P" -max-conns "$DB_MAX_CONNS" -min-conns "$DB_MIN_CONNS" \
		-database-url "$SERVER_URL" -author "$USERS" "$@" 2>"$WORK/$n.stderr" &
	PIDS+=($!)
	put PID "$n" $!
	put BASE "$n" "http://127.0.0.1:$P"
}
wait_up() { # NAME PATH
	"$LOAD" -url "$(get BASE "$1")$2" -wait 20s -show >"$WORK/$1.show" 2>&1 ||
		{
			cat "$WORK/$1.show" "$WORK/$1.stderr" >&2 2>/dev/null || true
			die "$1 did not come up"
		}
}

start_bare bare
start_api api "$ROOT/bin/api"
wait_up bare /posts/1
wait_up api /api/v1/posts/1

# A signed-in user: registered and logged in through the API; the bare create writes
# as user $USERS, an ordinary user of the seed.
EMAIL=bench@example.com
PASSWORD="correct horse battery staple"
API=$(get BASE api)
curl -fsS -XPOST "$API/api/v1/auth/register" -H 'Content-Type: application/json' \
	-d "{\"email\":\"$EMAIL\",\"display_name\":\"Bench\",\"password\":\"$PASSWORD\"}" >/dev/null || die "register failed"
TOKEN=$(curl -fsS -XPOST "$API/api/v1/auth/login" -H 'Content-Type: application/json' \
	-d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" | sed -nE 's/.*"access_token":"([^"]+)".*/\1/p')
[[ -n $TOKEN ]] || die "login failed"
AUTH="Authorization: Bearer $TOKEN"
# The create target writes what bare writes, the post and its audit event (a draft:
# posts announce a publication with a job, which bare has no counterpart of);
# create_pub publishes, so its create also enqueues the job that this instance then works.
CREATE_BODY='{"title":"Benchmark post {seq}","body":"A short body written by the benchmark.","status":"draft"}'
PUBLISH_BODY='{"title":"Benchmark post {seq}","body":"A short body written by the benchmark.","status":"published"}'

# Targets: server process, path, load arguments.
BARE=$(get BASE bare)
declare -A T_PID T_URL T_ARGS T_LABEL
T_PID=([get_bare]=$(get PID bare) [get_full]=$(get PID api) [get_auth]=$(get PID api)
	[list_bare]=$(get PID bare) [list_full]=$(get PID api) [create_bare]=$(get PID bare) [create_full]=$(get PID api) [create_pub]=$(get PID api))
T_URL=([get_bare]="$BARE/posts/{id}" [get_full]="$API/api/v1/posts/{id}" [get_auth]="$API/api/v1/posts/{id}"
	[list_bare]="$BARE/posts?limit=20" [list_full]="$API/api/v1/posts?limit=20"
	[create_bare]="$BARE/posts" [create_full]="$API/api/v1/posts" [create_pub]="$API/api/v1/posts")
T_LABEL=([get_bare]="GET post, bare" [get_full]="GET post, Quarry, anonymous" [get_auth]="GET post, Quarry, bearer token"
	[list_bare]="list 20, bare" [list_full]="list 20, Quarry"
	[create_bare]="create, bare (post + audit row in one tx)" [create_full]="create, Quarry (signed in, audited)"
	[create_pub]="create, Quarry, published (+ its job)")
args_of() { # TARGET: the load generator's arguments beyond url, c, d and warm-up
	case $1 in get_* | alone* | flooded*) printf '%s\0' -ids "$POSTS" ;; esac
	case $1 in get_auth | create_full | create_pub) printf '%s\0' -H "$AUTH" ;; esac
	case $1 in create_pub) printf '%s\0' -method POST -body "$PUBLISH_BODY" ;; create_*) printf '%s\0' -method POST -body "$CREATE_BODY" ;; esac
}
# flood_logins BASE SECONDS [NAME]: sign in as the benchmark user with FLOOD_LOGIN_C
# connections for SECONDS against BASE, in the background (its pid in FLOOD_PID, its
# result appended to $WORK/logins-NAME.jsonl, NAME defaulting to flood).
flood_logins() {
	"$LOAD" -method POST -url "$1/api/v1/auth/login" -body "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" \
		-c "$FLOOD_LOGIN_C" -d "$2s" -warmup 0s -timeout 10s >>"$WORK/logins-${3:-flood}.jsonl" &
	FLOOD_PID=$!
	PIDS+=("$FLOOD_PID")
}

# run_http TARGET [CONNS]: one measured run; appends "rps p50 p99 cpu_us errors non2xx"
# to $WORK/TARGET.tsv and the raw JSON to $WORK/raw.jsonl.
field() { sed -nE "s/.*\"$2\":(-?[0-9.eE+]+).*/\1/p" <<<"$1"; }
run_http() {
	local t=$1 c=${2:-$CONCURRENCY} pid c0 c1 out cpu extra=()
	pid=${T_PID[$t]}
	mapfile -d '' extra < <(args_of "$t")
	c0=$(cpu_ticks "$pid")
	out=$("$LOAD" -url "${T_URL[$t]}" -c "$c" -d "${DURATION}s" -warmup "${WARMUP}s" "${extra[@]}") ||
		die "load generator failed against $t"
	c1=$(cpu_ticks "$pid")
	rss_mb "$pid" >>"$WORK/rss-$pid"
	cpu=$(awk -v d=$((c1 - c0)) -v n="$(field "$out" all_reqs)" -v t="$CLK_TCK" 'BEGIN {printf "%.1f", (n > 0 ? d * 1e6 / t / n : 0)}')
	echo "$(field "$out" rps) $(field "$out" p50_ms) $(field "$out" p99_ms) $cpu $(field "$out" errors) $(field "$out" non2xx)" >>"$WORK/$t.tsv"
	echo "$t $out" >>"$WORK/raw.jsonl"
	log "round $r/$ROUNDS $(printf '%-11s' "$t") $(field "$out" rps) req/s  p50 $(field "$out" p50_ms) ms  p99 $(field "$out" p99_ms) ms  CPU $cpu µs/req  errors $(field "$out" errors)  non2xx $(field "$out" non2xx)"
}
# median TARGET COLUMN (1 rps, 2 p50, 3 p99, 4 cpu); sum TARGET COLUMN (5 errors, 6 non2xx).
median() { awk -v c="$2" '{print $c}' "$WORK/$1.tsv" | sort -g | awk '{a[NR] = $1} END {print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
sum() { awk -v c="$2" '{s += $c} END {print s + 0}' "$WORK/$1.tsv"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}'; }

# 4. The scenarios, ROUNDS rounds.
GROUPS_=()
has get && GROUPS_+=("get_bare get_full get_auth")
has list && GROUPS_+=("list_bare list_full")
has create && GROUPS_+=("create_bare create_full create_pub")
RAN=()
for g in "${GROUPS_[@]}"; do read -r -a order <<<"$g" && RAN+=("${order[@]}"); done
for ((r = 1; r <= ROUNDS && ${#GROUPS_[@]} > 0; r++)); do
	for g in "${GROUPS_[@]}"; do
		read -r -a order <<<"$g"
		if ((r % 2 == 0)); then
			rev=()
			for ((i = ${#order[@]} - 1; i >= 0; i--)); do rev+=("${order[$i]}"); done
			order=("${rev[@]}")
		fi
		for t in "${order[@]}"; do run_http "$t"; done
	done
done
# Resident memory: the largest VmRSS seen at the end of a run (the heap is then as
# large as the load made it), not VmHWM, which also holds the password hashes of the
# sign-in above (19 MiB each).
max_rss() { sort -g -k "$2" "$WORK/rss-$1" | tail -n 1 | awk -v k="$2" '{print $k}'; }
if ((${#GROUPS_[@]} > 0)); then
	RSS_API=$(max_rss "$(get PID api)" 1)
	RSS_BARE=$(max_rss "$(get PID bare)" 1)
	ANON_API=$(max_rss "$(get PID api)" 2)
	ANON_BARE=$(max_rss "$(get PID bare)" 2)
fi

# 5. Login flood: an API instance with its login limits off; GET alone and GET during
# the flood alternate. With FLOOD_BASELINE, an instance of that binary (flood_b) takes
# its turn after this tree's in every round (before it, every other round).
for n in bare api; do
	kill "$(get PID "$n")" 2>/dev/null || true
	wait "$(get PID "$n")" 2>/dev/null || true
done
FLOOD_NAMES=()
if has flood; then
	FLOOD_NAMES=(flood)
	[[ -n $FLOOD_BASELINE ]] && FLOOD_NAMES+=(flood_b)
fi
for n in "${FLOOD_NAMES[@]}"; do
	bin=$ROOT/bin/api
	label=""
	[[ $n == flood_b ]] && bin=$FLOOD_BASELINE label=", FLOOD_BASELINE"
	start_api "$n" "$bin" AUTH_LOGIN_PER_ACCOUNT=off AUTH_LOGIN_PER_ADDRESS=off AUTH_LOGIN_PER_ACCOUNT_ADDRESS=off
	wait_up "$n" /api/v1/posts/1
	s=${n#flood}
	T_PID[alone$s]=$(get PID "$n")
	T_PID[flooded$s]=$(get PID "$n")
	T_URL[alone$s]="$(get BASE "$n")/api/v1/posts/{id}"
	T_URL[flooded$s]="$(get BASE "$n")/api/v1/posts/{id}"
	T_LABEL[alone$s]="GET post, no flood (c=$FLOOD_GET_C$label)"
	T_LABEL[flooded$s]="GET post, login flood (c=$FLOOD_GET_C + $FLOOD_LOGIN_C$label)"
	RAN+=("alone$s" "flooded$s")
done
for ((r = 1; r <= ROUNDS && ${#FLOOD_NAMES[@]} > 0; r++)); do
	order=("${FLOOD_NAMES[@]}")
	((r % 2 == 0)) && ((${#order[@]} == 2)) && order=(flood_b flood)
	for n in "${order[@]}"; do
		s=${n#flood}
		run_http "alone$s" "$FLOOD_GET_C"
		flood_logins "$(get BASE "$n")" $((DURATION + WARMUP + 3)) "$n"
		sleep 1
		run_http "flooded$s" "$FLOOD_GET_C"
		wait "$FLOOD_PID" || die "the login flood failed"
	done
done
# logins NAME: sign-ins answered per second and those that succeeded (200) per second
# during NAME's floods (medians over the rounds), and the statuses of each flood.
logins() {
	local f="$WORK/logins-$1.jsonl"
	printf '%s answered/s, %s succeeded/s (medians); statuses: %s' \
		"$(sed -nE 's/.*"rps":([0-9.]+).*/\1/p' "$f" | sort -g | awk '{a[NR] = $1} END {print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')" \
		"$(sed -nE 's/.*"duration_s":([0-9.]+).*"statuses":\{(.*"200":([0-9]+))?[^}]*\}.*/\1 \3/p' "$f" |
			awk '{print ($2 == "" ? 0 : $2) / $1}' | sort -g |
			awk '{a[NR] = $1} END {printf "%.1f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')" \
		"$(sed -nE 's/.*"statuses":\{([^}]*)\}.*/{\1}/p' "$f" | paste -sd ' ' -)"
}

# 6. The tables.
{
	echo "Quarry targets, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(sed -nE 's/^model name\s*: //p' /proc/cpuinfo | head -n1)),"
	echo "$(go env GOVERSION), $(psql "$BENCH_URL" -AtqX -c 'SHOW server_version' | cut -d' ' -f1 | sed 's/^/PostgreSQL /')."
	echo "c=$CONCURRENCY, ${DURATION}s per run after ${WARMUP}s warm-up, $ROUNDS rounds, targets alternating, medians; pool $DB_MAX_CONNS;"
	echo "the API with every feature on: JSON access log to a file, rate limit $RATE_LIMIT per client (in memory), metrics, security headers."
	echo
	printf '%-48s %9s %8s %8s %10s %7s %7s\n' target "req/s" "p50 ms" "p99 ms" "CPU µs/req" errors non2xx
	for t in "${RAN[@]}"; do
		printf '%-48s %9.0f %8.2f %8.2f %10.1f %7d %7d\n' "${T_LABEL[$t]}" "$(median "$t" 1)" "$(median "$t" 2)" \
			"$(median "$t" 3)" "$(median "$t" 4)" "$(sum "$t" 5)" "$(sum "$t" 6)"
	done
	echo "(CPU µs/req: CPU time of the server process, user + system, from /proc, over warm-up and run.)"
	echo
	printf '%-40s %-26s %10s  %s\n' "target" "wanted" "measured" ""
	verdict() { awk -v v="$1" -v lim="$2" -v op="$3" 'BEGIN {ok = (op == "le") ? v <= lim : v >= lim; print ok ? "met" : "MISSED"}'; }
	row() { # label, wanted, value, limit, op, suffix
		printf '%-40s %-26s %10s  %s\n' "$1" "$2" "$3$6" "$(verdict "$3" "$4" "$5")"
	}
	if has get; then
		v=$(ratio "$(median get_full 4)" "$(median get_bare 4)")
		row "GET anonymous: CPU/request" "<= 1.10x bare" "$v" 1.10 le x
		v=$(ratio "$(median get_full 1)" "$(median get_bare 1)")
		row "GET anonymous: req/s" ">= 0.95x bare" "$v" 0.95 ge x
		v=$(ratio "$(median get_full 3)" "$(median get_bare 3)")
		row "GET anonymous: p99" "<= 1.25x bare" "$v" 1.25 le x
		v=$(ratio "$(median get_auth 4)" "$(median get_bare 4)")
		row "GET bearer token: CPU/request" "<= 1.15x bare (anonymous)" "$v" 1.15 le x
	fi
	if has list; then
		v=$(ratio "$(median list_full 1)" "$(median list_bare 1)")
		row "list 20: req/s" ">= 0.95x bare" "$v" 0.95 ge x
	fi
	if has create; then
		v=$(ratio "$(median create_full 1)" "$(median create_bare 1)")
		row "create (audited): req/s" ">= 0.90x bare" "$v" 0.90 ge x
	fi
	if ((${#GROUPS_[@]} > 0)); then row "RSS of the API under load" "<= 35 MB" "$RSS_API" 35 le " MB"; fi
	if has flood; then
		v=$(ratio "$(median flooded 3)" "$(median alone 3)")
		row "GET p99 under a login flood" "<= 2x without" "$v" 2 le x
		if [[ -n $FLOOD_BASELINE ]]; then
			v=$(ratio "$(median flooded_b 3)" "$(median alone_b 3)")
			row "the same, FLOOD_BASELINE" "<= 2x without" "$v" 2 le x
		fi
	fi
	echo
	if has get && has list && has create; then
		echo "Also: CPU/request create $(ratio "$(median create_full 4)" "$(median create_bare 4)")x bare, list $(ratio "$(median list_full 4)" "$(median list_bare 4)")x bare;" \
			"bearer / anonymous $(ratio "$(median get_auth 4)" "$(median get_full 4)")x; RSS of bare under the same load $RSS_BARE MB;" \
			"a published create (enqueuing and working its job) $(ratio "$(median create_pub 1)" "$(median create_bare 1)")x bare's req/s, $(ratio "$(median create_pub 4)" "$(median create_bare 4)")x its CPU/request."
	fi
	if ((${#GROUPS_[@]} > 0)); then echo "Resident memory of its own (RssAnon: heap, stacks; the rest of VmRSS is the executable's mapped pages): API $ANON_API MB, bare $ANON_BARE MB."; fi
	if has flood; then
		echo "Logins during the flood: $(logins flood)."
		if [[ -n $FLOOD_BASELINE ]]; then
			echo "Logins during the flood, FLOOD_BASELINE ($FLOOD_BASELINE): $(logins flood_b)."
		fi
	fi
} | tee "$WORK/table.txt"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
{
	cat "$WORK/table.txt"
	echo
	echo "Raw runs:"
	cat "$WORK/raw.jsonl" "$WORK"/logins-*.jsonl 2>/dev/null || true
} >"$RESULTS_DIR/targets-$stamp.txt"
echo "(saved to bench/results/targets-$stamp.txt)"

# 7. Optional: CPU profiles per scenario, bare and the API under the same load in turn;
# the top functions by own time, in µs per request.
if [[ $PROFILE == 1 ]]; then
	for n in "${FLOOD_NAMES[@]}"; do kill "$(get PID "$n")" 2>/dev/null || true; done
	free_port
	put PPROF bare "$P"
	start_bare bare -pprof "127.0.0.1:$(get PPROF bare)"
	free_port
	put PPROF api "$P"
	start_api api "$WORK/apiprof" "PPROF_ADDR=127.0.0.1:$(get PPROF api)" AUTH_LOGIN_PER_ACCOUNT=off AUTH_LOGIN_PER_ADDRESS=off AUTH_LOGIN_PER_ACCOUNT_ADDRESS=off
	wait_up bare /posts/1
	wait_up api /api/v1/posts/1
	BARE=$(get BASE bare)
	API=$(get BASE api)
	T_URL=([get_bare]="$BARE/posts/{id}" [get_full]="$API/api/v1/posts/{id}" [get_auth]="$API/api/v1/posts/{id}"
		[list_bare]="$BARE/posts?limit=20" [list_full]="$API/api/v1/posts?limit=20"
		[create_bare]="$BARE/posts" [create_full]="$API/api/v1/posts" [flooded]="$API/api/v1/posts/{id}")
	for t in get_bare get_full get_auth list_bare list_full create_bare create_full flooded; do
		[[ " ${RAN[*]} " == *" $t "* ]] || continue
		n=${t%_full}
		n=${n%_bare}
		srv=api
		[[ $t == *_bare ]] && srv=bare
		mapfile -d '' extra < <(args_of "$t")
		c=$CONCURRENCY
		FLOOD_PID=""
		if [[ $t == flooded ]]; then
			c=$FLOOD_GET_C
			flood_logins "$API" $((DURATION + 4))
		fi
		"$LOAD" -url "${T_URL[$t]}" -c "$c" -d "$((DURATION + 2))s" -warmup 1s "${extra[@]}" >"$WORK/prof-$t.json" &
		lp=$!
		PIDS+=("$lp")
		sleep 1
		curl -fsS -o "$RESULTS_DIR/cpu-$t.pprof" "http://127.0.0.1:$(get PPROF "$srv")/debug/pprof/profile?seconds=$DURATION" ||
			die "could not fetch the CPU profile of $t"
		wait "$lp"
		if [[ -n $FLOOD_PID ]]; then wait "$FLOOD_PID"; fi
		reqs=$(awk -v r="$(field "$(cat "$WORK/prof-$t.json")" rps)" -v d="$DURATION" 'BEGIN {printf "%d", r * d}')
		{
			echo
			echo "$t: ${T_LABEL[$t]:-GET during the login flood}, $(field "$(cat "$WORK/prof-$t.json")" rps) req/s while profiled; top own CPU, µs per request:"
			go tool pprof -top -nodecount=22 -unit=ms "$RESULTS_DIR/cpu-$t.pprof" 2>/dev/null |
				awk -v n="$reqs" '/^Duration/ {print "  " $0}
					/flat%/ {next}
					NF >= 6 && $1 ~ /ms$/ {f = $1; c = $4; sub(/ms$/, "", f); sub(/ms$/, "", c); name = $6; for (i = 7; i <= NF; i++) name = name " " $i
						printf "  %7.2f own %7.2f cum  %s\n", f * 1000 / n, c * 1000 / n, name}'
			[[ $srv == api ]] && echo "  the project's functions by cumulative CPU, µs per request:"
			go tool pprof -top -cum -nodecount=400 -unit=ms "$RESULTS_DIR/cpu-$t.pprof" 2>/dev/null |
				awk -v n="$reqs" '$NF ~ /quarrydev\/quarry/ || $6 ~ /quarrydev\/quarry/ {c = $4; sub(/ms$/, "", c); name = $6; for (i = 7; i <= NF; i++) name = name " " $i
						sub(/^github\.com\/quarrydev\/quarry\/internal\//, "", name)
						if (++k <= 14) printf "  %7.2f cum  %s\n", c * 1000 / n, name}'
		} | tee -a "$RESULTS_DIR/targets-$stamp.txt"
	done
	echo "(profiles in bench/results/cpu-<scenario>.pprof; go tool pprof -http=127.0.0.1:0 FILE)"
fi
