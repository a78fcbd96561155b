# Helpers shared by the benchmark scripts (bench/run.sh, bench/targets.sh); sourced,
# never run.

die() {
	echo "bench: $*" >&2
	exit 1
}

# free_port sets P to a free loopback port in 15000-29999, below the usual ephemeral
# ranges (Linux 32768+, BSD and macOS 49152+), so that outgoing connections (to
# PostgreSQL, say) do not hold it, and never the same port twice in one run.
USED_PORTS=" "
P=""
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((15000 + RANDOM % 15000))
		[[ $USED_PORTS == *" $p "* ]] && continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			USED_PORTS+="$p "
			P=$p
			return 0
		fi
	done
	die "no free port found"
}

# Per-target values live in variables named URL_<target>, PID_<target>, … (bash 3 has
# no associative arrays); put and get set and read them.
put() { printf -v "$1_$2" '%s' "$3"; }
get() {
	local v="$1_$2"
	printf '%s' "${!v:-}"
}
