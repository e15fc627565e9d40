"""Port, protocol and ICMP field parsing with Cilium's validation wording.

Called by ``rules`` (CNP/CCNP ``toPorts``/``icmps``) and ``knp`` (NetworkPolicy ``ports``).
Upstream: ``pkg/policy/api/rule_validation.go`` (``PortProtocol.sanitize``: IANA names lower-cased,
numbers via ``strconv.ParseUint(port, 0, 16)``), ``pkg/iana/svcname.go``, ``pkg/policy/api/l4.go``
(``ParseL4Proto``), ``pkg/policy/api/icmp.go`` (ICMP type names).
"""
from __future__ import annotations

import re

ICMPV4_TYPES = {
    "EchoReply": 0, "DestinationUnreachable": 3, "Redirect": 5, "Echo": 8, "EchoRequest": 8,
    "RouterAdvertisement": 9, "RouterSelection": 10, "TimeExceeded": 11, "ParameterProblem": 12,
    "Timestamp": 13, "TimestampReply": 14, "Photuris": 40, "ExtendedEchoRequest": 42, "ExtendedEchoReply": 43,
}
ICMPV6_TYPES = {
    "DestinationUnreachable": 1, "PacketTooBig": 2, "TimeExceeded": 3, "ParameterProblem": 4,
    "EchoRequest": 128, "EchoReply": 129, "MulticastListenerQuery": 130, "MulticastListenerReport": 131,
    "MulticastListenerDone": 132, "RouterSolicitation": 133, "RouterAdvertisement": 134,
    "NeighborSolicitation": 135, "NeighborAdvertisement": 136, "RedirectMessage": 137,
    "RouterRenumbering": 138, "ICMPNodeInformationQuery": 139, "ICMPNodeInformationResponse": 140,
    "InverseNeighborDiscoverySolicitation": 141, "InverseNeighborDiscoveryAdvertisement": 142,
    "HomeAgentAddressDiscoveryRequest": 144, "HomeAgentAddressDiscoveryReply": 145,
    "MobilePrefixSolicitation": 146, "MobilePrefixAdvertisement": 147,
    "DuplicateAddressRequestCodeSuffix": 157, "DuplicateAddressConfirmationCodeSuffix": 158,
    "ExtendedEchoRequest": 160, "ExtendedEchoReply": 161,
}

_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def is_svc_name(port: str) -> bool:
    """``pkg/iana`` ``IsSvcName``: <= 15 chars, [a-z0-9-], a letter somewhere, no ``--``."""
    p = port.lower()
    return (0 < len(p) <= 15 and bool(_SVC_NAME.match(p)) and "--" not in p
            and any(c.isalpha() for c in p))


def _go_parse_uint16(text: str) -> int:
    """``strconv.ParseUint(text, 0, 16)`` with Go's error text."""
    t = text
    base = 10
    body = t
    if t[:2].lower() == "0x":
        base, body = 16, t[2:]
    elif t[:2].lower() == "0o":
        base, body = 8, t[2:]
    elif t[:2].lower() == "0b":
        base, body = 2, t[2:]
    elif len(t) > 1 and t.startswith("0"):
        base, body = 8, t[1:]
    try:
        if not body or not all(c.isalnum() or c == "_" for c in body):
            raise ValueError
        n = int(body.replace("_", ""), base)
    except ValueError:
        raise ValueError(f'Unable to parse port: strconv.ParseUint: parsing "{text}": invalid syntax') from None
    if n > 65535:
        raise ValueError(f'Unable to parse port: strconv.ParseUint: parsing "{text}": value out of range')
    return n


def parse_port(raw: object) -> int | str:
    """A CNP ``port`` value -> number or lower-cased named port (raises ValueError, Cilium's text)."""
    if raw is None or raw == "":
        raise ValueError("Port must be specified")
    if isinstance(raw, bool):
        raise ValueError(f'Unable to parse port: strconv.ParseUint: parsing "{raw}": invalid syntax')
    if isinstance(raw, int):
        if raw < 0 or raw > 65535:
            raise ValueError(f'Unable to parse port: strconv.ParseUint: parsing "{raw}": value out of range'
                             if raw > 65535 else f'Unable to parse port: strconv.ParseUint: parsing "{raw}": invalid syntax')
        return raw
    text = str(raw)
    if is_svc_name(text):
        return text.lower()
    return _go_parse_uint16(text)


def parse_protocol(raw: object) -> str:
    """``ParseL4Proto``: case-insensitive; empty = ANY."""
    p = str(raw or "ANY").upper()
    if p not in ("TCP", "UDP", "SCTP", "ANY"):
        raise ValueError(f'invalid protocol "{raw}", must be {{ tcp | udp | sctp | any }}')
    return p


def expand_protocol(proto: str) -> tuple[str, ...]:
    """ANY = TCP, UDP and SCTP, never ICMP (``rule.go`` ``mergeL4Filter``)."""
    return ("TCP", "UDP", "SCTP") if proto == "ANY" else (proto,)


def parse_icmp_type(family: str, raw: object) -> int:
    table = ICMPV6_TYPES if family == "IPv6" else ICMPV4_TYPES
    if isinstance(raw, int) and not isinstance(raw, bool):
        n = raw
    elif isinstance(raw, str) and raw.isdigit():
        n = int(raw)
    elif isinstance(raw, str) and raw in table:
        return table[raw]
    else:
        raise ValueError(f"unsupported ICMP type: {raw}")
    if not 0 <= n <= 255:
        raise ValueError(f"ICMP type {n} out of range 0-255")
    return n
