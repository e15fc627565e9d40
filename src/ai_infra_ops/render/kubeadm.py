"""kubeadm configuration (``kubeadm.k8s.io/v1beta4``): init on the control plane, join per worker.

Owns the InitConfiguration, ClusterConfiguration, KubeletConfiguration and one JoinConfiguration
per worker, plus the two values that replace the seed's hand-copied ``kubeadm join`` line:

* **Bootstrap token** — :func:`derive_bootstrap_token` derives ``[a-z0-9]{6}.[a-z0-9]{16}`` (the
  format kubeadm validates, kubernetes/kubernetes: cmd/kubeadm/app/apis/bootstraptoken/v1/utils.go
  ``BootstrapTokenRegexp``) from the cluster name and a secret, with HMAC-SHA256. The same
  cluster and secret always give the same token, so re-running ``up`` re-renders identical files
  and joins keep working; the pipeline keeps the secret in its state directory (created once,
  random), so the token cannot be guessed from the cluster name. Without a secret (plain
  ``render``) the token is reproducible from the name alone: fine for the twin and golden files,
  not for a cluster reachable by others. It goes into ``InitConfiguration.bootstrapTokens`` (so
  ``kubeadm init`` creates it) and into every ``JoinConfiguration.discovery.bootstrapToken.token``.
* **CA certificate hash** — unknown until ``kubeadm init`` has created ``/etc/kubernetes/pki/ca.crt``.
  Rendered join files carry :data:`CA_CERT_HASH_PLACEHOLDER`; at provision time the pipeline reads
  ``ca.crt`` from the control plane, computes :func:`ca_cert_hash` (``sha256:`` + SHA-256 of the
  certificate's DER SubjectPublicKeyInfo, RFC 7469 — what ``kubeadm init`` prints and what
  ``--discovery-token-ca-cert-hash`` expects) and either re-renders with
  :func:`render_join_configuration` (``ca_cert_hash=...``) or substitutes the placeholder in the
  file text with :func:`fill_ca_cert_hash`. No human copies anything.

kube-proxy: the seed let ``kubeadm init`` install kube-proxy and deleted it afterwards. Here the
init skips the phase (``skipPhases: [addon/kube-proxy]``) and sets ``proxy.disabled: true``
(v1beta4), which is stored in the kubeadm-config ConfigMap so ``kubeadm upgrade`` does not bring
kube-proxy back either. Node role labels (``node-role.kubernetes.io/worker``) are not kubelet
flags: the kubelet may not set labels under ``kubernetes.io`` itself (NodeRestriction), so the
pipeline labels nodes through the API after they join.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

from ..errors import Location, SpecError
from .artifacts import Artifact, yaml_documents

API_VERSION = "kubeadm.k8s.io/v1beta4"
CRI_SOCKET = "unix:///var/run/containerd/containerd.sock"
API_SERVER_PORT = 6443
CA_CERT_HASH_PLACEHOLDER = "sha256:@@CA_CERT_HASH@@"
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
BOOTSTRAP_TOKEN_TTL = "24h0m0s"


def derive_bootstrap_token(cluster_name: str, secret: bytes = b"") -> str:
    """A kubeadm bootstrap token ``<6>.<16>`` in ``[a-z0-9]`` derived from the cluster and secret.

    Args:
        cluster_name: the spec's ``clusterName``.
        secret: the pipeline's per-installation secret (empty: reproducible from the name).

    Returns:
        e.g. ``k3x9q2.0p4r7s1t9u2v5w8x``.
    """
    digest = hmac.new(secret, f"ai-infra-ops/bootstrap-token/{cluster_name}".encode(), hashlib.sha256).digest()
    n = int.from_bytes(digest, "big")
    chars = []
    for _ in range(22):
        n, r = divmod(n, 36)
        chars.append(_ALPHABET[r])
    text = "".join(chars)
    return f"{text[:6]}.{text[6:]}"


def _der_element(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER TLV starting at ``pos``."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        nbytes = length & 0x7F
        if nbytes == 0 or nbytes > 4 or pos + nbytes > len(data):
            raise ValueError("unsupported DER length")
        length = int.from_bytes(data[pos:pos + nbytes], "big")
        pos += nbytes
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def _pem_to_der(pem: str | bytes) -> bytes:
    import base64

    text = pem.decode("ascii", "replace") if isinstance(pem, bytes) else pem
    begin = "-----BEGIN CERTIFICATE-----"
    if begin not in text:
        raise ValueError("not a PEM certificate (no BEGIN CERTIFICATE line)")
    body = text.split(begin, 1)[1].split("-----END CERTIFICATE-----", 1)[0]
    return base64.b64decode("".join(body.split()), validate=True)


def ca_cert_hash(ca_pem: str | bytes) -> str:
    """``sha256:<hex>`` of the certificate's SubjectPublicKeyInfo, as ``kubeadm init`` prints it.

    Walks the X.509 DER by hand (Certificate -> TBSCertificate -> 7th element, or 6th when the
    optional ``[0] version`` is absent) so no crypto library is needed
    (kubernetes/kubernetes: cmd/kubeadm/app/util/pubkeypin/pubkeypin.go ``Hash``).

    Raises:
        ValueError: the text is not a PEM X.509 certificate.
    """
    der = _pem_to_der(ca_pem)
    tag, start, _end = _der_element(der, 0)
    if tag != 0x30:
        raise ValueError("certificate is not a DER SEQUENCE")
    tag, tbs_start, tbs_end = _der_element(der, start)
    if tag != 0x30:
        raise ValueError("TBSCertificate is not a DER SEQUENCE")
    pos = tbs_start
    fields: list[tuple[int, int, int]] = []
    while pos < tbs_end and len(fields) < 7:
        t, s, e = _der_element(der, pos)
        fields.append((pos, t, e))
        pos = e
    index = 6 if fields and fields[0][1] == 0xA0 else 5  # version, serial, sigAlg, issuer, validity, subject, SPKI
    if len(fields) <= index:
        raise ValueError("certificate has no SubjectPublicKeyInfo")
    spki_start, spki_tag, spki_end = fields[index]
    if spki_tag != 0x30:
        raise ValueError("SubjectPublicKeyInfo is not a DER SEQUENCE")
    return "sha256:" + hashlib.sha256(der[spki_start:spki_end]).hexdigest()


def fill_ca_cert_hash(join_config_text: str, ca_hash: str) -> str:
    """Replace :data:`CA_CERT_HASH_PLACEHOLDER` in a rendered join file with the real hash.

    Raises:
        ValueError: ``ca_hash`` is not ``sha256:<64 hex>`` or the text has no placeholder.
    """
    import re

    if not re.fullmatch(r"sha256:[0-9a-f]{64}", ca_hash):
        raise ValueError(f"CA cert hash must look like sha256:<64 hex digits>, got {ca_hash!r}")
    if CA_CERT_HASH_PLACEHOLDER not in join_config_text:
        raise ValueError("join configuration has no CA cert hash placeholder (already filled?)")
    return join_config_text.replace(CA_CERT_HASH_PLACEHOLDER, ca_hash)


def _node_registration(node: Any) -> dict[str, Any]:
    return {
        "name": node.name,
        "criSocket": CRI_SOCKET,
        # v1beta4: explicit list; empty means "no taints" (nil would give the control plane kubeadm's default taint)
        "taints": [dict(t) for t in node.taints],
        # v1beta4 structured extra args (name/value list) replace v1beta3's map
        "kubeletExtraArgs": [{"name": "node-ip", "value": node.ip}],
    }


def api_server_endpoint(spec: Any) -> str:
    """``<control-plane IP>:6443``: the controlPlaneEndpoint and the join discovery endpoint."""
    return f"{spec.control_plane().ip}:{API_SERVER_PORT}"


def render_init_configuration(spec: Any, *, token_secret: bytes = b"") -> list[dict[str, Any]]:
    """InitConfiguration, ClusterConfiguration and KubeletConfiguration for ``kubeadm init --config``."""
    cp = spec.control_plane()
    init = {
        "apiVersion": API_VERSION,
        "kind": "InitConfiguration",
        "bootstrapTokens": [{
            "token": derive_bootstrap_token(spec.cluster_name, token_secret),
            "description": f"ai-infra-ops: joins of cluster {spec.cluster_name}",
            "ttl": BOOTSTRAP_TOKEN_TTL,
            "usages": ["signing", "authentication"],
            "groups": ["system:bootstrappers:kubeadm:default-node-token"],
        }],
        "localAPIEndpoint": {"advertiseAddress": cp.ip, "bindPort": API_SERVER_PORT},
        "nodeRegistration": _node_registration(cp),
        "skipPhases": ["addon/kube-proxy"],
    }
    cluster = {
        "apiVersion": API_VERSION,
        "kind": "ClusterConfiguration",
        "clusterName": spec.cluster_name,
        "kubernetesVersion": f"v{spec.kubernetes_patch}",
        "controlPlaneEndpoint": api_server_endpoint(spec),
        "networking": {
            "podSubnet": spec.network.pod_cidr,
            "serviceSubnet": spec.network.service_cidr,
            "dnsDomain": spec.network.cluster_domain,
        },
        "proxy": {"disabled": True},
        "controllerManager": {"extraArgs": [
            # kube-controller-manager hands each node a podCIDR slice (Cilium ipam.mode=kubernetes reads it)
            {"name": "node-cidr-mask-size", "value": str(spec.network.node_cidr_mask)},
        ]},
    }
    kubelet = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "cgroupDriver": "systemd",   # matches containerd's SystemdCgroup = true (bootstrap.sh)
        "clusterDNS": [spec.network.cluster_dns_ip],
        "clusterDomain": spec.network.cluster_domain,
    }
    return [init, cluster, kubelet]


def render_join_configuration(spec: Any, node_name: str, *, token_secret: bytes = b"",
                              ca_cert_hash: str | None = None) -> dict[str, Any]:
    """The JoinConfiguration of one worker.

    Args:
        spec: the platform spec.
        node_name: a worker's name.
        token_secret: as for :func:`derive_bootstrap_token`.
        ca_cert_hash: ``sha256:...`` from :func:`ca_cert_hash`; None leaves the placeholder.

    Raises:
        SpecError: no node of that name.
    """
    node = spec.node(node_name)
    if node is None:
        raise SpecError(f"no node called {node_name!r}", Location(field="nodes"))
    return {
        "apiVersion": API_VERSION,
        "kind": "JoinConfiguration",
        "discovery": {"bootstrapToken": {
            "apiServerEndpoint": api_server_endpoint(spec),
            "token": derive_bootstrap_token(spec.cluster_name, token_secret),
            "caCertHashes": [ca_cert_hash or CA_CERT_HASH_PLACEHOLDER],
        }},
        "nodeRegistration": _node_registration(node),
    }


def render_kubeadm(spec: Any, *, token_secret: bytes = b"") -> list[Artifact]:
    """``kubeadm/init-config.yaml`` and ``kubeadm/join-<worker>.yaml`` for every worker."""
    out = [Artifact("kubeadm/init-config.yaml", yaml_documents(
        render_init_configuration(spec, token_secret=token_secret),
        comment=f"On {spec.control_plane().name}: kubeadm init --config init-config.yaml --upload-certs"))]
    for w in spec.workers():
        out.append(Artifact(f"kubeadm/join-{w.name}.yaml", yaml_documents(
            [render_join_configuration(spec, w.name, token_secret=token_secret)],
            comment=(f"On {w.name}: kubeadm join --config join-{w.name}.yaml\n"
                     f"{CA_CERT_HASH_PLACEHOLDER} is replaced at provision time with the hash of the\n"
                     "control plane's /etc/kubernetes/pki/ca.crt (render.kubeadm.fill_ca_cert_hash)."))))
    return out
