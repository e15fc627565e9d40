#!/usr/bin/env bash
# Start the real control-plane test bed on loopback only, building the binaries first if absent.
#
#   testbed/start.sh [RUN_DIR]        (default: $AI_INFRA_OPS_CACHE/testbed/run)
#
# Order: kine (SQLite) -> kube-apiserver -> kube-controller-manager (if built) -> kube-scheduler
# -> kwok (manages nodes annotated kwok.x-k8s.io/node=fake). Every step waits on a readiness
# signal (a listening port, /readyz, /healthz), polled with a deadline, never a fixed sleep.
# Prints the admin kubeconfig path on stdout (last line). testbed/stop.sh RUN_DIR stops it.
#
# Ports (all 127.0.0.1; override with the environment):
#   TESTBED_KINE_PORT (23790)  TESTBED_API_PORT (26443)  TESTBED_KCM_PORT (20257)
#   TESTBED_SCHED_PORT (20259) TESTBED_KWOK_PORT (20247)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
K8S_VERSION=${K8S_VERSION:-v1.35.4}
KINE_VERSION=${KINE_VERSION:-v0.17.5}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
CACHE=${AI_INFRA_OPS_CACHE:-$HOME/.cache/ai-infra-ops}/testbed
RUN=${1:-${TESTBED_RUN_DIR:-$CACHE/run}}
KINE_PORT=${TESTBED_KINE_PORT:-23790}
API_PORT=${TESTBED_API_PORT:-26443}
KCM_PORT=${TESTBED_KCM_PORT:-20257}
SCHED_PORT=${TESTBED_SCHED_PORT:-20259}
KWOK_PORT=${TESTBED_KWOK_PORT:-20247}
START_TIMEOUT=${TESTBED_START_TIMEOUT:-120}
K8S_BIN=$CACHE/k8s-$K8S_VERSION/bin
KINE_BIN=$CACHE/kine-$KINE_VERSION/bin/kine
KWOK_DIR=$CACHE/kwok-$KWOK_VERSION

log() { printf '[testbed start %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ ! -x "$K8S_BIN/kube-apiserver" ] || [ ! -x "$K8S_BIN/kube-scheduler" ] || [ ! -x "$KINE_BIN" ] \
   || [ ! -x "$KWOK_DIR/bin/kwok" ] || [ ! -f "$KWOK_DIR/stages.yaml" ]; then
  log "binaries absent: building (testbed/build.sh)"
  "$HERE/build.sh"
fi

if [ -f "$RUN/pids" ]; then
  log "a test bed seems to run in $RUN already; stopping it first"
  "$HERE/stop.sh" "$RUN"
fi
mkdir -p "$RUN/pki" "$RUN/logs" "$RUN/kine"
rm -f "$RUN/kine/"state.db*
: > "$RUN/pids"
t0=$(date +%s)

# --- PKI (openssl): CA, apiserver serving cert, admin client cert, SA key pair, token ---
P=$RUN/pki
if [ ! -f "$P/admin.crt" ]; then
  ( cd "$P"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -keyout ca.key -out ca.crt -subj "/CN=ai-infra-ops-testbed-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' > apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -out apiserver.crt -extfile apiserver.ext 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=testbed-admin" 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' > client.ext
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -out admin.crt -extfile client.ext 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null && openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    printf '%s,testbed-tester,uid-tester,"system:masters"\n' "$(openssl rand -hex 16)" > tokens.csv
    chmod 600 ./*.key tokens.csv )
fi
TOKEN=$(cut -d, -f1 "$P/tokens.csv")

KC=$RUN/admin.kubeconfig
cat > "$KC" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: testbed
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority: $P/ca.crt
users:
- name: admin
  user:
    client-certificate: $P/admin.crt
    client-key: $P/admin.key
- name: tester
  user:
    token: $TOKEN
contexts:
- name: admin
  context: {cluster: testbed, user: admin}
- name: tester
  context: {cluster: testbed, user: tester}
current-context: admin
EOF
chmod 600 "$KC"

# --- helpers: start a process, wait on a condition with a deadline ---
start_proc() {  # name cmd...
  local name=$1; shift
  "$@" >"$RUN/logs/$name.log" 2>&1 &
  echo "$name $!" >> "$RUN/pids"
  log "started $name (pid $!)"
}
wait_until() {  # name description command...
  local name=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + START_TIMEOUT ))
  until "$@" >/dev/null 2>&1; do
    local pid; pid=$(awk -v n="$name" '$1==n{print $2}' "$RUN/pids")
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$RUN/logs/$name.log" >&2; "$HERE/stop.sh" "$RUN" || true; die "$name exited while waiting for $what"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail -n 30 "$RUN/logs/$name.log" >&2; "$HERE/stop.sh" "$RUN" || true; die "$name: $what not reached in ${START_TIMEOUT}s"
    fi
    sleep 0.2   # poll interval of a readiness check, not a fixed wait
  done
  log "$name: $what"
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
https_ok() { [ "$(curl -s --cacert "$P/ca.crt" -k -o /dev/null -w '%{http_code}' "$1")" = 200 ]; }
api_ready() { [ "$(curl -s --cacert "$P/ca.crt" -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$API_PORT/readyz")" = ok ]; }

# --- kine (etcd API over SQLite) ---
start_proc kine "$KINE_BIN" --listen-address="127.0.0.1:$KINE_PORT" --metrics-bind-address=0 \
  --endpoint="sqlite://$RUN/kine/state.db?_journal=WAL&cache=shared&_busy_timeout=30000&_txlock=immediate"
wait_until kine "listening on 127.0.0.1:$KINE_PORT" port_open "$KINE_PORT"

# --- kube-apiserver ---
ADMISSION=()
[ -x "$K8S_BIN/kube-controller-manager" ] || ADMISSION=(--disable-admission-plugins=ServiceAccount)
start_proc kube-apiserver "$K8S_BIN/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$KINE_PORT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \
  --client-ca-file="$P/ca.crt" --token-auth-file="$P/tokens.csv" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range=10.96.0.0/12 \
  --authorization-mode=Node,RBAC --allow-privileged=true "${ADMISSION[@]}" \
  --max-requests-inflight=0 --max-mutating-requests-inflight=0 --enable-priority-and-fairness=false \
  --endpoint-reconciler-type=none --profiling=false --storage-media-type=application/json
wait_until kube-apiserver "/readyz ok on https://127.0.0.1:$API_PORT" api_ready

# --- kube-controller-manager (optional) ---
if [ -x "$K8S_BIN/kube-controller-manager" ]; then
  start_proc kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig="$KC" --bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
    --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics --authentication-skip-lookup=true \
    --leader-elect=false --root-ca-file="$P/ca.crt" --service-account-private-key-file="$P/sa.key" \
    --use-service-account-credentials=false --kube-api-qps=500 --kube-api-burst=1000 \
    --controllers='*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller'
  wait_until kube-controller-manager "/healthz ok" https_ok "https://127.0.0.1:$KCM_PORT/healthz"
fi

# --- kube-scheduler ---
start_proc kube-scheduler "$K8S_BIN/kube-scheduler" \
  --kubeconfig="$KC" --bind-address=127.0.0.1 --secure-port="$SCHED_PORT" \
  --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics --authentication-skip-lookup=true \
  --leader-elect=false --kube-api-qps=1000 --kube-api-burst=2000
wait_until kube-scheduler "/readyz ok" https_ok "https://127.0.0.1:$SCHED_PORT/readyz"

# --- kwok (fake kubelets for nodes annotated kwok.x-k8s.io/node=fake) ---
start_proc kwok "$KWOK_DIR/bin/kwok" --kubeconfig="$KC" --config="$KWOK_DIR/stages.yaml" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --cidr=10.244.0.0/16 --node-ip=127.0.0.1 --node-lease-duration-seconds=40 \
  --server-address="127.0.0.1:$KWOK_PORT"
wait_until kwok "/healthz ok" bash -c "[ \"\$(curl -s http://127.0.0.1:$KWOK_PORT/healthz)\" = ok ]"

log "test bed ready in $(( $(date +%s) - t0 )) s; run dir $RUN"
echo "$KC"
