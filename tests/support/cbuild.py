# SPDX-License-Identifier: Apache-2.0
"""Build the bootloader's own C sources for the host, for differential and simulator tests.

Results are cached under build/host-tests/ keyed by a hash of every input, so a test session compiles
each library once and a source change always rebuilds.

With SPB_C_COVERAGE=1 in the environment (`./test --cov`, tests/support/covreport.py) every build is
the coverage variant: -O0 --coverage, its .gcno and the .gcda the test processes write (at exit, or
when covreport calls __gcov_dump) in a directory of its own under build/host-tests/gcov/."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "build" / "host-tests"
BASE_FLAGS = ["-std=c99", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-fPIC", "-fno-strict-aliasing"]
# The coverage variant: unoptimised, so every line and branch gcov reports is one of the source's; the
# libraries export libgcov's __gcov_dump (covreport.dump_gcov), which the linker would otherwise leave out.
COVERAGE_FLAGS = ["-O0", "--coverage", "-Wl,--undefined=__gcov_dump"]
GCOV_DIR = CACHE / "gcov"
LIBRARIES: set[Path] = set()  # the coverage libraries this process built or found (covreport.dump_gcov)


def coverage_enabled() -> bool:
    return os.environ.get("SPB_C_COVERAGE") == "1"


def _digest(parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            h.update(str(part).encode())
            h.update(part.read_bytes())
        else:
            h.update(str(part).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def build(name, sources, include_dirs=(), defines=(), extra_flags=(), shared=True, extra_files=()):
    """Compile `sources` (paths relative to the repo or absolute) into a shared library (or an
    executable when shared=False) and return its path. `extra_files` are headers or generated files
    whose content must invalidate the cache."""
    sources = [Path(s) if Path(s).is_absolute() else REPO / s for s in sources]
    include_dirs = [Path(d) if Path(d).is_absolute() else REPO / d for d in include_dirs]
    headers = sorted({h for d in include_dirs if d.is_dir() for h in d.glob("*.h")})
    flags = BASE_FLAGS + [f"-I{d}" for d in include_dirs] + [f"-D{d}" for d in defines] + list(extra_flags)
    if coverage_enabled():
        name += "-cov"
        flags += COVERAGE_FLAGS
    key = _digest([*sources, *headers, *[Path(f) for f in extra_files], *flags, shared])
    out = CACHE / f"{name}-{key}{'.so' if shared else ''}"
    if coverage_enabled() and shared:
        LIBRARIES.add(out)
    if out.exists():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    if coverage_enabled():
        # gcov names the .gcno (now) and the .gcda (at run time) after -dumpdir and the source; a fixed
        # -frandom-seed gives the same stamps to every compilation of the same inputs. The lock makes
        # the processes that want the same library build it once, so every .gcda matches its .gcno.
        gcov = GCOV_DIR / f"{name}-{key}"
        gcov.mkdir(parents=True, exist_ok=True)
        flags = [*flags, f"-frandom-seed={name}-{key}", "-dumpdir", f"{gcov}/"]
        with open(gcov / "lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not out.exists():
                _compile(name, flags, sources, shared, out)
        return out
    _compile(name, flags, sources, shared, out)
    return out


def _compile(name, flags, sources, shared, out):
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    cmd = ["gcc", *flags, *(["-shared"] if shared else []), "-o", str(tmp), *map(str, sources)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"host build of {name} failed:\n{' '.join(cmd)}\n{result.stderr}")
    os.replace(tmp, out)
