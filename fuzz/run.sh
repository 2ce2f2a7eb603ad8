#!/usr/bin/env bash
# Builds the decoder and learner fuzz target with libFuzzer + AddressSanitizer and runs it for
# SECONDS (default 60) from a seed corpus of generated and shared captures' packets.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
b=fuzz/.build
mkdir -p "$b" "$b/corpus"
flags=(-sanitize=fuzzer,address -parse-as-library -O -g)
log="$b/build.log"
: > "$log"
trap 'echo "fuzz: build failed; see $log"; tail -20 "$log"' ERR
swiftc "${flags[@]}" -emit-library -static -emit-module -module-name VigilCore \
  -emit-module-path "$b/VigilCore.swiftmodule" Sources/VigilCore/*.swift -o "$b/libVigilCore.a" -Xlinker -lm >>"$log" 2>&1
swiftc "${flags[@]}" -emit-library -static -emit-module -module-name VigilWire -I "$b" -I Sources/CSodium \
  -emit-module-path "$b/VigilWire.swiftmodule" Sources/VigilWire/*.swift -o "$b/libVigilWire.a" >>"$log" 2>&1
swiftc "${flags[@]}" -emit-library -static -emit-module -module-name VigilLearn -I "$b" \
  -emit-module-path "$b/VigilLearn.swiftmodule" Sources/VigilLearn/*.swift Sources/VigilLearn/Models/*.swift -o "$b/libVigilLearn.a" >>"$log" 2>&1
swiftc "${flags[@]}" -I "$b" -I Sources/CSodium fuzz/FuzzWire.swift "$b/libVigilLearn.a" "$b/libVigilWire.a" "$b/libVigilCore.a" \
  -lsodium -lm -o "$b/fuzz-wire" >>"$log" 2>&1
trap - ERR
# Seeds: frames of a generated capture, two packets per seed file, in the target's framing.
if [ -z "$(ls -A "$b/corpus")" ]; then
  swift build -c release >/dev/null 2>&1 || swift build >/dev/null
  vigil=$(swift build -c release --show-bin-path 2>/dev/null)/vigil
  [ -x "$vigil" ] || vigil=$(swift build --show-bin-path)/vigil
  "$vigil" synth --sessions 200 --bulk-bytes 3000 --out "$b/seed.pcap" 2>/dev/null
  python3 fuzz/seeds.py "$b/seed.pcap" "$b/corpus"
  # Whole small capture files, for the pcap and pcapng parsers.
  head -c 4096 "$b/seed.pcap" > "$b/corpus/file-pcap"
  if command -v editcap >/dev/null; then
    editcap -F pcapng -r "$b/seed.pcap" "$b/seed.pcapng" 1-12 && head -c 4096 "$b/seed.pcapng" > "$b/corpus/file-pcapng"
  fi
fi
echo "fuzzing the decoders and the learner for ${seconds}s"
"$b/fuzz-wire" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$b/corpus" 2>&1 | tail -n 12
echo "fuzz: no crash, leak or sanitizer report in ${seconds}s"
