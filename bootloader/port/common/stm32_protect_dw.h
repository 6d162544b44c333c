/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Production mode's option bytes (src/protect.h) on the "generation B" flash controller: STM32L4/L4+
 * (RM0394, RM0351, RM0432 3.4 "FLASH option bytes", 3.5 "FLASH memory protection"), G0 (RM0444 3.4-3.5),
 * G4 (RM0440 3.4-3.5), WL (RM0453 3.4-3.5) and the L5 with TrustZone disabled (RM0438 6.4-6.5, through
 * its non-secure registers). Included by the port after stm32_flash_dw.h; compiled into production builds.
 *
 *   FLASH_OPTR [7:0] RDP: 0xAA level 0, 0xCC level 2, anything else level 1.
 *   FLASH_WRP1AR / WRP1BR: two write-protected areas of bank 1, pages STRT [m:0] to END [16+m:16]
 *   inclusive, counted from the bank's first page; STRT > END: the area is empty. WRP2AR / WRP2BR: the
 *   same for bank 2 of the dual-bank parts. The fields are as wide as a bank's page numbers (8 bits on
 *   the L4/L4+, 6 on the L41x, 7 on the G0/G4/WL/L5): the mask is computed from the board's geometry.
 *   Sequence ("Modifying user option bytes"): LOCK cleared (KEYR), then OPTKEYR 0x08192A3B, 0x4C5D6E7F
 *   clears OPTLOCK; write the option registers; set OPTSTRT; wait for BSY to clear; then OBL_LAUNCH
 *   reloads the option bytes through a system reset: they are in effect after it, not before.
 *
 * Area A protects the bootloader's code pages, area B the install journal's pages; both lie in bank 1
 * (the bootloader region starts the flash).
 *
 * Every programming also writes the bank organisation and boot-bank bits OPTR [22:20] to the boards' value
 * (STM32_DW_OPTR_OWNED_VALUE; as shipped: BFB2 / SWAP_BANK = 0, boot from bank 1; DUALBANK / DB1M / DBANK
 * bits 1; reserved 1 on the single-bank parts): an application that set BFB2 to start its own code from
 * bank 2 finds it cleared before it runs again, and option bytes a power cut tore (loaded as fallback
 * values with OPTVERR) are rewritten to what the board needs rather than carried over.
 *
 * PCROP (FLASH_PCROP1SR/ER 0x24/0x28, bank 2 0x44/0x48; not on the L5): production mode defines no
 * execute-only area, so each pair is written STRT > END (no area; PCROP_RDP and the other bits kept) -
 * which also repairs the all-ones a torn option area loads.
 *
 * A port may set, before including: STM32_DW_OPTKEYR_OFFSET (0x0C; L5 0x10), STM32_DW_OPTR_OFFSET (0x20;
 * L5 0x40), STM32_DW_WRP1_OFFSET (0x2C; L5 0x58), STM32_DW_WRP2_OFFSET (0x4C; L5 0x68).
 */
#ifndef SPB_STM32_PROTECT_DW_H
#define SPB_STM32_PROTECT_DW_H

#if defined(SPB_PRODUCTION) && SPB_PRODUCTION

#include "protect.h"

#ifndef STM32_DW_OPTKEYR_OFFSET
#define STM32_DW_OPTKEYR_OFFSET 0x0Cu
#define STM32_DW_OPTR_OFFSET    0x20u
#define STM32_DW_WRP1_OFFSET    0x2Cu
#define STM32_DW_WRP2_OFFSET    0x4Cu
#endif
#define STM32_DW_OPTKEYR SPB_REG32(STM32_DW_REGS + STM32_DW_OPTKEYR_OFFSET)
#define STM32_DW_OPTR    SPB_REG32(STM32_DW_REGS + STM32_DW_OPTR_OFFSET)
#define STM32_DW_WRPAR(bank) SPB_REG32(STM32_DW_REGS + ((bank) ? STM32_DW_WRP2_OFFSET : STM32_DW_WRP1_OFFSET))
#define STM32_DW_WRPBR(bank) SPB_REG32(STM32_DW_REGS + ((bank) ? STM32_DW_WRP2_OFFSET : STM32_DW_WRP1_OFFSET) + 4u)
#ifndef STM32_DW_OPTR_OWNED_MASK
#define STM32_DW_OPTR_OWNED_MASK  (0x7u << 20)
#define STM32_DW_OPTR_OWNED_VALUE (0x6u << 20)
#endif
#define STM32_DW_PCROP_SR(bank) SPB_REG32(STM32_DW_REGS + ((bank) ? 0x44u : 0x24u))
#define STM32_DW_PCROP_ER(bank) SPB_REG32(STM32_DW_REGS + ((bank) ? 0x48u : 0x28u))
#define STM32_DW_CR_OPTSTRT    (1u << 17)
#define STM32_DW_CR_OBL_LAUNCH (1u << 27)
#define STM32_DW_CR_OPTLOCK    (1u << 30)

#if defined(SPB_FLASH_BANK2_BASE)
#define STM32_DW_BANK_PAGES ((SPB_FLASH_BANK2_BASE - SPB_FLASH_BASE) / SPB_FLASH_PAGE_SIZE)
#else
#define STM32_DW_BANK_PAGES (SPB_FLASH_SIZE / SPB_FLASH_PAGE_SIZE)
#endif
#if defined(SPB_FLASH_BANK2_BASE)
#define STM32_DW_BANKS 2u
#else
#define STM32_DW_BANKS 1u
#endif
/* The first page of the journal and the last: the code is pages 0 .. JOURNAL_FIRST - 1. */
#define STM32_DW_JOURNAL_FIRST ((SPB_JOURNAL_ADDR - SPB_FLASH_BASE) / SPB_FLASH_PAGE_SIZE)
#define STM32_DW_JOURNAL_LAST  ((SPB_JOURNAL_ADDR + SPB_JOURNAL_SIZE - SPB_FLASH_BASE) / SPB_FLASH_PAGE_SIZE - 1u)
_Static_assert(SPB_JOURNAL_ADDR % SPB_FLASH_PAGE_SIZE == 0u && SPB_JOURNAL_SIZE % SPB_FLASH_PAGE_SIZE == 0u,
               "the journal must be whole pages");
_Static_assert(STM32_DW_JOURNAL_FIRST > 0u && STM32_DW_JOURNAL_LAST < STM32_DW_BANK_PAGES,
               "production mode needs the bootloader's code and journal in bank 1");

/* WRPxyR field mask: as many bits as a bank's page numbers need. */
static inline uint32_t stm32_dw_wrp_mask(void)
{
    uint32_t mask = 1u;
    while (mask < STM32_DW_BANK_PAGES - 1u) {
        mask = mask << 1 | 1u;
    }
    return mask;
}

/* 0: the area is empty; 1: exactly pages first..last; -1: anything else. */
static inline int stm32_dw_area_is(uint32_t reg, uint32_t first, uint32_t last)
{
    uint32_t m = stm32_dw_wrp_mask(), strt = reg & m, end = reg >> 16 & m;
    if (strt > end) {
        return 0;
    }
    return strt == first && end == last ? 1 : -1;
}

static inline uint32_t stm32_dw_area(uint32_t reg, bool on, uint32_t first, uint32_t last)
{
    uint32_t m = stm32_dw_wrp_mask();
    reg &= ~(m | m << 16);
    return on ? reg | first | last << 16 : reg | m; /* STRT = all ones > END = 0: empty */
}

static inline uint8_t stm32_rdp_level(uint32_t byte)
{
    return byte == 0xAAu ? 0u : byte == 0xCCu ? 2u : 1u;
}

int port_protection_read(protection_t *now)
{
    int a = stm32_dw_area_is(STM32_DW_WRPAR(0), 0u, STM32_DW_JOURNAL_FIRST - 1u);
    int b = stm32_dw_area_is(STM32_DW_WRPBR(0), STM32_DW_JOURNAL_FIRST, STM32_DW_JOURNAL_LAST);
    now->rdp = stm32_rdp_level(STM32_DW_OPTR & 0xFFu);
    now->code = a == 1;
    now->journal = b == 1;
    now->other = a < 0 || b < 0 || (STM32_DW_OPTR & STM32_DW_OPTR_OWNED_MASK) != STM32_DW_OPTR_OWNED_VALUE;
#if defined(SPB_FLASH_BANK2_BASE)
    now->other = now->other || stm32_dw_area_is(STM32_DW_WRPAR(1), 0u, 0u) != 0 ||
                 stm32_dw_area_is(STM32_DW_WRPBR(1), 0u, 0u) != 0;
#endif
    return 0;
}

int port_protection_apply(const protection_t *want)
{
    int rc = stm32_dw_unlock();
    if (rc != 0) {
        return rc;
    }
    if (STM32_DW_CR & STM32_DW_CR_OPTLOCK) {
        STM32_DW_OPTKEYR = 0x08192A3Bu;
        STM32_DW_OPTKEYR = 0x4C5D6E7Fu;
    }
    if (STM32_DW_CR & STM32_DW_CR_OPTLOCK) {
        stm32_dw_lock();
        return STM32_DW_ERR_HW;
    }
    uint32_t optr = STM32_DW_OPTR;
    uint32_t rdp = optr & 0xFFu;
    if (want->rdp == 2u) {
        rdp = 0xCCu;
    } else if (want->rdp == 1u && stm32_rdp_level(rdp) == 0u) {
        rdp = 0xBBu;
    }
    STM32_DW_OPTR = (optr & ~(0xFFu | STM32_DW_OPTR_OWNED_MASK)) | STM32_DW_OPTR_OWNED_VALUE | rdp;
    STM32_DW_WRPAR(0) = stm32_dw_area(STM32_DW_WRPAR(0), want->code, 0u, STM32_DW_JOURNAL_FIRST - 1u);
    STM32_DW_WRPBR(0) = stm32_dw_area(STM32_DW_WRPBR(0), want->journal, STM32_DW_JOURNAL_FIRST, STM32_DW_JOURNAL_LAST);
#if !defined(STM32_DW_NO_PCROP)
    for (uint32_t bank = 0u; bank < (STM32_DW_BANKS); bank++) {
        STM32_DW_PCROP_SR(bank) |= 0xFFFFu; /* STRT all ones > END 0: no area */
        STM32_DW_PCROP_ER(bank) &= ~0xFFFFu;
    }
#endif
#if defined(SPB_FLASH_BANK2_BASE)
    STM32_DW_WRPAR(1) = stm32_dw_area(STM32_DW_WRPAR(1), false, 0u, 0u);
    STM32_DW_WRPBR(1) = stm32_dw_area(STM32_DW_WRPBR(1), false, 0u, 0u);
#endif
    STM32_DW_CR |= STM32_DW_CR_OPTSTRT;
    rc = stm32_dw_finish(0u);
    if (rc == 0) {
        STM32_DW_CR |= STM32_DW_CR_OBL_LAUNCH; /* option byte loading: a system reset */
        for (volatile uint32_t n = 0u; n < 1000000u; n++) {
        }
        rc = STM32_DW_ERR_TIMEOUT;
    }
    stm32_dw_lock();
    return rc;
}

#endif
#endif
