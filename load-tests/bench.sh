#!/usr/bin/env bash
# bench.sh: run one KinesisBench scenario against a running Sluice (or any Kinesis endpoint), or, after
# the word dynamodb, one DynamoDbBench scenario (or any DynamoDB endpoint).
#
#   load-tests/bench.sh put-records -Dconcurrency=8 -Dduration=20
#   load-tests/bench.sh put-record  -Dconcurrency=32
#   load-tests/bench.sh propagation -Dduration=30 -Dpoll=50
#   load-tests/bench.sh dynamodb get-item -Dconcurrency=8 -Dduration=30
#   load-tests/bench.sh dynamodb update-item-conditional -Dendpoint=http://127.0.0.1:4612   # dynalite
#
# -D... and -X... arguments go to the JVM (the benches read their parameters as system properties);
# anything else goes to the bench (the scenario, or --key=value). See load-tests/README.md.
#
# Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY when both are set, otherwise the root
# credentials that `deploy/local/sluice up` wrote to $SLUICE_DATA_DIR/root-credentials (default <repo>/data).
# SLUICE_HTTP_PORT sets the default endpoint's port; BENCH_JAVA_OPTS adds JVM options; JAVA_HOME picks the JVM.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/.." && pwd -P)
die() { printf 'bench.sh: %s\n' "$*" >&2; exit 1; }

if [[ -z "${AWS_ACCESS_KEY_ID:-}" || -z "${AWS_SECRET_ACCESS_KEY:-}" ]]; then
    creds=${SLUICE_DATA_DIR:-$REPO/data}/root-credentials
    [[ -r "$creds" ]] || die "no AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and no readable $creds (start Sluice with deploy/local/sluice up, or set SLUICE_DATA_DIR)"
    AWS_ACCESS_KEY_ID=$(sed -n 's/^access_key_id=//p' "$creds")
    AWS_SECRET_ACCESS_KEY=$(sed -n 's/^secret_access_key=//p' "$creds")
    [[ -n "$AWS_ACCESS_KEY_ID" && -n "$AWS_SECRET_ACCESS_KEY" ]] || die "$creds lacks access_key_id= or secret_access_key="
    export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
fi

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    JAVA=$JAVA_HOME/bin/java
else
    JAVA=$(command -v java) || die "no java on PATH and no JAVA_HOME"
fi

# build when the classes or the classpath file are missing or older than the sources or the pom;
# sluice-protocol comes from the local Maven repository (mvn -B -q install -DskipTests -pl protocol -am)
CLASSES=$HERE/target/classes
CP_FILE=$HERE/target/runtime.classpath
BENCH=KinesisBench
if [[ "${1:-}" == dynamodb ]]; then
    BENCH=DynamoDbBench
    shift
fi
MAIN_CLASS=$CLASSES/io/sluice/loadtest/$BENCH.class
if [[ ! -f "$MAIN_CLASS" || ! -f "$CP_FILE" \
      || -n "$(find "$HERE/src" "$HERE/pom.xml" -newer "$MAIN_CLASS" -print -quit)" ]]; then
    echo "bench.sh: building load-tests" >&2
    log=$(mktemp)
    if ! mvn -B -q -f "$HERE/pom.xml" compile >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "build failed; is sluice-protocol installed? (mvn -B -q install -DskipTests -pl protocol -am)"
    fi
    rm -f "$log"
fi

jvm=()
prog=()
[[ -n "${SLUICE_HTTP_PORT:-}" ]] && jvm+=("-Dendpoint=http://127.0.0.1:$SLUICE_HTTP_PORT")
for a in "$@"; do
    case $a in
        -D*|-X*) jvm+=("$a") ;;   # a later -D of the same name wins, so these override the default above
        *) prog+=("$a") ;;
    esac
done

# shellcheck disable=SC2086  # BENCH_JAVA_OPTS is a list of options
exec "$JAVA" ${BENCH_JAVA_OPTS:-} "${jvm[@]+"${jvm[@]}"}" -cp "$CLASSES:$(cat "$CP_FILE")" \
    "io.sluice.loadtest.$BENCH" "${prog[@]+"${prog[@]}"}"
