"""``FlowBuilder``: the flow sequences Hubble shows for a connection, request or lookup.

L3/L4 events come from ``datapath.DatapathBuilder``; this adds the proxy's L7 records
(type 129, ``pkg/hubble/parser/seven``): one REQUEST and one RESPONSE per HTTP exchange (a denied
request is DROPPED and answered 403 by Envoy, no drop event); DNS through the proxy: REQUEST,
then RESPONSE only when allowed (a denied query is answered REFUSED by the proxy without a record;
``pkg/fqdn/dnsproxy/proxy.go`` ``ServeDNS``); gRPC as HTTP/2 ``POST /pkg.Svc/Method``.
"""
from __future__ import annotations

import uuid as uuidlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .datapath import DatapathBuilder, Packet, Peer, PolicyOutcome, endpoint_dict
from .encoding import FlowDict
from .enums import TraceObservationPoint
from .summary import dns_request_summary, dns_response_summary, http_request_summary, http_response_summary

__all__ = ["FlowBuilder", "Packet", "Peer", "PolicyOutcome", "endpoint_dict"]


@dataclass
class FlowBuilder(DatapathBuilder):
    """Builds ordered Hubble flow dicts: L3/L4 connections (``connection``) and L7 exchanges."""

    def _l7(self, node: str, src: Peer, dst: Peer, *, l4: dict[str, Any], l7: dict[str, Any], verdict: str,
            direction: str, is_reply: bool, summary: str) -> FlowDict:
        f = {
            "time": self._now(), "uuid": self._uuid(), "verdict": verdict,
            "IP": {"source": src.ip, "destination": dst.ip, "ipVersion": "IPv6" if ":" in src.ip else "IPv4"},
            "l4": l4, "source": src.as_seen_from(node), "destination": dst.as_seen_from(node),
            "Type": "L7", "node_name": self.node_name(node),
            "source_names": list(src.names) if dst.node == node else [],
            "destination_names": list(dst.names) if src.node == node else [],
            "l7": l7, "reply": is_reply, "event_type": {"type": 129}, "traffic_direction": direction,
            "is_reply": is_reply, "Summary": summary,
        }
        return self._finish(f)

    def http(
        self,
        src: Peer,
        dst: Peer,
        *,
        dport: int,
        method: str = "GET",
        path: str = "/",
        host: str | None = None,
        headers: Mapping[str, str] | None = None,
        protocol: str = "HTTP/1.1",
        egress: PolicyOutcome | None = None,
        ingress: PolicyOutcome | None = None,
        l7_allowed: bool = True,
        status: int = 200,
        latency_ns: int = 1_843_413,
        retries: int = 0,
    ) -> list[FlowDict]:
        """An HTTP exchange; the side whose outcome is REDIRECT reports the L7 records (ingress
        preferred). Without a REDIRECT it is a plain TCP connection. L7 denial ⇒ REQUEST DROPPED
        and a 403 RESPONSE."""
        proxy = ingress if ingress is not None and ingress.verdict == "REDIRECT" else None
        direction = "INGRESS"
        if proxy is None and egress is not None and egress.verdict == "REDIRECT":
            proxy, direction = egress, "EGRESS"
        if proxy is None or (egress is not None and egress.denied) or (ingress is not None and ingress.denied):
            return self.connection(src, dst, protocol="TCP", dport=dport, egress=egress, ingress=ingress, retries=retries)
        sport = self.ephemeral_port()
        syn = self.packets(src, dst, "TCP", sport, dport, data=False, reply=False)[0]
        out: list[FlowDict] = []
        self.open_allowed(syn, egress, ingress, out, proxy_port=proxy.proxy_port or 15001,
                             egress_proxy=direction == "EGRESS")
        node = (dst.node if direction == "INGRESS" else src.node) or ""
        rid = str(uuidlib.UUID(int=self._rng.getrandbits(128), version=4))
        hdrs = {"Accept": "*/*", "User-Agent": "curl/8.11.0"} if headers is None else dict(headers)
        hdrs.setdefault("X-Request-Id", rid)
        header_list = [{"key": _canonical_header(k), "value": v} for k, v in sorted(hdrs.items(), key=lambda kv: _canonical_header(kv[0]))]
        url = f"http://{host or dst.ip + ':' + str(dport)}{path}"
        req_l4 = {"TCP": {"source_port": sport, "destination_port": dport}}
        rep_l4 = {"TCP": {"source_port": dport, "destination_port": sport}}
        req = {"type": "REQUEST", "http": {"method": method, "url": url, "protocol": protocol, "headers": header_list}}
        out.append(self._l7(node, src, dst, l4=req_l4, l7=req, verdict="FORWARDED" if l7_allowed else "DROPPED",
                            direction=direction, is_reply=False, summary=http_request_summary(protocol, method, url)))
        code = status if l7_allowed else 403
        lat = latency_ns if l7_allowed else min(latency_ns, 182_109)
        if l7_allowed and direction == "INGRESS":
            out.append(self.trace(node, syn, TraceObservationPoint.TO_ENDPOINT))
        elif l7_allowed:
            upstream: list[FlowDict] = []
            self.open_allowed(syn, None, ingress, upstream)
            out.extend(upstream)
        rep = {"type": "RESPONSE", "latency_ns": str(lat),
               "http": {"code": code, "method": method, "url": url, "protocol": protocol, "headers": header_list}}
        out.append(self._l7(node, dst, src, l4=rep_l4, l7=rep, verdict="FORWARDED", direction=direction, is_reply=True,
                            summary=http_response_summary(protocol, code, lat, method, url)))
        return out

    def grpc(self, src: Peer, dst: Peer, *, dport: int, service: str, method: str, host: str | None = None,
             **kwargs: Any) -> list[FlowDict]:
        """A gRPC call: HTTP/2 ``POST /<package.Service>/<Method>`` (denied ⇒ HTTP/2 403)."""
        headers = {"Content-Type": "application/grpc", "Te": "trailers", "User-Agent": "grpc-python/1.71.0"}
        return self.http(src, dst, dport=dport, method="POST", path=f"/{service}/{method}", host=host,
                         headers=headers, protocol="HTTP/2", **kwargs)

    def dns(
        self,
        src: Peer,
        server: Peer,
        *,
        query: str,
        qtype: str = "A",
        egress: PolicyOutcome | None = None,
        allowed: bool = True,
        rcode: int = 0,
        ips: Sequence[str] = (),
        ttl: int = 30,
        cnames: Sequence[str] = (),
        dport: int = 53,
        protocol: str = "UDP",
    ) -> list[FlowDict]:
        """A lookup through the DNS proxy on the client's node (egress REDIRECT to port 53)."""
        egress = egress or PolicyOutcome("REDIRECT", match_type=2, proxy_port=15053)
        if egress.verdict != "REDIRECT":
            return self.connection(src, server, protocol=protocol, dport=dport, egress=egress, data=False)
        assert src.node is not None, "DNS proxy records are reported on the client's node"
        sport = self.ephemeral_port()
        first = self.packets(src, server, protocol.upper(), sport, dport, data=False, reply=False)[0]
        out: list[FlowDict] = [self.policy_verdict(src.node, first, "EGRESS", egress),
                               self.trace(src.node, first, TraceObservationPoint.TO_PROXY,
                                          proxy_port=egress.proxy_port or 15053, egress_proxy=True)]
        q = query.lower().rstrip(".") + "."
        kind = protocol.upper()
        req_l4 = {kind: {"source_port": sport, "destination_port": dport}}
        rep_l4 = {kind: {"source_port": dport, "destination_port": sport}}
        req = {"type": "REQUEST", "dns": {"query": q, "observation_source": "proxy", "qtypes": [qtype]}}
        out.append(self._l7(src.node, src, server, l4=req_l4, l7=req, verdict="FORWARDED" if allowed else "DROPPED",
                            direction="EGRESS", is_reply=False, summary=dns_request_summary(q, [qtype])))
        if not allowed:
            return out
        answers = list(ips) if rcode == 0 else []
        eff_ttl = ttl if answers or (rcode == 0 and cnames) else 4294967295
        rrtypes = (["CNAME"] if cnames and rcode == 0 else []) + ([qtype] if answers else [])
        cn = list(cnames) if rcode == 0 else []
        rep = {"type": "RESPONSE", "dns": {"query": q, "ips": answers, "ttl": eff_ttl, "cnames": cn,
                                           "observation_source": "proxy", "rcode": rcode, "qtypes": [qtype],
                                           "rrtypes": rrtypes}}
        summary = dns_response_summary(q, [qtype], rcode=rcode, ips=answers, cnames=cn, ttl=eff_ttl)
        out.append(self._l7(src.node, server, src, l4=rep_l4, l7=rep, verdict="FORWARDED", direction="EGRESS",
                            is_reply=True, summary=summary))
        return out


def _canonical_header(key: str) -> str:
    """Go ``textproto.CanonicalMIMEHeaderKey``: ``x-request-id`` -> ``X-Request-Id``."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in key.split("-"))
