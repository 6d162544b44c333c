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
- Option bytes (RM0367 3.4): their own store at 0x1FF8_0000 (flash_common.OptionStore; OptionBytesL0 maps it),
  loaded into OPTR, WRPROT1 and WRPROT2 at every reset with the complement check (OPTVERR). OPTKEYR
  0xFBEAD9C8 then 0x24252627 clears OPTLOCK (PELOCK clear first; a wrong key as for the other keys); a 32-bit
  store to an option word programs it; PECR.OBL_LAUNCH reloads them through a reset: they take effect only
  then. Effects: WRPROT bits refuse program/erase of their 4 KiB sectors (WRPERR); RDP recorded (what level 1
  denies is outside the harness), 1 -> 0 mass-erases the program memory, level 2 refuses option stores. See
  `option_store` for what is [U] and not modelled.
- Times (DS10685 table "Flash memory and data EEPROM characteristics"): 3.2 ms per word program and per
  page erase; the CPU stalls meanwhile (code runs from the program memory, RM0367 3.3.5).
"""

from __future__ import annotations

from .bus import Peripheral
from .flash_common import FlashController, OptionStore, rdp_level

PEKEYS = (0x89ABCDEF, 0x02030405)
PRGKEYS = (0x8C9DAEBF, 0x13141516)
OPTKEYS = (0xFBEAD9C8, 0x24252627)
PECR_OBL_LAUNCH = 1 << 18
OB_BASE = 0x1FF80000  # option bytes (RM0367 3.1.2 "NVM organization", table "NVM organization")
#: the option-byte words, each value in [15:0] and its complement in [31:16] (RM0367 3.4 "Option bytes"): RDP
#: (RDPROT [7:0], WPRMOD b8), USER (BOR_LEV [3:0], WDG_SW b4, nRST_STOP b5, nRST_STDBY b6, BFB2 b7, nBOOT1 b15),
#: WRPROT1 [15:0], WRPROT1 [31:16], WRPROT2 [15:0]; factory: level 0, the OPTR the model always read, no WRP
OB_FACTORY = {"RDP": 0xFF5500AA, "USER": 0x7F8F8070, "WRP01": 0xFFFF0000, "WRP23": 0xFFFF0000, "WRP45": 0xFFFF0000}

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
        self.options = OptionStore(OB_BASE, OB_FACTORY)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.acr = 0
        self.pecr = PECR_PELOCK | PECR_PRGLOCK | PECR_OPTLOCK
        self.sr = SR_HVOFF | SR_READY
        self.load_options()

    # -- option bytes ----------------------------------------------------------------------------------------
    def load_options(self) -> None:
        """Option byte loading at every reset (RM0367 3.4 "Option bytes", FLASH_SR.OPTVERR): a word whose upper
        half is not the complement of its lower half sets OPTVERR and loads as 0xFFFF [U: the value a failed
        check loads; for RDP it means level 1, for WRPROT every sector protected]. A store a power cut tore
        fails the check in every word [U]."""
        words = {}
        for name, word in self.options.values.items():
            if self.options.torn or (word >> 16) != (~word & 0xFFFF):
                self.sr |= SR_OPTVERR
                words[name] = 0xFFFF
            else:
                words[name] = word & 0xFFFF
        self.active = words
        self.optr = (words["RDP"] & 0x1FF) | words["USER"] << 16
        self.wrprot1 = words["WRP01"] | words["WRP23"] << 16
        self.wrprot2 = words["WRP45"]

    def rdp_level(self) -> int:
        return rdp_level(self.active["RDP"] & 0xFF)

    def write_protected(self, address: int) -> bool:
        """WRPROT1/2: one bit per 4 KiB sector, 1 = write-protected (WPRMOD = 0; RM0367 3.4.2 "Write
        protection")."""
        sector = (address - self.cells.base) // 0x1000
        bits = self.wrprot1 if sector < 32 else self.wrprot2
        return bool(bits >> (sector % 32) & 1)

    def option_store(self, offset: int, size: int, value: int) -> None:
        """A CPU store to an option-byte word (RM0367 3.3.4 "Option bytes programming": PELOCK and OPTLOCK
        clear, one 32-bit word, value and complement written by software). Refusals: locked -> WRPERR [U: as
        for program memory]; not a word -> SIZERR; RDP level 2 -> WRPERR, nothing written (level 2 freezes the
        option bytes, RM0367 3.4.1 [U: flag]). RDP 1 -> 0 mass-erases the program memory first (RM0367 3.4.1;
        the data EEPROM is not modelled). Not modelled (reported, not written): WPRMOD = 1 (PCROP), BFB2."""
        names = list(self.options.values)
        if self.pecr & (PECR_PELOCK | PECR_OPTLOCK):
            self.sr |= SR_WRPERR
            self.log(f"store to option byte {OB_BASE + offset:#010x} while locked: WRPERR")
            return
        if size != 4 or offset % 4:
            self.sr |= SR_SIZERR
            return
        if offset // 4 >= len(names):
            self.violation(f"store to {OB_BASE + offset:#010x}: no option byte there")
            return
        name = names[offset // 4]
        if self.rdp_level() == 2:
            self.sr |= SR_WRPERR
            self.log("option byte store with RDP level 2: read-only: WRPERR")
            return
        if (name == "RDP" and value & 0x100) or (name == "USER" and (value ^ self.options.values["USER"]) & 0x80):
            self.violation(f"option word {name} = {value:#010x}: WPRMOD (PCROP) / BFB2 are not modelled; not written")
            return
        if name == "RDP" and self.rdp_level() == 1 and rdp_level(value & 0xFF) == 0:
            self.log("RDP level 1 -> 0: mass erase of the program memory")
            if not self.operate("erase", self.cells.base, self.cells.size, OP_SECONDS):
                return
        if self.options.program(self, {name: value}, OP_SECONDS):
            self.sr |= SR_EOP

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
            return self.optr  # factory: RDP level 0, BOR off, WDG software, nRST_STOP/STDBY set, BFB2 0
        if offset in (0x20, 0x80):
            return self.wrprot1 if offset == 0x20 else self.wrprot2
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
        if offset == 0x14:
            if self.pecr & PECR_PELOCK:
                self.violation("FLASH_OPTKEYR written while PECR.PELOCK is set")
                return
            if self.key("FLASH_OPTKEYR", value, OPTKEYS):
                self.pecr &= ~PECR_OPTLOCK
            return
        if offset == 0x08:
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
        if value & PECR_OBL_LAUNCH:
            # OBL_LAUNCH reloads the option bytes and resets the device; only with OPTLOCK clear (RM0367 FLASH_PECR)
            if self.pecr & PECR_OPTLOCK:
                self.violation("FLASH_PECR.OBL_LAUNCH set while OPTLOCK is set: ignored")
            else:
                self.log("OBL_LAUNCH: option byte loading (system reset)")
                self.machine.core.reset_request = True
                self.machine.request_stop()
            value &= ~PECR_OBL_LAUNCH
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
        if self.write_protected(address):
            self.sr |= SR_WRPERR
            self.log(f"program/erase at {address:#010x} in a write-protected sector: WRPERR")
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


class OptionBytesL0(Peripheral):
    """The option-byte words at 0x1FF8_0000 as the CPU sees them: reads give the stored words, 32-bit stores go to
    the NVM controller (FlashL0.option_store)."""

    name = "OPTION_BYTES"

    def __init__(self, flash: FlashL0):
        super().__init__(OB_BASE, 0x400)
        self.flash = flash

    def read32(self, offset: int) -> int:
        names = list(self.flash.options.values)
        if offset // 4 < len(names):
            return self.flash.options.values[names[offset // 4]]
        return super().read32(offset)

    def write(self, offset: int, size: int, value: int) -> None:
        self.flash.option_store(offset, size, value)
