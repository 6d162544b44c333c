/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sector flash controller of the STM32F4 and STM32F7 ("generation C"), shared by their ports: the F7
 * kept the F4's controller (RM0090 section 3 "Embedded Flash memory interface", RM0386 for the F469/F479,
 * RM0410 section 3 for the F76x/F77x): KEYR 0x45670123 / 0xCDEF89AB, SR 0x0C (EOP b0, OPERR b1, WRPERR b4,
 * PGAERR b5, PGPERR b6, b7 = PGSERR on the F4 / ERSERR on the F7, RDERR b8 on the F4 parts with PCROP, BSY
 * b16), CR 0x10 (PG b0, SER b1, SNB [7:3], PSIZE [9:8], STRT b16, LOCK b31).
 *
 * Sector erase with SNB computed from SPB_FLASH_SECTOR_GROUPS; where the board numbers sectors per bank
 * (SPB_FLASH_BANK2_BASE: the F42x/F43x/F469 2 MiB parts, the F76x/F77x in dual-bank mode) the sectors of
 * bank 2 are encoded SNB = 0b1_xxxx. Word programming with PSIZE = x32 (SPB_FLASH_WRITE_SIZE 4, supply
 * 2.7-3.6 V); every word is checked erased first (no ECC on F4/F7 flash, but port.h allows one program per
 * unit per erase) and read back. Errors of FLASH_SR are reported (-4); the flash is locked after every
 * operation.
 *
 * The port defines, before including this header once:
 *   STM32_SECTOR_SR_ERRORS       the error bits of its FLASH_SR
 *   stm32_sector_flushed(a, n, erased)   static function called after every erase (erased = true) and
 *                                every word program of [a, a + n): the port resets what may hold stale
 *                                copies of the flash (the F4's instruction and data caches of FLASH_ACR after
 *                                an erase, the F7's ART accelerator and Cortex-M7 L1 data cache) before the
 *                                result is read back
 */
#ifndef SPB_STM32_FLASH_SECTOR_H
#define SPB_STM32_FLASH_SECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cortexm.h"
#include "flash_geom.h"
#include "spb_board.h"

#if SPB_FLASH_WRITE_SIZE != 4
#error "the F4/F7 sector flash driver programs words (PSIZE x32): flash.write_size must be 4"
#endif

#define STM32_SECTOR_R_BASE 0x40023C00u
#define STM32_SECTOR_ACR    SPB_REG32(STM32_SECTOR_R_BASE + 0x00u)
#define STM32_SECTOR_KEYR   SPB_REG32(STM32_SECTOR_R_BASE + 0x04u)
#define STM32_SECTOR_SR     SPB_REG32(STM32_SECTOR_R_BASE + 0x0Cu)
#define STM32_SECTOR_CR     SPB_REG32(STM32_SECTOR_R_BASE + 0x10u)
#define STM32_SECTOR_OPTCR  SPB_REG32(STM32_SECTOR_R_BASE + 0x14u)
#define STM32_SECTOR_SR_EOP (1u << 0)
#define STM32_SECTOR_SR_BSY (1u << 16)
#define STM32_SECTOR_CR_PG  (1u << 0)
#define STM32_SECTOR_CR_SER (1u << 1)
#define STM32_SECTOR_CR_SNB_POS 3u
#define STM32_SECTOR_CR_SNB_MASK (0x1Fu << 3)
#define STM32_SECTOR_CR_PSIZE_X32 (2u << 8)
#define STM32_SECTOR_CR_PSIZE_MASK (3u << 8)
#define STM32_SECTOR_CR_STRT (1u << 16)
#define STM32_SECTOR_CR_LOCK (1u << 31)

#define STM32_SECTOR_ERR_RANGE (-1)
#define STM32_SECTOR_ERR_ALIGN (-2)
#define STM32_SECTOR_ERR_NOT_BLANK (-3)
#define STM32_SECTOR_ERR_HW (-4)
#define STM32_SECTOR_ERR_VERIFY (-5)

static void stm32_sector_unlock(void)
{
    while (STM32_SECTOR_SR & STM32_SECTOR_SR_BSY) {
    }
    if (STM32_SECTOR_CR & STM32_SECTOR_CR_LOCK) {
        STM32_SECTOR_KEYR = 0x45670123u;
        STM32_SECTOR_KEYR = 0xCDEF89ABu;
    }
    STM32_SECTOR_SR = STM32_SECTOR_SR_ERRORS | STM32_SECTOR_SR_EOP;
}

static int stm32_sector_finish(uint32_t cr_bits)
{
    while (STM32_SECTOR_SR & STM32_SECTOR_SR_BSY) {
    }
    uint32_t sr = STM32_SECTOR_SR;
    STM32_SECTOR_SR = STM32_SECTOR_SR_ERRORS | STM32_SECTOR_SR_EOP;
    STM32_SECTOR_CR &= ~cr_bits;
    return (sr & STM32_SECTOR_SR_ERRORS) ? STM32_SECTOR_ERR_HW : 0;
}

/* FLASH_CR.SNB of the sector starting at addr, or -1. */
static int32_t stm32_sector_snb(uint32_t addr, uint32_t *size)
{
    int32_t index = spb_sector_index(addr, size);
#if defined(SPB_FLASH_BANK2_BASE)
    if (index >= 0 && addr >= SPB_FLASH_BANK2_BASE) {
        uint32_t unused;
        index = 0x10 | (index - spb_sector_index(SPB_FLASH_BANK2_BASE, &unused));
    }
#endif
    return index;
}

/* Erase the internal-flash sector starting at addr, then check it reads erased. */
static int stm32_sector_erase(uint32_t addr)
{
    uint32_t size;
    if (addr < SPB_FLASH_BASE || addr - SPB_FLASH_BASE >= SPB_FLASH_SIZE) {
        return STM32_SECTOR_ERR_RANGE;
    }
    int32_t snb = stm32_sector_snb(addr, &size);
    if (snb < 0) {
        return STM32_SECTOR_ERR_ALIGN;
    }
    stm32_sector_unlock();
    STM32_SECTOR_CR = (STM32_SECTOR_CR & ~(STM32_SECTOR_CR_SNB_MASK | STM32_SECTOR_CR_PSIZE_MASK)) |
                      STM32_SECTOR_CR_SER | STM32_SECTOR_CR_PSIZE_X32 | ((uint32_t)snb << STM32_SECTOR_CR_SNB_POS);
    STM32_SECTOR_CR |= STM32_SECTOR_CR_STRT;
    int rc = stm32_sector_finish(STM32_SECTOR_CR_SER | STM32_SECTOR_CR_SNB_MASK);
    STM32_SECTOR_CR |= STM32_SECTOR_CR_LOCK;
    stm32_sector_flushed(addr, size, true);

    if (rc == 0) {
        const volatile uint32_t *p = (const volatile uint32_t *)(uintptr_t)addr;
        for (uint32_t i = 0; i < size / 4u; i++) {
            if (p[i] != 0xFFFFFFFFu) {
                return STM32_SECTOR_ERR_VERIFY;
            }
        }
    }
    return rc;
}

/* Program whole words into erased internal flash, each read back. */
static int stm32_sector_write(uint32_t addr, const void *data, uint32_t len)
{
    int rc = spb_flash_check_write(addr, len);
    if (rc != 0) {
        return rc;
    }
    const uint8_t *src = (const uint8_t *)data;
    stm32_sector_unlock();
    STM32_SECTOR_CR = (STM32_SECTOR_CR & ~STM32_SECTOR_CR_PSIZE_MASK) | STM32_SECTOR_CR_PSIZE_X32;
    for (uint32_t off = 0; off < len && rc == 0; off += 4u) {
        volatile uint32_t *dst = (volatile uint32_t *)(uintptr_t)(addr + off);
        uint32_t word = (uint32_t)src[off] | (uint32_t)src[off + 1u] << 8 | (uint32_t)src[off + 2u] << 16 |
                        (uint32_t)src[off + 3u] << 24;
        if (*dst != 0xFFFFFFFFu) { /* no ECC here, but the port.h rule is one program per erase */
            rc = STM32_SECTOR_ERR_NOT_BLANK;
            break;
        }
        STM32_SECTOR_CR |= STM32_SECTOR_CR_PG;
        *dst = word;
        rc = stm32_sector_finish(STM32_SECTOR_CR_PG);
        stm32_sector_flushed(addr + off, 4u, false);
        if (rc == 0 && *dst != word) {
            rc = STM32_SECTOR_ERR_VERIFY;
        }
    }
    STM32_SECTOR_CR |= STM32_SECTOR_CR_LOCK;
    return rc;
}

/* Read internal flash (memory-mapped; no ECC on the F4/F7). */
static int stm32_sector_read(uint32_t addr, void *dst, uint32_t len)
{
    if (!spb_in_flash(addr, len)) {
        return STM32_SECTOR_ERR_RANGE;
    }
    memcpy(dst, (const void *)(uintptr_t)addr, len);
    return 0;
}

#endif
