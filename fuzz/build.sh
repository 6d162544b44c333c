#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build the libFuzzer target for one board (fuzz/README.md). Needs clang and libFuzzer (Debian: clang and
# libclang-rt-14-dev, both in ./setup).
#   fuzz/build.sh [OUT, default build/fuzz/EMU-MPS2-AN385] [BOARD, default EMU-MPS2-AN385]
# Writes OUT/gen (fixture, keys, seeds under gen/seeds/mode<N>) and OUT/fuzz_target.
set -euo pipefail
cd "$(dirname "$0")/.."
board=${2:-EMU-MPS2-AN385}
out=${1:-build/fuzz/$board}
CC=${CC:-clang}
PY=${PYTHON:-.venv/bin/python}
mkdir -p "$out"
"$PY" fuzz/make_fixture.py "$out/gen" "$board"
B=bootloader
INC=(-I"$out/gen" -I$B/include -I$B/src -I$B/src/crypto -I$B/port -I$B/port/common -I$B/port/host)
DEFS=(-DSPB_HOST -DSPB_BOOTLOADER_BUILD -DSPB_BOOT_VERSION_STR='"vfuzz"')
SAN=(-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
# The crypto is differential-tested against `cryptography` (tests/crypto); here it is built optimised
# and without ASan so that the parser and install logic get the executions. ECDSA verification is
# memoised by the target (fuzz_target.c) for the same reason.
rm -rf "$out/obj"
mkdir -p "$out/obj"
pids=()
compile() { # output, flags and source...: in the background, at most as many at once as there are cores
    while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do sleep 0.05; done
    local obj=$1
    shift
    $CC "$@" -o "$out/obj/$obj.o" &
    pids+=($!)
}
for src in $B/src/crypto/*.c; do
    compile "crypto_$(basename "$src" .c)" -g -O2 -fsanitize=fuzzer-no-link "${DEFS[@]}" "${INC[@]}" \
        -Dspb_p256_verify=spb_p256_verify_real -c "$src"
done
for src in fuzz/fuzz_target.c $B/src/*.c $B/port/host/port_host.c "$out/gen/spb_keys.c"; do
    compile "$(basename "$src" .c)" -g -O1 "${SAN[@]}" "${DEFS[@]}" "${INC[@]}" -c "$src"
done
for pid in "${pids[@]}"; do wait "$pid"; done
$CC "${SAN[@]}" "$out"/obj/*.o -o "$out/fuzz_target"
echo "$out/fuzz_target"
