/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port for STM32G4 (RM0440; Cortex-M4F). Everything board-specific comes from spb_board.h.
 *
 * Clock (RM0440 section 7 "RCC", section 6 "PWR"): HSI16 (the reset clock) or HSE brought to a 4 MHz PLL
 * input (PLLM), VCO = 2 * SYSCLK (PLLN), SYSCLK = VCO / 2 (PLLR), APB1/APB2 undivided. Above 150 MHz the
 * regulator runs in range 1 boost mode (PWR_CR5.R1MODE = 0, selected before the faster clock); flash wait
 * states 34 MHz apart in boost mode, 30 MHz in normal range 1 (RM0440 3.3.3 table 9). Above 80 MHz the
 * AHB prescaler divides by 2 across the switch to the PLL and for at least 1 us after it (RM0440 7.2.7:
 * the transition to a frequency above 80 MHz goes through an intermediate AHB /2 step).
 * Console: USART1-3, UART4/5 or LPUART1 on PCLK (RCC_CCIPR reset value); GPIO ports on AHB2 at 0x4800_0000.
 * Flash: generation B (port/common/stm32_flash_dw.h): PNB [9:3] (7 bits, 128 pages per bank), BKER bit 11
 * in dual-bank mode (OPTR.DBANK = 1, the factory setting of the 512 KB parts: 2 KB pages, bank 2 at
 * base + 256 KB, pages numbered per bank), ECC with the double-error NMI (FLASH_ECCR.ECCD).
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
#define RCC_BASE      0x40021000u
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
#define RCC_CR_HSION  (1u << 8)
#define RCC_CR_HSIRDY (1u << 10)
#define RCC_CR_HSEON  (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_HSEBYP (1u << 18)
#define RCC_CR_PLLON  (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_CFGR_SW_HSI (1u << 0)
#define RCC_CFGR_SW_PLL (3u << 0)
#define RCC_APB1ENR1_PWREN (1u << 28)

#define PWR_CR1 SPB_REG32(0x40007000u)
#define PWR_SR2 SPB_REG32(0x40007014u)
#define PWR_CR5 SPB_REG32(0x40007080u)
#define PWR_SR2_VOSF (1u << 10)
#define PWR_CR5_R1MODE (1u << 8)

#define FLASH_ACR SPB_REG32(0x40022000u)
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN   (1u << 9)
#define FLASH_ACR_DCEN   (1u << 10)
#define FLASH_ACR_ICRST  (1u << 11)
#define FLASH_ACR_DCRST  (1u << 12)

#define GPIO_BASE(port) (0x48000000u + 0x400u * (port))
#define GPIO_EN_REG RCC_AHB2ENR

/* ---- clock plan (compile time) ---- */
#define PLL_IN_HZ 4000000u
#if defined(SPB_CLOCK_SOURCE_HSI)
#define PLL_SRC 2u
#define PLL_M 4u
#elif defined(SPB_CLOCK_SOURCE_HSE)
#define PLL_SRC 3u
#define PLL_M (SPB_HSE_HZ / PLL_IN_HZ)
_Static_assert(SPB_HSE_HZ % PLL_IN_HZ == 0u && SPB_HSE_HZ / PLL_IN_HZ <= 12u, "HSE must be 4/8/.../48 MHz");
#else
#error "STM32G4: clock.source must be HSI or HSE"
#endif
#define PLL_N (2u * SPB_SYSCLK_HZ / PLL_IN_HZ)
_Static_assert(SPB_SYSCLK_HZ % (PLL_IN_HZ / 2u) == 0u, "SYSCLK must be a multiple of 2 MHz");
_Static_assert(SPB_SYSCLK_HZ >= 48000000u && SPB_SYSCLK_HZ <= 170000000u,
               "SYSCLK out of the PLL range (VCO 96..344 MHz, 170 MHz at most)");
#define BOOST (SPB_SYSCLK_HZ > 150000000u)
#if BOOST
#define FLASH_WS ((SPB_SYSCLK_HZ - 1u) / 34000000u)
#else
#define FLASH_WS ((SPB_SYSCLK_HZ - 1u) / 30000000u)
#endif
#define AHB_STEP (SPB_SYSCLK_HZ > 80000000u)

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
#elif SPB_UART_INSTANCE >= 2 && SPB_UART_INSTANCE <= 5
#define UART_BASE (0x40004400u + 0x400u * (SPB_UART_INSTANCE - 2u))
#define UART_EN_REG RCC_APB1ENR1
#define UART_RST_REG RCC_APB1RSTR1
#define UART_BIT (1u << (15u + SPB_UART_INSTANCE))
#else
#error "STM32G4: console must be USART1..3, UART4/5 or LPUART1"
#endif
#ifndef UART_BRR
#define UART_BRR ((SPB_SYSCLK_HZ + SPB_UART_BAUD / 2u) / SPB_UART_BAUD)
#endif

#include "../common/stm32_port_glue.h"

static void clock_init(void)
{
    /* Run from HSI16 while the PLL is (re)configured: a previous stage may have left the PLL on. */
    RCC_CR |= RCC_CR_HSION;
    stm32_wait_set(&RCC_CR, RCC_CR_HSIRDY);
    RCC_CFGR = (RCC_CFGR & ~3u) | RCC_CFGR_SW_HSI;
    while ((RCC_CFGR & 0xCu) != (RCC_CFGR_SW_HSI << 2)) {
    }
    RCC_CR &= ~RCC_CR_PLLON;
    while (RCC_CR & RCC_CR_PLLRDY) {
    }

    RCC_APB1ENR1 |= RCC_APB1ENR1_PWREN;
    (void)RCC_APB1ENR1;
    PWR_CR1 = (PWR_CR1 & ~(3u << 9)) | (1u << 9); /* voltage range 1 */
    while (PWR_SR2 & PWR_SR2_VOSF) {
    }
#if BOOST
    PWR_CR5 &= ~PWR_CR5_R1MODE; /* range 1 boost */
#else
    PWR_CR5 |= PWR_CR5_R1MODE;
#endif

#if defined(SPB_CLOCK_SOURCE_HSE)
#if defined(SPB_HSE_BYPASS) && SPB_HSE_BYPASS
    RCC_CR |= RCC_CR_HSEBYP;
#endif
    RCC_CR |= RCC_CR_HSEON;
    stm32_wait_set(&RCC_CR, RCC_CR_HSERDY);
#endif

    /* More wait states first, then the faster clock. */
    FLASH_ACR = (FLASH_ACR & ~0xFu) | FLASH_WS | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
    while ((FLASH_ACR & 0xFu) != FLASH_WS) {
    }

    /* PLLR = /2 (00) with PLLREN; P and Q outputs off. */
    RCC_PLLCFGR = PLL_SRC | ((PLL_M - 1u) << 4) | (PLL_N << 8) | (1u << 24);
    RCC_CR |= RCC_CR_PLLON;
    stm32_wait_set(&RCC_CR, RCC_CR_PLLRDY);
#if AHB_STEP
    RCC_CFGR = (RCC_CFGR & ~(0xFu << 4)) | (0x8u << 4); /* HCLK = SYSCLK / 2 during the switch */
#endif
    RCC_CFGR = (RCC_CFGR & ~((0x3Fu << 8) | 3u)) | RCC_CFGR_SW_PLL;
    while ((RCC_CFGR & 0xCu) != (RCC_CFGR_SW_PLL << 2)) {
    }
#if AHB_STEP
    for (volatile uint32_t i = 0; i < 100u; i++) { /* >= 1 us at SYSCLK / 2 */
    }
    RCC_CFGR &= ~(0xFu << 4);
#endif
}

void port_init(void)
{
    SCB_VTOR = SPB_BOOT_BASE;
    clock_init();
    stm32_glue_init();
}

/* ---- flash: generation B, RM0440 section 3 ---- */

#define STM32_DW_REGS       0x40022000u
#define STM32_DW_PNB_MASK   0x7Fu
#define STM32_DW_BKER       (1u << 11)
#define STM32_DW_BANK2_PNB  0u /* RM0440 3.3.1: in dual-bank mode pages are numbered per bank */
#define STM32_DW_SR_BUSY    (1u << 16)
#define STM32_DW_ACR_CACHES (FLASH_ACR_ICEN | FLASH_ACR_DCEN)
#define STM32_DW_ACR_RESETS (FLASH_ACR_ICRST | FLASH_ACR_DCRST)
#include "../common/stm32_flash_dw.h"
#include "../common/stm32_protect_dw.h" /* production builds only */

#define STM32_FLASH_ERASE   stm32_dw_erase
#define STM32_FLASH_WRITE   stm32_dw_write
#define STM32_FLASH_READ    stm32_dw_read
#define STM32_FLASH_ECC_NMI stm32_dw_nmi
#include "../common/stm32_flash_port.h"

