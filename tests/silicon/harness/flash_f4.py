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

from .flash_common import FlashController

KEYS = (0x45670123, 0xCDEF89AB)
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
        self.factory_optcr = optcr if optcr is not None else (OPTCR_F7 if self.f7 else 0x0FFFAAED)
        self.erase_seconds = ERASE_SECONDS_F7 if self.f7 else ERASE_SECONDS
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.acr = 0
        self.cr = CR_LOCK
        self.sr = 0
        self.optcr = self.factory_optcr  # option bytes are loaded at every reset
        self.optcr1 = OPTCR1_F7 if self.f7 else 0x0FFF0000

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
            return
        if offset == 0x0C:
            self.sr &= ~(value & self.sr_w1c)
            return
        if offset == 0x10:
            self._write_cr(value)
            return
        if offset in (0x14, 0x18):
            self.violation("option byte programming is not modelled")
            return
        super().write32(offset, value)

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
        data = value.to_bytes(size, "little")
        if not self.cells.is_erased(address, size):
            self.violation(f"programming {address:#010x}, which is not erased (F4 allows it, port.h does not)")
        if self.operate("program", address, size, PROGRAM_SECONDS[size], data) and self.cr & CR_EOPIE:
            self.sr |= SR_EOP
