#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Builds the firmware corpus of bench/patch_sizes.py: release tags of open-source Cortex-M projects,
cross-compiled here with arm-none-eabi-gcc, each pair being two consecutive releases of one project.

  micropython  ports/bare-arm (STM32F405, Cortex-M4, no submodules), the project's own Makefile
  littlefs     lfs.c + lfs_util.c with bench/corpus/littlefs/main.c (RAM block device, log rotation)
  mbedtls      library/*.c with bench/corpus/mbedtls/main.c and crypto_config.h (SHA-256, HMAC, HKDF,
               AES-GCM/CCM/CBC/CTR, ECDSA P-256; --gc-sections keeps what the application uses)
  freertos     FreeRTOS-Kernel (GCC/ARM_CM4F port, heap_4) with bench/corpus/freertos/main.c (tasks,
               queue, mutex, event group, stream buffer, timer)

The two small applications and the start-up/linker script (bench/corpus/common) are ours and stay the
same across a project's releases, so every difference between two images comes from the project.
Sources are exported (`git archive`) at pinned commits from a local mirror when one exists
(/work/.mirror/<owner>+<name>/repo, or CORPUS_MIRRORS=<dir>), else fetched from GitHub. Output:
build/bench/corpus/<project>-<tag>.bin (plaintext image, what a patch works on); sources and objects
under build/bench/corpus/src. Incremental: an existing image is not rebuilt.

Usage: python3 bench/corpus/build.py [--jobs N] [--list]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUT = REPO / "build" / "bench" / "corpus"
SRC = OUT / "src"
MIRRORS = Path(os.environ.get("CORPUS_MIRRORS", "/work/.mirror"))
CROSS = "arm-none-eabi-"
CPU = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]
CFLAGS = [*CPU, "-Os", "-g0", "-ffunction-sections", "-fdata-sections", "-std=gnu11", "-w"]
LDFLAGS = [
    *CPU,
    "-nostartfiles",
    "--specs=nano.specs",
    "--specs=nosys.specs",
    "-Wl,--gc-sections",
    f"-T{HERE / 'common' / 'cm4.ld'}",
]


@dataclass(frozen=True)
class Project:
    name: str
    github: str  # owner/name
    releases: tuple[tuple[str, str], ...]  # (tag, commit), oldest first


PROJECTS = [
    Project(
        "micropython",
        "micropython/micropython",
        (
            ("v1.24.0", "f212bbe837489f297c9d25d608bdb7b8c3da988d"),
            ("v1.25.0", "f498a16c7db6d4b2de200b3e0856528dfe0613c3"),
            ("v1.26.0", "4ce2dd2cdab6e57f3982fc899f15a2103d71b0be"),
            ("v1.27.0", "78ff170de9e32c79db6e64d3e33d2bd60002bdcd"),
        ),
    ),
    Project(
        "littlefs",
        "littlefs-project/littlefs",
        (
            ("v2.9.3", "d01280e64934a09ba16cac60cf9d3a37e228bb66"),
            ("v2.10.2", "8ed63b27be79ab59ee1cd15a950ddd64e7a602f7"),
            ("v2.11.2", "adad0fbbcf5382c20978d07f94f9c13be9041c1b"),
        ),
    ),
    Project(
        "mbedtls",
        "Mbed-TLS/mbedtls",
        (
            ("v3.5.2", "daca7a3979c22da155ec9dce49ab1abf3b65d3a9"),
            ("v3.6.0", "2ca6c285a0dd3f33982dd57299012dacab1ff206"),
            ("v3.6.3", "22098d41c6620ce07cf8a0134d37302355e1e5ef"),
            ("v3.6.6", "0bebf8b8c7f07abe3571ded48a11aa907a1ffb20"),
        ),
    ),
    Project(
        "freertos",
        "FreeRTOS/FreeRTOS-Kernel",
        (
            ("V10.6.2", "18ed8886fe3eed9dbe433a82cdc62ce5dc0315eb"),
            ("V11.0.1", "0240cd55f20be7100439b606086709b74a105cb1"),
            ("V11.1.0", "dbf70559b27d39c1fdb68dfb9a32140b6a6777a0"),
            ("V11.2.0", "0adc196d4bd52a2d91102b525b0aafc1e14a2386"),
        ),
    ),
]


def image_path(project: str, tag: str) -> Path:
    return OUT / f"{project}-{tag}.bin"


def pairs() -> list[tuple[str, Path, Path]]:
    """(name, old image, new image) for every two consecutive releases."""
    result = []
    for p in PROJECTS:
        for (a, _), (b, _) in zip(p.releases, p.releases[1:]):
            result.append((f"{p.name} {a}->{b}", image_path(p.name, a), image_path(p.name, b)))
    return result


def run(cmd: list[str], cwd: Path | None = None) -> None:
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")


def export(project: Project, tag: str, commit: str, paths: list[str]) -> Path:
    dest = SRC / f"{project.name}-{tag}"
    stamp = dest / ".commit"
    if stamp.exists() and stamp.read_text() == commit:
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    mirror = MIRRORS / project.github.replace("/", "+") / "repo"
    with tempfile.TemporaryDirectory() as tmp:
        if mirror.is_dir():
            git_dir = str(mirror)
        else:
            git_dir = str(Path(tmp) / "git")
            run(["git", "init", "--quiet", "--bare", git_dir])
            run(["git", f"--git-dir={git_dir}", "fetch", "--quiet", "--depth=1",
                 f"https://github.com/{project.github}.git", commit])  # fmt: skip
        archive = Path(tmp) / "src.tar"
        run(["git", f"--git-dir={git_dir}", "archive", "--output", str(archive), commit, *paths])
        run(["tar", "-xf", str(archive), "-C", str(dest)])
    stamp.write_text(commit)
    return dest


def objcopy(elf: Path, out: Path) -> None:
    run([CROSS + "objcopy", "-O", "binary", str(elf), str(out)])


def compile_app(
    name: str, sources: list[Path], includes: list[Path], objdir: Path, out: Path, jobs: int, defines: list[str]
) -> None:
    objdir.mkdir(parents=True, exist_ok=True)
    objs, procs = [], []
    for src in [*sources, HERE / "common" / "startup.c"]:
        obj = objdir / (src.stem + ".o")
        objs.append(obj)
        cmd = [CROSS + "gcc", *CFLAGS, *defines, *[f"-I{i}" for i in includes], "-c", str(src), "-o", str(obj)]
        procs.append(subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True))
        if len(procs) >= jobs:
            _wait(procs.pop(0), cmd)
    for p in procs:
        _wait(p, [name])
    elf = objdir / f"{name}.elf"
    run([CROSS + "gcc", *LDFLAGS, "-o", str(elf), *map(str, objs)])
    objcopy(elf, out)


def _wait(proc: subprocess.Popen[str], cmd: list[str]) -> None:
    _, err = proc.communicate()
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{err[-4000:]}")


def build_micropython(project: Project, tag: str, commit: str, jobs: int) -> None:
    src = export(project, tag, commit, ["py", "shared", "extmod", "ports/bare-arm", "tools", "drivers"])
    port = src / "ports" / "bare-arm"
    run(["make", f"-j{jobs}", "-C", str(port), "build/firmware.bin"])
    shutil.copyfile(port / "build" / "firmware.bin", image_path(project.name, tag))


def build_littlefs(project: Project, tag: str, commit: str, jobs: int) -> None:
    src = export(project, tag, commit, ["lfs.c", "lfs.h", "lfs_util.c", "lfs_util.h"])
    sources = [src / "lfs.c", src / "lfs_util.c", HERE / "littlefs" / "main.c"]
    # No printf-style tracing or asserts: the library's own code only.
    defines = [f"-D{flag}" for flag in ("LFS_NO_DEBUG", "LFS_NO_WARN", "LFS_NO_ERROR", "LFS_NO_ASSERT")]
    compile_app("lfs", sources, [src], src / "obj", image_path(project.name, tag), jobs, defines)


def build_freertos(project: Project, tag: str, commit: str, jobs: int) -> None:
    port = "portable/GCC/ARM_CM4F"
    src = export(project, tag, commit, ["include", port, "portable/MemMang/heap_4.c", "tasks.c", "queue.c",
                                        "list.c", "timers.c", "event_groups.c", "stream_buffer.c"])  # fmt: skip
    names = ["tasks.c", "queue.c", "list.c", "timers.c", "event_groups.c", "stream_buffer.c"]
    sources = [src / n for n in names] + [src / port / "port.c", src / "portable/MemMang/heap_4.c"]
    sources.append(HERE / "freertos" / "main.c")
    compile_app("rtos", sources, [HERE / "freertos", src / "include", src / port], src / "obj",
                image_path(project.name, tag), jobs, [])  # fmt: skip


def build_mbedtls(project: Project, tag: str, commit: str, jobs: int) -> None:
    src = export(project, tag, commit, ["include", "library"])
    sources = sorted((src / "library").glob("*.c")) + [HERE / "mbedtls" / "main.c"]
    defines = ['-DMBEDTLS_CONFIG_FILE="crypto_config.h"']
    compile_app("tls", sources, [HERE / "mbedtls", src / "include", src / "library"], src / "obj",
                image_path(project.name, tag), jobs, defines)  # fmt: skip


BUILDERS = {
    "micropython": build_micropython,
    "littlefs": build_littlefs,
    "freertos": build_freertos,
    "mbedtls": build_mbedtls,
}


def build_all(jobs: int = 2, verbose: bool = True) -> list[tuple[str, Path, Path]]:
    OUT.mkdir(parents=True, exist_ok=True)
    for p in PROJECTS:
        for tag, commit in p.releases:
            out = image_path(p.name, tag)
            if out.exists():
                continue
            if verbose:
                print(f"building {p.name} {tag} ({commit[:12]})", file=sys.stderr)
            BUILDERS[p.name](p, tag, commit, jobs)
    return pairs()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="parallel compiler processes (default 2)")
    parser.add_argument("--list", action="store_true", help="print the pairs and the image sizes")
    args = parser.parse_args()
    result = build_all(args.jobs)
    for name, old, new in result:
        if args.list:
            print(f"{name:<32} {old.stat().st_size:>8} {new.stat().st_size:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
