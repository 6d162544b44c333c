/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port for STM32WL (RM0453 WL5x, RM0461 WLEx; the Cortex-M4 core, CPU1). Everything board-specific comes
 * from spb_board.h.
 *
 * Clock (RM0453 section 6 "RCC", section 5 "PWR"): RCC at 0x5800_0000 and PWR at 0x5800_0400 on AHB3,
 * not at 0x4002_1000 / 0x4000_7000 as on the L4. MSI (4 MHz, range 6, after reset) or HSI16 brought to a
 * 4 MHz PLL input (PLLM), VCO = 4 * SYSCLK (PLLN, VCO 96..344 MHz), SYSCLK = PLLRCLK = VCO / 4 (PLLR in
 * [31:29], PLLREN bit 28 as on the G0), 48 MHz at most, in voltage range 1 (the reset value). Flash wait
 * states 18 MHz apart in range 1 (RM0453 3.3.4; the flash runs from HCLK3, which RCC_EXTCFGR leaves equal
 * to SYSCLK). AHB and APB undivided. HSE32 needs the board's TCXO supply (PB0-VDDTCXO, HSEBYPPWR): not
 * offered here.
 * Console: USART1/2 or LPUART1 on PCLK (RCC_CCIPR reset value); GPIO ports A, B, C, H on AHB2 at
 * 0x4800_0000.
 * Flash: generation B (port/common/stm32_flash_dw.h) at 0x5800_4000: single bank, 2 KB pages, PNB [9:3]
 * (7 bits: 128 pages), CFGBSY (FLASH_SR bit 18) to wait for as well as BSY, ECC with the double-error NMI
 * (FLASH_ECCR.ECCD).
 * On port_jump_to_app() the system clock stays at SPB_SYSCLK_HZ; SysTick, the UART and its pins are reset.
 */
#include <stdint.h>

#include "port.h"
#include "spb_board.h"
#include "../common/cortexm.h"
#include "../common/flash_geom.h"
#include "../common/stm32_common.h"
#include "../common/stm32_ecc.h"

/* ---- registers ---- */
#define RCC_BASE      0x58000000u
#define RCC_CR        SPB_REG32(RCC_BASE + 0x00u)
#define RCC_CFGR      SPB_REG32(RCC_BASE + 0x08u)
#define RCC_PLLCFGR   SPB_REG32(RCC_BASE + 0x0Cu)
#define RCC_APB1RSTR1 SPB_REG32(RCC_BASE + 0x38u)
#define RCC_APB1RSTR2 SPB_REG32(RCC_BASE + 0x3Cu)
#define RCC_APB2RSTR  SPB_REG32(RCC_BASE + 0x40u)
#define RCC_AHB2ENR   SPB_REG32(RCC_BASE + 0x4Cu)
#define RCC_APB1ENR1  SPB_REG32(RCC_BASE + 0x58u)
#define RCC_APB1ENR2  SPB_REG32(RCC_BASE + 0x5Cu)
#define RCC_APB2ENR   SPB_REG32(RCC_BASE + 0x60u)
#define RCC_CR_MSION    (1u << 0)
#define RCC_CR_MSIRDY   (1u << 1)
#define RCC_CR_MSIRGSEL (1u << 3)
#define RCC_CR_MSIRANGE_4MHZ (6u << 4)
#define RCC_CR_HSION    (1u << 8)
#define RCC_CR_HSIRDY   (1u << 10)
#define RCC_CR_PLLON    (1u << 24)
#define RCC_CR_PLLRDY   (1u << 25)

#define PWR_CR1 SPB_REG32(0x58000400u)
#define PWR_SR2 SPB_REG32(0x58000414u)
#define PWR_SR2_VOSF (1u << 10)

#define FLASH_ACR SPB_REG32(0x58004000u)
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN   (1u << 9)
#define FLASH_ACR_DCEN   (1u << 10)
#define FLASH_ACR_ICRST  (1u << 11)
#define FLASH_ACR_DCRST  (1u << 12)

#define GPIO_BASE(port) (0x48000000u + 0x400u * (port))
#define GPIO_EN_REG RCC_AHB2ENR

/* ---- clock plan (compile time) ---- */
#define PLL_IN_HZ 4000000u
#if defined(SPB_CLOCK_SOURCE_MSI)
#define PLL_SRC 1u
#define PLL_M 1u /* MSI range 6 = 4 MHz */
#elif defined(SPB_CLOCK_SOURCE_HSI)
#define PLL_SRC 2u
#define PLL_M 4u
#else
#error "STM32WL: clock.source must be MSI or HSI"
#endif
#define PLL_N (4u * SPB_SYSCLK_HZ / PLL_IN_HZ)
_Static_assert(SPB_SYSCLK_HZ % (PLL_IN_HZ / 4u) == 0u, "SYSCLK must be a multiple of 1 MHz");
_Static_assert(SPB_SYSCLK_HZ >= 24000000u && SPB_SYSCLK_HZ <= 48000000u,
               "SYSCLK out of the PLL range (VCO 96..344 MHz, 48 MHz at most)");
#define FLASH_WS ((SPB_SYSCLK_HZ - 1u) / 18000000u)

/* ---- console UART ---- */
#if defined(SPB_UART_IS_LPUART)
#define UART_BASE 0x40008000u
#define UART_EN_REG RCC_APB1ENR2
#define UART_RST_REG RCC_APB1RSTR2
#define UART_BIT (1u << 0)
#define UART_BRR ((uint32_t)(((uint64_t)SPB_SYSCLK_HZ * 256u + SPB_UART_BAUD / 2u) / SPB_UART_BAUD))
#elif SPB_UART_INSTANCE == 1
#define UART_BASE 0x40013800u
#define UART_EN_REG RCC_APB2ENR
#define UART_RST_REG RCC_APB2RSTR
#define UART_BIT (1u << 14)
#elif SPB_UART_INSTANCE == 2
#define UART_BASE 0x40004400u
#define UART_EN_REG RCC_APB1ENR1
#define UART_RST_REG RCC_APB1RSTR1
#define UART_BIT (1u << 17)
#else
#error "STM32WL: console must be USART1, USART2 or LPUART1"
#endif
#ifndef UART_BRR
#define UART_BRR ((SPB_SYSCLK_HZ + SPB_UART_BAUD / 2u) / SPB_UART_BAUD)
#endif

#include "../common/stm32_port_glue.h"

static void clock_init(void)
{
    /* Run from MSI at 4 MHz while the PLL is (re)configured: a previous stage may have left it on. */
    RCC_CR |= RCC_CR_MSION;
    stm32_wait_set(&RCC_CR, RCC_CR_MSIRDY);
    RCC_CFGR &= ~3u;
    while ((RCC_CFGR & 0xCu) != 0u) {
    }
    RCC_CR &= ~RCC_CR_PLLON;
    while (RCC_CR & RCC_CR_PLLRDY) {
    }
    RCC_CR = (RCC_CR & ~(0xFu << 4)) | RCC_CR_MSIRANGE_4MHZ | RCC_CR_MSIRGSEL; /* MSI ready: may change */

    PWR_CR1 = (PWR_CR1 & ~(3u << 9)) | (1u << 9); /* voltage range 1 */
    while (PWR_SR2 & PWR_SR2_VOSF) {
    }
#if defined(SPB_CLOCK_SOURCE_HSI)
    RCC_CR |= RCC_CR_HSION;
    stm32_wait_set(&RCC_CR, RCC_CR_HSIRDY);
#endif

    /* More wait states first, then the faster clock. */
    FLASH_ACR = (FLASH_ACR & ~7u) | FLASH_WS | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
    while ((FLASH_ACR & 7u) != FLASH_WS) {
    }

    /* PLLR = /4 (011) with PLLREN; P and Q outputs off. */
    RCC_PLLCFGR = (PLL_SRC + ((PLL_M - 1u) << 4)) | (PLL_N << 8) | (1u << 28) | (3u << 29); /* M - 1 may be 0 */
    RCC_CR |= RCC_CR_PLLON;
    stm32_wait_set(&RCC_CR, RCC_CR_PLLRDY);
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 4) | (0x3Fu << 8) | 3u)) | 3u;
    while ((RCC_CFGR & 0xCu) != 0xCu) {
    }
}

void port_init(void)
{
    SCB_VTOR = SPB_BOOT_BASE;
    clock_init();
    stm32_glue_init();
}

/* ---- flash: generation B, RM0453 section 3 ---- */

#define STM32_DW_REGS       0x58004000u
#define STM32_DW_PNB_MASK   0x7Fu
#define STM32_DW_SR_BUSY    ((1u << 16) | (1u << 18)) /* BSY, CFGBSY */
#define STM32_DW_ACR_CACHES (FLASH_ACR_ICEN | FLASH_ACR_DCEN)
#define STM32_DW_ACR_RESETS (FLASH_ACR_ICRST | FLASH_ACR_DCRST)
#include "../common/stm32_flash_dw.h"
#include "../common/stm32_protect_dw.h" /* production builds only */

#define STM32_FLASH_ERASE   stm32_dw_erase
#define STM32_FLASH_WRITE   stm32_dw_write
#define STM32_FLASH_READ    stm32_dw_read
#define STM32_FLASH_ECC_NMI stm32_dw_nmi
#include "../common/stm32_flash_port.h"

