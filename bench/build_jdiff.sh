#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds JojoDiff 0.8.5's `jdiff` for bench/patch_sizes.py only (a peer to measure against: never linked,
# never shipped, not a dependency of spb). Output: build/bench/jdiff/jdiff.
#
# Source: the GitHub mirror JuniorJPDJ/jojodiff (upstream history of JojoDiff, GPL-3.0), pinned to the
# commit "085ac tuning internal parameters" (JDIFF_VERSION "0.8.5 (beta) 2020", the last 0.8.5 commit).
# A local read-only mirror is used when present (JDIFF_MIRROR), else the commit is fetched from GitHub.
#
#   sh bench/build_jdiff.sh
set -eu
COMMIT=66a2806de9de417d5aff013e13d9af3267ed45a1
URL=https://github.com/JuniorJPDJ/jojodiff.git
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT="$REPO/build/bench/jdiff"
MIRROR=${JDIFF_MIRROR:-/work/.mirror/JuniorJPDJ+jojodiff/repo}

if [ -x "$OUT/jdiff" ] && [ "$(cat "$OUT/COMMIT" 2>/dev/null)" = "$COMMIT" ]; then
    echo "$OUT/jdiff (up to date)"
    exit 0
fi
rm -rf "$OUT"
mkdir -p "$OUT/src"
if [ -d "$MIRROR" ]; then
    git --git-dir="$MIRROR" archive "$COMMIT" jdiff/src | tar -x -C "$OUT/src"
else
    git clone --quiet --no-checkout "$URL" "$OUT/git"
    git -C "$OUT/git" archive "$COMMIT" jdiff/src | tar -x -C "$OUT/src"
    rm -rf "$OUT/git"
fi
grep -q '"0.8.5' "$OUT/src/jdiff/src/JDefs.h" || { echo "not JojoDiff 0.8.5" >&2; exit 1; }
# The upstream Makefile with its own flags (-O2, -m64 on x86-64 only); -j1: the host is shared.
case "$(uname -m)" in x86_64) M64=-m64 ;; *) M64= ;; esac
make -s -j1 -C "$OUT/src/jdiff/src" CFLAGS="$M64 -O2 -w" jdiff
cp "$OUT/src/jdiff/src/jdiff" "$OUT/jdiff"
echo "$COMMIT" > "$OUT/COMMIT"
echo "$OUT/jdiff"
