# SPDX-License-Identifier: Apache-2.0
# Production image of a Python application, built by the release pipeline or by hand:
#
#   docker build .                                    # builds the wheel from this checkout
#   docker build --build-arg PYTHON_BASE_IMAGE=python:3.13-slim-bookworm .
#   docker build --build-arg INSTALLER=pip .          # pip instead of uv in the build stages
#
# Install sources (INSTALL_FROM):
#   wheel  the *.whl files in docker-context-files/ (exactly the files a release built);
#          when there are none, the wheel is built from the build context
#   index  PACKAGE (name==version) downloaded from PIP_INDEX_URL, with CONSTRAINTS
# Build tools (uv, compilers, the helper scripts) live only in the build stages; the final stage
# holds the base image, the venv (/opt/venv, with pip) and a non-root user. See docs/images.md for
# every build argument and label.

ARG PYTHON_BASE_IMAGE=python:3.11-slim-bookworm

#################################################################### runtime stage
# What the final image holds besides the venv: the base image, the runtime packages, the user and
# the image's configuration. The build stages start from it too, so the dependency stage's cache
# image (see below) carries these layers as well: a runner that starts with an empty engine gets
# all of them from that one image.
FROM ${PYTHON_BASE_IMAGE} AS runtime
# RUNTIME_APT_DEPS: system packages the application runs with (none by default, to keep the image
# small; this repository's own pyproject sets `runtime-apt-deps = "git gnupg subversion"`).
# gid 0 and a group-writable home: OpenShift runs the image as an arbitrary uid in group 0.
# APP_HOME (e.g. /opt/airflow, exported as AIRFLOW_HOME via APP_HOME_ENV) gets the same treatment.
ARG RUNTIME_APT_DEPS="" \
    APP_UID=50000 \
    APP_USER=app \
    APP_HOME="" \
    APP_HOME_ENV=APP_HOME
# hadolint ignore=DL3008
RUN set -eu; \
    if [ -n "${RUNTIME_APT_DEPS}" ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends ${RUNTIME_APT_DEPS} \
        && apt-get clean \
        && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log; \
    fi; \
    useradd --no-log-init --uid "${APP_UID}" --gid 0 --create-home \
        --home-dir "/home/${APP_USER}" --shell /bin/bash "${APP_USER}"; \
    chmod g=u "/home/${APP_USER}"; \
    if [ -n "${APP_HOME}" ]; then \
        mkdir -p "${APP_HOME}" && chown "${APP_UID}:0" "${APP_HOME}" && chmod g=u "${APP_HOME}"; \
    fi
ENV LANG=C.UTF-8 \
    LC_ALL=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:${PATH} \
    VIRTUAL_ENV=/opt/venv \
    HOME=/home/${APP_USER} \
    ${APP_HOME_ENV}=${APP_HOME:-/home/${APP_USER}}
USER ${APP_UID}:0
WORKDIR ${APP_HOME:-/home/${APP_USER}}
ENTRYPOINT ["/opt/venv/bin/dumb-init", "--"]
CMD ["bash"]

#################################################################### build stages
FROM runtime AS build-base
USER root
# UV_NATIVE_TLS / UV_SYSTEM_CERTS (old and new name): uv trusts the system's CA store, as pip
# does with the pip.conf below (which may hold a proxy's CA).
ENV HOME=/root \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PIP_NO_INPUT=1 \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_NATIVE_TLS=1 \
    UV_SYSTEM_CERTS=1 \
    UV_LINK_MODE=copy \
    PATH=/opt/build/bin:${PATH}
# BUILD_APT_DEPS: compilers, headers, node... for wheels that must be built from source.
# INSTALLER: uv (default) or pip; either way the venv gets pip==PIP_VERSION (uncompiled, as
# `pip install --no-compile` leaves it) and no setuptools, and uv stays in the build stages.
# PIP_INDEX_URL / PIP_EXTRA_INDEX_URL are declared without a value: unset, pip's own default (and
# pip.conf) applies; uv is given them as --index-url / --extra-index-url.
ARG BUILD_APT_DEPS="" \
    INSTALLER=uv \
    UV_VERSION=0.13.9 \
    PIP_VERSION=26.0.1 \
    PIP_INDEX_URL \
    PIP_EXTRA_INDEX_URL
# One step: the helper scripts, the installer, the venv.
#   /opt/build/fetch-wheels.py DIR BIN name==version...
#     wheels from the index, concurrently, checked against the sha256 the index lists: uv's
#     binary goes to BIN (no pip needed to get uv), pip's wheel to DIR (run from the wheel file,
#     it downloads PACKAGE and parses requirements; installed into the venv last).
#   /opt/build/bin/venv-pip install|uninstall|check|download|wheel ARGS
#     pip for /opt/venv through the chosen installer.
#   /opt/build/requirements-from-wheels.py EXTRAS
#     turns the Requires-Dist of the wheels (with EXTRAS, for this interpreter) into a requirements
#     file, so the dependency layer depends on the dependency list only, not on the wheel's bytes.
#     Requirements naming one of the local wheels are left to the wheel install (and their extras
#     followed); the names of the local wheels go to /deps/local.txt.
# On Python < 3.10 pip trusts only its bundled certifi, not the system's CA store, and python3's
# own TLS may not read the system's bundle file (Debian 11 has no /usr/lib/ssl/cert.pem): pip.conf
# and SSL_CERT_FILE point both at it, which may hold a proxy's CA. The final stage has none of this.
# hadolint ignore=DL3008,SC2016
RUN set -eu; \
    if [ -n "${BUILD_APT_DEPS}" ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends ${BUILD_APT_DEPS} \
        && rm -rf /var/lib/apt/lists/*; \
    fi; \
    if [ -f /etc/ssl/certs/ca-certificates.crt ]; then \
        printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > /etc/pip.conf; \
        export SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt; \
    fi; \
    mkdir -p /opt/build/bin /opt/build/wheels; \
    printf '%s\n' \
    'import concurrent.futures, hashlib, html, io, json, os, platform, re, sys, urllib.parse, urllib.request, zipfile' \
    'wheel_dir, bin_dir, specs = sys.argv[1], sys.argv[2], sys.argv[3:]' \
    'arch = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine())' \
    'libc = "manylinux" if platform.libc_ver()[0] == "glibc" else "musllinux"' \
    'indexes = [os.environ.get("PIP_INDEX_URL") or "https://pypi.org/simple/"]' \
    'indexes += os.environ.get("PIP_EXTRA_INDEX_URL", "").split()' \
    'accept = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"' \
    'def listing(page):' \
    '    with urllib.request.urlopen(urllib.request.Request(page, headers={"Accept": accept}), timeout=60) as answer:' \
    '        kind, body = answer.headers.get_content_type(), answer.read()' \
    '    if kind.endswith("json"):' \
    '        return [(f["filename"], urllib.parse.urljoin(page, f["url"]), f.get("hashes", {}).get("sha256"))' \
    '                for f in json.loads(body)["files"]]' \
    '    found = []' \
    '    for href in re.findall(r"href=\"([^\"]+)\"", body.decode()):' \
    '        url, _, fragment = html.unescape(href).partition("#")' \
    '        sha = fragment[7:] if fragment.startswith("sha256=") else None' \
    '        found.append((urllib.parse.unquote(url.rsplit("/", 1)[-1]), urllib.parse.urljoin(page, url), sha))' \
    '    return found' \
    'def fetch(spec):' \
    '    name, version = spec.split("==")' \
    '    wanted = re.compile(r"%s-%s-py3-none-(any|.*%s[_0-9]*_%s)\.whl$" % (name, re.escape(version), libc, arch))' \
    '    for index in indexes:' \
    '        try:' \
    '            files = listing("%s/%s/" % (index.rstrip("/"), name))' \
    '        except OSError as exc:' \
    '            print("%s: %s" % (index, exc), file=sys.stderr)' \
    '            continue' \
    '        for filename, url, sha in files:' \
    '            if not (wanted.match(filename) and sha):' \
    '                continue' \
    '            with urllib.request.urlopen(url, timeout=300) as answer:' \
    '                blob = answer.read()' \
    '            if hashlib.sha256(blob).hexdigest() != sha:' \
    '                sys.exit("%s: sha256 differs from the one %s lists" % (filename, index))' \
    '            if name != "uv":' \
    '                with open(os.path.join(wheel_dir, filename), "wb") as out:' \
    '                    out.write(blob)' \
    '                return' \
    '            with zipfile.ZipFile(io.BytesIO(blob)) as wheel:' \
    '                member = [n for n in wheel.namelist() if n.endswith(".data/scripts/uv")][0]' \
    '                with open(os.path.join(bin_dir, "uv"), "wb") as out:' \
    '                    out.write(wheel.read(member))' \
    '            os.chmod(os.path.join(bin_dir, "uv"), 0o755)' \
    '            return' \
    '    sys.exit("no %s wheel for %s %s on %s" % (spec, libc, arch, " ".join(indexes)))' \
    'with concurrent.futures.ThreadPoolExecutor() as pool:' \
    '    list(pool.map(fetch, specs))' \
    > /opt/build/fetch-wheels.py; \
    printf '%s\n' \
    '#!/bin/sh' \
    'set -eu' \
    'command=$1; shift' \
    'if [ "$(cat /opt/build/installer)" = pip ]; then' \
    '    [ "$command" = uninstall ] && set -- -y "$@"' \
    '    exec /opt/venv/bin/pip "$command" "$@"' \
    'fi' \
    'case "$command" in' \
    '    install)' \
    '        for url in ${PIP_EXTRA_INDEX_URL:-}; do set -- --extra-index-url "$url" "$@"; done' \
    '        [ -n "${PIP_INDEX_URL:-}" ] && set -- --index-url "$PIP_INDEX_URL" "$@"' \
    '        exec uv pip install --python /opt/venv/bin/python "$@" ;;' \
    '    uninstall|check) exec uv pip "$command" --python /opt/venv/bin/python "$@" ;;' \
    '    *) for wheel in /opt/build/wheels/pip-*.whl; do exec /opt/venv/bin/python "$wheel/pip" "$command" "$@"; done ;;' \
    'esac' \
    > /opt/build/bin/venv-pip; \
    chmod 755 /opt/build/bin/venv-pip; \
    printf '%s\n' \
    'import email, glob, re, sys, zipfile' \
    'sys.path[:0] = glob.glob("/opt/build/wheels/pip-*.whl")' \
    'from pip._vendor.packaging.requirements import Requirement' \
    'def norm(name): return re.sub(r"[-_.]+", "-", name).lower()' \
    'requires = {}' \
    'for path in sorted(glob.glob("/wheels/*.whl")):' \
    '    with zipfile.ZipFile(path) as wheel:' \
    '        meta = [n for n in wheel.namelist() if re.match(r"[^/]+\.dist-info/METADATA$", n)]' \
    '        message = email.message_from_bytes(wheel.read(meta[0]))' \
    '    requires[norm(message["Name"])] = message.get_all("Requires-Dist") or []' \
    'if not requires: sys.exit("no wheel to install in /wheels")' \
    'extras = [""] + [e.strip() for e in sys.argv[1].split(",") if e.strip()]' \
    'todo = [(name, extra) for name in requires for extra in extras]' \
    'seen, lines = set(), set()' \
    'while todo:' \
    '    name, extra = item = todo.pop()' \
    '    if item in seen: continue' \
    '    seen.add(item)' \
    '    for text in requires[name]:' \
    '        req = Requirement(text)' \
    '        if req.marker is not None and not req.marker.evaluate({"extra": extra}): continue' \
    '        if norm(req.name) in requires:' \
    '            todo += [(norm(req.name), e) for e in req.extras]' \
    '            continue' \
    '        req.marker = None' \
    '        lines.add(str(req))' \
    'open("/deps/requirements.txt", "w").write("".join(x + "\n" for x in sorted(lines)))' \
    'open("/deps/local.txt", "w").write("".join(x + "\n" for x in sorted(requires)))' \
    > /opt/build/requirements-from-wheels.py; \
    echo "${INSTALLER}" > /opt/build/installer; \
    case "${INSTALLER}" in \
        uv) \
            python3 /opt/build/fetch-wheels.py /opt/build/wheels /opt/build/bin \
                "uv==${UV_VERSION}" "pip==${PIP_VERSION}"; \
            uv venv --quiet --python "$(command -v python3)" /opt/venv; \
            rm -f /opt/venv/.gitignore /opt/venv/CACHEDIR.TAG /opt/venv/.lock ;; \
        pip) \
            python3 -m venv /opt/venv; \
            venv-pip install --quiet --no-compile "pip==${PIP_VERSION}"; \
            venv-pip uninstall --quiet setuptools ;; \
        *) echo "INSTALLER must be 'uv' or 'pip', not '${INSTALLER}'" >&2; exit 1 ;; \
    esac

# The release's wheels, the requirement list derived from them, and the application installed
# (without dependencies) under /overlay: the final image gets it as a layer of its own on top of
# the dependency layer. `pip check` of the whole venv is the smoke test's job, on the final image.
FROM build-base AS wheels
ARG INSTALL_FROM=wheel \
    PACKAGE="" \
    EXTRAS="" \
    CONSTRAINTS="" \
    PIP_INDEX_URL \
    PIP_EXTRA_INDEX_URL
COPY . /context
RUN set -eu; \
    mkdir -p /wheels /deps /overlay/opt/venv; \
    if [ -n "${CONSTRAINTS}" ]; then cp "/context/${CONSTRAINTS}" /deps/constraints.txt; \
    else : > /deps/constraints.txt; fi; \
    installer=$(cat /opt/build/installer); \
    case "${INSTALL_FROM}" in \
        wheel) \
            if ls /context/docker-context-files/*.whl >/dev/null 2>&1; then \
                cp /context/docker-context-files/*.whl /wheels/; \
            elif [ "${installer}" = uv ]; then \
                uv build --quiet --wheel --python /opt/venv/bin/python --out-dir /wheels /context; \
            else \
                venv-pip wheel --quiet --no-deps --wheel-dir /wheels /context; \
            fi ;; \
        index) \
            if [ -z "${PACKAGE}" ]; then echo "INSTALL_FROM=index needs PACKAGE=name==version" >&2; exit 1; fi; \
            venv-pip download --quiet --no-deps --only-binary=:all: \
                --constraint /deps/constraints.txt --dest /wheels "${PACKAGE}" ;; \
        *) echo "INSTALL_FROM must be 'wheel' or 'index', not '${INSTALL_FROM}'" >&2; exit 1 ;; \
    esac; \
    /opt/venv/bin/python /opt/build/requirements-from-wheels.py "${EXTRAS}" & requirements=$!; \
    cd /wheels; \
    if [ "${installer}" = uv ]; then \
        UV_COMPILE_BYTECODE=1 venv-pip install --quiet --no-deps --no-index --prefix /overlay/opt/venv ./*.whl; \
        rm -f /overlay/opt/venv/.lock /overlay/opt/venv/lib/python*/site-packages/*.dist-info/uv_cache.json; \
    else \
        venv-pip install --quiet --no-deps --no-index --root /overlay ./*.whl; \
    fi; \
    sha256sum -- *.whl > /overlay/opt/venv/wheels.sha256; \
    wait "${requirements}"
# The image's entrypoint, run by the init: ENTRYPOINT_SCRIPT names a script in the build context
# (the application's own, e.g. one that accepts bare subcommands); without one, the command runs
# as given, and a shell when there is none. Only the final stage reads it (not the deps stage).
ARG ENTRYPOINT_SCRIPT=""
RUN if [ -n "${ENTRYPOINT_SCRIPT}" ]; then \
        install -m 0755 "/context/${ENTRYPOINT_SCRIPT}" /entrypoint; \
    else \
        printf '%s\n' '#!/bin/sh' '[ "$#" -gt 0 ] || set -- bash' 'exec "$@"' > /entrypoint \
        && chmod 0755 /entrypoint; \
    fi

# The dependency layer: the release pipeline pushes this stage as a cache image under the hash of
# its inputs, so a fresh CI runner pulls it instead of installing the dependencies again.
FROM build-base AS deps
ARG DUMB_INIT_VERSION=1.2.5.post1 \
    PIP_INDEX_URL \
    PIP_EXTRA_INDEX_URL
COPY --from=wheels /deps/ /deps/
# Dependencies are compiled to .pyc (the venv is read-only to the app's user); pip comes last,
# uncompiled, from the wheel the build stage fetched (uv) or already in the venv (pip).
RUN set -eu; \
    UV_COMPILE_BYTECODE=1 venv-pip install --quiet "dumb-init==${DUMB_INIT_VERSION}" \
        --requirement /deps/requirements.txt --constraint /deps/constraints.txt; \
    venv-pip uninstall --quiet --requirement /deps/local.txt; \
    [ -e /opt/venv/bin/pip ] || venv-pip install --quiet --no-index --no-deps /opt/build/wheels/pip-*.whl; \
    rm -f /opt/venv/.lock /opt/venv/bin/*.bat

#################################################################### final stage
# The runtime stage, the venv's dependencies, the application: a source-only change rebuilds just
# the application's layer and the labels. The label args come before the layers (an ARG step does
# not depend on the value given, and no RUN follows); the labels come last, so changing them never
# invalidates a filesystem layer. Revision and created differ on every build.
FROM runtime AS final
ARG PYTHON_BASE_IMAGE \
    BASE_IMAGE_DIGEST="" \
    IMAGE_TITLE="" \
    IMAGE_VERSION="" \
    IMAGE_SOURCE="" \
    IMAGE_LICENSES="" \
    IMAGE_VENDOR="" \
    WHEEL_SHA256="" \
    INPUT_HASH="" \
    IMAGE_SBOM="" \
    IMAGE_REVISION="" \
    IMAGE_CREATED=""
COPY --from=wheels /entrypoint /entrypoint
ENTRYPOINT ["/opt/venv/bin/dumb-init", "--", "/entrypoint"]
CMD []
COPY --from=deps /opt/venv /opt/venv
COPY --from=wheels /overlay/opt/venv /opt/venv
LABEL org.opencontainers.image.title="${IMAGE_TITLE}" \
      org.opencontainers.image.version="${IMAGE_VERSION}" \
      org.opencontainers.image.source="${IMAGE_SOURCE}" \
      org.opencontainers.image.licenses="${IMAGE_LICENSES}" \
      org.opencontainers.image.vendor="${IMAGE_VENDOR}" \
      org.opencontainers.image.base.name="${PYTHON_BASE_IMAGE}" \
      org.opencontainers.image.base.digest="${BASE_IMAGE_DIGEST}" \
      org.release-pipeline.wheel.sha256="${WHEEL_SHA256}" \
      org.release-pipeline.input-hash="${INPUT_HASH}" \
      org.release-pipeline.sbom="${IMAGE_SBOM}" \
      org.opencontainers.image.revision="${IMAGE_REVISION}" \
      org.opencontainers.image.created="${IMAGE_CREATED}"
