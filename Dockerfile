# One image for the operator, the training Jobs and the serving pods (the command differs).
#   docker build -t ghcr.io/fraudops/fraudops:0.1.0 .
# Built outside this repository's CI, which has no container engine; see docs/deploy-kind.md.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY training-jobs training-jobs
COPY inference inference
COPY operator operator
# The operator reads the CRD's defaults from it (operator/fraud_operator/fraudmodel-crd.yaml links here).
COPY manifests/crds manifests/crds
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN groupadd --gid 10001 fraudops && useradd --uid 10001 --gid 10001 --no-create-home fraudops \
 && apt-get update && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /install /usr/local
ENV PYTHONUNBUFFERED=1 TMPDIR=/tmp MLFLOW_DISABLE_TELEMETRY=true
USER 10001:10001
EXPOSE 8080 8081
CMD ["python", "-m", "fraud_inference"]
