/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NOR command sequences over a memory-mapped serial-flash controller (xspi_nor.h), shared by the OCTOSPI
 * (STM32L4+) and QUADSPI (STM32F469) drivers. Compiles to nothing on boards without such a driver.
 *
 * Commands (SPI 1-1-1, the protocol every supported chip powers up in): 66/99 reset enable / reset,
 * 9F RDID, 06 WREN, 05 RDSR (bit 0 WIP), page program and sector erase with the opcodes of the chip's
 * address width. A program or erase is: WREN, the command, then RDSR until WIP clears. WEL is cleared by
 * the chip at the end of every program or erase, so each one gets its own WREN.
 *
 * Every wait ends: by port_millis() against its timeout, and by a loop count that takes at least as long
 * (while the application calls the update API, SysTick is the application's and port_millis() may stand
 * still). Timeouts: 10 ms for the controller, SPB_EXT_FLASH_ERASE_MS per erase, SPB_EXT_FLASH_PROGRAM_MS
 * per page program, 100 ms for the chip to answer after its reset.
 */
#include "xspi_nor.h"

#if defined(SPB_EXT_FLASH_DRIVER)

#include <stddef.h>
#include <string.h>

#include "port.h"

#if defined(SPB_CPU_CORTEX_M7)
#include "cortexm.h"
/* The window changed behind the L1 data cache an application may have turned on (port_stm32f7.c): drop its
 * lines before the verification reads them (the blank check before a program may have loaded them). */
#define WINDOW_CHANGED(addr, len) cm_cache_maintain((addr), (len))
#else
#define WINDOW_CHANGED(addr, len) ((void)0)
#endif

#define CMD_WREN  0x06u
#define CMD_RDSR  0x05u
#define CMD_RDID  0x9Fu
#define CMD_RSTEN 0x66u
#define CMD_RST   0x99u
/* Two dies side by side (QUADSPI dual-flash mode, SPB_EXT_FLASH_DIES 2): each program, erase and status frame
 * reaches both, one erase unit of the board is one unit of each die, a page program covers a page of each. */
#ifndef SPB_EXT_FLASH_DIES
#define SPB_EXT_FLASH_DIES 1u
#endif
#define DIE_SECTOR (SPB_EXT_FLASH_SECTOR_SIZE / SPB_EXT_FLASH_DIES)
#if SPB_EXT_FLASH_ADDR_BYTES == 4
#define CMD_PP    0x12u /* PP4B */
#define CMD_ERASE (DIE_SECTOR == 0x1000u ? 0x21u : 0xDCu) /* SE4B / BE4B */
#elif SPB_EXT_FLASH_ADDR_BYTES == 3
#define CMD_PP    0x02u
#define CMD_ERASE (DIE_SECTOR == 0x1000u ? 0x20u : 0xD8u) /* 4 KiB / 64 KiB */
#else
#error "SPB_EXT_FLASH_ADDR_BYTES must be 3 or 4"
#endif
_Static_assert(DIE_SECTOR == 0x1000u || DIE_SECTOR == 0x10000u, "the NOR driver erases 4 KiB or 64 KiB units");
#define SR_WIP 0x01u
#define PAGE   (256u * SPB_EXT_FLASH_DIES)

#define ERR_RANGE (-1)
#define ERR_ALIGN (-2)
#define ERR_NOT_BLANK (-3)
#define ERR_HW (-4)
#define ERR_VERIFY (-5)

#define MS_BUS 10u
#define MS_RESET 100u
/* Loop bounds that last at least the timeout: a register poll takes >= 4 CPU cycles, a status frame
 * >= 16 flash clocks. */
#define SPINS_PER_MS (SPB_SYSCLK_HZ / 4000u)
#define FRAMES_PER_MS (SPB_SYSCLK_HZ / SPB_EXT_FLASH_CLOCK_DIV / 16000u + 1u)

static bool s_ready;

static bool expired(uint32_t start, uint32_t ms, uint32_t n, uint32_t per_ms)
{
    return port_millis() - start > ms || n > ms * per_ms;
}

int xspi_wait_reg(const volatile uint32_t *reg, uint32_t mask, bool set)
{
    uint32_t start = port_millis();
    for (uint32_t n = 0; ((*reg & mask) != 0u) != set; n++) {
        if (expired(start, MS_BUS, n, SPINS_PER_MS)) {
            return XSPI_ERR_TIMEOUT;
        }
    }
    return 0;
}

/* WREN, then one program or erase frame, then RDSR until WIP clears. */
static int program_erase(uint32_t instruction, uint32_t at, const uint8_t *src, uint32_t len, uint32_t ms)
{
    int rc = xspi_hw_frame(XSPI_WRITE, CMD_WREN, 0u, NULL, 0u);
    if (rc == 0) {
        rc = xspi_hw_frame(XSPI_WRITE | XSPI_ADDR, instruction, at, (uint8_t *)(uintptr_t)src, len);
    }
    uint32_t start = port_millis();
    for (uint32_t n = 0; rc == 0; n++) {
        uint8_t status;
        rc = xspi_hw_frame(XSPI_READ, CMD_RDSR, 0u, &status, 1u);
        if (rc != 0 || (status & SR_WIP) == 0u) {
            break;
        }
        if (expired(start, ms, n, FRAMES_PER_MS)) {
            rc = XSPI_ERR_TIMEOUT;
        }
    }
    return rc;
}

/* The window holds expect[0..len) (0xFF everywhere when expect is NULL). */
static bool window_is(uint32_t addr, const uint8_t *expect, uint32_t len)
{
    const volatile uint8_t *w = (const volatile uint8_t *)(uintptr_t)addr;
    for (uint32_t i = 0; i < len; i++) {
        if (w[i] != (expect != NULL ? expect[i] : 0xFFu)) {
            return false;
        }
    }
    return true;
}

/* [addr, addr + len) ends inside the external flash (the port checked that addr lies in it). */
static bool fits(uint32_t addr, uint32_t len)
{
    return len <= SPB_EXT_FLASH_BASE + SPB_EXT_FLASH_SIZE - addr;
}

void xspi_init(void)
{
    if (!xspi_hw_init() || xspi_hw_frame(XSPI_WRITE, CMD_RSTEN, 0u, NULL, 0u) != 0 ||
        xspi_hw_frame(XSPI_WRITE, CMD_RST, 0u, NULL, 0u) != 0) {
        return;
    }
    uint32_t start = port_millis();
    for (uint32_t n = 0;; n++) {
        uint8_t id[3];
        if (xspi_hw_frame(XSPI_READ, CMD_RDID, 0u, id, 3u) != 0 || expired(start, MS_RESET, n, FRAMES_PER_MS)) {
            return;
        }
        if (((uint32_t)id[0] << 16 | (uint32_t)id[1] << 8 | id[2]) == SPB_EXT_FLASH_JEDEC_ID) {
            break;
        }
    }
    xspi_hw_mm_on();
    s_ready = true;
}

int xspi_erase(uint32_t addr)
{
    if (!s_ready) {
        return ERR_HW;
    }
    if ((addr - SPB_EXT_FLASH_BASE) % SPB_EXT_FLASH_SECTOR_SIZE != 0u) {
        return ERR_ALIGN;
    }
    xspi_hw_mm_off();
    int rc = program_erase(CMD_ERASE, addr - SPB_EXT_FLASH_BASE, NULL, 0u, SPB_EXT_FLASH_ERASE_MS);
    xspi_hw_mm_on();
    WINDOW_CHANGED(addr, SPB_EXT_FLASH_SECTOR_SIZE);
    if (rc == 0 && !window_is(addr, NULL, SPB_EXT_FLASH_SECTOR_SIZE)) {
        rc = ERR_VERIFY;
    }
    return rc;
}

int xspi_write(uint32_t addr, const void *data, uint32_t len)
{
    const uint8_t *src = data;
    if (!s_ready) {
        return ERR_HW;
    }
    if (!fits(addr, len) || xspi_contains((uint32_t)(uintptr_t)data)) {
        return ERR_RANGE; /* the source must stay readable while memory-mapped mode is off */
    }
#if SPB_EXT_FLASH_WRITE_SIZE > 1
    if ((addr | len) % SPB_EXT_FLASH_WRITE_SIZE != 0u) {
        return ERR_ALIGN;
    }
#endif
    if (!window_is(addr, NULL, len)) {
        return ERR_NOT_BLANK;
    }
    xspi_hw_mm_off();
    int rc = 0;
    for (uint32_t done = 0, n; rc == 0 && done < len; done += n) {
        n = PAGE - (addr + done) % PAGE; /* a page program wraps inside its page */
        if (n > len - done) {
            n = len - done;
        }
        rc = program_erase(CMD_PP, addr + done - SPB_EXT_FLASH_BASE, &src[done], n, SPB_EXT_FLASH_PROGRAM_MS);
    }
    xspi_hw_mm_on();
    WINDOW_CHANGED(addr, len);
    if (rc == 0 && !window_is(addr, src, len)) {
        rc = ERR_VERIFY;
    }
    return rc;
}

int xspi_read(uint32_t addr, void *dst, uint32_t len)
{
    if (!s_ready) {
        return ERR_HW;
    }
    if (!fits(addr, len)) {
        return ERR_RANGE;
    }
    memcpy(dst, (const void *)(uintptr_t)addr, len);
    return 0;
}

#elif defined(SPB_EXT_FLASH_KIND_OSPI) || defined(SPB_EXT_FLASH_KIND_QSPI)
#warning "external_flash without a driver's data (instance, pins...): the bootloader cannot reach that flash"
#endif
