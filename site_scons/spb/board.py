# SPDX-License-Identifier: Apache-2.0
"""Boards as data: load and validate `boards/<NAME>.toml` (reference: docs/boards.md).

A board file describes one target: chip family and CPU, internal flash geometry (erase sectors), RAM,
the bootloader region, SLOT0 (the active slot, optionally with a MultiSegment part in external flash),
SLOT1 (the download slot; absent on single-slot boards), clock, console UART, user button and external
flash. Everything is checked on load; each problem raises one SpbError naming the file and the TOML key.
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal, NoReturn, overload

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11: the same parser from PyPI (a dependency there)
    import tomli as tomllib  # type: ignore[no-redef]

from .errors import SpbError, StrPath

U32_END = 1 << 32


# --------------------------------------------------------------------------------------------------
# Supported families and CPUs (data: a new family is a row here plus a port in bootloader/port/<family>/)


@dataclass(frozen=True)
class Family:
    name: str
    description: str
    cpus: tuple[str, ...]  # allowed `cpu` values
    clock_sources: tuple[str, ...]  # allowed `clock.source` values
    uart_kinds: tuple[str, ...]  # allowed peripheral kinds in `uart.instance` (USART, LPUART, UART)
    uart_pins: bool  # True: uart.tx / uart.rx are required (GPIO alternate functions)
    vector_bytes: int  # largest vector table of the family: (16 system + IRQs) * 4
    flash_ecc: bool = False  # a torn programming unit reads back with an uncorrectable ECC error (NMI)
    xspi_kernel_div: int = 1  # QUADSPI/OCTOSPI kernel clock = SYSCLK / this (H7: HCLK3 = SYSCLK / 2)


FAMILIES = {
    "stm32l4": Family(
        "stm32l4",
        "STM32L4 / L4+ (Cortex-M4F)",
        ("cortex-m4",),
        ("MSI", "HSI", "HSE"),
        ("USART", "LPUART", "UART"),
        True,
        (16 + 95) * 4,
        flash_ecc=True,
    ),
    "stm32f4": Family(
        "stm32f4", "STM32F4 (Cortex-M4F)", ("cortex-m4",), ("HSI", "HSE"), ("USART", "UART"), True, (16 + 102) * 4
    ),
    # The F4's sector flash controller on a Cortex-M7 (RM0410 F76x/F77x: one bank of 32/128/256 KiB sectors
    # with nDBANK = 1); bootloader/port/stm32f7 runs the F4's flash driver (port/common/stm32_flash_sector.h)
    "stm32f7": Family(
        "stm32f7", "STM32F7 (Cortex-M7F)", ("cortex-m7",), ("HSI", "HSE"), ("USART", "UART"), True, (16 + 110) * 4
    ),
    "stm32l0": Family(
        "stm32l0",
        "STM32L0 (Cortex-M0+)",
        ("cortex-m0plus",),
        ("MSI", "HSI", "HSE"),
        ("USART", "LPUART"),
        True,
        (16 + 32) * 4,
    ),
    # The flash controller of the L4 ("generation B": double words with ECC) with their own RCC, PWR and
    # peripheral maps; one port each (bootloader/port/stm32g0, stm32g4, stm32wl), one flash driver for all
    "stm32g0": Family(
        "stm32g0",
        "STM32G0 (Cortex-M0+)",
        ("cortex-m0plus",),
        ("HSI", "HSE"),
        ("USART", "LPUART"),
        True,
        (16 + 32) * 4,
        flash_ecc=True,
    ),
    "stm32g4": Family(
        "stm32g4",
        "STM32G4 (Cortex-M4F)",
        ("cortex-m4",),
        ("HSI", "HSE"),
        ("USART", "LPUART", "UART"),
        True,
        (16 + 102) * 4,
        flash_ecc=True,
    ),
    "stm32wl": Family(
        "stm32wl",
        "STM32WL (Cortex-M4 core)",
        ("cortex-m4",),
        ("MSI", "HSI"),
        ("USART", "LPUART"),
        True,
        (16 + 62) * 4,
        flash_ecc=True,
    ),
    # L5 with TrustZone disabled: the same flash IP through its non-secure registers (bootloader/port/stm32l5)
    "stm32l5": Family(
        "stm32l5",
        "STM32L5, TrustZone disabled (Cortex-M33)",
        ("cortex-m33",),
        ("MSI", "HSI", "HSE"),
        ("USART", "LPUART", "UART"),
        True,
        (16 + 109) * 4,
        flash_ecc=True,
    ),
    # STM32H745/H755 dual core, the Cortex-M7 side (the CM4 is not used by the bootloader): H7 flash words
    # of 256 bits with ECC (a double error is a bus error), QUADSPI (bootloader/port/stm32h7)
    "stm32h7": Family(
        "stm32h7",
        "STM32H7 dual core, Cortex-M7 side (Cortex-M7F)",
        ("cortex-m7",),
        ("HSI", "HSE"),
        ("USART", "UART"),
        True,
        (16 + 150) * 4,
        flash_ecc=True,
        xspi_kernel_div=2,
    ),
    "mps2": Family(
        "mps2", "Arm MPS2 AN385 under QEMU (-M mps2-an385)", ("cortex-m3",), ("EXT",), ("UART",), False, (16 + 32) * 4
    ),
}

#: CPU -> FPUs the application may use (`fpu` key; omit it for no FPU).
CPU_FPUS: dict[str, tuple[str, ...]] = {
    "cortex-m0plus": (),
    "cortex-m3": (),
    "cortex-m4": ("fpv4-sp-d16",),
    "cortex-m33": ("fpv5-sp-d16",),
    "cortex-m7": ("fpv5-d16", "fpv5-sp-d16"),
}

CLOCK_SOURCES = ("MSI", "HSI", "HSE", "EXT")
FLASH_WRITE_SIZES = (4, 8, 16, 32)
EXT_FLASH_WRITE_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
EXT_FLASH_KINDS = ("spi", "qspi", "ospi")
#: OCTOSPI instances of the STM32L4+ (RM0432 memory map): name -> memory-mapped window
OSPI_INSTANCES = {"OCTOSPI1": 0x90000000, "OCTOSPI2": 0x70000000}
OSPI_PORTS = (1, 2)  # OCTOSPIM ports
#: external_flash.pins signals: the four a 1-line (SPI) driver needs, then the octal lines and DQS
OSPI_PINS_REQUIRED = ("clk", "ncs", "io0", "io1")
OSPI_PINS_OPTIONAL = ("io2", "io3", "io4", "io5", "io6", "io7", "dqs")


@dataclass(frozen=True)
class OspiChip:
    size: int  # bytes
    jedec_id: int  # RDID (9F) answer: manufacturer, type, density
    max_hz: int  # highest clock of the 1-line fast read / register commands the driver uses
    addr_bytes: int = 4  # address bytes of the opcodes the driver uses (4: dedicated 4-byte opcodes)
    erase_ms: tuple[tuple[int, int], ...] = ((0x1000, 500),)  # (erase unit, driver timeout) it can erase
    program_ms: int = 10  # driver timeout of one page program
    dies: int = 1  # 2: two identical dies in QUADSPI dual-flash mode (even bytes on die 1, odd on die 2)


#: NOR chips the OSPI driver knows (its command set: SPI 1-1-1 with 4-byte address opcodes, 4 KiB erase)
OSPI_CHIPS = {"MX25LM51245G": OspiChip(0x4000000, 0xC2853A, 133_000_000)}
#: NOR chips the QUADSPI driver knows (SPI 1-1-1 commands with 3-byte addresses, quad-output fast read
#: memory-mapped). N25Q128A: Micron JEDEC ID 20 BA 18, 108 MHz; timeouts above the datasheet maxima
#: (subsector 0.8 s, sector 3 s, page program 5 ms)
QSPI_CHIPS = {
    "N25Q128A": OspiChip(0x1000000, 0x20BA18, 108_000_000, 3, ((0x1000, 1000), (0x10000, 3500)), 10),
    # MT25TL01G (DISCO-H745I): two MT25QL512 dies (JEDEC 20 BA 20 each, 133 MHz) in dual-flash mode; the erase
    # units software sees are two die units (2 x 4 KiB, 2 x 64 KiB, erased in parallel; die maxima 0.4 s / 1 s)
    "MT25TL01G": OspiChip(0x8000000, 0x20BA20, 133_000_000, 4, ((0x2000, 500), (0x20000, 1500)), 10, dies=2),
    # Macronix MX25L51245G (DISCO-F769I): JEDEC ID C2 20 1A, 64 MiB, 133 MHz for fast reads with the default 8
    # dummy cycles (DC = 00); its 4-byte-address opcodes; timeouts above the maxima (4 KiB 400 ms, 64 KiB 2 s,
    # page program 10 ms; ST's mx25l512.h, mbed-os MX25L51245G_config.h)
    "MX25L51245G": OspiChip(0x4000000, 0xC2201A, 133_000_000, 4, ((0x1000, 500), (0x10000, 2500)), 12),
}
#: families with the QUADSPI driver: STM32F469/F479 (RM0386), STM32H745 (RM0399), STM32F76x/F77x (RM0410)
QSPI_FAMILIES = ("stm32f4", "stm32h7", "stm32f7")
QSPI_INSTANCES = {"QUADSPI": 0x90000000}  # STM32F469/F479 (RM0386), STM32H745 (RM0399) memory maps: window
QSPI_PINS_REQUIRED = ("clk", "ncs", "io0", "io1", "io2", "io3")
#: dual-flash mode (a chip with two dies): the second die's I/O lines on QUADSPI bank 2 (its chip select may be
#: the shared bank-1 one, as on the DISCO-H745I)
QSPI_PINS_BK2 = ("bk2_io0", "bk2_io1", "bk2_io2", "bk2_io3")
ERASED_VALUES = (0x00, 0xFF)
MIN_VECTOR_SIZE = 0x200
BUTTON_POLARITIES = ("low", "high")

#: family -> the prefix of its part numbers (`mcu` key)
MCU_PREFIXES = {
    "stm32l4": "STM32L4",
    "stm32f4": "STM32F4",
    "stm32f7": "STM32F7",
    "stm32l0": "STM32L0",
    "stm32g0": "STM32G0",
    "stm32g4": "STM32G4",
    "stm32wl": "STM32WL",
    "stm32l5": "STM32L5",
    "stm32h7": "STM32H7",
}
_MCU_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_PIN_RE = re.compile(r"P([A-K])([0-9]|1[0-5])")
_CHIP_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/+-]*")
_UART_RE = re.compile(r"(USART|LPUART|UART)([0-9]{1,2})")


# --------------------------------------------------------------------------------------------------
# The board model


@dataclass(frozen=True)
class Sector:
    start: int
    size: int

    @property
    def end(self) -> int:
        return self.start + self.size


@dataclass(frozen=True)
class Flash:
    base: int
    size: int
    write_size: int
    erased_value: int
    sectors: tuple[Sector, ...]  # ascending, contiguous from base to base + size
    bank2_base: int | None = None  # first address of bank 2 where sectors are numbered per bank

    @property
    def end(self) -> int:
        return self.base + self.size

    @cached_property
    def _starts(self) -> tuple[int, ...]:
        return tuple(s.start for s in self.sectors)

    def contains(self, addr: int) -> bool:
        return self.base <= addr < self.end

    def sector_at(self, addr: int) -> Sector | None:
        """The erase sector containing addr, or None outside internal flash."""
        if not self.contains(addr):
            return None
        return self.sectors[bisect.bisect_right(self._starts, addr) - 1]

    def is_sector_start(self, addr: int) -> bool:
        sector = self.sector_at(addr)
        return sector is not None and sector.start == addr

    def sectors_in(self, start: int, size: int) -> tuple[Sector, ...]:
        """Every sector overlapping [start, start + size)."""
        if size <= 0:
            return ()
        first = max(bisect.bisect_right(self._starts, start) - 1, 0)
        last = bisect.bisect_left(self._starts, start + size)
        return tuple(s for s in self.sectors[first:last] if s.end > start and s.start < start + size)

    @property
    def sector_groups(self) -> tuple[tuple[int, int, int], ...]:
        """Run-length form of the sectors: ((start, size, count), ...), ascending."""
        groups: list[tuple[int, int, int]] = []
        for s in self.sectors:
            if groups and groups[-1][1] == s.size:
                start, size, count = groups[-1]
                groups[-1] = (start, size, count + 1)
            else:
                groups.append((s.start, s.size, 1))
        return tuple(groups)


@dataclass(frozen=True)
class Ram:
    base: int
    size: int

    @property
    def end(self) -> int:
        return self.base + self.size


@dataclass(frozen=True)
class BootRegion:
    size: int
    ram_reserved: int
    base: int  # always flash.base
    journal_size: int = 0  # the last erase unit of the region: the install journal (docs/update-state.md)
    #: an erase unit of internal flash outside the region holding the journal (bootloader.journal), where the
    #: region is a single erase unit (DISCO-H745I: one 128 KiB sector); None: the region's last unit
    journal_base: int | None = None

    @property
    def end(self) -> int:
        return self.base + self.size

    @property
    def journal_address(self) -> int:
        return self.journal_base if self.journal_base is not None else self.end - self.journal_size

    @property
    def code_size(self) -> int:
        """Flash the bootloader's code and data may use: the region less its journal unit."""
        return self.size if self.journal_base is not None else self.size - self.journal_size


@dataclass(frozen=True)
class Segment:
    address: int
    size: int

    @property
    def end(self) -> int:
        return self.address + self.size


@dataclass(frozen=True)
class Slot:
    address: int
    size: int
    external: Segment | None = None  # MultiSegment: second part in external flash

    @property
    def end(self) -> int:
        return self.address + self.size

    @property
    def total_size(self) -> int:
        return self.size + (self.external.size if self.external else 0)


@dataclass(frozen=True)
class Clock:
    source: str
    sysclk_hz: int
    hse_hz: int | None = None
    hse_bypass: bool = False


@dataclass(frozen=True)
class Uart:
    instance: str
    tx_pin: str | None
    tx_af: int | None
    rx_pin: str | None
    rx_af: int | None
    baud: int

    def _parts(self) -> re.Match[str]:
        match = _UART_RE.fullmatch(self.instance)
        if match is None:  # the loader only accepts names like USART2 (see _uart)
            raise ValueError(f"{self.instance!r} is not a UART instance name")
        return match

    @property
    def kind(self) -> str:
        return self._parts().group(1)

    @property
    def number(self) -> int:
        return int(self._parts().group(2))

    @property
    def has_pins(self) -> bool:
        return self.tx_pin is not None


@dataclass(frozen=True)
class Button:
    pin: str
    active: str  # "low" or "high"


@dataclass(frozen=True)
class ExtPin:
    signal: str  # clk, ncs, io0..io7, dqs
    pin: str  # "PI6"
    af: int


@dataclass(frozen=True)
class ExternalFlash:
    base: int
    size: int
    sector_size: int
    write_size: int
    kind: str
    chip: str
    # OSPI driver data (kind = "ospi"; all absent when the board only declares the memory)
    instance: str | None = None  # "OCTOSPI1"
    port: int | None = None  # OCTOSPIM port the chip is wired to
    clock_divider: int = 2  # kernel clock (SYSCLK) / divider = flash clock
    pins: tuple[ExtPin, ...] = ()  # in OSPI_PINS_REQUIRED + OSPI_PINS_OPTIONAL order

    @property
    def has_driver(self) -> bool:
        return self.instance is not None

    @property
    def chip_info(self) -> OspiChip | None:
        return (QSPI_CHIPS if self.kind == "qspi" else OSPI_CHIPS).get(self.chip)

    @property
    def end(self) -> int:
        return self.base + self.size

    def contains(self, addr: int) -> bool:
        return self.base <= addr < self.end


@dataclass(frozen=True)
class Debug:
    """`[debug]`: how `spb flash` / `scons flash` / `scons run` reach the board (docs/flashing.md)."""

    pyocd: str | None = None  # pyOCD target type ("stm32l452retx")
    openocd: tuple[str, ...] = ()  # OpenOCD configuration files, each given with -f
    stflash: str | None = None  # first st-flash release that knows the part ("1.7.0")
    gdb: str | None = None  # host:port of a GDB stub the image is loaded through (the emulator)
    qemu: str | None = None  # QEMU machine (`scons run`)
    boot_alias: int | None = None  # the emulator fetches its reset vectors here: the bootloader's go there too
    external: tuple[str, ...] = ()  # tools whose configuration above also programs external flash


@dataclass(frozen=True)
class Trial:
    """`[trial]`: trial boot with automatic revert (docs/trial-boot.md). The install exchanges the slots one
    swap unit at a time through two scratch units at `area`, recording each step in the status area after
    them, so SLOT1 keeps the image an update replaced; a new image must confirm itself within `boots`
    starts or the bootloader exchanges the slots back."""

    area: int  # scratch (2 units), then the status area
    unit: int  # swap unit: whole erase units of SLOT0, SLOT1 and the area
    boots: int  # starts in trial without SE_APP_Confirm() before the previous image returns
    status_size: int  # whole erase units

    #: the status area's fixed part (descriptor) and record size: bootloader/src/swap.c
    DESCRIPTOR = 272
    RECORD = 8

    @property
    def scratch(self) -> int:
        return self.area

    @property
    def status(self) -> int:
        return self.area + 2 * self.unit

    @property
    def end(self) -> int:
        return self.status + self.status_size

    @staticmethod
    def status_bytes(slot_size: int, unit: int, boots: int) -> int:
        """Bytes the status area needs: the descriptor, three records per unit of the largest image, one per
        trial start, and a few more (SWAPPED, CONFIRM, ROLLBACK, torn records)."""
        return Trial.DESCRIPTOR + Trial.RECORD * (3 * (slot_size // unit) + boots + 8)


@dataclass(frozen=True)
class Board:
    name: str
    family: str
    cpu: str
    fpu: str | None
    vector_size: int
    flash: Flash
    ram: Ram
    bootloader: BootRegion
    slot0: Slot
    slot1: Slot | None
    clock: Clock
    uart: Uart
    button: Button | None
    external_flash: ExternalFlash | None
    path: Path = field(compare=False)
    mcu: str | None = None  # part number (STM32L452RE): picks the silicon model and the debug target
    debug: Debug | None = None  # [debug]: programming and running (spb flash, scons flash / run)
    trial: Trial | None = None  # [trial]: install by exchange, trial boot and revert (docs/trial-boot.md)

    # ---- geometry helpers
    def sector_at(self, addr: int) -> Sector | None:
        return self.flash.sector_at(addr)

    def sectors_in(self, start: int, size: int) -> tuple[Sector, ...]:
        return self.flash.sectors_in(start, size)

    def is_sector_start(self, addr: int) -> bool:
        return self.flash.is_sector_start(addr)

    @property
    def single_slot(self) -> bool:
        return self.slot1 is None

    @property
    def app_ram_base(self) -> int:
        return self.ram.base + self.bootloader.ram_reserved

    @property
    def app_ram_size(self) -> int:
        return self.ram.size - self.bootloader.ram_reserved

    @property
    def app_vector_address(self) -> int:
        return self.slot0.address + self.vector_size

    # ---- compiler flags
    def flags(self) -> list[str]:
        """gcc CPU flags for the application (hardware floating point when the board has an FPU)."""
        if self.fpu:
            return [f"-mcpu={self.cpu}", "-mthumb", f"-mfpu={self.fpu}", "-mfloat-abi=hard"]
        return [f"-mcpu={self.cpu}", "-mthumb", "-mfloat-abi=soft"]

    def boot_flags(self) -> list[str]:
        """gcc CPU flags for the bootloader: same CPU, no floating point."""
        return [f"-mcpu={self.cpu}", "-mthumb", "-mfloat-abi=soft"]

    # ---- serialisation
    def to_dict(self) -> dict[str, object]:
        """Plain data (ints, strings, lists, None); sectors in run-length groups. The path is left out."""

        def slot(s: Slot | None) -> dict[str, object] | None:
            if s is None:
                return None
            ext = None if s.external is None else {"address": s.external.address, "size": s.external.size}
            return {"address": s.address, "size": s.size, "external": ext}

        f, u = self.flash, self.uart
        return {
            "name": self.name,
            "family": self.family,
            "mcu": self.mcu,
            "cpu": self.cpu,
            "fpu": self.fpu,
            "vector_size": self.vector_size,
            "flash": {
                "base": f.base,
                "size": f.size,
                "write_size": f.write_size,
                "erased_value": f.erased_value,
                "bank2_base": f.bank2_base,
                "sectors": [{"start": a, "size": s, "count": c} for a, s, c in f.sector_groups],
            },
            "ram": {"base": self.ram.base, "size": self.ram.size},
            "bootloader": {
                "base": self.bootloader.base,
                "size": self.bootloader.size,
                "journal_size": self.bootloader.journal_size,
                "journal_address": self.bootloader.journal_address,
                "ram_reserved": self.bootloader.ram_reserved,
            },
            "slot0": slot(self.slot0),
            "slot1": slot(self.slot1),
            "clock": {
                "source": self.clock.source,
                "sysclk_hz": self.clock.sysclk_hz,
                "hse_hz": self.clock.hse_hz,
                "hse_bypass": self.clock.hse_bypass,
            },
            "uart": {
                "instance": u.instance,
                "tx_pin": u.tx_pin,
                "tx_af": u.tx_af,
                "rx_pin": u.rx_pin,
                "rx_af": u.rx_af,
                "baud": u.baud,
            },
            "button": None if self.button is None else {"pin": self.button.pin, "active": self.button.active},
            "trial": None
            if self.trial is None
            else {
                "area": self.trial.area,
                "unit": self.trial.unit,
                "boots": self.trial.boots,
                "status_size": self.trial.status_size,
            },
            "external_flash": None
            if self.external_flash is None
            else {
                "base": self.external_flash.base,
                "size": self.external_flash.size,
                "sector_size": self.external_flash.sector_size,
                "write_size": self.external_flash.write_size,
                "kind": self.external_flash.kind,
                "chip": self.external_flash.chip,
                "instance": self.external_flash.instance,
                "port": self.external_flash.port,
                "clock_divider": self.external_flash.clock_divider,
                "pins": [{"signal": p.signal, "pin": p.pin, "af": p.af} for p in self.external_flash.pins],
            },
        }

    def digest(self) -> str:
        """SHA-256 (hex) of the board's content, stable across runs and checkouts (for SCons Value nodes)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------------------------------
# Finding board files


def list_boards(boards_dir: StrPath) -> list[str]:
    """Names of the board files (NAME.toml) in boards_dir, sorted."""
    directory = Path(boards_dir)
    if not directory.is_dir():
        raise SpbError(directory, "boards directory not found")
    names = sorted(p.stem for p in directory.glob("*.toml") if p.is_file())
    seen: dict[str, str] = {}
    for name in names:
        other = seen.setdefault(name.lower(), name)
        if other != name:
            raise SpbError(directory, f"board names {other!r} and {name!r} differ only in case")
    return names


def find_board(name: str, boards_dir: StrPath) -> Path:
    """The file of board `name` in boards_dir (exact name, else a unique case-insensitive match)."""
    directory = Path(boards_dir)
    names = list_boards(directory)
    if name in names:
        return directory / f"{name}.toml"
    folded = [n for n in names if n.lower() == name.lower()]
    if len(folded) == 1:
        return directory / f"{folded[0]}.toml"
    available = ", ".join(names) if names else "(none)"
    raise SpbError(directory, f"unknown board {name!r}; available boards: {available}")


# --------------------------------------------------------------------------------------------------
# Loading and validation


def _h(value: int) -> str:
    return f"0x{value:08X}"


def _range(start: int, end: int) -> str:
    return f"[{_h(start)}, {_h(end)})"


#: A TOML table as tomllib parses it; values are checked (and narrowed) one by one by _Checker.
Table = dict[str, object]


class _Checker:
    """Typed access to the parsed TOML with one SpbError(path, "key: problem") per problem."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> NoReturn:
        raise SpbError(self.path, f"{key}: {problem}" if key else problem)

    def keys(self, table: Table, prefix: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
        allowed = tuple(required) + tuple(optional)
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f" (allowed: {', '.join(allowed)})"
                self.fail(prefix + key, f"unknown key{hint}")
        for key in required:
            if key not in table:
                self.fail(prefix + key, "missing (required key)")

    @overload
    def table(self, data: Table, key: str, prefix: str = "", required: Literal[True] = True) -> Table: ...

    @overload
    def table(self, data: Table, key: str, prefix: str = "", *, required: bool) -> Table | None: ...

    def table(self, data: Table, key: str, prefix: str = "", required: bool = True) -> Table | None:
        if key not in data:
            if required:
                self.fail(prefix + key, "missing (required table)")
            return None
        value: object = data[key]
        if not isinstance(value, dict):
            self.fail(prefix + key, f"must be a table, not {_type_name(value)}")
        return value

    def integer(self, table: Table, key: str, prefix: str, minimum: int = 0, maximum: int = U32_END - 1) -> int:
        value: object = table[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(prefix + key, f"must be an integer, not {_type_name(value)}")
        if not minimum <= value <= maximum:
            self.fail(prefix + key, f"{value:#x} is out of range [{minimum:#x}, {maximum:#x}]")
        return value

    def string(self, table: Table, key: str, prefix: str) -> str:
        value: object = table[key]
        if not isinstance(value, str):
            self.fail(prefix + key, f"must be a string, not {_type_name(value)}")
        return value

    def boolean(self, table: Table, key: str, prefix: str) -> bool:
        value: object = table[key]
        if not isinstance(value, bool):
            self.fail(prefix + key, f"must be true or false, not {_type_name(value)}")
        return value

    def choice(self, table: Table, key: str, prefix: str, choices: tuple[str, ...], what: str) -> str:
        value = self.string(table, key, prefix)
        if value not in choices:
            self.fail(prefix + key, f"unknown {what} {value!r} (allowed: {', '.join(choices)})")
        return value


def _type_name(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _is_pow2(value: int) -> bool:
    return value > 0 and value & (value - 1) == 0


def _sector(flash: Flash, addr: int) -> Sector:
    """The sector containing addr, which the checks made before the call place inside internal flash."""
    sector = flash.sector_at(addr)
    assert sector is not None, f"{_h(addr)} is outside internal flash"
    return sector


def load_board(path: StrPath) -> Board:
    """Read and validate a board file."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise SpbError(path, "board file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SpbError(path, f"cannot read board file: {error}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpbError(path, f"invalid TOML: {error}") from None
    return _build(_Checker(path), path, data)


def _build(c: _Checker, path: Path, data: Table) -> Board:
    c.keys(
        data,
        "",
        ("name", "family", "cpu", "vector_size"),
        ("mcu", "fpu", "flash", "ram", "bootloader", "slot0", "slot1", "clock", "uart", "button", "external_flash")
        + ("debug", "trial"),
    )

    # ---- identity
    name = c.string(data, "name", "")
    if not _NAME_RE.fullmatch(name):
        c.fail("name", f"{name!r} is not a valid board name (letters, digits, '.', '_', '-')")
    if name != path.stem:
        c.fail(
            "name",
            f"board name {name!r} does not match the file name: {path.name} must contain "
            f'name = "{path.stem}" (or rename the file to {name}.toml)',
        )
    family_name = c.choice(data, "family", "", tuple(FAMILIES), "family")
    family = FAMILIES[family_name]
    mcu = None
    if "mcu" in data:
        mcu = c.string(data, "mcu", "")
        prefix = MCU_PREFIXES.get(family_name)
        if not _MCU_RE.fullmatch(mcu):
            c.fail("mcu", f"{mcu!r} is not a part number (e.g. STM32L452RE)")
        elif prefix is not None and not mcu.upper().startswith(prefix):
            c.fail("mcu", f"{mcu} is not a {family_name} part (its number starts with {prefix})")
    cpu = c.string(data, "cpu", "")
    if cpu not in CPU_FPUS:
        c.fail("cpu", f"unknown cpu {cpu!r} (known: {', '.join(CPU_FPUS)})")
    if cpu not in family.cpus:
        c.fail("cpu", f"cpu {cpu!r} does not belong to family {family_name} (allowed: {', '.join(family.cpus)})")
    fpu = None
    if "fpu" in data:
        fpu = c.string(data, "fpu", "")
        if fpu not in CPU_FPUS[cpu]:
            allowed = ", ".join(CPU_FPUS[cpu]) if CPU_FPUS[cpu] else "none: omit the key"
            c.fail("fpu", f"fpu {fpu!r} is not available on {cpu} (allowed: {allowed})")
    vector_size = c.integer(data, "vector_size", "")
    if not _is_pow2(vector_size) or vector_size < MIN_VECTOR_SIZE:
        c.fail("vector_size", f"{vector_size:#x} must be a power of two >= {MIN_VECTOR_SIZE:#x}")
    if vector_size < family.vector_bytes:
        c.fail(
            "vector_size",
            f"{vector_size:#x} is smaller than the {family_name} vector table ({family.vector_bytes:#x} bytes)",
        )

    # ---- tables (structure first, so a typo is reported before any value check)
    t_flash = c.table(data, "flash")
    t_ram = c.table(data, "ram")
    t_boot = c.table(data, "bootloader")
    t_slot0 = c.table(data, "slot0")
    t_slot1 = c.table(data, "slot1", required=False)
    t_clock = c.table(data, "clock")
    t_uart = c.table(data, "uart")
    t_button = c.table(data, "button", required=False)
    t_ext = c.table(data, "external_flash", required=False)

    flash = _flash(c, t_flash)
    ram = _ram(c, t_ram)
    if flash.base < ram.end and ram.base < flash.end:
        c.fail("ram.base", f"RAM {_range(ram.base, ram.end)} overlaps flash {_range(flash.base, flash.end)}")
    ext = _external_flash(c, t_ext, flash, ram, family_name) if t_ext is not None else None

    # ---- bootloader
    c.keys(t_boot, "bootloader.", ("size", "ram_reserved"), ("journal",))
    boot_size = c.integer(t_boot, "size", "bootloader.", minimum=1)
    boot = BootRegion(boot_size, c.integer(t_boot, "ram_reserved", "bootloader."), flash.base)
    if boot.end > flash.end:
        c.fail(
            "bootloader.size", f"bootloader {_range(boot.base, boot.end)} runs past the end of flash at {_h(flash.end)}"
        )
    if boot.end != flash.end and not flash.is_sector_start(boot.end):
        c.fail(
            "bootloader.size",
            f"bootloader ends at {_h(boot.end)}, inside the erase sector at "
            f"{_h(_sector(flash, boot.end).start)}: it must end on a sector boundary",
        )
    if boot.size <= vector_size:
        c.fail("bootloader.size", f"{boot.size:#x} leaves no room after the vector area (vector_size {vector_size:#x})")
    if "journal" in t_boot:
        at = c.integer(t_boot, "journal", "bootloader.")
        unit = flash.sector_at(at)
        if unit is None or unit.start != at or boot.base <= at < boot.end:
            c.fail("bootloader.journal", f"{_h(at)} must start an internal flash sector outside the bootloader")
        if _sector(flash, boot.end - 1).start > boot.base + vector_size:
            c.fail("bootloader.journal", "only for a bootloader of one erase unit (else its last unit is the journal)")
        boot = dataclasses.replace(boot, journal_size=unit.size, journal_base=at)
    elif boot.end <= flash.end and flash.sector_at(boot.end - 1) is not None:
        journal = _sector(flash, boot.end - 1)
        boot = dataclasses.replace(boot, journal_size=journal.size)
        if journal.start <= boot.base + vector_size:
            c.fail(
                "bootloader.size",
                f"{boot.size:#x} is a single erase unit: the bootloader needs one for its code and its last one "
                f"({_h(journal.start)}, {journal.size:#x} bytes) for the install journal (or bootloader.journal)",
            )
    if boot.ram_reserved % 8:
        c.fail("bootloader.ram_reserved", f"{boot.ram_reserved:#x} must be a multiple of 8")
    if boot.ram_reserved == 0 or boot.ram_reserved >= ram.size:
        c.fail(
            "bootloader.ram_reserved",
            f"{boot.ram_reserved:#x} must be > 0 and smaller than RAM (ram.size {ram.size:#x})",
        )

    # ---- slots
    slot0 = _slot(c, t_slot0, "slot0", flash, ext, vector_size)
    slot1 = _slot(c, t_slot1, "slot1", flash, ext, vector_size) if t_slot1 is not None else None
    if not flash.contains(slot0.address):
        c.fail(
            "slot0.address",
            f"SLOT0 must start in internal flash {_range(flash.base, flash.end)} "
            f"(the application runs from it); use slot0.external for a part in external flash",
        )
    if slot0.address % vector_size:
        c.fail(
            "slot0.address",
            f"{_h(slot0.address)} must be a multiple of vector_size ({vector_size:#x}) so "
            f"the application vector table at SLOT0 + vector_size is aligned",
        )
    if slot0.size <= vector_size:
        c.fail("slot0.size", f"{slot0.size:#x} leaves no room after the vector area (vector_size {vector_size:#x})")
    regions = [
        ("bootloader", "bootloader.size", boot.base, boot.end),
        ("SLOT0", "slot0.address", slot0.address, slot0.end),
    ]
    if boot.journal_base is not None:
        journal_end = boot.journal_address + boot.journal_size
        regions.append(("install journal", "bootloader.journal", boot.journal_address, journal_end))
    if slot0.external:
        regions.append(("SLOT0 external segment", "slot0.external.address", slot0.external.address, slot0.external.end))
    if slot1 is not None:
        regions.append(("SLOT1", "slot1.address", slot1.address, slot1.end))
        if slot1.external:
            regions.append(
                ("SLOT1 external segment", "slot1.external.address", slot1.external.address, slot1.external.end)
            )
    for i, (what, key, start, end) in enumerate(regions):
        for other, _k, o_start, o_end in regions[:i]:
            if start < o_end and o_start < end:
                c.fail(key, f"{what} {_range(start, end)} overlaps {other} {_range(o_start, o_end)}")
    for what, key, start, end in regions[1:]:
        if ram.base < end and start < ram.end:
            c.fail(key, f"{what} {_range(start, end)} overlaps RAM {_range(ram.base, ram.end)}")
    for slot_name, slot in (("slot0", slot0), ("slot1", slot1)):
        if slot is not None:
            _check_alignment(c, slot_name, slot, flash, ext)
    if slot1 is not None and slot1.total_size < slot0.total_size:
        c.fail(
            "slot1.size",
            f"SLOT1 ({slot1.total_size:#x} bytes) is smaller than SLOT0 "
            f"({slot0.total_size:#x} bytes): a full image would not fit",
        )

    trial = _trial(c, c.table(data, "trial"), flash, vector_size, slot0, slot1, regions) if "trial" in data else None

    clock = _clock(c, t_clock, family)
    uart = _uart(c, t_uart, family)
    button = _button(c, t_button) if t_button is not None else None
    if ext is not None and ext.has_driver:
        _check_ospi_board(c, ext, clock, uart, button, family_name)
    return Board(
        name=name,
        family=family_name,
        cpu=cpu,
        fpu=fpu,
        vector_size=vector_size,
        flash=flash,
        ram=ram,
        bootloader=boot,
        slot0=slot0,
        slot1=slot1,
        clock=clock,
        uart=uart,
        button=button,
        external_flash=ext,
        path=path,
        mcu=mcu,
        debug=_debug(c, c.table(data, "debug")) if "debug" in data else None,
        trial=trial,
    )


def _trial(
    c: _Checker,
    t: Table,
    flash: Flash,
    vector_size: int,
    slot0: Slot,
    slot1: Slot | None,
    regions: list[tuple[str, str, int, int]],
) -> Trial:
    c.keys(t, "trial.", ("area",), ("boots", "unit"))
    if slot1 is None or slot1.external is not None or not flash.contains(slot1.address):
        c.fail("trial", "trial boot exchanges the slots: SLOT1 must be in internal flash")
    if slot0.external is not None:
        c.fail("trial", "trial boot does not support a MultiSegment SLOT0 (slot0.external)")
    if flash.write_size > Trial.RECORD:
        c.fail("trial", f"trial boot records are {Trial.RECORD} bytes: flash.write_size {flash.write_size} is larger")
    area = c.integer(t, "area", "trial.")
    boots = c.integer(t, "boots", "trial.", minimum=1, maximum=255) if "boots" in t else 3
    pages = {s.size for s in flash.sectors_in(slot0.address, slot0.size) + flash.sectors_in(slot1.address, slot1.size)}
    if len(pages) != 1:
        c.fail("trial", "trial boot needs erase units of one size in SLOT0 and SLOT1")
    page = pages.pop()
    unit = c.integer(t, "unit", "trial.", minimum=1) if "unit" in t else max(page, 0x800)
    if unit % page or unit % 256 or unit < vector_size:
        c.fail(
            "trial.unit",
            f"{unit:#x} must be a multiple of the erase unit ({page:#x}) and of 256, and at least vector_size",
        )
    for name, slot in (("slot0", slot0), ("slot1", slot1)):
        if slot.size % unit:
            c.fail("trial.unit", f"{name}.size {slot.size:#x} is not a whole number of swap units ({unit:#x})")
    status = Trial.status_bytes(slot0.size, unit, boots)
    status = -(-status // page) * page
    trial = Trial(area, unit, boots, status)
    if not flash.contains(area) or not flash.contains(trial.end - 1):
        c.fail(
            "trial.area",
            f"{_range(area, trial.end)} (2 swap units of scratch and the status area) must be in internal flash",
        )
    if {s.size for s in flash.sectors_in(area, trial.end - area)} != {page} or not flash.is_sector_start(area):
        c.fail("trial.area", f"{_h(area)} must start an erase unit, in erase units of {page:#x} bytes like the slots")
    for what, _key, start, end in regions:
        if area < end and start < trial.end:
            c.fail("trial.area", f"swap area {_range(area, trial.end)} overlaps {what} {_range(start, end)}")
    return trial


def _flash(c: _Checker, t: Table) -> Flash:
    p = "flash."
    c.keys(t, p, ("base", "size", "write_size", "erased_value", "sectors"), ("bank2_base",))
    base = c.integer(t, "base", p)
    size = c.integer(t, "size", p, minimum=1)
    if base + size > U32_END:
        c.fail("flash.size", f"flash {_h(base)} + {size:#x} runs past the 32-bit address space")
    write_size = c.integer(t, "write_size", p)
    if write_size not in FLASH_WRITE_SIZES:
        c.fail(
            "flash.write_size",
            f"{write_size} is not a supported programming unit (allowed: {', '.join(map(str, FLASH_WRITE_SIZES))})",
        )
    erased = c.integer(t, "erased_value", p)
    if erased not in ERASED_VALUES:
        c.fail("flash.erased_value", f"{erased:#x} must be 0xFF or 0x00")
    groups = t["sectors"]
    if not isinstance(groups, list) or not groups:
        c.fail("flash.sectors", "must be a non-empty array of { size = ..., count = ... } tables")
    sectors: list[Sector] = []
    addr = base
    for i, group in enumerate(groups):
        gp = f"flash.sectors[{i}]"
        if not isinstance(group, dict):
            c.fail(gp, f"must be a table {{ size = ..., count = ... }}, not {_type_name(group)}")
        c.keys(group, gp + ".", ("size", "count"))
        sector_size = c.integer(group, "size", gp + ".", minimum=1)
        count = c.integer(group, "count", gp + ".", minimum=1)
        if sector_size % write_size:
            c.fail(gp + ".size", f"{sector_size:#x} is not a multiple of flash.write_size ({write_size})")
        for _ in range(count):
            sectors.append(Sector(addr, sector_size))
            addr += sector_size
    if addr - base != size:
        c.fail("flash.sectors", f"sectors add up to {addr - base:#x} bytes but flash.size is {size:#x}")
    flash = Flash(base, size, write_size, erased, tuple(sectors))
    if "bank2_base" in t:
        bank2 = c.integer(t, "bank2_base", p)
        if not (base < bank2 < flash.end) or not flash.is_sector_start(bank2):
            c.fail("flash.bank2_base", f"{_h(bank2)} must be the start of a sector inside flash, after its base")
        flash = Flash(base, size, write_size, erased, tuple(sectors), bank2)
    return flash


def _ram(c: _Checker, t: Table) -> Ram:
    c.keys(t, "ram.", ("base", "size"))
    ram = Ram(c.integer(t, "base", "ram."), c.integer(t, "size", "ram.", minimum=8))
    if ram.base % 8:
        c.fail("ram.base", f"{_h(ram.base)} must be a multiple of 8")
    if ram.size % 8:
        c.fail("ram.size", f"{ram.size:#x} must be a multiple of 8")
    if ram.end > U32_END:
        c.fail("ram.size", f"RAM {_h(ram.base)} + {ram.size:#x} runs past the 32-bit address space")
    return ram


def _external_flash(c: _Checker, t: Table, flash: Flash, ram: Ram, family: str) -> ExternalFlash:
    p = "external_flash."
    driver_keys = ("instance", "port", "clock_divider", "pins")
    c.keys(t, p, ("base", "size", "sector_size", "write_size", "kind", "chip"), driver_keys)
    ext = ExternalFlash(
        c.integer(t, "base", p),
        c.integer(t, "size", p, minimum=1),
        c.integer(t, "sector_size", p, minimum=1),
        c.integer(t, "write_size", p),
        c.choice(t, "kind", p, EXT_FLASH_KINDS, "external flash kind"),
        c.string(t, "chip", p),
    )
    if ext.end > U32_END:
        c.fail(p + "size", f"external flash {_h(ext.base)} + {ext.size:#x} runs past the 32-bit address space")
    if not _is_pow2(ext.sector_size):
        c.fail(p + "sector_size", f"{ext.sector_size:#x} must be a power of two")
    if ext.size % ext.sector_size or ext.base % ext.sector_size:
        c.fail(p + "size", f"base and size must be multiples of sector_size ({ext.sector_size:#x})")
    if ext.write_size not in EXT_FLASH_WRITE_SIZES:
        c.fail(p + "write_size", f"{ext.write_size} must be a power of two from 1 to 256")
    if not _CHIP_RE.fullmatch(ext.chip):
        c.fail(p + "chip", f"{ext.chip!r} must name the flash chip (letters, digits, ' ', '.', '_', '-', '/', '+')")
    for what, start, end in (("internal flash", flash.base, flash.end), ("RAM", ram.base, ram.end)):
        if start < ext.end and ext.base < end:
            c.fail(p + "base", f"external flash {_range(ext.base, ext.end)} overlaps {what} {_range(start, end)}")
    given = [k for k in driver_keys if k in t]
    if not given:
        return ext
    if ext.kind == "qspi":
        return _qspi(c, t, ext, family)
    if ext.kind != "ospi":
        c.fail(p + given[0], f'only with kind = "ospi" or "qspi" (a driver\'s data; kind is {ext.kind!r})')
    return _ospi(c, t, ext, family)


def _qspi(c: _Checker, t: Table, ext: ExternalFlash, family: str) -> ExternalFlash:
    """The QUADSPI driver's data: controller, pins (bank 1), clock divider (docs/boards.md)."""
    p = "external_flash."
    if "port" in t:
        c.fail(p + "port", 'only with kind = "ospi" (an OCTOSPIM port; the QUADSPI has none)')
    for key in ("instance", "pins"):
        if key not in t:
            c.fail(p + key, "missing: instance and pins describe the QUADSPI wiring together")
    if family not in QSPI_FAMILIES:
        c.fail(p + "instance", f"the QUADSPI driver exists for families {', '.join(QSPI_FAMILIES)} only, not {family}")
    chip = QSPI_CHIPS.get(ext.chip)
    if chip is None:
        c.fail(p + "chip", f"no QSPI driver support for {ext.chip!r} (supported: {', '.join(QSPI_CHIPS)})")
    instance = c.choice(t, "instance", p, tuple(QSPI_INSTANCES), "QUADSPI instance")
    divider = c.integer(t, "clock_divider", p, minimum=1, maximum=256) if "clock_divider" in t else 2
    if ext.base != QSPI_INSTANCES[instance]:
        c.fail(
            p + "base", f"{_h(ext.base)} is not the memory-mapped window of {instance} ({_h(QSPI_INSTANCES[instance])})"
        )
    if ext.size > chip.size:
        c.fail(p + "size", f"{ext.size:#x} is larger than the {ext.chip} ({chip.size:#x} bytes)")
    units = dict(chip.erase_ms)
    if ext.sector_size not in units:
        allowed = " or ".join(f"{u:#x}" for u in units)
        c.fail(p + "sector_size", f"{ext.sector_size:#x}: the QSPI driver erases {allowed} units of the {ext.chip}")
    pins = _driver_pins(c, t, QSPI_PINS_REQUIRED + (QSPI_PINS_BK2 if chip.dies > 1 else ()), ("bk2_ncs",))
    if chip.dies > 1 and ext.write_size % chip.dies:
        c.fail(p + "write_size", f"{ext.write_size}: dual-flash mode programs even addresses and lengths (2)")
    return ExternalFlash(
        ext.base, ext.size, ext.sector_size, ext.write_size, ext.kind, ext.chip, instance, None, divider, pins
    )


def _ospi(c: _Checker, t: Table, ext: ExternalFlash, family: str) -> ExternalFlash:
    """The OCTOSPI driver's data: controller, I/O manager port, pins, clock divider (docs/boards.md)."""
    p = "external_flash."
    for key in ("instance", "port", "pins"):
        if key not in t:
            c.fail(p + key, "missing: instance, port and pins describe the OCTOSPI wiring together")
    if family != "stm32l4":
        c.fail(p + "instance", f"the OCTOSPI driver exists for family stm32l4 (STM32L4+) only, not {family}")
    chip = OSPI_CHIPS.get(ext.chip)
    if chip is None:
        c.fail(p + "chip", f"no OSPI driver support for {ext.chip!r} (supported: {', '.join(OSPI_CHIPS)})")
    instance = c.choice(t, "instance", p, tuple(OSPI_INSTANCES), "OCTOSPI instance")
    port = c.integer(t, "port", p, minimum=1, maximum=2)
    divider = c.integer(t, "clock_divider", p, minimum=1, maximum=256) if "clock_divider" in t else 2
    if ext.base != OSPI_INSTANCES[instance]:
        c.fail(
            p + "base", f"{_h(ext.base)} is not the memory-mapped window of {instance} ({_h(OSPI_INSTANCES[instance])})"
        )
    if ext.size > chip.size:
        c.fail(p + "size", f"{ext.size:#x} is larger than the {ext.chip} ({chip.size:#x} bytes)")
    if ext.sector_size != 0x1000:
        c.fail(p + "sector_size", f"{ext.sector_size:#x}: the OSPI driver erases 4 KiB sectors (0x1000)")
    pins = _driver_pins(c, t, OSPI_PINS_REQUIRED, OSPI_PINS_OPTIONAL)
    return ExternalFlash(
        ext.base, ext.size, ext.sector_size, ext.write_size, ext.kind, ext.chip, instance, port, divider, pins
    )


def _driver_pins(c: _Checker, t: Table, required: tuple[str, ...], optional: tuple[str, ...]) -> tuple[ExtPin, ...]:
    """external_flash.pins: each signal's pin and alternate function, every pin used once."""
    p = "external_flash."
    table = t["pins"]
    if not isinstance(table, dict):
        c.fail(p + "pins", f"must be a table of signals ({', '.join(required)}, ...), not {_type_name(table)}")
    c.keys(table, p + "pins.", required, optional)
    pins: list[ExtPin] = []
    for sig in required + optional:
        if sig not in table:
            continue
        sub, sp = table[sig], f"{p}pins.{sig}."
        if not isinstance(sub, dict):
            c.fail(p + "pins." + sig, f'must be a table {{ pin = "PI6", af = 5 }}, not {_type_name(sub)}')
        c.keys(sub, sp, ("pin", "af"))
        pin = _pin(c, sub, "pin", sp)
        for other in pins:
            if other.pin == pin:
                c.fail(sp + "pin", f"{pin} is already external_flash.pins.{other.signal}")
        pins.append(ExtPin(sig, pin, c.integer(sub, "af", sp, maximum=15)))
    return tuple(pins)


def _check_ospi_board(
    c: _Checker, ext: ExternalFlash, clock: Clock, uart: Uart, button: Button | None, family: str
) -> None:
    p = "external_flash."
    chip = ext.chip_info
    assert chip is not None, "_ospi accepts known chips only"
    kernel_div = FAMILIES[family].xspi_kernel_div
    hz = clock.sysclk_hz / kernel_div / ext.clock_divider
    if hz > chip.max_hz:
        c.fail(
            p + "clock_divider",
            f"SYSCLK {clock.sysclk_hz} Hz{f' / {kernel_div}' if kernel_div > 1 else ''} / {ext.clock_divider} = "
            f"{hz:.0f} Hz is above "
            f"the {ext.chip} limit ({chip.max_hz} Hz)",
        )
    used: dict[str | None, str] = {uart.tx_pin: "uart.tx", uart.rx_pin: "uart.rx"}
    if button is not None:
        used[button.pin] = "button.pin"
    for pin in ext.pins:
        if pin.pin in used:
            c.fail(f"{p}pins.{pin.signal}.pin", f"{pin.pin} is already used by {used[pin.pin]}")


def _segment(c: _Checker, t: object, prefix: str) -> Segment:
    if not isinstance(t, dict):
        c.fail(prefix.rstrip("."), f"must be a table {{ address = ..., size = ... }}, not {_type_name(t)}")
    c.keys(t, prefix, ("address", "size"))
    return Segment(c.integer(t, "address", prefix), c.integer(t, "size", prefix, minimum=1))


def _slot(c: _Checker, t: Table, name: str, flash: Flash, ext: ExternalFlash | None, vector_size: int) -> Slot:
    p = name + "."
    c.keys(t, p, ("address", "size"), ("external",))
    slot = Slot(c.integer(t, "address", p), c.integer(t, "size", p, minimum=1))
    label = name.upper()
    if flash.contains(slot.address):
        if slot.end > flash.end:
            c.fail(
                p + "size", f"{label} {_range(slot.address, slot.end)} runs past the end of flash at {_h(flash.end)}"
            )
    elif ext is not None and ext.contains(slot.address):
        if slot.end > ext.end:
            c.fail(
                p + "size",
                f"{label} {_range(slot.address, slot.end)} runs past the end of external flash at {_h(ext.end)}",
            )
    else:
        where = f"flash {_range(flash.base, flash.end)}"
        if ext is not None:
            where += f" and external flash {_range(ext.base, ext.end)}"
        c.fail(p + "address", f"{label} at {_h(slot.address)} is outside {where}")
    if "external" in t:
        seg = _segment(c, t["external"], p + "external.")
        if ext is None:
            c.fail(p + "external", "an external segment needs an [external_flash] table")
        if not (ext.base <= seg.address and seg.end <= ext.end):
            c.fail(
                p + "external",
                f"segment {_range(seg.address, seg.end)} is outside external_flash {_range(ext.base, ext.end)}",
            )
        if not flash.contains(slot.address):
            c.fail(p + "external", "only a slot in internal flash can have an external segment")
        slot = Slot(slot.address, slot.size, seg)
    return slot


def _check_alignment(c: _Checker, name: str, slot: Slot, flash: Flash, ext: ExternalFlash | None) -> None:
    p, label = name + ".", name.upper()
    if flash.contains(slot.address):
        if not flash.is_sector_start(slot.address):
            sector = _sector(flash, slot.address)
            c.fail(
                p + "address",
                f"{label} starts at {_h(slot.address)}, inside the erase sector "
                f"{_range(sector.start, sector.end)}: a slot must start at a sector start",
            )
        if slot.end != flash.end and not flash.is_sector_start(slot.end):
            sector = _sector(flash, slot.end)
            c.fail(
                p + "size",
                f"{label} ends at {_h(slot.end)}, inside the erase sector "
                f"{_range(sector.start, sector.end)}: a slot must end at a sector end",
            )
    else:
        assert ext is not None, "_slot: a slot outside internal flash lies in external flash"
        if (slot.address - ext.base) % ext.sector_size:
            c.fail(
                p + "address",
                f"{label} starts at {_h(slot.address)}, not on an external flash sector "
                f"boundary ({ext.sector_size:#x})",
            )
        if slot.size % ext.sector_size:
            c.fail(
                p + "size",
                f"{label} size {slot.size:#x} is not a multiple of the external flash sector "
                f"size ({ext.sector_size:#x})",
            )
    if slot.external is not None:
        assert ext is not None, "_slot: an external segment needs external flash"
        seg = slot.external
        if (seg.address - ext.base) % ext.sector_size:
            c.fail(
                p + "external.address",
                f"segment start {_h(seg.address)} is not on an external flash sector boundary ({ext.sector_size:#x})",
            )
        if seg.size % ext.sector_size:
            c.fail(
                p + "external.size",
                f"segment size {seg.size:#x} is not a multiple of the external flash "
                f"sector size ({ext.sector_size:#x})",
            )


def _clock(c: _Checker, t: Table, family: Family) -> Clock:
    p = "clock."
    c.keys(t, p, ("source", "sysclk_hz"), ("hse_hz", "hse_bypass"))
    source = c.choice(t, "source", p, CLOCK_SOURCES, "clock source")
    if source not in family.clock_sources:
        c.fail(
            p + "source",
            f"clock source {source!r} is not supported on family {family.name} "
            f"(allowed: {', '.join(family.clock_sources)})",
        )
    sysclk = c.integer(t, "sysclk_hz", p, minimum=1)
    hse_hz: int | None = None
    bypass = False
    if source == "HSE":
        if "hse_hz" not in t:
            c.fail(p + "hse_hz", 'missing: required when source = "HSE" (crystal or bypass clock frequency)')
        hse_hz = c.integer(t, "hse_hz", p, minimum=1)
        if "hse_bypass" in t:
            bypass = c.boolean(t, "hse_bypass", p)
    else:
        for key in ("hse_hz", "hse_bypass"):
            if key in t:
                c.fail(p + key, f'only allowed with source = "HSE" (source is {source!r})')
    return Clock(source, sysclk, hse_hz, bypass)


def _pin(c: _Checker, t: Table, key: str, prefix: str) -> str:
    pin = c.string(t, key, prefix)
    if not _PIN_RE.fullmatch(pin):
        c.fail(prefix + key, f'{pin!r} is not a GPIO pin like "PA2" (port A..K, pin 0..15)')
    return pin


def _uart(c: _Checker, t: Table, family: Family) -> Uart:
    p = "uart."
    if family.uart_pins:
        c.keys(t, p, ("instance", "tx", "rx", "baud"))
    else:
        c.keys(t, p, ("instance", "baud"), ("tx", "rx"))
    instance = c.string(t, "instance", p)
    match = _UART_RE.fullmatch(instance)
    if not match:
        c.fail(p + "instance", f'{instance!r} is not a UART instance like "USART2", "LPUART1" or "UART4"')
    if match.group(1) not in family.uart_kinds:
        c.fail(
            p + "instance",
            f"{instance!r}: {match.group(1)} peripherals are not supported on family "
            f"{family.name} (allowed: {', '.join(family.uart_kinds)})",
        )
    if family.name.startswith("stm32") and int(match.group(2)) == 0:
        c.fail(p + "instance", f"{instance!r}: STM32 UART instances are numbered from 1")
    pins: dict[str, tuple[str | None, int | None]] = {}
    for key in ("tx", "rx"):
        if key not in t:
            pins[key] = (None, None)
            continue
        sub = t[key]
        sp = f"{p}{key}."
        if not isinstance(sub, dict):
            c.fail(p + key, f'must be a table {{ pin = "PA2", af = 7 }}, not {_type_name(sub)}')
        c.keys(sub, sp, ("pin", "af"))
        pins[key] = (_pin(c, sub, "pin", sp), c.integer(sub, "af", sp, maximum=15))
    if (pins["tx"][0] is None) != (pins["rx"][0] is None):
        c.fail(p + ("rx" if pins["rx"][0] is None else "tx"), "give both uart.tx and uart.rx, or neither")
    baud = c.integer(t, "baud", p, minimum=1)
    return Uart(instance, pins["tx"][0], pins["tx"][1], pins["rx"][0], pins["rx"][1], baud)


_DEBUG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/+-]*")  # target names, .cfg paths, machines
_VERSION_RE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+")
_HOST_PORT_RE = re.compile(r"[A-Za-z0-9.-]+:[0-9]{1,5}")


def _debug(c: _Checker, t: Table) -> Debug:
    p = "debug."
    tools = ("pyocd", "openocd", "stflash")
    c.keys(t, p, (), (*tools, "gdb", "qemu", "boot_alias", "external"))

    def word(key: str, rx: re.Pattern[str], what: str) -> str | None:
        if key not in t:
            return None
        value = c.string(t, key, p)
        if not rx.fullmatch(value):
            c.fail(p + key, f"{value!r} is not {what}")
        return value

    def words(key: str, choices: tuple[str, ...] | None) -> tuple[str, ...]:
        value = t.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and _DEBUG_RE.fullmatch(v) for v in value):
            c.fail(p + key, f"must be an array of names, not {value!r}")
        for v in value:
            if choices is not None and v not in choices:
                configured = ", ".join(choices) or "none"
                c.fail(p + key, f"{v!r} is not a tool configured in [debug] (configured: {configured})")
        return tuple(value)

    openocd = words("openocd", None)
    if "openocd" in t and not openocd:
        c.fail(p + "openocd", "give at least one configuration file (interface/stlink.cfg, target/stm32l4x.cfg)")
    debug = Debug(
        pyocd=word("pyocd", _DEBUG_RE, "a pyOCD target type like stm32l452retx"),
        openocd=openocd,
        stflash=word("stflash", _VERSION_RE, 'an st-flash version like "1.7.0"'),
        gdb=word("gdb", _HOST_PORT_RE, 'a GDB stub address like "localhost:1234"'),
        qemu=word("qemu", _DEBUG_RE, "a QEMU machine name like mps2-an385"),
        boot_alias=c.integer(t, "boot_alias", p) if "boot_alias" in t else None,
    )
    return dataclasses.replace(debug, external=words("external", tuple(k for k in tools if k in t)))


def _button(c: _Checker, t: Table) -> Button:
    p = "button."
    c.keys(t, p, ("pin", "active"))
    pin = _pin(c, t, "pin", p)
    return Button(pin, c.choice(t, "active", p, BUTTON_POLARITIES, "button polarity"))
