/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port for the emulator board: Arm MPS2 FPGA image AN385 (Cortex-M3) as modelled by
 * `qemu-system-arm -M mps2-an385` (tests/support/qemu.py starts it).
 *
 * "Flash" is the 16 MiB PSRAM at 0x21000000 backed by a host file (QEMU memory-backend-file,
 * share=on): it keeps its content across guest resets and a killed QEMU, like real flash across a
 * power cut. Only SPB_FLASH_SIZE bytes from SPB_FLASH_BASE are flash; the driver below enforces the rules
 * of ECC flash (bootloader/port/port.h) and reports every violation as an error instead of silently
 * writing RAM:
 *   - erase: addr must be the first byte of an erase unit (SPB_FLASH_SECTOR_GROUPS); the unit is set
 *     to SPB_FLASH_ERASED_VALUE;
 *   - write: addr and len multiples of SPB_FLASH_WRITE_SIZE, inside flash, and every unit written must
 *     be blank. "Blank" is checked two ways: the unit reads all-erased AND its bit in the programmed
 *     bitmap is clear. The bitmap ("ECC shadow", one bit per write unit, 1 = programmed since the last
 *     erase) lives in the same file-backed PSRAM at MPS2_SHADOW_ADDR, above the flash, so it survives
 *     resets and power cuts exactly like the flash content and also catches a unit that was programmed
 *     with all-0xFF data and then programmed again. A freshly created file has a zero bitmap (nothing
 *     recorded), where the content check alone applies; an image placed by the host counts as
 *     programmed because its units are not blank.
 *   Units are checked one by one as they are programmed (like STM32 PROGERR): on an error the units
 *   before it stay programmed.
 *
 * Console: CMSDK APB UART (UART0 at 0x40004000 unless SPB_UART_INSTANCE says otherwise), polled.
 * Time: SysTick interrupt every millisecond on the 25 MHz processor clock (SPB_SYSCLK_HZ); SysTick is a
 * core exception, the bootloader enables no device interrupt.
 * No user button.
 */
#include <stdint.h>
#include <string.h>

#include "port.h"
#include "spb_board.h"
#include "../common/cortexm.h"
#include "../common/flash_geom.h"

/* Error codes of the flash driver (negative, see port.h). */
#define MPS2_FLASH_ERR_RANGE     (-1) /* outside SPB_FLASH_BASE .. + SPB_FLASH_SIZE */
#define MPS2_FLASH_ERR_ALIGN     (-2) /* erase not at a unit start, or write address/length misaligned */
#define MPS2_FLASH_ERR_NOT_BLANK (-3) /* write to a unit that is not erased (or programmed since erase) */

#ifndef SPB_SYSCLK_HZ
#define SPB_SYSCLK_HZ 25000000u /* AN385 FPGA system clock */
#endif

#define MPS2_SHADOW_ADDR 0x21F00000u /* 1 bit per write unit: 16 KiB for 1 MiB of 8-byte units */
#define MPS2_PSRAM_END   0x22000000u

_Static_assert(MPS2_SHADOW_ADDR >= SPB_FLASH_BASE + SPB_FLASH_SIZE, "ECC shadow overlaps the flash");
_Static_assert(MPS2_SHADOW_ADDR + SPB_FLASH_SIZE / SPB_FLASH_WRITE_SIZE / 8u <= MPS2_PSRAM_END,
               "ECC shadow does not fit in the PSRAM");

/* ---- CMSDK APB UART --------------------------------------------------------------------------- */

#ifndef SPB_UART_INSTANCE
#define SPB_UART_INSTANCE 0
#endif
#if SPB_UART_INSTANCE == 0
#define UART_BASE 0x40004000u
#elif SPB_UART_INSTANCE == 1
#define UART_BASE 0x40005000u
#elif SPB_UART_INSTANCE == 2
#define UART_BASE 0x40006000u
#elif SPB_UART_INSTANCE == 3
#define UART_BASE 0x40007000u
#elif SPB_UART_INSTANCE == 4
#define UART_BASE 0x40009000u
#else
#error "AN385 has UART0..UART4"
#endif

#define UART_DATA    SPB_REG32(UART_BASE + 0x00u)
#define UART_STATE   SPB_REG32(UART_BASE + 0x04u)
#define UART_CTRL    SPB_REG32(UART_BASE + 0x08u)
#define UART_BAUDDIV SPB_REG32(UART_BASE + 0x10u)
#define UART_STATE_TXFULL (1u << 0)
#define UART_STATE_RXFULL (1u << 1)
#define UART_CTRL_TXEN    (1u << 0)
#define UART_CTRL_RXEN    (1u << 1)

/* ---- time ----------------------------------------------------------------------------------- */

static volatile uint32_t s_millis;

void SysTick_Handler(void)
{
    s_millis++;
}

uint32_t port_millis(void)
{
    return s_millis;
}

/* ---- init / UART ---------------------------------------------------------------------------- */

void port_init(void)
{
    SCB_VTOR = SPB_BOOT_BASE; /* the bootloader's .isr_vector; we were started through the alias at 0 */
    cm_dsb();
    cm_isb();

    UART_CTRL = 0u;
    UART_BAUDDIV = SPB_SYSCLK_HZ / SPB_UART_BAUD; /* >= 16 required by the CMSDK UART */
    UART_CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN;

    s_millis = 0u;
    cm_systick_start(SPB_SYSCLK_HZ / 1000u);
    cm_irq_enable();
}

void port_uart_write(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (UART_STATE & UART_STATE_TXFULL) {
        }
        UART_DATA = data[i];
    }
}

int port_uart_read(uint8_t *byte, uint32_t timeout_ms)
{
    uint32_t start = port_millis();
    for (;;) {
        if (UART_STATE & UART_STATE_RXFULL) {
            *byte = (uint8_t)UART_DATA;
            return 1;
        }
        if ((uint32_t)(port_millis() - start) >= timeout_ms) {
            return 0;
        }
    }
}

bool port_button_pressed(void)
{
    return false;
}

/* ---- flash -------------------------------------------------------------------------------------- */

static volatile uint8_t *const s_shadow = (volatile uint8_t *)MPS2_SHADOW_ADDR;

static bool unit_blank(uint32_t addr)
{
    uint32_t unit = (addr - SPB_FLASH_BASE) / SPB_FLASH_WRITE_SIZE;
    if (s_shadow[unit / 8u] & (1u << (unit % 8u))) {
        return false;
    }
    const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)addr;
    for (uint32_t i = 0; i < SPB_FLASH_WRITE_SIZE; i++) {
        if (p[i] != (uint8_t)SPB_FLASH_ERASED_VALUE) {
            return false;
        }
    }
    return true;
}

int port_flash_erase(uint32_t addr)
{
    uint32_t size;
    if (!spb_in_flash(addr, 1u)) {
        return MPS2_FLASH_ERR_RANGE;
    }
    if (spb_sector_index(addr, &size) < 0) {
        return MPS2_FLASH_ERR_ALIGN;
    }
    /* Shadow first, then the cells: a power cut in between leaves cells that are not blank, which the
     * content check still refuses to program. */
    uint32_t first = (addr - SPB_FLASH_BASE) / SPB_FLASH_WRITE_SIZE;
    for (uint32_t u = first; u < first + size / SPB_FLASH_WRITE_SIZE; u++) {
        s_shadow[u / 8u] &= (uint8_t) ~(1u << (u % 8u));
    }
    volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)addr;
    const uint32_t erased = 0x01010101u * (uint8_t)SPB_FLASH_ERASED_VALUE;
    for (uint32_t i = 0; i < size / 4u; i++) {
        p[i] = erased;
    }
    return 0;
}

int port_flash_write(uint32_t addr, const void *data, uint32_t len)
{
    int rc = spb_flash_check_write(addr, len); /* MPS2_FLASH_ERR_RANGE / _ALIGN */
    if (rc != 0) {
        return rc;
    }
    const uint8_t *src = (const uint8_t *)data;
    for (uint32_t off = 0; off < len; off += SPB_FLASH_WRITE_SIZE) {
        uint32_t a = addr + off;
        if (!unit_blank(a)) {
            return MPS2_FLASH_ERR_NOT_BLANK;
        }
        uint32_t unit = (a - SPB_FLASH_BASE) / SPB_FLASH_WRITE_SIZE;
        volatile uint8_t *dst = (volatile uint8_t *)(uintptr_t)a;
        for (uint32_t i = 0; i < SPB_FLASH_WRITE_SIZE; i++) {
            dst[i] = src[off + i];
        }
        s_shadow[unit / 8u] |= (uint8_t)(1u << (unit % 8u));
    }
    return 0;
}

int port_flash_read(uint32_t addr, void *dst, uint32_t len)
{
    if (!spb_in_flash(addr, len)) {
        return MPS2_FLASH_ERR_RANGE;
    }
    memcpy(dst, (const void *)(uintptr_t)addr, len);
    return 0;
}

/* ---- reset / hand-over -------------------------------------------------------------------------- */

void port_reset(void)
{
    /* A short pause so a UART character in flight can leave (QEMU sends at once); not SysTick based,
     * port_reset() may run with interrupts off. */
    for (volatile uint32_t i = 0; i < 20000u; i++) {
    }
    cm_system_reset();
}

void port_jump_to_app(uint32_t vector_table)
{
    cm_quiesce();
    UART_CTRL = 0u;
    cm_jump(vector_table);
}
