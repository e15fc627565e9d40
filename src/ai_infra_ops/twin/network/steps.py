"""The steps a probe is made of: one connection (L3/L4 + optional HTTP/gRPC) and one DNS lookup.

Each step asks the policy engine for the source's egress and the destination's ingress decision,
the proxy for L7 verdicts, and builds the flows with ``hubble.builder.FlowBuilder``:

- denied at L3/L4: policy-verdict + drop on the denying side's node; TCP clients retransmit the
  SYN once before a 2 s connect timeout (Linux initial RTO 1 s), so TCP drops appear twice;
- allowed: the builder's connection/HTTP/gRPC/DNS sequences (egress events on the source's node,
  ingress events on the destination's node, replies marked);
- allowed but nobody listens (``addresses.listens``): the SYN is delivered and the pod's stack
  answers RST (the client sees "connection refused"); UDP gets ICMP port unreachable;
- allowed to an outside address nothing answers at: the packet leaves (to-stack) and the
  client times out; no drop anywhere.

The two shapes the builder does not offer (refused, unanswered) are assembled here from its
public packet primitives (``packets``, ``open_allowed``, ``deliver``, ``trace``). Called by ``traffic``.
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...hubble.builder import FlowBuilder, Peer, PolicyOutcome, endpoint_dict
from ...hubble.datapath import Packet
from ...hubble.enums import DropReason, TraceObservationPoint
from ...hubble.summary import icmp_summary, tcp_summary
from ...policy.endpoints import Decision, Endpoint
from ...policy.engine import PolicyEngine
from .addresses import Place
from .cluster import ClusterNetwork
from .dns import NO_ANSWER_TTL, RCODES

TCP_RETRIES = 1
GRPC_STATUS = {200: "OK", 403: "PERMISSION_DENIED"}


@dataclass
class Probe:
    """What a probe's steps share."""

    net: ClusterNetwork
    engine: PolicyEngine
    builder: FlowBuilder
    request: Any


@dataclass
class Outcome:
    """The result of one or more steps (the later step's verdict wins; flows accumulate)."""

    verdict: str = "FORWARDED"
    drop_reason: str | None = None
    http_status: int | None = None
    grpc_status: str | None = None
    dns_rcode: str | None = None
    dns_ips: tuple[str, ...] = ()
    flows: list[dict[str, Any]] = field(default_factory=list)
    explanations: list[str] = field(default_factory=list)

    def then(self, nxt: Outcome) -> Outcome:
        nxt.flows = self.flows + nxt.flows
        nxt.explanations = self.explanations + nxt.explanations
        nxt.dns_rcode = nxt.dns_rcode or self.dns_rcode
        nxt.dns_ips = nxt.dns_ips or self.dns_ips
        return nxt


# ---------------------------------------------------------------------------------- peers
def endpoint_id(pod: str) -> int:
    """A stable Cilium endpoint ID for a pod (the agent hands out small per-node numbers)."""
    return 1 + int.from_bytes(hashlib.sha256(pod.encode()).digest()[:4], "big") % 4095


def workloads(pod: Mapping[str, Any]) -> list[dict[str, str]]:
    """Hubble ``workloads``: the top owner (a ReplicaSet with a pod-template-hash -> Deployment)."""
    md = pod.get("metadata") or {}
    out = []
    for ref in md.get("ownerReferences") or []:
        kind, name = str(ref.get("kind")), str(ref.get("name"))
        h = (md.get("labels") or {}).get("pod-template-hash")
        if kind == "ReplicaSet" and h and name.endswith("-" + h):
            kind, name = "Deployment", name[: -len(h) - 1]
        out.append({"name": name, "kind": kind})
    return out


def endpoint_of(ctx: Probe, place: Place) -> Endpoint:
    if place.kind == "pod" and place.pod:
        return Endpoint.pod(place.pod)
    if place.kind == "host" and place.node:
        return Endpoint.node(place.node)
    return Endpoint.ip(place.ip)


def peer_of(ctx: Probe, place: Place, observer: str | None, names: tuple[str, ...] = ()) -> Peer:
    """The builder's view of a place (identity and labels from the engine)."""
    cluster = ctx.net.settings.cluster_name
    if place.kind == "pod" and place.pod:
        ident = ctx.engine.identity_of_pod(place.pod)
        pod = ctx.net.addresses.pods[place.pod]
        ns, name = place.pod.split("/", 1)
        ep = endpoint_dict(identity=ident.id, labels=list(ident.labels), ID=endpoint_id(place.pod), namespace=ns,
                           pod_name=name, workloads=workloads(pod), cluster_name=cluster)
        return Peer(place.ip, ep, place.node, names)
    if place.kind == "host" and place.node:
        ident = ctx.engine.identity_of_endpoint(Endpoint.node(place.node), observer)
        if ident.id == 1:
            return Peer.host(place.node, place.ip)
        return Peer(place.ip, {"identity": ident.id, "labels": sorted(ident.labels)}, place.node, names)
    ident = ctx.engine.identity_of_ip(place.ip, observer)
    if ident.id == 2:
        return Peer.world(place.ip, names)
    return Peer(place.ip, {"identity": ident.id, "labels": sorted(ident.labels)}, None, names)


def _outcome(d: Decision | None) -> PolicyOutcome | None:
    """Only enforcing sides emit policy-verdict events (hubble-flows.md §3.4)."""
    if d is None or not d.enforced:
        return None
    return PolicyOutcome.from_decision(d)


def decisions(ctx: Probe, src: Place, dst: Place, proto: str, port: int) -> tuple[Decision | None, Decision | None]:
    """Egress at the source endpoint, ingress at the destination endpoint (pods only: the host
    endpoint is enforced only with the host firewall, which ``engine.decide`` also knows)."""
    s, d = endpoint_of(ctx, src), endpoint_of(ctx, dst)
    eg = ctx.engine.decide(s, d, proto, port, "EGRESS") if src.kind in ("pod", "host") else None
    ing = ctx.engine.decide(s, d, proto, port, "INGRESS") if dst.kind in ("pod", "host") else None
    return eg, ing


def _denied(eg: Decision | None, ing: Decision | None) -> Decision | None:
    for d in (eg, ing):
        if d is not None and d.verdict == "DENY":
            return d
    return None


# ---------------------------------------------------------------------------------- connection
def connect(ctx: Probe, src: Place, dst: Place, proto: str, port: int, *,
            names: tuple[str, ...] = (), host_header: str = "") -> Outcome:
    """One connection (or request) from ``src`` to ``dst:port`` after service translation."""
    req = ctx.request
    out = Outcome()
    if src.kind == "pod" and dst.kind == "pod" and src.pod == dst.pod:
        out.explanations.append(f"{src.pod} reaches its own address {dst.ip}: the packet never leaves the pod's "
                                "network namespace, policy does not apply and no flow is seen (reference §8)")
        if req.http is not None or req.grpc is not None:
            out.http_status = 200
            out.grpc_status = "OK" if req.grpc is not None else None
        return out
    eg, ing = decisions(ctx, src, dst, proto, port)
    out.explanations.extend(d.explanation for d in (eg, ing) if d is not None and d.explanation)
    sp = peer_of(ctx, src, dst.node)
    dp = peer_of(ctx, dst, src.node, names)
    b = ctx.builder
    fproto = "ICMP" if proto == "ICMP" else proto
    denied = _denied(eg, ing)
    if denied is not None:
        retries = TCP_RETRIES if proto == "TCP" else 0
        out.flows = b.connection(sp, dp, protocol=fproto, dport=port or None, egress=_outcome(eg),
                                 ingress=_outcome(ing) if (eg is None or eg.verdict != "DENY") else None, retries=retries)
        out.verdict = "DROPPED"
        out.drop_reason = denied.drop_reason_desc
        return out
    audit = any(d is not None and d.verdict == "AUDIT" for d in (eg, ing))
    listening = _answers(ctx, dst, port, proto)
    is_l7 = req.http is not None or req.grpc is not None
    if is_l7 and proto == "TCP" and listening:
        _l7(ctx, out, sp, dp, port, eg, ing, host_header)
    elif listening:
        out.flows = b.connection(sp, dp, protocol=fproto, dport=port or None, egress=_outcome(eg), ingress=_outcome(ing))
        if is_l7:
            out.http_status = 200
    elif dst.kind == "world":
        out.flows = _unanswered(b, sp, dp, proto, port, eg)
        out.explanations.append(f"nothing answers at {dst.ip} (no world.dns name points to it): the client times out; "
                                "the packet was forwarded, no drop")
    else:
        out.flows = _refused(b, sp, dp, proto, port, eg, ing)
        what = "RST (connection refused)" if proto == "TCP" else "ICMP port unreachable"
        out.explanations.append(f"nothing listens on {dst.pod or dst.node}:{port}/{proto}: policy allowed it, the "
                                f"destination's stack answers {what}")
    if audit and out.verdict == "FORWARDED":
        out.verdict = "AUDIT"
    return out


def sctp_port_rewrite_drop(ctx: Probe, src: Place, backend: Place, service_port: int, target_port: int) -> Outcome:
    """SCTP to a Service whose targetPort differs from its port: dropped by the per-packet load balancer.

    The socket-LB handles only TCP and UDP (``bpf_sock.c`` ``sock_proto_enabled``), so SCTP is
    translated per packet in the source endpoint's program (``bpf_lxc.c``). ``lb4_xlate`` rewrites the
    destination address to the backend, then ``lb_l4_xlate`` refuses to rewrite an SCTP port (the
    CRC32C checksum would have to be recomputed) and returns ``DROP_CSUM_L4`` (154) before any policy
    lookup: one drop event at the source, EGRESS, to the backend's address and the Service's port
    (Cilium docs ``configuration/sctp``: "targetPort MUST equal the port, otherwise the packet will
    be dropped")."""
    out = Outcome(verdict="DROPPED", drop_reason=DropReason.ERROR_WHILE_CORRECTING_L4_CHECKSUM.value)
    b = ctx.builder
    sp = peer_of(ctx, src, backend.node)
    dp = peer_of(ctx, backend, src.node)
    first = b.packets(sp, dp, "SCTP", b.ephemeral_port(), service_port, data=False, reply=False)[0]
    if src.node:
        out.flows = [b.drop(src.node, first, "EGRESS", DropReason.ERROR_WHILE_CORRECTING_L4_CHECKSUM.number)]
    out.explanations.append(
        f"SCTP port {service_port} -> targetPort {target_port}: Cilium's load balancer cannot rewrite SCTP ports "
        "(lb_l4_xlate returns DROP_CSUM_L4; docs configuration/sctp: targetPort must equal port); dropped at the "
        "source before policy")
    return out


def _answers(ctx: Probe, dst: Place, port: int, proto: str) -> bool:
    if dst.kind == "world":
        return ctx.net.settings.world.exists(dst.ip)
    return ctx.net.addresses.listens(dst, port, proto)


def _l7(ctx: Probe, out: Outcome, sp: Peer, dp: Peer, port: int, eg: Decision | None, ing: Decision | None,
        host_header: str) -> None:
    """HTTP or gRPC over an allowed connection: the proxy of each redirecting side decides
    (egress first, reference §4.9); a denial is answered 403 by that proxy's Envoy."""
    req = ctx.request
    http: dict[str, Any]
    verbatim = False
    if req.grpc is not None:
        http = {"method": "POST", "path": f"/{req.grpc.get('service')}/{req.grpc.get('method')}",
                "headers": {"content-type": "application/grpc"}}
    else:
        h = dict(req.http or {})
        http = {"method": str(h.get("method") or "GET"), "path": str(h.get("path") or "/"),
                "headers": dict(h.get("headers") or {})}
        if h.get("host"):
            host_header = str(h["host"])
        # A ``Host`` header given with the request is the authority the client sends, verbatim
        # (Envoy turns it into ``:authority``, which `rules.http[].host` matches; Cilium's access
        # log lists it as the URL's host, not among the headers).
        given = [k for k in http["headers"] if str(k).lower() == "host"]
        if given:
            explicit = str(http["headers"][given[0]])
            for k in given:
                del http["headers"][k]
            if explicit:
                host_header, verbatim = explicit, True
    host = host_header if port == 80 or not host_header or verbatim else f"{host_header}:{port}"
    http["host"] = host
    allowed, ing_used = True, ing
    for side in (eg, ing):
        if side is not None and side.verdict == "REDIRECT":
            v = ctx.engine.check_l7(side, http=http)
            out.explanations.append(v.explanation)
            if not v.allowed:
                allowed = False
                if side is eg:
                    ing_used = None  # the egress proxy answered; the server never saw the request
                break
    b = ctx.builder
    kwargs: dict[str, Any] = dict(dport=port, host=host, egress=_outcome(eg), ingress=_outcome(ing_used), l7_allowed=allowed)
    if ing_used is None and eg is not None and eg.verdict == "REDIRECT":
        kwargs["ingress"] = None
    if req.grpc is not None:
        out.flows = b.grpc(sp, dp, service=str(req.grpc.get("service")), method=str(req.grpc.get("method")), **kwargs)
    else:
        out.flows = b.http(sp, dp, method=http["method"], path=http["path"],
                           headers={**{"Accept": "*/*", "User-Agent": "curl/8.11.0"}, **http["headers"]}, **kwargs)
    out.http_status = 200 if allowed else 403
    if req.grpc is not None:
        out.grpc_status = GRPC_STATUS[out.http_status]
    if not allowed:
        out.verdict = "DROPPED"


def _first_packet(b: FlowBuilder, sp: Peer, dp: Peer, proto: str, port: int) -> Packet:
    p = "ICMPv4" if proto == "ICMP" else proto
    return b.packets(sp, dp, p, b.ephemeral_port(), port, data=False, reply=False)[0]


def _refused(b: FlowBuilder, sp: Peer, dp: Peer, proto: str, port: int,
             eg: Decision | None, ing: Decision | None) -> list[dict[str, Any]]:
    """Allowed first packet delivered, then the answer of the destination's stack: RST,ACK (TCP), ICMP
    port unreachable (UDP); SCTP (whose ABORT the twin does not draw): the request only."""
    first = _first_packet(b, sp, dp, proto, port)
    out: list[dict[str, Any]] = []
    b.open_allowed(first, _outcome(eg), _outcome(ing), out)
    if proto == "TCP":
        flags = {"ACK": True, "RST": True}
        l4 = {"TCP": {"source_port": port, "destination_port": first.l4["TCP"]["source_port"], "flags": {"ACK": True, "RST": True}}}
        b.deliver(Packet(dp, sp, l4, tcp_summary(flags), True, "REPLY"), out)
    elif proto == "UDP":
        # The destination's kernel answers ICMP port unreachable (type 3, code 3), related to the
        # connection in conntrack, so it passes back as a reply.
        unreachable = Packet(dp, sp, {"ICMPv4": {"type": 3, "code": 3}}, icmp_summary(4, 3, 3), True, "RELATED")
        b.deliver(unreachable, out)
    return out


def _unanswered(b: FlowBuilder, sp: Peer, dp: Peer, proto: str, port: int, eg: Decision | None) -> list[dict[str, Any]]:
    """Packets leave towards an address nobody answers at (TCP: SYN + one retransmission)."""
    first = _first_packet(b, sp, dp, proto, port)
    out: list[dict[str, Any]] = []
    b.open_allowed(first, _outcome(eg), None, out)
    if proto == "TCP" and sp.node:
        for _ in range(TCP_RETRIES):
            out.append(b.trace(sp.node, first, TraceObservationPoint.TO_STACK))
    return out


# ---------------------------------------------------------------------------------- DNS
def dns_lookup(ctx: Probe, src: Place, server: Place, name: str, *, qtype: str = "A", proto: str = "UDP",
               port: int = 53, walk_search: bool = True) -> Outcome:
    """Resolve ``name`` from ``src`` through ``server`` (a CoreDNS backend or an outside resolver).

    The queries are the names ``ClusterDNS.lookup_names`` lists (only the first unless
    ``walk_search``); each is one exchange, stopping at the first answer, REFUSED or failure.
    Allowed answers through the DNS proxy teach the engine the IPs (``learn_fqdn``: toFQDNs).
    """
    dns = ctx.net.dns
    ns = src.pod.split("/", 1)[0] if (src.kind == "pod" and src.pod) else None
    queries = dns.lookup_names(name, ns)
    if not walk_search:
        queries = queries[:1]
    total = Outcome()
    for q in queries:
        step = _query(ctx, src, server, q, qtype, proto, port)
        total = total.then(step)
        if step.dns_rcode != "NXDOMAIN":
            break
    if total.dns_rcode == "NXDOMAIN" and ctx.request.dns is None:
        total.explanations.append(f"{name} does not resolve (NXDOMAIN): no connection is attempted")
    return total


def _query(ctx: Probe, src: Place, server: Place, qname: str, qtype: str, proto: str, port: int) -> Outcome:
    out = Outcome()
    if server.kind == "world":  # an outside resolver (e.g. 8.8.8.8): world names only, if it exists
        ans = ctx.net.dns.answer(qname, upstream_only=True) if ctx.net.settings.world.exists(server.ip) else None
    else:
        ans = ctx.net.dns.answer(qname)
    if src.kind == "host":
        # The host resolves through its own resolv.conf; not a Cilium endpoint, no proxy, no events.
        if ans is None:
            out.verdict, out.dns_rcode = "FORWARDED", "SERVFAIL"
            return out
        ips = ans.ips if qtype == "A" else ()
        out.dns_rcode, out.dns_ips = RCODES[ans.rcode], ips
        out.explanations.append(f"node {src.node} resolves {qname} itself: {out.dns_rcode} {' '.join(ips)}".rstrip())
        return out
    eg, ing = decisions(ctx, src, server, proto, port)
    out.explanations.extend(d.explanation for d in (eg, ing) if d is not None and d.explanation)
    sp, dp = peer_of(ctx, src, server.node), peer_of(ctx, server, src.node)
    b = ctx.builder
    denied = _denied(eg, ing)
    if denied is not None:
        retries = TCP_RETRIES if proto == "TCP" else 0
        out.flows = b.connection(sp, dp, protocol=proto, dport=port, egress=_outcome(eg),
                                 ingress=_outcome(ing) if (eg is None or eg.verdict != "DENY") else None,
                                 retries=retries, data=False)
        out.verdict, out.drop_reason = "DROPPED", denied.drop_reason_desc
        out.explanations.append(f"DNS query {qname} is dropped: the lookup times out")
        return out
    if ans is None or not _answers(ctx, server, port, proto):
        out.flows = _unanswered(b, sp, dp, proto, port, eg)
        out.dns_rcode = "TIMEOUT"
        out.verdict = "DROPPED"
        out.explanations.append(f"no DNS server answers at {server.ip}:{port}: the lookup times out")
        return out
    ips = ans.ips if qtype == "A" else ()
    if eg is not None and eg.verdict == "REDIRECT" and eg.l7 is not None and eg.l7.kind == "dns":
        v = ctx.engine.check_l7(eg, dns={"query": qname})
        out.explanations.append(v.explanation)
        egress = PolicyOutcome.from_decision(eg, proxy_port=15053)
        if not v.allowed:
            # dnsproxy.go ServeDNS: the proxy answers REFUSED itself and reports only the request.
            out.flows = b.dns(sp, dp, query=qname, qtype=qtype, egress=egress, allowed=False, dport=port, protocol=proto)
            out.verdict, out.dns_rcode = "DROPPED", "REFUSED"
            return out
        out.flows = b.dns(sp, dp, query=qname, qtype=qtype, egress=egress, allowed=True, rcode=ans.rcode,
                          ips=ips, ttl=ans.ttl if ips else NO_ANSWER_TTL, dport=port, protocol=proto)
        if ans.rcode == 0 and ips and src.pod:
            ctx.engine.learn_fqdn(src.pod, qname, list(ips))
    else:
        out.flows = b.connection(sp, dp, protocol=proto, dport=port, egress=_outcome(eg), ingress=_outcome(ing), data=False)
    out.dns_rcode, out.dns_ips = RCODES[ans.rcode], ips
    out.explanations.append(f"DNS {qtype} {qname}: {out.dns_rcode}{' ' + ' '.join(ips) if ips else ''}")
    return out
