"""Probes on a real cluster: a request from inside a pod, run via ``exec``, with Hubble's flows.

A probe needs a datapath that can be observed (Cilium + Hubble) and a container runtime to exec
into the source pod. Where either is missing (the KWOK test bed has neither: pods are records,
not processes), ``probe`` says so with ``ProbeResult(supported=False, ...)`` instead of faking a
verdict. With both, the source pod runs ``curl`` (HTTP/TCP) or ``nslookup`` (DNS) through
lightkube's ``exec`` (the WebSocket ``pods/exec`` subresource); exit status 0 means the traffic was
forwarded, and the flows of that window are read from Hubble Relay when one is configured.
"""
from __future__ import annotations

import shlex
from collections.abc import Callable

from ..backend import FlowDict, FlowQuery, ProbeRequest, ProbeResult

NEEDS = "needs Cilium/Hubble and a container runtime"


def unsupported(request: ProbeRequest, why: str) -> ProbeResult:
    """The honest answer where the probe cannot run."""
    return ProbeResult(request=request, verdict="UNKNOWN", supported=False, explanation=f"{NEEDS}: {why}")


def probe_command(request: ProbeRequest) -> list[str]:
    """The shell command the source pod runs for this request."""
    target = request.target.split(":", 1)[1] if ":" in request.target else request.target
    if request.target.startswith("svc:"):
        ns, _, name = target.partition("/")
        target = f"{name}.{ns}.svc.cluster.local"
    elif "/" in target:  # ns/pod: resolved by the caller to its IP
        raise ValueError(f"pod target {target} must be resolved to an IP first")
    if request.dns is not None:
        return ["nslookup", str(request.dns.get("query", target)), target]
    if request.http is not None:
        method = str(request.http.get("method", "GET"))
        path = str(request.http.get("path", "/"))
        port = f":{request.port}" if request.port is not None else ""
        cmd = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "-X", method]
        for k, v in (request.http.get("headers") or {}).items():
            cmd += ["-H", f"{k}: {v}"]
        return cmd + [f"http://{target}{port}{path}"]
    if request.protocol.upper() == "ICMP":
        return ["ping", "-c", "1", "-W", "3", target]
    flag = "-zu" if request.protocol.upper() == "UDP" else "-z"
    return ["nc", flag, "-w", "3", target, str(request.port)]


def run_probe(request: ProbeRequest, exec_in: Callable[[str, str, list[str]], tuple[int, str, str]],
              resolve_pod_ip: Callable[[str], str], flows: Callable[[FlowQuery], list[FlowDict]] | None) -> ProbeResult:
    """Run one probe through ``exec_in(namespace, pod, argv) -> (exit, stdout, stderr)``."""
    if request.source.startswith("node:"):
        return unsupported(request, "a probe from a node's host network needs a privileged host pod")
    ns, _, pod = request.source.partition("/")
    req = request
    if "/" in request.target and ":" not in request.target:
        req = ProbeRequest(request.source, f"ip:{resolve_pod_ip(request.target)}", request.port, request.protocol,
                           request.http, request.grpc, request.dns, request.label)
    argv = probe_command(req)
    code, out, err = exec_in(ns, pod, argv)
    http_status = int(out.strip()) if request.http is not None and out.strip().isdigit() else None
    verdict = "FORWARDED" if code == 0 and (http_status is None or http_status != 0) else "DROPPED"
    got: list[FlowDict] = []
    if flows is not None:
        got = flows(FlowQuery(filters={"whitelist": [{"source_pod": [f"{ns}/{pod}"]}]}, last=50))
    return ProbeResult(request=request, verdict=verdict, http_status=http_status or None, flows=got,
                       explanation=f"exec {shlex.join(argv)} in {ns}/{pod}: exit {code}"
                       + (f": {err.strip()[:200]}" if err.strip() else ""))
