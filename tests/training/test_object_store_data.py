"""``s3://bucket/key`` data read from a real S3-compatible store (SeaweedFS, started by the
harness): the same results as the local file, and every storage failure a distinct exit code with
one line naming the URI and the store's error."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fraud_training.generator import GeneratorConfig, generate_transactions, write_transactions
from fraud_training.object_store import StorageError
from fraud_training.tracking import TrackingTarget
from localservices.object_store_server import ObjectStoreServer
from localservices.ports import free_port
from mlflow.tracking import MlflowClient

pytestmark = pytest.mark.services

FRAUDCTL = Path(sys.executable).with_name("fraudctl")
BUCKET = "training-data"
STORAGE_EXIT = StorageError.exit_code


def run(
    command: list[str], environ: dict[str, str], extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A process with the store's variables (and ``extra``); rich's line wrapping undone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        command,
        env={**env, **environ, **(extra or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )
    result.stdout, result.stderr = (" ".join(out.split()) for out in (result.stdout, result.stderr))
    return result


def fraudctl(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run([str(FRAUDCTL), *args], environ)


@pytest.fixture(scope="module")
def local_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated transactions as CSV: small enough to train in seconds."""
    frame = generate_transactions(GeneratorConfig(rows=8_000, fraud_rate=0.04, seed=11))
    return write_transactions(frame, tmp_path_factory.mktemp("s3data") / "transactions.csv")


@pytest.fixture(scope="module")
def store(object_store: ObjectStoreServer, local_csv: Path) -> ObjectStoreServer:
    """The session's store with the bucket holding the CSV and its gzipped copy."""
    if BUCKET not in {b["Name"] for b in object_store.client().list_buckets()["Buckets"]}:
        object_store.create_bucket(BUCKET)
    object_store.put(BUCKET, "cards/transactions.csv", local_csv)
    gzipped = local_csv.with_suffix(".csv.gz")
    with local_csv.open("rb") as raw, gzip.open(gzipped, "wb") as out:
        shutil.copyfileobj(raw, out)
    object_store.put(BUCKET, "cards/transactions.csv.gz", gzipped)
    return object_store


def summary_lines(stdout: str, source: str) -> str:
    """check-data's table without its title, which names the source."""
    return stdout.replace(f"{source} is valid", "")


def measured(summary: dict) -> dict[str, float]:
    """A run's metrics without its timings, which no two runs share."""
    return {k: v for k, v in summary["metrics"].items() if not k.endswith("_seconds")}


def test_check_data_of_an_s3_csv_prints_the_local_files_summary(
    store: ObjectStoreServer, local_csv: Path
) -> None:
    uri = f"s3://{BUCKET}/cards/transactions.csv"

    remote = fraudctl(store.environ(), "check-data", uri)
    local = fraudctl(store.environ(), "check-data", str(local_csv))

    assert remote.returncode == 0, remote.stderr
    assert f"{uri} is valid" in remote.stdout
    assert summary_lines(remote.stdout, uri) == summary_lines(local.stdout, str(local_csv))


def test_check_data_reads_a_gzipped_csv_object(store: ObjectStoreServer) -> None:
    result = fraudctl(store.environ(), "check-data", f"s3://{BUCKET}/cards/transactions.csv.gz")

    assert result.returncode == 0, result.stderr
    assert "8,000" in result.stdout


def test_train_on_an_s3_csv_gives_the_local_files_metrics_and_lineage(
    store: ObjectStoreServer, local_csv: Path, local_tracking: TrackingTarget, tmp_path: Path
) -> None:
    uri = f"s3://{BUCKET}/cards/transactions.csv"
    summaries = {}
    for name, data in (("remote", uri), ("local", str(local_csv))):
        out = tmp_path / f"{name}.json"
        result = fraudctl(
            store.environ(),
            "train",
            data,
            "--name",
            f"fraud-s3-{name}",
            "--param",
            "n_estimators=20",
            "--tracking-uri",
            local_tracking.tracking_uri,
            "--summary-out",
            str(out),
        )
        assert result.returncode == 0, result.stderr
        summaries[name] = json.loads(out.read_text())

    remote, local = summaries["remote"], summaries["local"]
    assert measured(remote) == measured(local)
    assert remote["lineage"]["sha256"] == local["lineage"]["sha256"]
    assert remote["lineage"]["source"] == uri


def test_a_wrong_secret_key_fails_the_job_with_the_storage_code_and_registers_nothing(
    store: ObjectStoreServer, local_tracking: TrackingTarget
) -> None:
    uri = f"s3://{BUCKET}/cards/transactions.csv"
    spec = {
        "fraudModel": {"namespace": "risk", "name": "cards", "generation": 1},
        "data": {"uri": uri},
        "training": {"hyperparameters": {"n_estimators": 5}},
        "registry": {"modelName": "fraud-s3-denied", "trackingUri": local_tracking.tracking_uri},
    }

    result = run(
        [sys.executable, "-m", "fraud_training.job"],
        store.environ(AWS_SECRET_ACCESS_KEY="not-the-secret"),
        {"FRAUDOPS_JOB_SPEC": json.dumps(spec), "FRAUDOPS_JOB_NAME": "cards-train-x"},
    )

    assert result.returncode == STORAGE_EXIT
    assert f"error: {uri}: the secret key is wrong (SignatureDoesNotMatch" in result.stderr
    assert "Traceback" not in result.stderr
    client = MlflowClient(local_tracking.tracking_uri)
    assert client.search_model_versions("name = 'fraud-s3-denied'") == []


def test_a_missing_bucket_exits_with_the_storage_code_naming_the_uri(
    store: ObjectStoreServer,
) -> None:
    uri = "s3://no-such-bucket/transactions.csv"

    result = fraudctl(store.environ(), "check-data", uri)

    assert result.returncode == STORAGE_EXIT
    assert f"{uri}: the bucket does not exist (NoSuchBucket" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_object_exits_with_the_storage_code_naming_the_uri(
    store: ObjectStoreServer,
) -> None:
    uri = f"s3://{BUCKET}/cards/nothing-here.csv"

    result = fraudctl(store.environ(), "check-data", uri)

    assert result.returncode == STORAGE_EXIT
    assert f"{uri}: the object does not exist (NoSuchKey" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_object_that_is_not_a_data_set_is_bad_input_naming_the_uri(
    store: ObjectStoreServer, tmp_path: Path
) -> None:
    uri = f"s3://{BUCKET}/cards/not-transactions.csv"
    unrelated = tmp_path / "not-transactions.csv"
    unrelated.write_text("colour,size\nred,3\n")
    store.put(BUCKET, "cards/not-transactions.csv", unrelated)

    result = fraudctl(store.environ(), "check-data", uri)

    assert result.returncode == 2
    assert uri in result.stderr
    assert "fraudops-object-" not in result.stderr  # not the scratch copy's path
    assert "Traceback" not in result.stderr


def test_an_unreachable_endpoint_exits_with_the_storage_code_naming_the_uri(
    store: ObjectStoreServer,
) -> None:
    uri = f"s3://{BUCKET}/cards/transactions.csv"
    nobody = f"http://127.0.0.1:{free_port()}"

    result = fraudctl(store.environ(AWS_ENDPOINT_URL_S3=nobody), "check-data", uri)

    assert result.returncode == STORAGE_EXIT
    assert f"{uri}: the endpoint cannot be reached" in result.stderr
    assert nobody in result.stderr
    assert "Traceback" not in result.stderr


def test_an_s3_uri_without_a_key_is_bad_input_not_a_storage_error() -> None:
    result = fraudctl({}, "check-data", "s3://just-a-bucket")

    assert result.returncode == 2
    assert "s3://just-a-bucket: not an object URI of the form s3://bucket/key" in result.stderr
