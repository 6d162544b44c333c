/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Production mode's option bytes (src/protect.h) on the STM32H7 flash controller with two banks of 128 KiB
 * sectors (RM0399 4.4 "FLASH option bytes", 4.5 "FLASH protection mechanisms", 4.9 registers). Included by
 * the H7 port after its flash routines; compiled into production builds.
 *
 *   FLASH_OPTKEYR (+0x08) 0x08192A3B, 0x4C5D6E7F clears FLASH_OPTCR.OPTLOCK (b0); software writes
 *   FLASH_OPTSR_PRG (+0x20: RDP [15:8], SWAP_BANK_OPT b31 and the user bits) and FLASH_WPSN_PRG1R / 2R
 *   (+0x03C / +0x13C: WRPSn [7:0], one bit per sector of the bank, 0 = write-protected); OPTCR.OPTSTART (b1)
 *   programs them, OPTSR_CUR.OPT_BUSY (b0) is set meanwhile, OPTSR_CUR.OPTCHANGEERR (b30) reports a refusal.
 *   The _CUR registers hold the values in effect; a system reset follows anyway, like on the other
 *   controllers, so the boot restarts from a known state.
 *
 * The bootloader's code is its region, [SPB_BOOT_BASE, SPB_BOOT_BASE + SPB_BOOT_SIZE) (sector 0 of bank 1 on
 * DISCO-H745I); its journal is an erase unit outside it (the last sector of bank 2 there). SWAP_BANK_OPT is
 * the bootloader's: written 0, so an application cannot make the chip boot its own bank.
 */
#ifndef SPB_STM32_PROTECT_H7_H
#define SPB_STM32_PROTECT_H7_H

#if defined(SPB_PRODUCTION) && SPB_PRODUCTION

#include "protect.h"

#define H7_OPTKEYR    SPB_REG32(FLASH_R_BASE + 0x08u)
#define H7_OPTCR      SPB_REG32(FLASH_R_BASE + 0x18u)
#define H7_OPTSR_CUR  SPB_REG32(FLASH_R_BASE + 0x1Cu)
#define H7_OPTSR_PRG  SPB_REG32(FLASH_R_BASE + 0x20u)
#define H7_OPTCCR     SPB_REG32(FLASH_R_BASE + 0x24u)
#define H7_WPSN_CUR(bank) SPB_REG32(FLASH_R_BASE + 0x38u + 0x100u * (bank))
#define H7_WPSN_PRG(bank) SPB_REG32(FLASH_R_BASE + 0x3Cu + 0x100u * (bank))
#define H7_OPTCR_OPTLOCK     (1u << 0)
#define H7_OPTCR_OPTSTART    (1u << 1)
#define H7_OPTSR_OPT_BUSY    (1u << 0)
#define H7_OPTSR_CHANGEERR   (1u << 30)
#define H7_OPTSR_SWAP_BANK   (1u << 31)
#define H7_SECTOR            0x20000u
#define H7_BANK              0x100000u

/* Sector bits per bank (bank 0 in [7:0], bank 1 in [15:8]) of [start, start + size). */
static inline uint32_t h7_sectors(uint32_t start, uint32_t size)
{
    uint32_t bits = 0u;
    for (uint32_t a = start; a < start + size; a += H7_SECTOR) {
        bits |= 1u << ((a - SPB_FLASH_BASE) / H7_SECTOR);
    }
    return bits;
}

static inline uint8_t h7_rdp_level(uint32_t byte)
{
    return byte == 0xAAu ? 0u : byte == 0xCCu ? 2u : 1u;
}

int port_protection_read(protection_t *now)
{
    uint32_t code = h7_sectors(SPB_BOOT_BASE, SPB_BOOT_SIZE), journal = h7_sectors(SPB_JOURNAL_ADDR, SPB_JOURNAL_SIZE);
    uint32_t wrp = (~H7_WPSN_CUR(0) & 0xFFu) | (~H7_WPSN_CUR(1) & 0xFFu) << 8;
    uint32_t optsr = H7_OPTSR_CUR;
    now->rdp = h7_rdp_level(optsr >> 8 & 0xFFu);
    now->code = (wrp & code) == code;
    now->journal = (wrp & journal) == journal;
    now->other = (wrp & ~(code | journal)) != 0u || ((wrp & code) != 0u && !now->code) ||
                 ((wrp & journal) != 0u && !now->journal) || (optsr & H7_OPTSR_SWAP_BANK) != 0u;
    return 0;
}

int port_protection_apply(const protection_t *want)
{
    uint32_t protect = (want->code ? h7_sectors(SPB_BOOT_BASE, SPB_BOOT_SIZE) : 0u) |
                       (want->journal ? h7_sectors(SPB_JOURNAL_ADDR, SPB_JOURNAL_SIZE) : 0u);
    if (H7_OPTCR & H7_OPTCR_OPTLOCK) {
        H7_OPTKEYR = 0x08192A3Bu;
        H7_OPTKEYR = 0x4C5D6E7Fu;
    }
    if (H7_OPTCR & H7_OPTCR_OPTLOCK) {
        return ERR_HW;
    }
    uint32_t optsr = H7_OPTSR_CUR;
    uint32_t rdp = optsr >> 8 & 0xFFu;
    if (want->rdp == 2u) {
        rdp = 0xCCu;
    } else if (want->rdp == 1u && h7_rdp_level(rdp) == 0u) {
        rdp = 0xBBu;
    }
    H7_OPTCCR = H7_OPTSR_CHANGEERR;
    H7_OPTSR_PRG = (optsr & ~(0xFF00u | H7_OPTSR_SWAP_BANK | H7_OPTSR_OPT_BUSY | H7_OPTSR_CHANGEERR)) | rdp << 8;
    for (uint32_t bank = 0u; bank < 2u; bank++) {
        H7_WPSN_PRG(bank) = (H7_WPSN_PRG(bank) & ~0xFFu) | (~(protect >> (8u * bank)) & 0xFFu);
    }
    H7_OPTCR |= H7_OPTCR_OPTSTART;
    for (uint32_t n = SPB_SYSCLK_HZ; (H7_OPTSR_CUR & H7_OPTSR_OPT_BUSY) != 0u; n--) {
        if (n == 0u) {
            return ERR_TIMEOUT;
        }
    }
    uint32_t failed = H7_OPTSR_CUR & H7_OPTSR_CHANGEERR;
    H7_OPTCR |= H7_OPTCR_OPTLOCK;
    if (failed) {
        return ERR_HW;
    }
    port_reset(); /* start the boot again from the protections now in effect */
}

#endif
#endif
