"""What the devcluster installs of KServe, from the pinned module's own release manifests: only
the InferenceService controller, from the image built here, in Standard mode without ingress,
its webhooks trusting the certificate made here (no cert-manager)."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from devcluster import binaries, kserve
from devcluster.pki import webhook_certificate

IMAGE = "localhost/fraudops-devcluster/kserve-controller:dev"
CA = b"-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n"


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    return kserve.rendered_manifests(binaries.binary("kubectl"), kserve.module_dir())


@pytest.fixture(scope="module")
def installed(manifests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return kserve.install_objects(manifests, IMAGE, CA)[1]


def named(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def test_every_crd_of_the_release_is_applied(manifests: list[dict[str, Any]]) -> None:
    crds, _ = kserve.install_objects(manifests, IMAGE, CA)

    names = {crd["metadata"]["name"] for crd in crds}
    assert "inferenceservices.serving.kserve.io" in names
    assert names == {
        m["metadata"]["name"] for m in manifests if m["kind"] == "CustomResourceDefinition"
    }


def test_only_the_inference_service_controller_runs(installed: list[dict[str, Any]]) -> None:
    workloads = [o for o in installed if o["kind"] in ("Deployment", "DaemonSet", "StatefulSet")]

    assert [w["metadata"]["name"] for w in workloads] == [kserve.CONTROLLER]


def test_nothing_of_cert_manager_or_the_llm_and_local_model_controllers_is_left(
    installed: list[dict[str, Any]],
) -> None:
    kinds = {o["kind"] for o in installed}
    names = [o["metadata"]["name"] for o in installed]

    assert not kinds & {"Certificate", "Issuer", "LLMInferenceServiceConfig"}
    assert not [n for n in names if n.startswith(("llmisvc", "kserve-localmodel"))]


def test_the_controller_runs_the_image_built_here_alone_and_never_pulls_it(
    installed: list[dict[str, Any]],
) -> None:
    pod = named(installed, "Deployment", kserve.CONTROLLER)["spec"]["template"]["spec"]

    assert [(c["name"], c["image"], c["imagePullPolicy"]) for c in pod["containers"]] == [
        ("manager", IMAGE, "Never")
    ]


def test_predictors_are_standard_deployments_without_ingress_objects(
    installed: list[dict[str, Any]],
) -> None:
    data = named(installed, "ConfigMap", "inferenceservice-config")["data"]

    assert json.loads(data["deploy"])["defaultDeploymentMode"] == "Standard"
    ingress = json.loads(data["ingress"])
    assert ingress["disableIngressCreation"] is True
    assert ingress["disableIstioVirtualHost"] is True


def test_every_webhook_trusts_the_given_ca_instead_of_cert_manager(
    installed: list[dict[str, Any]],
) -> None:
    configurations = [o for o in installed if o["kind"].endswith("WebhookConfiguration")]

    assert {c["metadata"]["name"] for c in configurations} == kserve.WEBHOOKS
    for configuration in configurations:
        assert "cert-manager.io/inject-ca-from" not in configuration["metadata"].get(
            "annotations", {}
        )
        for webhook in configuration["webhooks"]:
            assert base64.b64decode(webhook["clientConfig"]["caBundle"]) == CA
            assert webhook["clientConfig"]["service"]["name"] == kserve.WEBHOOK_SERVICE
            assert webhook["clientConfig"]["service"]["namespace"] == kserve.NAMESPACE


def test_the_webhook_service_and_the_namespace_are_installed_namespace_first(
    installed: list[dict[str, Any]],
) -> None:
    assert installed[0]["kind"] == "Namespace"
    assert installed[0]["metadata"]["name"] == kserve.NAMESPACE
    assert named(installed, "Service", kserve.WEBHOOK_SERVICE)


def test_the_release_manifests_are_left_as_they_were(manifests: list[dict[str, Any]]) -> None:
    before = copy.deepcopy(manifests)

    kserve.install_objects(manifests, IMAGE, CA)

    assert manifests == before


def test_the_webhook_certificate_is_signed_by_its_ca_for_the_service_names(
    tmp_path: Path,
) -> None:
    names = kserve.webhook_dns_names()

    made = webhook_certificate(tmp_path, names)

    ca = x509.load_pem_x509_certificate(made.ca_cert.read_bytes())
    cert = x509.load_pem_x509_certificate(made.cert.read_bytes())
    public_key = ca.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(
        cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
    )
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == names
    assert f"{kserve.WEBHOOK_SERVICE}.{kserve.NAMESPACE}.svc" in names


def test_the_certificate_secret_is_the_one_the_controller_mounts(
    installed: list[dict[str, Any]],
) -> None:
    pod = named(installed, "Deployment", kserve.CONTROLLER)["spec"]["template"]["spec"]
    mounted = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}

    secret = kserve.certificate_secret(b"cert", b"key")

    assert secret["metadata"]["name"] in mounted
    assert base64.b64decode(secret["data"]["tls.crt"]) == b"cert"
    assert secret["type"] == "kubernetes.io/tls"
