#!/bin/sh
# Builds Vigil (release) and prints the learner's evaluation table.
set -eu
cd "$(dirname "$0")/.."
./scripts/build-release --product vigil >/dev/null
exec python3 eval/evaluate.py "$@"
