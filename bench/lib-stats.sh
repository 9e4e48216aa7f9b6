# shellcheck shell=bash
# Figures from repeated runs: medians, and wrk's summary line. Sourced by every benchmark.

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

# wrk_summary: wrk --latency output on stdin -> "req/s p50_ms p99_ms"
wrk_summary() {
  awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    END { printf "%s %s %s\n", rps, p50, p99 }'
}
