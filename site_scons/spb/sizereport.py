# SPDX-License-Identifier: Apache-2.0
"""Memory use per region after linking, with bars (as PlatformIO prints), and a hard failure naming the
region and the excess when something does not fit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from .errors import SpbError, StrPath

if TYPE_CHECKING:
    from .board import Board

BAR_WIDTH = 30


@dataclass(frozen=True)
class Region:
    name: str
    start: int
    size: int
    what: str  # "flash" (counted at load address) or "ram" (counted at run address)


@dataclass
class Usage:
    region: Region
    used: int
    detail: str = ""  # a second line under the bar (the application's RAM: what the reservations are)

    @property
    def fraction(self) -> float:
        return self.used / self.region.size if self.region.size else 1.0


def section_extents(elf_path: StrPath) -> list[tuple[str, int, int, int, bool]]:
    """(name, vma, lma, size, occupies_file) for every allocated section."""
    out: list[tuple[str, int, int, int, bool]] = []
    with open(elf_path, "rb") as handle:
        elf = ELFFile(handle)
        segments = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        for sec in elf.iter_sections():
            if not sec["sh_flags"] & SH_FLAGS.SHF_ALLOC or sec["sh_size"] == 0:
                continue
            vma = sec["sh_addr"]
            lma = vma
            for seg in segments:
                if seg["p_vaddr"] <= vma < seg["p_vaddr"] + seg["p_memsz"]:
                    lma = seg["p_paddr"] + (vma - seg["p_vaddr"])
                    break
            out.append((sec.name, vma, lma, sec["sh_size"], sec["sh_type"] != "SHT_NOBITS"))
    return out


def measure(elf_path: StrPath, regions: Iterable[Region]) -> list[Usage]:
    usages = [Usage(r, 0) for r in regions]
    for _name, vma, lma, size, in_file in section_extents(elf_path):
        for usage in usages:
            r = usage.region
            if r.what == "flash" and in_file and r.start <= lma < r.start + r.size + size:
                usage.used = max(usage.used, lma + size - r.start)
            elif r.what == "ram" and r.start <= vma < r.start + r.size + size:
                usage.used = max(usage.used, vma + size - r.start)
    return usages


def render(title: str, usages: Iterable[Usage]) -> str:
    lines = [f"{title} memory use:"]
    for u in usages:
        filled = min(BAR_WIDTH, round(u.fraction * BAR_WIDTH))
        bar = "=" * filled + " " * (BAR_WIDTH - filled)
        lines.append(
            f"  {u.region.name:<12} [{bar}] {100 * u.fraction:5.1f}% "
            f"(used {u.used} bytes of {u.region.size} at {u.region.start:#010x})"
        )
        if u.detail:
            lines.append(f"  {'':<12}  {u.detail}")
    return "\n".join(lines)


def symbol_values(elf_path: StrPath, names: Iterable[str]) -> dict[str, int]:
    """The values of those of `names` the ELF's symbol table defines."""
    found: dict[str, int] = {}
    with open(elf_path, "rb") as handle:
        symtab = ELFFile(handle).get_section_by_name(".symtab")
        if not isinstance(symtab, SymbolTableSection):
            return found
        for name in names:
            symbols = symtab.get_symbol_by_name(name)
            if symbols:
                found[name] = int(symbols[0]["st_value"])
    return found


def add_stack_and_heap(elf_path: StrPath, usages: Iterable[Usage], api_need: int | None = None) -> None:
    """Count the application's heap and stack reservations (HEAP_SIZE, STACK_SIZE: the symbols
    _Min_Heap_Size and _Min_Stack_Size of the generated script) in its RAM region, and say so under the bar.
    api_need: the bootloader API's worst-case stack on the board, shown next to the stack guard."""
    values = symbol_values(elf_path, ("_Min_Heap_Size", "_Min_Stack_Size"))
    if len(values) != 2:
        return  # not linked with spb's application script: only its sections count
    heap, stack = values["_Min_Heap_Size"], values["_Min_Stack_Size"]
    for usage in usages:
        if usage.region.what == "ram":
            static = usage.used
            usage.used = static + heap + stack
            need = f"; the bootloader API needs {api_need}" if api_need is not None else ""
            usage.detail = (
                f".data+.bss {static}, heap {heap} (HEAP_SIZE; malloc may grow up to the stack), "
                f"stack {stack} (STACK_SIZE{need})"
            )
            return


def check(elf_path: StrPath, usages: Iterable[Usage]) -> None:
    over = [u for u in usages if u.used > u.region.size]
    if over:
        detail = "; ".join(
            f"region {u.region.name} overflowed by {u.used - u.region.size} bytes ({u.used} > {u.region.size})"
            for u in over
        )
        raise SpbError(Path(elf_path), detail)


def bootloader_regions(board: Board) -> list[Region]:
    return [
        Region("BOOT_FLASH", board.flash.base, board.bootloader.code_size, "flash"),
        Region("BOOT_RAM", board.ram.base, board.bootloader.ram_reserved, "ram"),
    ]


def application_regions(board: Board) -> list[Region]:
    regions = [
        Region("SLOT0", board.app_vector_address, board.slot0.size - board.vector_size, "flash"),
        Region("RAM", board.app_ram_base, board.app_ram_size, "ram"),
    ]
    if board.slot0.external is not None:
        ext = board.slot0.external
        regions.insert(1, Region("SLOT0_EXT", ext.address, ext.size, "flash"))
    return regions
