"""Traffic: run one probe through the twin's network and policy, and record what Hubble would see.

``probe(view, engine, request, clock, flow_sink)`` is what ``TwinBackend.probe`` and ``cli probe``
call. A probe (``backend.ProbeRequest``) is a TCP/UDP/SCTP connection, an ICMP echo, an HTTP
request, a gRPC call or a DNS lookup from a pod or a node's host to a pod, a Service, an IP, an
FQDN, an entity or a node. The steps, as the datapath takes them:

1. Name resolution (FQDN targets): the lookup is a DNS step of its own (``steps.dns_lookup``),
   with its own flows; REFUSED or NXDOMAIN ends the probe there.
2. Service translation: a ClusterIP:port is rewritten to one ready backend IP:targetPort *before*
   policy (kube-proxy replacement, socket-LB; reference cilium-policy.md §1.4) - policy and Hubble
   see the backend.
3. Self traffic (a pod to its own IP) never leaves the pod's network namespace: allowed, no
   flows (reference §8).
4. Policy: egress at the source endpoint, then ingress at the destination endpoint; both must
   allow (reference §4.9); L7 rules at the redirecting side(s) (``steps.connect``).
5. Reachability: whether something listens (``addresses``), or answers outside (``world``).

The result names the stored flow ids and carries the engine's explanations.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from ...backend import ProbeRequest, ProbeResult
from ...errors import UserInputError
from ...hubble.builder import FlowBuilder
from ...hubble.flow import flow_time_ns
from ...policy.engine import PolicyEngine
from .addresses import Place
from .cluster import ClusterNetwork, NetworkSettings, network_for_view
from .steps import Outcome, Probe, connect, dns_lookup, sctp_port_rewrite_drop
from .view import ClusterView

FlowSink = Callable[[list[dict[str, Any]], str], list[int]]
ENTITIES = ("kube-apiserver", "host", "remote-node", "world", "kube-dns")


def probe(
    view: ClusterView,
    engine: PolicyEngine,
    request: ProbeRequest,
    clock: Any = None,
    flow_sink: FlowSink | None = None,
    *,
    node_of: Mapping[str, str] | None = None,
    settings: NetworkSettings | None = None,
    network: ClusterNetwork | None = None,
    seed: int = 0,
) -> ProbeResult:
    """Run ``request`` and return its verdict, flows and explanation.

    Args:
        view: the cluster (pods, nodes, services, endpoints, policies).
        engine: the policy engine for ``view`` (``engine_for_view``).
        request: what to send.
        clock: the twin's clock (``time_ns()`` or ``now()``), or a callable returning nanoseconds.
        flow_sink: stores the flows: ``flow_sink(flows, probe_id) -> ids`` (e.g. ``Store.add_flows``).
        node_of: pod ``ns/name`` -> node, overriding ``spec.nodeName``.
        settings: network and Cilium settings (defaults: Cilium's).
        network: a prebuilt ``ClusterNetwork`` (else the cached one of ``view``).
        seed: mixes into the flow UUIDs and client ports.

    Returns:
        ``ProbeResult``; ``supported`` is False when the source cannot send (no IP, not placed).

    Raises:
        UserInputError: an unknown source/target, a named port the target does not define,
            a malformed target string.
    """
    net = network or network_for_view(view, settings, node_of)
    probe_id = request.label or _probe_id(request)
    builder = FlowBuilder(cluster_name=net.settings.cluster_name, seed=_seed(seed, probe_id),
                          clock=_clock_fn(clock, net))
    proto = str(request.protocol or "TCP").upper()
    if proto not in ("TCP", "UDP", "SCTP", "ICMP", "ICMPV4", "ICMPV6"):
        raise UserInputError(f"protocol: {request.protocol!r} is not one of TCP, UDP, SCTP, ICMP")
    proto = "ICMP" if proto.startswith("ICMP") else proto
    ctx = Probe(net=net, engine=engine, builder=builder, request=request)
    src = _source(net, request.source)
    if src is None or not src.ip or not src.node:
        what = "has no IP address yet (not scheduled or not running)" if src is not None else "does not exist"
        return ProbeResult(request, "DROPPED", explanation=f"source {request.source} {what}; it cannot send", supported=False)
    out = _run(ctx, src, proto)
    flows = out.flows
    ids: list[int] = flow_sink(flows, probe_id) if (flow_sink is not None and flows) else []
    if flows:
        net.last_flow_ns = max(net.last_flow_ns, max(flow_time_ns(f) for f in flows))
    verdict = out.verdict
    return ProbeResult(
        request=request, verdict=verdict, drop_reason=out.drop_reason, http_status=out.http_status,
        grpc_status=out.grpc_status, dns_rcode=out.dns_rcode, dns_ips=list(out.dns_ips), flows=flows,
        flow_ids=[str(i) for i in ids], explanation=" | ".join(out.explanations),
    )


def _run(ctx: Probe, src: Place, proto: str) -> Outcome:
    req = ctx.request
    net = ctx.net
    if req.dns is not None:
        query = str(req.dns.get("query") or "")
        if not query:
            raise UserInputError("dns.query: a DNS probe needs a query name")
        qtype = str(req.dns.get("type") or "A").upper()
        server = _dns_server(ctx, src, req.target, proto)
        port = int(req.port) if isinstance(req.port, int) or (isinstance(req.port, str) and req.port.isdigit()) else 53
        return dns_lookup(ctx, src, server, query, qtype=qtype, proto=proto if proto in ("UDP", "TCP") else "UDP",
                          port=port, walk_search=False)
    target = req.target or ""
    names: tuple[str, ...] = ()
    pre = Outcome()
    if target.startswith("fqdn:"):
        name = target[5:].strip()
        if not name:
            raise UserInputError(f"to: {target!r}: fqdn: needs a name")
        server = _dns_server(ctx, src, "", "UDP")
        pre = dns_lookup(ctx, src, server, name, qtype="A", proto="UDP", port=53, walk_search=True)
        if not pre.dns_ips:
            # No address, no connection: the client fails before sending anything.
            pre.verdict = "DROPPED"
            return pre
        ip = sorted(pre.dns_ips, key=_ip_sort)[0]
        dst = net.addresses.place_of_ip(ip, net.services.service_of_ip(ip))
        names = (name.rstrip("."),) if dst.kind == "world" else ()
        host_header = name.rstrip(".")
    else:
        dst, host_header = _target(net, src, target, req.port)
    port = _port(ctx, dst, req.port, proto)
    if dst.kind == "service":
        service_port = port
        backend, port, note = _translate(net, src, dst, port, proto)
        pre.explanations.append(note)
        if backend is None and net.services.frontend(dst.ip, port, "TCP" if proto == "ICMP" else proto) is not None:
            pre.verdict = "DROPPED"  # no ready backend: connect() fails, nothing is sent
            return pre
        # A ClusterIP port no Service defines is not translated: the packet leaves for an address
        # nothing routes, seen by policy as world (cilium/cilium#13329).
        dst = backend if backend is not None else Place("world", dst.ip)
        if (backend is not None and proto == "SCTP" and port != service_port and src.kind == "pod"
                and net.settings.enable_sctp):
            return pre.then(sctp_port_rewrite_drop(ctx, src, backend, service_port, port))
    out = connect(ctx, src, dst, proto, port, names=names, host_header=host_header)
    return pre.then(out)


def _source(net: ClusterNetwork, source: str) -> Place | None:
    if source.startswith("node:"):
        return net.addresses.place_of_node(source[5:])
    if "/" not in source:
        raise UserInputError(f"from: {source!r}: expected namespace/pod or node:<name>")
    place = net.addresses.place_of_pod(source)
    if place is None:
        raise UserInputError(f"from: pod {source} does not exist")
    return place


def _target(net: ClusterNetwork, src: Place, target: str, port: int | str | None = None) -> tuple[Place, str]:
    """The destination place and the HTTP Host a client would send for ``target``."""
    if target.startswith("ip:"):
        ip = target[3:].strip()
        _check_ip(ip, target)
        return net.addresses.place_of_ip(ip, net.services.service_of_ip(ip)), ip
    if target.startswith("svc:"):
        ref = target[4:].strip()
        ref = ref if "/" in ref else f"default/{ref}"
        cip = net.services.cluster_ip(ref)
        if cip is None:
            raise UserInputError(f"to: {target!r}: no Service {ref} with a ClusterIP")
        ns, name = ref.split("/", 1)
        return net.addresses.place_of_ip(cip, ref), f"{name}.{ns}"
    if target.startswith("node:"):
        place = net.addresses.place_of_node(target[5:])
        if place is None:
            raise UserInputError(f"to: {target!r}: no such node")
        return place, place.ip
    if target.startswith("entity:"):
        return _entity(net, src, target[7:].strip(), port)
    if "/" in target and ":" not in target:
        place = net.addresses.place_of_pod(target)
        if place is None:
            raise UserInputError(f"to: pod {target} does not exist")
        if not place.ip:
            raise UserInputError(f"to: pod {target} has no IP address (not scheduled)")
        return place, place.ip
    raise UserInputError(f"to: {target!r}: expected ns/pod, svc:ns/name, ip:A.B.C.D, fqdn:NAME, entity:NAME or node:NAME")


def _entity(net: ClusterNetwork, src: Place, entity: str, port: int | str | None = None) -> tuple[Place, str]:
    """An entity as a concrete address. ``kube-apiserver``: Service ``default/kubernetes`` when it
    serves the port (443 -> 6443), else the apiserver endpoint itself (the control-plane address,
    e.g. ``6443`` or ``10250``); ``host``: the source's node; ``remote-node``: another node, a worker
    first (a control-plane node is ``kube-apiserver`` as well); ``world``: 1.1.1.1; ``kube-dns``: the
    cluster DNS Service."""
    if entity == "kube-apiserver":
        ip = net.services.cluster_ip("default/kubernetes")
        fronts = net.services.ports_of("default/kubernetes")
        if ip is not None and (port is None or any(f.port == port or f.port_name == port for f in fronts)):
            return net.addresses.place_of_ip(ip, "default/kubernetes"), "kubernetes.default.svc"
        backends = [b for f in fronts for b in f.backends]
        if backends:
            return net.addresses.place_of_ip(backends[0].ip), backends[0].ip
        if net.addresses.control_planes:
            cp = net.addresses.control_planes[0]
            return Place("host", net.addresses.node_ips.get(cp, ""), node=cp), net.addresses.node_ips.get(cp, "")
        raise UserInputError("to: entity:kube-apiserver: the cluster has no control-plane node")
    if entity == "host":
        place = net.addresses.place_of_node(src.node or "")
        assert place is not None
        return place, place.ip
    if entity == "remote-node":
        cps = set(net.addresses.control_planes)
        others = sorted((n for n in net.addresses.node_ips if n != src.node), key=lambda n: (n in cps, n))
        if not others:
            raise UserInputError("to: entity:remote-node: the cluster has no other node")
        place = net.addresses.place_of_node(others[0])
        assert place is not None
        return place, place.ip
    if entity == "world":
        return Place("world", "1.1.1.1"), "1.1.1.1"
    if entity == "kube-dns":
        ip = net.settings.dns_ip
        return net.addresses.place_of_ip(ip, net.services.service_of_ip(ip)), "kube-dns.kube-system"
    raise UserInputError(f"to: entity:{entity}: unsupported entity target (supported: {', '.join(ENTITIES)})")


def _dns_server(ctx: Probe, src: Place, target: str, proto: str) -> Place:
    """The DNS server a lookup goes to: kube-dns (ClusterFirst) unless the probe names one."""
    net = ctx.net
    if target.startswith("fqdn:"):
        raise UserInputError(f"to: {target!r}: a DNS probe goes to a DNS server (svc:kube-system/kube-dns, ip:..., "
                             "or no target for the pod's resolver); the name goes in dns.query")
    if target:
        dst, _ = _target(net, src, target)
    elif src.kind == "host":
        return Place("world", "8.8.8.8")  # node resolv.conf: an upstream resolver, not kube-dns
    else:
        ip = net.settings.dns_ip
        dst = net.addresses.place_of_ip(ip, net.services.service_of_ip(ip))
    if dst.kind == "service":
        backend, _, note = _translate(net, src, dst, 53, proto)
        if backend is None:
            raise UserInputError(f"DNS server {dst.service}: {note}")
        return backend
    return dst


def _translate(net: ClusterNetwork, src: Place, svc: Place, port: int, proto: str) -> tuple[Place | None, int, str]:
    """Socket-LB: ClusterIP:port -> one ready backend IP:targetPort."""
    from .services import pick_backend

    fe = net.services.frontend(svc.ip, port, "TCP" if proto == "ICMP" else proto)
    if fe is None:
        return None, port, (f"{svc.service} ({svc.ip}) has no port {port}/{proto}: the socket-LB does not translate "
                            "it; the packet goes to the ClusterIP itself, which policy sees as world and nothing "
                            "answers (cilium/cilium#13329)")
    backend = pick_backend(fe, f"{src.pod or src.node}")
    if backend is None:
        return None, port, (f"Service {fe.service} has no ready endpoints: the socket-LB fails connect() with "
                            "EHOSTUNREACH before any packet exists (bpf/bpf_sock.c; no flow)")
    if backend.pod is not None:
        place = net.addresses.place_of_pod(backend.pod) or net.addresses.place_of_ip(backend.ip)
    else:
        place = net.addresses.place_of_ip(backend.ip)
    note = f"{fe.service} {fe.ip}:{fe.port}/{fe.protocol} -> backend {backend.pod or backend.ip}:{backend.port} (kube-proxy replacement)"
    return place, backend.port, note


def _port(ctx: Probe, dst: Place, port: int | str | None, proto: str) -> int:
    if proto == "ICMP":
        return 0
    if port is None or port == "":
        raise UserInputError(f"port: a {proto} probe needs a port")
    if isinstance(port, int) or str(port).isdigit():
        num = int(port)
        if not 0 < num < 65536:
            raise UserInputError(f"port: {port} is not in 1-65535")
        return num
    if dst.kind == "service" and dst.service:
        for fe in ctx.net.services.ports_of(dst.service):
            if fe.port_name == port and fe.protocol == proto:
                return fe.port
        raise UserInputError(f"port: Service {dst.service} has no {proto} port named {port!r}")
    if dst.pod is None:
        raise UserInputError(f"port: named port {port!r} needs a pod or Service target")
    from .services import find_port

    found = find_port(ctx.net.addresses.pods[dst.pod], str(port), proto)
    if found is None:
        raise UserInputError(f"port: pod {dst.pod} has no {proto} container port named {port!r}")
    return found


def _check_ip(ip: str, target: str) -> None:
    import ipaddress

    try:
        ipaddress.IPv4Address(ip)
    except ValueError:
        raise UserInputError(f"to: {target!r}: {ip!r} is not an IPv4 address") from None


def _ip_sort(ip: str) -> tuple[int, ...]:
    return tuple(int(x) for x in ip.split("."))


def _probe_id(request: ProbeRequest) -> str:
    extra = ""
    if request.http:
        extra = f" {request.http.get('method', 'GET')} {request.http.get('path', '/')}"
    elif request.grpc:
        extra = f" grpc {request.grpc.get('service')}/{request.grpc.get('method')}"
    elif request.dns:
        extra = f" dns {request.dns.get('query')}"
    return f"probe {request.source} -> {request.target}:{request.port}/{request.protocol}{extra}"


def _seed(seed: int, probe_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}|{probe_id}".encode()).digest()[:8], "big")


def _clock_fn(clock: Any, net: ClusterNetwork) -> Callable[[], int]:
    """Nanoseconds from the twin's clock, never earlier than the previous probe's last flow."""
    if clock is None:
        base: Callable[[], int] = lambda: 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z  # noqa: E731
    elif hasattr(clock, "time_ns"):
        base = clock.time_ns
    elif hasattr(clock, "now"):
        base = lambda: int(clock.now().timestamp() * 1_000_000_000)  # noqa: E731
    else:
        base = clock
    return lambda: max(int(base()), net.last_flow_ns + 1_000)
