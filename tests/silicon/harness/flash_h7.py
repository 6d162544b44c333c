# SPDX-License-Identifier: Apache-2.0
"""FLASH controller of the STM32H745/H755 ("generation D" in ../shared/reference/stm32-flash.md): two banks of
eight 128 KiB sectors, programmed in 256-bit flash words through a write buffer, ECC per flash word.

Sources: RM0399 (STM32H745/755, H747/757) section 4 "Embedded flash memory (FLASH)": 4.3.8 the read/write
wait states (table "FLASH recommended number of wait states and programming delay"), 4.3.9 programming
(write buffer, QW/WBNE, FW), 4.3.10 sector erase, 4.3.x ECC, 4.7 error flags, 4.9 registers; register
offsets, bit positions and reset values as in cmsis_device_h7 stm32h745xx.h (stm32-flash.md sections 1-6).
Where only the H7A3 text (RM0455) or a driver was at hand, the fact is marked [U].

- Registers: ACR 0x00 (LATENCY [3:0], WRHIGHFREQ [5:4]; reset 0x37: 7 wait states, the slowest programming
  delay) - also at 0x100; per bank x = 1, 2 at +0x000 / +0x100: KEYRx 0x04, CRx 0x0C, SRx 0x10, CCRx 0x14,
  ECC_FAx 0x60. OPTKEYR 0x08, OPTCR 0x18, OPTSR_CUR 0x1C (read-only here: option bytes are not
  programmed). CRx reset 0x0000_0031 (LOCK, PSIZE x64) [U: the SVD says 0, drivers see LOCK set].
- Unlock: KEYRx 0x45670123 then 0xCDEF89AB clears CRx.LOCK. A wrong key locks CRx until the next reset; the
  same bus error as on the other generations is assumed [U: RM0455 wording]. Writes to a locked CRx, other
  than setting LOCK, are ignored (reported).
- Sector erase: SER + SNB [10:8] (sector in its bank) + START (bit 7). BER (bank erase) and option changes
  are reported as not modelled. SER together with PG is an inconsistency (INCERR, nothing starts).
- Programming: with PG set, stores into one 32-byte aligned flash word fill the bank's write buffer (WBNE
  set while it is partly filled); the store that completes the 32 bytes queues the word (QW, then BSY while
  it is programmed). Errors (SRx, write 1 to the same bit of CCRx to clear): PGSERR - a store while PG is
  clear, or into a locked bank; INCERR - a store into another flash word while the buffer holds part of one;
  STRBERR - a byte of the buffer written twice; WRPERR - a write-protected sector (none on the modelled
  board). FW (force write) programs a partly filled buffer with the missing bytes at 1 [U: RM0455].
  The silicon does not refuse to program a word that is not erased, but the word's ECC no longer matches
  its data: the model records it as a violation of the port contract and the word reads with a double ECC
  error from then on (stm32-flash.md section 3, Zephyr issue #33140).
- QW/BSY/WBNE are read-only; a CRx change while QW is set is reported. EOP (bit 16) is set at the end of an
  operation when EOPIE (bit 16 of CRx) is set.
- ECC (10 bits per flash word): a single error is corrected (SNECCERR, not modelled: the model has no single
  errors); a double error sets DBECCERR in the bank's SRx with the word's index in ECC_FAx, and "the read
  returns a bus error" (stm32-flash.md section 6: Zephyr PR #34374; RM0399 4.3 ECC): a precise BusFault at
  the load (escalated to HardFault while the BusFault is disabled). A program or erase that a power cut tore
  leaves every flash word it touched with data and check bits that disagree: a double error on read.
- Timing: the CPU stalls for the typical times of DS12923 (256-bit word program 16 us [U], 128 KiB sector
  erase x64 2 s [U]); QW/BSY stay visible for the first SRx reads after an operation starts.
- No cache model: the H7 FLASH has no cache of its own (the CM7's L1 caches are the core's; off in the
  bootloader).

Option bytes (RM0399 4.4 "FLASH option bytes", 4.5 "FLASH protection mechanisms"): their own store
(flash_common.OptionStore) holding OPTSR (RDP [15:8], the user bits; factory: level 0, SWAP_BANK_OPT b31 = 0),
WPSN1 and WPSN2 (WRPSn [7:0], one bit per sector of the bank, 0 = write-protected; factory 0xFF). Loaded into
FLASH_OPTSR_CUR (0x1C) and FLASH_WPSN_CUR1R/2R (0x38 / 0x138) at every reset; OPTKEYR (0x08) 0x08192A3B then
0x4C5D6E7F clears FLASH_OPTCR.OPTLOCK (b0; software sets it again); with OPTLOCK clear software writes
FLASH_OPTSR_PRG (0x20) and FLASH_WPSN_PRG1R/2R (0x3C / 0x13C); OPTCR.OPTSTART (b1) stores them (OPT_BUSY, b0 of
OPTSR_CUR, while it runs: one power-cut operation) and, unlike the L4 class, they apply at the end of the
operation without a reset ("option byte modification ... loaded in the _CUR registers" [U: RM0399 4.4.3
wording recalled, not re-read]). Effects: WRPERR (SRx b17) on erase or program of a protected sector, nothing
done; RDP recorded; at level 2 OPTSTART changes nothing and sets OPTCHANGEERR (OPTSR_CUR b30; cleared through
FLASH_OPTCCR b30) [U]. Not modelled (reported, nothing stored): a change of SWAP_BANK_OPT, an RDP regression
(mass erase), PCROP/secure areas, boot addresses. A store a power cut tore loads all ones [U, as the L4 model].
"""

from __future__ import annotations

from .cortexm import BUSFAULT, CFSR_PRECISERR
from .flash_common import FlashController, OptionStore, rdp_level

KEYS = (0x45670123, 0xCDEF89AB)
BANK_SIZE = 0x100000
WORD = 32

SR_BSY, SR_WBNE, SR_QW = 1, 2, 4
SR_EOP, SR_WRPERR, SR_PGSERR, SR_STRBERR = 1 << 16, 1 << 17, 1 << 18, 1 << 19
SR_INCERR, SR_OPERR, SR_RDPERR, SR_RDSERR = 1 << 21, 1 << 22, 1 << 23, 1 << 24
SR_SNECCERR, SR_DBECCERR, SR_CRCEND, SR_CRCRDERR = 1 << 25, 1 << 26, 1 << 27, 1 << 28
SR_CLEARABLE = 0x1FEF0000
SR_ERRORS = SR_WRPERR | SR_PGSERR | SR_STRBERR | SR_INCERR | SR_OPERR

CR_LOCK, CR_PG, CR_SER, CR_BER, CR_FW, CR_START = 1, 2, 4, 8, 1 << 6, 1 << 7
CR_PSIZE, CR_SNB, CR_CRC_EN, CR_EOPIE = 3 << 4, 7 << 8, 1 << 15, 1 << 16
CR_RESET = 0x00000031
CR_WRITABLE = 0x1FEF8FFF & ~CR_START & ~CR_FW

OPTKEYS = (0x08192A3B, 0x4C5D6E7F)
OPTCR_OPTLOCK, OPTCR_OPTSTART = 1, 2
OPTSR_OPT_BUSY, OPTSR_CHANGEERR, OPTSR_SWAP_BANK = 1, 1 << 30, 1 << 31
OPTSR_FACTORY = 0x1FFFAAF0  # [U]: RDP level 0 (0xAA), SWAP_BANK_OPT 0, no operation running
OPTION_SECONDS = 0.1  # [U] no datasheet figure read

PROGRAM_SECONDS = 16e-6
ERASE_SECONDS = 2.0


class _Bank:
    def __init__(self, index: int, base: int):
        self.index, self.base = index, base
        self.reset()

    def reset(self) -> None:
        self.cr = CR_RESET
        self.sr = 0
        self.ecc_fa = 0
        self.buffer: dict = {}  # byte offset in the flash word -> value
        self.word: int | None = None  # flash word address the buffer belongs to
        self.busy_reads = 0


class FlashH7(FlashController):
    def __init__(self, cells):
        super().__init__(0x52002000, cells)
        if cells.unit != WORD:
            raise ValueError("STM32H7 flash programs 32-byte flash words: flash.write_size must be 32")
        self.banks = [_Bank(0, cells.base), _Bank(1, cells.base + BANK_SIZE)]
        self.options = OptionStore(0x1FF00000, {"OPTSR": OPTSR_FACTORY, "WPSN1": 0xFF, "WPSN2": 0xFF})  # [U] address
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.acr = 0x37
        for bank in getattr(self, "banks", []):
            bank.reset()
        self.optcr = OPTCR_OPTLOCK
        self.opt_busy_reads = 0
        self.change_error = False
        self.load_options()

    # -- option bytes -------------------------------------------------------------------------------------------
    def load_options(self) -> None:
        """At every reset: the store into the _CUR registers (all ones from a torn store [U])."""
        values = self.options.values
        self.active = dict.fromkeys(values, 0xFFFFFFFF) if self.options.torn else dict(values)
        self.prg = dict(self.active)

    def rdp_level(self) -> int:
        return rdp_level(self.active["OPTSR"] >> 8 & 0xFF)

    def write_protected(self, address: int) -> bool:
        offset = address - self.cells.base
        wpsn = self.active["WPSN1" if offset < BANK_SIZE else "WPSN2"]
        return not wpsn >> (offset % BANK_SIZE // 0x20000) & 1

    def _option_start(self) -> None:
        if self.rdp_level() == 2:
            self.change_error = True
            self.log("OPTSTART with RDP level 2: option bytes are read-only: OPTCHANGEERR")
            return
        new = {"OPTSR": self.prg["OPTSR"] & ~(OPTSR_OPT_BUSY | OPTSR_CHANGEERR), "WPSN1": self.prg["WPSN1"] & 0xFF}
        new["WPSN2"] = self.prg["WPSN2"] & 0xFF
        stored = self.options.values
        if (new["OPTSR"] ^ stored["OPTSR"]) & OPTSR_SWAP_BANK:
            self.violation("FLASH_OPTSR_PRG.SWAP_BANK_OPT changed: not modelled; nothing stored")
            return
        if self.rdp_level() == 1 and rdp_level(new["OPTSR"] >> 8 & 0xFF) == 0:
            self.violation("RDP regression (mass erase) is not modelled; nothing stored")
            return
        if self.options.program(self, new, OPTION_SECONDS):
            self.opt_busy_reads = 2
            self.active = dict(new)  # in effect at the end of the operation, without a reset [U]

    # -- registers ---------------------------------------------------------------------------------------------
    def read32(self, offset: int) -> int:
        if offset in (0x00, 0x100):
            return self.acr
        bank = self.banks[offset >> 8 & 1] if offset < 0x200 else None
        reg = offset & 0xFF
        if bank is not None:
            if reg in (0x04, 0x08, 0x14):
                return 0
            if reg == 0x0C:
                return bank.cr
            if reg == 0x10:
                return self._sr(bank)
            if reg == 0x60:
                return bank.ecc_fa
            if reg == 0x18 and offset < 0x100:
                return self.optcr
            if reg == 0x1C and offset < 0x100:
                busy = OPTSR_OPT_BUSY if self.opt_busy_reads > 0 else 0
                self.opt_busy_reads = max(0, self.opt_busy_reads - 1)
                return (
                    self.active["OPTSR"] & ~(OPTSR_OPT_BUSY | OPTSR_CHANGEERR)
                    | busy
                    | (OPTSR_CHANGEERR if self.change_error else 0)
                )
            if reg == 0x20 and offset < 0x100:
                return self.prg["OPTSR"]
            if reg == 0x38:
                return self.active[f"WPSN{bank.index + 1}"]
            if reg == 0x3C:
                return self.prg[f"WPSN{bank.index + 1}"]
        return super().read32(offset)

    def _sr(self, bank: _Bank) -> int:
        v = bank.sr
        if bank.buffer:
            v |= SR_WBNE
        if bank.busy_reads > 0:
            bank.busy_reads -= 1
            v |= SR_QW | SR_BSY
        return v

    def write32(self, offset: int, value: int) -> None:
        if offset in (0x00, 0x100):
            self.acr = value & 0x3F
            if self.machine is not None:
                self.machine.rcc.check_tree("FLASH_ACR write")
            return
        if offset >= 0x200:
            super().write32(offset, value)
            return
        bank, reg = self.banks[offset >> 8 & 1], offset & 0xFF
        name = f"FLASH_KEYR{bank.index + 1}"
        if reg == 0x04:
            if self.key(name, value, KEYS):
                bank.cr &= ~CR_LOCK
            elif name in self.locked_until_reset:
                bank.cr |= CR_LOCK
            return
        if reg == 0x08 and offset < 0x100:
            if self.key("FLASH_OPTKEYR", value, OPTKEYS):
                self.optcr &= ~OPTCR_OPTLOCK
            return
        if reg == 0x18 and offset < 0x100:
            if value & OPTCR_OPTLOCK:
                self.optcr |= OPTCR_OPTLOCK
            elif self.optcr & OPTCR_OPTLOCK:
                self.violation(f"FLASH_OPTCR write {value:#010x} while OPTLOCK is set: ignored")
            elif value & OPTCR_OPTSTART:
                self._option_start()
            return
        if reg == 0x24 and offset < 0x100:
            if value & OPTSR_CHANGEERR:
                self.change_error = False
            return
        if (reg == 0x20 and offset < 0x100) or reg == 0x3C:
            if self.optcr & OPTCR_OPTLOCK:
                self.violation(f"option register {offset:#x} written while OPTLOCK is set: ignored")
                return
            name = "OPTSR" if reg == 0x20 else f"WPSN{bank.index + 1}"
            self.prg[name] = value & 0xFFFFFFFF
            return
        if reg == 0x0C:
            self._write_cr(bank, value)
            return
        if reg == 0x14:
            bank.sr &= ~(value & SR_CLEARABLE)
            if value & (SR_SNECCERR | SR_DBECCERR):
                bank.ecc_fa = 0
            return
        super().write32(offset, value)

    def _write_cr(self, bank: _Bank, value: int) -> None:
        n = bank.index + 1
        if bank.cr & CR_LOCK:
            if not value & CR_LOCK:
                self.violation(f"FLASH_CR{n} write {value:#010x} while LOCK is set: ignored")
            return
        if bank.busy_reads > 0:
            self.violation(f"FLASH_CR{n} written while QW/BSY is set")
        start, force = bool(value & CR_START), bool(value & CR_FW)
        if value & CR_CRC_EN:
            self.violation("the CRC engine is not modelled")
        bank.cr = value & CR_WRITABLE
        if force:
            self._force_write(bank)
        if start:
            self._start(bank)

    def _start(self, bank: _Bank) -> None:
        cr, n = bank.cr, bank.index + 1
        if cr & CR_BER:
            self.violation(f"bank erase (CR{n}.BER) is not modelled")
            return
        if not cr & CR_SER:
            self.violation(f"START without SER in FLASH_CR{n}: nothing to do")
            return
        if cr & CR_PG or bank.buffer:
            bank.sr |= SR_INCERR
            self.log(f"CR{n}: erase with PG set or a partly filled write buffer: INCERR")
            return
        if bank.sr & SR_ERRORS:
            self.violation(f"sector erase started with error flags {bank.sr & SR_ERRORS:#x} still set in SR{n}")
        snb = (cr & CR_SNB) >> 8
        start = bank.base + snb * 0x20000
        if self.cells.sector_at(start) != (start, 0x20000):
            self.violation(f"FLASH_CR{n}.SNB = {snb}: no such sector")
            return
        if (cr & CR_PSIZE) != CR_PSIZE:
            self.log(f"sector erase with PSIZE x{8 << ((cr & CR_PSIZE) >> 4)}: slower than x64 [U]")
        if self.write_protected(start):
            bank.sr |= SR_WRPERR
            self.log(f"erase of the write-protected sector at {start:#010x}: WRPERR")
            return
        if self.operate("erase", start, 0x20000, ERASE_SECONDS):
            bank.busy_reads = self.busy_reads
            if cr & CR_EOPIE:
                bank.sr |= SR_EOP

    # -- programming -----------------------------------------------------------------------------------------------
    def flash_write(self, address: int, size: int, value: int) -> None:
        bank = self.banks[0 if address - self.cells.base < BANK_SIZE else 1]
        n = bank.index + 1
        if bank.cr & CR_LOCK or not bank.cr & CR_PG:
            bank.sr |= SR_PGSERR
            self.log(f"store to flash {address:#010x} with bank {n} locked or PG clear: PGSERR")
            return
        if bank.cr & CR_SER:
            bank.sr |= SR_INCERR
            self.log(f"store to flash {address:#010x} with SER and PG set: INCERR")
            return
        word = address - (address - self.cells.base) % WORD
        if address + size > word + WORD:
            bank.sr |= SR_INCERR
            self.log(f"{size}-byte store at {address:#010x} crosses a flash word: INCERR")
            return
        if bank.word is not None and bank.word != word:
            bank.sr |= SR_INCERR
            self.log(f"store into flash word {word:#010x} while the buffer holds part of {bank.word:#010x}: INCERR")
            return
        data = value.to_bytes(size, "little")
        for i in range(len(data)):
            at = address - word + i
            if at in bank.buffer:
                bank.sr |= SR_STRBERR
                self.log(f"byte {word + at:#010x} written twice into the write buffer: STRBERR")
                return
        for i, b in enumerate(data):
            bank.buffer[address - word + i] = b
        bank.word = word
        if len(bank.buffer) == WORD:
            self._program(bank)

    def _force_write(self, bank: _Bank) -> None:
        if not bank.buffer:
            return  # FW acts only on a partly filled buffer
        for i in range(WORD):
            bank.buffer.setdefault(i, 0xFF)
        self._program(bank)

    def _program(self, bank: _Bank) -> None:
        word, data = bank.word, bytes(bank.buffer[i] for i in range(WORD))
        bank.buffer, bank.word = {}, None
        assert word is not None
        if self.write_protected(word):
            bank.sr |= SR_WRPERR
            self.log(f"programming the write-protected flash word {word:#010x}: WRPERR")
            return
        if bank.sr & SR_ERRORS:
            self.violation(f"flash word {word:#010x} programmed with error flags {bank.sr & SR_ERRORS:#x} set")
        overwrite = not self.cells.is_erased(word, WORD) or self.cells.poisoned_in(word, WORD) is not None
        if overwrite:
            self.violation(f"programming flash word {word:#010x}, which is not erased (its ECC is lost)")
        if self.operate("program", word, WORD, PROGRAM_SECONDS, data):
            bank.busy_reads = self.busy_reads
            if overwrite:
                self.cells.poisoned.add(word)
                self.cells._changed()
            if bank.cr & CR_EOPIE:
                bank.sr |= SR_EOP

    # -- ECC ----------------------------------------------------------------------------------------------------
    precise_ecc_fault = True  # the machine raises the fault at the load instead of completing it

    def ecc_read(self, unit: int, address: int | None = None) -> None:
        """A CPU read (at `address`) hit a flash word with a double ECC error: DBECCERR, ECC_FA, and a precise
        bus error with the load's address in BFAR."""
        bank = self.banks[0 if unit - self.cells.base < BANK_SIZE else 1]
        if not bank.sr & SR_DBECCERR:
            bank.ecc_fa = ((unit - bank.base) // WORD) & 0x7FFF
        bank.sr |= SR_DBECCERR
        self.log(f"double ECC error reading {unit:#010x}: DBECCERR, bus error")
        where = unit if address is None else address
        self.machine.core.fault(BUSFAULT, CFSR_PRECISERR, address=where, why=f"flash ECC double error at {unit:#010x}")
