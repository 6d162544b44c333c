# SPDX-License-Identifier: Apache-2.0
"""GPIO port of the STM32L0 / L4 / F4 (the same register layout on all three: RM0367 9.4, RM0394 8.5,
RM0090 8.4).

Registers: MODER 0x00 (00 input, 01 output, 10 alternate function, 11 analog), OTYPER 0x04, OSPEEDR
0x08, PUPDR 0x0C (00 none, 01 pull-up, 10 pull-down), IDR 0x10 (read only), ODR 0x14, BSRR 0x18 (write
only: set bits 0..15, reset bits 16..31, set wins), LCKR 0x1C, AFRL 0x20, AFRH 0x24, BRR 0x28 (L0/L4).
Reset values (per family and port) are those of the manuals' register descriptions: on L0/L4 every pin
but the debug pins starts in analog mode (MODER = 0xFFFF_FFFF), on F4 in input mode (0).

Pin levels: an input pin reads what the board drives on it (the tests press buttons through
`Machine.set_pin`), else its pull-up/pull-down, else 0 (a floating input is undefined on silicon; the
model picks 0). A pin in analog mode reads 0 in IDR (RM0394 8.4.12: "the Schmitt trigger input is
deactivated ... the data register reads 0").
"""

from __future__ import annotations

from .bus import Peripheral
from .pinmux import pin_name

RESET = {
    # family: {port index: (MODER, OSPEEDR, PUPDR)}; other ports use the "*" entry
    "stm32l4": {
        0: (0xABFFFFFF, 0x0C000000, 0x64000000),
        1: (0xFFFFFEBF, 0x00000000, 0x00000100),
        "*": (0xFFFFFFFF, 0, 0),
    },
    "stm32l0": {0: (0xEBFFFCFF, 0x0C000000, 0x24000000), "*": (0xFFFFFFFF, 0, 0)},
    "stm32f4": {
        0: (0xA8000000, 0x0C000000, 0x64000000),
        1: (0x00000280, 0x000000C0, 0x00000100),
        "*": (0x00000000, 0, 0),
    },
    # STM32H745 (RM0399 "GPIO registers"): the L4's modes and pulls, port B's debug pins at very high speed; no
    # BRR (offset 0x28 is reserved: BSRR resets the pins)
    "stm32h7": {
        0: (0xABFFFFFF, 0x0C000000, 0x64000000),
        1: (0xFFFFFEBF, 0x000000C0, 0x00000100),
        "*": (0xFFFFFFFF, 0, 0),
    },
}


class Gpio(Peripheral):
    def __init__(self, family: str, port: int, base: int):
        super().__init__(base, 0x400, name=f"GPIO{chr(65 + port)}")
        self.family, self.port = family, port
        self.has_brr = family in ("stm32l0", "stm32l4")
        self.external: dict = {}  # pin -> level driven by the board
        self.reset()

    def reset(self) -> None:
        table = RESET[self.family]
        self.moder, self.ospeedr, self.pupdr = table.get(self.port, table["*"])
        self.otyper = 0
        self.odr = 0
        self.lckr = 0
        self.afr = [0, 0]

    def mode(self, pin: int) -> int:
        return self.moder >> (2 * pin) & 3

    def af(self, pin: int) -> int:
        return self.afr[pin // 8] >> (4 * (pin % 8)) & 0xF

    def level(self, pin: int) -> int:
        mode = self.mode(pin)
        if mode == 3:
            return 0
        if mode == 1:
            return self.odr >> pin & 1
        if pin in self.external:
            return self.external[pin]
        pull = self.pupdr >> (2 * pin) & 3
        return 1 if pull == 1 else 0

    def idr(self) -> int:
        return sum(self.level(pin) << pin for pin in range(16))

    def routed(self, pin: int, af: int) -> bool:
        return self.mode(pin) == 2 and self.af(pin) == af

    def read32(self, offset: int) -> int:
        if offset == 0x10:
            return self.idr()
        regs = {
            0x00: self.moder,
            0x04: self.otyper,
            0x08: self.ospeedr,
            0x0C: self.pupdr,
            0x14: self.odr,
            0x18: 0,
            0x1C: self.lckr,
            0x20: self.afr[0],
            0x24: self.afr[1],
        }
        if self.has_brr:
            regs[0x28] = 0
        if offset in regs:
            return regs[offset]
        return super().read32(offset)

    def write32(self, offset: int, value: int) -> None:
        if offset == 0x00:
            self.moder = value
        elif offset == 0x04:
            self.otyper = value & 0xFFFF
        elif offset == 0x08:
            self.ospeedr = value
        elif offset == 0x0C:
            self.pupdr = value
        elif offset == 0x10:
            self.violation("write to the read-only IDR")
        elif offset == 0x14:
            self.odr = value & 0xFFFF
        elif offset == 0x18:
            self.odr = (self.odr & ~(value >> 16)) | (value & 0xFFFF)
        elif offset == 0x1C:
            self.lckr = value
        elif offset in (0x20, 0x24):
            self.afr[(offset - 0x20) // 4] = value
        elif offset == 0x28 and self.has_brr:
            self.odr &= ~value & 0xFFFF
        else:
            super().write32(offset, value)

    def pin(self, pin: int) -> str:
        return pin_name(self.port, pin)
