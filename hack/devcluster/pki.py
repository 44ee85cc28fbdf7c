"""Throw-away certificates for one devcluster.

kube-apiserver insists on TLS and on a key pair for signing ServiceAccount tokens, so every cluster
gets its own CA, a serving certificate valid for the names clients use (127.0.0.1, localhost,
kubernetes.default.svc and the `kubernetes` Service's ClusterIP), an admin client certificate in
`system:masters` (which RBAC lets do anything) and a ServiceAccount signing key. EC P-256 keys keep
generation in the milliseconds, so a cold start does not pay for RSA.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = dt.timedelta(days=30)


@dataclass(frozen=True)
class Pki:
    """Paths of the PEM files one cluster's components are started with."""

    ca_cert: Path
    serving_cert: Path
    serving_key: Path
    admin_cert: Path
    admin_key: Path
    service_account_key: Path
    service_account_pub: Path
    #: Only for a real node (`generate(..., node_ip=...)`): the kubelet's serving certificate, the
    #: API server's client certificate towards kubelets, and the front-proxy client certificate
    #: the API server presents to aggregated APIs (metrics-server).
    kubelet_cert: Path | None = None
    kubelet_key: Path | None = None
    kubelet_client_cert: Path | None = None
    kubelet_client_key: Path | None = None
    front_proxy_cert: Path | None = None
    front_proxy_key: Path | None = None


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _write_cert(cert: x509.Certificate, path: Path) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _builder(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey):
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
    )


def _client_cert(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_name: x509.Name,
    common_name: str,
    organization: str | None,
    cert_path: Path,
    key_path: Path,
) -> None:
    key = _new_key()
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    cert = (
        _builder(x509.Name(attributes), ca_name, key.public_key())
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_cert(cert, cert_path)
    _write_key(key, key_path)


def _serving_cert(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_name: x509.Name,
    common_name: str,
    dns_names: list[str],
    ips: list[str],
    cert_path: Path,
    key_path: Path,
) -> None:
    key = _new_key()
    cert = (
        _builder(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]),
            ca_name,
            key.public_key(),
        )
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(n) for n in dns_names]
                + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_cert(cert, cert_path)
    _write_key(key, key_path)


def _new_ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Name, x509.Certificate]:
    """A self-signed CA: its key, its name and its certificate."""
    ca_key = _new_key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return ca_key, ca_name, ca_cert


def generate(
    directory: Path, service_ip: str, node_ip: str | None = None, node_name: str = ""
) -> Pki:
    """Create a fresh CA and every certificate and key the cluster needs in `directory`.

    With `node_ip` (a real node), the API server's certificate is valid for that address too and
    the kubelet, kubelet-client and front-proxy certificates are made as well.
    """
    directory.mkdir(parents=True, exist_ok=True)
    node = {}
    if node_ip:
        node = {
            "kubelet_cert": directory / "kubelet.crt",
            "kubelet_key": directory / "kubelet.key",
            "kubelet_client_cert": directory / "apiserver-kubelet-client.crt",
            "kubelet_client_key": directory / "apiserver-kubelet-client.key",
            "front_proxy_cert": directory / "front-proxy-client.crt",
            "front_proxy_key": directory / "front-proxy-client.key",
        }
    pki = Pki(
        **node,
        ca_cert=directory / "ca.crt",
        serving_cert=directory / "apiserver.crt",
        serving_key=directory / "apiserver.key",
        admin_cert=directory / "admin.crt",
        admin_key=directory / "admin.key",
        service_account_key=directory / "sa.key",
        service_account_pub=directory / "sa.pub",
    )

    ca_key, ca_name, ca_cert = _new_ca("fraudops-devcluster-ca")
    _write_cert(ca_cert, pki.ca_cert)

    dns_names = [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]
    ips = ["127.0.0.1", service_ip, *([node_ip] if node_ip else [])]
    _serving_cert(
        ca_key, ca_name, "kube-apiserver", dns_names, ips, pki.serving_cert, pki.serving_key
    )
    _client_cert(ca_key, ca_name, "fraudops-admin", "system:masters", pki.admin_cert, pki.admin_key)
    if node_ip:
        assert pki.kubelet_cert and pki.kubelet_key
        assert pki.kubelet_client_cert and pki.kubelet_client_key
        assert pki.front_proxy_cert and pki.front_proxy_key
        _serving_cert(
            ca_key, ca_name, node_name, [node_name], [node_ip], pki.kubelet_cert, pki.kubelet_key
        )
        _client_cert(
            ca_key,
            ca_name,
            "kube-apiserver-kubelet-client",
            "system:masters",
            pki.kubelet_client_cert,
            pki.kubelet_client_key,
        )
        _client_cert(
            ca_key, ca_name, "front-proxy-client", None, pki.front_proxy_cert, pki.front_proxy_key
        )

    sa_key = _new_key()
    _write_key(sa_key, pki.service_account_key)
    pki.service_account_pub.write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return pki


@dataclass(frozen=True)
class WebhookCertificate:
    """Paths of a webhook server's key pair and of the CA that signed it (its ``caBundle``)."""

    ca_cert: Path
    cert: Path
    key: Path


def webhook_certificate(directory: Path, dns_names: list[str]) -> WebhookCertificate:
    """A fresh CA and a serving certificate for an admission webhook's Service names: what
    cert-manager gives such a server on a real cluster, in milliseconds and without it."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = WebhookCertificate(directory / "ca.crt", directory / "tls.crt", directory / "tls.key")
    ca_key, ca_name, ca_cert = _new_ca("fraudops-devcluster-webhook-ca")
    _write_cert(ca_cert, paths.ca_cert)
    _serving_cert(ca_key, ca_name, dns_names[0], dns_names, [], paths.cert, paths.key)
    return paths
