#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# PostgreSQL from Debian, set up by the environment variables the official postgres image reads:
# POSTGRES_USER (default postgres, the superuser initdb creates), POSTGRES_PASSWORD (required
# unless POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB (default: the user's name), PGDATA
# (default /var/lib/postgresql/data). The first start of an empty data directory creates the
# cluster; later starts reuse it. Any command other than `postgres` runs as given.
set -euo pipefail
PATH="$(echo /usr/lib/postgresql/*/bin):${PATH}"
export PATH PGDATA="${PGDATA:-/var/lib/postgresql/data}"

if [ "${1:-postgres}" != postgres ]; then
    exec "$@"
fi
if [ "$(id -u)" = 0 ]; then
    mkdir -p "${PGDATA}" /var/run/postgresql
    chown -R postgres:postgres "${PGDATA}" /var/run/postgresql
    chmod 700 "${PGDATA}"
    exec runuser -u postgres -- "$0" "$@"
fi

if [ ! -s "${PGDATA}/PG_VERSION" ]; then
    user="${POSTGRES_USER:-postgres}"
    database="${POSTGRES_DB:-${user}}"
    method="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
    if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${method}" != trust ]; then
        echo "error: set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust) for a new database" >&2
        exit 1
    fi
    password_file="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD:-}" > "${password_file}"
    initdb --username="${user}" --pwfile="${password_file}" --auth-local=trust \
        --auth-host="${method}" --pgdata="${PGDATA}" > /dev/null
    rm -f "${password_file}"
    echo "listen_addresses = '*'" >> "${PGDATA}/postgresql.conf"
    echo "host all all all ${method}" >> "${PGDATA}/pg_hba.conf"
    pg_ctl --pgdata="${PGDATA}" --options="-c listen_addresses=''" --wait --silent start
    if [ "${database}" != postgres ]; then
        psql --quiet --set ON_ERROR_STOP=1 --username="${user}" --dbname=postgres \
            --command="CREATE DATABASE \"${database//\"/\"\"}\""
    fi
    pg_ctl --pgdata="${PGDATA}" --mode=fast --wait --silent stop
    echo "created database ${database} owned by ${user} in ${PGDATA}"
fi
exec postgres -D "${PGDATA}"
