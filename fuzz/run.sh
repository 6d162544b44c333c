#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build and run the libFuzzer target (not part of ./test). Needs clang (Debian: apt install clang).
#   fuzz/run.sh [seconds per run, default 120] [extra libFuzzer flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-120}
shift || true
out=build/fuzz
mkdir -p "$out/corpus"
.venv/bin/python fuzz/make_fixture.py "$out/gen"
B=bootloader
INC=(-I"$out/gen" -I$B/include -I$B/src -I$B/src/crypto -I$B/port -I$B/port/common -I$B/port/host)
DEFS=(-DSPB_HOST -DSPB_BOOTLOADER_BUILD -DSPB_BOOT_VERSION_STR='"vfuzz"')
# The crypto is differential-tested against `cryptography` (tests/crypto); here it is built optimised
# and without ASan so that the parser and install logic get the executions. ECDSA verification is
# memoised by the target (fuzz_target.c) for the same reason.
for src in $B/src/crypto/*.c; do
    clang -g -O2 -fsanitize=fuzzer-no-link "${DEFS[@]}" "${INC[@]}" -Dspb_p256_verify=spb_p256_verify_real \
        -c "$src" -o "$out/$(basename "$src" .c).o"
done
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined "${DEFS[@]}" "${INC[@]}" \
    fuzz/fuzz_target.c $B/src/*.c $B/port/host/port_host.c "$out/gen/spb_keys.c" "$out"/aes128.o \
    "$out"/sha256.o "$out"/p256.o -o "$out/fuzz_target"
# Seeds: one per mode, so every path is reached from the start.
for mode in 0 1 2 3 4 5; do printf "\\x0${mode}\\x05SU\\x01\\x00" > "$out/corpus/seed$mode"; done
"$out/fuzz_target" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$@" "$out/corpus"
