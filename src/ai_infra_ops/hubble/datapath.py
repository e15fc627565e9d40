"""L3/L4 datapath events for the ``FlowBuilder``: policy-verdict, drop and trace flows.

Which events appear, and how their fields are filled, follows Cilium's datapath and parsers:

- ``policy-verdict`` (type 5) once per new connection and enforcing direction (``bpf/lib/policy_log.h``),
  verdict FORWARDED / REDIRECTED / AUDIT / DROPPED (+ ``drop_reason``), ``is_reply`` false unless
  dropped (absent then), ``*_allowed_by`` / ``*_denied_by`` from the policies that matched
  (``pkg/policy/correlation/correlation.go``: allowed lists on FORWARDED/REDIRECTED, denied lists
  only for POLICY_DENY).
- ``drop`` (type 1, sub_type = reason) for each dropped packet, SYN retransmissions included.
- ``trace`` (type 4) with default monitor aggregation (``medium``, ``bpf/lib/trace.h``
  ``emit_trace_notify``): only ``to-*`` points, for packets that open a connection or change TCP
  flags; ``from-*`` points only with ``aggregation="none"``. ``traffic_direction`` = (packet source
  is the emitting endpoint) XOR reply (``threefour/parser.go`` ``decodeTrafficDirection``).

``Endpoint.ID`` is kept only on flows reported by the endpoint's own node; a host seen from another
node is shown as ``reserved:remote-node``. UUIDs come from ``seed``, times from ``clock``
(nanoseconds), strictly increasing. Build-specific fields (``file`` line numbers, ``emitter``
version) are not invented.
"""
from __future__ import annotations

import hashlib
import random
import uuid as uuidlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .encoding import FlowDict, canonical, format_timestamp
from .enums import DropReason, TraceObservationPoint
from .summary import icmp_summary, tcp_summary

_WORLD = {"identity": 2, "labels": ["reserved:world"]}


def endpoint_dict(
    *,
    identity: int,
    labels: Sequence[str],
    ID: int = 0,  # noqa: N803 - Hubble's field name
    namespace: str = "",
    pod_name: str = "",
    workloads: Sequence[Mapping[str, str]] = (),
    cluster_name: str = "",
) -> dict[str, Any]:
    """A Hubble ``Endpoint`` dict in declaration order (labels sorted, zero values omitted)."""
    return canonical(
        {"ID": ID, "identity": identity, "cluster_name": cluster_name, "namespace": namespace,
         "labels": sorted(labels), "pod_name": pod_name,
         "workloads": [{"name": w["name"], "kind": w["kind"]} for w in workloads]},
        "Endpoint",
    )


@dataclass(frozen=True)
class Peer:
    """One side of a connection: its IP, its Hubble endpoint dict (with ``ID``), its node.

    ``node`` is None outside the cluster (world). ``names`` are DNS names a client resolved for
    this IP (shown as ``destination_names`` on the client's node).
    """

    ip: str
    endpoint: Mapping[str, Any]
    node: str | None = None
    names: tuple[str, ...] = ()

    @classmethod
    def world(cls, ip: str, names: Sequence[str] = ()) -> Peer:
        return cls(ip, dict(_WORLD), None, tuple(names))

    @classmethod
    def host(cls, node: str, ip: str) -> Peer:
        return cls(ip, {"identity": 1, "labels": ["reserved:host"]}, node)

    @property
    def is_pod(self) -> bool:
        return self.node is not None and bool(self.endpoint.get("ID"))

    def as_seen_from(self, node: str) -> dict[str, Any]:
        ep = dict(self.endpoint)
        if self.node != node:
            ep.pop("ID", None)
            if ep.get("identity") == 1 and self.node is not None:
                ep = {"identity": 6, "labels": ["reserved:remote-node"]}
        return ep


@dataclass(frozen=True)
class PolicyOutcome:
    """The policy engine's answer for one direction (duck-typed from ``policy.Decision``).

    ``verdict``: ALLOW | DENY | REDIRECT | AUDIT; ``drop_reason`` 133/181/189 for DENY;
    ``match_type``: policy_match_type; ``policies``: Hubble Policy dicts; ``proxy_port`` for REDIRECT.
    """

    verdict: str
    drop_reason: int | None = None
    match_type: int = 0
    policies: tuple[Mapping[str, Any], ...] = ()
    proxy_port: int = 0

    @classmethod
    def from_decision(cls, decision: Any, proxy_port: int = 15001) -> PolicyOutcome:
        return cls(
            verdict=str(decision.verdict),
            drop_reason=getattr(decision, "drop_reason", None),
            match_type=int(getattr(decision, "match_type", 0) or 0),
            policies=tuple(getattr(decision, "policies", ()) or ()),
            proxy_port=proxy_port if str(decision.verdict) == "REDIRECT" else 0,
        )

    @property
    def denied(self) -> bool:
        return self.verdict == "DENY"


def _policy(p: Mapping[str, Any]) -> dict[str, Any]:
    """A Hubble ``Policy`` dict; ``revision`` is a uint64, i.e. a JSON string."""
    out = dict(p)
    if isinstance(out.get("revision"), int):
        out["revision"] = str(out["revision"])
    if "labels" in out:
        out["labels"] = sorted(out["labels"])
    return canonical(out, "Policy")


def _mac(key: str) -> str:
    raw = bytearray(hashlib.sha1(key.encode()).digest()[:6])
    raw[0] = (raw[0] | 0x02) & 0xFE  # locally administered, unicast (as veth MACs are)
    return ":".join(f"{b:02x}" for b in raw)


def _lxc(ep: Mapping[str, Any], ip: str) -> dict[str, Any]:
    digest = hashlib.sha1(ip.encode()).hexdigest()
    return {"index": 10 + int(ep.get("ID", 0)) % 1000, "name": "lxc" + digest[:11]}


# (flags, is_reply) of the packets of a short TCP connection: handshake, one request and
# response, close. ``packets`` keeps those that are reported (``bpf/lib/trace.h``: because they
# open the connection or change the flags seen in their direction).
_TCP_OPEN = (({"SYN": True}, False), ({"SYN": True, "ACK": True}, True), ({"ACK": True}, False))
_TCP_DATA = (({"PSH": True, "ACK": True}, False), ({"PSH": True, "ACK": True}, True))
_TCP_CLOSE = (({"FIN": True, "ACK": True}, False), ({"FIN": True, "ACK": True}, True), ({"ACK": True}, False))


@dataclass
class Packet:
    """One L3/L4 packet of a connection (forward or reply direction)."""

    src: Peer
    dst: Peer
    l4: dict[str, Any]
    summary: str
    reply: bool
    reason: str  # trace_reason


@dataclass
class DatapathBuilder:
    """Builds ordered Hubble L3/L4 flow dicts (policy-verdict, drop, trace). See the module docstring."""

    cluster_name: str = "default"
    seed: int = 0
    clock: Callable[[], int] | None = None
    aggregation: str = "medium"  # "medium" (Cilium default) | "none" (from-* points too)
    step_ns: int = 13_000
    _rng: random.Random = field(init=False, repr=False)
    _last_ns: int = field(init=False, default=0, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    # ------------------------------------------------------------------ primitives
    def _now(self) -> int:
        base = self.clock() if self.clock else 1_700_000_000_000_000_000
        self._last_ns = max(base, self._last_ns + self.step_ns)
        return self._last_ns

    def _uuid(self) -> str:
        return str(uuidlib.UUID(int=self._rng.getrandbits(128), version=4))

    def ephemeral_port(self) -> int:
        return self._rng.randint(32768, 60999)

    def node_name(self, node: str) -> str:
        return f"{self.cluster_name}/{node}" if self.cluster_name else node

    def _base(self, node: str, src: Peer, dst: Peer, *, arriving: bool) -> dict[str, Any]:
        ep_side = dst if arriving else src
        mac_pod, mac_lxc = _mac("pod/" + ep_side.ip), _mac("lxc/" + ep_side.ip)
        eth = {"source": mac_lxc, "destination": mac_pod} if arriving else {"source": mac_pod, "destination": mac_lxc}
        return {
            "time": self._now(), "uuid": self._uuid(), "ethernet": eth,
            "IP": {"source": src.ip, "destination": dst.ip, "ipVersion": "IPv6" if ":" in src.ip else "IPv4"},
            "source": src.as_seen_from(node), "destination": dst.as_seen_from(node),
            "Type": "L3_L4", "node_name": self.node_name(node),
            "source_names": list(src.names) if dst.node == node else [],
            "destination_names": list(dst.names) if src.node == node else [],
        }

    def _finish(self, flow: dict[str, Any]) -> FlowDict:
        flow["time"] = format_timestamp(flow["time"])
        return canonical(flow, "Flow")

    def policy_verdict(self, node: str, pkt: Packet, direction: str, outcome: PolicyOutcome) -> FlowDict:
        f = self._base(node, pkt.src, pkt.dst, arriving=direction == "INGRESS")
        verdict = {"ALLOW": "FORWARDED", "REDIRECT": "REDIRECTED", "AUDIT": "AUDIT", "DENY": "DROPPED"}[outcome.verdict]
        reason = outcome.drop_reason or DropReason.POLICY_DENIED.number if outcome.denied else 0
        f.update(verdict=verdict, drop_reason=reason, l4=pkt.l4, event_type={"type": 5},
                 traffic_direction=direction, policy_match_type=outcome.match_type,
                 drop_reason_desc=DropReason.from_number(reason).value if reason else None,
                 is_reply=None if outcome.denied else False, Summary=pkt.summary)
        pols = [_policy(p) for p in outcome.policies]
        side = direction.lower()
        if verdict in ("FORWARDED", "REDIRECTED"):
            f[f"{side}_allowed_by"] = pols
        elif reason == DropReason.POLICY_DENY.number:
            f[f"{side}_denied_by"] = pols
        return self._finish(f)

    def drop(self, node: str, pkt: Packet, direction: str, reason: int) -> FlowDict:
        f = self._base(node, pkt.src, pkt.dst, arriving=direction == "INGRESS")
        f.update(verdict="DROPPED", drop_reason=reason, l4=pkt.l4, event_type={"type": 1, "sub_type": reason},
                 traffic_direction=direction, drop_reason_desc=DropReason.from_number(reason).value,
                 Summary=pkt.summary)
        return self._finish(f)

    def trace(self, node: str, pkt: Packet, point: TraceObservationPoint, *, proxy_port: int = 0,
              egress_proxy: bool = False) -> FlowDict:
        # to-endpoint and ingress to-proxy are emitted by the destination's program, the rest
        # (to-overlay, to-stack, egress to-proxy) by the source's.
        arriving = point is TraceObservationPoint.TO_ENDPOINT or (
            point is TraceObservationPoint.TO_PROXY and not egress_proxy)
        f = self._base(node, pkt.src, pkt.dst, arriving=arriving)
        emitter = pkt.dst if arriving else pkt.src
        source_is_emitter = emitter is pkt.src
        iface = None
        if point is TraceObservationPoint.TO_ENDPOINT:
            iface = _lxc(pkt.dst.endpoint, pkt.dst.ip)
        elif point is TraceObservationPoint.TO_OVERLAY:
            iface = {"index": 4, "name": "cilium_vxlan"}
        f.update(verdict="FORWARDED", l4=pkt.l4, reply=pkt.reply,
                 event_type={"type": 4, "sub_type": point.sub_type},
                 traffic_direction="EGRESS" if source_is_emitter != pkt.reply else "INGRESS",
                 trace_observation_point=point.value, trace_reason=pkt.reason, is_reply=pkt.reply,
                 interface=iface, proxy_port=proxy_port, Summary=pkt.summary)
        return self._finish(f)

    # ------------------------------------------------------------------ L3/L4 paths
    def _from_endpoint(self, pkt: Packet, out: list[FlowDict]) -> None:
        # bpf_lxc's TRACE_FROM_LXC, suppressed by monitor aggregation >= medium (bpf/lib/trace.h)
        if self.aggregation == "none" and pkt.src.is_pod and pkt.src.node:
            out.append(self.trace(pkt.src.node, pkt, TraceObservationPoint.FROM_ENDPOINT))

    def deliver(self, pkt: Packet, out: list[FlowDict], *, to_proxy: int = 0, first: bool = False) -> None:
        """Trace events for one allowed packet travelling from ``pkt.src`` to ``pkt.dst``."""
        src, dst = pkt.src, pkt.dst
        if not first:
            self._from_endpoint(pkt, out)
        if to_proxy:  # ingress L7 proxy on the destination's node
            if src.node and dst.node and src.node != dst.node:
                out.append(self.trace(src.node, pkt, TraceObservationPoint.TO_OVERLAY))
            assert dst.node is not None
            out.append(self.trace(dst.node, pkt, TraceObservationPoint.TO_PROXY, proxy_port=to_proxy))
            return
        if src.node and dst.node and src.node != dst.node:
            out.append(self.trace(src.node, pkt, TraceObservationPoint.TO_OVERLAY))
        elif src.node and dst.node is None:
            out.append(self.trace(src.node, pkt, TraceObservationPoint.TO_STACK))
            return
        if dst.node is None:
            return
        point = TraceObservationPoint.TO_ENDPOINT if dst.is_pod else TraceObservationPoint.TO_STACK
        out.append(self.trace(dst.node, pkt, point))

    def _open(self, pkt: Packet, egress: PolicyOutcome | None, ingress: PolicyOutcome | None,
              retries: int, out: list[FlowDict]) -> bool:
        """Policy checks on the first packet; returns False (after the drops) when denied."""
        src, dst = pkt.src, pkt.dst
        if egress is not None and egress.denied and src.is_pod and src.node:
            for _ in range(1 + retries):
                out.append(self.policy_verdict(src.node, pkt, "EGRESS", egress))
                out.append(self.drop(src.node, pkt, "EGRESS", egress.drop_reason or 133))
            return False
        if ingress is not None and dst.is_pod and dst.node and ingress.denied:
            if egress is not None and src.is_pod and src.node:
                out.append(self.policy_verdict(src.node, pkt, "EGRESS", egress))
            if src.node and src.node != dst.node:
                out.append(self.trace(src.node, pkt, TraceObservationPoint.TO_OVERLAY))
            for _ in range(1 + retries):
                out.append(self.policy_verdict(dst.node, pkt, "INGRESS", ingress))
                out.append(self.drop(dst.node, pkt, "INGRESS", ingress.drop_reason or 133))
            return False
        return True

    def connection(
        self,
        src: Peer,
        dst: Peer,
        *,
        protocol: str = "TCP",
        dport: int | None = None,
        sport: int | None = None,
        egress: PolicyOutcome | None = None,
        ingress: PolicyOutcome | None = None,
        retries: int = 0,
        data: bool = True,
        reply: bool = True,
    ) -> list[FlowDict]:
        """A TCP connection (handshake, one request/response, close), a UDP or SCTP exchange, or an
        ICMP echo (``protocol`` ICMPv4/ICMPv6). Denied ⇒ policy-verdict + drop(s) and nothing else."""
        proto = protocol.upper().replace("ICMPV", "ICMPv")
        if proto == "ICMP":
            proto = "ICMPv6" if ":" in src.ip else "ICMPv4"
        sport = sport if sport is not None else self.ephemeral_port()
        packets = self.packets(src, dst, proto, sport, dport or 0, data=data, reply=reply)
        out: list[FlowDict] = []
        first = packets[0]
        if not self._open(first, egress, ingress, retries, out):
            return out
        for i, pkt in enumerate(packets):
            if i == 0:
                self.open_allowed(first, egress, ingress, out)
            else:
                self.deliver(pkt, out)
        return out

    def open_allowed(self, pkt: Packet, egress: PolicyOutcome | None, ingress: PolicyOutcome | None,
                        out: list[FlowDict], *, proxy_port: int = 0, egress_proxy: bool = False) -> None:
        """First packet of an allowed connection: verdicts on each enforcing side, then delivery
        (to the endpoint, or to the L7 proxy on the egress side or the ingress side)."""
        src, dst = pkt.src, pkt.dst
        self._from_endpoint(pkt, out)
        if egress is not None and src.is_pod and src.node:
            out.append(self.policy_verdict(src.node, pkt, "EGRESS", egress))
        if proxy_port and egress_proxy and src.node:
            # egress L7: the client's packet goes to its node's proxy; the upstream leg follows later
            out.append(self.trace(src.node, pkt, TraceObservationPoint.TO_PROXY, proxy_port=proxy_port,
                                  egress_proxy=True))
            return
        if ingress is not None and dst.is_pod and dst.node and src.node and src.node != dst.node:
            out.append(self.trace(src.node, pkt, TraceObservationPoint.TO_OVERLAY))
            out.append(self.policy_verdict(dst.node, pkt, "INGRESS", ingress))
            point = TraceObservationPoint.TO_PROXY if proxy_port else TraceObservationPoint.TO_ENDPOINT
            out.append(self.trace(dst.node, pkt, point, proxy_port=proxy_port))
            return
        if ingress is not None and dst.is_pod and dst.node:
            out.append(self.policy_verdict(dst.node, pkt, "INGRESS", ingress))
        self.deliver(pkt, out, to_proxy=proxy_port, first=True)

    def packets(self, src: Peer, dst: Peer, proto: str, sport: int, dport: int,
                 *, data: bool, reply: bool) -> list[Packet]:
        def l4(kind: str, a: int, b: int, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
            body: dict[str, Any] = {"source_port": a, "destination_port": b}
            if extra:
                body["flags"] = dict(extra)
            return {kind: body}

        if proto == "TCP":
            groups = [_TCP_OPEN] + ([_TCP_DATA] if data else []) + [_TCP_CLOSE]
            pkts = []
            # Monitor aggregation >= medium (bpf/lib/conntrack.h __ct_update_timeout): a trace is
            # reported for the first packet of each direction and for packets that add TCP flags
            # to those already seen in that direction (within the 5 s report interval), so the
            # closing bare ACK, whose flags the sender has already shown, leaves no trace event.
            seen: dict[bool, set[str]] = {}
            for group in groups:
                for flags, is_rep in group:
                    if self.aggregation != "none" and is_rep in seen and set(flags) <= seen[is_rep]:
                        continue
                    seen.setdefault(is_rep, set()).update(flags)
                    a, b = (src, dst) if not is_rep else (dst, src)
                    ports = (sport, dport) if not is_rep else (dport, sport)
                    ordered = canonical(dict(flags), "TCPFlags")
                    reason = "NEW" if flags == {"SYN": True} else ("REPLY" if is_rep else "ESTABLISHED")
                    pkts.append(Packet(a, b, l4("TCP", *ports, ordered), tcp_summary(flags), is_rep, reason))
            return pkts
        if proto in ("UDP", "SCTP"):
            pkts = [Packet(src, dst, l4(proto, sport, dport), proto, False, "NEW")]
            if reply:
                pkts.append(Packet(dst, src, l4(proto, dport, sport), proto, True, "REPLY"))
            return pkts
        if proto in ("ICMPv4", "ICMPv6"):
            ver = 4 if proto == "ICMPv4" else 6
            req_t, rep_t = (8, 0) if ver == 4 else (128, 129)
            pkts = [Packet(src, dst, {proto: canonical({"type": req_t}, "ICMP")}, icmp_summary(ver, req_t), False, "NEW")]
            if reply:
                pkts.append(Packet(dst, src, {proto: canonical({"type": rep_t}, "ICMP")}, icmp_summary(ver, rep_t), True, "REPLY"))
            return pkts
        raise ValueError(f"unsupported protocol {proto!r} (TCP, UDP, SCTP, ICMPv4, ICMPv6)")

    # Names the twin's network code (``twin/network/steps.py``) used before these were public.
    _packets = packets
    _policy_allowed = open_allowed
    _deliver = deliver


_Packet = Packet
