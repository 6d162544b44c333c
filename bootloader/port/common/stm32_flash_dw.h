/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The FLASH controller of "generation B" (../shared/reference/stm32-flash.md): STM32L4/L4+ (RM0394,
 * RM0351, RM0432 section 3), G0 (RM0444 section 3), G4 (RM0440 section 3) and WL (RM0453 / RM0461
 * section 3). One driver for all of them; a port states the differences before including this header:
 *
 *   STM32_DW_REGS       base of the FLASH registers (0x4002_2000; WL: 0x5800_4000)
 *   STM32_DW_PNB_MASK   FLASH_CR.PNB width from bit 3 (L4 0xFF, L41x 0x3F, G4/WL 0x7F, G0B1 0x3FF)
 *   STM32_DW_BKER       FLASH_CR bit selecting bank 2 for a page erase (L4/L4+/G4 bit 11, G0B1 bit 13);
 *                       used only when the board has SPB_FLASH_BANK2_BASE
 *   STM32_DW_BANK2_PNB  PNB of the first page of bank 2: 0 where pages are numbered per bank (RM0351,
 *                       RM0432, RM0440: PNB counts from the bank start); 256 on the G0B1 (RM0444 3.3.1
 *                       numbers bank-2 pages 256..383, selected with BKER as well)
 *   STM32_DW_SR_BUSY    FLASH_SR bits to wait for: BSY (bit 16); G0B1 also BSY2 (bit 17); G0 and WL also
 *                       CFGBSY (bit 18: "programming or erase configuration busy", set from the first
 *                       word of a double word until the operation ends)
 *   STM32_DW_ACR_CACHES FLASH_ACR cache enables (ICEN bit 9 | DCEN bit 10; the G0 has no data cache)
 *   STM32_DW_ACR_RESETS FLASH_ACR cache resets (ICRST bit 11 | DCRST bit 12; G0: ICRST only)
 *   STM32_DW_ECCR2      optional: a second ECC register (G0B1: FLASH_ECC2R for bank 2)
 *
 * Key sequence, register offsets KEYR 0x08, SR 0x10, CR 0x14, ECCR 0x18 and the bits PG, PER, STRT, LOCK
 * and the error flags are the same on all of them (stm32-flash.md section 1 and 5). The sequences are those
 * of the manuals' "Flash program and erase operations": wait until not busy, clear old error flags, page
 * erase with PER + PNB (+ BKER) + STRT, programming as two 32-bit stores into one double word with PG set,
 * every wait bounded (STM32_DW_ERR_TIMEOUT), every error flag reported, LOCK set again after every
 * operation, caches reset after an erase. Every read of the flash - the driver's own blank and verify reads
 * included - goes through stm32_ecc_copy(): a double word torn by a power cut reads as an error (ECCD and
 * the NMI, turned into STM32_ECC_ERROR by stm32_dw_nmi()), never as a fatal fault.
 *
 * Include after spb_board.h, cortexm.h, flash_geom.h and stm32_ecc.h. The port defines stm32_ecc_guard,
 * stm32_ecc_fault and an NMI_Handler that calls stm32_dw_nmi().
 */
#ifndef SPB_STM32_FLASH_DW_H
#define SPB_STM32_FLASH_DW_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if SPB_FLASH_WRITE_SIZE != 8
#error "this flash programs double words: flash.write_size must be 8"
#endif
#if !defined(STM32_DW_REGS) || !defined(STM32_DW_PNB_MASK) || !defined(STM32_DW_SR_BUSY) ||                  \
    !defined(STM32_DW_ACR_CACHES) || !defined(STM32_DW_ACR_RESETS)
#error "define the STM32_DW_* parameters of the flash controller before including stm32_flash_dw.h"
#endif
#if defined(SPB_FLASH_BANK2_BASE) && (!defined(STM32_DW_BKER) || !defined(STM32_DW_BANK2_PNB))
#error "a dual-bank board needs STM32_DW_BKER and STM32_DW_BANK2_PNB"
#endif

#define STM32_DW_ACR  SPB_REG32(STM32_DW_REGS + 0x00u)
#define STM32_DW_KEYR SPB_REG32(STM32_DW_REGS + 0x08u)
/* Offsets of SR, CR and ECCR: 0x10 / 0x14 / 0x18 unless the port says otherwise (the L5 with TrustZone
 * disabled uses its non-secure FLASH_NSSR 0x20 / FLASH_NSCR 0x28 and FLASH_ECCR 0x30, RM0438 6.9; its
 * FLASH_NSKEYR is at 0x08 like KEYR). */
#ifndef STM32_DW_SR_OFFSET
#define STM32_DW_SR_OFFSET   0x10u
#define STM32_DW_CR_OFFSET   0x14u
#define STM32_DW_ECCR_OFFSET 0x18u
#endif
#define STM32_DW_SR   SPB_REG32(STM32_DW_REGS + STM32_DW_SR_OFFSET)
#define STM32_DW_CR   SPB_REG32(STM32_DW_REGS + STM32_DW_CR_OFFSET)
#define STM32_DW_ECCR SPB_REG32(STM32_DW_REGS + STM32_DW_ECCR_OFFSET)

#define STM32_DW_SR_EOP    (1u << 0)
#ifndef STM32_DW_SR_ERRORS /* L5 FLASH_NSSR: 0xFA (no MISERR/FASTERR/RDERR, RM0438 6.9.8) */
#define STM32_DW_SR_ERRORS 0xC3FAu /* OPERR PROGERR WRPERR PGAERR SIZERR PGSERR MISERR FASTERR RDERR OPTVERR */
#endif
#define STM32_DW_CR_PG     (1u << 0)
#define STM32_DW_CR_PER    (1u << 1)
#define STM32_DW_CR_STRT   (1u << 16)
#define STM32_DW_CR_LOCK   (1u << 31)
#define STM32_DW_PNB_FIELD (STM32_DW_PNB_MASK << 3)
#if defined(SPB_FLASH_BANK2_BASE)
#define STM32_DW_CR_BKER STM32_DW_BKER
#else
#define STM32_DW_CR_BKER 0u
#endif

#define STM32_DW_ERR_RANGE     (-1)
#define STM32_DW_ERR_ALIGN     (-2)
#define STM32_DW_ERR_NOT_BLANK (-3)
#define STM32_DW_ERR_HW        (-4) /* a FLASH_SR error flag */
#define STM32_DW_ERR_VERIFY    (-5) /* read back differs */
#define STM32_DW_ERR_TIMEOUT   (-7) /* the controller stayed busy */

/* Polls of FLASH_SR before giving up: each takes a few cycles, so this lasts well over a second at
 * SPB_SYSCLK_HZ, against 40 ms for the slowest page erase in the datasheets. Counted, not timed: while the
 * application calls the update API the SysTick is the application's. */
#define STM32_DW_WAIT_POLLS (SPB_SYSCLK_HZ / 2u)

/* From NMI_Handler: true if this NMI was an ECC double error during a guarded read (now handled). */
static inline bool stm32_dw_nmi(void)
{
#if defined(STM32_DW_ECCR2)
    return stm32_ecc_nmi(&STM32_DW_ECCR) || stm32_ecc_nmi(&SPB_REG32(STM32_DW_ECCR2));
#else
    return stm32_ecc_nmi(&STM32_DW_ECCR);
#endif
}

static inline int stm32_dw_wait(void)
{
    for (uint32_t n = STM32_DW_WAIT_POLLS; (STM32_DW_SR & STM32_DW_SR_BUSY) != 0u;) {
        if (--n == 0u) {
            return STM32_DW_ERR_TIMEOUT;
        }
    }
    return 0;
}

/* True if [addr, addr + len) reads as erased; an ECC error counts as not erased. */
static inline bool stm32_dw_blank(uint32_t addr, uint32_t len)
{
    uint32_t chunk[8];
    while (len > 0u) {
        uint32_t n = len < sizeof chunk ? len : (uint32_t)sizeof chunk;
        if (stm32_ecc_copy(chunk, addr, n) != 0) {
            return false;
        }
        for (uint32_t i = 0; i < n / 4u; i++) {
            if (chunk[i] != 0xFFFFFFFFu) {
                return false;
            }
        }
        addr += n;
        len -= n;
    }
    return true;
}

/* Not busy, unlocked, old flags cleared (an error flag left set would refuse the next operation with
 * PGSERR). */
static inline int stm32_dw_unlock(void)
{
    int rc = stm32_dw_wait();
    if (rc != 0) {
        return rc;
    }
    if (STM32_DW_CR & STM32_DW_CR_LOCK) {
        STM32_DW_KEYR = 0x45670123u;
        STM32_DW_KEYR = 0xCDEF89ABu;
    }
    STM32_DW_SR = STM32_DW_SR_ERRORS | STM32_DW_SR_EOP; /* write 1 to clear */
    return 0;
}

/* Wait for the end of the operation, collect its error flags, clear cr_bits; then lock. */
static inline int stm32_dw_finish(uint32_t cr_bits)
{
    int rc = stm32_dw_wait();
    uint32_t sr = STM32_DW_SR;
    STM32_DW_SR = STM32_DW_SR_ERRORS | STM32_DW_SR_EOP;
    if (rc == 0) {
        STM32_DW_CR &= ~cr_bits;
        rc = (sr & STM32_DW_SR_ERRORS) ? STM32_DW_ERR_HW : 0;
    }
    return rc;
}

static inline void stm32_dw_lock(void)
{
    STM32_DW_CR |= STM32_DW_CR_LOCK;
}

/* Erase the page starting at addr (inside internal flash), then check it reads erased. */
static inline int stm32_dw_erase(uint32_t addr)
{
    uint32_t size;
    if (addr < SPB_FLASH_BASE || addr - SPB_FLASH_BASE >= SPB_FLASH_SIZE) {
        return STM32_DW_ERR_RANGE;
    }
    int32_t index = spb_sector_index(addr, &size);
    if (index < 0) {
        return STM32_DW_ERR_ALIGN;
    }
    uint32_t cr = STM32_DW_CR_PER;
#if defined(SPB_FLASH_BANK2_BASE)
    if (addr >= SPB_FLASH_BANK2_BASE) {
        uint32_t bank2_size;
        index = index - spb_sector_index(SPB_FLASH_BANK2_BASE, &bank2_size) + STM32_DW_BANK2_PNB;
        cr |= STM32_DW_CR_BKER;
    }
#endif
    cr |= ((uint32_t)index & STM32_DW_PNB_MASK) << 3;

    int rc = stm32_dw_unlock();
    if (rc == 0) {
        STM32_DW_CR = (STM32_DW_CR & ~(STM32_DW_PNB_FIELD | STM32_DW_CR_BKER)) | cr;
        STM32_DW_CR |= STM32_DW_CR_STRT;
        rc = stm32_dw_finish(STM32_DW_CR_PER | STM32_DW_CR_BKER | STM32_DW_PNB_FIELD);
    }
    stm32_dw_lock();

    /* Stale lines of the erased page must not be served from the caches: reset them while disabled. */
#if STM32_DW_ACR_CACHES != 0 /* the L5's FLASH_ACR has no cache bits (its ICACHE is a separate block) */
    uint32_t acr = STM32_DW_ACR;
    STM32_DW_ACR = acr & ~STM32_DW_ACR_CACHES;
    STM32_DW_ACR = (acr & ~STM32_DW_ACR_CACHES) | STM32_DW_ACR_RESETS;
    STM32_DW_ACR = acr;
#endif

    if (rc == 0 && !stm32_dw_blank(addr, size)) {
        return STM32_DW_ERR_VERIFY;
    }
    return rc;
}

/* Program len bytes (whole double words) at addr; every double word must read erased first. */
static inline int stm32_dw_write(uint32_t addr, const void *data, uint32_t len)
{
    int rc = spb_flash_check_write(addr, len);
    if (rc != 0) {
        return rc;
    }
    const uint8_t *src = (const uint8_t *)data;
    rc = stm32_dw_unlock();
    for (uint32_t off = 0; off < len && rc == 0; off += 8u) {
        volatile uint32_t *dst = (volatile uint32_t *)(uintptr_t)(addr + off);
        uint32_t word[2];
        memcpy(word, &src[off], sizeof word);
        if (!stm32_dw_blank(addr + off, 8u)) {
            rc = STM32_DW_ERR_NOT_BLANK;
            break;
        }
        STM32_DW_CR |= STM32_DW_CR_PG;
        dst[0] = word[0]; /* the two words of one double word, in order */
        dst[1] = word[1];
        rc = stm32_dw_finish(STM32_DW_CR_PG);
        uint32_t back[2];
        if (rc == 0 &&
            (stm32_ecc_copy(back, addr + off, sizeof back) != 0 || memcmp(back, word, sizeof back) != 0)) {
            rc = STM32_DW_ERR_VERIFY;
        }
    }
    stm32_dw_lock();
    return rc;
}

static inline int stm32_dw_read(uint32_t addr, void *dst, uint32_t len)
{
    if (!spb_in_flash(addr, len)) {
        return STM32_DW_ERR_RANGE;
    }
    return stm32_ecc_copy(dst, addr, len);
}

#endif
