/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Production mode's option bytes (src/protect.h) on the sector flash controller of the STM32F4 (RM0090
 * 3.6 "Option bytes", 3.7 "Flash memory protection") and F7 (RM0410 3.4-3.5). Included by the port after
 * stm32_flash_sector.h; compiled into production builds.
 *
 *   FLASH_OPTCR (+0x14): OPTLOCK b0, OPTSTRT b1, RDP [15:8] (0xAA level 0, 0xCC level 2, else level 1),
 *   nWRP [27:16]: one bit per sector of bank 1 (sectors 0-11), 0 = write-protected; SPRMOD b31 on the
 *   F42x/F43x/F469 turns those bits into PCROP selections: production mode wants it clear.
 *   FLASH_OPTCR1 (+0x18) nWRP [27:16]: sectors 12-23, bank 2 of the dual-bank parts.
 *   Sequence ("Modifying user option bytes"): OPTKEYR (+0x08) 0x08192A3B, 0x4C5D6E7F clears OPTLOCK;
 *   write OPTCR(1); set OPTSTRT; wait for BSY to clear. The values are used from the next reset on
 *   (software waiting for a reset is right either way, stm32-flash.md section 8), so a system reset follows.
 *
 * Every programming also writes the bits the port owns (STM32_SECTOR_OPTCR_OWNED_MASK / _VALUE: the
 * F4's BFB2 b4 and DB1M b30 cleared, boot from bank 1 with the 2-Mbyte organisation; the F7's nDBOOT b28
 * and nDBANK b29 set, single bank) and, on the F7, OPTCR1 (BOOT_ADD0/1) to the part's shipped value: an
 * application cannot move the boot to its own code, and option bytes a power cut tore are rewritten to
 * what the board needs rather than carried over.
 *
 * The bootloader's code sectors are 0 .. (journal's sector - 1), the journal one or more whole sectors
 * after them, all in bank 1.
 */
#ifndef SPB_STM32_PROTECT_SECTOR_H
#define SPB_STM32_PROTECT_SECTOR_H

#if defined(SPB_PRODUCTION) && SPB_PRODUCTION

#include "protect.h"

#define STM32_SECTOR_OPTKEYR SPB_REG32(STM32_SECTOR_R_BASE + 0x08u)
#define STM32_SECTOR_OPTCR1  SPB_REG32(STM32_SECTOR_R_BASE + 0x18u)
#define STM32_SECTOR_OPTCR_OPTLOCK (1u << 0)
#define STM32_SECTOR_OPTCR_OPTSTRT (1u << 1)
#define STM32_SECTOR_OPTCR_NWRP    (0xFFFu << 16)
#ifndef STM32_SECTOR_OPTCR_OWNED_MASK
#error "the port defines STM32_SECTOR_OPTCR_OWNED_MASK / _VALUE"
#endif
#if defined(STM32_SECTOR_HAS_SPRMOD)
#define STM32_SECTOR_OPTCR_SPRMOD (1u << 31)
#else
#define STM32_SECTOR_OPTCR_SPRMOD 0u
#endif

/* Bit masks (sector i = bit i) of the code sectors and the journal's sectors. */
static inline void stm32_sector_protect_sets(uint32_t *code, uint32_t *journal)
{
    uint32_t size;
    int32_t first = spb_sector_index(SPB_JOURNAL_ADDR, &size);
    uint32_t n = 0u;
    for (uint32_t covered = 0u; covered < SPB_JOURNAL_SIZE; n++) {
        int32_t i = spb_sector_index(SPB_JOURNAL_ADDR + covered, &size);
        if (i < 0) {
            break;
        }
        covered += size;
    }
    *code = first > 0 ? (1u << first) - 1u : 0u;
    *journal = ((1u << n) - 1u) << first;
}

static inline uint8_t stm32_rdp_level(uint32_t byte)
{
    return byte == 0xAAu ? 0u : byte == 0xCCu ? 2u : 1u;
}

int port_protection_read(protection_t *now)
{
    uint32_t code, journal;
    stm32_sector_protect_sets(&code, &journal);
    uint32_t optcr = STM32_SECTOR_OPTCR;
    uint32_t protected_ = ~optcr >> 16 & 0xFFFu;
    now->rdp = stm32_rdp_level(optcr >> 8 & 0xFFu);
    now->code = (protected_ & code) == code;
    now->journal = (protected_ & journal) == journal;
    /* anything but "all of a set or none of it" is a state production mode does not leave */
    now->other = (optcr & STM32_SECTOR_OPTCR_OWNED_MASK) != STM32_SECTOR_OPTCR_OWNED_VALUE ||
#if defined(STM32_SECTOR_OPTCR1_VALUE)
                 STM32_SECTOR_OPTCR1 != STM32_SECTOR_OPTCR1_VALUE ||
#endif
                 (protected_ & ~(code | journal)) != 0u || ((protected_ & code) != 0u && !now->code) ||
                 ((protected_ & journal) != 0u && !now->journal) || (optcr & STM32_SECTOR_OPTCR_SPRMOD) != 0u;
#if defined(SPB_FLASH_BANK2_BASE)
    now->other = now->other || (~STM32_SECTOR_OPTCR1 & STM32_SECTOR_OPTCR_NWRP) != 0u;
#endif
    return 0;
}

int port_protection_apply(const protection_t *want)
{
    uint32_t code, journal;
    stm32_sector_protect_sets(&code, &journal);
    while (STM32_SECTOR_SR & STM32_SECTOR_SR_BSY) {
    }
    STM32_SECTOR_SR = STM32_SECTOR_SR_ERRORS | STM32_SECTOR_SR_EOP;
    if (STM32_SECTOR_OPTCR & STM32_SECTOR_OPTCR_OPTLOCK) {
        STM32_SECTOR_OPTKEYR = 0x08192A3Bu;
        STM32_SECTOR_OPTKEYR = 0x4C5D6E7Fu;
    }
    uint32_t optcr = STM32_SECTOR_OPTCR;
    if (optcr & STM32_SECTOR_OPTCR_OPTLOCK) {
        return STM32_SECTOR_ERR_HW;
    }
    uint32_t rdp = optcr >> 8 & 0xFFu;
    if (want->rdp == 2u) {
        rdp = 0xCCu;
    } else if (want->rdp == 1u && stm32_rdp_level(rdp) == 0u) {
        rdp = 0xBBu;
    }
    uint32_t protect = (want->code ? code : 0u) | (want->journal ? journal : 0u);
    optcr &= ~(STM32_SECTOR_OPTCR_NWRP | STM32_SECTOR_OPTCR_SPRMOD | 0xFF00u | STM32_SECTOR_OPTCR_OPTSTRT |
               STM32_SECTOR_OPTCR_OWNED_MASK);
    optcr |= (~protect & 0xFFFu) << 16 | rdp << 8 | STM32_SECTOR_OPTCR_OWNED_VALUE;
#if defined(SPB_FLASH_BANK2_BASE)
    STM32_SECTOR_OPTCR1 |= STM32_SECTOR_OPTCR_NWRP;
#endif
#if defined(STM32_SECTOR_OPTCR1_VALUE)
    STM32_SECTOR_OPTCR1 = STM32_SECTOR_OPTCR1_VALUE;
#endif
    STM32_SECTOR_OPTCR = optcr;
    STM32_SECTOR_OPTCR = optcr | STM32_SECTOR_OPTCR_OPTSTRT;
    while (STM32_SECTOR_SR & STM32_SECTOR_SR_BSY) {
    }
    uint32_t sr = STM32_SECTOR_SR;
    STM32_SECTOR_SR = STM32_SECTOR_SR_ERRORS | STM32_SECTOR_SR_EOP;
    STM32_SECTOR_OPTCR |= STM32_SECTOR_OPTCR_OPTLOCK;
    if (sr & STM32_SECTOR_SR_ERRORS) {
        return STM32_SECTOR_ERR_HW;
    }
    port_reset(); /* the new option bytes apply from the reset on */
}

#endif
#endif
