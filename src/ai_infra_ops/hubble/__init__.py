"""hubble: the flow model (``hubble observe -o json`` shape), filters (the ``observe`` flags),
outputs, metrics and the Observer gRPC API.

Modules: ``enums`` (Hubble's enums and tables), ``encoding`` (protojson rules), ``summary``
(Summary strings), ``datapath``/``builder`` (``FlowBuilder``), ``flow`` (JSON lines, envelopes,
store index columns), ``reader`` (real ``hubble observe -o json`` files), ``flowfilter``/``match``/
``filters`` (FlowFilter, predicates, flag parsing), ``sql`` (pushdown over the twin's flows table),
``printers`` (json/compact/table/dict), ``metrics`` (Prometheus text), ``grpc`` (Observer API).

Level 2: imports only ``errors`` and ``kube_model`` (``grpc`` additionally grpcio/protobuf).
"""
