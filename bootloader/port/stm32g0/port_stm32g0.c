/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port for STM32G0 (RM0444; Cortex-M0+). Everything board-specific comes from spb_board.h.
 *
 * Clock (RM0444 section 5 "RCC", section 4 "PWR"): HSI16 (the reset clock, HSIDIV = /1) or HSE brought to
 * a 4 MHz PLL input (PLLM), VCO = 2 * SYSCLK (PLLN, VCO 64..344 MHz), SYSCLK = PLLRCLK = VCO / 2 (PLLR),
 * 64 MHz at most; or HSI16 itself for a 16 MHz board. Voltage range 1 (the reset value); flash wait states
 * 24 MHz apart (RM0444 3.3.4 table "Number of wait states according to flash clock"). AHB and APB
 * undivided.
 * Console: USART1-6 or LPUART1/2 on PCLK (RCC_CCIPR reset value); GPIO on the IOPORT bus at 0x5000_0000
 * (RCC_IOPENR), not on AHB2 as on the L4/G4.
 * Flash: generation B (port/common/stm32_flash_dw.h) with the G0's quirks: PNB [12:3] (10 bits); on the
 * dual-bank G0B1/G0C1 bank 2 starts at 0x0804_0000 and its pages are numbered 256..383 with BKER (bit 13,
 * not 11) set (RM0444 3.3.1 and FLASH_CR.PNB); BSY1/BSY2 and CFGBSY (bit 18) in FLASH_SR; ECC errors of
 * bank 2 are reported in FLASH_ECC2R (0x1C), those of bank 1 in FLASH_ECCR; instruction cache only.
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
#define RCC_BASE     0x40021000u
#define RCC_CR       SPB_REG32(RCC_BASE + 0x00u)
#define RCC_CFGR     SPB_REG32(RCC_BASE + 0x08u)
#define RCC_PLLCFGR  SPB_REG32(RCC_BASE + 0x0Cu)
#define RCC_APBRSTR1 SPB_REG32(RCC_BASE + 0x2Cu)
#define RCC_APBRSTR2 SPB_REG32(RCC_BASE + 0x30u)
#define RCC_IOPENR   SPB_REG32(RCC_BASE + 0x34u)
#define RCC_APBENR1  SPB_REG32(RCC_BASE + 0x3Cu)
#define RCC_APBENR2  SPB_REG32(RCC_BASE + 0x40u)
#define RCC_CR_HSION  (1u << 8)
#define RCC_CR_HSIRDY (1u << 10)
#define RCC_CR_HSEON  (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_HSEBYP (1u << 18)
#define RCC_CR_PLLON  (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_CFGR_SW_MASK 7u
#define RCC_CFGR_SW_PLL  2u /* PLLRCLK; 0 = HSISYS */
#define RCC_CFGR_SWS(cfgr) (((cfgr) >> 3) & 7u)
#define RCC_APBENR1_PWREN (1u << 28)

#define PWR_CR1 SPB_REG32(0x40007000u)
#define PWR_SR2 SPB_REG32(0x40007014u)
#define PWR_SR2_VOSF (1u << 10)

#define FLASH_ACR SPB_REG32(0x40022000u)
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN   (1u << 9)
#define FLASH_ACR_ICRST  (1u << 11)

#define GPIO_BASE(port) (0x50000000u + 0x400u * (port))
#define GPIO_EN_REG RCC_IOPENR

/* ---- clock plan (compile time) ---- */
#define PLL_IN_HZ 4000000u
#if defined(SPB_CLOCK_SOURCE_HSI)
#define CLK_SRC_HZ 16000000u
#define PLL_SRC 2u
#define PLL_M 4u
#elif defined(SPB_CLOCK_SOURCE_HSE)
#define CLK_SRC_HZ SPB_HSE_HZ
#define PLL_SRC 3u
#define PLL_M (SPB_HSE_HZ / PLL_IN_HZ)
_Static_assert(SPB_HSE_HZ % PLL_IN_HZ == 0u && SPB_HSE_HZ / PLL_IN_HZ <= 8u, "HSE must be 4/8/.../32 MHz");
#else
#error "STM32G0: clock.source must be HSI or HSE"
#endif
#define USE_PLL (SPB_SYSCLK_HZ != CLK_SRC_HZ)
#define PLL_N (2u * SPB_SYSCLK_HZ / PLL_IN_HZ)
_Static_assert(!USE_PLL || (SPB_SYSCLK_HZ % (PLL_IN_HZ / 2u) == 0u && PLL_N >= 16u && PLL_N <= 86u),
               "SYSCLK must be a multiple of 2 MHz from 32 MHz (VCO 64 MHz) up");
_Static_assert(SPB_SYSCLK_HZ <= 64000000u, "STM32G0 runs at 64 MHz at most");
#define FLASH_WS ((SPB_SYSCLK_HZ - 1u) / 24000000u)

/* ---- console UART ---- */
#if defined(SPB_UART_IS_LPUART)
#if SPB_UART_INSTANCE == 1
#define UART_BASE 0x40008000u
#define UART_BIT (1u << 20)
#elif SPB_UART_INSTANCE == 2
#define UART_BASE 0x40008400u
#define UART_BIT (1u << 7)
#else
#error "STM32G0: LPUART1 or LPUART2"
#endif
#define UART_EN_REG RCC_APBENR1
#define UART_RST_REG RCC_APBRSTR1
#define UART_BRR ((uint32_t)(((uint64_t)SPB_SYSCLK_HZ * 256u + SPB_UART_BAUD / 2u) / SPB_UART_BAUD))
#elif SPB_UART_INSTANCE == 1
#define UART_BASE 0x40013800u
#define UART_EN_REG RCC_APBENR2
#define UART_RST_REG RCC_APBRSTR2
#define UART_BIT (1u << 14)
#elif SPB_UART_INSTANCE >= 2 && SPB_UART_INSTANCE <= 4
#define UART_BASE (0x40004400u + 0x400u * (SPB_UART_INSTANCE - 2u))
#define UART_EN_REG RCC_APBENR1
#define UART_RST_REG RCC_APBRSTR1
#define UART_BIT (1u << (15u + SPB_UART_INSTANCE))
#elif SPB_UART_INSTANCE == 5 || SPB_UART_INSTANCE == 6
#define UART_BASE (SPB_UART_INSTANCE == 5 ? 0x40005000u : 0x40013C00u)
#define UART_EN_REG RCC_APBENR1
#define UART_RST_REG RCC_APBRSTR1
#define UART_BIT (1u << (3u + SPB_UART_INSTANCE))
#else
#error "STM32G0: console must be USART1..6 or LPUART1/2"
#endif
#ifndef UART_BRR
#define UART_BRR ((SPB_SYSCLK_HZ + SPB_UART_BAUD / 2u) / SPB_UART_BAUD)
#endif

#include "../common/stm32_port_glue.h"

static void clock_init(void)
{
    /* Run from HSISYS while the PLL is (re)configured: a previous stage may have left the PLL on. */
    RCC_CR = (RCC_CR & ~(7u << 11)) | RCC_CR_HSION; /* HSIDIV = /1 */
    stm32_wait_set(&RCC_CR, RCC_CR_HSIRDY);
    RCC_CFGR &= ~RCC_CFGR_SW_MASK;
    while (RCC_CFGR_SWS(RCC_CFGR) != 0u) {
    }
    RCC_CR &= ~RCC_CR_PLLON;
    while (RCC_CR & RCC_CR_PLLRDY) {
    }

    RCC_APBENR1 |= RCC_APBENR1_PWREN;
    (void)RCC_APBENR1;
    PWR_CR1 = (PWR_CR1 & ~(3u << 9)) | (1u << 9); /* voltage range 1 */
    while (PWR_SR2 & PWR_SR2_VOSF) {
    }

#if defined(SPB_CLOCK_SOURCE_HSE)
#if defined(SPB_HSE_BYPASS) && SPB_HSE_BYPASS
    RCC_CR |= RCC_CR_HSEBYP;
#endif
    RCC_CR |= RCC_CR_HSEON;
    stm32_wait_set(&RCC_CR, RCC_CR_HSERDY);
#endif

    /* More wait states first, then the faster clock. */
    FLASH_ACR = (FLASH_ACR & ~7u) | FLASH_WS | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN;
    while ((FLASH_ACR & 7u) != FLASH_WS) {
    }
#if USE_PLL
    /* PLLR = /2 (001) with PLLREN; P and Q outputs off. */
    RCC_PLLCFGR = PLL_SRC | ((PLL_M - 1u) << 4) | (PLL_N << 8) | (1u << 28) | (1u << 29);
    RCC_CR |= RCC_CR_PLLON;
    stm32_wait_set(&RCC_CR, RCC_CR_PLLRDY);
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 8) | (7u << 12) | RCC_CFGR_SW_MASK)) | RCC_CFGR_SW_PLL;
    while (RCC_CFGR_SWS(RCC_CFGR) != RCC_CFGR_SW_PLL) {
    }
#elif defined(SPB_CLOCK_SOURCE_HSE)
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 8) | (7u << 12) | RCC_CFGR_SW_MASK)) | 1u;
    while (RCC_CFGR_SWS(RCC_CFGR) != 1u) {
    }
#endif
}

void port_init(void)
{
    SCB_VTOR = SPB_BOOT_BASE;
    clock_init();
    stm32_glue_init();
}

/* ---- flash: generation B, RM0444 section 3 ---- */

#define STM32_DW_REGS       0x40022000u
#define STM32_DW_PNB_MASK   0x3FFu
#define STM32_DW_BKER       (1u << 13)
#define STM32_DW_BANK2_PNB  256u
#define STM32_DW_SR_BUSY    ((1u << 16) | (1u << 17) | (1u << 18)) /* BSY1, BSY2, CFGBSY */
#define STM32_DW_ACR_CACHES FLASH_ACR_ICEN
#define STM32_DW_ACR_RESETS FLASH_ACR_ICRST
#if defined(SPB_FLASH_BANK2_BASE)
#define STM32_DW_ECCR2 0x4002201Cu /* FLASH_ECC2R: bank 2 of the dual-bank parts */
#endif
#include "../common/stm32_flash_dw.h"
#include "../common/stm32_protect_dw.h" /* production builds only */

#define STM32_FLASH_ERASE   stm32_dw_erase
#define STM32_FLASH_WRITE   stm32_dw_write
#define STM32_FLASH_READ    stm32_dw_read
#define STM32_FLASH_ECC_NMI stm32_dw_nmi
#include "../common/stm32_flash_port.h"

