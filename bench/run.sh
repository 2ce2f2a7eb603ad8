#!/usr/bin/env bash
# Packet-to-metadata speed: vigil beside the libpcap read floor and flow exporters, on the
# same generated capture, in one run. Each tool runs pinned to one core, best of $RUNS.
#   SESSIONS=110000 (>= 100k connections)  BULK_SHARE=0.01  BULK_BYTES=300000  RUNS=5
set -euo pipefail
cd "$(dirname "$0")/.."
work=bench/work
mkdir -p "$work"
bin=$(swift build -c release --show-bin-path)
vigil="$bin/vigil"
[ -x "$vigil" ] || { echo "build first: scripts/build-release"; exit 1; }
sessions=${SESSIONS:-110000}
runs=${RUNS:-5}
cap="$work/bench-$sessions.pcap"
if [ ! -f "$cap" ]; then
  "$vigil" synth --sessions "$sessions" --bulk-share "${BULK_SHARE:-0.01}" --bulk-bytes "${BULK_BYTES:-300000}" --out "$cap"
fi
cat "$cap" > /dev/null   # into the page cache, for every tool alike
bytes=$(stat -c %s "$cap")
packets=$(capinfos -c -M "$cap" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')

# time_once NAME CMD...: one timed run; keeps the best elapsed seconds and the peak RSS.
# Rounds go tool by tool (vigil, tcpdump, softflowd, ... then again), so that a slow phase of a
# shared machine falls on every tool alike instead of on whichever ran its runs then.
declare -A secs rss
time_once() {
  local name=$1; shift
  rm -rf "$work/out-$name"; mkdir -p "$work/out-$name"
  /usr/bin/time -f "%e %M" -o "$work/time-$name" taskset -c 0 "$@" >/dev/null 2>"$work/err-$name" || {
    echo "$name failed:"; tail -5 "$work/err-$name"; return 1; }
  read -r e m < <(tail -1 "$work/time-$name")
  if [ -z "${secs[$name]:-}" ] || awk "BEGIN {exit !($e < ${secs[$name]})}"; then secs[$name]=$e; fi
  if [ -z "${rss[$name]:-}" ] || [ "$m" -gt "${rss[$name]}" ]; then rss[$name]=$m; fi
}

for _ in $(seq "$runs"); do
  time_once vigil "$vigil" logs "$cap" --out "$work/out-vigil" --quiet
  time_once tcpdump tcpdump -r "$cap" -w /dev/null
  # -c "" turns off the control socket: with one, softflowd 1.1.0 blocks in accept() when reading a file.
  time_once softflowd softflowd -r "$cap" -n 127.0.0.1:9995 -d -6 -m 1000000 -c "" -p "$work/softflowd.pid"
  time_once nfpcapd nfpcapd -r "$cap" -w "$work/out-nfpcapd"
  time_once argus argus -r "$cap" -w "$work/out-argus/argus.out"
  time_once tshark tshark -r "$cap" -q -z conv,tcp -z conv,udp
done

flows=$(grep -vc '^#' "$work/out-vigil/conn.log")
records=$(cat "$work"/out-vigil/*.log | grep -vc '^#')
echo
echo "capture: $cap, $bytes bytes, $packets packets, $flows connections, $records log records from vigil"
echo "one core each (taskset -c 0), best of $runs rounds (tools take turns), file in page cache"
echo
printf "%-10s %10s %14s %12s %14s  %s\n" tool seconds packets/s "peak RSS" "vigil ratio" "what it produces"
for t in vigil tcpdump softflowd nfpcapd argus tshark; do
  s=${secs[$t]}
  pps=$(awk "BEGIN {printf \"%.0f\", $packets / $s}")
  ratio=$(awk "BEGIN {printf \"%.2fx\", ${secs[$t]} / ${secs[vigil]}}")
  case $t in
    vigil) what="conn/dns/http/ssl/ssh/dhcp Zeek logs (full metadata)";;
    tcpdump) what="read floor: libpcap read, write to /dev/null";;
    softflowd) what="NetFlow v5 records (flows only) to loopback";;
    nfpcapd) what="nfcapd flow files (flows only)";;
    argus) what="argus flow records";;
    tshark) what="TCP/UDP conversation tables (full dissection)";;
  esac
  printf "%-10s %10s %14s %10s KB %14s  %s\n" "$t" "$s" "$pps" "${rss[$t]}" "$ratio" "$what"
done
echo
echo "vigil ratio = peer seconds / vigil seconds (above 1.00x: vigil is faster)."
floor=$(awk "BEGIN {printf \"%.0f%%\", 100 * ${secs[tcpdump]} / ${secs[vigil]}}")
echo "vigil runs at $floor of the libpcap read floor."
