"""Posture audit: gaps in a set of Cilium policies, judged against the workloads they govern.

Owns :func:`audit_objects` and the :class:`Finding` value type (called by ``ai-infra-ops audit``;
owned by the render builder, docs/contracts.md). Policies are parsed with this package's own
``parse_policies`` (Cilium's rule validation and namespace scoping), workloads become identities
with ``labels.pod_identity_labels``, and selectors are evaluated on those identities, so "this
selector matches nothing" means what it means in Cilium. Findings, each with severity, the
policy and field, and a suggested fix:

``invalid-policy`` (high)      Cilium rejects the policy; none of its rules is enforced.
``selects-nothing`` (high/med) a from/toEndpoints selector (after Cilium's namespace scoping,
                               cilium/cilium: pkg/k8s/apis/cilium.io/utils/utils.go
                               ``getEndpointSelector``: "If omitted, we limit the scope to the
                               namespace the policy lives in") or a subject selector matches no pod.
                               The seed's ``toEndpoints: k8s-app: kube-dns`` in namespace ``gpu``
                               is scoped to ``gpu``, where no kube-dns pod lives: DNS is blocked.
``dns-without-l7`` (high)      port 53 allowed without ``rules.dns``: every name resolves, so DNS
                               tunnelling stays open.
``no-default-deny-*`` (high)   pods no policy puts in default deny for ingress / egress
                               (``-namespace``, low: covered pods, but no namespace-wide policy).
``world-egress`` (high)        egress to ``world``/``all``/``0.0.0.0/0`` or to every peer: the
                               internet without an FQDN allow-list.
``l7-bypass`` (high)           an L3-only or L4-only allow covers the same subject, peer and port
                               as an L7 rule: Cilium appends an allow-all L7 rule
                               (pkg/policy/rule.go ``mergePortProto`` / ``appendL7WildcardRule``).
``helm-values`` (by lint)      fake-gpu-operator values the chart ignores or defaults wrongly
                               (``spec.fake_gpu.lint_values``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import PolicyError
from ..spec.fake_gpu import lint_values
from .identities import Identity
from .labels import pod_identity_labels
from .rules import ParseOptions, parse_policies, scope_peer
from .selectors import WILDCARD, CIDRSel, LabelSel
from .types import KIND_CCNP, KIND_CNP, KIND_KNP, PolicyRef, Rule, RuleEntry

SEVERITIES = ("high", "medium", "low", "info")
_WORKLOAD_TEMPLATES = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"}
#: kubeadm's CoreDNS Deployment (kubernetes/kubernetes: cmd/kubeadm/app/phases/addons/dns/manifests.go):
#: pods in kube-system labelled k8s-app=kube-dns, service account coredns. Assumed present in any cluster.
SYSTEM_PODS = ({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "coredns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
                "spec": {"serviceAccountName": "coredns"}},)


@dataclass(frozen=True)
class Finding:
    """One gap: severity (high|medium|low|info), a code, the policy (or namespace) and field, why, and a fix."""

    severity: str
    code: str
    subject: str
    field: str
    message: str
    fix: str
    location: str = ""

    def as_dict(self) -> dict[str, str]:
        """JSON form (``audit -o json``)."""
        return {"severity": self.severity, "code": self.code, "subject": self.subject, "field": self.field,
                "message": self.message, "fix": self.fix, "location": self.location}


@dataclass(frozen=True)
class _Pod:
    key: str                 # ns/name (workloads: ns/Kind/name)
    namespace: str
    labels: dict[str, str]
    ident: Identity
    system: bool


def _value(item: Any) -> Any:
    return getattr(item, "value", item)


def _pods(objs: list[Any], cluster: str) -> list[_Pod]:
    ns_labels: dict[str, dict[str, str]] = {}
    for o in objs:
        v = _value(o)
        if isinstance(v, Mapping) and v.get("kind") == "Namespace":
            meta = v.get("metadata") or {}
            ns_labels[str(meta.get("name"))] = {str(k): str(x) for k, x in (meta.get("labels") or {}).items()}
    out: list[_Pod] = []
    for system, items in ((False, [_value(o) for o in objs]), (True, list(SYSTEM_PODS))):
        for v in items:
            if not isinstance(v, Mapping):
                continue
            kind = v.get("kind")
            meta = v.get("metadata") or {}
            ns = str(meta.get("namespace") or "default")
            if kind == "Pod":
                pod, key = v, f"{ns}/{meta.get('name')}"
            elif kind in _WORKLOAD_TEMPLATES or kind == "CronJob":
                spec = v.get("spec") or {}
                if kind == "CronJob":
                    spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
                tmpl = spec.get("template") or {}
                tmeta = dict(tmpl.get("metadata") or {})
                tmeta["namespace"] = ns
                pod, key = {"metadata": tmeta, "spec": tmpl.get("spec") or {}}, f"{ns}/{kind}/{meta.get('name')}"
            else:
                continue
            labels = {str(k): str(x) for k, x in ((pod.get("metadata") or {}).get("labels") or {}).items()}
            ident = Identity.make(0, pod_identity_labels(pod, ns_labels.get(ns, {}), cluster))
            out.append(_Pod(key, ns, labels, ident, system))
    return out


def _field(entry: RuleEntry) -> str:
    return entry.section if entry.section.startswith("specs[") else f"spec.{entry.section}"


def _ports53(entry: RuleEntry) -> bool:
    if not entry.port_rules:
        return False
    return any(pp.proto in ("UDP", "TCP") and (pp.port == 53 or pp.port == 0 or
                                               (pp.end_port and isinstance(pp.port, int) and pp.port <= 53 <= pp.end_port))
               for pr in entry.port_rules for pp in pr.ports)


def _is_world(sel: Any) -> bool:
    if sel == WILDCARD:
        return True
    if isinstance(sel, LabelSel):
        return sel.has_key(lambda s, k: s == "reserved" and k in ("world", "world-ipv4", "world-ipv6"))
    if isinstance(sel, CIDRSel):
        return sel.cidr in ("0.0.0.0/0", "::/0") and not sel.excepts
    return False


def _covered(sel: Any, pods: list[_Pod]) -> frozenset[str] | None:
    """Pod keys a peer selector matches; None = it also matches non-pod identities broadly (wildcard)."""
    if sel == WILDCARD:
        return None
    if isinstance(sel, LabelSel) and not sel.has_key(lambda s, k: s == "reserved"):
        return frozenset(p.key for p in pods if sel.matches(p.ident))
    return frozenset()


def _port_keys(entry: RuleEntry) -> set[tuple[str, int | str]]:
    return {(pp.proto, pp.port) for pr in entry.port_rules for pp in pr.ports}


def _l7_ports(entry: RuleEntry) -> set[tuple[str, int | str]]:
    return {(pp.proto, pp.port) for pr in entry.port_rules if pr.l7 is not None for pp in pr.ports}


def _plain_ports(entry: RuleEntry) -> set[tuple[str, int | str]]:
    return {(pp.proto, pp.port) for pr in entry.port_rules if pr.l7 is None for pp in pr.ports}


class _Auditor:
    def __init__(self, objs: list[Any], cluster: str, strict: bool, enforcement_mode: str = "default") -> None:
        self.objs = objs
        self.strict = strict
        self.enforcement_mode = enforcement_mode
        self.cluster = cluster
        self.pods = _pods(objs, cluster)
        self.docs: dict[PolicyRef, Any] = {}
        self.findings: list[Finding] = []

    def add(self, severity: str, code: str, ref: PolicyRef | str, field: str, message: str, fix: str) -> None:
        subject = ref.display() if isinstance(ref, PolicyRef) else ref
        loc = ""
        doc = self.docs.get(ref) if isinstance(ref, PolicyRef) else None
        if doc is not None and hasattr(doc, "location"):
            try:
                where = doc.location(field) if field else doc.location(())
                loc = ":".join(str(x) for x in (where.file, where.line, where.column) if x is not None)
            except Exception:  # a field path the position table does not know: the file alone
                loc = str(getattr(doc, "file", ""))
        self.findings.append(Finding(severity, code, subject, field, message, fix, loc))

    def run(self) -> list[Rule]:
        from .rules import policy_ref

        policy_items = []
        for o in self.objs:
            v = _value(o)
            if isinstance(v, Mapping) and v.get("kind") in (KIND_CNP, KIND_CCNP, KIND_KNP):
                self.docs[policy_ref(v)] = o
                policy_items.append(o)
        rules, errors = parse_policies(policy_items, ParseOptions(cluster=self.cluster))
        if errors and self.strict:
            more = f" (and {len(errors) - 1} more rejected policies)" if len(errors) > 1 else ""
            raise PolicyError(errors[0].message + more, errors[0].location)
        for err in errors:
            self.findings.append(Finding(
                "high", "invalid-policy", err.message.split(":", 1)[0], err.location.field or "",
                f"Cilium rejects this policy: {err.message}; none of its rules is enforced",
                "fix the field named; `kubectl get cnp` shows the policy as invalid on a real cluster",
                ":".join(str(x) for x in (err.location.file, err.location.line, err.location.column) if x is not None)))
        for r in rules:
            self._selectors(r)
            self._dns(r)
            self._world(r)
        if self.enforcement_mode == "default":  # "always": every pod is default-deny; "never": nothing is
            self._default_deny(rules)
        self._l7_bypass(rules)
        return rules

    def _selectors(self, r: Rule) -> None:
        doc = _value(self.docs.get(r.policy))
        if not r.host:
            matched = [p for p in self.pods if r.subject.matches(p.ident)]
            ns_known = any(p.namespace == r.policy.namespace and not p.system for p in self.pods)
            if not matched and (ns_known or r.policy.kind == KIND_CCNP):
                self.add("medium", "selects-nothing", r.policy, "spec.endpointSelector",
                         f"the subject selector {r.subject.render()} matches none of the given pods: the policy protects nothing",
                         "check the labels against the workloads' pod template labels")
        for entry in r.entries:
            raw = _raw_item(doc, _field(entry))
            if raw is None:
                continue
            peer_key = "fromEndpoints" if entry.direction == "INGRESS" else "toEndpoints"
            for j, sel_raw in enumerate(raw.get(peer_key) or []):
                try:
                    sel = scope_peer(LabelSel.from_dict(sel_raw), r.policy, self.cluster, False)
                except ValueError:
                    continue
                if any(sel.matches(p.ident) for p in self.pods):
                    continue
                unscoped = LabelSel.from_dict(sel_raw)
                elsewhere = sorted({p.namespace for p in self.pods if unscoped.matches(p.ident)})
                field = f"{_field(entry)}.{peer_key}[{j}]"
                if elsewhere and r.policy.kind != KIND_CCNP:
                    dns = entry.direction == "EGRESS" and not entry.deny and _ports53(entry)
                    what = "all DNS lookups of the selected pods are dropped" if dns else "this allow never matches"
                    self.add("high" if dns else "medium", "selects-nothing", r.policy, field,
                             f"{sel_raw} names no namespace, so Cilium scopes it to the policy's namespace "
                             f"{r.policy.namespace!r} (utils.go getEndpointSelector); the matching pods live in "
                             f"{', '.join(elsewhere)}: the selector matches nothing and {what}",
                             f"add 'k8s:io.kubernetes.pod.namespace: {elsewhere[0]}' to the selector's matchLabels")
                else:
                    self.add("medium", "selects-nothing", r.policy, field,
                             f"{sel_raw} matches none of the given pods (namespace scope {r.policy.namespace or 'all'})",
                             "check the labels, or add the namespace key for a peer in another namespace")

    def _dns(self, r: Rule) -> None:
        dns_pods = [p for p in self.pods if p.system and p.labels.get("k8s-app") == "kube-dns"]
        for e in r.entries:
            if e.direction != "EGRESS" or e.deny:
                continue
            if not e.port_rules and e.peers:
                # L3-only allow: every port of the peers, 53 included, with no DNS rule possible
                if any(s == WILDCARD or (isinstance(s, LabelSel) and any(s.matches(p.ident) for p in dns_pods))
                       for s in e.peers):
                    self.add("high", "dns-without-l7", r.policy, _field(e),
                             "an L3-only allow reaches kube-dns on every port: DNS passes without rules.dns, so every "
                             "name resolves (DNS tunnelling open)",
                             "allow kube-dns only on 53/UDP+TCP with toPorts[].rules.dns")
                continue
            if not _ports53(e):
                continue
            dns_l7 = [pr for pr in e.port_rules if pr.l7 is not None and pr.l7.kind == "dns"]
            if not dns_l7:
                self.add("high", "dns-without-l7", r.policy, _field(e),
                         "port 53 is allowed without rules.dns: every name resolves, so data can leave through DNS "
                         "queries (DNS tunnelling) and FQDN policies learn nothing",
                         "add toPorts[].rules.dns with matchName/matchPattern for the names the workloads need")

    def _world(self, r: Rule) -> None:
        for e in r.entries:
            if e.direction != "EGRESS" or e.deny:
                continue
            if any(_is_world(s) for s in e.peers):
                how = "every peer (no to* field)" if WILDCARD in e.peers else "world / 0.0.0.0/0"
                self.add("high", "world-egress", r.policy, _field(e),
                         f"egress to {how}{' on ' + ', '.join(sorted(pp.render() for pr in e.port_rules for pp in pr.ports)) if e.port_rules else ' on every port'}: "
                         "the internet is reachable without an FQDN allow-list",
                         "replace with toFQDNs (matchName/matchPattern) plus a DNS rule, or with toEndpoints for in-cluster peers")

    def _default_deny(self, rules: list[Rule]) -> None:
        namespaces = sorted({p.namespace for p in self.pods if not p.system})
        for ns in namespaces:
            pods = [p for p in self.pods if p.namespace == ns and not p.system]
            for direction in ("INGRESS", "EGRESS"):
                covering = [r for r in rules if not r.host and any(
                    e.direction == direction and e.default_deny for e in r.entries)]
                open_pods = [p for p in pods if not any(r.subject.matches(p.ident) for r in covering)]
                d = direction.lower()
                if open_pods:
                    names = ", ".join(f"{p.key.split('/', 1)[1]} ({','.join(f'{k}={v}' for k, v in sorted(p.labels.items()))})"
                                      for p in open_pods)
                    self.add("high", f"no-default-deny-{d}", f"namespace {ns}", "",
                             f"{d} is not default-deny for {names}: no policy with an {d} section selects them, "
                             f"so {'any pod or outside client can connect to them' if d == 'ingress' else 'they can reach anything'}",
                             f"add a CiliumNetworkPolicy in {ns} with endpointSelector: {{}} and {d}: [{{}}]")
                elif not any(r.subject == _ns_wide(ns) for r in covering):
                    self.add("low", f"no-default-deny-{d}-namespace", f"namespace {ns}", "",
                             f"every given pod is {d} default-deny, but only through label-specific policies: "
                             "a new pod with other labels would be open",
                             f"add endpointSelector: {{}} with {d}: [{{}}] in {ns}")

    def _l7_bypass(self, rules: list[Rule]) -> None:
        seen: set[tuple[str, str, str, str]] = set()
        allows = [(r, e) for r in rules if not r.host for e in r.entries if not e.deny]
        for r1, e1 in allows:
            l7 = _l7_ports(e1)
            if not l7:
                continue
            subj1 = {p.key for p in self.pods if r1.subject.matches(p.ident)}
            peers1 = [_covered(s, self.pods) for s in e1.peers]
            for r2, e2 in allows:
                if e2 is e1 or e2.direction != e1.direction:
                    continue
                if not subj1 & {p.key for p in self.pods if r2.subject.matches(p.ident)}:
                    continue
                plain = _plain_ports(e2)
                l3_only = not e2.port_rules
                ports = {pk for pk in l7 if l3_only or pk in plain or (pk[0], 0) in plain}
                if not ports:
                    continue
                peers2 = [_covered(s, self.pods) for s in e2.peers]
                overlap = any(a is None or b is None or (a & b) for a in peers1 for b in peers2)
                if not overlap:
                    continue
                key = (r1.policy.key, _field(e1), r2.policy.key, _field(e2))
                if key in seen:
                    continue
                seen.add(key)
                port_text = ", ".join(f"{p}/{proto}" for proto, p in sorted(ports, key=str))
                self.add("high", "l7-bypass", r1.policy, _field(e1),
                         f"the L7 rules on {port_text} are bypassed: {_field(e2)} of {r2.policy.display()} allows the same "
                         f"peers {'on every port (L3-only)' if l3_only else 'on that port without L7 rules'}, so Cilium merges "
                         "an allow-all L7 rule into it (rule.go mergePortProto / appendL7WildcardRule)",
                         f"remove the overlap: narrow {_field(e2)}'s peers or ports, or give it the same L7 rules")


def _ns_wide(ns: str) -> LabelSel:
    from .selectors import Req

    return LabelSel((Req("k8s", "io.kubernetes.pod.namespace", "In", (ns,)),))


def _raw_item(doc: Any, field: str) -> Mapping[str, Any] | None:
    """The raw rule item at ``spec.egress[0]`` / ``specs[1].ingress[2]`` of a policy object."""
    import re

    node: Any = doc
    for name, idx in re.findall(r"([A-Za-z]+)(?:\[(\d+)\])?", field):
        if not isinstance(node, Mapping):
            return None
        node = node.get(name)
        if idx:
            if not isinstance(node, list) or int(idx) >= len(node):
                return None
            node = node[int(idx)]
    return node if isinstance(node, Mapping) else None


def audit_objects(objs: Iterable[Any], *, cluster: str = "default", helm_values: dict[str, Any] | None = None,
                  pools: Iterable[Any] = (), strict: bool = True, enforcement_mode: str = "default",
                  audit_mode: bool = False) -> list[Finding]:
    """Audit policies and the workloads/namespaces they govern.

    Args:
        objs: Kubernetes/Cilium objects (dicts or ``kube_model.Document``s for file:line locations):
            CNP/CCNP/NetworkPolicy, Pods and pod-template workloads, Namespaces. Other kinds are ignored.
        cluster: Cilium's cluster name (``io.cilium.k8s.policy.cluster``).
        helm_values: fake-gpu-operator Helm values to lint (None: not audited).
        pools: the spec's GPU pools, for the values lint.
        enforcement_mode: Cilium's ``policyEnforcementMode``: ``always`` makes every pod default-deny
            (no default-deny findings), ``never`` enforces nothing (one high finding).
        audit_mode: Cilium's ``policyAuditMode``: drops are only logged (one high finding).
        strict: a policy Cilium would reject raises ``PolicyError`` (the CLI's exit 2); False
            reports it as an ``invalid-policy`` finding and audits the rest.

    Returns:
        Findings sorted by severity (high first), subject and field.

    Raises:
        PolicyError: ``strict`` and a policy is invalid (file:line:field and Cilium's reason).
    """
    a = _Auditor(list(objs), cluster, strict, enforcement_mode)
    a.run()
    if enforcement_mode == "never":
        a.add("high", "enforcement-disabled", "cilium", "policyEnforcementMode",
              "policyEnforcementMode is never: no policy, deny rules included, is enforced",
              "set cni.policyEnforcementMode to default (or always)")
    if audit_mode:
        a.add("high", "audit-mode", "cilium", "policyAuditMode",
              "policyAuditMode is on: packets policies would drop are forwarded (verdict AUDIT)",
              "set cni.policyAuditMode to false once the policies are verified")
    if helm_values is not None:
        sev = {"error": "high", "warning": "medium", "info": "info"}
        for w in lint_values(helm_values, list(pools)):
            a.add(sev.get(w.severity, "medium"), "helm-values", "fake-gpu-operator values", w.path, w.message,
                  "set the key the chart reads (see docs/render.md) or let the toolkit generate the values")
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(set(a.findings), key=lambda f: (order.get(f.severity, 9), f.subject, f.field, f.code, f.message))


def has_high(findings: Iterable[Finding]) -> bool:
    """Whether any finding is high severity (``audit`` exits 1)."""
    return any(f.severity == "high" for f in findings)


__all__ = ["SEVERITIES", "Finding", "PolicyError", "audit_objects", "has_high"]
