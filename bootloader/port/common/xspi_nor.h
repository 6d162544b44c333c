/* SPDX-License-Identifier: Apache-2.0 */
/*
 * External NOR flash behind a memory-mapped serial-flash controller: what the OCTOSPI driver of the
 * STM32L4+ (port/stm32l4/ospi.c) and the QUADSPI driver of the STM32F469 (port/stm32f4/qspi.c) share.
 * Present when the board's [external_flash] gives a driver's data: the generated header then defines
 * SPB_EXT_FLASH_DRIVER (and SPB_EXT_FLASH_OSPI_INSTANCE or SPB_EXT_FLASH_QSPI for the controller).
 *
 * Shared here (xspi_nor.c): the NOR command sequences - the chip's software reset and the JEDEC ID check
 * at init, write enable + page program / sector erase + status polling until WIP clears, programs split at
 * 256-byte pages, blank check before and verification after through the memory-mapped window - every
 * wait bounded by a timeout, and the range test the ports use to dispatch port_flash_* calls between
 * internal and external flash. All commands are SPI 1-1-1 frames; the opcodes follow the chip's address
 * width (SPB_EXT_FLASH_ADDR_BYTES: 4 -> 12 PP4B, 21 SE4B / DC BE4B; 3 -> 02 PP, 20 SSE / D8 SE).
 *
 * Each controller driver supplies the xspi_hw_* functions below: its clocks and pins, the framing of one
 * command in its registers, and memory-mapped mode on (the resting state: reads are a memcpy from the
 * window and MultiSegment code executes from it) and off (around program and erase).
 *
 * Error codes continue the ports' (-1 range, -2 alignment, -3 not blank, -4 hardware, -5 verify).
 */
#ifndef SPB_XSPI_NOR_H
#define SPB_XSPI_NOR_H

#include <stdbool.h>
#include <stdint.h>

#include "spb_board.h"

#if defined(SPB_EXT_FLASH_DRIVER)

#define XSPI_ERR_TIMEOUT (-7)

/* Shapes of the frames the shared code sends (all on one line): an instruction, with an address of
 * SPB_EXT_FLASH_ADDR_BYTES bytes (XSPI_ADDR), then len data bytes written from or read into buf. */
#define XSPI_WRITE 0u
#define XSPI_READ 1u
#define XSPI_ADDR 2u

/* Clocks, pins, VDDIO2 ... of the controller, enabled, and the chip's software reset framed for every wider
 * protocol it may have been left in (the shared code then sends the SPI one). false: the controller did
 * not respond; the external flash stays unusable. */
bool xspi_hw_init(void);

/* One indirect frame; 0 or XSPI_ERR_TIMEOUT. The caller has left memory-mapped mode. */
int xspi_hw_frame(uint32_t shape, uint32_t instruction, uint32_t address, uint8_t *buf, uint32_t len);

/* Memory-mapped mode with the driver's read command; its end (abort) before indirect frames. */
void xspi_hw_mm_on(void);
void xspi_hw_mm_off(void);

/* For the controller drivers: wait until one of mask's bits of *reg is set (set = true) or all of them
 * are clear, within the bus timeout (10 ms); 0 or XSPI_ERR_TIMEOUT. */
int xspi_wait_reg(const volatile uint32_t *reg, uint32_t mask, bool set);

/* Controller and chip set up and checked by the JEDEC ID, memory-mapped mode on. Call once the SysTick
 * runs (the waits use port_millis()). On failure every other call returns an error. */
void xspi_init(void);

/* The port's dispatch: addr lies in the external flash. */
static inline bool xspi_contains(uint32_t addr)
{
    return addr >= SPB_EXT_FLASH_BASE && addr - SPB_EXT_FLASH_BASE < SPB_EXT_FLASH_SIZE;
}

/* One SPB_EXT_FLASH_SECTOR_SIZE unit (addr inside the flash, the port checks that), verified erased. */
int xspi_erase(uint32_t addr);

/* Into erased cells (else -3), split at 256-byte pages, then verified. data must not lie in the window
 * (-1): memory-mapped mode is off while the pages are programmed. */
int xspi_write(uint32_t addr, const void *data, uint32_t len);

/* A memcpy from the memory-mapped window. */
int xspi_read(uint32_t addr, void *dst, uint32_t len);

#endif

#endif
