/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Example BSP for STM32G0 (RM0444; Cortex-M0+), configured by spb_board.h: HSI16 or HSE at a 4 MHz PLL
 * input, VCO = 2 * SYSCLK, R = 2 (or HSI16 itself at 16 MHz); 24 MHz per flash wait state in range 1;
 * GPIO on IOPORT (0x5000_0000); console USART1-6/LPUART1-2 on PCLK; SysTick milliseconds. Works from reset
 * and from the state the bootloader leaves (PLL running): it switches to HSISYS before touching the PLL.
 */
#include <stdint.h>

#include "bsp.h"
#include "spb_board.h"

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define RCC_CR      REG32(0x40021000u)
#define RCC_CFGR    REG32(0x40021008u)
#define RCC_PLLCFGR REG32(0x4002100Cu)
#define GPIO_ENR    REG32(0x40021034u)
#define RCC_APBENR1 REG32(0x4002103Cu)
#define RCC_APBENR2 REG32(0x40021040u)
#define PWR_CR1     REG32(0x40007000u)
#define PWR_SR2     REG32(0x40007014u)
#define FLASH_ACR   REG32(0x40022000u)
#define GPIO(port, off) REG32(0x50000000u + 0x400u * (port) + (off))

#if defined(SPB_CLOCK_SOURCE_HSI)
#define SRC_HZ 16000000u
#define PLL_SRC 2u
#define PLL_M 4u
#define SW_SRC 0u
#else
#define SRC_HZ SPB_HSE_HZ
#define PLL_SRC 3u
#define PLL_M (SPB_HSE_HZ / 4000000u)
#define SW_SRC 1u
#endif
#define USE_PLL (SPB_SYSCLK_HZ != SRC_HZ)
#define PLL_N (SPB_SYSCLK_HZ / 2000000u) /* VCO = 2 * SYSCLK, R = 2 */
#define FLASH_WS ((SPB_SYSCLK_HZ - 1u) / 24000000u)

#if defined(SPB_UART_IS_LPUART)
#define UART (SPB_UART_INSTANCE == 1 ? 0x40008000u : 0x40008400u)
#define UART_ENR RCC_APBENR1
#define UART_EN (SPB_UART_INSTANCE == 1 ? (1u << 20) : (1u << 7))
#define UART_BRR LPUART_BRR
#elif SPB_UART_INSTANCE == 1
#define UART 0x40013800u
#define UART_ENR RCC_APBENR2
#define UART_EN (1u << 14)
#elif SPB_UART_INSTANCE <= 4
#define UART (0x40004400u + 0x400u * (SPB_UART_INSTANCE - 2u))
#define UART_ENR RCC_APBENR1
#define UART_EN (1u << (15u + SPB_UART_INSTANCE))
#else
#define UART (SPB_UART_INSTANCE == 5 ? 0x40005000u : 0x40013C00u)
#define UART_ENR RCC_APBENR1
#define UART_EN (1u << (3u + SPB_UART_INSTANCE))
#endif
#define LPUART_BRR ((uint32_t)(((uint64_t)SPB_SYSCLK_HZ * 256u + SPB_UART_BAUD / 2u) / SPB_UART_BAUD))
#ifndef UART_BRR
#define UART_BRR ((SPB_SYSCLK_HZ + SPB_UART_BAUD / 2u) / SPB_UART_BAUD)
#endif

#define BSP_GPIO_ENR GPIO_ENR
#define BSP_UART_BRR_VALUE (UART_BRR)
#include "bsp_stm32.h"

static void clock_init(void)
{
    RCC_CR = (RCC_CR & ~(7u << 11)) | (1u << 8); /* HSION, HSIDIV = /1 */
    while (!(RCC_CR & (1u << 10))) {
    }
    RCC_CFGR &= ~7u; /* SYSCLK = HSISYS */
    while (RCC_CFGR & (7u << 3)) {
    }
    RCC_CR &= ~(1u << 24); /* PLL off */
    while (RCC_CR & (1u << 25)) {
    }
    RCC_APBENR1 |= 1u << 28; /* PWR */
    PWR_CR1 = (PWR_CR1 & ~(3u << 9)) | (1u << 9);
    while (PWR_SR2 & (1u << 10)) {
    }
#if defined(SPB_CLOCK_SOURCE_HSE)
#if defined(SPB_HSE_BYPASS) && SPB_HSE_BYPASS
    RCC_CR |= 1u << 18;
#endif
    RCC_CR |= 1u << 16;
    while (!(RCC_CR & (1u << 17))) {
    }
#endif
    FLASH_ACR = (FLASH_ACR & ~7u) | FLASH_WS | (3u << 8); /* latency, prefetch, I-cache */
    while ((FLASH_ACR & 7u) != FLASH_WS) {
    }
#if USE_PLL
    RCC_PLLCFGR = PLL_SRC | ((PLL_M - 1u) << 4) | (PLL_N << 8) | (1u << 28) | (1u << 29); /* PLLREN, R = /2 */
    RCC_CR |= 1u << 24;
    while (!(RCC_CR & (1u << 25))) {
    }
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 8) | (7u << 12) | 7u)) | 2u;
    while (((RCC_CFGR >> 3) & 7u) != 2u) {
    }
#else
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 8) | (7u << 12) | 7u)) | SW_SRC;
    while (((RCC_CFGR >> 3) & 7u) != SW_SRC) {
    }
#endif
}

void bsp_init(void)
{
    clock_init();
    bsp_console_init();
    __asm volatile("cpsie i" ::: "memory");
}
