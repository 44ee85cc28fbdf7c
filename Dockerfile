# The FraudOps images, one target each, from one tree:
#   operator  kopf, the Kubernetes client and an MLflow client; never the training stack
#   training  the training and gate Jobs (`python -m fraud_training.job`)
#   serving   the scoring service (`python -m fraud_inference`): ONNX Runtime, FastAPI, MLflow's
#             skinny client; never the training stack (it scores bundles' serving payloads)
#   all       (the default target) everything in one image, which the chart and the FraudModel
#             defaults still name: ghcr.io/fraudops/fraudops
#
#   docker build --target serving -t ghcr.io/fraudops/fraudops-serving:0.1.0 .
#   docker build -t ghcr.io/fraudops/fraudops:0.1.0 .
#
# BASE is any image with Python 3.11 as `python3` (and its venv module): python:3.11-slim for users
# with Docker; `make images` builds from a Debian bookworm base made with mmdebstrap, using buildah
# (hack/build-images.sh). Each component's third-party stack is a layer of its own, installed from
# pyproject.toml's group before the project's code is copied in, so a code change rebuilds only
# the small last layer. The images run as uid 10001 and need nothing writable but /tmp, so pods can
# set readOnlyRootFilesystem with an emptyDir there.
ARG BASE=python:3.11-slim

FROM ${BASE} AS venv
# The pip/uv certificate bundle when a build runs behind a TLS-inspecting proxy (buildah mounts the
# host's bundle there; see hack/build-images.sh). Unset, the tools use their own.
ARG PIP_CERT=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 UV_LINK_MODE=copy
RUN python3 -m venv /opt/fraudops \
 && env ${PIP_CERT:+PIP_CERT=$PIP_CERT} /opt/fraudops/bin/pip install -q --only-binary :all: uv \
 && mkdir /src
COPY pyproject.toml /src/
COPY hack/images/requirements.py /src/hack/images/

FROM venv AS operator-deps
ARG PIP_CERT=
RUN python3 /src/hack/images/requirements.py /src/pyproject.toml operator >/src/requirements.txt \
 && env ${PIP_CERT:+SSL_CERT_FILE=$PIP_CERT} /opt/fraudops/bin/uv pip install -q --python /opt/fraudops/bin/python \
      --only-binary :all: -r /src/requirements.txt
# Bytecode now: the root filesystem is read-only at run time, so nothing could cache it then (a
# few packages ship test files in other Python dialects, hence `|| true`). uv was the installer only.
RUN (/opt/fraudops/bin/python -m compileall -q -j 0 /opt/fraudops/lib >/dev/null || true) \
 && /opt/fraudops/bin/pip uninstall -q -y uv

FROM venv AS training-deps
ARG PIP_CERT=
RUN python3 /src/hack/images/requirements.py /src/pyproject.toml training >/src/requirements.txt \
 && env ${PIP_CERT:+SSL_CERT_FILE=$PIP_CERT} /opt/fraudops/bin/uv pip install -q --python /opt/fraudops/bin/python \
      --only-binary :all: -r /src/requirements.txt
# Bytecode now: the root filesystem is read-only at run time, so nothing could cache it then (a
# few packages ship test files in other Python dialects, hence `|| true`). uv was the installer only.
RUN (/opt/fraudops/bin/python -m compileall -q -j 0 /opt/fraudops/lib >/dev/null || true) \
 && /opt/fraudops/bin/pip uninstall -q -y uv

FROM venv AS all-deps
ARG PIP_CERT=
RUN python3 /src/hack/images/requirements.py /src/pyproject.toml all >/src/requirements.txt \
 && env ${PIP_CERT:+SSL_CERT_FILE=$PIP_CERT} /opt/fraudops/bin/uv pip install -q --python /opt/fraudops/bin/python \
      --only-binary :all: -r /src/requirements.txt
# Bytecode now: the root filesystem is read-only at run time, so nothing could cache it then (a
# few packages ship test files in other Python dialects, hence `|| true`). uv was the installer only.
RUN (/opt/fraudops/bin/python -m compileall -q -j 0 /opt/fraudops/lib >/dev/null || true) \
 && /opt/fraudops/bin/pip uninstall -q -y uv

FROM venv AS serving-deps
ARG PIP_CERT=
RUN python3 /src/hack/images/requirements.py /src/pyproject.toml serving >/src/requirements.txt \
 && env ${PIP_CERT:+SSL_CERT_FILE=$PIP_CERT} /opt/fraudops/bin/uv pip install -q --python /opt/fraudops/bin/python \
      --only-binary :all: -r /src/requirements.txt
# Bytecode now: the root filesystem is read-only at run time, so nothing could cache it then (a
# few packages ship test files in other Python dialects, hence `|| true`). uv was the installer only.
RUN (/opt/fraudops/bin/python -m compileall -q -j 0 /opt/fraudops/lib >/dev/null || true) \
 && /opt/fraudops/bin/pip uninstall -q -y uv

# The project's own code, without dependencies (they are the layer above), built once for every
# image into a folder of its own: a code change then rebuilds one small layer per image, never a
# virtualenv.
FROM venv AS code
COPY . /src/
ARG PIP_CERT=
RUN env ${PIP_CERT:+SSL_CERT_FILE=$PIP_CERT} /opt/fraudops/bin/uv build -q --wheel --out-dir /wheels /src \
 && /opt/fraudops/bin/pip install -q --no-deps --no-index --target /opt/fraudops-code /wheels/*.whl \
 && /opt/fraudops/bin/python -m compileall -q --invalidation-mode unchecked-hash \
      -d /opt/fraudops-code /opt/fraudops-code >/dev/null

# The runtime: a user of its own, libgomp for the learners (the Debian base has it already), the
# virtualenv first on PATH so `python` is the project's.
FROM ${BASE} AS runtime
RUN echo 'fraudops:x:10001:10001:fraudops:/nonexistent:/usr/sbin/nologin' >>/etc/passwd \
 && echo 'fraudops:x:10001:' >>/etc/group \
 && if ! ls /usr/lib/*-linux-gnu/libgomp.so.1 >/dev/null 2>&1; then \
      apt-get update && apt-get install -y --no-install-recommends libgomp1 \
      && rm -rf /var/lib/apt/lists/*; \
    fi
ENV PATH=/opt/fraudops/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 TMPDIR=/tmp HOME=/tmp \
    MLFLOW_DISABLE_TELEMETRY=true MPLCONFIGDIR=/tmp/matplotlib

FROM runtime AS operator-stack
COPY --from=operator-deps /opt/fraudops /opt/fraudops
ENV PYTHONPATH=/opt/fraudops-code
USER 10001:10001
EXPOSE 8081
CMD ["python", "-m", "fraud_operator"]

FROM operator-stack AS operator
COPY --from=code /opt/fraudops-code /opt/fraudops-code

FROM runtime AS training-stack
COPY --from=training-deps /opt/fraudops /opt/fraudops
ENV PYTHONPATH=/opt/fraudops-code
USER 10001:10001
CMD ["python", "-m", "fraud_training.job"]

FROM training-stack AS training
COPY --from=code /opt/fraudops-code /opt/fraudops-code

# The serving stack only (pyproject's `serving` group): no scikit-learn, XGBoost, LightGBM or
# pandas. The code layer is the whole project's (a few hundred kB); serving imports only the
# training package's light modules (feature definitions, decisions, bundle layout, model URIs).
FROM runtime AS serving-stack
COPY --from=serving-deps /opt/fraudops /opt/fraudops
ENV PYTHONPATH=/opt/fraudops-code
USER 10001:10001
EXPOSE 8080 8081
CMD ["python", "-m", "fraud_inference"]

FROM serving-stack AS serving
COPY --from=code /opt/fraudops-code /opt/fraudops-code

FROM runtime AS all-stack
COPY --from=all-deps /opt/fraudops /opt/fraudops
ENV PYTHONPATH=/opt/fraudops-code
USER 10001:10001
EXPOSE 8080 8081
CMD ["python", "-m", "fraud_inference"]

FROM all-stack AS all
COPY --from=code /opt/fraudops-code /opt/fraudops-code
