# SPDX-License-Identifier: Apache-2.0
"""What the flash controllers of every generation share: the key sequence that unlocks a control
register, the bus error of a wrong key, and performing one cell operation under the power-cut model."""

from __future__ import annotations

from .bus import Peripheral
from .cortexm import BUSFAULT, CFSR_IMPRECISERR

BUSY_READS = 2  # SR reads that still see BSY after an operation starts: the driver must poll


class FlashController(Peripheral):
    name = "FLASH"

    def __init__(self, base: int, cells):
        super().__init__(base, 0x400)
        self.cells = cells
        self.busy_reads = 0

    def reset(self) -> None:
        self.busy_reads = 0
        self.key_stages: dict = {}
        self.locked_until_reset: set = set()

    # -- key sequences --------------------------------------------------------------------------------------
    def key(self, lock: str, value: int, keys: tuple) -> bool:
        """One write to a key register guarding `lock`. Returns True when the sequence completes. A
        wrong value locks the register until the next reset and raises a bus error (RM0090 3.5.1,
        RM0394 3.3.5; the same rule is assumed for the L0 PEKEYR/PRGKEYR, which RM0367 3.3.4 words the
        same way)."""
        if lock in self.locked_until_reset:
            self.bus_error(f"write to the {lock} key register after a wrong key sequence")
            return False
        stage = self.key_stages.get(lock, 0)
        if value == keys[stage]:
            stage += 1
            if stage == len(keys):
                self.key_stages[lock] = 0
                return True
            self.key_stages[lock] = stage
            return False
        self.key_stages[lock] = 0
        self.locked_until_reset.add(lock)
        self.bus_error(f"wrong {lock} key sequence (wrote {value:#010x})")
        return False

    def bus_error(self, why: str) -> None:
        self.log(why)
        self.machine.core.fault(BUSFAULT, CFSR_IMPRECISERR, why=why)
        self.machine.request_stop()

    def busy(self) -> bool:
        return self.busy_reads > 0

    def poll_busy(self) -> bool:
        """An SR read: BSY is still seen for the first reads after an operation."""
        if self.busy_reads > 0:
            self.busy_reads -= 1
            return True
        return False

    # -- one operation under the power-cut model -------------------------------------------------------------
    def operate(self, kind: str, address: int, length: int, seconds: float, data: bytes = b"") -> bool:
        """Erase [address, address + length) or program `data` there, unless the power is cut at this
        operation (then it does not happen or is torn, and the machine is dead). Returns True when the
        machine is still alive. The CPU stalls for `seconds` (code runs from the flash being operated)."""
        machine = self.machine
        verdict = machine.power.operation(kind, address, length, data)
        self.cells.apply(kind, address, length, data, verdict, machine.power.rng())
        if machine.power.dead:
            return False
        machine.flash_changed(address, length)
        self.busy_reads = BUSY_READS
        machine.stall(seconds)
        return True

    # -- hooks the machine calls --------------------------------------------------------------------------
    def flash_write(self, address: int, size: int, value: int) -> None:
        raise NotImplementedError

    def ecc_read(self, unit: int) -> None:
        raise AssertionError(f"{self.name}: this flash reports no ECC errors")


class OptionStore:
    """The option bytes' own non-volatile store (ST places it outside the main array: 0x1FFF_7800 on the
    L4 class, 0x1FFF_C000 on the F4, 0x1FF8_0000 on the L0). It survives resets and power cuts; the
    controller loads it into its option registers at every reset (power-on, system reset, OBL_LAUNCH).

    `values` maps a register name to its stored 32-bit value (in the order given at construction), `factory`
    holds each manual's reset values. Programming it (the controller's OPTSTRT, an L0 option-word store) is
    one power-cut operation of kind "option" at `address`: `contains()`/`apply()` let power.replay() redo or
    tear it like a flash operation. A torn programming leaves value and complement disagreeing (`torn`): the
    next load reports it (OPTVERR) and loads the controller's fallback - see each controller."""

    def __init__(self, address: int, factory: dict):
        self.address = address
        self.factory = dict(factory)
        self.values = dict(factory)
        self.torn = False

    @property
    def length(self) -> int:
        return 4 * len(self.values)

    def contains(self, address: int, length: int = 1) -> bool:
        return self.address <= address and address + length <= self.address + self.length

    def encode(self, values: dict) -> bytes:
        return b"".join((values[name] & 0xFFFFFFFF).to_bytes(4, "little") for name in self.values)

    def decode(self, data: bytes) -> dict:
        return {name: int.from_bytes(data[4 * i : 4 * i + 4], "little") for i, name in enumerate(self.values)}

    def apply(self, kind: str, address: int, length: int, data, verdict: str, rng) -> None:
        from .power import DO, TEAR

        if verdict == DO:
            self.values = self.decode(data)
            self.torn = False
        elif verdict == TEAR:
            self.torn = True

    def program(self, controller, values: dict, seconds: float) -> bool:
        """Store `values` as one operation under the power-cut model. Returns True when still alive."""
        machine = controller.machine
        data = self.encode({**self.values, **values})
        verdict = machine.power.operation("option", self.address, len(data), data)
        self.apply("option", self.address, len(data), data, verdict, None)
        if machine.power.dead:
            return False
        controller.busy_reads = 2
        machine.stall(seconds)
        return True

    def snapshot(self) -> tuple:
        return tuple(self.values.items()), self.torn

    def restore(self, state: tuple) -> None:
        values, self.torn = state
        self.values = dict(values)


def rdp_level(byte: int) -> int:
    """RDP byte -> level: 0xAA level 0, 0xCC level 2, any other value level 1 (RM0394 3.5.1, RM0090 3.6.3,
    RM0367 3.4.1; stm32-extflash-protection.md B7)."""
    return 0 if byte == 0xAA else 2 if byte == 0xCC else 1
