"""The ``Summary`` strings, exactly as Cilium's parsers write them.

- L3/L4 (``pkg/hubble/parser/threefour/parser.go``): ``TCP Flags: SYN, ACK`` (flags in the order
  SYN, ACK, RST, FIN, PSH, URG, ECE, CWR, NS), ``UDP``, ``SCTP``, ``ICMPv4 EchoRequest`` (gopacket
  ``ICMPv4TypeCode.String()``), else the last decoded layer (``IPv4``).
- HTTP (``pkg/hubble/parser/seven/http.go`` ``httpSummary``): request ``<proto> <method> <url>``,
  response ``<proto> <code> <latency ms, truncated>ms (<method> <url>)``.
- DNS (``pkg/hubble/parser/seven/dns.go`` ``dnsSummary``): ``DNS Query <q> <qtypes>``; answers
  ``DNS Answer "<ips>"[ CNAMEs: "<c>"] TTL: <ttl> (Proxy <q> <qtypes>)`` or ``RCode: <name>``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from .enums import dns_rcode_name

TCP_FLAG_SUMMARY_ORDER = ("SYN", "ACK", "RST", "FIN", "PSH", "URG", "ECE", "CWR", "NS")

# gopacket layers/icmp4.go: type names, and code names for the types that have them.
ICMPV4_TYPES: dict[int, str] = {
    0: "EchoReply", 3: "DestinationUnreachable", 4: "SourceQuench", 5: "Redirect", 8: "EchoRequest",
    9: "RouterAdvertisement", 10: "RouterSolicitation", 11: "TimeExceeded", 12: "ParameterProblem",
    13: "TimestampRequest", 14: "TimestampReply", 15: "InfoRequest", 16: "InfoReply",
    17: "AddressMaskRequest", 18: "AddressMaskReply",
}
ICMPV4_CODES: dict[int, dict[int, str]] = {
    3: {0: "Net", 1: "Host", 2: "Protocol", 3: "Port", 4: "FragmentationNeeded", 5: "SourceRoutingFailed",
        6: "NetUnknown", 7: "HostUnknown", 8: "SourceIsolated", 9: "NetAdminProhibited",
        10: "HostAdminProhibited", 11: "NetTOS", 12: "HostTOS", 13: "CommAdminProhibited",
        14: "HostPrecedence", 15: "PrecedenceCutoff"},
    5: {0: "Network", 1: "Host", 2: "TOS+Network", 3: "TOS+Host"},
    11: {0: "TTLExceeded", 1: "FragmentReassemblyTimeExceeded"},
    12: {0: "PointerIndicatesError", 1: "MissingOption", 2: "BadLength"},
}
# gopacket layers/icmp6.go
ICMPV6_TYPES: dict[int, str] = {
    1: "DestinationUnreachable", 2: "PacketTooBig", 3: "TimeExceeded", 4: "ParameterProblem",
    128: "EchoRequest", 129: "EchoReply", 133: "RouterSolicitation", 134: "RouterAdvertisement",
    135: "NeighborSolicitation", 136: "NeighborAdvertisement", 137: "Redirect",
}
ICMPV6_CODES: dict[int, dict[int, str]] = {
    1: {0: "NoRouteToDst", 1: "AdminProhibited", 2: "BeyondScopeOfSrc", 3: "AddressUnreachable",
        4: "PortUnreachable", 5: "SrcAddressFailedPolicy", 6: "RejectRouteToDst"},
    3: {0: "HopLimitExceeded", 1: "FragmentReassemblyTimeExceeded"},
    4: {0: "ErroneousHeaderField", 1: "UnrecognizedNextHeader", 2: "UnrecognizedIPv6Option"},
}


def tcp_summary(flags: Mapping[str, bool]) -> str:
    """``TCP Flags: ...`` for a TCPFlags dict (``{"SYN": True, "ACK": True}``)."""
    set_flags = [name for name in TCP_FLAG_SUMMARY_ORDER if flags.get(name)]
    return "TCP Flags: " + ", ".join(set_flags)


def _icmp_typecode(types: Mapping[int, str], codes: Mapping[int, Mapping[int, str]], t: int, c: int) -> str:
    # gopacket ICMPv4TypeCode.String(): "<Type>" or "<Type>(<Code>)"; unknowns as numbers.
    name = types.get(t, str(t))
    by_code = codes.get(t)
    if by_code is None:
        return name
    return f"{name}({by_code.get(c, str(c))})"


def icmp_summary(version: int, icmp_type: int, code: int = 0) -> str:
    """``ICMPv4 EchoRequest`` / ``ICMPv6 EchoReply`` / ``ICMPv4 DestinationUnreachable(Port)``."""
    if version == 4:
        return "ICMPv4 " + _icmp_typecode(ICMPV4_TYPES, ICMPV4_CODES, icmp_type, code)
    return "ICMPv6 " + _icmp_typecode(ICMPV6_TYPES, ICMPV6_CODES, icmp_type, code)


def http_request_summary(protocol: str, method: str, url: str) -> str:
    return f"{protocol} {method} {url}"


def http_response_summary(protocol: str, code: int, latency_ns: int, method: str, url: str) -> str:
    return f"{protocol} {code} {latency_ns // 1_000_000}ms ({method} {url})"


def _go_quote(text: str) -> str:
    # Go %q for the ASCII strings DNS answers hold: backslash and double quote escaped.
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dns_request_summary(query: str, qtypes: Sequence[str]) -> str:
    return f"DNS Query {query} {','.join(qtypes)}"


def dns_response_summary(
    query: str,
    qtypes: Sequence[str],
    *,
    rcode: int,
    ips: Sequence[str],
    cnames: Sequence[str],
    ttl: int,
    observation_source: str = "proxy",
) -> str:
    if rcode != 0:
        answer = f"RCode: {dns_rcode_name(rcode)}"
    else:
        parts = []
        if ips:
            parts.append(_go_quote(",".join(ips)))
        if cnames:
            parts.append("CNAMEs: " + _go_quote(",".join(cnames)))
        answer = " ".join(parts)
    source = "Proxy" if observation_source == "proxy" else "Query"
    return f"DNS Answer {answer} TTL: {ttl} ({source} {query} {','.join(qtypes)})"
