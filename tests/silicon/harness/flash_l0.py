# SPDX-License-Identifier: Apache-2.0
"""NVM controller of the STM32L0 ("generation A": PECR with three key registers; the L1 is similar).

Sources: RM0367 rev 7 (L0x3) section 3, RM0376 (L0x2) and RM0377 (L0x1) section 3, "Flash program
memory and data EEPROM (FLASH)": 3.3.4 unlocking, 3.3.5 program/erase, 3.3.6 "Error code correction",
3.7 registers; bit positions as in cmsis_device_l0 stm32l073xx.h.

- Registers ACR 0x00, PECR 0x04, PDKEYR 0x08, PEKEYR 0x0C, PRGKEYR 0x10, OPTKEYR 0x14, SR 0x18, OPTR
  0x1C, WRPROT1 0x20, WRPROT2 0x80. Reset: PECR 0x0000_0007 (PELOCK | PRGLOCK | OPTLOCK), SR HVOFF |
  READY.
- Unlock: PEKEYR 0x89ABCDEF then 0x02030405 clears PELOCK (PECR and data EEPROM); then PRGKEYR
  0x8C9DAEBF then 0x13141516 clears PRGLOCK (program memory) - PRGKEYR is only accepted with PELOCK
  clear. A wrong sequence locks the register until reset with a bus error (assumed as on the other
  generations; RM0367 3.3.4). Setting PELOCK locks PRGLOCK and OPTLOCK again. PECR bits other than
  PELOCK cannot be written while PELOCK is set.
- Page erase: PECR.ERASE and PECR.PROG set, then a 32-bit write of any value to a word of the
  128-byte page erases that page to 0x00.
- Word programming: with ERASE, PROG and FPRG clear, a 32-bit store to program memory programs the
  word. SIZERR: a byte or half-word store. NOTZEROERR: "a program in the Flash memory is attempted on a
  not-zero area" with PECR.NZDISABLE clear - nothing is written. WRPERR: program memory still locked.
  Half-page programming (FPRG) is not modelled (reported as a violation).
- Erased program memory reads 0x0000_0000 (every bit erased to 0; the level is inverted compared with
  the other STM32 families). Programming moves bits from 0 to 1.
- ECC: 6 check bits per word correct a single error; there is no detection or flag for a double
  error ("ECC: 6 bits stored for every word to recognize and correct just one error", RM0377 3.2), so
  a torn word reads back as whatever bits it holds.
- Times (DS10685 table "Flash memory and data EEPROM characteristics"): 3.2 ms per word program and per
  page erase; the CPU stalls meanwhile (code runs from the program memory, RM0367 3.3.5).
"""

from __future__ import annotations

from .flash_common import FlashController

PEKEYS = (0x89ABCDEF, 0x02030405)
PRGKEYS = (0x8C9DAEBF, 0x13141516)

PECR_PELOCK, PECR_PRGLOCK, PECR_OPTLOCK, PECR_PROG, PECR_DATA = 1, 2, 4, 8, 16
PECR_FIX, PECR_ERASE, PECR_FPRG, PECR_NZDISABLE = 1 << 8, 1 << 9, 1 << 10, 1 << 22
SR_BSY, SR_EOP, SR_HVOFF, SR_READY = 1, 2, 4, 8
SR_WRPERR, SR_PGAERR, SR_SIZERR, SR_OPTVERR, SR_RDERR = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 13
SR_NOTZEROERR, SR_FWWERR = 1 << 16, 1 << 17
SR_W1C = SR_EOP | SR_WRPERR | SR_PGAERR | SR_SIZERR | SR_OPTVERR | SR_RDERR | SR_NOTZEROERR | SR_FWWERR
OP_SECONDS = 3.2e-3


class FlashL0(FlashController):
    def __init__(self, cells):
        super().__init__(0x40022000, cells)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.acr = 0
        self.pecr = PECR_PELOCK | PECR_PRGLOCK | PECR_OPTLOCK
        self.sr = SR_HVOFF | SR_READY

    def read32(self, offset: int) -> int:
        if offset == 0x00:
            return self.acr
        if offset == 0x04:
            return self.pecr
        if offset in (0x08, 0x0C, 0x10, 0x14):
            return 0
        if offset == 0x18:
            return self.sr | (SR_BSY if self.poll_busy() else 0)
        if offset == 0x1C:
            return 0x807000AA  # OPTR: RDP level 0, BOR off, WDG software, nRST_STOP/STDBY set, BFB2 0
        if offset in (0x20, 0x80):
            return 0  # no write-protected sector
        return super().read32(offset)

    def write32(self, offset: int, value: int) -> None:
        if offset == 0x00:
            self.acr = value & 0x7B
            return
        if offset == 0x04:
            self._write_pecr(value)
            return
        if offset == 0x0C:
            if self.key("FLASH_PEKEYR", value, PEKEYS):
                self.pecr &= ~PECR_PELOCK
            return
        if offset == 0x10:
            if self.pecr & PECR_PELOCK:
                self.violation("FLASH_PRGKEYR written while PECR.PELOCK is set")
                return
            if self.key("FLASH_PRGKEYR", value, PRGKEYS):
                self.pecr &= ~PECR_PRGLOCK
            return
        if offset in (0x08, 0x14):
            return
        if offset == 0x18:
            self.sr &= ~(value & SR_W1C)
            return
        super().write32(offset, value)

    def _write_pecr(self, value: int) -> None:
        if self.pecr & PECR_PELOCK:
            if not value & PECR_PELOCK:
                self.violation(f"FLASH_PECR write {value:#010x} while PELOCK is set: ignored")
            return
        if self.busy():
            self.violation("FLASH_PECR written while BSY is set")
        if value & PECR_PELOCK:
            self.pecr = PECR_PELOCK | PECR_PRGLOCK | PECR_OPTLOCK
            return
        locks = PECR_PRGLOCK | PECR_OPTLOCK
        # Lock bits can be set by software but only cleared by their key sequences.
        new = (value & 0x007F871F & ~locks) | ((self.pecr | value) & locks)
        if (new ^ self.pecr) & (PECR_PROG | PECR_ERASE | PECR_FPRG) and self.pecr & PECR_PRGLOCK:
            self.violation("PECR.PROG/ERASE/FPRG changed while PRGLOCK is set")
        self.pecr = new

    def flash_write(self, address: int, size: int, value: int) -> None:
        pecr = self.pecr
        if pecr & (PECR_PELOCK | PECR_PRGLOCK):
            self.sr |= SR_WRPERR
            self.log(f"store to program memory {address:#010x} while locked: WRPERR")
            return
        if size != 4:
            self.sr |= SR_SIZERR
            return
        if pecr & PECR_FPRG:
            self.violation("half-page programming (FPRG) is not modelled")
            return
        if pecr & PECR_ERASE:
            if not pecr & PECR_PROG:
                self.violation("PECR.ERASE without PECR.PROG: a data EEPROM erase, not modelled")
                return
            sector = self.cells.sector_at(address)
            if self.operate("erase", sector[0], sector[1], OP_SECONDS):
                self.sr |= SR_EOP
            return
        if pecr & PECR_PROG:
            self.violation("PECR.PROG without ERASE/FPRG before a word store")
            return
        data = value.to_bytes(4, "little")
        if not self.cells.is_erased(address, 4) and not pecr & PECR_NZDISABLE:
            self.sr |= SR_NOTZEROERR
            self.log(f"word {address:#010x} is not zero: NOTZEROERR")
            return
        if self.operate("program", address, 4, OP_SECONDS, data):
            self.sr |= SR_EOP
