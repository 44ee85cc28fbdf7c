"""The devcluster's hostPath volumes as manifests: what the PV binder needs to bind the chart's
claims of the devcluster values' StorageClass, and nothing that would delete a user's data."""

from __future__ import annotations

from pathlib import Path

import yaml
from devcluster.volumes import STORAGE_CLASS, host_path_volume, storage_class

REPO = Path(__file__).resolve().parents[2]


def test_the_storage_class_has_no_provisioner_so_claims_bind_only_to_made_volumes() -> None:
    made = storage_class()

    assert made["provisioner"] == "kubernetes.io/no-provisioner"
    assert made["metadata"]["name"] == STORAGE_CLASS


def test_a_volume_is_an_existing_folder_of_that_class_kept_when_its_claim_goes() -> None:
    spec = host_path_volume("pv-1", Path("/tmp/cluster/volumes/pv-1"))["spec"]

    assert spec["storageClassName"] == STORAGE_CLASS
    assert spec["persistentVolumeReclaimPolicy"] == "Retain"
    assert spec["hostPath"] == {"path": "/tmp/cluster/volumes/pv-1", "type": "Directory"}
    assert spec["accessModes"] == ["ReadWriteOnce"]


def test_the_devcluster_values_claim_storage_of_that_class() -> None:
    values = yaml.safe_load((REPO / "charts/fraudops/values-devcluster.yaml").read_text())

    assert values["postgresql"]["storageClassName"] == STORAGE_CLASS
    assert values["objectStore"]["storageClassName"] == STORAGE_CLASS
