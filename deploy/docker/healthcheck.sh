#!/usr/bin/env bash
# healthcheck.sh: exit 0 when this node answers GET /health with 200, else 1. Used by the image's
# HEALTHCHECK; needs only bash (the runtime image has no curl). Port: SLUICE_HTTP_PORT (4567).
set -uo pipefail

port=${SLUICE_HTTP_PORT:-4567}
host=${SLUICE_HTTP_INTERFACE:-127.0.0.1}
[[ "$host" == 0.0.0.0 || "$host" == "::" || -z "$host" ]] && host=127.0.0.1

exec 3<>"/dev/tcp/$host/$port" || exit 1
printf 'GET /health HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' "$host" "$port" >&3 || exit 1
IFS= read -r -t 4 status <&3 || exit 1
exec 3<&-
[[ "$status" =~ ^HTTP/1\.[01]\ 200 ]]
