/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port for STM32L552 / L562 with TrustZone disabled (RM0438; Cortex-M33). Everything board-specific comes
 * from spb_board.h. With TZEN = 0 the whole chip is non-secure: code runs from the non-secure flash alias
 * 0x0800_0000 and every peripheral is reached through its non-secure alias 0x4xxx_xxxx (RM0438 2.3 memory
 * map); the flash is programmed through the non-secure key, status and control registers.
 *
 * Shared with the L4 port (the same RCC layout, U(S)ARTs, GPIO block and VDDIO2 rail, RM0438 sections 9,
 * 8, 13, 47): the clock set-up of port/common/stm32_l4rcc.h and the console, button, SysTick, reset and
 * hand-over of port/common/stm32_port_glue.h. What is the L5's own:
 * - Power (RM0438 8.3 "Dynamic voltage scaling management"): PWR_CR1.VOS selects range 0 (00, up to
 *   110 MHz), range 1 (01, up to 80 MHz) or range 2 (10, the reset value, up to 26 MHz); PWR_SR2.VOSF is
 *   set while the regulator moves. Above 80 MHz range 0 and the AHB /2 step of the clock switch.
 * - Wait states (RM0438 6.3.3, table "Number of wait states according to CPU clock (HCLK) frequency"):
 *   20 MHz per wait state in ranges 0 and 1, 8/16/26 MHz in range 2. FLASH_ACR has no prefetch or cache
 *   bits: the instruction cache ICACHE (RM0438 section 7, 0x4003_0400) is a separate block that does not
 *   see flash operations. It is off after reset and the bootloader leaves it off, but an application
 *   (CubeMX enables it by default) calls the update API with it on: then every erase and program runs
 *   with ICACHE disabled (its verify reads see the array) and the cache is invalidated (CACHEINV, BUSYF)
 *   before it is enabled again, so no line of the old content is ever served.
 * - GPIO ports on AHB2 at 0x4202_0000 (non-secure alias).
 * - Flash (RM0438 section 6): generation B with the non-secure registers FLASH_NSKEYR 0x08, FLASH_NSSR
 *   0x20, FLASH_NSCR 0x28 and FLASH_ECCR 0x30 (port/common/stm32_flash_dw.h): page erase with NSPER,
 *   NSPNB [9:3] (0..127, per bank) and NSBKER (bit 11), double-word programming with NSPG, error flags
 *   NSOPERR, NSPROGERR, NSWRPERR, NSPGAERR, NSSIZERR, NSPGSERR (0xFA), ECC double error -> NMI.
 * - Option bytes (FLASH_OPTR 0x40, RM0438 6.9.15): the board's flash geometry needs a given bank mode:
 *   DBANK = 1 (two banks of 128 pages of 2 KiB, bank 2 at base + 256 KiB; the factory setting) when the
 *   board file has flash.bank2_base, DBANK = 0 (one bank of 128 pages of 4 KiB) when it does not; and
 *   TZEN = 0. Otherwise every page number this port computes would name another page: the bootloader
 *   says so, as the original does ("System Security Configuration failed: DBANK is incorrect"), and stays
 *   in the loader without touching the flash.
 */
#include <stdint.h>

#include "log.h"
#include "port.h"
#include "spb_board.h"

#define GPIO_BASE(port) (0x42020000u + 0x400u * (port))
#if SPB_SYSCLK_HZ > 80000000u
#define VOS_RANGE 0u /* range 0 */
#define L4RCC_FLASH_WS ((SPB_SYSCLK_HZ - 1u) / 20000000u)
#define L4RCC_AHB_STEP 1
#elif SPB_SYSCLK_HZ > 26000000u
#define VOS_RANGE 1u /* range 1 */
#define L4RCC_FLASH_WS ((SPB_SYSCLK_HZ - 1u) / 20000000u)
#define L4RCC_AHB_STEP 0
#else
#define VOS_RANGE 2u /* range 2 */
#define L4RCC_FLASH_WS (SPB_SYSCLK_HZ <= 8000000u ? 0u : SPB_SYSCLK_HZ <= 16000000u ? 1u : 2u)
#define L4RCC_AHB_STEP 0
#endif
_Static_assert(SPB_SYSCLK_HZ <= 110000000u, "STM32L5: SYSCLK is at most 110 MHz");
#define L4RCC_ACR_BITS 0u
#include "../common/stm32_l4rcc.h"

#include "../common/flash_geom.h"
#include "../common/stm32_ecc.h"
#define STM32_DW_REGS        0x40022000u
#define STM32_DW_SR_OFFSET   0x20u /* FLASH_NSSR */
#define STM32_DW_CR_OFFSET   0x28u /* FLASH_NSCR */
#define STM32_DW_ECCR_OFFSET 0x30u
#define STM32_DW_SR_ERRORS   0xFAu /* NSOPERR NSPROGERR NSWRPERR NSPGAERR NSSIZERR NSPGSERR */
#define STM32_DW_PNB_MASK    0x7Fu
#define STM32_DW_BKER        (1u << 11)
#define STM32_DW_BANK2_PNB   0u /* RM0438 6.3.1: pages are numbered per bank */
#define STM32_DW_SR_BUSY     (1u << 16)
#define STM32_DW_ACR_CACHES  0u
#define STM32_DW_ACR_RESETS  0u
#include "../common/stm32_flash_dw.h"
/* option registers with TrustZone disabled (RM0438 6.9): FLASH_OPTKEYR 0x10, FLASH_OPTR 0x40,
 * FLASH_WRP1AR/BR 0x58/0x5C, FLASH_WRP2AR/BR 0x68/0x6C */
#define STM32_DW_OPTKEYR_OFFSET 0x10u
#define STM32_DW_OPTR_OFFSET    0x40u
#define STM32_DW_WRP1_OFFSET    0x58u
#define STM32_DW_WRP2_OFFSET    0x68u
#define STM32_DW_NO_PCROP /* the L5 has no PCROP registers (RM0438 6.9) */
#include "../common/stm32_protect_dw.h" /* production builds only */

#define ICACHE_CR          SPB_REG32(0x40030400u)
#define ICACHE_SR          SPB_REG32(0x40030404u)
#define ICACHE_CR_EN       (1u << 0)
#define ICACHE_CR_CACHEINV (1u << 1)
#define ICACHE_SR_BUSYF    (1u << 0)
#define ICACHE_WAIT_LOOPS  100000u /* a full invalidation takes a few hundred cycles */

#define FLASH_OPTR       SPB_REG32(0x40022040u)
#define FLASH_OPTR_DBANK (1u << 22)
#define FLASH_OPTR_TZEN  (1u << 31)
#if defined(SPB_FLASH_BANK2_BASE)
#define OPTR_DBANK_WANTED FLASH_OPTR_DBANK
#else
#define OPTR_DBANK_WANTED 0u
#endif

static void l4rcc_power_up(void)
{
#if VOS_RANGE == 0u
    PWR_CR1 &= ~(3u << 9);
#else
    PWR_CR1 = (PWR_CR1 & ~(3u << 9)) | (VOS_RANGE << 9);
#endif
    while (PWR_SR2 & PWR_SR2_VOSF) {
    }
}

/* The option bytes this board's layout assumes; otherwise say so and never return (nothing is written). */
static void check_options(void)
{
    uint32_t optr = FLASH_OPTR;
    if ((optr & FLASH_OPTR_DBANK) == OPTR_DBANK_WANTED && (optr & FLASH_OPTR_TZEN) == 0u) {
        return;
    }
    if ((optr & FLASH_OPTR_DBANK) != OPTR_DBANK_WANTED) {
        log_line("System Security Configuration failed: DBANK is incorrect %08x", optr);
    } else {
        log_line("System Security Configuration failed: TZEN is set %08x", optr);
    }
    log_line("The flash layout of %s needs DBANK=%u TZEN=0: staying in the bootloader.", SPB_BOARD_NAME,
             (uint32_t)(OPTR_DBANK_WANTED != 0u));
    for (;;) {
        uint8_t byte;
        (void)port_uart_read(&byte, 1000u);
    }
}

void port_init(void)
{
    l4rcc_init();
    check_options();
}


/* ICACHE off for a flash operation; returns whether it was on. */
static uint32_t icache_off(void)
{
    uint32_t on = ICACHE_CR & ICACHE_CR_EN;
    if (on != 0u) {
        ICACHE_CR &= ~ICACHE_CR_EN;
        for (uint32_t n = ICACHE_WAIT_LOOPS; (ICACHE_CR & ICACHE_CR_EN) != 0u && n > 0u; n--) {
        }
    }
    return on;
}

/* After the operation: invalidate (stale lines of the old content), then on again if it was on. */
static void icache_restore(uint32_t on)
{
    if (on == 0u) {
        return;
    }
    ICACHE_CR |= ICACHE_CR_CACHEINV;
    for (uint32_t n = ICACHE_WAIT_LOOPS; (ICACHE_SR & ICACHE_SR_BUSYF) != 0u && n > 0u; n--) {
    }
    ICACHE_CR |= ICACHE_CR_EN;
}

static int l5_erase(uint32_t addr)
{
    uint32_t icache = icache_off();
    int rc = stm32_dw_erase(addr);
    icache_restore(icache);
    return rc;
}

static int l5_write(uint32_t addr, const void *data, uint32_t len)
{
    uint32_t icache = icache_off();
    int rc = stm32_dw_write(addr, data, len);
    icache_restore(icache);
    return rc;
}

#define STM32_FLASH_ERASE   l5_erase /* the ICACHE off around the operation */
#define STM32_FLASH_WRITE   l5_write
#define STM32_FLASH_READ    stm32_dw_read
#define STM32_FLASH_ECC_NMI stm32_dw_nmi
#include "../common/stm32_flash_port.h"
