# SPDX-License-Identifier: Apache-2.0
"""Memory-mapped peripheral blocks: the base class every model derives from.

A model answers the bus accesses of one register block. `read`/`write` receive the offset inside the
block, the access size in bytes (1, 2 or 4, as the CPU issued it) and, for writes, the value. The
machine maps every block with Unicorn's `mmio_map`, so an access outside every modelled block is a bus
error (HardFault) just as an access to a non-existent peripheral is on silicon, and an access inside a
block to an offset the model does not know is reported as a violation: the models are strict on purpose,
because a wrong register offset in a port is the kind of bug they exist to find.

Violations are things the real chip would not report but that make the software wrong on silicon
(writing a register of a peripheral whose clock is off, touching an undefined register, using a
register while the peripheral forbids it). They are collected in `Machine.violations`; tests assert
that there are none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    from .machine import Machine


class Peripheral:
    """One register block at `base`, `size` bytes of address space (a multiple of 1 KiB: Unicorn's
    page size). Subclasses implement `read32`/`write32` for word-aligned registers and may override
    `read`/`write` when byte or half-word accesses mean something else (data registers)."""

    name = "peripheral"
    #: Access sizes the block accepts (bytes). The STM32 peripherals of these families are 32-bit
    #: registers on AHB/APB that accept byte and half-word accesses as well, so the default is all.
    sizes = (1, 2, 4)

    def __init__(self, base: int, size: int = 0x400, name: str | None = None):
        self.base = base
        self.size = size
        if name is not None:
            self.name = name
        self.machine: Machine | None = None
        #: A callable telling whether the bus clock of the block is on (RCC enable bit); None: always.
        self.clock_enabled: Callable[[], bool] | None = None

    # -- wiring --------------------------------------------------------------------------------------
    def attach(self, machine: Machine) -> None:
        self.machine = machine

    def reset(self) -> None:
        """System reset: registers to their reset values (flash cell contents are not registers)."""

    def power_on(self) -> None:
        """Power-on reset; by default the same as a system reset."""
        self.reset()

    # -- bus -----------------------------------------------------------------------------------------
    def bus_read(self, offset: int, size: int) -> int:
        if not self._clocked("read", offset):
            return 0
        return self.read(offset, size)

    def bus_write(self, offset: int, size: int, value: int) -> None:
        if not self._clocked("write", offset):
            return
        self.write(offset, size, value)

    def _clocked(self, what: str, offset: int) -> bool:
        if self.clock_enabled is None or self.clock_enabled():
            return True
        self.violation(
            f"{what} of {self.name}+{offset:#05x} while its bus clock is disabled "
            f"(RCC enable bit clear): ignored by the silicon"
        )
        return False

    def read(self, offset: int, size: int) -> int:
        word = self.read32(offset & ~3)
        shift = 8 * (offset & 3)
        return (word >> shift) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int) -> None:
        if size == 4:
            self.write32(offset, value)
            return
        # A narrow write to a 32-bit register: merge into the current value (AHB byte lanes).
        shift = 8 * (offset & 3)
        mask = ((1 << (8 * size)) - 1) << shift
        current = self.read32(offset & ~3)
        self.write32(offset & ~3, (current & ~mask) | ((value << shift) & mask))

    def read32(self, offset: int) -> int:
        self.undefined("read", offset)
        return 0

    def write32(self, offset: int, value: int) -> None:
        self.undefined("write", offset)

    # -- reporting ------------------------------------------------------------------------------------
    def undefined(self, what: str, offset: int) -> None:
        self.violation(f"{what} of undefined/unmodelled register {self.name}+{offset:#05x}")

    def violation(self, text: str) -> None:
        if self.machine is not None:
            self.machine.violation(f"{self.name}: {text}")
        else:  # pragma: no cover - models used stand-alone in unit tests
            raise AssertionError(text)

    def log(self, text: str) -> None:
        if self.machine is not None:
            self.machine.event(f"{self.name}: {text}")


class Registers(Peripheral):
    """A block of plain 32-bit registers with reset values and writable masks, for the parts of a
    peripheral that only store what software writes. Subclasses add behaviour by overriding
    `on_write(name, old, new)` and `value(name)`.

    `layout` maps offset -> (name, reset value, writable mask)."""

    layout: ClassVar[dict] = {}

    def __init__(self, base: int, size: int = 0x400, name: str | None = None):
        super().__init__(base, size, name)
        self.by_name = {reg[0]: off for off, reg in self.layout.items()}
        self.regs: dict = {}
        self.reset()

    def reset(self) -> None:
        self.regs = {name: rst for (name, rst, _mask) in self.layout.values()}

    def read32(self, offset: int) -> int:
        reg = self.layout.get(offset)
        if reg is None:
            return super().read32(offset)
        return self.value(reg[0]) & 0xFFFFFFFF

    def write32(self, offset: int, value: int) -> None:
        reg = self.layout.get(offset)
        if reg is None:
            super().write32(offset, value)
            return
        name, _rst, mask = reg
        old = self.regs[name]
        new = (old & ~mask) | (value & mask)
        self.regs[name] = new
        self.on_write(name, old, new, value)

    def value(self, name: str) -> int:
        return self.regs[name]

    def on_write(self, name: str, old: int, new: int, written: int) -> None:
        """Called after a register write; `written` is the raw bus value (for write-1-to-clear bits)."""
