/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Production mode's option bytes (src/protect.h) on the STM32L0 NVM controller ("generation A": PECR with
 * key registers; RM0367 3.3.4 "Option bytes programming", 3.4 "Option bytes", 3.7 "Flash memory
 * protection"). Included by the L0 port after its flash routines (flash_unlock, flash_finish,
 * flash_lock); compiled into production builds.
 *
 *   The option bytes are words in their own area at 0x1FF8_0000, each holding its value in [15:0] and the
 *   complement in [31:16]: +0x00 RDPROT [7:0] and WPRMOD b8 (0: the WRPROT bits are write protection),
 *   +0x04 USER (BOR_LEV, WDG_SW, nRST_STOP/STDBY, BFB2 b7, nBOOT1), +0x08 / +0x0C WRPROT1 [15:0] /
 *   [31:16], +0x10 WRPROT2 [15:0]: one bit per 4 KiB sector, 1 = write-protected.
 *   Loaded: FLASH_OPTR (+0x1C) RDPROT [7:0], USER in [31:16]; FLASH_WRPROT1 (+0x20), WRPROT2 (+0x80).
 *   Sequence: PEKEYR 0x89ABCDEF, 0x02030405 clears PELOCK; OPTKEYR (+0x14) 0xFBEAD9C8, 0x24252627 clears
 *   OPTLOCK; each word is programmed by a 32-bit store, BSY waited for; PECR.OBL_LAUNCH (b18) reloads them
 *   through a system reset.
 *
 * Write protection is per 4 KiB sector while the journal is one 128-byte page: the journal's sector holds
 * the last bootloader code too, so "the journal's protection" is that whole sector's, lifted only for an
 * install (the application does not run then). At RDP level 2 it could never be lifted: the build refuses
 * PRODUCTION_RDP=2 on these boards. Every programming writes all five words (a torn word makes every word
 * load as 0xFFFF [U]), USER with BFB2 cleared (boot from bank 1) and WPRMOD cleared; RDP last.
 */
#ifndef SPB_STM32_PROTECT_PECR_H
#define SPB_STM32_PROTECT_PECR_H

#if defined(SPB_PRODUCTION) && SPB_PRODUCTION

#include "protect.h"

#define PECR_OB_BASE       0x1FF80000u
#define PECR_OPTKEYR       SPB_REG32(FLASH_R_BASE + 0x14u)
#define PECR_OPTR          SPB_REG32(FLASH_R_BASE + 0x1Cu)
#define PECR_WRPROT1       SPB_REG32(FLASH_R_BASE + 0x20u)
#define PECR_WRPROT2       SPB_REG32(FLASH_R_BASE + 0x80u)
#define PECR_OPTLOCK       (1u << 2)
#define PECR_OBL_LAUNCH    (1u << 18)
#define PECR_WRP_SECTOR    0x1000u
#define PECR_USER_BFB2     (1u << 7)
#define PECR_JOURNAL_FIRST ((SPB_JOURNAL_ADDR - SPB_FLASH_BASE) / PECR_WRP_SECTOR)
#define PECR_JOURNAL_LAST  ((SPB_JOURNAL_ADDR + SPB_JOURNAL_SIZE - 1u - SPB_FLASH_BASE) / PECR_WRP_SECTOR)
_Static_assert(PECR_JOURNAL_FIRST > 0u && PECR_JOURNAL_LAST < 48u, "the journal must lie in sectors 1..47");
_Static_assert(SPB_PRODUCTION_RDP != 2, "RDP level 2 would freeze the journal's sector (shared with code)");

static inline uint64_t pecr_bits(uint32_t first, uint32_t last)
{
    return ((1ull << (last + 1u)) - 1u) & ~((1ull << first) - 1u);
}

static inline uint8_t pecr_rdp_level(uint32_t byte)
{
    return byte == 0xAAu ? 0u : byte == 0xCCu ? 2u : 1u;
}

int port_protection_read(protection_t *now)
{
    uint64_t code = pecr_bits(0u, PECR_JOURNAL_FIRST - 1u), journal = pecr_bits(PECR_JOURNAL_FIRST, PECR_JOURNAL_LAST);
    uint64_t wrp = (uint64_t)PECR_WRPROT1 | (uint64_t)(PECR_WRPROT2 & 0xFFFFu) << 32;
    uint32_t optr = PECR_OPTR;
    now->rdp = pecr_rdp_level(optr & 0xFFu);
    now->code = (wrp & code) == code;
    now->journal = (wrp & journal) == journal;
    now->other = (wrp & ~(code | journal)) != 0u || ((wrp & code) != 0u && !now->code) ||
                 ((wrp & journal) != 0u && !now->journal) || (optr & (1u << 8)) != 0u ||
                 (optr >> 16 & PECR_USER_BFB2) != 0u;
    return 0;
}

static int pecr_ob_word(uint32_t offset, uint32_t value)
{
    value &= 0xFFFFu;
    *(volatile uint32_t *)(uintptr_t)(PECR_OB_BASE + offset) = value | (~value & 0xFFFFu) << 16;
    return flash_finish();
}

int port_protection_apply(const protection_t *want)
{
    uint64_t wrp = (want->code ? pecr_bits(0u, PECR_JOURNAL_FIRST - 1u) : 0u) |
                   (want->journal ? pecr_bits(PECR_JOURNAL_FIRST, PECR_JOURNAL_LAST) : 0u);
    uint32_t optr = PECR_OPTR;
    uint32_t rdp = optr & 0xFFu;
    if (want->rdp == 1u && pecr_rdp_level(rdp) == 0u) {
        rdp = 0xBBu;
    }
    flash_unlock();
    if (FLASH_PECR & PECR_OPTLOCK) {
        PECR_OPTKEYR = 0xFBEAD9C8u;
        PECR_OPTKEYR = 0x24252627u;
    }
    int rc = (FLASH_PECR & PECR_OPTLOCK) ? ERR_HW : 0;
    if (rc == 0) {
        rc = pecr_ob_word(0x08u, (uint32_t)wrp);
    }
    if (rc == 0) {
        rc = pecr_ob_word(0x0Cu, (uint32_t)(wrp >> 16));
    }
    if (rc == 0) {
        rc = pecr_ob_word(0x10u, (uint32_t)(wrp >> 32));
    }
    if (rc == 0) {
        rc = pecr_ob_word(0x04u, (optr >> 16) & ~PECR_USER_BFB2);
    }
    if (rc == 0) {
        rc = pecr_ob_word(0x00u, rdp); /* WPRMOD (b8) 0: write protection, not PCROP */
    }
    if (rc == 0) {
        FLASH_PECR |= PECR_OBL_LAUNCH; /* option byte loading: a system reset */
        for (volatile uint32_t n = 0u; n < 1000000u; n++) {
        }
        rc = ERR_HW;
    }
    flash_lock();
    return rc;
}

#endif
#endif
