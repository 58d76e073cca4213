# shellcheck shell=bash
# What the interleaved benchmark scripts share (sourced by threads.sh and versus.sh).

# Reads the leading `--rounds N` and `--repeat R` of the arguments into $rounds and $repeat
# (kept as the script set them when absent) and leaves the arguments after them in the
# array $rest; any other leading `--` option is refused (exit 2).
bench_options() {
    while [[ "${1:-}" == --* ]]; do
        case "$1" in
            --rounds) rounds="$2"; shift 2 ;;
            --repeat) repeat="$2"; shift 2 ;;
            *) echo "unknown option $1" >&2; exit 2 ;;
        esac
    done
    rest=("$@")
}

# Prints the load average (1, 5 and 15 minutes), after `load $1:`.
load() { echo "load $1: $(cut -d' ' -f1-3 /proc/loadavg)"; }
