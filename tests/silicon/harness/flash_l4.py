# SPDX-License-Identifier: Apache-2.0
"""FLASH controller of the STM32L4 / L4+ ("generation B" in ../shared/reference/stm32-flash.md; the same
IP, with per-part field widths, serves G0, G4 and WL).

Sources: RM0394 rev 4 (L41x-L46x) section 3, RM0351 rev 9 (L47x/L48x/L49x/L4Ax) section 3, RM0432 rev 9
(L4+) section 3; register layout and bit positions as in ST's CMSIS device headers
(cmsis_device_l4, stm32l452xx.h / stm32l476xx.h / stm32l4r9xx.h).

What the model does, and refuses, as the manuals describe:
- Registers ACR 0x00, PDKEYR 0x04, KEYR 0x08, OPTKEYR 0x0C, SR 0x10, CR 0x14, ECCR 0x18, OPTR 0x20,
  PCROP1SR/ER 0x24/0x28, WRP1AR/BR 0x2C/0x30 (+ PCROP2/WRP2 0x44-0x50 on dual-bank parts). Reset values:
  CR 0xC000_0000 (LOCK | OPTLOCK), SR 0, ECCR 0, ACR 0x0000_0600 (ICEN | DCEN).
- Unlock (3.3.5 "Flash program and erase operations: unlocking"): KEYR 0x45670123 then 0xCDEF89AB
  clears CR.LOCK. "Any wrong sequence will lock up the FLASH_CR register until the next system reset.
  In the case of a wrong key sequence, a bus error is detected and a Hard Fault interrupt is
  generated." While LOCK is set, writes to CR (other than setting LOCK) are ignored.
- Page erase (3.3.6): BSY must be clear; error flags from a previous operation still set -> PGSERR and
  nothing starts; PER + PNB (+ BKER on dual-bank parts) + STRT erases one page. STRT with neither PER
  nor MER1/MER2 is "forbidden" (unpredictable, no error flag): reported as a violation.
- Programming (3.3.7): with CR.PG set, a 32-bit store to a double-word aligned address, then a 32-bit
  store to the next word, programs the double word. SIZERR: a byte or half-word store. PGAERR: the two
  words not in the same double word (second store not at the first + 4). PROGERR: "a double-word
  address to be programmed contains a value different from 0xFFFF FFFF before programming, except if
  the data to write is 0x0000 0000" - nothing is written. PGSERR: a store to flash while PG (and
  FSTPG) is clear, and any operation started while PROGERR/SIZERR/PGAERR/MISERR/FASTERR/PGSERR is
  still set. WRPERR: the address lies in a WRP area (option bytes; none set on the modelled boards).
- EOP is set at the end of a successful operation only when CR.EOPIE is set (SR.EOP description).
- BSY stays set for the first SR reads after an operation starts (the driver must poll it); the CPU is
  stalled for the operation time (datasheet typical: 22 ms page erase, 81.7 us double word; DS11912
  6.3.10) - the machine's clock advances by that much.
- ECC (3.3.2 "Error code correction"): 8 check bits per double word; a double error on a read sets
  ECCR.ECCD with ADDR_ECC (byte offset of the double word inside its bank; [18:0], [19:0] on the L4+ whose
  banks are 1 MiB) and BK_ECC, and raises the NMI. ECCD is write-1-to-clear. Single-error correction
  (ECCC) is not modelled.
- Cache lines are not modelled (reads always see the array); ICRST/DCRST are accepted.
"""

from __future__ import annotations

from .cortexm import NMI
from .flash_common import FlashController

KEYS = (0x45670123, 0xCDEF89AB)

SR_EOP, SR_OPERR, SR_PROGERR, SR_WRPERR, SR_PGAERR, SR_SIZERR, SR_PGSERR = 1, 2, 8, 16, 32, 64, 128
SR_MISERR, SR_FASTERR, SR_RDERR, SR_OPTVERR, SR_BSY = 1 << 8, 1 << 9, 1 << 14, 1 << 15, 1 << 16
SR_W1C = 0xC3FB
SR_PREVIOUS = SR_PROGERR | SR_SIZERR | SR_PGAERR | SR_MISERR | SR_FASTERR | SR_PGSERR

CR_PG, CR_PER, CR_MER1, CR_BKER, CR_MER2, CR_STRT = 1, 2, 4, 1 << 11, 1 << 15, 1 << 16
CR_OPTSTRT, CR_FSTPG, CR_EOPIE, CR_OPTLOCK, CR_LOCK = 1 << 17, 1 << 18, 1 << 24, 1 << 30, 1 << 31

ECCR_ECCD, ECCR_ECCC = 1 << 31, 1 << 30

ERASE_SECONDS = 22e-3
PROGRAM_SECONDS = 81.7e-6


class FlashL4(FlashController):
    #: FLASH_CR bit selecting bank 2 for a page erase, and the PNB of bank 2's first page (0: pages are
    #: numbered per bank). The G0B1 differs (flash_g0g4wl.py).
    cr_bker = CR_BKER
    bank2_first_page = 0

    def __init__(self, cells, *, bank2_base=None, pnb_bits=8, optr=0xFFEFF8AA, bk_ecc_bit=None, ecc_addr_bits=19):
        super().__init__(0x40022000, cells)
        self.bank2_base = bank2_base
        self.pnb_mask = (1 << pnb_bits) - 1
        self.optr_reset = optr
        self.bk_ecc_bit = bk_ecc_bit
        self.ecc_addr_mask = (1 << ecc_addr_bits) - 1  # ADDR_ECC: [18:0] on L4, [19:0] on L4+
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.acr = 0x00000600
        self.cr = CR_LOCK | CR_OPTLOCK
        self.sr = 0
        self.eccr = 0
        self.optr = self.optr_reset
        self.first_word = None  # (address, value) of the first word of a double word being programmed

    # -- registers --------------------------------------------------------------------------------------
    def read32(self, offset: int) -> int:
        if offset == 0x00:
            return self.acr
        if offset == 0x10:
            return self.sr | (SR_BSY if self.poll_busy() else 0)
        if offset == 0x14:
            return self.cr
        if offset == 0x18:
            return self.eccr
        if offset == 0x20:
            return self.optr
        if offset in (0x04, 0x08, 0x0C):
            return 0  # key registers read as zero
        if offset in (0x24, 0x28):
            return 0xFFFF0000 if offset == 0x24 else 0x00000000  # no PCROP area
        if offset in (0x2C, 0x30):
            return 0xFF00FFFF  # WRP area disabled (start > end)
        if self.bank2_base is not None and offset in (0x44, 0x48, 0x4C, 0x50):
            return 0xFF00FFFF if offset in (0x4C, 0x50) else 0
        return super().read32(offset)

    def write32(self, offset: int, value: int) -> None:
        if offset == 0x00:
            self.acr = value & 0x7F0F
            return
        if offset == 0x08:
            if self.key("FLASH_KEYR", value, KEYS):
                self.cr &= ~CR_LOCK
            elif "FLASH_KEYR" in self.locked_until_reset:
                self.cr |= CR_LOCK
            return
        if offset == 0x0C:
            return  # option bytes are not programmed by the bootloader; keys accepted and ignored
        if offset == 0x04:
            return
        if offset == 0x10:
            self.sr &= ~(value & SR_W1C)
            return
        if offset == 0x14:
            self._write_cr(value)
            return
        if offset == 0x18:
            if value & ECCR_ECCD:
                self.eccr &= ~ECCR_ECCD
            if value & ECCR_ECCC:
                self.eccr &= ~ECCR_ECCC
            self.eccr = (self.eccr & ~(1 << 24)) | (value & (1 << 24))
            return
        super().write32(offset, value)

    def _write_cr(self, value: int) -> None:
        if self.cr & CR_LOCK:
            if value & CR_LOCK:
                self.cr |= CR_LOCK
            else:
                self.violation(f"FLASH_CR write {value:#010x} while LOCK is set: ignored")
            return
        if self.busy():
            self.violation("FLASH_CR written while BSY is set")
        if value & CR_LOCK:
            self.cr = (self.cr & ~0x3F0FFFFF) | (value & 0x3F0FFFFF) | CR_LOCK | CR_OPTLOCK
            self.first_word = None
            return
        start = bool(value & CR_STRT) and not (self.cr & CR_STRT)
        self.cr = value & ~CR_STRT & 0xFF0FFFFF | (self.cr & (CR_LOCK | CR_OPTLOCK))
        if not (self.cr & CR_PG):
            self.first_word = None
        if value & CR_OPTSTRT:
            self.violation("option byte programming (OPTSTRT) is not modelled")
        if start:
            self._start_erase()

    # -- erase ---------------------------------------------------------------------------------------------
    def _start_erase(self) -> None:
        cr = self.cr
        if self.sr & SR_PREVIOUS:
            self.sr |= SR_PGSERR
            return
        if cr & (CR_MER1 | CR_MER2):
            self.violation("mass erase is not modelled")
            return
        if not cr & CR_PER:
            self.violation("STRT set with neither PER nor MER1/MER2: unpredictable (RM0394 FLASH_CR.STRT)")
            return
        if cr & CR_PG:
            self.sr |= SR_PGSERR
            return
        page = (cr >> 3) & self.pnb_mask
        bank_base = self.cells.base
        if cr & self.cr_bker:
            if self.bank2_base is None:
                self.violation("FLASH_CR.BKER set on a single-bank part")
                return
            bank_base = self.bank2_base
            if page < self.bank2_first_page:
                self.violation(f"page {page} selected in bank 2, whose pages are numbered from {self.bank2_first_page}")
                return
            page -= self.bank2_first_page
        page_size = self.cells.sectors[0][1]
        address = bank_base + page * page_size
        bank_end = (
            self.bank2_base if (self.bank2_base and bank_base == self.cells.base) else self.cells.base + self.cells.size
        )
        if address >= bank_end:
            self.violation(f"page {page} of bank {2 if cr & self.cr_bker else 1} does not exist")
            return
        if self.operate("erase", address, page_size, ERASE_SECONDS) and self.cr & CR_EOPIE:
            self.sr |= SR_EOP

    # -- programming ----------------------------------------------------------------------------------------
    def flash_write(self, address: int, size: int, value: int) -> None:
        """A CPU store into the flash address space."""
        if self.cr & CR_LOCK or not (self.cr & (CR_PG | CR_FSTPG)):
            self.sr |= SR_PGSERR
            self.log(f"store to flash {address:#010x} without PG: PGSERR")
            return
        if self.cr & CR_FSTPG:
            self.violation("fast programming (FSTPG) is not modelled")
            return
        if size != 4:
            self.sr |= SR_SIZERR | SR_PGSERR
            self.first_word = None
            return
        if self.first_word is None:
            if address % 8 != 0:
                self.sr |= SR_PGAERR | SR_PGSERR
                return
            if self.sr & SR_PREVIOUS:
                self.sr |= SR_PGSERR
                return
            self.first_word = (address, value)
            return
        first_address, first_value = self.first_word
        self.first_word = None
        if address != first_address + 4:
            self.sr |= SR_PGAERR | SR_PGSERR
            return
        data = first_value.to_bytes(4, "little") + value.to_bytes(4, "little")
        if self.cells.poisoned_in(first_address, 8) is not None or (
            not self.cells.is_erased(first_address, 8) and data != bytes(8)
        ):
            # A double word with an ECC error cannot read as erased either: conservative PROGERR.
            self.sr |= SR_PROGERR
            self.log(f"double word {first_address:#010x} is not erased: PROGERR")
            return
        if self.operate("program", first_address, 8, PROGRAM_SECONDS, data) and self.cr & CR_EOPIE:
            self.sr |= SR_EOP

    # -- ECC ----------------------------------------------------------------------------------------------
    def ecc_read(self, unit: int) -> None:
        """A CPU read hit a double word with a double ECC error: ECCR and NMI (RM0351 3.3.2)."""
        if not self.eccr & ECCR_ECCD:
            bank_base = self.cells.base
            bank = 0
            if self.bank2_base is not None and unit >= self.bank2_base:
                bank_base, bank = self.bank2_base, 1
            self.eccr = (self.eccr & (1 << 24)) | ECCR_ECCD | ((unit - bank_base) & self.ecc_addr_mask)
            if bank and self.bk_ecc_bit is not None:
                self.eccr |= 1 << self.bk_ecc_bit
        self.log(f"double ECC error reading {unit:#010x}: ECCD, NMI")
        self.machine.core.pending.add(NMI)
