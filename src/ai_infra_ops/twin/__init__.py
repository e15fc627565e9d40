"""The twin: an in-process model of the platform's cluster behind ``backend.Backend``.

Modules (level 4; never imports ``render`` or ``kube``):

    store        SQLite state: objects, events, flows (``<state_dir>/twin.db``)
    backend      TwinBackend: apply/get/list/delete/wait_for/events/probe/observe
    applier      apply in two phases (validate the batch, then write it)
    admission    strict decoding, pod resources, ResourceQuota admission
    controllers  bookkeeping, events, scheduling loop, kubelet (KWOK fast stages), quota status
    workloads    Deployment -> ReplicaSet -> Pods, DaemonSets
    devices      fake-gpu-operator 0.0.72 (topology ConfigMaps, GPU labels/capacity, GPU assignment)
    topology     fake-gpu-operator's topology documents, written as yaml.v3 writes them
    nodes        Node objects from the spec (kubeadm cluster)
    printers, describe, tabwriter, kinds   kubectl-style output and resource names
    scheduler/   kube-scheduler semantics (scheduler part)
    network/     Services, DNS, traffic (network part)

Nothing is re-exported here so that importing one submodule does not load the others; import
``ai_infra_ops.twin.backend.TwinBackend`` directly. See docs/twin.md.
"""
