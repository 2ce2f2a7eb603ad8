#!/bin/sh
# The learner beside the packet engine on the same simulated office traffic, in one process:
# observations per second of each, and learned state per device. 1,000 devices over 7 days,
# then 10x the devices over one day (same device-days per day, so cost growth shows).
set -eu
cd "$(dirname "$0")/.."
./scripts/build-release --product vigil >/dev/null
V=.build/release/vigil
echo "== 1000 devices, 7 days"
taskset -c 0 $V bench-learn --devices "${DEVICES:-1000}" --days 7
echo "== 10000 devices, 1 day"
taskset -c 0 $V bench-learn --devices "$(( ${DEVICES:-1000} * 10 ))" --days 1
