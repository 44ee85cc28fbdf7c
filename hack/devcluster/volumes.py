"""Persistent volumes for the devcluster's one node: what kind's local-path provisioner gives.

The chart's StatefulSets (PostgreSQL, the object store) claim storage through
volumeClaimTemplates. The devcluster has no CSI driver and no provisioner, so the harness offers
pre-made hostPath PersistentVolumes of one StorageClass (`STORAGE_CLASS`, no provisioner), folders
under the cluster's working directory that vanish with it. The PV controller binds a claim of that
class to the smallest free volume that fits. Folders are world-writable with the sticky bit, as
/tmp is: the services run as their upstream images' non-root users, and a hostPath volume is never
chowned to a pod's fsGroup.

Pure builders (name in, manifest out) and one function that creates the folders and applies them.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

from .cluster import DevCluster

#: The class the devcluster values file asks for (charts/fraudops/values-devcluster.yaml).
STORAGE_CLASS = "devcluster-local"
#: The capacity each volume advertises; hostPath does not enforce it.
VOLUME_SIZE = "20Gi"
LABEL = "fraudops.io/devcluster-volume"


def storage_class() -> dict[str, Any]:
    """A StorageClass without a provisioner: claims bind to the volumes made below, or wait."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": STORAGE_CLASS},
        "provisioner": "kubernetes.io/no-provisioner",
        "volumeBindingMode": "Immediate",
        "reclaimPolicy": "Retain",
    }


def host_path_volume(name: str, path: Path, size: str = VOLUME_SIZE) -> dict[str, Any]:
    """One ReadWriteOnce volume on the node's folder `path`, kept when its claim goes (Retain:
    the harness deletes it and its folder when it is done, `release_volumes`)."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": {LABEL: "true"}},
        "spec": {
            "capacity": {"storage": size},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": STORAGE_CLASS,
            "hostPath": {"path": str(path), "type": "Directory"},
        },
    }


def provide_volumes(cluster: DevCluster, count: int) -> list[str]:
    """Create `count` fresh volumes (folders and PersistentVolumes) and the StorageClass; return
    the volumes' names."""
    root = cluster.workdir / "volumes"
    manifests = [storage_class()]
    names = []
    for _ in range(count):
        name = f"devcluster-pv-{uuid.uuid4().hex[:8]}"
        folder = root / name
        folder.mkdir(parents=True)
        folder.chmod(0o1777)
        manifests.append(host_path_volume(name, folder))
        names.append(name)
    cluster.kubectl(
        "apply",
        "-f",
        "-",
        input=json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests}),
    )
    return names


def release_volumes(cluster: DevCluster) -> None:
    """Delete every volume `provide_volumes` made that no claim holds any more (Released or
    Available), with its folder: the next install starts from empty storage."""
    listing = json.loads(cluster.kubectl("get", "pv", "-l", LABEL, "-o", "json").stdout)
    for volume in listing["items"]:
        if volume.get("status", {}).get("phase") in ("Released", "Available"):
            name = volume["metadata"]["name"]
            cluster.kubectl("delete", "pv", name, "--wait=false", check=False)
            folder = Path(volume["spec"]["hostPath"]["path"])
            if folder.is_relative_to(cluster.workdir):
                shutil.rmtree(folder, ignore_errors=True)
