"""`hubble observe` flags -> FlowFilters (flows_filter.go) and their semantics (filters/*.go)."""
from __future__ import annotations

import shlex

import pytest
from hubble_fixtures import SAMPLES, client, coredns, make_builder, server

from ai_infra_ops.errors import UserInputError
from ai_infra_ops.hubble.filters import apply_filters, build_filter_set, parse_observe_args, parse_time
from ai_infra_ops.hubble.flow import Peer, PolicyOutcome
from ai_infra_ops.hubble.flowfilter import EventTypeFilter, FilterSet, FlowFilter
from ai_infra_ops.hubble.reader import load_flows

ALL = [f for p in sorted(SAMPLES.glob("*.json")) for f in load_flows(p)]


def run(argv: str) -> list[dict]:
    req = parse_observe_args(shlex.split(argv))
    return apply_filters(ALL, req.filters)  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("argv", "count"),
    [
        ("--namespace istio-system", 9),
        ("--namespace bookinfo", 4),
        ("--from-namespace istio-system", 6),
        ("--to-namespace kube-system", 9),
        ("--http-status 5+", 2),
        ("--http-status 503", 2),
        ("--http-status 50+", 2),
        ("--http-status 4+", 0),
        ("--protocol dns", 5),
        ("--protocol http", 5),
        ("--protocol tcp", 20),
        ("--protocol udp", 0),
        ("--fqdn *.example.com", 0),
        ("--verdict FORWARDED", 20),
        ("--verdict DROPPED", 0),
        ("--type l7", 10),
        ("--type trace", 10),
        ("--type trace:to-endpoint", 5),
        ("--type trace:to-stack", 5),
        ("--type 4:3", 5),
        ("--http-method get", 5),
        ("--http-path ^/metrics$", 5),
        ("--http-path etr", 5),
        ("--traffic-direction ingress", 8),
        ("--traffic-direction EGRESS", 12),
        ("--pod reviews", 0),
        ("--pod bookinfo/reviews", 4),
        ("--pod /prometheus", 0),  # "/x": endpoints WITHOUT a namespace (k8s.go ParseNamespaceName)
        ("--pod kube-system/kube-dns", 8),
        ("--from-pod istio-system/prometheus-6655946b9f-6xcpf", 3),
        ("--label k8s:app=prometheus", 7),
        ("--label app=prometheus", 7),
        ("--label reserved:world", 7),
        ("--from-label reserved:host", 2),
        ("--label k8s-app", 9),
        ("--label 'app in (prometheus,reviews)'", 9),
        ("--ip 10.0.2.1", 4),
        ("--ip 10.156.0.0/16", 10),
        ("--from-ip 10.156.2.7", 3),
        ("--to-ip 10.0.2.16", 2),
        ("--identity world", 7),
        ("--identity 25339", 4),
        ("--from-identity host", 2),
        ("--port 53", 5),
        ("--to-port 9253", 1),
        ("--node-name gke-ilya-otel-demo-2-*", 10),
        ("--namespace istio-system --verdict FORWARDED", 9),
        ("--not --namespace bookinfo", 16),
        ("--namespace kube-system --not --protocol dns", 8),
        ("--namespace kube-system --namespace bookinfo", 17),
        ("--tcp-flags syn", 2),
        ("--tcp-flags ack,psh", 3),
    ],
)
def test_filters_on_real_samples(argv: str, count: int) -> None:
    # expected counts computed independently from the sample files (plain dict logic, see docs/hubble.md)
    assert len(run(argv)) == count


def test_namespace_makes_left_and_right_filters() -> None:
    fs = build_filter_set([("namespace", "demo"), ("verdict", "DROPPED")])
    assert fs.whitelist == (
        FlowFilter(source_pod=("demo/",), verdict=("DROPPED",)),
        FlowFilter(destination_pod=("demo/",), verdict=("DROPPED",)),
    )
    fs = build_filter_set([("namespace", "demo"), ("pod", "client")])
    assert fs.whitelist == (FlowFilter(source_pod=("demo/client",)), FlowFilter(destination_pod=("demo/client",)))
    fs = build_filter_set([("verdict", "DROPPED")])
    assert fs.whitelist == (FlowFilter(verdict=("DROPPED",)),)
    fs = build_filter_set([("type", "trace:to-endpoint")])
    assert fs.whitelist[0].event_type == (EventTypeFilter(4, True, 0),)


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        ([("verdict", "dropped")], "invalid --verdict value: dropped"),
        ([("drop-reason-desc", "NOPE")], "invalid --drop-reason-desc value"),
        ([("to-pod", "a"), ("namespace", "b")], "filters --namespace and --to-pod cannot be combined"),
        ([("label", "a"), ("from-label", "b")], "cannot be combined"),
        ([("ip", "1.2.3.4"), ("pod", "x")], "cannot be combined"),
        ([("not", None), ("not", None)], "consecutive --not statements"),
        ([("not", None)], "--not must be followed"),
        ([("protocol", "tcpx")], "unknown protocol"),
        ([("port", "70000")], "invalid port"),
        ([("ip", "10.0.0.300")], "invalid IP address"),
        ([("identity", "nobody")], "invalid security identity"),
        ([("type", "bogus")], "unable to parse type"),
        ([("type", "trace:sideways")], "unable to parse event sub-type"),
        ([("http-status", "20")], "invalid status code prefix"),
        ([("type", "drop"), ("http-status", "200")], "requires the event type filter to only match 'l7' events"),
        ([("http-path", "([")], "invalid regular expression"),
        ([("label", "a b c")], "invalid label selector"),
        ([("fqdn", "bad/name")], "invalid rune in pattern"),
        ([("fqdn", "a..")], "multiple trailing dots"),
        ([("pod", "/")], "invalid filter, must be [namespace/][<name>]"),
        ([("http-status", "600")], "invalid status code prefix"),
        ([("http-status", "6+")], "invalid status code prefix"),
        ([("traffic-direction", "sideways")], "invalid traffic direction"),
        ([("tcp-flags", "syn,bogus")], "unknown tcp flag"),
    ],
)
def test_bad_input_rejected_when_built(flags: list, needle: str) -> None:
    with pytest.raises(UserInputError) as exc:
        build_filter_set(flags)
    assert needle in str(exc.value)


def test_http_type_l7_is_fine() -> None:
    """--http-* with --type l7 is accepted (it raises UserInputError when the type excludes l7)."""
    fs = build_filter_set([("type", "l7"), ("http-status", "200")])
    assert fs is not None


def test_fqdn_matches_destination_names() -> None:
    b = make_builder()
    flows = b.connection(client(), Peer.world("1.1.1.1", ["one.one.one.one"]), dport=443,
                         egress=PolicyOutcome("ALLOW", match_type=2))
    assert flows[1]["destination_names"] == ["one.one.one.one"]
    for argv, expect in (("--fqdn one.one.one.one", True), ("--fqdn *.one.one", True), ("--to-fqdn ONE.one.one.one.", True),
                         ("--fqdn *.example.com", False), ("--from-fqdn one.one.one.one", True)):
        got = apply_filters(flows, parse_observe_args(argv.split()).filters)
        assert bool(got) is expect, argv
    # replies come from the resolved IP: only they carry source_names
    replies = apply_filters(flows, parse_observe_args(["--from-fqdn", "one.one.one.one"]).filters)
    assert replies and all(f["is_reply"] for f in replies)


def test_dns_and_drop_filters_on_built_flows() -> None:
    b = make_builder()
    flows = (b.dns(client(), coredns(), query="evil.example", allowed=False)
             + b.connection(client(), server(), dport=80, ingress=PolicyOutcome("DENY", 181)))
    assert len(apply_filters(flows, parse_observe_args(["--drop-reason-desc", "POLICY_DENY"]).filters)) == 2
    assert len(apply_filters(flows, parse_observe_args(["--verdict", "DROPPED", "--protocol", "dns"]).filters)) == 1
    assert len(apply_filters(flows, parse_observe_args(["--type", "drop"]).filters)) == 1
    assert len(apply_filters(flows, parse_observe_args(["--to-pod", "demo/serv"]).filters)) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5m", 1_000_000_000_000_000_000 - 300 * 10**9),
        ("1h30m", 1_000_000_000_000_000_000 - 5400 * 10**9),
        ("1.5s", 1_000_000_000_000_000_000 - 1_500_000_000),
        ("2021-06-16T16:52:13.136834446Z", 1_623_862_333_136_834_446),
        ("2021-06-16T18:52:13+02:00", 1_623_862_333_000_000_000),
        ("2021-06-16", 1_623_801_600_000_000_000),
    ],
)
def test_parse_time(text: str, expected: int) -> None:
    assert parse_time(text, now_ns=1_000_000_000_000_000_000) == expected


def test_since_until_window() -> None:
    req = parse_observe_args(["--since", "2021-06-16T16:52:13.2Z", "--until", "2021-06-16T16:52:13.5Z"])
    assert req.number is None  # no implied --last 20 with --since/--until
    got = apply_filters(ALL, req.filters)
    assert len(got) == 2 and all("16:52:13.2" <= f["time"][11:22] <= "16:52:13.5" for f in got)
    with pytest.raises(UserInputError, match="unable to parse time"):
        parse_observe_args(["--since", "yesterday"])


def test_selection_defaults() -> None:
    assert parse_observe_args([]).number == 20
    assert parse_observe_args(["--last", "5"]).number == 5
    assert parse_observe_args(["--all"]).number is None
    first = parse_observe_args(["--first", "3"])
    assert first.first and first.number == 3
    with pytest.raises(UserInputError):
        parse_observe_args(["--first", "3", "--last", "2"])
    with pytest.raises(UserInputError):
        parse_observe_args(["--last", "x"])


def test_filterset_dict_round_trip() -> None:
    fs = build_filter_set([("namespace", "demo"), ("type", "trace:to-stack"), ("not", None), ("identity", "world")])
    again = FilterSet.from_lists(fs.to_dict()["whitelist"], fs.to_dict()["blacklist"])
    assert again == fs


@pytest.mark.parametrize(("flags", "flag"), [
    ([("port", "99999")], "--port"),
    ([("from-port", "-1")], "--from-port"),
    ([("label", "app in (x")], "--label"),
    ([("verdict", "DROPPED"), ("to-label", "a in (")], "--to-label"),
], ids=["port", "from-port", "label", "to-label"])
def test_bad_values_name_the_flag_typed(flags: list[tuple[str, str]], flag: str) -> None:
    with pytest.raises(UserInputError) as exc:
        build_filter_set(flags)
    assert str(exc.value).startswith(f"{flag}: ")
