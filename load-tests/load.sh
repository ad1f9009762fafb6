#!/usr/bin/env bash
# load.sh: one command for a Gatling load test of Sluice (or of any Kinesis endpoint).
#
#   load-tests/load.sh put-records [-Drate=50 -Dduration=60 -Dencryption=kms ...]
#   load-tests/load.sh end-to-end --nodes 3 -Drate=200
#   load-tests/load.sh put-record --endpoint http://127.0.0.1:4610 -Drate=500
#   load-tests/load.sh smoke            every simulation for a few seconds at a low rate (what .ci/run runs)
#
# Simulations: put-record, put-records, consumer, end-to-end (or a class name under io.sluice.loadtest.gatling).
# Without --endpoint it starts its own Sluice (embedded Cassandra and --nodes N nodes, default 1) in
# load-tests/target/sluice on ports of its own (HTTP 4667.., cluster 25620.., CQL 9142, storage 7100; a
# development Sluice on the default ports can keep running), runs the simulation against all its nodes,
# then stops it. With --endpoint URL[,URL...] it runs against that server and needs AWS_ACCESS_KEY_ID /
# AWS_SECRET_ACCESS_KEY (emulators accept any). -D... arguments are the simulation's parameters (see
# load-tests/README.md). Leaves Gatling's HTML report under load-tests/target/gatling/ and prints one
# summary line, also appended to load-tests/target/summaries.txt. Exits non-zero when a request failed or,
# for consumer and end-to-end, the records read differ from those acknowledged (missing, duplicated,
# misordered, corrupt, unacknowledged). LOAD_KEEP_SLUICE=1 leaves the started Sluice running.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/.." && pwd -P)
SLUICE=$REPO/deploy/local/sluice
TARGET=$HERE/target
say() { printf 'load.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

usage() {
    sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

simulation_class() {
    case $1 in
        put-record) echo PutRecordSimulation ;;
        put-records) echo PutRecordsSimulation ;;
        consumer) echo ConsumerSimulation ;;
        end-to-end) echo EndToEndSimulation ;;
        *Simulation) echo "$1" ;;
        *) die "unknown simulation $1 (put-record, put-records, consumer, end-to-end, smoke)" ;;
    esac
}

[[ $# -ge 1 ]] || usage
what=$1
shift
nodes=1
endpoint=
props=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --nodes) nodes=${2:?--nodes N}; shift 2 ;;
        --endpoint) endpoint=${2:?--endpoint URL}; shift 2 ;;
        -D*) props+=("$1"); shift ;;
        -h|--help) usage ;;
        *) die "unexpected argument $1" ;;
    esac
done

# ---------------------------------------------------------------- build

# the simulations need sluice-protocol and its parent pom (-am) in the local Maven repository, and
# Maven fetches what a fresh machine lacks (the Gatling plugin and its dependencies among them): never offline
build() {
    local log
    log=$(mktemp)
    if ! (cd "$REPO" && mvn -B -q install -DskipTests -pl protocol -am >"$log" 2>&1) \
        || ! mvn -B -q -f "$HERE/pom.xml" test-compile >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "build failed"
    fi
    rm -f "$log"
}

# ---------------------------------------------------------------- a Sluice of our own

started=
stop_sluice() {
    if [[ -n "$started" && -z "${LOAD_KEEP_SLUICE:-}" ]]; then
        say "stopping the load-test Sluice"
        "$SLUICE" down >&2 || true
    fi
}

start_sluice() {
    export SLUICE_DATA_DIR=$TARGET/sluice
    export SLUICE_HTTP_PORT=${LOAD_HTTP_PORT:-4667} SLUICE_CLUSTER_PORT=${LOAD_CLUSTER_PORT:-25620}
    export SLUICE_TLS_PORT=${LOAD_TLS_PORT:-4543}
    export SLUICE_CQL_PORT=${LOAD_CQL_PORT:-9142} SLUICE_CASSANDRA_STORAGE_PORT=${LOAD_STORAGE_PORT:-7100}
    "$SLUICE" down >/dev/null 2>&1 || true   # a run that was interrupted may have left one
    rm -rf "$SLUICE_DATA_DIR"
    started=1
    trap stop_sluice EXIT
    say "starting Sluice ($nodes node(s), data in $SLUICE_DATA_DIR)"
    "$SLUICE" up --nodes "$nodes" >&2 || die "Sluice did not start; see $SLUICE_DATA_DIR/*.log"
    local creds=$SLUICE_DATA_DIR/root-credentials
    AWS_ACCESS_KEY_ID=$(sed -n 's/^access_key_id=//p' "$creds")
    AWS_SECRET_ACCESS_KEY=$(sed -n 's/^secret_access_key=//p' "$creds")
    export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    local urls=() i
    for ((i = 0; i < nodes; i++)); do urls+=("http://127.0.0.1:$((SLUICE_HTTP_PORT + i))"); done
    endpoint=$(IFS=,; echo "${urls[*]}")
}

# ---------------------------------------------------------------- one simulation

# gatling <log name> [-D...]: one Gatling JVM (through the Maven plugin); returns its exit code
gatling() {
    local log=$TARGET/gatling/$1.console.log
    shift
    mkdir -p "$TARGET/gatling"
    (cd "$REPO" && mvn -B -q -f "$HERE/pom.xml" gatling:test -Dendpoint="$endpoint" \
        -DsummaryDir="$TARGET/gatling-summary" "$@") >"$log" 2>&1
}

# summarise <class> <report dir before the run>: prints the summary line; fails when the run left no
# report or counters, or when the summary says FAILED
summarise() {
    local class=$1 before=$2 report line rc=0 counters=$TARGET/gatling-summary/$1.properties
    report=$(ls -d "$TARGET/gatling/${class,,}"-* 2>/dev/null | sort | tail -1 || true)
    if [[ -z "$report" || "$report" == "$before" || ! -f "$counters" ]]; then
        say "$class did not complete; see $TARGET/gatling/*.console.log"
        return 1
    fi
    line=$(java -cp "$HERE/target/classes" io.sluice.loadtest.GatlingSummary "$report" "$counters") || rc=1
    printf '%s  [%s]\n' "$line" "$(date -u +%FT%TZ)" >>"$TARGET/summaries.txt"
    echo "$line"
    say "report: $report/index.html"
    return "$rc"
}

latest_report() { ls -d "$TARGET/gatling/${1,,}"-* 2>/dev/null | sort | tail -1 || true; }

# ---------------------------------------------------------------- main

build
if [[ -n "$endpoint" ]]; then
    [[ -n "${AWS_ACCESS_KEY_ID:-}" && -n "${AWS_SECRET_ACCESS_KEY:-}" ]] \
        || die "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for --endpoint (any values for an emulator)"
else
    start_sluice
fi

ALL=(ConsumerSimulation EndToEndSimulation PutRecordSimulation PutRecordsSimulation)
if [[ "$what" == smoke ]]; then
    # every simulation in one Gatling JVM, for a few seconds at a low rate with encryption on (the longer
    # path: KMS, checks on every record); the only verdict is zero failures and, for the readers, every
    # acknowledged record read once, in order and intact
    declare -A before
    for c in "${ALL[@]}"; do before[$c]=$(latest_report "$c"); rm -f "$TARGET/gatling-summary/$c.properties"; done
    say "smoke run of ${ALL[*]} against $endpoint"
    rc=0
    gatling smoke -Dgatling.runMultipleSimulations=true -Dduration=3 -Dramp=0 -Dshards=2 -Drate=10 -DfeedRate=2 \
        -Ddrain=3 -Dencryption=kms "${props[@]+"${props[@]}"}" || rc=$?
    for c in "${ALL[@]}"; do summarise "$c" "${before[$c]}" || rc=1; done
    if [[ $rc != 0 ]]; then
        tail -60 "$TARGET/gatling/smoke.console.log" >&2
        die "smoke run failed (console: $TARGET/gatling/smoke.console.log)"
    fi
    say "smoke run passed"
else
    class=$(simulation_class "$what")
    start=$(latest_report "$class")
    rm -f "$TARGET/gatling-summary/$class.properties"
    say "running $class against $endpoint"
    rc=0
    gatling "$class" -Dgatling.simulationClass="io.sluice.loadtest.gatling.$class" "${props[@]+"${props[@]}"}" || rc=$?
    summarise "$class" "$start" || { tail -40 "$TARGET/gatling/$class.console.log" >&2; exit 1; }
    exit "$rc"
fi
