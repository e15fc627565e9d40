"""``policy trace``: the verdict per direction for one source/destination/port, and why.

Owns :func:`trace`, which renders, like the old ``cilium policy trace``, the identities of both
ends, the policies selecting each side, the egress and ingress verdicts with the deciding rule (or
"default deny"), and the L7 verdict for an optional HTTP request. Called by the CLI.
"""
from __future__ import annotations

from dataclasses import dataclass

from .endpoints import Endpoint, FlowDecision, L7Verdict
from .engine import PolicyEngine


@dataclass(frozen=True)
class TraceResult:
    flow: FlowDecision
    l7: L7Verdict | None
    text: str

    @property
    def allowed(self) -> bool:
        return self.flow.forwarded and (self.l7 is None or self.l7.allowed)


def trace(eng: PolicyEngine, src: Endpoint, dst: Endpoint, protocol: str, port: int,
          http: dict[str, str] | None = None, dns_query: str | None = None) -> TraceResult:
    f = eng.decide_flow(src, dst, protocol, port)
    lines = [f"Tracing {eng.describe(src)} => {eng.describe(dst)} {port}/{protocol.upper()}",
             f"  source identity:      {f.egress.src_identity} {' '.join(eng.identity(f.egress.src_identity).labels) if f.egress.src_identity else ''}",
             f"  destination identity: {f.ingress.dst_identity} {' '.join(eng.identity(f.ingress.dst_identity).labels) if f.ingress.dst_identity else ''}",
             f"  policy repository revision: {eng.revision}", ""]
    l7v: L7Verdict | None = None
    for d in (f.egress, f.ingress):
        lines.append(f"{d.direction}: {d.verdict}" + (f" ({d.drop_reason_desc})" if d.drop_reason else ""))
        lines.append(f"  {d.explanation}")
        if d.verdict == "REDIRECT" and d.l7 is not None and (http is not None or dns_query is not None):
            if d.l7.kind == "dns" and dns_query is not None:
                v = eng.check_l7(d, dns={"query": dns_query})
                denied = "denied (DNS REFUSED)"
            else:
                v = eng.check_l7(d, http=http or {"method": "GET", "path": "/"})
                denied = "denied (HTTP 403)"
            lines.append(f"  L7: {'allowed' if v.allowed else denied}: {v.explanation}")
            if l7v is None or not v.allowed:
                l7v = v
        if not d.forwarded:
            break
    final = f.forwarded and (l7v is None or l7v.allowed)
    lines += ["", f"Final verdict: {'ALLOWED' if final else 'DENIED'}"]
    return TraceResult(f, l7v, "\n".join(lines) + "\n")
