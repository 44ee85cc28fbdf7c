"""The code layer `make images` puts on a component's stack: the same OCI image plus one layer."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hack" / "images"))
import code_layer

REF = "ghcr.io/fraudops/fraudops-serving:0.1.0"


def blob(data: bytes) -> tuple[str, bytes]:
    return "sha256:" + hashlib.sha256(data).hexdigest(), data


def write_stack(path: Path) -> dict:
    """A one-layer OCI archive as buildah writes it (a layer holding /etc/os-release)."""
    layer_buffer = io.BytesIO()
    with tarfile.open(fileobj=layer_buffer, mode="w") as tar:
        data = b"ID=debian\n"
        info = tarfile.TarInfo("etc/os-release")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    layer_digest, layer = blob(layer_buffer.getvalue())
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"User": "10001:10001", "Env": ["PYTHONPATH=/opt/fraudops-code"]},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created_by": "base"}],
    }
    config_digest, config_bytes = blob(json.dumps(config).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": code_layer.MANIFEST_MEDIA_TYPE,
        "config": {
            "mediaType": code_layer.CONFIG_MEDIA_TYPE,
            "digest": config_digest,
            "size": len(config_bytes),
        },
        "layers": [
            {"mediaType": code_layer.LAYER_MEDIA_TYPE, "digest": layer_digest, "size": len(layer)}
        ],
    }
    manifest_digest, manifest_bytes = blob(json.dumps(manifest).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": code_layer.MANIFEST_MEDIA_TYPE,
                "digest": manifest_digest,
                "size": len(manifest_bytes),
                "annotations": {code_layer.REF_ANNOTATION: REF + "-stack"},
            }
        ],
    }
    with tarfile.open(path, "w") as tar:
        for name, data in (
            ("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
            (f"blobs/sha256/{layer_digest[7:]}", layer),
            (f"blobs/sha256/{config_digest[7:]}", config_bytes),
            (f"blobs/sha256/{manifest_digest[7:]}", manifest_bytes),
            ("index.json", json.dumps(index).encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return config


def read_image(path: Path) -> tuple[dict, dict, dict, dict[str, bytes]]:
    """Index, manifest, config and every blob (by digest) of an OCI archive."""
    with tarfile.open(path) as archive:
        files = {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}
    blobs = {
        f"sha256:{name[13:]}": data for name, data in files.items() if name.startswith("blobs")
    }
    index = json.loads(files["index.json"])
    manifest = json.loads(blobs[index["manifests"][0]["digest"]])
    config = json.loads(blobs[manifest["config"]["digest"]])
    return index, manifest, config, blobs


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "code"
    (folder / "fraud_inference").mkdir(parents=True)
    (folder / "fraud_inference" / "__init__.py").write_text("VERSION = 1\n")
    return folder


def test_the_code_goes_on_top_as_one_layer_under_opt_fraudops_code(
    tmp_path: Path, code_dir: Path
) -> None:
    write_stack(tmp_path / "stack.tar")

    code_layer.append_layer(tmp_path / "stack.tar", code_dir, tmp_path / "image.tar", REF)

    _, manifest, _, blobs = read_image(tmp_path / "image.tar")
    with tarfile.open(fileobj=io.BytesIO(blobs[manifest["layers"][-1]["digest"]])) as layer:
        names, owners = layer.getnames(), {m.uid for m in layer.getmembers()}
    assert len(manifest["layers"]) == 2
    assert "opt/fraudops-code/fraud_inference/__init__.py" in names
    assert owners == {0}


def test_every_digest_of_the_new_image_is_that_of_its_blob(tmp_path: Path, code_dir: Path) -> None:
    write_stack(tmp_path / "stack.tar")

    code_layer.append_layer(tmp_path / "stack.tar", code_dir, tmp_path / "image.tar", REF)

    index, manifest, config, blobs = read_image(tmp_path / "image.tar")
    for descriptor in [index["manifests"][0], manifest["config"], *manifest["layers"]]:
        data = blobs[descriptor["digest"]]
        assert descriptor["digest"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert descriptor["size"] == len(data)
    assert config["rootfs"]["diff_ids"][-1] == manifest["layers"][-1]["digest"]


def test_the_image_keeps_the_stacks_settings_and_takes_the_components_name(
    tmp_path: Path, code_dir: Path
) -> None:
    stack_config = write_stack(tmp_path / "stack.tar")

    code_layer.append_layer(tmp_path / "stack.tar", code_dir, tmp_path / "image.tar", REF)

    index, _, config, _ = read_image(tmp_path / "image.tar")
    assert config["config"] == stack_config["config"]
    assert index["manifests"][0]["annotations"][code_layer.REF_ANNOTATION] == REF


def test_the_same_code_gives_the_same_layer(tmp_path: Path, code_dir: Path) -> None:
    write_stack(tmp_path / "stack.tar")

    code_layer.append_layer(tmp_path / "stack.tar", code_dir, tmp_path / "one.tar", REF)
    code_layer.append_layer(tmp_path / "stack.tar", code_dir, tmp_path / "two.tar", REF)

    assert read_image(tmp_path / "one.tar")[1] == read_image(tmp_path / "two.tar")[1]
