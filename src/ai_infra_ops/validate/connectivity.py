"""The connectivity analogue of ``cilium connectivity test``'s ``no-policies`` test
(``../shared/reference/connectivity-test.md``): pod-to-pod on the same node and across nodes,
client-to-client (ICMP), pod-to-service, DNS through kube-dns, pod-to-world and pod-to-cidr
(``one.one.one.one`` / ``1.1.1.1``), pod-to-host — all from the fixture's ``client`` pod, all
expected FORWARDED with flows to show it.
"""
from __future__ import annotations

from typing import Any

from ..backend import Backend, ProbeRequest
from .checks import CheckResult
from .fixture import ECHO_PORT, NAMESPACE, ensure_fixture, fixture_nodes
from .probecheck import Expect, has_network, missing_source, probe_check

GROUP = "connectivity"
EXTERNAL_TARGET = "one.one.one.one"
EXTERNAL_IP = "1.1.1.1"


def connectivity_checks(backend: Backend, spec: Any, *, deploy: bool = True) -> list[CheckResult]:
    """Run the connectivity scenarios (deploying the fixture first when ``deploy``)."""
    client = f"{NAMESPACE}/client"
    scenarios: list[tuple[str, str, ProbeRequest, Expect]] = []
    _, other = fixture_nodes(spec)
    ok = Expect(allowed=True)
    scenarios.append(("conn-pod-to-pod-same-node", "pod-to-pod: client -> echo-same-node (same node)",
                      ProbeRequest(client, f"{NAMESPACE}/echo-same-node", ECHO_PORT, "TCP",
                                   http={"method": "GET", "path": "/"}, label="conn-pod-to-pod-same-node"), ok))
    if other is not None:
        scenarios.append(("conn-pod-to-pod-other-node", "pod-to-pod: client -> echo-other-node (across nodes)",
                          ProbeRequest(client, f"{NAMESPACE}/echo-other-node", ECHO_PORT, "TCP",
                                       http={"method": "GET", "path": "/"}, label="conn-pod-to-pod-other-node"), ok))
    scenarios.append(("conn-client-to-client", "client-to-client: ICMP client -> client2",
                      ProbeRequest(client, f"{NAMESPACE}/client2", None, "ICMP", label="conn-client-to-client"), ok))
    svc = "echo-other-node" if other is not None else "echo-same-node"
    scenarios.append(("conn-pod-to-service", f"pod-to-service: client -> Service {svc}",
                      ProbeRequest(client, f"svc:{NAMESPACE}/{svc}", ECHO_PORT, "TCP",
                                   http={"method": "GET", "path": "/"}, label="conn-pod-to-service"), ok))
    name = f"{svc}.{NAMESPACE}.svc.{spec.network.cluster_domain}"
    scenarios.append(("conn-dns", f"DNS: client resolves {name} through kube-dns",
                      ProbeRequest(client, "", 53, "UDP", dns={"query": name, "type": "A"}, label="conn-dns"),
                      Expect(allowed=True, dns_rcode="NOERROR")))
    scenarios.append(("conn-pod-to-world", f"pod-to-world: client -> https://{EXTERNAL_TARGET}",
                      ProbeRequest(client, f"fqdn:{EXTERNAL_TARGET}", 443, "TCP", label="conn-pod-to-world"), ok))
    scenarios.append(("conn-pod-to-cidr", f"pod-to-cidr: client -> {EXTERNAL_IP}:443",
                      ProbeRequest(client, f"ip:{EXTERNAL_IP}", 443, "TCP", label="conn-pod-to-cidr"), ok))
    cp = spec.control_plane().name
    scenarios.append(("conn-pod-to-host", f"pod-to-host: ICMP client -> node {cp}",
                      ProbeRequest(client, f"node:{cp}", None, "ICMP", label="conn-pod-to-host"), ok))
    if has_network(backend) and deploy:
        ready, msg, _ = ensure_fixture(backend, spec)
        if not ready:
            return [missing_source(cid, GROUP, title, f"the connectivity fixture ({msg})", backend)
                    for cid, title, _, _ in scenarios]
    return [probe_check(backend, id=cid, group=GROUP, title=title, request=req, expect=exp)
            for cid, title, req, exp in scenarios]
