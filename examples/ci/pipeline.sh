#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A release pipeline for a project built with spb, as plain shell (docs/ci.md): build every board in a
# matrix with a shared SCons cache, sign, keep the release store, collect what to publish, and fail on
# a size-budget overflow. Run from the project's top directory (its SConstruct):
#
#   SPB_KEYS_DIR=/run/secrets/spb-keys examples/ci/pipeline.sh [BOARD ...]
#
# Environment:
#   SPB_KEYS_DIR     key folder (signing_key.pem, aes128_key.bin); mount it from the CI's secret store.
#                    Never the repository's development keys/ (the build refuses nothing, you must).
#   SPB_CACHE_DIR    SCons cache shared between jobs and runs (default .spb-cache). Keys never enter it.
#   SPB_RELEASES     release store: the plaintext images future patches are made from (default
#                    releases/). Keep it across runs (an artifact store, a bucket): a patch can only be
#                    made from an image that is still there.
#   SPB_DIST         where the outputs go (default dist/): dist/<board>/ the public .sfb and .sfbp,
#                    dist/<board>/factory/ the manufacturing image (it embeds the AES key: restricted).
#   SPB_BOOT_BUDGET  bootloader flash budget in bytes (default 24576); the build fails on more.
#   SCONS            the scons command (default: scons).
#   VERSION          release version x.y.z (default: the git tag, as the build does).
# Boards: arguments, or every boards/*.toml.
set -euo pipefail

keys=${SPB_KEYS_DIR:?set SPB_KEYS_DIR to the signing key folder}
cache=${SPB_CACHE_DIR:-.spb-cache}
releases=${SPB_RELEASES:-releases}
dist=${SPB_DIST:-dist}
budget=${SPB_BOOT_BUDGET:-24576}
scons_cmd=${SCONS:-scons}
version_arg=()
[ -n "${VERSION:-}" ] && version_arg=("VERSION=$VERSION")

if [ $# -gt 0 ]; then
    boards=("$@")
else
    boards=()
    for f in boards/*.toml; do boards+=("$(basename "$f" .toml)"); done
fi
[ ${#boards[@]} -gt 0 ] || { echo "pipeline: no boards given and no boards/*.toml" >&2; exit 2; }

status=0
for board in "${boards[@]}"; do
    out="build/ci/$board"
    echo "== $board"
    # The store is per board: a patch is made from the same board's earlier releases only.
    if ! $scons_cmd -Q "CACHE_DIR=$cache" "BOARD=$board" "BUILD_DIR=$out" "KEYS=$keys" \
            "RELEASES_DIR=$releases/$board" "${version_arg[@]}"; then
        echo "pipeline: $board: build failed" >&2
        status=1
        continue
    fi
    used=$(sed -n 's/.*BOOT_FLASH.*(used \([0-9]*\) bytes.*/\1/p' "$out/bootloader.size.txt")
    if [ -z "$used" ] || [ "$used" -gt "$budget" ]; then
        echo "pipeline: $board: bootloader uses ${used:-?} bytes of flash, over the budget of $budget" >&2
        status=1
        continue
    fi
    # Public: the signed and encrypted update and the delta patches from earlier releases.
    mkdir -p "$dist/$board/factory"
    cp "$out"/*.sfb "$dist/$board/"
    find "$out" -maxdepth 1 -name '*.sfbp' -exec cp {} "$dist/$board/" \;
    # Restricted: the manufacturing image holds the bootloader, and the bootloader holds the AES key.
    cp "$out"/*_combined.hex "$dist/$board/factory/"
done
mkdir -p "$dist"
[ -d "$releases" ] && tar -czf "$dist/release-store.tar.gz" -C "$(dirname "$releases")" "$(basename "$releases")"
exit $status
