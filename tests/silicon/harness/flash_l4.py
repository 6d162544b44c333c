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
  still set. WRPERR: the page lies in a loaded WRP area (see "Option bytes" below); nothing is written.
- EOP is set at the end of a successful operation only when CR.EOPIE is set (SR.EOP description).
- BSY stays set for the first SR reads after an operation starts (the driver must poll it); the CPU is
  stalled for the operation time (datasheet typical: 22 ms page erase, 81.7 us double word; DS11912
  6.3.10) - the machine's clock advances by that much.
- ECC (3.3.2 "Error code correction"): 8 check bits per double word; a double error on a read sets
  ECCR.ECCD with ADDR_ECC (byte offset of the double word inside its bank; [18:0], [19:0] on the L4+ whose
  banks are 1 MiB) and BK_ECC, and raises the NMI. ECCD is write-1-to-clear. Single-error correction
  (ECCC) is not modelled.
- Cache lines are not modelled (reads always see the array); ICRST/DCRST are accepted.

Option bytes (RM0394/RM0351/RM0432 3.4 "FLASH option bytes", 3.5 "FLASH memory protection"; G0/G4/WL: RM0444,
RM0440, RM0453 section 3): their own non-volatile store (flash_common.OptionStore; factory values of the part:
RDP 0xAA, WRP areas STRT > END, PCROP as the model always read them), loaded into OPTR, PCROPxSR/ER and
WRPxAR/BR at every reset. OPTKEYR 0x08192A3B then 0x4C5D6E7F clears CR.OPTLOCK, only after KEYR cleared LOCK
(a write while LOCK is set is reported and ignored); a wrong key is a bus error and OPTLOCK stays set until
reset (as for KEYR). With OPTLOCK clear software writes the option registers, then CR.OPTSTRT stores them
(BSY, EOP with EOPIE; PGSERR with an earlier error pending); CR.OBL_LAUNCH reloads them through a system
reset: they take effect only then (or at any reset), as on silicon. Effects modelled: WRP areas (WRPERR on
program/erase, nothing written); the RDP level is recorded (what level 1 denies - debug, boot from RAM or
system memory - is outside the harness); level 1 -> 0 mass-erases the main flash before storing; level 2 refuses
OPTSTRT (WRPERR [U]). Not modelled (reported when changed): PCROP areas (storing PCROPxSR/ER with STRT > END, no
area, is accepted), the bank organisation and boot-bank
bits (BFB2, DUALBANK/DBANK, nSWAP_BANK); nBOOT0/nSWBOOT0/nBOOT1 are stored but the model always boots from main
flash (BOOT0 low on the boards).
"""

from __future__ import annotations

from .cortexm import NMI
from .flash_common import FlashController, OptionStore, rdp_level

KEYS = (0x45670123, 0xCDEF89AB)
OPTKEYS = (0x08192A3B, 0x4C5D6E7F)

SR_EOP, SR_OPERR, SR_PROGERR, SR_WRPERR, SR_PGAERR, SR_SIZERR, SR_PGSERR = 1, 2, 8, 16, 32, 64, 128
SR_MISERR, SR_FASTERR, SR_RDERR, SR_OPTVERR, SR_BSY = 1 << 8, 1 << 9, 1 << 14, 1 << 15, 1 << 16
SR_W1C = 0xC3FB
SR_PREVIOUS = SR_PROGERR | SR_SIZERR | SR_PGAERR | SR_MISERR | SR_FASTERR | SR_PGSERR

CR_PG, CR_PER, CR_MER1, CR_BKER, CR_MER2, CR_STRT = 1, 2, 4, 1 << 11, 1 << 15, 1 << 16
CR_OPTSTRT, CR_FSTPG, CR_EOPIE, CR_OPTLOCK, CR_LOCK = 1 << 17, 1 << 18, 1 << 24, 1 << 30, 1 << 31
CR_OBL_LAUNCH = 1 << 27
#: FLASH_OPTR bits that change the bank organisation or the boot bank (L4 BFB2 b20, DUALBANK b21, L4+/G4 DBANK
#: b22; G0B1 nSWAP_BANK b20, DUAL_BANK b21): not modelled beyond the factory setting
OPTR_ORGANISATION = 0x7 << 20
OPTION_SECONDS = 22e-3  # [U] option programming and mass erase taken as one page erase (no datasheet figure read)

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
        self.bk_ecc_bit = bk_ecc_bit
        self.ecc_addr_mask = (1 << ecc_addr_bits) - 1  # ADDR_ECC: [18:0] on L4, [19:0] on L4+
        # WRP area fields: wide enough for the pages of one bank ([7:0]/[23:16] on L4/L4+, [5:0]/[21:16] on the
        # L412, [6:0]/[22:16] on G0/G4/WL: stm32-flash.md section 8)
        page_size = cells.sectors[0][1]
        bank_size = (bank2_base - cells.base) if bank2_base is not None else cells.size
        self.wrp_mask = (1 << max(1, (bank_size // page_size - 1).bit_length())) - 1
        factory = {"OPTR": optr, "PCROP1SR": 0xFFFF0000, "PCROP1ER": 0, "WRP1AR": 0xFF00FFFF, "WRP1BR": 0xFF00FFFF}
        if bank2_base is not None:
            factory.update({"PCROP2SR": 0, "PCROP2ER": 0, "WRP2AR": 0xFF00FFFF, "WRP2BR": 0xFF00FFFF})
        self.option_offsets = {0x20: "OPTR", 0x24: "PCROP1SR", 0x28: "PCROP1ER", 0x2C: "WRP1AR", 0x30: "WRP1BR"}
        if bank2_base is not None:
            self.option_offsets.update({0x44: "PCROP2SR", 0x48: "PCROP2ER", 0x4C: "WRP2AR", 0x50: "WRP2BR"})
        self.options = OptionStore(0x1FFF7800, factory)  # option bytes' own store (RM0394 3.4.1)
        self.reset()

    @property
    def optr_reset(self) -> int:
        """FLASH_OPTR as stored in the option bytes (loaded at the next reset)."""
        return self.options.values["OPTR"]

    @optr_reset.setter
    def optr_reset(self, value: int) -> None:
        self.options.values["OPTR"] = value

    def reset(self) -> None:
        super().reset()
        self.acr = 0x00000600
        self.cr = CR_LOCK | CR_OPTLOCK
        self.sr = 0
        self.eccr = 0
        self.load_options()
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
        if offset in self.option_offsets:
            return self.opt[self.option_offsets[offset]]
        if offset in (0x04, 0x08, 0x0C):
            return 0  # key registers read as zero
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
            if self.cr & CR_LOCK:
                self.violation("FLASH_OPTKEYR written while FLASH_CR.LOCK is set (unlock KEYR first): ignored")
            elif self.key("FLASH_OPTKEYR", value, OPTKEYS):
                self.cr &= ~CR_OPTLOCK
            return
        if offset in self.option_offsets:
            self._write_option_register(self.option_offsets[offset], value)
            return
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
        locks = self.cr & (CR_LOCK | CR_OPTLOCK) | (value & CR_OPTLOCK)
        self.cr = value & ~(CR_STRT | CR_OPTSTRT | CR_OBL_LAUNCH) & 0xFF0FFFFF | locks
        if not (self.cr & CR_PG):
            self.first_word = None
        if value & (CR_OPTSTRT | CR_OBL_LAUNCH) and self.cr & CR_OPTLOCK:
            self.violation("FLASH_CR.OPTSTRT/OBL_LAUNCH written while OPTLOCK is set: ignored")
        elif value & CR_OPTSTRT:
            self._start_options()
        elif value & CR_OBL_LAUNCH:
            self._obl_launch()
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
        if self.write_protected(address):
            self.sr |= SR_WRPERR
            self.log(f"erase of the write-protected page at {address:#010x}: WRPERR")
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
        if self.write_protected(first_address):
            self.sr |= SR_WRPERR
            self.log(f"programming the write-protected double word {first_address:#010x}: WRPERR")
            return
        if self.cells.poisoned_in(first_address, 8) is not None or (
            not self.cells.is_erased(first_address, 8) and data != bytes(8)
        ):
            # A double word with an ECC error cannot read as erased either: conservative PROGERR.
            self.sr |= SR_PROGERR
            self.log(f"double word {first_address:#010x} is not erased: PROGERR")
            return
        if self.operate("program", first_address, 8, PROGRAM_SECONDS, data) and self.cr & CR_EOPIE:
            self.sr |= SR_EOP

    # -- option bytes ---------------------------------------------------------------------------------------
    def load_options(self) -> None:
        """Option byte loading at every reset (RM0394 3.4.2 "Option bytes loading"). A store a power cut tore
        fails its value/complement check: OPTVERR, and the registers load all ones [U: ST describes mismatched
        option bytes as forcing a locked configuration (RM0444 p.90 via stm32-flash.md section 8); all ones =
        RDP level 1 is the model's reading]."""
        if self.options.torn:
            self.sr |= SR_OPTVERR
            loaded = dict.fromkeys(self.options.values, 0xFFFFFFFF)
        else:
            loaded = dict(self.options.values)
        self.active = loaded  # what the protections use until the next load
        self.opt = dict(loaded)  # the option registers software writes before OPTSTRT
        self.optr = loaded["OPTR"]

    def rdp_level(self) -> int:
        return rdp_level(self.active["OPTR"] & 0xFF)

    def write_protected(self, address: int) -> bool:
        """The page of `address` lies in a loaded WRP area of its bank: WRPxyR STRT..END, inclusive, page
        numbers inside the bank; an area with STRT > END protects nothing (RM0394 3.5.2 "Write protection";
        the "STRT > END" wording is [U] in stm32-flash.md)."""
        bank, bank_base = 1, self.cells.base
        if self.bank2_base is not None and address >= self.bank2_base:
            bank, bank_base = 2, self.bank2_base
        page = (address - bank_base) // self.cells.sectors[0][1]
        for area in "AB":
            reg = self.active.get(f"WRP{bank}{area}R")
            if reg is not None and (reg & self.wrp_mask) <= page <= (reg >> 16 & self.wrp_mask):
                return True
        return False

    def _write_option_register(self, name: str, value: int) -> None:
        """Option registers are writable once OPTLOCK is clear (RM0394 3.4.2 "Modifying user option bytes");
        only the WRP fields of WRPxyR exist."""
        if self.cr & CR_OPTLOCK:
            self.violation(f"FLASH_{name} written while OPTLOCK is set: ignored")
            return
        if name.startswith("WRP"):
            mask = self.wrp_mask | self.wrp_mask << 16
            value = (self.opt[name] & ~mask) | (value & mask)
        self.opt[name] = value & 0xFFFFFFFF

    def _start_options(self) -> None:
        """OPTSTRT: the option registers go to the option-byte store (one operation under the power-cut model;
        BSY meanwhile). RDP level 2: option bytes cannot be changed; the model sets WRPERR and stores nothing
        [U: flag per stm32-extflash-protection.md B7]. Level 1 -> 0: the main flash is mass-erased first
        (RM0394 3.5.1 "Read protection", regression); PCROP_RDP = 0 keeping PCROP pages is not modelled."""
        if self.busy():
            self.violation("FLASH_CR.OPTSTRT set while BSY is set")
        if self.sr & SR_PREVIOUS:
            self.sr |= SR_PGSERR
            return
        if self.rdp_level() == 2:
            self.sr |= SR_WRPERR
            self.log("OPTSTRT with RDP level 2: option bytes are read-only: WRPERR")
            return
        stored = self.options.values
        new = dict(self.opt)
        if (new["OPTR"] ^ stored["OPTR"]) & OPTR_ORGANISATION:
            self.violation("FLASH_OPTR bank organisation/boot bank bits changed: not modelled; nothing stored")
            return
        for bank in (1, 2):
            start, end = f"PCROP{bank}SR", f"PCROP{bank}ER"
            if start not in new or (new[start], new[end]) == (stored[start], stored[end]):
                continue
            if new[start] & 0xFFFF <= new[end] & 0xFFFF:  # an area (STRT <= END): its refusals are not modelled
                self.violation("a PCROP area was defined: PCROP is not modelled; nothing stored")
                return
            # STRT > END defines no area (how software disables PCROP): stored, nothing to model

        if self.rdp_level() == 1 and rdp_level(new["OPTR"] & 0xFF) == 0:
            self.log("RDP level 1 -> 0: mass erase of the main flash")
            if not self.operate("erase", self.cells.base, self.cells.size, OPTION_SECONDS):
                return
        if self.options.program(self, new, OPTION_SECONDS) and self.cr & CR_EOPIE:
            self.sr |= SR_EOP

    def _obl_launch(self) -> None:
        """OBL_LAUNCH: option byte loading, which resets the device (RM0394 FLASH_CR.OBL_LAUNCH; RCC_CSR.OBLRSTF):
        the stored values take effect at that reset (machine.system_reset reloads them)."""
        self.log("OBL_LAUNCH: option byte loading (system reset)")
        self.machine.core.reset_request = True
        self.machine.request_stop()

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
