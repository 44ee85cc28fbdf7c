"""Put the project's code on top of a component's stack image, as one OCI layer, in seconds.

The Dockerfile's last step for every component is ``COPY --from=code /opt/fraudops-code``: the
project's wheel installed without dependencies into a folder of its own. Rebuilding that with
buildah on vfs storage copies the whole root filesystem once per step (minutes for a 1 GB image),
so `make images` builds the ``<component>-stack`` target with buildah only when the stack changes,
and this module does the last step itself: it builds the same folder from the same wheel, writes
it as an uncompressed layer tar, and writes a new OCI archive whose manifest is the stack's plus
that layer. The result is what ``docker build --target <component>`` gives.

    python code_layer.py code-dir REPO OUT_DIR
    python code_layer.py append STACK_ARCHIVE CODE_DIR DEST_ARCHIVE IMAGE_REF
"""

from __future__ import annotations

import compileall
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

#: Where the Dockerfile's code stage installs the project (PYTHONPATH of every image).
CODE_PREFIX = "opt/fraudops-code"
LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
REF_ANNOTATION = "org.opencontainers.image.ref.name"
#: What the wheel is built from: the Dockerfile's build context (.dockerignore lets in the same).
SOURCES = ("pyproject.toml", "training-jobs", "inference", "operator", "manifests/crds")
#: Files in the layer get this mtime, so the same code gives the same layer digest (the bytecode
#: next to them is compiled against it: unchecked-hash pycs do not look at mtimes at all).
FIXED_MTIME = 315532800


def build_code_dir(repo: Path, out: Path) -> None:
    """The folder the Dockerfile's ``code`` stage makes: the wheel installed with ``--target``.

    Bytecode is compiled as unchecked-hash .pyc (the root filesystem is read-only at run time, so
    nothing could write it later, and the layer's fixed mtimes would invalidate timestamp pycs).
    """
    uv = Path(sys.executable).with_name("uv")
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    with tempfile.TemporaryDirectory(prefix="fraudops-wheel-") as work:
        # A clean copy: setuptools keeps a build/ folder in the source tree, and files deleted
        # from the tree would live on in it (and in the image).
        source, wheels = Path(work) / "src", Path(work) / "wheels"
        for name in SOURCES:
            if (repo / name).is_dir():
                shutil.copytree(repo / name, source / name, symlinks=True, ignore=junk)
            else:
                (source / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(repo / name, source / name)
        subprocess.run(
            [str(uv), "build", "-q", "--wheel", "--out-dir", str(wheels), str(source)],
            check=True,
        )
        wheel = next(wheels.glob("*.whl"))
        staging = out.with_name(out.name + ".part")
        shutil.rmtree(staging, ignore_errors=True)
        subprocess.run(
            [
                str(uv),
                "pip",
                "install",
                "-q",
                "--python",
                sys.executable,
                "--no-deps",
                "--no-index",
                "--target",
                str(staging),
                str(wheel),
            ],
            check=True,
        )
    for path in staging.rglob("*"):
        os.utime(path, (FIXED_MTIME, FIXED_MTIME), follow_symlinks=False)
    compileall.compile_dir(
        str(staging),
        quiet=1,
        ddir=f"/{CODE_PREFIX}",
        invalidation_mode=compileall.py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)


def layer_tar(code_dir: Path) -> bytes:
    """An uncompressed layer adding ``code_dir`` at /opt/fraudops-code, owned by root, sorted."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for parent in ("opt", CODE_PREFIX):
            info = tarfile.TarInfo(parent)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, FIXED_MTIME
            tar.addfile(info)
        for path in sorted(code_dir.rglob("*")):
            info = tar.gettarinfo(str(path), f"{CODE_PREFIX}/{path.relative_to(code_dir)}")
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = FIXED_MTIME
            info.mode = 0o755 if info.isdir() or info.mode & 0o111 else 0o644
            if info.isfile():
                with path.open("rb") as source:
                    tar.addfile(info, source)
            else:
                tar.addfile(info)
    return buffer.getvalue()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _read_member(archive: tarfile.TarFile, name: str) -> bytes:
    member = archive.extractfile(name)
    if member is None:
        raise SystemExit(f"{archive.name}: no {name}")
    return member.read()


def append_layer(stack: Path, code_dir: Path, dest: Path, ref: str) -> None:
    """Write ``dest``: the OCI archive ``stack`` with the code layer on top, tagged ``ref``."""
    layer = layer_tar(code_dir)
    layer_digest = _digest(layer)
    with tarfile.open(stack) as source:
        index = json.loads(_read_member(source, "index.json"))
        if len(index["manifests"]) != 1:
            raise SystemExit(f"{stack}: expected one image, found {len(index['manifests'])}")
        manifest_digest = index["manifests"][0]["digest"]
        manifest = json.loads(_read_member(source, f"blobs/sha256/{manifest_digest[7:]}"))
        config_digest = manifest["config"]["digest"]
        config = json.loads(_read_member(source, f"blobs/sha256/{config_digest[7:]}"))
        config["rootfs"]["diff_ids"].append(layer_digest)
        config.setdefault("history", []).append(
            {"created_by": "COPY --from=code /opt/fraudops-code /opt/fraudops-code"}
        )
        new_config = json.dumps(config, separators=(",", ":")).encode()
        manifest["config"] = {
            "mediaType": CONFIG_MEDIA_TYPE,
            "digest": _digest(new_config),
            "size": len(new_config),
        }
        manifest["layers"].append(
            {"mediaType": LAYER_MEDIA_TYPE, "digest": layer_digest, "size": len(layer)}
        )
        new_manifest = json.dumps(manifest, separators=(",", ":")).encode()
        new_index = json.dumps(
            {
                "schemaVersion": 2,
                "manifests": [
                    {
                        "mediaType": MANIFEST_MEDIA_TYPE,
                        "digest": _digest(new_manifest),
                        "size": len(new_manifest),
                        "annotations": {REF_ANNOTATION: ref},
                    }
                ],
            }
        ).encode()
        kept = {f"blobs/sha256/{layer['digest'][7:]}" for layer in manifest["layers"][:-1]}
        partial = dest.with_name(dest.name + ".part")
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as out:
            for member in source.getmembers():
                if member.isdir() or member.name in kept or member.name == "oci-layout":
                    out.addfile(member, source.extractfile(member))
            for name, data in (
                (f"blobs/sha256/{layer_digest[7:]}", layer),
                (f"blobs/sha256/{manifest['config']['digest'][7:]}", new_config),
                (f"blobs/sha256/{_digest(new_manifest)[7:]}", new_manifest),
                ("index.json", new_index),
            ):
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), 0o644, FIXED_MTIME
                out.addfile(info, io.BytesIO(data))
    partial.rename(dest)


def main(argv: list[str]) -> None:
    if argv[:1] == ["code-dir"] and len(argv) == 3:
        build_code_dir(Path(argv[1]), Path(argv[2]))
    elif argv[:1] == ["append"] and len(argv) == 5:
        append_layer(Path(argv[1]), Path(argv[2]), Path(argv[3]), argv[4])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
