/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port for STM32L4 / L4+ (RM0394, RM0351, RM0432). Everything board-specific comes from spb_board.h.
 *
 * Clock: port/common/stm32_l4rcc.h (the RCC the L5 shares); console, button, SysTick, reset and hand-over:
 * port/common/stm32_port_glue.h.
 * What is L4's own: voltage range 1 with 16 MHz per flash wait state up to 80 MHz; above 80 MHz (L4+ only)
 * range 1 boost mode (PWR_CR5.R1MODE = 0), 20 MHz per wait state and the AHB /2 step of the switch.
 * Prefetch and the I/D caches on (FLASH_ACR); caches reset after an erase.
 * Flash: page erase and double-word programming through FLASH_KEYR/SR/CR (port/common/stm32_flash_dw.h,
 * shared with the G0/G4/WL/L5), every error flag of FLASH_SR reported; external NOR on OCTOSPI (ospi.c) when the
 * board has it.
 */
#include <stdint.h>
#include <string.h>

#include "port.h"
#include "spb_board.h"

#define PWR_CR5 SPB_REG32(0x40007080u) /* L4+ */

#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN   (1u << 9)
#define FLASH_ACR_DCEN   (1u << 10)
#define FLASH_ACR_ICRST  (1u << 11)
#define FLASH_ACR_DCRST  (1u << 12)

#define GPIO_BASE(port) (0x48000000u + 0x400u * (port))
#if SPB_SYSCLK_HZ > 80000000u
#define L4RCC_FLASH_WS ((SPB_SYSCLK_HZ - 1u) / 20000000u) /* L4+ range 1 boost */
#define L4RCC_AHB_STEP 1
#else
#define L4RCC_FLASH_WS ((SPB_SYSCLK_HZ - 1u) / 16000000u)
#define L4RCC_AHB_STEP 0
#endif
#define L4RCC_ACR_BITS (FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN)
#include "../common/stm32_l4rcc.h"

#include "../common/flash_geom.h"
#include "../common/stm32_ecc.h"
#define STM32_DW_REGS       0x40022000u
#define STM32_DW_PNB_MASK   0xFFu /* PNB [10:3]; the L41x uses pages 0..63 only */
#define STM32_DW_BKER       (1u << 11)
#define STM32_DW_BANK2_PNB  0u /* RM0351 / RM0432: pages are numbered per bank */
#define STM32_DW_SR_BUSY    (1u << 16)
#define STM32_DW_ACR_CACHES (FLASH_ACR_ICEN | FLASH_ACR_DCEN)
#define STM32_DW_ACR_RESETS (FLASH_ACR_ICRST | FLASH_ACR_DCRST)
#include "../common/stm32_flash_dw.h"
#include "../common/stm32_protect_dw.h" /* production builds only */
#include "../common/xspi_nor.h"

static void l4rcc_power_up(void)
{
    PWR_CR1 = (PWR_CR1 & ~(3u << 9)) | (1u << 9); /* voltage range 1 */
    while (PWR_SR2 & PWR_SR2_VOSF) {
    }
#if SPB_SYSCLK_HZ > 80000000u
    PWR_CR5 &= ~(1u << 8); /* R1MODE = 0: range 1 boost */
#endif
}

void port_init(void)
{
    l4rcc_init();
#if defined(SPB_EXT_FLASH_DRIVER)
    xspi_init(); /* the OCTOSPI driver (ospi.c); its waits need the SysTick */
#endif
}

#define STM32_FLASH_ERASE   stm32_dw_erase
#define STM32_FLASH_WRITE   stm32_dw_write
#define STM32_FLASH_READ    stm32_dw_read
#define STM32_FLASH_ECC_NMI stm32_dw_nmi
#include "../common/stm32_flash_port.h"

