"""`ai-infra-ops probe CASE.yaml`: answer a conformance case's probes on a fresh in-memory twin.

Case format and output: ``../shared/conformance/FORMAT.md``. The case's objects are completed
into a running cluster by ``twin.network.build_cluster_network`` (default worker and control
plane when missing, CoreDNS and the kube-dns/kubernetes Services, ClusterIPs, pods placed by the
twin's scheduler, pod IPs), the case's ``cilium:`` settings and ``world:`` applied, and every probe
run in input order through ``twin.network.probe`` (no state directory is touched).

``-o json`` prints one object per probe (verdict, drop reason, HTTP status, Hubble flows);
``-o table`` a readable summary; ``--check`` compares with ``expect``/``expect_http_status``
and exits 1 on any mismatch. Bad input (YAML, unknown keys, unknown pods) exits 2 with
``file:line: field: reason``.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

from ...backend import ProbeRequest, ProbeResult
from ...errors import Location, ManifestError, UserInputError
from ...kube_model import Document, load_yaml_file

CASE_KEYS = {"name", "source", "description", "kubernetesVersion", "cilium", "objects", "world", "probes",
             "expect_schedule", "notes"}
PROBE_KEYS = {"from", "to", "port", "protocol", "http", "grpc", "dns", "expect", "expect_http_status", "note", "name"}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "probe",
        help="answer a conformance case's probes (verdicts and Hubble flows) on a fresh twin",
        description="Run every probe of CASE.yaml (../shared/conformance/FORMAT.md) on a fresh in-memory twin "
        "built from the case's objects, cilium settings and world.",
    )
    p.add_argument("case", metavar="CASE.yaml", help="conformance case file")
    p.add_argument("-o", "--output", choices=("json", "table"), default="json", help="output format (default json)")
    p.add_argument("--check", action="store_true", help="compare with expect/expect_http_status; exit 1 on mismatch")
    p.set_defaults(func=run)


@dataclass(frozen=True)
class CaseProbe:
    """One probe of a case, with where it was written."""

    request: ProbeRequest
    raw: dict[str, Any]
    location: Location


def load_case(path: str) -> tuple[Document, dict[str, Any], list[CaseProbe]]:
    """Parse and check a case file.

    Returns:
        The document, the case mapping, and its probes.

    Raises:
        ManifestError: YAML errors, unknown keys, malformed objects or probes (with file:line).
    """
    docs = load_yaml_file(path)
    if len(docs) != 1 or not isinstance(docs[0].value, dict):
        raise ManifestError("a case file holds exactly one YAML mapping", Location(file=str(path), line=1))
    doc = docs[0]
    case: dict[str, Any] = doc.value
    for key in case:
        if key not in CASE_KEYS:
            raise ManifestError(f"unknown key (known: {', '.join(sorted(CASE_KEYS))})", doc.location((key,)))
    objects = case.get("objects") or []
    if not isinstance(objects, list):
        raise ManifestError("expected a list of Kubernetes objects", doc.location(("objects",)))
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict):
            raise ManifestError("expected a Kubernetes object (a mapping)", doc.location(("objects", i)))
        for field in ("apiVersion", "kind"):
            if not obj.get(field):
                raise ManifestError(f"{field} is required", doc.location(("objects", i, field)))
        name = (obj.get("metadata") or {}).get("name") if isinstance(obj.get("metadata"), dict) else None
        if not name:
            raise ManifestError("metadata.name is required", doc.location(("objects", i, "metadata")))
    for key in ("cilium", "world"):
        if case.get(key) is not None and not isinstance(case[key], dict):
            raise ManifestError("expected a mapping", doc.location((key,)))
    probes_raw = case.get("probes") or []
    if not isinstance(probes_raw, list):
        raise ManifestError("expected a list of probes", doc.location(("probes",)))
    probes = [_probe(doc, i, p) for i, p in enumerate(probes_raw)]
    return doc, case, probes


def _probe(doc: Document, i: int, p: Any) -> CaseProbe:
    loc = doc.location(("probes", i))
    if not isinstance(p, dict):
        raise ManifestError("expected a probe mapping (from, to, port, protocol, ...)", loc)
    for key in p:
        if key not in PROBE_KEYS:
            raise ManifestError(f"unknown key (known: {', '.join(sorted(PROBE_KEYS))})", doc.location(("probes", i, key)))
    for key in ("from", "to"):
        if not isinstance(p.get(key), str) or not p[key]:
            if not (key == "to" and p.get("dns")):
                raise ManifestError("required: a string", doc.location(("probes", i, key)))
    proto = str(p.get("protocol") or "TCP").upper()
    if proto not in ("TCP", "UDP", "SCTP", "ICMP"):
        raise ManifestError(f"protocol {p.get('protocol')!r} is not one of TCP, UDP, SCTP, ICMP", doc.location(("probes", i, "protocol")))
    port = p.get("port")
    if port is not None and not isinstance(port, (int, str)):
        raise ManifestError("port: a number or a named port", doc.location(("probes", i, "port")))
    if isinstance(port, int) and proto != "ICMP" and not 0 < port < 65536:
        raise ManifestError(f"port {port} is not in 1-65535", doc.location(("probes", i, "port")))
    if port is None and proto != "ICMP" and not p.get("dns"):
        raise ManifestError(f"a {proto} probe needs a port", doc.location(("probes", i)))
    for key in ("http", "grpc", "dns"):
        if p.get(key) is not None and not isinstance(p[key], dict):
            raise ManifestError("expected a mapping", doc.location(("probes", i, key)))
    if p.get("grpc") is not None and not (p["grpc"].get("service") and p["grpc"].get("method")):
        raise ManifestError("grpc needs service and method", doc.location(("probes", i, "grpc")))
    if p.get("expect") not in (None, "allowed", "denied"):
        raise ManifestError(f"expect {p['expect']!r} is not allowed or denied", doc.location(("probes", i, "expect")))
    req = ProbeRequest(source=p["from"], target=str(p.get("to") or ""), port=port, protocol=proto,
                       http=p.get("http"), grpc=p.get("grpc"), dns=p.get("dns"), label=f"{doc.file}#probes[{i}]")
    return CaseProbe(req, p, loc)


def run_case(path: str) -> tuple[list[CaseProbe], list[ProbeResult], list[str]]:
    """Build the case's twin and run its probes. Returns probes, results and warnings."""
    from ...twin.network import NetworkSettings, build_cluster_network, engine_for_view, probe, rejected_policies

    doc, case, probes = load_case(path)
    world = case.get("world") or {}
    unknown = sorted(set(world) - {"dns"})
    if unknown:
        raise ManifestError("unknown key (known: dns)", doc.location(("world", unknown[0])))
    try:
        settings = NetworkSettings.from_case(case.get("cilium"), world.get("dns"))
    except ValueError as exc:
        key = str(exc).split(":", 1)[0]
        path_key = tuple(key.split(".")) if key.startswith(("cilium", "world")) else ("cilium",)
        raise ManifestError(str(exc).split(": ", 1)[-1], doc.location(path_key)) from None
    version = str(case.get("kubernetesVersion") or "1.35")
    try:
        built = build_cluster_network(case.get("objects") or [], settings, kubernetes_version=version)
    except ValueError as exc:
        raise ManifestError(*_object_error(doc, case.get("objects") or [], str(exc))) from None
    engine = engine_for_view(built.view, settings)
    warnings = [f"policy rejected (as Cilium would; the others are enforced): {e}" for e in rejected_policies(built.view, settings)]
    for pod, msg in sorted(built.pending.items()):
        warnings.append(f"pod {pod} is Pending: {msg}")
    results: list[ProbeResult] = []
    for cp in probes:
        try:
            results.append(probe(built.view, engine, cp.request, settings=settings))
        except UserInputError as exc:
            raise ManifestError(exc.message, cp.location) from None
    return probes, results, warnings


def _object_error(doc: Document, objects: list[Any], text: str) -> tuple[str, Location]:
    """Point a ``Service ns/name: field: reason`` error at that object's field."""
    if text.startswith("Service ") and ": " in text:
        ref, rest = text[len("Service "):].split(": ", 1)
        field, _, reason = rest.partition(": ")
        for i, obj in enumerate(objects):
            md = obj.get("metadata") or {}
            if obj.get("kind") == "Service" and f"{md.get('namespace') or 'default'}/{md.get('name')}" == ref:
                return reason or rest, doc.location(("objects", i, *field.split(".")))
    return text, doc.location(("objects",))


def result_json(cp: CaseProbe, res: ProbeResult) -> dict[str, Any]:
    """One output object per FORMAT.md (AUDIT is forwarded: printed as FORWARDED)."""
    return {
        "from": cp.raw.get("from"), "to": cp.raw.get("to"), "port": cp.raw.get("port"),
        "protocol": str(cp.raw.get("protocol") or "TCP").upper(),
        "verdict": "FORWARDED" if res.verdict == "AUDIT" else res.verdict,
        "drop_reason": res.drop_reason, "http_status": res.http_status, "flows": res.flows,
    }


def mismatch(cp: CaseProbe, res: ProbeResult) -> str | None:
    """Why a result disagrees with the probe's expectations (None: it agrees or expects nothing)."""
    exp = cp.raw.get("expect")
    problems = []
    if exp is not None:
        allowed = res.verdict in ("FORWARDED", "AUDIT") and (res.http_status is None or res.http_status < 400) \
            and res.dns_rcode not in ("REFUSED", "TIMEOUT", "SERVFAIL")
        if (exp == "allowed") != allowed:
            problems.append(f"expected {exp}, got {res.verdict}"
                            + (f" ({res.drop_reason})" if res.drop_reason else "")
                            + (f" HTTP {res.http_status}" if res.http_status else "")
                            + (f" DNS {res.dns_rcode}" if res.dns_rcode and res.dns_rcode != "NOERROR" else ""))
    want = cp.raw.get("expect_http_status")
    if want is not None and res.http_status != int(want):
        problems.append(f"expected HTTP {want}, got {res.http_status}")
    return "; ".join(problems) or None


def run(ctx: Any, args: argparse.Namespace) -> int:
    probes, results, warnings = run_case(args.case)
    err = getattr(ctx, "err", sys.stderr)
    out = getattr(ctx, "out", sys.stdout)
    for w in warnings:
        print(f"warning: {w}", file=err)
    if args.output == "json":
        out.write(json.dumps([result_json(cp, r) for cp, r in zip(probes, results)], indent=2) + "\n")
    else:
        _table(out, probes, results)
    if not args.check:
        return 0
    bad = 0
    for i, (cp, res) in enumerate(zip(probes, results)):
        why = mismatch(cp, res)
        if why:
            bad += 1
            print(f"{cp.location.render()}: probe {i} {cp.raw.get('from')} -> {cp.raw.get('to')} "
                  f"{cp.raw.get('port')}/{cp.raw.get('protocol', 'TCP')}: {why}\n  why: {res.explanation}", file=err)
    checked = sum(1 for cp in probes if cp.raw.get("expect") is not None or cp.raw.get("expect_http_status") is not None)
    print(f"{args.case}: {checked - bad}/{checked} probes as expected", file=err)
    return 1 if bad else 0


def _table(out: Any, probes: list[CaseProbe], results: list[ProbeResult]) -> None:
    rows = [("FROM", "TO", "PORT", "PROTO", "VERDICT", "DROP REASON", "HTTP", "DNS", "EXPECT", "FLOWS")]
    for cp, r in zip(probes, results):
        rows.append((str(cp.raw.get("from")), str(cp.raw.get("to") or ""), str(cp.raw.get("port") or "-"),
                     str(cp.raw.get("protocol") or "TCP").upper(), r.verdict, r.drop_reason or "-",
                     str(r.http_status or "-"), r.dns_rcode or "-", str(cp.raw.get("expect") or "-"), str(len(r.flows))))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() + "\n")
