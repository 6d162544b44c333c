/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading flash that may hold a torn programming unit, on STM32 flash with ECC double-error detection
 * (L4/L4+, and the same FLASH IP on G0, G4, WL and L5).
 *
 * A double word whose programming (or erase) was cut by a power loss keeps data and check bits that
 * disagree. Reading it sets FLASH_ECCR.ECCD and raises the NMI (RM0394 / RM0351 / RM0432 3.3.2 "Error
 * code correction"). Without care that NMI is fatal, and since the next boot reads the same marker or
 * header again, the board would reset forever.
 *
 * Every flash read of the port goes through stm32_ecc_copy(): it raises a guard flag around the copy.
 * The port's NMI_Handler calls stm32_ecc_nmi(): an ECC double error during a guarded read clears ECCD,
 * records the fault and returns; the copy then reports STM32_ECC_ERROR, which the core treats like any
 * unreadable flash (a marker reads as set, a header or image as invalid). An ECC NMI outside a guarded
 * read, or any other NMI source, stays fatal (the caller resets).
 */
#ifndef SPB_STM32_ECC_H
#define SPB_STM32_ECC_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cortexm.h"

#define STM32_ECC_ERROR (-6)
#define STM32_ECCR_ECCD (1u << 31)

extern volatile uint8_t stm32_ecc_guard;
extern volatile uint8_t stm32_ecc_fault;

/* Copy len bytes of memory-mapped flash at addr; 0, or STM32_ECC_ERROR if any double word of the range
 * read with an uncorrectable ECC error (dst then holds unspecified bytes for it). */
static inline int stm32_ecc_copy(void *dst, uint32_t addr, uint32_t len)
{
    stm32_ecc_fault = 0u;
    stm32_ecc_guard = 1u;
    cm_dsb();
    memcpy(dst, (const void *)(uintptr_t)addr, len);
    cm_dsb(); /* the NMI of the last read is taken before the flag is looked at */
    cm_isb();
    stm32_ecc_guard = 0u;
    return stm32_ecc_fault != 0u ? STM32_ECC_ERROR : 0;
}

/* From NMI_Handler: true if this NMI was an ECC double error during a guarded read (now handled). */
static inline bool stm32_ecc_nmi(volatile uint32_t *eccr)
{
    if ((*eccr & STM32_ECCR_ECCD) == 0u) {
        return false;
    }
    *eccr = STM32_ECCR_ECCD; /* write 1 to clear; ECCIE stays 0 */
    if (stm32_ecc_guard == 0u) {
        return false;
    }
    stm32_ecc_fault = 1u;
    return true;
}

#endif
