#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build and run the libFuzzer target (fuzz/README.md; a short smoke run is in ./test: tests/test_fuzz_smoke.py).
#   fuzz/run.sh [seconds, default 120] [extra libFuzzer flags, e.g. -fork=2 or -jobs=2 -workers=2]
# Environment: FUZZ_MODE=0..8 pins one mode (default: all, picked by the first input byte),
#              FUZZ_BOARD=NAME (default EMU-MPS2-AN385; any board without external flash).
# Corpus: build/fuzz/BOARD/corpus/MODE (kept between runs), crashes: build/fuzz/BOARD/crashes/,
# logs of -jobs runs: build/fuzz/BOARD/logs/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
shift || true
board=${FUZZ_BOARD:-EMU-MPS2-AN385}
mode=${FUZZ_MODE:-all}
out=$PWD/build/fuzz/$board
fuzz/build.sh "$out" "$board" >/dev/null
if [ "$mode" = all ]; then
    corpus=$out/corpus/all
    seeds=("$out"/gen/seeds/mode*)
    unset SPB_FUZZ_MODE
else
    corpus=$out/corpus/mode$mode
    seeds=("$out/gen/seeds/mode$mode")
    export SPB_FUZZ_MODE=$mode
fi
mkdir -p "$corpus" "$out/crashes" "$out/logs"
cd "$out/logs"
exec "$out/fuzz_target" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$out/crashes/" "$@" "$corpus" "${seeds[@]}"
