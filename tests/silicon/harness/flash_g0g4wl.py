# SPDX-License-Identifier: Apache-2.0
"""FLASH controllers of the STM32G4, G0 and WL: the L4's "generation B" IP (flash_l4.py: keys, page erase,
double-word programming, PROGERR/PGSERR/PGAERR/SIZERR/WRPERR, ECCR and the ECC double-error NMI), with the
register quirks of each family.

Sources: RM0440 rev 8 (G4) section 3, RM0444 rev 5 (G0x0/G0x1) section 3, RM0453 rev 5 (WL5x) and RM0461
(WLEx) section 3; bit positions as in ST's CMSIS device headers (cmsis_device_g4 stm32g474xx.h,
cmsis_device_g0 stm32g0b1xx.h, cmsis_device_wl stm32wl55xx.h / stm32wle5xx.h), collected in
../shared/reference/stm32-flash.md. What each refuses is what flash_l4.py refuses (the SR flags have the same
meaning and positions on all of them: RM0440/RM0444/RM0453 "FLASH status register"); the differences:

- G4 (`FlashG4`): registers at 0x4002_2000 as on the L4. The 512 KB parts leave the factory in dual-bank
  mode (OPTR.DBANK, bit 22, = 1): 2 x 128 pages of 2 KB, bank 2 at base + 256 KB, PNB [9:3] (7 bits)
  counting pages inside the bank selected by BKER (bit 11). ECCR: ADDR_ECC [18:0] (byte offset in the
  bank), BK_ECC bit 21. A wrong page number (PNB beyond 127) is reported, not executed.
- G0 (`FlashG0`): registers at 0x4002_2000. PNB [12:3] (10 bits). On the dual-bank G0B1/G0C1, bank 2
  starts at 0x0804_0000 and its pages are numbered 256..383 (RM0444 3.3.1 "Flash memory organization" and
  the FLASH_CR.PNB description), selected together with BKER, which is bit 13 here (bit 11 on the L4/G4):
  an erase with BKER and a PNB below 256 is reported. FLASH_SR adds BSY2 (bit 17; not distinguished from
  BSY1 here: both banks' operations show BSY1) and CFGBSY (bit 18). ECC errors of bank 1 are latched in
  ECCR (0x18), those of bank 2 in ECC2R (0x1C), each raising the NMI; ADDR_ECC [14:0] is taken as the
  double-word index inside the bank (**unconfirmed**: RM0444 gives the width, the unit is inferred from it).
  FLASH_ACR has no data cache: DCEN/DCRST (bits 10/12) are reserved; a write that changes a reserved bit
  is reported. LATENCY is 3 bits; reset value 0x0004_0600 (stm32-flash.md SVD value: DBG_SWEN, ICEN and
  bit 10, which RM0444 lists as reserved and which software must leave as it reads).
- WL (`FlashWL`): registers at 0x5800_4000 (AHB3), single bank of 128 pages of 2 KB, PNB [9:3] (7 bits), no
  BKER. FLASH_SR adds CFGBSY (bit 18) and PESD (bit 19, program/erase suspended; never set here). ECCR:
  ADDR_ECC [16:0] (the model stores the byte offset masked to the field, **unit unconfirmed**), CPUID
  [28:26] = 0 (CPU1). LATENCY is 3 bits.
- CFGBSY (G0, WL; RM0444/RM0453 FLASH_SR.CFGBSY "Programming or erase configuration busy"): set from the
  first word of a double word until that double word's programming ends, and while an erase runs. Software
  must wait for it as well as for BSY before it changes FLASH_CR: a FLASH_CR write while it is set is
  reported as a violation (the manuals forbid changing the configuration then).
"""

from __future__ import annotations

from .cortexm import NMI
from .flash_l4 import ECCR_ECCC, ECCR_ECCD, FlashL4

SR_CFGBSY = 1 << 18


class FlashG4(FlashL4):
    """RM0440 section 3 (see the module docstring)."""


class _CfgBusy(FlashL4):
    """FLASH_SR.CFGBSY of the G0 and WL; FLASH_ACR with a 3-bit LATENCY and the family's writable bits."""

    acr_reset = 0x00000600
    acr_writable = 0x00009F07  # LATENCY[2:0], PRFTEN, ICEN, DCEN, ICRST, DCRST, PES (WL)

    def reset(self) -> None:
        super().reset()
        self.acr = self.acr_reset

    def cfg_busy(self) -> bool:
        return self.busy() or self.first_word is not None

    def read32(self, offset: int) -> int:
        if offset == 0x10:
            busy = self.cfg_busy()
            return super().read32(offset) | (SR_CFGBSY if busy else 0)
        return super().read32(offset)

    def write32(self, offset: int, value: int) -> None:
        if offset == 0x00:
            changed = (value ^ self.acr) & ~self.acr_writable & 0xFFFF
            if changed:
                self.violation(f"FLASH_ACR write {value:#010x} changes reserved bits {changed:#x}")
            self.acr = (self.acr & ~self.acr_writable) | (value & self.acr_writable)
            return
        if offset == 0x14 and not self.cr & (1 << 31) and self.first_word is not None:
            self.violation("FLASH_CR written while CFGBSY is set (one word of a double word written)")
        super().write32(offset, value)


class FlashG0(_CfgBusy):
    """RM0444 section 3 (see the module docstring)."""

    cr_bker = 1 << 13
    bank2_first_page = 256
    acr_reset = 0x00040600
    acr_writable = 0x00040B07  # LATENCY[2:0], PRFTEN, ICEN, ICRST, DBG_SWEN

    def reset(self) -> None:
        super().reset()
        self.ecc2r = 0

    def read32(self, offset: int) -> int:
        if offset == 0x1C and self.bank2_base is not None:
            return self.ecc2r
        return super().read32(offset)

    def write32(self, offset: int, value: int) -> None:
        if offset == 0x1C and self.bank2_base is not None:
            for bit in (ECCR_ECCD, ECCR_ECCC):
                if value & bit:
                    self.ecc2r &= ~bit
            self.ecc2r = (self.ecc2r & ~(1 << 24)) | (value & (1 << 24))
            return
        super().write32(offset, value)

    def ecc_read(self, unit: int) -> None:
        """A double error: ECCD and the double-word index in ECCR (bank 1) or ECC2R (bank 2), and NMI."""
        bank2 = self.bank2_base is not None and unit >= self.bank2_base
        bank_base = self.bank2_base if bank2 else self.cells.base
        current = self.ecc2r if bank2 else self.eccr
        if not current & ECCR_ECCD:
            current = (current & (1 << 24)) | ECCR_ECCD | (((unit - bank_base) >> 3) & 0x7FFF)
            if bank2:
                self.ecc2r = current
            else:
                self.eccr = current
        self.log(f"double ECC error reading {unit:#010x}: ECCD in {'ECC2R' if bank2 else 'ECCR'}, NMI")
        self.machine.core.pending.add(NMI)


class FlashWL(_CfgBusy):
    """RM0453 / RM0461 section 3 (see the module docstring)."""

    def __init__(self, cells, **kwargs):
        super().__init__(cells, **kwargs)
        self.base = 0x58004000
