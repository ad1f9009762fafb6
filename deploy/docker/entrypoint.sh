#!/usr/bin/env bash
# entrypoint.sh: start one Sluice node, in a container (Docker, Compose, Kubernetes) or on a plain
# host, from the same SLUICE_* environment (README.md, "Configuration").
#
#   1. checks the configuration; with SLUICE_REQUIRE_SECRETS=1 (set by deploy/compose and deploy/k8s)
#      refuses to start without SLUICE_ROOT_KEY, SLUICE_ITERATOR_SECRET, SLUICE_ROOT_ACCESS_KEY_ID
#      and SLUICE_ROOT_SECRET_ACCESS_KEY: every node of a cluster must share them, and a node that
#      generated its own would sign iterators, wrap KMS keys and accept credentials no other node knows
#   2. derives SLUICE_CLUSTER_HOST when unset: this host's entry in SLUICE_SEED_NODES (its first
#      label is the short host name), else hostname -f if it is a dotted name, else POD_IP, else
#      127.0.0.1 without seeds, else the first non-loopback address of hostname -i
#   3. waits for Cassandra's CQL port (SLUICE_CASSANDRA, up to SLUICE_CASSANDRA_WAIT_SECONDS)
#   4. exec java $JAVA_OPTS -cp <classes>:<jars> io.sluice.node.SluiceNode
#
# Where the node's classes and jars are: SLUICE_HOME (default /opt/sluice), either
#   - the image layout:    $SLUICE_HOME/classes and $SLUICE_HOME/lib/*.jar, or
#   - a built checkout:    $SLUICE_HOME/node/target/classes and $SLUICE_HOME/node/target/runtime.classpath
#                          (after `mvn -B -DskipTests install`; the jars are in the local Maven repository)
#
# Variables read by this script only (the node itself reads the SLUICE_* of README.md):
#   SLUICE_HOME                    see above
#   SLUICE_REQUIRE_SECRETS=1       refuse to start without the four shared secrets (1/true/yes)
#   SLUICE_CASSANDRA_WAIT_SECONDS  how long to wait for a CQL port (default 300; 0: do not wait)
#   SLUICE_CASSANDRA_REPLICATION   -> -Dsluice.cassandra.replication=... (replication of the keyspace
#                                  the node creates, e.g. 'NetworkTopologyStrategy', 'datacenter1' : 3)
#   SLUICE_CASSANDRA_APPLY_SCHEMA  -> -Dsluice.cassandra.apply-schema=on|off
#   JAVA_OPTS                      JVM options, split on white space (no quoting)
#   JAVA_HOME                      java to use (default: java on PATH)
#   POD_IP                         Kubernetes downward API; a fallback for SLUICE_CLUSTER_HOST
#   SLUICE_ENTRYPOINT_DRY_RUN=1    check and print the java command line, start nothing
#
# With arguments, the script runs them instead of the node (docker run --rm -it IMAGE bash).
# Exit status: 78 configuration error, 69 Cassandra not reachable in time, else the node's.
set -euo pipefail

PROG=sluice-entrypoint
MAIN_CLASS=io.sluice.node.SluiceNode
EX_UNAVAILABLE=69
EX_CONFIG=78

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
fail() { log "error: $*"; exit "$EX_CONFIG"; }

if (($#)); then
    exec "$@"
fi

is_true() {
    case "${1,,}" in
        1 | true | yes | on) return 0 ;;
        *) return 1 ;;
    esac
}

trim() {
    local s=$1
    s=${s#"${s%%[![:space:]]*}"}
    s=${s%"${s##*[![:space:]]}"}
    printf '%s' "$s"
}

# ---------------------------------------------------------------------------------------------
# java and the class path

find_java() {
    if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
        JAVA=$JAVA_HOME/bin/java
    elif command -v java >/dev/null 2>&1; then
        JAVA=$(command -v java)
    else
        fail "no java found: install Java 17 or set JAVA_HOME"
    fi
    local version major
    version=$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n 1)
    major=${version%%.*}
    if ! [[ "$major" =~ ^[0-9]+$ ]] || ((major < 17)); then
        fail "$JAVA is Java ${version:-?}; Sluice needs Java 17 or newer"
    fi
}

resolve_classpath() {
    SLUICE_HOME=${SLUICE_HOME:-/opt/sluice}
    local home=${SLUICE_HOME%/} classes deps entry
    if [[ -d "$home/node/target/classes" && -f "$home/node/target/runtime.classpath" ]]; then
        classes=$home/node/target/classes
        deps=$(<"$home/node/target/runtime.classpath")
        deps=$(trim "$deps")
        [[ -n "$deps" ]] || fail "$home/node/target/runtime.classpath is empty; rebuild with mvn -B -DskipTests install"
        local IFS=:
        for entry in $deps; do
            [[ -e "$entry" ]] || fail "$entry (from node/target/runtime.classpath) is missing; rebuild with mvn -B -DskipTests install"
        done
        unset IFS
        CLASSPATH_KIND="checkout $home"
        SLUICE_CP="$classes:$deps"
    elif [[ -d "$home/classes" && -d "$home/lib" ]]; then
        classes=$home/classes
        CLASSPATH_KIND="image layout $home"
        SLUICE_CP="$classes:$home/lib/*"   # the JVM expands lib/* to the jars
    else
        fail "no Sluice build under SLUICE_HOME=$home: expected classes/ and lib/ (the image layout) or" \
             "node/target/classes and node/target/runtime.classpath (a checkout built with mvn -B -DskipTests install)"
    fi
    [[ -f "$classes/${MAIN_CLASS//.//}.class" ]] || fail "$classes has no ${MAIN_CLASS//.//}.class"
    [[ -f "$classes/application.conf" ]] || fail "$classes has no application.conf"
}

# ---------------------------------------------------------------------------------------------
# secrets

# trims surrounding white space (a Kubernetes secret made with --from-file often ends in a newline)
normalize_secret() {
    local name=$1 value
    value=${!name-}
    [[ -n "$value" ]] || return 0
    local trimmed
    trimmed=$(trim "$value")
    if [[ "$trimmed" != "$value" ]]; then
        log "$name: removed surrounding white space"
        printf -v "$name" '%s' "$trimmed"
        export "${name?}"
    fi
}

decoded_length() {
    printf '%s' "$1" | base64 -d 2>/dev/null | wc -c
}

check_secret_format() {
    local name value n
    for name in SLUICE_ROOT_KEY SLUICE_ITERATOR_SECRET SLUICE_ROOT_ACCESS_KEY_ID SLUICE_ROOT_SECRET_ACCESS_KEY; do
        value=${!name-}
        [[ "$value" != *CHANGE_ME* ]] || fail "$name is still the placeholder from the example file; generate a value (deploy/README.md)"
    done
    if [[ -n "${SLUICE_ROOT_KEY:-}" ]]; then
        if ! [[ "$SLUICE_ROOT_KEY" =~ ^[A-Za-z0-9+/]+=*$ ]] || ! n=$(decoded_length "$SLUICE_ROOT_KEY") || ((n != 32)); then
            fail "SLUICE_ROOT_KEY must be 32 bytes in standard base64 (openssl rand -base64 32)"
        fi
    fi
    if [[ -n "${SLUICE_ITERATOR_SECRET:-}" ]]; then
        if ! [[ "$SLUICE_ITERATOR_SECRET" =~ ^[A-Za-z0-9+/]+=*$ ]] || ! n=$(decoded_length "$SLUICE_ITERATOR_SECRET") ||
           ((n < 32)); then
            fail "SLUICE_ITERATOR_SECRET must be at least 32 bytes in standard base64 (openssl rand -base64 32)"
        fi
    fi
    # the node ignores one of the pair without the other and generates both
    if [[ -n "${SLUICE_ROOT_ACCESS_KEY_ID:-}" && -z "${SLUICE_ROOT_SECRET_ACCESS_KEY:-}" ]] ||
       [[ -z "${SLUICE_ROOT_ACCESS_KEY_ID:-}" && -n "${SLUICE_ROOT_SECRET_ACCESS_KEY:-}" ]]; then
        fail "set both SLUICE_ROOT_ACCESS_KEY_ID and SLUICE_ROOT_SECRET_ACCESS_KEY, or neither"
    fi
    if [[ -n "${SLUICE_ROOT_ACCESS_KEY_ID:-}" ]]; then
        [[ "$SLUICE_ROOT_ACCESS_KEY_ID" =~ ^[A-Za-z0-9]{16,128}$ ]] \
            || fail "SLUICE_ROOT_ACCESS_KEY_ID must be 16 to 128 letters and digits (e.g. AKIA followed by 16 of A-Z2-7)"
        ((${#SLUICE_ROOT_SECRET_ACCESS_KEY} >= 20)) || fail "SLUICE_ROOT_SECRET_ACCESS_KEY is shorter than 20 characters"
    fi
}

check_secrets() {
    local name missing=()
    for name in SLUICE_ROOT_KEY SLUICE_ITERATOR_SECRET SLUICE_ROOT_ACCESS_KEY_ID SLUICE_ROOT_SECRET_ACCESS_KEY; do
        normalize_secret "$name"
        [[ -n "${!name:-}" ]] || missing+=("$name")
    done
    if ((${#missing[@]})); then
        if is_true "${SLUICE_REQUIRE_SECRETS:-0}"; then
            fail "SLUICE_REQUIRE_SECRETS is set and ${missing[*]} missing: every node of a cluster needs the same" \
                 "root key, iterator secret and root credentials (deploy/README.md, 'Secrets')"
        elif [[ -n "${SLUICE_SEED_NODES:-}" ]]; then
            log "warning: ${missing[*]} unset: this node generates its own into its data dir, which other nodes" \
                "of the cluster will not share (set SLUICE_REQUIRE_SECRETS=1 to refuse this)"
        fi
    fi
    check_secret_format
}

# ---------------------------------------------------------------------------------------------
# cluster address

first_non_loopback_ip() {
    local ip
    for ip in $(hostname -i 2>/dev/null || true); do
        [[ "$ip" == 127.* || "$ip" == ::1 ]] && continue
        printf '%s' "$ip"
        return 0
    done
    return 1
}

derive_cluster_host() {
    if [[ -n "${SLUICE_CLUSTER_HOST:-}" ]]; then
        CLUSTER_HOST_SOURCE=SLUICE_CLUSTER_HOST
        return 0
    fi
    local fqdn ip short seed seed_host
    fqdn=$(hostname -f 2>/dev/null || true)
    short=$(hostname -s 2>/dev/null || hostname 2>/dev/null || true)
    short=${short%%.*}
    # a seed must announce itself exactly as the seed list spells it, or the cluster does not form
    if [[ -n "$short" && -n "${SLUICE_SEED_NODES:-}" ]]; then
        local IFS=,
        for seed in $SLUICE_SEED_NODES; do
            seed_host=$(trim "${seed%:*}")
            if [[ "$seed_host" == "$short" || "$seed_host" == "$short".* ]]; then
                SLUICE_CLUSTER_HOST=$seed_host
                CLUSTER_HOST_SOURCE="this host's entry in SLUICE_SEED_NODES"
                unset IFS
                export SLUICE_CLUSTER_HOST
                return 0
            fi
        done
        unset IFS
    fi
    if [[ "$fqdn" == *.* && "$fqdn" != localhost* ]]; then
        # a StatefulSet pod with a headless service: <pod>.<service>.<namespace>.svc.<cluster domain>
        SLUICE_CLUSTER_HOST=$fqdn
        CLUSTER_HOST_SOURCE="hostname -f"
    elif [[ -n "${POD_IP:-}" ]]; then
        SLUICE_CLUSTER_HOST=$POD_IP
        CLUSTER_HOST_SOURCE=POD_IP
    elif [[ -z "${SLUICE_SEED_NODES:-}" ]]; then
        # a cluster of one: the node's own default
        SLUICE_CLUSTER_HOST=127.0.0.1
        CLUSTER_HOST_SOURCE="default, no SLUICE_SEED_NODES"
    elif ip=$(first_non_loopback_ip); then
        SLUICE_CLUSTER_HOST=$ip
        CLUSTER_HOST_SOURCE="hostname -i"
    else
        fail "cannot derive SLUICE_CLUSTER_HOST (hostname -f is '${fqdn}', no POD_IP, no non-loopback address): set it" \
             "to this node's address as the other nodes reach it, spelled as in SLUICE_SEED_NODES"
    fi
    export SLUICE_CLUSTER_HOST
}

check_ports_and_seeds() {
    local name value seed
    for name in SLUICE_HTTP_PORT SLUICE_CLUSTER_PORT; do
        value=${!name:-}
        [[ -z "$value" || ("$value" =~ ^[0-9]+$ && $value -ge 1 && $value -le 65535) ]] || fail "$name=$value is not a port"
    done
    value=${SLUICE_TLS_PORT:-}
    [[ -z "$value" || "$value" == off || ("$value" =~ ^[0-9]+$ && $value -ge 0 && $value -le 65535) ]] \
        || fail "SLUICE_TLS_PORT=$value is not a port (or off)"
    if [[ -n "${SLUICE_SEED_NODES:-}" ]]; then
        local IFS=,
        for seed in $SLUICE_SEED_NODES; do
            seed=$(trim "$seed")
            [[ "$seed" =~ ^[^:/@]+:[0-9]+$ ]] || fail "SLUICE_SEED_NODES entry '$seed' is not host:port"
        done
        unset IFS
    fi
    if [[ -n "${SLUICE_CASSANDRA_APPLY_SCHEMA:-}" ]]; then
        case "${SLUICE_CASSANDRA_APPLY_SCHEMA,,}" in
            on | off | true | false | yes | no) ;;
            *) fail "SLUICE_CASSANDRA_APPLY_SCHEMA must be on or off" ;;
        esac
    fi
    if [[ -n "${SLUICE_DATA_DIR:-}" ]]; then
        if ! mkdir -p "$SLUICE_DATA_DIR" 2>/dev/null || ! [[ -w "$SLUICE_DATA_DIR" ]]; then
            fail "SLUICE_DATA_DIR=$SLUICE_DATA_DIR is not a writable folder for uid $(id -u)"
        fi
    fi
}

# ---------------------------------------------------------------------------------------------
# Cassandra

tcp_open() {
    local host=$1 port=$2
    if command -v timeout >/dev/null 2>&1; then
        # shellcheck disable=SC2016  # $1 and $2 are expanded by the inner bash
        timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "$port" 2>/dev/null
    else
        (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
    fi
}

wait_for_cassandra() {
    local wait=${SLUICE_CASSANDRA_WAIT_SECONDS:-300}
    [[ "$wait" =~ ^[0-9]+$ ]] || fail "SLUICE_CASSANDRA_WAIT_SECONDS=$wait is not a number of seconds"
    ((wait > 0)) || return 0
    local contacts=${SLUICE_CASSANDRA:-127.0.0.1:9042} cp host port hosts=() ports=()
    local IFS=,
    for cp in $contacts; do
        cp=$(trim "$cp")
        [[ "$cp" =~ ^.+:[0-9]+$ ]] || fail "SLUICE_CASSANDRA entry '$cp' is not host:port"
        host=${cp%:*}
        port=${cp##*:}
        host=${host#[}
        host=${host%]}
        hosts+=("$host")
        ports+=("$port")
    done
    unset IFS
    local deadline=$((SECONDS + wait)) next_note=$((SECONDS + 10)) i
    while :; do
        for i in "${!hosts[@]}"; do
            if tcp_open "${hosts[$i]}" "${ports[$i]}"; then
                log "Cassandra accepts connections at ${hosts[$i]}:${ports[$i]}"
                return 0
            fi
        done
        if ((SECONDS >= deadline)); then
            log "error: no Cassandra contact point ($contacts) accepted a connection within ${wait}s"
            exit "$EX_UNAVAILABLE"
        fi
        if ((SECONDS >= next_note)); then
            log "waiting for Cassandra at $contacts ..."
            next_note=$((SECONDS + 10))
        fi
        sleep 2
    done
}

# ---------------------------------------------------------------------------------------------

main() {
    find_java
    resolve_classpath
    check_ports_and_seeds
    check_secrets
    derive_cluster_host

    local java_opts=()
    read -r -a java_opts <<<"${JAVA_OPTS:-}"
    [[ -z "${SLUICE_CASSANDRA_REPLICATION:-}" ]] || java_opts+=("-Dsluice.cassandra.replication=$SLUICE_CASSANDRA_REPLICATION")
    [[ -z "${SLUICE_CASSANDRA_APPLY_SCHEMA:-}" ]] || java_opts+=("-Dsluice.cassandra.apply-schema=${SLUICE_CASSANDRA_APPLY_SCHEMA,,}")
    local cmd=("$JAVA" ${java_opts[@]+"${java_opts[@]}"} -cp "$SLUICE_CP" "$MAIN_CLASS")

    log "classes: $CLASSPATH_KIND; java: $JAVA"
    log "http=${SLUICE_HTTP_INTERFACE:-127.0.0.1}:${SLUICE_HTTP_PORT:-4567} https=${SLUICE_TLS_PORT:-4443}" \
        "cluster=$SLUICE_CLUSTER_HOST:${SLUICE_CLUSTER_PORT:-25520} ($CLUSTER_HOST_SOURCE)" \
        "seeds=${SLUICE_SEED_NODES:-none}" \
        "cassandra=${SLUICE_CASSANDRA:-127.0.0.1:9042} keyspace=${SLUICE_CASSANDRA_KEYSPACE:-sluice}" \
        "data=${SLUICE_DATA_DIR:-./data}"

    if is_true "${SLUICE_ENTRYPOINT_DRY_RUN:-0}"; then
        printf '%q ' "${cmd[@]}"
        printf '\n'
        exit 0
    fi

    wait_for_cassandra
    exec "${cmd[@]}"
}

main
