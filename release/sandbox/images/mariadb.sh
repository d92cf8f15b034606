#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# MariaDB from Debian, set up by the environment variables the official mariadb image reads
# (MYSQL_* spellings too): MARIADB_ROOT_PASSWORD or MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1,
# MARIADB_DATABASE, MARIADB_USER and MARIADB_PASSWORD (that user gets every right on that
# database). The first start of an empty /var/lib/mysql creates the system tables; later starts
# reuse them. Any command other than `mariadbd` runs as given.
set -euo pipefail
datadir=/var/lib/mysql

if [ "${1:-mariadbd}" != mariadbd ]; then
    exec "$@"
fi
if [ "$(id -u)" = 0 ]; then
    mkdir -p "${datadir}" /run/mysqld
    chown -R mysql:mysql "${datadir}" /run/mysqld
    exec runuser -u mysql -- "$0" "$@"
fi

quote() {  # a SQL string literal
    local text="${1//"'"/"''"}"
    printf "'%s'" "${text}"
}

if [ ! -d "${datadir}/mysql" ]; then
    root_password="${MARIADB_ROOT_PASSWORD:-${MYSQL_ROOT_PASSWORD:-}}"
    allow_empty="${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-${MYSQL_ALLOW_EMPTY_PASSWORD:-}}"
    database="${MARIADB_DATABASE:-${MYSQL_DATABASE:-}}"
    user="${MARIADB_USER:-${MYSQL_USER:-}}"
    password="${MARIADB_PASSWORD:-${MYSQL_PASSWORD:-}}"
    if [ -z "${root_password}" ] && [ -z "${allow_empty}" ]; then
        echo "error: set MARIADB_ROOT_PASSWORD (or MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1) for a new database" >&2
        exit 1
    fi
    mariadb-install-db --datadir="${datadir}" --auth-root-authentication-method=normal \
        --skip-test-db > /dev/null
    socket=/run/mysqld/setup.sock
    mariadbd --datadir="${datadir}" --skip-networking --socket="${socket}" &
    server=$!
    for _ in $(seq 60); do
        mariadb-admin --socket="${socket}" --user=root ping > /dev/null 2>&1 && break
        sleep 1
    done
    {
        echo "CREATE USER 'root'@'%' IDENTIFIED BY $(quote "${root_password}");"
        echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
        if [ -n "${database}" ]; then
            echo "CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
        fi
        if [ -n "${user}" ]; then
            echo "CREATE USER $(quote "${user}")@'%' IDENTIFIED BY $(quote "${password}");"
            if [ -n "${database}" ]; then
                echo "GRANT ALL ON \`${database}\`.* TO $(quote "${user}")@'%';"
            fi
        fi
        echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $(quote "${root_password}");"
    } | mariadb --socket="${socket}" --user=root
    kill "${server}"
    wait "${server}" || true
    echo "created the system tables${database:+ and database ${database}} in ${datadir}"
fi
exec mariadbd --datadir="${datadir}" --bind-address=0.0.0.0 \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci
