"""Zero-trust checks: what the spec's intents promise, probed (issue 4 item 4).

From the CUDA test pod: egress to 8.8.8.8 dropped (default deny, ``POLICY_DENIED``), the kubelet
port 10250 of a node denied, a DNS-tunnelling lookup of a long random subdomain REFUSED by the DNS
proxy (and, as the positive control, an in-cluster name answered). From the inference client
(the pod allowed to reach the internet): an allow-listed FQDN forwarded, a C2C address dropped by
the deny list (``POLICY_DENY``), HTTPS to a name outside the allow-list not reached, an allowed and
a disallowed HTTP request. From the gateway: the allowed gRPC method passes, another is denied
(HTTP 403 / ``PERMISSION_DENIED``). From the connectivity fixture: cross-namespace access to the
gateway denied. Every expectation comes from the spec, not from what the twin happens to do.
"""
from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable
from typing import Any

from ..backend import Backend, ProbeRequest
from .checks import SKIP, CheckResult
from .fixture import NAMESPACE as FIXTURE_NS
from .probecheck import Expect, missing_source, probe_check, running_pod
from .workloads import cuda_test_pod

GROUP = "zero-trust"


def _c2c_ip(spec: Any) -> str | None:
    zt = spec.zero_trust
    for name in zt.c2c_deny.fqdns:
        ips = spec.world.dns.get(name) or []
        if ips:
            return str(sorted(ips)[0])
    for cidr in zt.c2c_deny_cidrs(spec.world.dns):
        net = ipaddress.IPv4Network(cidr)
        return str(net.network_address if net.prefixlen == 32 else net.network_address + 1)
    return None


def _not_allowed_name(spec: Any) -> str | None:
    zt = spec.zero_trust
    # prefer a name that looks like an exfiltration endpoint, then any other world name
    for name in sorted(spec.world.dns, key=lambda n: ("exfil" not in n, n)):
        if name in zt.c2c_deny.fqdns or zt.dns_allows(name) or any(e.matches(name) for e in zt.egress_allow):
            continue
        return str(name)
    return None


def _tunnel_query(spec: Any) -> str:
    base = str(_not_allowed_name(spec) or "exfil.example.net")
    label = hashlib.sha256(f"{spec.cluster_name}/dns-tunnel".encode()).hexdigest()[:48]
    return f"{label}.{base}"


def _pool_node(spec: Any) -> str:
    workers = spec.workers()
    return str(workers[0].name if workers else spec.control_plane().name)


def zero_trust_checks(backend: Backend, spec: Any) -> list[CheckResult]:
    """Run the zero-trust scenarios the spec's intents define."""
    zt = spec.zero_trust
    if not zt.enabled:
        return [CheckResult("zt-enabled", GROUP, "zero-trust intents", SKIP, "zeroTrust.enabled is false in the spec")]
    out: list[CheckResult] = []
    tp = cuda_test_pod(spec)
    tp_ref = f"{tp['metadata'].get('namespace', 'default')}/{tp['metadata']['name']}" if tp else None
    tp_ns = tp_ref.split("/")[0] if tp_ref else ""

    def add(id: str, title: str, src: str | None, what: str, req: Callable[[str], ProbeRequest], exp: Expect) -> None:
        if src is None:
            out.append(missing_source(id, GROUP, title, what, backend))
        else:
            out.append(probe_check(backend, id=id, group=GROUP, title=title, request=req(src), expect=exp))

    governed = tp_ns in zt.workload_namespaces
    if tp is not None and tp_ref and governed:
        src = tp_ref if backend.get("Pod", tp["metadata"]["name"], tp_ns) else None
        add("zt-egress-8.8.8.8", "egress to 8.8.8.8 dropped (default deny, POLICY_DENIED)", src, f"pod {tp_ref}",
            lambda s: ProbeRequest(s, "ip:8.8.8.8", None, "ICMP", label="zt-egress-8.8.8.8"),
            Expect(allowed=False, drop_reason="POLICY_DENIED"))
        q = _tunnel_query(spec)
        add("zt-dns-tunnel", f"DNS tunnelling: lookup of {q[:20]}… REFUSED by the DNS proxy", src, f"pod {tp_ref}",
            lambda s: ProbeRequest(s, "", 53, "UDP", dns={"query": q, "type": "TXT"}, label="zt-dns-tunnel"),
            Expect(allowed=False, dns_rcode="REFUSED"))
        inside = f"kube-dns.kube-system.svc.{spec.network.cluster_domain}"
        if zt.dns_allows(inside):
            add("zt-dns-allowed", f"DNS allow-list: {inside} answered", src, f"pod {tp_ref}",
                lambda s: ProbeRequest(s, "", 53, "UDP", dns={"query": inside, "type": "A"}, label="zt-dns-allowed"),
                Expect(allowed=True, dns_rcode="NOERROR"))
        if zt.kubelet_protection:
            node = _pool_node(spec)
            add("zt-kubelet-10250", f"kubelet 10250 on {node} denied from a pod", src, f"pod {tp_ref}",
                lambda s: ProbeRequest(s, f"node:{node}", 10250, "TCP", label="zt-kubelet-10250"),
                Expect(allowed=False))

    for h in zt.http_allow:
        client = running_pod(backend, h.namespace, dict(h.from_))
        svc = _service_for(backend, h.namespace, dict(h.to))
        what = f"a pod with {h.from_} in {h.namespace}"
        if zt.egress_allow:
            allowed = zt.egress_allow[0]
            name = allowed.fqdn or ""
            if name and name in spec.world.dns:
                port = allowed.ports[0]
                add("zt-egress-allowed-fqdn", f"egress to allow-listed {name}:{port} forwarded", client, what,
                    lambda s: ProbeRequest(s, f"fqdn:{name}", port, "TCP", label="zt-egress-allowed-fqdn"),
                    Expect(allowed=True))
        c2c = _c2c_ip(spec)
        if c2c:
            add("zt-c2c", f"C2C address {c2c} dropped by the deny list (POLICY_DENY)", client, what,
                lambda s: ProbeRequest(s, f"ip:{c2c}", 443, "TCP", label="zt-c2c"),
                Expect(allowed=False, drop_reason="POLICY_DENY"))
        bad = _not_allowed_name(spec)
        if bad:
            add("zt-exfil-https", f"exfiltration: HTTPS to non-allow-listed {bad} blocked", client, what,
                lambda s: ProbeRequest(s, f"fqdn:{bad}", 443, "TCP", label="zt-exfil-https"),
                Expect(allowed=False))
        if svc is None:
            out.append(missing_source("zt-http-allowed", GROUP, "HTTP allow-list", f"a Service for {h.to} in {h.namespace}", backend))
        else:
            rule = h.rules[0]
            path = rule.path if _literal(rule.path) else "/"
            add("zt-http-allowed", f"HTTP {rule.method} {path} to {svc} allowed", client, what,
                lambda s: ProbeRequest(s, f"svc:{h.namespace}/{svc}", h.port, "TCP",
                                       http={"method": rule.method, "path": path}, label="zt-http-allowed"),
                Expect(allowed=True))
            add("zt-http-denied", f"HTTP DELETE /admin to {svc} denied (403)", client, what,
                lambda s: ProbeRequest(s, f"svc:{h.namespace}/{svc}", h.port, "TCP",
                                       http={"method": "DELETE", "path": "/admin"}, label="zt-http-denied"),
                Expect(allowed=False, l7_denied=True, http_status=403))
            fixture_client = f"{FIXTURE_NS}/client" if backend.get("Pod", "client", FIXTURE_NS) else None
            add("zt-cross-namespace", f"cross-namespace: {FIXTURE_NS}/client -> {h.namespace}/{svc} denied",
                fixture_client, f"pod {FIXTURE_NS}/client",
                lambda s: ProbeRequest(s, f"svc:{h.namespace}/{svc}", h.port, "TCP",
                                       http={"method": rule.method, "path": path}, label="zt-cross-namespace"),
                Expect(allowed=False, drop_reason="POLICY_DENIED"))
        break

    for g in zt.grpc_allow:
        caller = running_pod(backend, g.namespace, dict(g.from_))
        svc = _service_for(backend, g.namespace, dict(g.to))
        what = f"a pod with {g.from_} in {g.namespace}"
        if svc is None:
            out.append(missing_source("zt-grpc-allowed", GROUP, "gRPC allowed method", f"a Service for {g.to}", backend))
            continue
        ok_method = g.methods[0]
        bad_method = next(m for m in ("DeleteModel", "Admin", "Shutdown") if m not in g.methods)
        add("zt-grpc-allowed", f"gRPC /{g.service}/{ok_method} allowed", caller, what,
            lambda s: ProbeRequest(s, f"svc:{g.namespace}/{svc}", g.port, "TCP",
                                   grpc={"service": g.service, "method": ok_method}, label="zt-grpc-allowed"),
            Expect(allowed=True))
        add("zt-grpc-denied", f"gRPC /{g.service}/{bad_method} denied (PERMISSION_DENIED)", caller, what,
            lambda s: ProbeRequest(s, f"svc:{g.namespace}/{svc}", g.port, "TCP",
                                   grpc={"service": g.service, "method": bad_method}, label="zt-grpc-denied"),
            Expect(allowed=False, l7_denied=True))
        break
    return out


def _literal(path: str) -> bool:
    return not any(ch in path for ch in "^$*+?[](){}|\\.")


def _service_for(backend: Backend, namespace: str, labels: dict[str, str]) -> str | None:
    """The first Service whose selector picks pods with ``labels``."""
    for svc in sorted(backend.list("Service", namespace), key=lambda s: s["metadata"]["name"]):
        sel = (svc.get("spec") or {}).get("selector") or {}
        if sel and all(labels.get(k) == v for k, v in sel.items()):
            return str(svc["metadata"]["name"])
    return None
