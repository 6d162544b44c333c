# SPDX-License-Identifier: Apache-2.0
"""FLASH controller of the STM32L552 / L562 (RM0438 rev 7 section 6 "Embedded flash memory (FLASH)"), with
TrustZone disabled: generation B of ../shared/reference/stm32-flash.md ("B'": the L4 controller split into
non-secure and secure key / status / control registers). Register layout and bit positions as in ST's
CMSIS device header (cmsis_device_l5, stm32l562xx.h).

The operations behave as on the L4 (flash_l4.FlashL4, whose erase / programming / ECC logic this model
reuses): only the register map, the field widths, the error flags and the option bytes differ.

- Registers (RM0438 6.9): ACR 0x00 (LATENCY [3:0], RUN_PD b13, SLEEP_PD b14, LVEN b15; reset 0: no
  prefetch or cache bits - the ICACHE is a separate block), PDKEYR 0x04, NSKEYR 0x08, SECKEYR 0x0C,
  OPTKEYR 0x10, LVEKEYR 0x14, NSSR 0x20, SECSR 0x24, NSCR 0x28, SECCR 0x2C, ECCR 0x30, OPTR 0x40,
  NSBOOTADD0R/1R 0x44/0x48, SECBOOTADD0R 0x4C, SECWM1R1/R2 0x50/0x54, WRP1AR/BR 0x58/0x5C, SECWM2R1/R2
  0x60/0x64, WRP2AR/BR 0x68/0x6C, SECBB1R1-4 0x80-0x8C, SECBB2R1-4 0xA0-0xAC, SECHDPCR 0xC0, PRIVCFGR
  0xC4. Reset: NSCR 0xC000_0000 (NSLOCK | OPTLOCK), NSSR 0, ECCR 0.
- NSSR (6.9.8): NSEOP b0 (only with NSEOPIE), NSOPERR b1, NSPROGERR b3, NSWRPERR b4, NSPGAERR b5,
  NSSIZERR b6, NSPGSERR b7, OPTWERR b13, OPTVERR b15, NSBSY b16; the flags are write-1-to-clear. There is
  no fast programming on the L5 (no MISERR / FASTERR / FSTPG).
- NSCR (6.9.10): NSPG b0, NSPER b1, NSMER1 b2, NSPNB [9:3] (7 bits: pages 0..127 of a bank), NSBKER b11,
  NSMER2 b15, NSSTRT b16, OPTSTRT b17, NSEOPIE b24, NSERRIE b25, OBL_LAUNCH b27, OPTLOCK b30, NSLOCK b31.
  Unlocking: NSKEYR 0x45670123 then 0xCDEF89AB; a wrong sequence locks NSCR until the next reset and
  raises a bus error (6.3.5, the wording of the L4 manuals).
- Refusals as on the L4: NSPROGERR (double word not erased, unless the data is all zero), NSSIZERR (byte
  or half-word store), NSPGAERR (second word not in the same double word), NSPGSERR (store without NSPG,
  or an operation started while an error flag of the previous one is still set).
- ECC (6.3.4 "Error code correction"): 8 check bits per double word; a double error sets ECCR.ECCD with
  ADDR_ECC [18:0] (offset in its bank) and BK_ECC b21, and raises the NMI. ECCC2/ECCD2 (b28/b29) concern
  the upper double word of a 128-bit read in single-bank mode (DBANK = 0) - **unconfirmed**, not modelled.
- Option bytes (OPTR, 6.9.15): RDP [7:0] = 0xAA, BOR_LEV [10:8], nRST_STOP/STDBY/SHDW b12-14, IWDG/WWDG
  bits b16-19, SWAP_BANK b20, DB256K b21, DBANK b22, SRAM2_PE b24, SRAM2_RST b25, nSWBOOT0 b26, nBOOT0
  b27, PA15_PUPEN b28, TZEN b31. As shipped: DBANK = 1 (dual bank, 2 KiB pages, bank 2 at base + 256 KiB)
  and TZEN = 0 (the factory value of the reserved bits is **unconfirmed**; only DBANK and TZEN matter
  here). DBANK = 0 turns the flash into one bank of 128 pages of 4 KiB (NSPNB then numbers 4 KiB pages,
  NSBKER has no meaning); the model erases accordingly. The bootloader refuses both DBANK = 0 and TZEN = 1
  before it touches the flash; flash operations with TZEN = 1 (secure watermarks, SECxx registers) are
  not modelled and reported as such.
- Option programming (RM0438 6.4 "FLASH option bytes"): the L4's model (flash_l4.py) through OPTKEYR 0x10 and
  NSCR.OPTSTRT/OBL_LAUNCH, with the L5's option registers 0x40-0x6C: WRP1A/B and WRP2A/B areas ([6:0]/[22:16],
  pages of a bank) refuse program/erase with NSWRPERR; RDP recorded, 1 -> 0 mass erase, level 2 refuses OPTSTRT;
  the boot addresses and secure watermarks are stored but act on nothing with TZEN = 0; a TZEN change, RDP 0.5
  and HDP are not modelled.
- Timing: DS12736 6.3.10 (STM32L562xx) page erase 22 ms typical, double word 82 us (the L4 figures).
"""

from __future__ import annotations

from .flash_common import OptionStore
from .flash_l4 import (
    CR_EOPIE,
    CR_LOCK,
    CR_MER1,
    CR_MER2,
    CR_OPTLOCK,
    CR_PER,
    CR_PG,
    ERASE_SECONDS,
    KEYS,
    SR_EOP,
    FlashL4,
)

OPTR_DBANK, OPTR_TZEN = 1 << 22, 1 << 31
#: as shipped: RDP level 0, DBANK = 1, TZEN = 0 (reserved bits as read on the L4: unconfirmed)
OPTR_FACTORY = 0x7FEFF8AA
#: option registers (RM0438 6.9.15-6.9.25) and what the model loads for them as shipped: boot addresses as the
#: model always read them (**unconfirmed**), secure watermarks 0 (ignored with TZEN = 0), WRP areas STRT > END
OPTION_REGS_L5 = {
    0x40: ("OPTR", OPTR_FACTORY),
    0x44: ("NSBOOTADD0R", 0x0800007F),
    0x48: ("NSBOOTADD1R", 0x0804007F),
    0x4C: ("SECBOOTADD0R", 0x0800007F),
    0x50: ("SECWM1R1", 0),
    0x54: ("SECWM1R2", 0),
    0x58: ("WRP1AR", 0xFF00FFFF),
    0x5C: ("WRP1BR", 0xFF00FFFF),
    0x60: ("SECWM2R1", 0),
    0x64: ("SECWM2R2", 0),
    0x68: ("WRP2AR", 0xFF00FFFF),
    0x6C: ("WRP2BR", 0xFF00FFFF),
}

SR_W1C_L5 = 0xA0FB  # NSEOP NSOPERR NSPROGERR NSWRPERR NSPGAERR NSSIZERR NSPGSERR OPTWERR OPTVERR
#: NSCR bits that exist: NSPG, NSPER, NSMER1, NSPNB [9:3], NSBKER, NSMER2, NSSTRT, OPTSTRT, NSEOPIE, NSERRIE,
#: OBL_LAUNCH (OPTLOCK and NSLOCK handled apart); writes to reserved bits are dropped
CR_WRITABLE_L5 = 0x0B038BFF


class FlashL5(FlashL4):
    """The L5 controller through its non-secure registers (TZEN = 0)."""

    def __init__(self, cells, *, optr: int = OPTR_FACTORY, icache=None):
        self.bank2_at = cells.base + cells.size // 2  # bank 2 in dual-bank mode (read by reset())
        self.icache = icache  # icache.IcacheL5: told of every operation (stale lines)
        super().__init__(cells, bank2_base=None, pnb_bits=7, optr=optr, bk_ecc_bit=21, ecc_addr_bits=19)
        # Option bytes (flash_l4.py "Option bytes", with the L5's registers): WRPxyR [6:0]/[22:16] pages of a bank;
        # the store's address is the model's tag for the power-cut trace, not a documented address [U]
        self.wrp_mask = 0x7F
        self.option_offsets = {offset: name for offset, (name, _) in OPTION_REGS_L5.items()}
        factory = {name: value for name, value in OPTION_REGS_L5.values()}
        self.options = OptionStore(0x0BFA0000, {**factory, "OPTR": optr})
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.acr = 0
        # The bank layout follows the option bytes, loaded at reset (RM0438 6.4.1 option byte loading).
        self.bank2_base = self.bank2_at if self.optr & OPTR_DBANK else None

    # -- registers --------------------------------------------------------------------------------------
    def read32(self, offset: int) -> int:
        if offset == 0x00:
            return self.acr
        if offset == 0x20:
            return self.sr | ((1 << 16) if self.poll_busy() else 0)
        if offset == 0x28:
            return self.cr
        if offset == 0x30:
            return self.eccr
        if offset in self.option_offsets:
            return self.opt[self.option_offsets[offset]]
        if offset in (0x04, 0x08, 0x0C, 0x10, 0x14):
            return 0  # key registers read as zero
        if offset in (0x24, 0x2C):
            return 0x80000000 if offset == 0x2C else 0  # SECSR, SECCR (SECLOCK): untouched with TZEN = 0
        if 0x80 <= offset <= 0xAC or offset in (0xC0, 0xC4):
            return 0
        return super(FlashL4, self).read32(offset)

    def write32(self, offset: int, value: int) -> None:
        if offset == 0x00:
            self.acr = value & 0xE00F
            return
        if offset == 0x08:
            if self.key("FLASH_NSKEYR", value, KEYS):
                self.cr &= ~CR_LOCK
            elif "FLASH_NSKEYR" in self.locked_until_reset:
                self.cr |= CR_LOCK
            return
        if offset == 0x0C:
            self.violation("FLASH_SECKEYR written with TrustZone disabled (TZEN = 0): secure registers unused")
            return
        if offset == 0x10:
            super().write32(0x0C, value)  # OPTKEYR: the L4's sequence (NSLOCK clear first, wrong key = bus error)
            return
        if offset in self.option_offsets:
            self._write_option_register(self.option_offsets[offset], value)
            return
        if offset in (0x04, 0x14):
            return  # power-down / LVE keys: the bootloader programs neither
        if offset == 0x20:
            self.sr &= ~(value & SR_W1C_L5)
            return
        if offset == 0x28:
            self._write_cr(value & (CR_WRITABLE_L5 | CR_LOCK | CR_OPTLOCK))
            return
        if offset == 0x30:
            super().write32(0x18, value)  # ECCR: same fields as on the L4 (ECCD/ECCC write 1 to clear, ECCIE)
            return
        if offset in (0x24, 0x2C) or offset >= 0x40:
            self.violation(f"FLASH+{offset:#04x} written: secure registers are not modelled")
            return
        super(FlashL4, self).write32(offset, value)

    def _start_options(self) -> None:
        """OPTSTRT as on the L4; a change of TZEN (TrustZone activation, RM0438 6.6 "TrustZone") is not modelled."""
        if (self.opt["OPTR"] ^ self.options.values["OPTR"]) & OPTR_TZEN:
            self.violation("FLASH_OPTR.TZEN changed: TrustZone is not modelled; nothing stored")
            return
        super()._start_options()

    # -- erase ---------------------------------------------------------------------------------------------
    def _start_erase(self) -> None:
        if self.optr & OPTR_TZEN:
            self.violation("flash operation with TZEN = 1: secure/non-secure flash split not modelled")
            return
        if self.optr & OPTR_DBANK:
            super()._start_erase()
            return
        # DBANK = 0: one bank of 128 pages of 4 KiB (RM0438 6.3.1 table "single bank")
        cr = self.cr
        if self.sr & (0xF8 | (1 << 15)):
            self.sr |= 1 << 7
            return
        if cr & (CR_MER1 | CR_MER2):
            self.violation("mass erase is not modelled")
            return
        if not cr & CR_PER or cr & CR_PG:
            self.sr |= 1 << 7
            return
        page = (cr >> 3) & self.pnb_mask
        if self.operate("erase", self.cells.base + page * 0x1000, 0x1000, ERASE_SECONDS) and cr & CR_EOPIE:
            self.sr |= SR_EOP

    def operate(self, kind: str, address: int, length: int, seconds: float, data: bytes = b"") -> bool:
        if self.icache is not None:
            self.icache.flash_operated(kind, address)
        return super().operate(kind, address, length, seconds, data)

    def flash_write(self, address: int, size: int, value: int) -> None:
        if self.optr & OPTR_TZEN:
            self.violation("flash store with TZEN = 1: secure/non-secure flash split not modelled")
            return
        super().flash_write(address, size, value)
