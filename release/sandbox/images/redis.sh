#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Redis from Debian, answering on every interface without protected mode (as the official redis
# image does), keeping its data in /data. `redis-server ARGS` adds ARGS; any other command runs
# as given.
set -euo pipefail
if [ "${1:-redis-server}" != redis-server ]; then
    exec "$@"
fi
if [ "$(id -u)" = 0 ]; then
    mkdir -p /data
    chown redis:redis /data
    exec runuser -u redis -- "$0" "$@"
fi
shift || true
exec redis-server --bind 0.0.0.0 --protected-mode no --dir /data --save '' "$@"
