#!/usr/bin/env bash
# Benchmarks `vigil serve` against named peers, in one run, on this machine:
#   1. API latency and throughput under 200 concurrent clients (wrk on loopback): Vigil's
#      /api/incidents and /api/status beside nginx serving the same bytes as static files.
#   2. The console's page weight (what a browser downloads to show the threat overview).
#   3. Live capture: the office capture replayed by tcpreplay into a veth pair between two
#      network namespaces this script creates (no addresses, no route out) at rising rates;
#      the share of packets dropped before Vigil saw them, beside tcpdump -w /dev/null on the
#      same interface at the same rates.
# Needs root (namespaces), wrk, nginx, tcpreplay (scripts/setup bench installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup bench >/dev/null
./scripts/build-release >/dev/null
V=.build/release/vigil
W=$(mktemp -d /tmp/vigil-bench-serve.XXXX)
NS_CAP=vbcap$$ NS_SRC=vbsrc$$
cleanup() {
  [ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null || true
  [ -n "${NGINX_PID:-}" ] && kill "$NGINX_PID" 2>/dev/null || true
  ip netns del "$NS_CAP" 2>/dev/null || true; ip netns del "$NS_SRC" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

echo "== generating the office capture (24 devices, 5 days, every attack)"
$V simulate --devices 24 --days 5 --attacks all --out "$W/office.pcap" 2>&1 | tail -1
TOKEN_OUT=$($V serve token bench admin)
SECRET=$(echo "$TOKEN_OUT" | head -1 | awk '{print $NF}')
LINE=$(echo "$TOKEN_OUT" | tail -1)

wait_caught_up() {  # URL
  for _ in $(seq 1 600); do
    if curl -s -H "Authorization: Bearer $SECRET" "$1/api/status" | grep -q '"caughtUp":true'; then return 0; fi
    sleep 0.5
  done
  echo "vigil serve did not catch up"; exit 1
}

echo; echo "== 1. API under 200 concurrent clients (wrk, 2 threads, 10 s each, loopback)"
cat > "$W/api.conf" <<EOF
store $W/api.sqlite
replay $W/office.pcap
listen 127.0.0.1:18640
baseline_days 2
$LINE
EOF
$V serve --config "$W/api.conf" 2>"$W/api.log" &
SERVE_PID=$!
wait_caught_up http://127.0.0.1:18640
mkdir -p "$W/www/api"
curl -s -H "Authorization: Bearer $SECRET" http://127.0.0.1:18640/api/incidents > "$W/www/api/incidents"
curl -s -H "Authorization: Bearer $SECRET" http://127.0.0.1:18640/api/status > "$W/www/api/status"
chmod 755 "$W" "$W/www" "$W/www/api"; chmod 644 "$W"/www/api/*
cat > "$W/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $W/nginx.pid;
error_log $W/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  server { listen 127.0.0.1:18641; root $W/www; default_type application/json; }
}
EOF
nginx -c "$W/nginx.conf" &
NGINX_PID=$!
sleep 1
run_wrk() {  # URL -> "req/s p50 p99"
  wrk -t2 -c200 -d10s --latency -H "Authorization: Bearer $SECRET" "$1" > "$W/wrk.out" 2>&1
  awk '/Requests\/sec/ {r=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$NF} END {printf "%s %s %s %s", r, p50, p99, (bad==""?0:bad)}' "$W/wrk.out"
}
printf "%-28s %12s %10s %10s %8s\n" "route" "requests/s" "p50" "p99" "non-2xx"
for route in /api/incidents /api/status; do
  read -r vr v50 v99 vbad <<<"$(run_wrk "http://127.0.0.1:18640$route")"
  read -r nr n50 n99 nbad <<<"$(run_wrk "http://127.0.0.1:18641$route")"
  printf "%-28s %12s %10s %10s %8s\n" "vigil $route" "$vr" "$v50" "$v99" "$vbad"
  printf "%-28s %12s %10s %10s %8s\n" "nginx static $route" "$nr" "$n50" "$n99" "$nbad"
  awk -v a="$vr" -v b="$nr" 'BEGIN { printf "  vigil/nginx throughput: %.2fx\n", a / b }'
done

echo; echo "== 2. console page weight (what the threat overview downloads before its API calls)"
total=0
for f in / /app.js /app.css; do
  n=$(curl -s "http://127.0.0.1:18640$f" | wc -c); g=$(curl -s "http://127.0.0.1:18640$f" | gzip -9 | wc -c)
  printf "  %-10s %7d bytes (%d gzipped)\n" "$f" "$n" "$g"; total=$((total + n))
done
printf "  total      %7d bytes, 3 requests, no third-party resources\n" "$total"
kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=""
kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true; NGINX_PID=""

echo; echo "== 3. live capture drops vs replay rate (veth between namespaces $NS_SRC -> $NS_CAP)"
ip netns add "$NS_CAP"; ip netns add "$NS_SRC"
ip link add vbc0 netns "$NS_CAP" type veth peer name vbs0 netns "$NS_SRC"
ip -n "$NS_CAP" link set lo up; ip -n "$NS_CAP" link set vbc0 up; ip -n "$NS_SRC" link set vbs0 up
packets=$(tcpdump -r "$W/office.pcap" -qn 2>/dev/null | wc -l)
echo "  $packets packets per replay"
printf "%-12s %-8s %12s %12s %10s %14s\n" "rate (pps)" "tool" "received" "dropped" "drop %" "sent at (pps)"
# The last row replays the capture five times back to back at full speed (3 M packets), long
# enough that the kernel buffer and the queue to the learner cannot absorb a shortfall.
for rate in 20000 50000 100000 200000 topspeed topspeedx5; do
  speed=(--pps "$rate"); [ "$rate" = topspeed ] && speed=(--topspeed); [ "$rate" = topspeedx5 ] && speed=(--topspeed --loop 5)
  # Vigil
  cat > "$W/live.conf" <<EOF
store $W/live-$rate.sqlite
capture vbc0
listen 127.0.0.1:18642
checkpoint_seconds 5
$LINE
EOF
  ip netns exec "$NS_CAP" "$V" serve --config "$W/live.conf" 2>"$W/live-$rate.log" &
  SERVE_PID=$!
  sleep 1.5
  sent=$(ip netns exec "$NS_SRC" tcpreplay -i vbs0 "${speed[@]}" "$W/office.pcap" 2>&1 | awk '/Rated:/ {print $(NF-1)}')
  sleep 3
  st=$(ip netns exec "$NS_CAP" curl -s -H "Authorization: Bearer $SECRET" http://127.0.0.1:18642/api/status)
  kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=""
  echo "$st" | python3 -c "
import json, sys
s = json.load(sys.stdin)['sources'][0]
got, drop = s['packets'], s['dropped'] + s.get('interfaceDropped', 0)
print('%-12s %-8s %12d %12d %9.2f%% %14s' % ('$rate', 'vigil', got, drop, 100.0 * drop / max(1, got + drop), '$sent'))"
  # tcpdump on the same interface at the same rate
  ip netns exec "$NS_CAP" tcpdump -i vbc0 -w /dev/null -s 65535 2>"$W/tcpdump-$rate.log" &
  TD=$!
  sleep 1.5
  sent=$(ip netns exec "$NS_SRC" tcpreplay -i vbs0 "${speed[@]}" "$W/office.pcap" 2>&1 | awk '/Rated:/ {print $(NF-1)}')
  sleep 2
  kill -INT "$TD"; wait "$TD" 2>/dev/null || true
  got=$(awk '/packets captured/ {print $1}' "$W/tcpdump-$rate.log"); drop=$(awk '/dropped by kernel/ {print $1}' "$W/tcpdump-$rate.log")
  awk -v r="$rate" -v g="${got:-0}" -v d="${drop:-0}" -v s="$sent" 'BEGIN { printf "%-12s %-8s %12d %12d %9.2f%% %14s\n", r, "tcpdump", g, d, 100 * d / ((g + d) > 0 ? g + d : 1), s }'
done
echo; echo "(drop % = dropped / (captured + dropped) as libpcap reports it; tcpdump only writes packets, Vigil decodes, tracks flows, learns and stores)"
