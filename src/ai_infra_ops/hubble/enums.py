"""Hubble's enums, with the exact names ``hubble observe -o json`` prints.

Values and names come from ``cilium/cilium`` ``api/v1/flow/flow.proto`` (Verdict, DropReason,
FlowType, TrafficDirection, TraceObservationPoint, TraceReason, L7FlowType, AuthType, IPVersion);
the human drop texts, the datapath event types and the trace sub-types from
``pkg/monitor/api/{drop,types}.go``; reserved identities from ``pkg/identity/numericidentity.go``.
Every enum's ``.value`` is the string Hubble prints; ``.number`` the protobuf number.

Level 2 (hubble): imports nothing of the toolkit.
"""
from __future__ import annotations

from enum import Enum


class _ProtoEnum(str, Enum):
    """A string enum that also knows its protobuf number (``number``)."""

    number: int

    def __new__(cls, name: str, number: int) -> _ProtoEnum:
        obj = str.__new__(cls, name)
        obj._value_ = name
        obj.number = number
        return obj

    @classmethod
    def from_number(cls, number: int) -> _ProtoEnum:
        for member in cls:
            if member.number == number:
                return member
        raise ValueError(f"{cls.__name__}: no member with number {number}")


class Verdict(_ProtoEnum):
    """``flow.Verdict``."""

    VERDICT_UNKNOWN = ("VERDICT_UNKNOWN", 0)
    FORWARDED = ("FORWARDED", 1)
    DROPPED = ("DROPPED", 2)
    ERROR = ("ERROR", 3)
    AUDIT = ("AUDIT", 4)
    REDIRECTED = ("REDIRECTED", 5)
    TRACED = ("TRACED", 6)
    TRANSLATED = ("TRANSLATED", 7)


class FlowType(_ProtoEnum):
    """``flow.FlowType`` (the ``Type`` key)."""

    UNKNOWN_TYPE = ("UNKNOWN_TYPE", 0)
    L3_L4 = ("L3_L4", 1)
    L7 = ("L7", 2)
    SOCK = ("SOCK", 3)


class TrafficDirection(_ProtoEnum):
    """``flow.TrafficDirection``."""

    TRAFFIC_DIRECTION_UNKNOWN = ("TRAFFIC_DIRECTION_UNKNOWN", 0)
    INGRESS = ("INGRESS", 1)
    EGRESS = ("EGRESS", 2)


class L7FlowType(_ProtoEnum):
    """``flow.L7FlowType`` (``l7.type``)."""

    UNKNOWN_L7_TYPE = ("UNKNOWN_L7_TYPE", 0)
    REQUEST = ("REQUEST", 1)
    RESPONSE = ("RESPONSE", 2)
    SAMPLE = ("SAMPLE", 3)


class AuthType(_ProtoEnum):
    """``flow.AuthType``."""

    DISABLED = ("DISABLED", 0)
    SPIRE = ("SPIRE", 1)
    TEST_ALWAYS_FAIL = ("TEST_ALWAYS_FAIL", 2)


class IPVersion(_ProtoEnum):
    """``flow.IPVersion`` (the ``ipVersion`` key)."""

    IP_NOT_USED = ("IP_NOT_USED", 0)
    IPv4 = ("IPv4", 1)
    IPv6 = ("IPv6", 2)


class TraceReason(_ProtoEnum):
    """``flow.TraceReason`` (connection-tracking state of a trace event)."""

    TRACE_REASON_UNKNOWN = ("TRACE_REASON_UNKNOWN", 0)
    NEW = ("NEW", 1)
    ESTABLISHED = ("ESTABLISHED", 2)
    REPLY = ("REPLY", 3)
    RELATED = ("RELATED", 4)
    REOPENED = ("REOPENED", 5)
    SRV6_ENCAP = ("SRV6_ENCAP", 6)
    SRV6_DECAP = ("SRV6_DECAP", 7)
    ENCRYPT_OVERLAY = ("ENCRYPT_OVERLAY", 8)


class TraceObservationPoint(_ProtoEnum):
    """``flow.TraceObservationPoint``; ``sub_type`` is the datapath number (types.go ``Trace*``)."""

    UNKNOWN_POINT = ("UNKNOWN_POINT", 0)
    TO_PROXY = ("TO_PROXY", 1)
    TO_HOST = ("TO_HOST", 2)
    TO_STACK = ("TO_STACK", 3)
    TO_OVERLAY = ("TO_OVERLAY", 4)
    TO_ENDPOINT = ("TO_ENDPOINT", 101)
    FROM_ENDPOINT = ("FROM_ENDPOINT", 5)
    FROM_PROXY = ("FROM_PROXY", 6)
    FROM_HOST = ("FROM_HOST", 7)
    FROM_STACK = ("FROM_STACK", 8)
    FROM_OVERLAY = ("FROM_OVERLAY", 9)
    FROM_NETWORK = ("FROM_NETWORK", 10)
    TO_NETWORK = ("TO_NETWORK", 11)
    FROM_CRYPTO = ("FROM_CRYPTO", 12)
    TO_CRYPTO = ("TO_CRYPTO", 13)

    @property
    def sub_type(self) -> int:
        """The datapath trace sub-type (``event_type.sub_type``): TO_ENDPOINT is 0 there."""
        return 0 if self is TraceObservationPoint.TO_ENDPOINT else self.number

    @property
    def cli_name(self) -> str:
        """The name ``--type trace:<name>`` and compact output use (types.go ``TraceObservationPoints``)."""
        return str(self.value).lower().replace("_", "-")

    @classmethod
    def from_sub_type(cls, sub_type: int) -> TraceObservationPoint:
        if sub_type == 0:
            return cls.TO_ENDPOINT
        point = cls.from_number(sub_type)
        assert isinstance(point, TraceObservationPoint)
        return point


class EventType(int, Enum):
    """Datapath message types (``pkg/monitor/api/types.go`` ``MessageType*``) and their ``--type`` names."""

    DROP = 1
    DEBUG = 2
    CAPTURE = 3
    TRACE = 4
    POLICY_VERDICT = 5
    RECORDER = 6
    TRACE_SOCK = 7
    L7 = 129  # MessageTypeAccessLog
    AGENT = 130

    @property
    def cli_name(self) -> str:
        return str(_EVENT_TYPE_NAMES[self])

    @classmethod
    def from_cli_name(cls, name: str) -> EventType | None:
        for member, text in _EVENT_TYPE_NAMES.items():
            if text == name:
                return member
        return None


_EVENT_TYPE_NAMES = {
    EventType.DROP: "drop",
    EventType.DEBUG: "debug",
    EventType.CAPTURE: "capture",
    EventType.TRACE: "trace",
    EventType.POLICY_VERDICT: "policy-verdict",
    EventType.RECORDER: "recorder",
    EventType.TRACE_SOCK: "trace-sock",
    EventType.L7: "l7",
    EventType.AGENT: "agent",
}

# pkg/monitor/api/types.go PolicyMatchType String(): policy_match_type -> compact text.
POLICY_MATCH_NAMES: dict[int, str] = {
    0: "none",
    1: "L3-Only",
    2: "L3-L4",
    3: "L4-Only",
    4: "all",
    5: "L3-Proto",
    6: "Proto-Only",
}

# pkg/identity/numericidentity.go: reserved identities and the names `(world)` etc. print.
RESERVED_IDENTITIES: dict[int, str] = {
    0: "unknown",
    1: "host",
    2: "world",
    3: "unmanaged",
    4: "health",
    5: "init",
    6: "remote-node",
    7: "kube-apiserver",
    8: "ingress",
    9: "world-ipv4",
    10: "world-ipv6",
    11: "encrypted-overlay",
}
RESERVED_IDENTITY_IDS: dict[str, int] = {name: num for num, name in RESERVED_IDENTITIES.items()}


def identity_name(identity: int) -> str:
    """``(world)`` for reserved identities, ``(ID:n)`` otherwise (printer.go ``fmtIdentity``)."""
    if identity in RESERVED_IDENTITIES:
        return f"({RESERVED_IDENTITIES[identity]})"
    return f"(ID:{identity})"


class DropReason(_ProtoEnum):
    """``flow.DropReason``; ``text`` is ``pkg/monitor/api/drop.go``'s human text (compact TYPE column).

    The names of 136 and 161 disagree with their texts upstream; both are reproduced as-is.
    """

    text: str

    def __new__(cls, name: str, number: int, text: str = "") -> DropReason:
        obj = str.__new__(cls, name)
        obj._value_ = name
        obj.number = number
        obj.text = text
        return obj

    DROP_REASON_UNKNOWN = ("DROP_REASON_UNKNOWN", 0, "")
    INVALID_SOURCE_MAC = ("INVALID_SOURCE_MAC", 130, "Invalid source mac")
    INVALID_DESTINATION_MAC = ("INVALID_DESTINATION_MAC", 131, "Invalid destination mac")
    INVALID_SOURCE_IP = ("INVALID_SOURCE_IP", 132, "Invalid source ip")
    POLICY_DENIED = ("POLICY_DENIED", 133, "Policy denied")
    INVALID_PACKET_DROPPED = ("INVALID_PACKET_DROPPED", 134, "Invalid packet")
    CT_TRUNCATED_OR_INVALID_HEADER = ("CT_TRUNCATED_OR_INVALID_HEADER", 135, "CT: Truncated or invalid header")
    CT_MISSING_TCP_ACK_FLAG = ("CT_MISSING_TCP_ACK_FLAG", 136, "Fragmentation needed")
    CT_UNKNOWN_L4_PROTOCOL = ("CT_UNKNOWN_L4_PROTOCOL", 137, "CT: Unknown L4 protocol")
    CT_CANNOT_CREATE_ENTRY_FROM_PACKET = ("CT_CANNOT_CREATE_ENTRY_FROM_PACKET", 138, "CT: Can't create entry from packet")
    UNSUPPORTED_L3_PROTOCOL = ("UNSUPPORTED_L3_PROTOCOL", 139, "Unsupported L3 protocol")
    MISSED_TAIL_CALL = ("MISSED_TAIL_CALL", 140, "Missed tail call")
    ERROR_WRITING_TO_PACKET = ("ERROR_WRITING_TO_PACKET", 141, "Error writing to packet")
    UNKNOWN_L4_PROTOCOL = ("UNKNOWN_L4_PROTOCOL", 142, "Unknown L4 protocol")
    UNKNOWN_ICMPV4_CODE = ("UNKNOWN_ICMPV4_CODE", 143, "Unknown ICMPv4 code")
    UNKNOWN_ICMPV4_TYPE = ("UNKNOWN_ICMPV4_TYPE", 144, "Unknown ICMPv4 type")
    UNKNOWN_ICMPV6_CODE = ("UNKNOWN_ICMPV6_CODE", 145, "Unknown ICMPv6 code")
    UNKNOWN_ICMPV6_TYPE = ("UNKNOWN_ICMPV6_TYPE", 146, "Unknown ICMPv6 type")
    ERROR_RETRIEVING_TUNNEL_KEY = ("ERROR_RETRIEVING_TUNNEL_KEY", 147, "Error retrieving tunnel key")
    ERROR_RETRIEVING_TUNNEL_OPTIONS = ("ERROR_RETRIEVING_TUNNEL_OPTIONS", 148, "Error retrieving tunnel options")
    INVALID_GENEVE_OPTION = ("INVALID_GENEVE_OPTION", 149, "Invalid Geneve option")
    UNKNOWN_L3_TARGET_ADDRESS = ("UNKNOWN_L3_TARGET_ADDRESS", 150, "Unknown L3 target address")
    STALE_OR_UNROUTABLE_IP = ("STALE_OR_UNROUTABLE_IP", 151, "Stale or unroutable IP")
    NO_MATCHING_LOCAL_CONTAINER_FOUND = ("NO_MATCHING_LOCAL_CONTAINER_FOUND", 152, "No matching local container found")
    ERROR_WHILE_CORRECTING_L3_CHECKSUM = ("ERROR_WHILE_CORRECTING_L3_CHECKSUM", 153, "Error while correcting L3 checksum")
    ERROR_WHILE_CORRECTING_L4_CHECKSUM = ("ERROR_WHILE_CORRECTING_L4_CHECKSUM", 154, "Error while correcting L4 checksum")
    CT_MAP_INSERTION_FAILED = ("CT_MAP_INSERTION_FAILED", 155, "CT: Map insertion failed")
    INVALID_IPV6_EXTENSION_HEADER = ("INVALID_IPV6_EXTENSION_HEADER", 156, "Invalid IPv6 extension header")
    IP_FRAGMENTATION_NOT_SUPPORTED = ("IP_FRAGMENTATION_NOT_SUPPORTED", 157, "IP fragmentation not supported")
    SERVICE_BACKEND_NOT_FOUND = ("SERVICE_BACKEND_NOT_FOUND", 158, "Service backend not found")
    NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT = ("NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT", 160, "No tunnel/encapsulation endpoint (datapath BUG!)")
    FAILED_TO_INSERT_INTO_PROXYMAP = ("FAILED_TO_INSERT_INTO_PROXYMAP", 161, "NAT 46/64 not enabled")
    REACHED_EDT_RATE_LIMITING_DROP_HORIZON = ("REACHED_EDT_RATE_LIMITING_DROP_HORIZON", 162, "Reached EDT rate-limiting drop horizon")
    UNKNOWN_CONNECTION_TRACKING_STATE = ("UNKNOWN_CONNECTION_TRACKING_STATE", 163, "Unknown connection tracking state")
    LOCAL_HOST_IS_UNREACHABLE = ("LOCAL_HOST_IS_UNREACHABLE", 164, "Local host is unreachable")
    NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION = (
        "NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION", 165,
        "No configuration available to perform policy decision")
    UNSUPPORTED_L2_PROTOCOL = ("UNSUPPORTED_L2_PROTOCOL", 166, "Unsupported L2 protocol")
    NO_MAPPING_FOR_NAT_MASQUERADE = ("NO_MAPPING_FOR_NAT_MASQUERADE", 167, "No mapping for NAT masquerade")
    UNSUPPORTED_PROTOCOL_FOR_NAT_MASQUERADE = ("UNSUPPORTED_PROTOCOL_FOR_NAT_MASQUERADE", 168, "Unsupported protocol for NAT masquerade")
    FIB_LOOKUP_FAILED = ("FIB_LOOKUP_FAILED", 169, "FIB lookup failed")
    ENCAPSULATION_TRAFFIC_IS_PROHIBITED = ("ENCAPSULATION_TRAFFIC_IS_PROHIBITED", 170, "Encapsulation traffic is prohibited")
    INVALID_IDENTITY = ("INVALID_IDENTITY", 171, "Invalid identity")
    UNKNOWN_SENDER = ("UNKNOWN_SENDER", 172, "Unknown sender")
    NAT_NOT_NEEDED = ("NAT_NOT_NEEDED", 173, "NAT not needed")
    IS_A_CLUSTERIP = ("IS_A_CLUSTERIP", 174, "Is a ClusterIP")
    FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND = ("FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND", 175, "First logical datagram fragment not found")
    FORBIDDEN_ICMPV6_MESSAGE = ("FORBIDDEN_ICMPV6_MESSAGE", 176, "Forbidden ICMPv6 message")
    DENIED_BY_LB_SRC_RANGE_CHECK = ("DENIED_BY_LB_SRC_RANGE_CHECK", 177, "Denied by LB src range check")
    SOCKET_LOOKUP_FAILED = ("SOCKET_LOOKUP_FAILED", 178, "Socket lookup failed")
    SOCKET_ASSIGN_FAILED = ("SOCKET_ASSIGN_FAILED", 179, "Socket assign failed")
    PROXY_REDIRECTION_NOT_SUPPORTED_FOR_PROTOCOL = (
        "PROXY_REDIRECTION_NOT_SUPPORTED_FOR_PROTOCOL", 180, "Proxy redirection not supported for protocol")
    POLICY_DENY = ("POLICY_DENY", 181, "Policy denied by denylist")
    VLAN_FILTERED = ("VLAN_FILTERED", 182, "VLAN traffic disallowed by VLAN filter")
    INVALID_VNI = ("INVALID_VNI", 183, "Incorrect VNI from VTEP")
    INVALID_TC_BUFFER = ("INVALID_TC_BUFFER", 184, "Failed to update or lookup TC buffer")
    NO_SID = ("NO_SID", 185, "No SID was found for the IP address")
    MISSING_SRV6_STATE = ("MISSING_SRV6_STATE", 186, "SRv6 state was removed during tail call")
    NAT46 = ("NAT46", 187, "L3 translation from IPv4 to IPv6 failed (NAT46)")
    NAT64 = ("NAT64", 188, "L3 translation from IPv6 to IPv4 failed (NAT64)")
    AUTH_REQUIRED = ("AUTH_REQUIRED", 189, "Authentication required")
    CT_NO_MAP_FOUND = ("CT_NO_MAP_FOUND", 190, "No conntrack map found")
    SNAT_NO_MAP_FOUND = ("SNAT_NO_MAP_FOUND", 191, "No nat map found")
    INVALID_CLUSTER_ID = ("INVALID_CLUSTER_ID", 192, "Invalid ClusterID")
    UNSUPPORTED_PROTOCOL_FOR_DSR_ENCAP = ("UNSUPPORTED_PROTOCOL_FOR_DSR_ENCAP", 193, "Unsupported packet protocol for DSR encapsulation")
    NO_EGRESS_GATEWAY = ("NO_EGRESS_GATEWAY", 194, "No egress gateway found")
    UNENCRYPTED_TRAFFIC = ("UNENCRYPTED_TRAFFIC", 195, "Traffic is unencrypted")
    TTL_EXCEEDED = ("TTL_EXCEEDED", 196, "TTL exceeded")
    NO_NODE_ID = ("NO_NODE_ID", 197, "No node ID found")
    DROP_RATE_LIMITED = ("DROP_RATE_LIMITED", 198, "Rate limited")
    IGMP_HANDLED = ("IGMP_HANDLED", 199, "IGMP handled")
    IGMP_SUBSCRIBED = ("IGMP_SUBSCRIBED", 200, "IGMP subscribed")
    MULTICAST_HANDLED = ("MULTICAST_HANDLED", 201, "Multicast handled")
    DROP_HOST_NOT_READY = ("DROP_HOST_NOT_READY", 202, "Host datapath not ready")
    DROP_EP_NOT_READY = ("DROP_EP_NOT_READY", 203, "Endpoint policy program not available")
    DROP_NO_EGRESS_IP = ("DROP_NO_EGRESS_IP", 204, "No Egress IP configured")
    DROP_PUNT_PROXY = ("DROP_PUNT_PROXY", 205, "Punt to proxy")


def drop_reason_text(code: int) -> str:
    """drop.go ``DropReason(code)``: the human text, or ``Unknown drop reason (N)`` style fallback."""
    for member in DropReason:
        if member.number == code and member.number != 0:
            return member.text
    return f"{code}"


# gopacket layers.DNSResponseCode.String() (as vendored by Cilium) for the DNS Summary and metrics.
DNS_RCODE_NAMES: dict[int, str] = {
    0: "No Error",
    1: "Format Error",
    2: "Server Failure",
    3: "Non-Existent Domain",
    4: "Not Implemented",
    5: "Query Refused",
    6: "Name Exists when it should not",
    7: "RR Set Exists when it should not",
    8: "RR Set that should exist does not",
    9: "Server Not Authoritative for zone",
    10: "Name not contained in zone",
    16: "Bad OPT Version",
    17: "Key not recognized",
    18: "Signature out of time window",
    19: "Bad TKEY Mode",
    20: "Duplicate key name",
    21: "Algorithm not supported",
    22: "Bad Truncation",
    23: "Bad/missing Server Cookie",
}


def dns_rcode_name(rcode: int) -> str:
    return DNS_RCODE_NAMES.get(rcode, f"Unknown DNS Response Code: ({rcode})")


# gopacket layers.DNSType names used for qtypes/rrtypes.
DNS_TYPES: dict[str, int] = {
    "A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "SRV": 33,
    "OPT": 41, "URI": 256,
}
