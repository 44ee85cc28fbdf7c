"""`helm test` check of one bundled service from inside the cluster: exit 0 when it answers as
the platform needs, else a one-line reason on stderr and exit 1.

Standard library plus the drivers in the project image (psycopg, redis); the S3 request is signed
here (AWS Signature V4) because boto3 is not in the image. Settings come from the environment the
test pod's template sets (credentials through secretKeyRef).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def check_mlflow() -> str:
    """The tracking server answers, reads its PostgreSQL store and lists its artifact store."""
    base = os.environ["MLFLOW_URL"].rstrip("/")
    status, body = _get(f"{base}/api/2.0/mlflow/experiments/search?max_results=1")
    if status != 200:
        raise RuntimeError(f"experiments/search answered {status}: {body[:200]!r}")
    status, body = _get(f"{base}/api/2.0/mlflow-artifacts/artifacts")
    if status != 200:
        raise RuntimeError(f"artifact listing (object store behind MLflow) answered {status}")
    return "MLflow: backend store and served artifacts reachable"


def check_postgresql() -> str:
    """The audit database accepts the generated login."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=10) as connection:
        (one,) = connection.execute("SELECT 1").fetchone()
    if one != 1:
        raise RuntimeError("SELECT 1 did not return 1")
    return "PostgreSQL: login and query work"


def check_redis() -> str:
    """The online feature store answers PING."""
    import redis

    if not redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=10).ping():
        raise RuntimeError("PING was not answered")
    return "Redis: PING answered"


def _sign(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def check_object_store() -> str:
    """MLflow's bucket exists and the generated access key may list it (a signed ListObjectsV2)."""
    endpoint = urllib.parse.urlsplit(os.environ["S3_ENDPOINT"])
    bucket, region = os.environ["S3_BUCKET"], os.environ.get("S3_REGION", "us-east-1")
    access, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    now = datetime.datetime.now(datetime.UTC)
    stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    query = "list-type=2&max-keys=1"
    empty = hashlib.sha256(b"").hexdigest()
    canonical = "\n".join(
        [
            "GET",
            f"/{bucket}",
            query,
            f"host:{endpoint.netloc}\nx-amz-content-sha256:{empty}\nx-amz-date:{stamp}\n",
            "host;x-amz-content-sha256;x-amz-date",
            empty,
        ]
    )
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _sign(_sign(_sign(_sign(f"AWS4{secret}".encode(), day), region), "s3"), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = (
        f"AWS4-HMAC-SHA256 Credential={access}/{scope}, "
        f"SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}"
    )
    status, body = _get(
        f"{endpoint.scheme}://{endpoint.netloc}/{bucket}?{query}",
        {"Authorization": authorization, "x-amz-date": stamp, "x-amz-content-sha256": empty},
    )
    if status != 200:
        raise RuntimeError(f"ListObjectsV2 of bucket {bucket} answered {status}: {body[:200]!r}")
    return f"object store: bucket {bucket} listed with the generated key"


def check_prometheus() -> str:
    """Prometheus is ready and has loaded the chart's rule groups."""
    base = os.environ["PROMETHEUS_URL"].rstrip("/")
    status, _ = _get(f"{base}/-/ready")
    if status != 200:
        raise RuntimeError(f"/-/ready answered {status}")
    status, body = _get(f"{base}/api/v1/rules")
    groups = json.loads(body)["data"]["groups"] if status == 200 else []
    if not groups:
        raise RuntimeError("no rule groups loaded (is the prometheus-rules ConfigMap mounted?)")
    return f"Prometheus: ready, {len(groups)} rule groups loaded"


CHECKS = {
    "mlflow": check_mlflow,
    "postgresql": check_postgresql,
    "redis": check_redis,
    "object-store": check_object_store,
    "prometheus": check_prometheus,
}


def main(argv: list[str]) -> int:
    """Run the check named by the one argument."""
    if len(argv) != 1 or argv[0] not in CHECKS:
        print(f"usage: check_service.py {{{','.join(CHECKS)}}}", file=sys.stderr)
        return 2
    try:
        print(CHECKS[argv[0]]())
    except Exception as error:  # the verdict is the one-line reason, not a trace
        print(f"{argv[0]}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
