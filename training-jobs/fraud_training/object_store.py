"""Reading a data set from S3-compatible object storage (``s3://bucket/key``).

A local path means nothing inside a cluster, so a training Job reads its data from object storage.
The object is downloaded to a scratch file that keeps the key's file name: the loaders then detect
the format (``.csv``, ``.csv.gz``, ``.parquet``) and hash the bytes exactly as for a local file.

Where and as whom come from the standard AWS configuration, never from the FraudModel spec:
``AWS_ENDPOINT_URL_S3`` (or ``AWS_ENDPOINT_URL``) for an S3-compatible store such as SeaweedFS or
MinIO, ``AWS_REGION``, and the credential chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``
from a Secret, or IRSA's web identity on EKS). The service-specific endpoint variable is the one the
operator sets, so IRSA's STS calls still go to AWS.

Any storage failure (credentials refused, no such bucket or key, endpoint unreachable) becomes a
:class:`StorageError` naming the URI and the store's own error, with an exit code of its own so the
operator can tell it apart from bad input.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from fraud_training.errors import DataError, FraudOpsError

S3_SCHEME = "s3://"
#: Failures to reach an object the spec names are retried a few times, then reported.
MAX_ATTEMPTS = 3
CONNECT_TIMEOUT_SECONDS = 10
READ_TIMEOUT_SECONDS = 60
CHUNK = 1 << 20
#: What the store's error codes mean to the person who wrote the URI.
PROBLEMS = {
    "NoSuchBucket": "the bucket does not exist",
    "NoSuchKey": "the object does not exist",
    "InvalidAccessKeyId": "the access key is not known to the store",
    "SignatureDoesNotMatch": "the secret key is wrong",
    "AccessDenied": "access denied to the credentials used",
    "InvalidToken": "the session token is not valid",
    "ExpiredToken": "the session token has expired",
}


class StorageError(FraudOpsError):
    """The object store refused or could not serve the object: a person must fix the URI, the
    bucket, the credentials or the endpoint. Its exit code tells the operator it is storage."""

    exit_code = 3


@dataclass(frozen=True)
class ObjectLocation:
    """Where one object is: its bucket and key."""

    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"{S3_SCHEME}{self.bucket}/{self.key}"


def is_object_uri(source: str | os.PathLike[str]) -> bool:
    """Whether ``source`` names an object in S3-compatible storage rather than a local file."""
    return str(source).startswith(S3_SCHEME)


def parse_object_uri(uri: str) -> ObjectLocation:
    """``s3://bucket/key`` as its bucket and key; a URI without both is a :class:`DataError`."""
    bucket, _, key = uri.removeprefix(S3_SCHEME).partition("/")
    if not uri.startswith(S3_SCHEME) or not bucket or not key or key.endswith("/"):
        raise DataError(f"{uri}: not an object URI of the form s3://bucket/key")
    return ObjectLocation(bucket, key)


def _client(environ: Mapping[str, str]) -> Any:
    """An S3 client configured by the standard variables; path-style addressing when an endpoint
    is given (S3-compatible stores rarely serve bucket subdomains)."""
    import boto3
    from botocore.config import Config

    endpoint = environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL") or None
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        s3={"addressing_style": "path"} if endpoint else None,
    )
    session = boto3.session.Session()
    # The SDK's own region (its config file) before the S3 default; S3 redirects to the
    # bucket's region in any case.
    region = region or session.region_name or "us-east-1"
    return session.client("s3", endpoint_url=endpoint, region_name=region, config=config)


def _problem(error: Exception) -> str:
    """One line saying what the store answered (or why it could not be asked)."""
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = str(
            details.get("Code")
            or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "error")
        )
        text = details.get("Message") or ""
        problem = PROBLEMS.get(code, "the store refused the request")
        return f"{problem} ({code}{': ' + text if text else ''})"
    if isinstance(error, EndpointConnectionError):
        return f"the endpoint cannot be reached ({error})"
    if isinstance(error, NoCredentialsError):
        return (
            "no credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or give the pod "
            "an IAM role)"
        )
    return f"{type(error).__name__}: {error}"


def download(uri: str, directory: Path, environ: Mapping[str, str] | None = None) -> Path:
    """The object at ``uri`` written to ``directory`` under its key's file name (so its suffix
    still says its format). Raises :class:`StorageError` naming the URI and the store's error."""
    from botocore.exceptions import BotoCoreError, ClientError

    location = parse_object_uri(uri)
    target = Path(directory) / PurePosixPath(location.key).name
    environ = os.environ if environ is None else environ
    try:
        body = _client(environ).get_object(Bucket=location.bucket, Key=location.key)["Body"]
        with target.open("wb") as out:
            while chunk := body.read(CHUNK):
                out.write(chunk)
    except (BotoCoreError, ClientError) as error:
        target.unlink(missing_ok=True)
        raise StorageError(f"{uri}: {_problem(error)}") from None
    except OSError as error:
        target.unlink(missing_ok=True)
        raise DataError(f"{uri}: cannot be written to {target} ({error.strerror})") from None
    return target


@contextmanager
def local_copy(
    source: str | os.PathLike[str], environ: Mapping[str, str] | None = None
) -> Iterator[Path]:
    """A local file holding ``source``'s bytes while the context lasts: the path itself for a
    local path (``file://`` stripped), a scratch download for ``s3://``, removed afterwards."""
    text = str(source)
    if not is_object_uri(text):
        yield Path(text.removeprefix("file://"))
        return
    with tempfile.TemporaryDirectory(prefix="fraudops-object-") as scratch:
        yield download(text, Path(scratch), environ)
