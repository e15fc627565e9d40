"""Services: ClusterIP allocation, Endpoints, and the kube-proxy-replacement translation.

- ClusterIPs come from the service CIDR as the apiserver's allocator hands them out
  (``pkg/registry/core/service/ipallocator``, KEP-3070 ``ServiceIPStaticSubrange``): the first
  address is ``kubernetes``'s, addresses in the lower band (``min(max(16, size/16), 256)``
  addresses) are kept for static requests such as kube-dns' ``10.96.0.10``, dynamic ones come
  from the upper band. The apiserver picks randomly; the twin picks a deterministic, name-derived
  offset (linear probing on collisions), so a Service keeps its address whatever else exists.
- Endpoints are what the endpoints controller writes (``pkg/controller/endpoint``): pods of the
  Service's namespace matching its selector that have an IP; ready ones under ``addresses``,
  others under ``notReadyAddresses``; a named ``targetPort`` is resolved per pod against its
  container ports (``podutil.FindPort``) and a pod that lacks the name is skipped for that port;
  subsets group pods with identical resolved ports (``endpoints.RepackSubsets``).
- Translation: with kube-proxy replacement Cilium's socket-LB rewrites ClusterIP:port to a
  backend IP:targetPort before the packet exists, so policy and Hubble see the backend
  (reference cilium-policy.md §1.4). The twin chooses the backend deterministically.

Called by ``view`` (computed Endpoints), ``addresses`` and ``traffic``.
"""
from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

KubeObject = dict[str, Any]


def _md(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def static_band_size(cidr: ipaddress.IPv4Network) -> int:
    """Size of the static (lower) band of a service CIDR (KEP-3070: min(max(16, size/16), 256))."""
    return min(max(16, cidr.num_addresses // 16), 256)


def allocate_cluster_ips(services: Iterable[KubeObject], service_cidr: str) -> dict[tuple[str, str], str]:
    """ClusterIPs for Services that have none (``spec.clusterIP`` absent or empty).

    Headless Services (``clusterIP: None``) and ``type: ExternalName`` get none. Requested
    addresses are honoured first; dynamic ones are derived from ``sha256(namespace/name)``.

    Args:
        services: Service objects.
        service_cidr: e.g. ``10.96.0.0/12``.

    Returns:
        ``(namespace, name) -> ip`` for every Service that gets an address (requested ones too).

    Raises:
        ValueError: a requested address outside the CIDR, two Services asking for the same
            address, or the CIDR is full (Kubernetes' own wording where it has one).
    """
    net = ipaddress.IPv4Network(service_cidr)
    base = int(net.network_address)
    size = net.num_addresses
    used: dict[int, tuple[str, str]] = {}
    out: dict[tuple[str, str], str] = {}
    dynamic: list[tuple[str, str]] = []
    for svc in sorted(services, key=lambda s: (str(_md(s).get("namespace") or "default"), str(_md(s).get("name")))):
        key = (str(_md(svc).get("namespace") or "default"), str(_md(svc).get("name")))
        spec = svc.get("spec") or {}
        if spec.get("type") == "ExternalName":
            continue
        ip = spec.get("clusterIP")
        if ip == "None":
            continue
        if ip:
            addr = ipaddress.IPv4Address(str(ip))
            if addr not in net:
                raise ValueError(
                    f"Service {key[0]}/{key[1]}: spec.clusterIP: Invalid value: \"{ip}\": provided IP is not in the valid range. "
                    f"The range of valid IPs is {service_cidr}"
                )
            if int(addr) in used:
                raise ValueError(f"Service {key[0]}/{key[1]}: spec.clusterIP: Invalid value: \"{ip}\": provided IP is already allocated")
            used[int(addr)] = key
            out[key] = str(addr)
        else:
            dynamic.append(key)
    band = static_band_size(net)
    # Network and broadcast addresses are never handed out (ipallocator: range excludes them).
    first, last = band, size - 2
    span = max(1, last - first + 1)
    for key in dynamic:
        h = int.from_bytes(hashlib.sha256(f"{key[0]}/{key[1]}".encode()).digest()[:8], "big")
        for probe in range(span):
            off = first + (h + probe) % span
            if base + off not in used:
                used[base + off] = key
                out[key] = str(ipaddress.IPv4Address(base + off))
                break
        else:
            raise ValueError(f"Internal error occurred: failed to allocate a serviceIP: range is full ({service_cidr})")
    return out


def pod_is_ready(pod: Mapping[str, Any]) -> bool:
    """Ready as the endpoints controller reads it: an IP, not terminating, not Failed/Succeeded,
    and the ``Ready`` condition not False (pods written without status, as conformance cases do,
    are taken to be running and ready once they have an IP)."""
    st = pod.get("status") or {}
    if not st.get("podIP") or _md(pod).get("deletionTimestamp"):
        return False
    if st.get("phase") in ("Failed", "Succeeded", "Pending"):
        return False
    for cond in st.get("conditions") or []:
        if cond.get("type") == "Ready":
            return str(cond.get("status")) == "True"
    return True


def container_ports(pod: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Declared container ports of all (non-init) containers, in declaration order."""
    out: list[Mapping[str, Any]] = []
    for c in (pod.get("spec") or {}).get("containers") or []:
        out.extend(p for p in (c.get("ports") or []) if isinstance(p, Mapping))
    return out


def find_port(pod: Mapping[str, Any], target: int | str, protocol: str) -> int | None:
    """``podutil.FindPort``: a number is used as is; a name is looked up in the container ports
    with the same protocol (``pkg/api/v1/pod/util.go``). None: the name is not defined."""
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        return int(target)
    for p in container_ports(pod):
        if p.get("name") == target and str(p.get("protocol") or "TCP").upper() == protocol.upper():
            return int(p["containerPort"])
    return None


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, Any]) -> bool:
    """A Service selector (a plain equality map) against pod labels; empty selects nothing here
    because the endpoints controller skips Services without a selector."""
    if not selector:
        return False
    return all(str(labels.get(k)) == str(v) and k in labels for k, v in selector.items())


def compute_endpoints(services: Iterable[KubeObject], pods: Iterable[KubeObject]) -> list[KubeObject]:
    """The Endpoints objects the endpoints controller writes for Services with a selector.

    Args:
        services: Service objects.
        pods: Pod objects (with ``status.podIP`` once bound).

    Returns:
        Endpoints dicts, sorted by namespace/name (one per Service with a selector).
    """
    by_ns: dict[str, list[KubeObject]] = {}
    for pod in pods:
        by_ns.setdefault(str(_md(pod).get("namespace") or "default"), []).append(pod)
    out: list[KubeObject] = []
    for svc in services:
        spec = svc.get("spec") or {}
        sel = spec.get("selector")
        if not sel or spec.get("type") == "ExternalName":
            continue
        ns = str(_md(svc).get("namespace") or "default")
        name = str(_md(svc).get("name"))
        groups: dict[tuple[tuple[str, int, str], ...], dict[str, list[KubeObject]]] = {}
        for pod in sorted(by_ns.get(ns, []), key=lambda p: str(_md(p).get("name"))):
            if not selector_matches(sel, _md(pod).get("labels") or {}):
                continue
            if not (pod.get("status") or {}).get("podIP"):
                continue
            ports: list[tuple[str, int, str]] = []
            for sp in spec.get("ports") or []:
                proto = str(sp.get("protocol") or "TCP").upper()
                tp = sp.get("targetPort", sp.get("port"))
                num = find_port(pod, tp, proto)
                if num is None:
                    continue
                ports.append((str(sp.get("name") or ""), num, proto))
            if not ports and spec.get("ports"):
                continue
            key = tuple(sorted(ports))
            slot = "addresses" if pod_is_ready(pod) else "notReadyAddresses"
            groups.setdefault(key, {"addresses": [], "notReadyAddresses": []})[slot].append(pod)
        subsets = []
        for key in sorted(groups):
            subset: dict[str, Any] = {}
            for slot in ("addresses", "notReadyAddresses"):
                if groups[key][slot]:
                    subset[slot] = [_address(p) for p in sorted(groups[key][slot], key=_pod_ip_key)]
            subset["ports"] = [_port(n, num, proto) for n, num, proto in key]
            subsets.append(subset)
        ep: KubeObject = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name, "namespace": ns}}
        if _md(svc).get("labels"):
            ep["metadata"]["labels"] = dict(_md(svc)["labels"])
        if subsets:
            ep["subsets"] = subsets
        out.append(ep)
    return sorted(out, key=lambda e: (e["metadata"]["namespace"], e["metadata"]["name"]))


def _pod_ip_key(pod: Mapping[str, Any]) -> int:
    return int(ipaddress.IPv4Address(str((pod.get("status") or {})["podIP"])))


def _address(pod: Mapping[str, Any]) -> dict[str, Any]:
    md = _md(pod)
    addr: dict[str, Any] = {"ip": (pod.get("status") or {})["podIP"]}
    node = (pod.get("spec") or {}).get("nodeName")
    if node:
        addr["nodeName"] = node
    addr["targetRef"] = {"kind": "Pod", "namespace": md.get("namespace") or "default", "name": md.get("name")}
    if md.get("uid"):
        addr["targetRef"]["uid"] = md["uid"]
    return addr


def _port(name: str, num: int, proto: str) -> dict[str, Any]:
    out: dict[str, Any] = {"port": num, "protocol": proto}
    if name:
        out = {"name": name, **out}
    return out


@dataclass(frozen=True)
class Backend:
    """One ready backend of a Service port: the address, port and the pod (if any) behind it."""

    ip: str
    port: int
    pod: str | None  # "ns/name" or None (e.g. the apiserver's node address)
    node: str | None


@dataclass(frozen=True)
class Frontend:
    """A Service port as clients address it: ``ClusterIP:port/protocol``."""

    service: str  # "ns/name"
    ip: str
    port: int
    protocol: str
    port_name: str
    backends: tuple[Backend, ...]


class ServiceTable:
    """The load balancer's view: frontends (ClusterIP, port, protocol) -> ready backends.

    Built from Services and Endpoints (the Endpoints of the view, explicit or computed).
    """

    def __init__(self, services: Iterable[KubeObject], endpoints: Iterable[KubeObject]) -> None:
        eps = {(str(_md(e).get("namespace") or "default"), str(_md(e).get("name"))): e for e in endpoints}
        self._frontends: dict[tuple[str, int, str], Frontend] = {}
        self._by_name: dict[str, list[Frontend]] = {}
        self._ips: dict[str, str] = {}
        self._by_service_ip: dict[str, str] = {}
        for svc in services:
            spec = svc.get("spec") or {}
            ip = spec.get("clusterIP")
            key = (str(_md(svc).get("namespace") or "default"), str(_md(svc).get("name")))
            ref = f"{key[0]}/{key[1]}"
            ep = eps.get(key) or {}
            fronts: list[Frontend] = []
            for sp in spec.get("ports") or []:
                proto = str(sp.get("protocol") or "TCP").upper()
                pname = str(sp.get("name") or "")
                backs: list[Backend] = []
                for subset in ep.get("subsets") or []:
                    match = [p for p in subset.get("ports") or [] if str(p.get("protocol") or "TCP").upper() == proto
                             and (str(p.get("name") or "") == pname or len(spec.get("ports") or []) == 1)]
                    if not match:
                        continue
                    for a in subset.get("addresses") or []:
                        tr = a.get("targetRef") or {}
                        pod = f"{tr.get('namespace')}/{tr.get('name')}" if tr.get("kind") == "Pod" else None
                        backs.append(Backend(str(a["ip"]), int(match[0]["port"]), pod, a.get("nodeName")))
                backs.sort(key=lambda b: (int(ipaddress.IPv4Address(b.ip)), b.port))
                fronts.append(Frontend(ref, str(ip or ""), int(sp["port"]), proto, pname, tuple(backs)))
            self._by_name[ref] = fronts
            if ip and ip != "None":
                self._ips[str(ip)] = ref
                self._by_service_ip[ref] = str(ip)
                for f in fronts:
                    self._frontends[(f.ip, f.port, f.protocol)] = f

    def service_of_ip(self, ip: str) -> str | None:
        """``ns/name`` of the Service whose ClusterIP is ``ip``."""
        return self._ips.get(ip)

    def frontend(self, ip: str, port: int, protocol: str) -> Frontend | None:
        """The Service port listening at ``ip:port/protocol`` (None: no such Service port)."""
        return self._frontends.get((ip, port, protocol.upper()))

    def ports_of(self, service: str) -> list[Frontend]:
        """All ports of Service ``ns/name`` (empty: no such Service)."""
        return list(self._by_name.get(service, ()))

    def cluster_ip(self, service: str) -> str | None:
        """The ClusterIP of ``ns/name`` (None: unknown or headless)."""
        return self._by_service_ip.get(service)


def pick_backend(frontend: Frontend, client: str) -> Backend | None:
    """The backend the socket-LB would pick for ``client``: Cilium picks at random (Maglev or
    random selection, ``bpf/lib/lb.h``); the twin hashes the client and frontend so that the
    same probe always lands on the same backend. None: the Service has no ready backend."""
    if not frontend.backends:
        return None
    h = int.from_bytes(hashlib.sha256(f"{client}|{frontend.ip}:{frontend.port}/{frontend.protocol}".encode()).digest()[:4], "big")
    return frontend.backends[h % len(frontend.backends)]
