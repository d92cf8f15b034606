#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Airflow image's entrypoint (the profile's `entrypoint`; the init runs it as PID 1's child).
# It keeps the conventions users of the official apache/airflow image, its docker-compose file and
# its Helm chart rely on (see docs/airflow.md, "Using the image"):
#
#   docker run IMAGE                      airflow's usage, exit 2 (what `airflow` alone does)
#   docker run IMAGE version              `airflow version`: a bare subcommand is Airflow's
#   docker run IMAGE airflow version      the same
#   docker run IMAGE bash -c '...'        bash, sh, python, python3 and paths (/x, ./x) run as given
#
# Environment, before the command runs:
#   CONNECTION_CHECK_MAX_COUNT (20), CONNECTION_CHECK_SLEEP_TIME (3 s): wait until the metadata
#       database answers (`airflow db check`) when it is a server (not SQLite), and until the Celery
#       broker accepts connections for `scheduler` and `celery ...` under the CeleryExecutor;
#       0 checks nothing
#   _AIRFLOW_DB_MIGRATE=true        `airflow db migrate` (_AIRFLOW_DB_UPGRADE: the old name)
#   _AIRFLOW_WWW_USER_CREATE=true   create the admin user (FAB auth manager): _AIRFLOW_WWW_USER_USERNAME
#       (admin), _AIRFLOW_WWW_USER_PASSWORD or _AIRFLOW_WWW_USER_PASSWORD_CMD (required),
#       _FIRSTNAME, _LASTNAME, _EMAIL, _ROLE (Admin)
#   _PIP_ADDITIONAL_REQUIREMENTS    pip-install these at every start, for trying things out only
#
# Any uid may run the image as long as its group is 0 (OpenShift, AIRFLOW_UID in docker-compose):
# files it creates are group-writable, and a uid without a passwd entry gets USER and LOGNAME.
set -euo pipefail

CONNECTION_CHECK_MAX_COUNT="${CONNECTION_CHECK_MAX_COUNT:-20}"
CONNECTION_CHECK_SLEEP_TIME="${CONNECTION_CHECK_SLEEP_TIME:-3}"

say() { echo "entrypoint: $*" >&2; }

require_group_zero() {
    [ "$(id -g)" = 0 ] && return
    if [ "$(id -u)" = 50000 ]; then
        say "warning: run the image with group 0 (--user 50000:0), so any uid can use its files"
        return
    fi
    say "error: the image runs as uid $(id -u) with group $(id -g); the group must be 0 (--user $(id -u):0)"
    exit 1
}

name_the_user() {
    # Python's getpass and other tools look the user up; an arbitrary uid has no passwd entry.
    if ! id -un > /dev/null 2>&1; then
        export USER="${USER:-default}" LOGNAME="${LOGNAME:-default}"
    fi
}

retry() {
    # retry WHAT COMMAND...: run COMMAND until it succeeds, at most CONNECTION_CHECK_MAX_COUNT times.
    local what="$1" attempt=1 output
    shift
    until output="$("$@" 2>&1)"; do
        if [ "${attempt}" -ge "${CONNECTION_CHECK_MAX_COUNT}" ]; then
            say "error: ${what}: no answer after ${attempt} attempts; last output:"
            echo "${output}" >&2
            exit 1
        fi
        attempt=$((attempt + 1))
        sleep "${CONNECTION_CHECK_SLEEP_TIME}"
    done
}

metadata_db_is_a_server() {
    # SQLite has nothing to wait for. The URL is read without starting Airflow when it is in the
    # environment or the config file; when it comes from a command or a secret, assume a server.
    local url="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:-}"
    if [ -n "${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD:-}${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_SECRET:-}" ]; then
        return 0
    fi
    if [ -z "${url}" ]; then
        local config="${AIRFLOW_CONFIG:-${AIRFLOW_HOME:-/opt/airflow}/airflow.cfg}"
        if [ -f "${config}" ]; then
            url="$(sed -n 's/^[[:space:]]*sql_alchemy_conn[[:space:]]*=[[:space:]]*//p' "${config}" | head -n 1)"
        fi
    fi
    [ -n "${url}" ] && [ "${url#sqlite}" = "${url}" ]
}

tcp_check() {
    python3 - "$1" <<'PYTHON'
import socket, sys
from urllib.parse import urlsplit
url = urlsplit(sys.argv[1])
ports = {"redis": 6379, "rediss": 6379, "amqp": 5672, "amqps": 5671, "sqs": 443}
port = url.port or ports.get(url.scheme.split("+")[0])
if not url.hostname or not port:
    print(f"cannot tell host and port of the broker {url.scheme}://...", file=sys.stderr)
    sys.exit(0)
socket.create_connection((url.hostname, port), timeout=5).close()
PYTHON
}

wait_for_celery_broker() {
    local executor="${AIRFLOW__CORE__EXECUTOR:-}" broker="${AIRFLOW__CELERY__BROKER_URL:-}"
    [ -n "${executor}" ] || executor="$(airflow config get-value core executor 2> /dev/null || true)"
    case "${executor}" in *CeleryExecutor*) ;; *) return ;; esac
    [ -n "${broker}" ] || broker="$(airflow config get-value celery broker_url 2> /dev/null || true)"
    [ -n "${broker}" ] || return
    retry "the Celery broker" tcp_check "${broker}"
}

create_admin_user() {
    local password="${_AIRFLOW_WWW_USER_PASSWORD:-}"
    if [ -n "${_AIRFLOW_WWW_USER_PASSWORD_CMD:-}" ]; then
        password="$(eval "${_AIRFLOW_WWW_USER_PASSWORD_CMD}")"
    fi
    unset _AIRFLOW_WWW_USER_PASSWORD _AIRFLOW_WWW_USER_PASSWORD_CMD
    if [ -z "${password}" ]; then
        say "error: _AIRFLOW_WWW_USER_CREATE needs _AIRFLOW_WWW_USER_PASSWORD or _AIRFLOW_WWW_USER_PASSWORD_CMD"
        exit 1
    fi
    # `airflow users` belongs to the FAB auth manager; an existing user is left as it is.
    airflow users create --username "${_AIRFLOW_WWW_USER_USERNAME:-admin}" \
        --firstname "${_AIRFLOW_WWW_USER_FIRSTNAME:-Airflow}" --lastname "${_AIRFLOW_WWW_USER_LASTNAME:-Admin}" \
        --email "${_AIRFLOW_WWW_USER_EMAIL:-airflowadmin@example.com}" \
        --role "${_AIRFLOW_WWW_USER_ROLE:-Admin}" --password "${password}" \
        || say "warning: no admin user created (does the image have the fab provider and is it the auth manager?)"
}

install_additional_requirements() {
    # Into ~/.local, on PYTHONPATH: the image's own environment stays as it was built. Every start
    # installs them again: build an image FROM this one to keep them.
    local version prefix site
    say "warning: installing _PIP_ADDITIONAL_REQUIREMENTS (${_PIP_ADDITIONAL_REQUIREMENTS}); for trying things"
    say "         out only: extend the image with a Dockerfile instead"
    version="$(python3 -c 'from importlib.metadata import version; print(version("apache-airflow"))')"
    prefix="${HOME}/.local"
    site="$(python3 -c 'import sys, sysconfig; print(sysconfig.get_path("purelib", vars={"base": sys.argv[1]}))' "${prefix}")"
    # The variable holds several requirements split on spaces, as in the official image; `set -f`
    # keeps the words as written: `pkg[extra]` or `*` is never matched against files here.
    local requirements
    set -f
    # shellcheck disable=SC2206 # the word splitting is wanted; globbing is off
    requirements=(${_PIP_ADDITIONAL_REQUIREMENTS})
    set +f
    python3 -m pip install --quiet --no-cache-dir --disable-pip-version-check --prefix "${prefix}" \
        "apache-airflow==${version}" "${requirements[@]}" >&2
    export PYTHONPATH="${site}${PYTHONPATH:+:${PYTHONPATH}}" PATH="${prefix}/bin:${PATH}"
    python3 -m pip check >&2
}

require_group_zero
umask 0002
name_the_user

if [ "${CONNECTION_CHECK_MAX_COUNT}" -gt 0 ] && metadata_db_is_a_server; then
    retry "the metadata database (airflow db check)" airflow db check
fi
if [ -n "${_AIRFLOW_DB_MIGRATE:-}${_AIRFLOW_DB_UPGRADE:-}" ]; then
    [ -z "${_AIRFLOW_DB_UPGRADE:-}" ] || say "warning: _AIRFLOW_DB_UPGRADE is deprecated: use _AIRFLOW_DB_MIGRATE"
    airflow db migrate
fi
if [ -n "${_AIRFLOW_WWW_USER_CREATE:-}" ]; then
    create_admin_user
fi
if [ -n "${_PIP_ADDITIONAL_REQUIREMENTS:-}" ]; then
    install_additional_requirements
fi

case "${1:-}" in
    bash | sh | python | python3 | */*) exec "$@" ;;
    airflow) shift ;;
esac
if [ "${CONNECTION_CHECK_MAX_COUNT}" -gt 0 ] && { [ "${1:-}" = scheduler ] || [ "${1:-}" = celery ]; }; then
    wait_for_celery_broker
fi
exec airflow "$@"
