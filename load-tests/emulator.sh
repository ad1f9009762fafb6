#!/usr/bin/env bash
# emulator.sh: run a third-party Kinesis or DynamoDB emulator on 127.0.0.1, to load-test it side by side with Sluice.
#
#   load-tests/emulator.sh start kinesis-mock|kinesalite|dynalite [--port N] [--dir D] [--fresh]
#   load-tests/emulator.sh stop  kinesis-mock|kinesalite|dynalite
#   load-tests/emulator.sh status [kinesis-mock|kinesalite|dynalite]
#
# start installs the npm package on first use (pinned version, into load-tests/target/emulators/<name>),
# starts it in the background with its pid file and log (<name>.pid, <name>.log) in that directory,
# waits until it answers HTTP and prints the endpoint URL on stdout (everything else goes to stderr):
#
#   load-tests/bench.sh put-records -Dendpoint=$(load-tests/emulator.sh start kinesalite)
#   load-tests/bench.sh dynamodb get-item -Dendpoint=$(load-tests/emulator.sh start dynalite)
#
# kinesis-mock (npm kinesis-local): plain HTTP on --port (default 4610); its HTTPS listener, which
#   cannot be turned off, gets a free port from the kernel. In memory, unless --dir is given: then its
#   state is written to D/kinesis-data.json every 5 s and read back on start.
# kinesalite: HTTP on --port (default 4611), LevelDB in D/leveldb (default D: <that directory>/data).
# dynalite (DynamoDB): HTTP on --port (default 4612), in memory unless --dir is given: then LevelDB in
#   D/dynalite-leveldb. Table create/delete/update delays are 10 ms, like the stream delays below.
# --fresh deletes the emulator's data in D (D/leveldb, D/kinesis-data.json, D/dynalite-leveldb) before starting.
#
# The Kinesis emulators bind every interface on their own (dynalite is told --host 127.0.0.1); a
# preloaded module (loopback.cjs, written next to the log) makes them listen on 127.0.0.1 only.
# Stream create/delete/update delays are 10 ms and the shard limits are raised; neither Kinesis emulator
# enforces per-shard throughput limits (no ProvisionedThroughputExceededException) to begin with. kinesis-mock's variables (SHARD_LIMIT, CREATE_STREAM_DURATION,
# LOG_LEVEL, ...) set in the environment win over the values set here.
#
# Needs node (18 or later, dynalite 20 or later; tested with 20), npm and curl on PATH.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
BASE=$HERE/target/emulators
START_TIMEOUT=90   # kinesis-mock takes ~3 s to start on an idle machine, much more while Maven builds
STOP_TIMEOUT=15
DELAY=10ms         # kinesis-mock's durations; kinesalite gets the same in ms

die() { printf 'emulator.sh: %s\n' "$*" >&2; exit 1; }
say() { printf '%s\n' "$*" >&2; }

usage() {
    sed -n '4,6s/^# *//p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

# name -> npm package, pinned version, default port
package_of() {
    case $1 in
        kinesis-mock) echo kinesis-local ;;
        kinesalite) echo kinesalite ;;
        dynalite) echo dynalite ;;
        *) die "unknown emulator '$1': kinesis-mock, kinesalite or dynalite" ;;
    esac
}
version_of() {
    case $1 in
        kinesis-mock) echo 0.6.2 ;;
        kinesalite) echo 3.3.3 ;;
        dynalite) echo 4.0.0 ;;
    esac
}
default_port() {
    case $1 in
        kinesis-mock) echo 4610 ;;
        kinesalite) echo 4611 ;;
        dynalite) echo 4612 ;;
    esac
}

need_tools() {
    local name=$1 t
    for t in node npm curl; do
        command -v "$t" >/dev/null 2>&1 || die "$t not found on PATH"
    done
    local major least=18
    [[ "$name" == dynalite ]] && least=20
    major=$(node -p 'process.versions.node.split(".")[0]')
    ((major >= least)) || die "node $(node --version) is too old: $name needs Node $least or later"
}

# pid of the running emulator, or nothing (also cleans up a stale pid file)
running_pid() {
    local name=$1 home=$BASE/$1 pid
    [[ -f "$home/$name.pid" ]] || return 0
    pid=$(<"$home/$name.pid")
    # the pid must still be our node process, not a recycled pid
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
        && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$home/"; then
        echo "$pid"
    else
        rm -f "$home/$name.pid" "$home/$name.port"
    fi
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# any HTTP answer counts: an unsigned ListStreams gets 400 MissingAuthenticationTokenException from the
# Kinesis emulators, and 400 UnknownOperationException from dynalite
answers() {
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -X POST "http://127.0.0.1:$1/" \
        -H 'Content-Type: application/x-amz-json-1.1' -H 'X-Amz-Target: Kinesis_20131202.ListStreams' \
        -d '{}' 2>/dev/null) || true
    [[ "$code" =~ ^[1-5][0-9][0-9]$ ]]
}

install() {
    local name=$1 home=$BASE/$1 pkg version installed
    pkg=$(package_of "$name")
    version=$(version_of "$name")
    installed=$(node -p "try { require('$home/node_modules/$pkg/package.json').version } catch (e) { '' }")
    [[ "$installed" == "$version" ]] && return 0
    say "emulator.sh: installing $pkg@$version into ${home#"$HERE"/}"
    mkdir -p "$home"
    local log=$home/npm-install.log
    # the registry is whatever npm is configured with; --no-save: no package.json in $home
    if ! npm install --no-package-lock --no-save --no-audit --no-fund --prefix "$home" "$pkg@$version" >"$log" 2>&1; then
        cat "$log" >&2
        die "npm install $pkg@$version failed"
    fi
    if [[ "$name" == kinesalite ]]; then
        # LevelDB comes as a prebuilt N-API addon inside the leveldown package (linux-x64 and others)
        node -e "require('$home/node_modules/leveldown')" 2>>"$log" \
            || die "kinesalite's leveldown does not load on this machine (no prebuilt addon?): see $log"
    fi
    if [[ "$name" == dynalite ]]; then
        # its LevelDB (used with --dir) is classic-level's prebuilt addon; in memory it needs none
        node -e "require('$home/node_modules/classic-level')" 2>>"$log" \
            || say "emulator.sh: dynalite's classic-level does not load here (see $log): only in-memory runs will work"
    fi
}

write_preload() {
    cat >"$1" <<'EOF'
'use strict'
// Written by load-tests/emulator.sh. The emulators listen on all interfaces (kinesis-mock hard-codes
// 0.0.0.0, kinesalite passes no host); rewrite such listen() calls to EMULATOR_BIND_HOST (127.0.0.1).
const net = require('net')
const host = process.env.EMULATOR_BIND_HOST || '127.0.0.1'
const wildcard = h => h == null || h === '' || h === '0.0.0.0' || h === '::'
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  const a = args[0]
  if (a !== null && typeof a === 'object' && !Array.isArray(a)) {
    if (a.path == null && a.fd == null && a.handle == null && a._handle == null && wildcard(a.host)) args[0] = { ...a, host }
  } else if (a == null || typeof a === 'number' || (typeof a === 'string' && /^\d+$/.test(a))) {
    if (typeof args[1] === 'string') { if (wildcard(args[1])) args[1] = host } else args.splice(1, 0, host)
  }
  return listen.apply(this, args)
}
EOF
}

cmd_start() {
    local name=${1:-}
    [[ -n "$name" ]] || usage
    shift
    package_of "$name" >/dev/null
    local port dir='' fresh=0
    port=$(default_port "$name")
    while (($#)); do
        case $1 in
            --port) [[ "${2:-}" =~ ^[0-9]+$ ]] || die "--port needs a number"; port=$2; shift 2 ;;
            --dir) [[ -n "${2:-}" ]] || die "--dir needs a directory"; dir=$2; shift 2 ;;
            --fresh) fresh=1; shift ;;
            *) die "unknown argument '$1'" ;;
        esac
    done
    need_tools "$name"
    local home=$BASE/$name pid
    pid=$(running_pid "$name")
    if [[ -n "$pid" ]]; then
        local was
        was=$(cat "$home/$name.port" 2>/dev/null || echo '?')
        [[ "$was" == "$port" ]] || die "$name already runs on port $was (pid $pid): stop it first"
        say "emulator.sh: $name already runs (pid $pid)"
        echo "http://127.0.0.1:$port"
        return 0
    fi
    port_busy "$port" && die "something already listens on 127.0.0.1:$port"

    install "$name"
    local persist=1
    if [[ -z "$dir" ]]; then
        dir=$home/data
        [[ "$name" == kinesis-mock || "$name" == dynalite ]] && persist=0
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    if ((fresh)); then
        local data
        case $name in
            kinesis-mock) data=$dir/kinesis-data.json ;;
            kinesalite) data=$dir/leveldb ;;
            dynalite) data=$dir/dynalite-leveldb ;;
        esac
        say "emulator.sh: deleting $data"
        rm -rf "$data"
    fi
    write_preload "$home/loopback.cjs"

    local log=$home/$name.log main
    local -a envs cmd
    case $name in
        kinesis-mock)
            main=$home/node_modules/kinesis-local/main.js
            envs=(
                "KINESIS_MOCK_PLAIN_PORT=$port"
                "KINESIS_MOCK_TLS_PORT=${KINESIS_MOCK_TLS_PORT:-0}"
                # it reads the certificate relative to the working directory otherwise
                "KINESIS_MOCK_CERT_PATH=${KINESIS_MOCK_CERT_PATH:-$home/node_modules/kinesis-local/server.json}"
                "SHARD_LIMIT=${SHARD_LIMIT:-100000}"
                "ON_DEMAND_STREAM_COUNT_LIMIT=${ON_DEMAND_STREAM_COUNT_LIMIT:-1000}"
                "SHOULD_PERSIST_DATA=$([[ $persist == 1 ]] && echo true || echo false)"
                "PERSIST_PATH=$dir"
                # its cats-effect runtime warns about CPU starvation whenever a request takes >100 ms
                "CATS_EFFECT_CPU_STARVATION_CHECK_INITIAL_DELAY=${CATS_EFFECT_CPU_STARVATION_CHECK_INITIAL_DELAY:-Inf}"
            )
            # 0.6.2 reads some of these under each other's names: set them all
            local v
            for v in CREATE_STREAM DELETE_STREAM REGISTER_STREAM_CONSUMER DEREGISTER_STREAM_CONSUMER \
                     START_STREAM_ENCRYPTION STOP_STREAM_ENCRYPTION MERGE_SHARDS SPLIT_SHARD \
                     UPDATE_SHARD_COUNT UPDATE_STREAM_MODE; do
                local var=${v}_DURATION
                envs+=("$var=${!var:-$DELAY}")
            done
            cmd=(node --require "$home/loopback.cjs" "$main")
            ;;
        kinesalite)
            main=$home/node_modules/kinesalite/cli.js
            envs=()
            cmd=(node --require "$home/loopback.cjs" "$main" --port "$port" --path "$dir/leveldb"
                 --createStreamMs "${DELAY%ms}" --deleteStreamMs "${DELAY%ms}" --updateStreamMs "${DELAY%ms}"
                 --shardLimit 100000)
            ;;
        dynalite)
            main=$home/node_modules/dynalite/cli.js
            envs=()
            cmd=(node --require "$home/loopback.cjs" "$main" --host 127.0.0.1 --port "$port"
                 --createTableMs "${DELAY%ms}" --deleteTableMs "${DELAY%ms}" --updateTableMs "${DELAY%ms}")
            if [[ $persist == 1 ]]; then cmd+=(--path "$dir/dynalite-leveldb"); fi
            ;;
    esac

    {
        printf '=== %s: %s@%s on 127.0.0.1:%s, data %s\n' "$(date -u +%FT%TZ)" \
            "$(package_of "$name")" "$(version_of "$name")" "$port" \
            "$([[ $persist == 1 ]] && echo "$dir" || echo 'in memory')"
    } >>"$log"
    (cd "$home" && exec nohup env "${envs[@]+"${envs[@]}"}" "${cmd[@]}" </dev/null >>"$log" 2>&1) &
    pid=$!
    echo "$pid" >"$home/$name.pid"
    echo "$port" >"$home/$name.port"

    local waited=0
    until answers "$port"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$home/$name.pid" "$home/$name.port"
            tail -n 20 "$log" >&2
            die "$name exited during start-up (log: $log)"
        fi
        ((waited < START_TIMEOUT * 5)) || { kill "$pid" 2>/dev/null || true; die "$name did not answer on port $port within ${START_TIMEOUT}s (log: $log)"; }
        sleep 0.2
        waited=$((waited + 1))
    done
    say "emulator.sh: $name $(version_of "$name") runs as pid $pid; log $log"
    echo "http://127.0.0.1:$port"
}

cmd_stop() {
    local name=${1:-}
    [[ -n "$name" ]] || usage
    package_of "$name" >/dev/null
    local home=$BASE/$name pid
    pid=$(running_pid "$name")
    if [[ -z "$pid" ]]; then
        say "emulator.sh: $name is not running"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    local waited=0
    while kill -0 "$pid" 2>/dev/null; do
        if ((waited >= STOP_TIMEOUT * 5)); then
            say "emulator.sh: $name (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
    rm -f "$home/$name.pid" "$home/$name.port"
    say "emulator.sh: $name stopped"
}

cmd_status() {
    local names=("$@") name pid
    ((${#names[@]})) || names=(kinesis-mock kinesalite dynalite)
    for name in "${names[@]}"; do
        package_of "$name" >/dev/null
        pid=$(running_pid "$name")
        if [[ -n "$pid" ]]; then
            local port
            port=$(cat "$BASE/$name/$name.port" 2>/dev/null || echo '?')
            if answers "$port"; then
                echo "$name: running, pid $pid, http://127.0.0.1:$port"
            else
                echo "$name: pid $pid, not answering on port $port"
            fi
        else
            echo "$name: stopped"
        fi
    done
}

case ${1:-} in
    start) shift; cmd_start "$@" ;;
    stop) shift; (($# == 1)) || usage; cmd_stop "$1" ;;
    status) shift; cmd_status "$@" ;;
    -h|--help|help) usage ;;
    *) usage ;;
esac
