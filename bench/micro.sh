#!/bin/sh
# Runs the criterion microbenchmarks once each, in a session of their own
# with a raised autogroup (see bench/README.md), and writes a markdown
# summary to bench/results/micro-<date>.md.
#
# Usage: bench/micro.sh [--quick]     (from the repository root)
set -eu
cd "$(dirname "$0")/.."
quick="${1:-}"
date_utc=$(date -u +%Y-%m-%d)
stamp=$(date -u '+%Y-%m-%d %H:%M UTC')
suffix=""
[ "$quick" = "--quick" ] && suffix="-quick"
out="bench/results/micro-${date_utc}${suffix}.md"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

for b in imap_parse fetch_encode message_parse index sdbox; do
    echo "== $b" | tee -a "$log"
    setsid sh -c "echo -10 > /proc/self/autogroup; exec cargo bench --bench $b -- $quick" \
        2>&1 | tee -a "$log" >/dev/null
done

{
    echo "# tern microbenchmarks (criterion), $stamp"
    echo
    echo "- CPU: $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "- kernel: $(uname -r)"
    echo "- loadavg at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- command: \`bench/micro.sh $quick\` (cargo bench profile, jemalloc; index and sdbox on tmpfs)"
    echo "- time is criterion's point estimate (middle of its interval); throughput likewise"
    echo
    echo "| bench | case | time | throughput |"
    echo "|---|---|---:|---:|"
    awk '
        function flush() { if (name != "" && t != "") printf "| %s | %s | %s | %s |\n", bench, name, t, thr; t = ""; thr = "" }
        /^== / { flush(); bench = $2; name = ""; next }
        /%/ { next }
        /^(Benchmarking|Found|Running|Compiling|Finished|Warning|WARNING|fixture|Gnuplot)/ { next }
        /time:/ {
            line = $0; sub(/time:.*/, "", line); gsub(/^ +| +$/, "", line)
            if (line != "") { flush(); name = line }
            match($0, /\[[^]]*\]/); split(substr($0, RSTART + 1, RLENGTH - 2), a, " ")
            t = a[3] " " a[4]; next
        }
        /thrpt:/ { match($0, /\[[^]]*\]/); split(substr($0, RSTART + 1, RLENGTH - 2), a, " "); thr = a[3] " " a[4]; next }
        /^[A-Za-z0-9_]/ { flush(); name = $1; next }
        END { flush() }
    ' "$log"
    echo
    grep -h '^fixture:' "$log" | sed 's/^/- /' || true
} > "$out"
echo "written to $out"
