/* SPDX-License-Identifier: Apache-2.0 */
/*
 * External NOR flash on the STM32L4+ OCTOSPI (ospi.c). Present when the board's [external_flash] has
 * kind = "ospi" and the driver data (instance, port, pins): SPB_EXT_FLASH_OSPI_INSTANCE is defined then.
 * Error codes continue port_stm32l4.c's (-1 range, -2 alignment, -3 not blank, -4 hardware, -5 verify).
 */
#ifndef SPB_OSPI_H
#define SPB_OSPI_H

#include <stdbool.h>
#include <stdint.h>

#include "spb_board.h"

#if defined(SPB_EXT_FLASH_OSPI_INSTANCE)

#define OSPI_ERR_TIMEOUT (-7)

/* Clocks, pins, OCTOSPIM, controller; the chip brought to SPI from whatever mode it is in and checked
 * by its JEDEC ID; memory-mapped mode on. Call after the SysTick runs. On failure every other call
 * returns an error. */
void ospi_init(void);

static inline bool ospi_contains(uint32_t addr)
{
    return addr >= SPB_EXT_FLASH_BASE && addr - SPB_EXT_FLASH_BASE < SPB_EXT_FLASH_SIZE;
}

/* One 4 KiB sector (addr inside the flash, the port checks that), then verified erased. */
int ospi_erase(uint32_t addr);

/* Into erased cells (else -3), split at 256-byte pages, then verified. data must not lie in the window
 * (-1): memory-mapped mode is off while the pages are programmed. */
int ospi_write(uint32_t addr, const void *data, uint32_t len);

/* A memcpy from the memory-mapped window. Memory-mapped mode is on whenever none of these runs, so the
 * hand-over to the application needs nothing: MultiSegment code executes from the window. */
int ospi_read(uint32_t addr, void *dst, uint32_t len);

#endif

#endif
