# SPDX-License-Identifier: Apache-2.0
"""FLASH controller of the STM32F4 ("generation C": sectors, PSIZE) and its F7 variant.

Sources: RM0090 rev 19 (F405/415, F407/417, F427/437, F429/439) section 3, "Embedded Flash memory
interface": 3.3 organisation (Table 6: 2 Mbyte dual bank, sectors 0-11 in bank 1 and 12-23 in bank 2),
3.5 erase and program operations, 3.7 error flags, 3.9 registers; bit positions as in cmsis_device_f4
stm32f429xx.h.

- Registers ACR 0x00, KEYR 0x04, OPTKEYR 0x08, SR 0x0C, CR 0x10, OPTCR 0x14, OPTCR1 0x18. Reset: ACR 0,
  CR 0x8000_0000 (LOCK), OPTCR 0x0FFF_AAED (factory), OPTCR1 0x0FFF_0000.
- Unlock (3.5.1): KEYR 0x45670123 then 0xCDEF89AB; "any wrong sequence will return a bus error and
  lock up the FLASH_CR register until the next reset".
- Sector erase (3.5.3): BSY must be clear; SER, SNB, STRT. On the 2-Mbyte parts SNB encodes bank-2
  sectors 12-23 as 0b1_0000 + (n - 12) (FLASH_CR.SNB: "0b10000..0b11011: sectors 12 to 23"); the
  values 12-15 select nothing. An invalid SNB is reported as a violation.
- Programming (3.5.4): with PG set, each store programs the data it carries. The store width must
  equal CR.PSIZE (x8 / x16 / x32 / x64) - otherwise PGPERR and no write; a store that cannot be
  contained in one 128-bit row sets PGAERR; a store while PG is clear sets PGSERR ("write access to the
  Flash memory performed by the code while the control register has not been correctly configured").
  The hardware does not refuse a word that is already programmed: bits only go from 1 to 0 (3.5.4
  "Standard programming" - there is no ECC on F4), so overwriting is not flagged; the model records it
  as a violation of the port contract (docs/porting.md: one program per unit per erase).
- EOP is set only when EOPIE is set. BSY is visible for the first SR reads after an operation; the CPU
  stalls for the typical times of DS9405 table 42 (x32: 16 us per word; 400 ms / 1.1 s / 2 s for a 16 /
  64 / 128 KiB sector).
- No ECC: a torn program or erase reads back as the mixed bits it left.

F7 variant (`variant="f7"`, STM32F76x/F77x: RM0410 section 3 "Embedded flash memory (FLASH)", register bits as
in cmsis_device_f7 stm32f769xx.h): the same controller, with
- SR bit 7 named ERSERR (erase sequence error, the F4's PGSERR position and meaning), no RDERR: W1C 0xF3;
- ACR: LATENCY [3:0], PRFTEN b8, ARTEN b9, ARTRST b11 (no ICEN/DCEN/ICRST/DCRST); "ARTRST can be written
  only when the ART accelerator is disabled": ARTRST set while ARTEN is set is ignored and reported;
- OPTCR factory value 0xFFFF_AAFD: nDBANK b29 = 1 (single bank: sectors 0-3 of 32 KiB, 4 of 128 KiB, 5-11 of
  256 KiB, SNB = 0..11), nDBOOT b28 = 1; OPTCR1 0x0040_0080 (BOOT_ADD0 = 0x0080: boot from 0x0020_0000, the
  flash on the ITCM interface; BOOT_ADD1 = 0x0040: system memory). In dual-bank mode (nDBANK = 0) the same
  2 MiB are organised as two banks of 16/64/128 KiB sectors (SNB 0b1_xxxx for bank 2): when nDBANK does not
  match the board's sector map (bank2_base given or not), the cells the model was built with are not the
  chip's organisation, so every erase or program is reported as a violation (not modelled) and not done;
- typical times of DS11532 "Flash memory programming" (x32 parallelism) [U: recalled, not read in the
  datasheet this session]: 16 us per word, 0.25 / 1 / 2 s for a 32 / 128 / 256 KiB sector;
- PGAERR keeps the F4's 128-bit row [U: RM0410 wording not read; the ports store aligned words only];
- no ECC on the F7's flash (RM0410 section 3 has no ECC registers or error flags; the H7's flash has ECC).
"""

from __future__ import annotations

from .flash_common import FlashController, OptionStore, rdp_level

KEYS = (0x45670123, 0xCDEF89AB)
OPTKEYS = (0x08192A3B, 0x4C5D6E7F)
OPTCR_OPTLOCK, OPTCR_OPTSTRT, OPTCR_SPRMOD = 1, 2, 1 << 31
#: bits that change the bank organisation or the boot bank: F42x BFB2 b4 / DB1M b30; F7 nDBOOT b28 / nDBANK b29
ORGANISATION_F4, ORGANISATION_F7 = (1 << 4) | (1 << 30), (1 << 28) | (1 << 29)
OPTION_SECONDS = 0.5  # [U] option programming (and the mass erase of an RDP regression): no datasheet figure read
SR_EOP, SR_OPERR, SR_WRPERR, SR_PGAERR, SR_PGPERR, SR_PGSERR, SR_RDERR, SR_BSY = 1, 2, 16, 32, 64, 128, 256, 1 << 16
SR_W1C = 0x1F3
CR_PG, CR_SER, CR_MER, CR_MER1, CR_STRT, CR_EOPIE, CR_LOCK = 1, 2, 4, 1 << 15, 1 << 16, 1 << 24, 1 << 31
PROGRAM_SECONDS = {1: 16e-6, 2: 16e-6, 4: 16e-6, 8: 16e-6}
ERASE_SECONDS = {0x4000: 0.4, 0x10000: 1.1, 0x20000: 2.0}
ERASE_SECONDS_F7 = {0x8000: 0.25, 0x20000: 1.0, 0x40000: 2.0}
ACR_ARTEN, ACR_ARTRST = 1 << 9, 1 << 11
OPTCR_NDBANK = 1 << 29
OPTCR_F7, OPTCR1_F7 = 0xFFFFAAFD, 0x00400080


class FlashF4(FlashController):
    def __init__(self, cells, *, bank2_base=None, variant: str = "f4", optcr: int | None = None):
        super().__init__(0x40023C00, cells)
        self.bank2_base = bank2_base
        self.f7 = variant == "f7"
        self.sr_w1c = 0xF3 if self.f7 else SR_W1C
        self.seq_error = "ERSERR" if self.f7 else "PGSERR"
        self.erase_seconds = ERASE_SECONDS_F7 if self.f7 else ERASE_SECONDS
        factory = {"OPTCR": optcr if optcr is not None else (OPTCR_F7 if self.f7 else 0x0FFFAAED)}
        factory["OPTCR1"] = OPTCR1_F7 if self.f7 else 0x0FFF0000
        # option bytes' own store: 0x1FFF_C000 (RM0090 3.6.1), 0x1FFF_0000 on the F7 (RM0410 3.4)
        self.options = OptionStore(0x1FFF0000 if self.f7 else 0x1FFFC000, factory)
        # OPTCR bits the user can program: F42x/F43x BOR_LEV, BFB2, USER, RDP, nWRP, DB1M, SPRMOD; F405/F407 no
        # BFB2/DB1M/SPRMOD; F7 all but OPTLOCK/OPTSTRT (IWDG_STDBY/STOP, nDBANK, nDBOOT, nWRP [27:16] ...)
        self.optcr_writable = 0xFFFFFFFC if self.f7 else 0xCFFFFFFC if bank2_base is not None else 0x0FFFFFEC
        self.reset()

    @property
    def factory_optcr(self) -> int:
        """FLASH_OPTCR as stored in the option bytes (loaded at the next reset)."""
        return self.options.values["OPTCR"]

    @factory_optcr.setter
    def factory_optcr(self, value: int) -> None:
        self.options.values["OPTCR"] = value

    def reset(self) -> None:
        super().reset()
        self.acr = 0
        self.cr = CR_LOCK
        self.sr = 0
        # option bytes are loaded at every reset; a torn store loads all ones [U, as flash_l4.load_options]
        if self.options.torn:
            loaded = dict.fromkeys(self.options.values, 0xFFFFFFFF)
        else:
            loaded = dict(self.options.values)
        self.active = loaded  # what the protections use until the next reset
        self.optcr = (loaded["OPTCR"] | OPTCR_OPTLOCK) & ~OPTCR_OPTSTRT
        self.optcr1 = loaded["OPTCR1"]

    def organisation_ok(self) -> bool:
        """F7: the option byte nDBANK selects the sector map the board's cells were built with."""
        if not self.f7:
            return True
        if bool(self.optcr & OPTCR_NDBANK) == (self.bank2_base is None):
            return True
        self.violation(
            f"FLASH_OPTCR.nDBANK = {self.optcr >> 29 & 1} does not match the board's sector map "
            f"({'dual' if self.bank2_base is not None else 'single'} bank): the operation is not modelled"
        )
        return False

    def read32(self, offset: int) -> int:
        if offset == 0x00:
            return self.acr
        if offset in (0x04, 0x08):
            return 0
        if offset == 0x0C:
            return self.sr | (SR_BSY if self.poll_busy() else 0)
        if offset == 0x10:
            return self.cr
        if offset == 0x14:
            return self.optcr
        if offset == 0x18 and (self.bank2_base is not None or self.f7):
            return self.optcr1
        return super().read32(offset)

    def write32(self, offset: int, value: int) -> None:
        if offset == 0x00:
            if self.f7:
                if value & ACR_ARTRST and self.acr & ACR_ARTEN:
                    self.violation("FLASH_ACR.ARTRST written while ARTEN is set: ignored (RM0410 FLASH_ACR)")
                    value &= ~ACR_ARTRST
                self.acr = value & 0xB0F
                return
            self.acr = value & 0x1F0F
            return
        if offset == 0x04:
            if self.key("FLASH_KEYR", value, KEYS):
                self.cr &= ~CR_LOCK
            elif "FLASH_KEYR" in self.locked_until_reset:
                self.cr |= CR_LOCK
            return
        if offset == 0x08:
            if self.key("FLASH_OPTKEYR", value, OPTKEYS):
                self.optcr &= ~OPTCR_OPTLOCK
            return
        if offset == 0x0C:
            self.sr &= ~(value & self.sr_w1c)
            return
        if offset == 0x10:
            self._write_cr(value)
            return
        if offset == 0x14:
            self._write_optcr(value)
            return
        if offset == 0x18 and (self.bank2_base is not None or self.f7):
            if self.optcr & OPTCR_OPTLOCK:
                self.violation(f"FLASH_OPTCR1 write {value:#010x} while OPTLOCK is set: ignored")
                return
            self.optcr1 = value & (0xFFFFFFFF if self.f7 else 0x0FFF0000)
            return
        super().write32(offset, value)

    # -- option bytes (RM0090 3.6 "Option bytes", RM0410 3.4) ------------------------------------------------
    def _write_optcr(self, value: int) -> None:
        """OPTCR: OPTLOCK b0 (cleared by OPTKEYR 0x08192A3B, 0x4C5D6E7F; set by software), OPTSTRT b1 starts
        storing OPTCR/OPTCR1 in the option bytes (BSY meanwhile, RM0090 3.6.2 "Modifying user option bytes")."""
        if self.optcr & OPTCR_OPTLOCK:
            if value & ~OPTCR_OPTLOCK & 0xFFFFFFFF != self.optcr & ~OPTCR_OPTLOCK:
                self.violation(f"FLASH_OPTCR write {value:#010x} while OPTLOCK is set: ignored")
            return
        if self.busy():
            self.violation("FLASH_OPTCR written while BSY is set")
        self.optcr = (value & self.optcr_writable) | (self.optcr & ~self.optcr_writable & ~OPTCR_OPTSTRT)
        if value & OPTCR_OPTLOCK:
            self.optcr |= OPTCR_OPTLOCK
        elif value & OPTCR_OPTSTRT:
            self._start_options()

    def _start_options(self) -> None:
        """Store OPTCR/OPTCR1. They take effect at the next reset [U: whether WRP applies at once after OPTSTRT
        is not confirmed (stm32-flash.md section 8); waiting for a reset is what software can rely on either way].
        RDP level 2: the option bytes can no longer be changed (RM0090 3.6.3, table "Access status versus
        protection level"): nothing is stored [U: no error flag known]. Level 1 -> 0 mass-erases the flash first."""
        stored = self.options.values
        new = {"OPTCR": self.optcr & ~(OPTCR_OPTLOCK | OPTCR_OPTSTRT), "OPTCR1": self.optcr1}
        level = self.rdp_level()
        if level == 2:
            self.log("OPTSTRT with RDP level 2: option bytes are read-only: nothing stored")
            return
        organisation = ORGANISATION_F7 if self.f7 else ORGANISATION_F4
        if (new["OPTCR"] ^ stored["OPTCR"]) & organisation or (self.f7 and new["OPTCR1"] != stored["OPTCR1"]):
            self.violation("organisation / boot options changed (BFB2, DB1M, nDBANK, nDBOOT, BOOT_ADDx): not modelled")
            return
        if level == 1 and rdp_level(new["OPTCR"] >> 8 & 0xFF) == 0:
            self.log("RDP level 1 -> 0: mass erase")
            if not self.operate("erase", self.cells.base, self.cells.size, OPTION_SECONDS):
                return
        self.options.program(self, new, OPTION_SECONDS)

    def rdp_level(self) -> int:
        return rdp_level(self.active["OPTCR"] >> 8 & 0xFF)

    def write_protected(self, index: int) -> bool:
        """Sector `index` (0..23) is write-protected by the loaded nWRP bits: OPTCR [27:16] sectors 0-11,
        OPTCR1 [27:16] sectors 12-23, 0 = protected (RM0090 3.6.4 "Write protections"); with SPRMOD = 1 the bits
        select PCROP sectors, 1 = protected, and a PCROP sector cannot be programmed or erased either [U]; the
        refusal of data reads (RDERR) is not modelled. F7 single bank: OPTCR bit 16 + i for sector i (RM0410)."""
        optcr = self.active["OPTCR"]
        word, bit = (optcr, index) if index < 12 else (self.active["OPTCR1"], index - 12)
        set_ = bool(word >> (16 + bit) & 1)
        return set_ if (not self.f7 and optcr & OPTCR_SPRMOD) else not set_

    def _write_cr(self, value: int) -> None:
        if self.cr & CR_LOCK:
            if not value & CR_LOCK:
                self.violation(f"FLASH_CR write {value:#010x} while LOCK is set: ignored")
            return
        if self.busy():
            self.violation("FLASH_CR written while BSY is set")
        start = bool(value & CR_STRT)
        self.cr = value & 0x8303FFFF & ~CR_STRT
        if start:
            self._start_erase()

    def psize(self) -> int:
        return 1 << ((self.cr >> 8) & 3)

    def _start_erase(self) -> None:
        cr = self.cr
        if cr & (CR_MER | CR_MER1):
            self.violation("mass erase is not modelled")
            return
        if not cr & CR_SER:
            self.violation("STRT without SER or MER")
            return
        if not self.organisation_ok():
            return
        snb = (cr >> 3) & 0x1F
        if self.bank2_base is not None:
            if snb < 12:
                index = snb
            elif 16 <= snb < 28:
                index = 12 + (snb - 16)
            else:
                self.violation(f"FLASH_CR.SNB = {snb:#x} selects no sector on a dual-bank part")
                return
        else:
            index = snb
        if index >= len(self.cells.sectors):
            self.violation(f"FLASH_CR.SNB = {snb:#x}: no such sector")
            return
        start, size = self.cells.sectors[index]
        if self.write_protected(index):
            self.sr |= SR_WRPERR
            self.log(f"erase of the write-protected sector {index}: WRPERR")
            return
        if self.operate("erase", start, size, self.erase_seconds.get(size, 2.0)) and self.cr & CR_EOPIE:
            self.sr |= SR_EOP

    def flash_write(self, address: int, size: int, value: int) -> None:
        if self.cr & CR_LOCK or not self.cr & CR_PG:
            self.sr |= SR_PGSERR
            self.log(f"store to flash {address:#010x} without PG: {self.seq_error}")
            return
        if not self.organisation_ok():
            return
        if size != self.psize():
            self.sr |= SR_PGPERR
            self.log(f"{size}-byte store with PSIZE x{8 * self.psize()}: PGPERR")
            return
        if (address % 16) + size > 16:
            self.sr |= SR_PGAERR
            return
        if self.write_protected(self.cells.sector_index(address)):
            self.sr |= SR_WRPERR
            self.log(f"programming {address:#010x} in a write-protected sector: WRPERR")
            return
        data = value.to_bytes(size, "little")
        if not self.cells.is_erased(address, size):
            self.violation(f"programming {address:#010x}, which is not erased (F4 allows it, port.h does not)")
        if self.operate("program", address, size, PROGRAM_SECONDS[size], data) and self.cr & CR_EOPIE:
            self.sr |= SR_EOP
