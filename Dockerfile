# Production image of a Python application, built by the release pipeline or by hand:
#
#   docker build .                                    # builds the wheel from this checkout
#   docker build --build-arg PYTHON_BASE_IMAGE=python:3.13-slim-bookworm .
#
# Install sources (INSTALL_FROM):
#   wheel  the *.whl files in docker-context-files/ (exactly the files a release built);
#          when there are none, the wheel is built from the build context
#   index  PACKAGE (name==version) downloaded from PIP_INDEX_URL, with CONSTRAINTS
# Build tools live only in the build stages; the final stage holds the base image, the venv
# (/opt/venv) and a non-root user. See docs/images.md for every build argument and label.

ARG PYTHON_BASE_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_BASE_IMAGE} AS python-base
ENV LANG=C.UTF-8 \
    LC_ALL=C.UTF-8 \
    PYTHONUNBUFFERED=1

#################################################################### build stages
FROM python-base AS build-base
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PIP_NO_INPUT=1
# Compilers, headers, node... for wheels that must be built from source (e.g. "gcc libc6-dev").
ARG BUILD_APT_DEPS=""
# hadolint ignore=DL3008
RUN if [ -n "${BUILD_APT_DEPS}" ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends ${BUILD_APT_DEPS} \
        && rm -rf /var/lib/apt/lists/*; \
    fi
# Declared without a value: an unset ARG leaves pip's own default (and pip.conf) alone.
ARG PIP_INDEX_URL \
    PIP_EXTRA_INDEX_URL \
    PIP_VERSION=26.0.1
# On Python < 3.10 pip trusts only its bundled certifi, not the system's CA store (which may hold
# a proxy's CA): the build stages trust what the base image trusts. The final stage has no pip.conf.
RUN if [ -f /etc/ssl/certs/ca-certificates.crt ]; then \
        printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > /etc/pip.conf; \
    fi \
    && python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-compile "pip==${PIP_VERSION}"
# Turns the Requires-Dist of the wheels (with EXTRAS, for this interpreter) into a requirements
# file, so the dependency layer depends on the dependency list only, not on the wheel's bytes.
# Requirements naming one of the local wheels are left to the wheel install (and their extras
# followed); the names of the local wheels go to /deps/local.txt.
RUN printf '%s\n' \
    'import email, glob, re, sys, zipfile' \
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
    > /opt/requirements-from-wheels.py

FROM build-base AS wheels
COPY . /context
ARG INSTALL_FROM=wheel \
    PACKAGE="" \
    EXTRAS="" \
    CONSTRAINTS="" \
    PIP_INDEX_URL \
    PIP_EXTRA_INDEX_URL
RUN mkdir -p /wheels /deps \
    && if [ -n "${CONSTRAINTS}" ]; then cp "/context/${CONSTRAINTS}" /deps/constraints.txt; \
       else : > /deps/constraints.txt; fi \
    && case "${INSTALL_FROM}" in \
         wheel) \
           if ls /context/docker-context-files/*.whl >/dev/null 2>&1; then \
             cp /context/docker-context-files/*.whl /wheels/; \
           else \
             /opt/venv/bin/pip wheel --no-deps --wheel-dir /wheels /context; \
           fi ;; \
         index) \
           if [ -z "${PACKAGE}" ]; then echo "INSTALL_FROM=index needs PACKAGE=name==version" >&2; exit 1; fi; \
           /opt/venv/bin/pip download --no-deps --only-binary=:all: \
             --constraint /deps/constraints.txt --dest /wheels "${PACKAGE}" ;; \
         *) echo "INSTALL_FROM must be 'wheel' or 'index', not '${INSTALL_FROM}'" >&2; exit 1 ;; \
       esac \
    && /opt/venv/bin/python /opt/requirements-from-wheels.py "${EXTRAS}"

FROM build-base AS deps
ARG DUMB_INIT_VERSION=1.2.5.post1 \
    PIP_INDEX_URL \
    PIP_EXTRA_INDEX_URL
COPY --from=wheels /deps/ /deps/
RUN /opt/venv/bin/pip install "dumb-init==${DUMB_INIT_VERSION}" \
        --requirement /deps/requirements.txt --constraint /deps/constraints.txt \
    && /opt/venv/bin/pip uninstall -y --requirement /deps/local.txt

FROM deps AS app
COPY --from=wheels /wheels/ /wheels/
# --root puts only the application's files under /overlay, so the final image gets them as a
# layer of their own on top of the (cached) dependency layer.
WORKDIR /wheels
RUN /opt/venv/bin/pip install --no-deps --no-index --root /overlay ./*.whl \
    && cp -a /overlay/opt/venv/. /opt/venv/ \
    && /opt/venv/bin/pip check \
    && sha256sum -- *.whl > /overlay/opt/venv/wheels.sha256

#################################################################### final stage
FROM python-base AS final
# System packages the application runs with (none by default, to keep the image small; this
# repository's own pyproject sets `runtime-apt-deps = "git gnupg subversion"`).
ARG RUNTIME_APT_DEPS=""
# hadolint ignore=DL3008
RUN if [ -n "${RUNTIME_APT_DEPS}" ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends ${RUNTIME_APT_DEPS} \
        && apt-get clean \
        && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log; \
    fi
ARG APP_UID=50000 \
    APP_USER=app \
    APP_HOME="" \
    APP_HOME_ENV=APP_HOME
# gid 0 and a group-writable home: OpenShift runs the image as an arbitrary uid in group 0.
# APP_HOME (e.g. /opt/airflow, exported as AIRFLOW_HOME via APP_HOME_ENV) gets the same treatment.
RUN useradd --no-log-init --uid "${APP_UID}" --gid 0 --create-home \
        --home-dir "/home/${APP_USER}" --shell /bin/bash "${APP_USER}" \
    && chmod g=u "/home/${APP_USER}" \
    && if [ -n "${APP_HOME}" ]; then \
         mkdir -p "${APP_HOME}" && chown "${APP_UID}:0" "${APP_HOME}" && chmod g=u "${APP_HOME}"; \
       fi
# Everything that does not depend on the application comes before its layers, so a source-only
# change rebuilds just the two COPY layers and the labels.
ENV PATH=/opt/venv/bin:${PATH} \
    VIRTUAL_ENV=/opt/venv \
    HOME=/home/${APP_USER} \
    ${APP_HOME_ENV}=${APP_HOME:-/home/${APP_USER}}
USER ${APP_UID}:0
WORKDIR ${APP_HOME:-/home/${APP_USER}}
ENTRYPOINT ["/opt/venv/bin/dumb-init", "--"]
CMD ["bash"]
COPY --from=deps /opt/venv /opt/venv
COPY --from=app /overlay/opt/venv /opt/venv

# Labels come last so that changing them never invalidates a filesystem layer.
ARG PYTHON_BASE_IMAGE \
    BASE_IMAGE_DIGEST="" \
    IMAGE_TITLE="" \
    IMAGE_VERSION="" \
    IMAGE_SOURCE="" \
    IMAGE_LICENSES="" \
    IMAGE_VENDOR="" \
    WHEEL_SHA256="" \
    INPUT_HASH=""
LABEL org.opencontainers.image.title="${IMAGE_TITLE}" \
      org.opencontainers.image.version="${IMAGE_VERSION}" \
      org.opencontainers.image.source="${IMAGE_SOURCE}" \
      org.opencontainers.image.licenses="${IMAGE_LICENSES}" \
      org.opencontainers.image.vendor="${IMAGE_VENDOR}" \
      org.opencontainers.image.base.name="${PYTHON_BASE_IMAGE}" \
      org.opencontainers.image.base.digest="${BASE_IMAGE_DIGEST}" \
      org.release-pipeline.wheel.sha256="${WHEEL_SHA256}" \
      org.release-pipeline.input-hash="${INPUT_HASH}"
# The name of the image's SBOM (published with the release; see docs/provenance.md).
ARG IMAGE_SBOM=""
LABEL org.release-pipeline.sbom="${IMAGE_SBOM}"
# Volatile labels (different on every build) last of all.
ARG IMAGE_REVISION="" \
    IMAGE_CREATED=""
LABEL org.opencontainers.image.revision="${IMAGE_REVISION}" \
      org.opencontainers.image.created="${IMAGE_CREATED}"
