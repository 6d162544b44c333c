/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Example BSP for STM32WL (RM0453 / RM0461; the Cortex-M4 core), configured by spb_board.h: RCC and PWR on
 * AHB3 (0x5800_0000 / 0x5800_0400), MSI 4 MHz or HSI16 at a 4 MHz PLL input, VCO = 4 * SYSCLK, R = 4;
 * flash (FLASH_ACR at 0x5800_4000) 18 MHz per wait state in range 1; console USART1/2 or LPUART1 on PCLK;
 * SysTick milliseconds. Works from reset and from the state the bootloader leaves (PLL running).
 */
#include <stdint.h>

#include "bsp.h"
#include "spb_board.h"

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define RCC_CR       REG32(0x58000000u)
#define RCC_CFGR     REG32(0x58000008u)
#define RCC_PLLCFGR  REG32(0x5800000Cu)
#define GPIO_ENR     REG32(0x5800004Cu)
#define RCC_APB1ENR1 REG32(0x58000058u)
#define RCC_APB1ENR2 REG32(0x5800005Cu)
#define RCC_APB2ENR  REG32(0x58000060u)
#define PWR_CR1      REG32(0x58000400u)
#define PWR_SR2      REG32(0x58000414u)
#define FLASH_ACR    REG32(0x58004000u)
#define GPIO(port, off) REG32(0x48000000u + 0x400u * (port) + (off))

#if defined(SPB_CLOCK_SOURCE_HSI)
#define PLL_SRC 2u
#define PLL_M 4u
#else
#define PLL_SRC 1u
#define PLL_M 1u
#endif
#define PLL_N (SPB_SYSCLK_HZ / 1000000u) /* VCO = 4 * SYSCLK, R = 4 */
#define FLASH_WS ((SPB_SYSCLK_HZ - 1u) / 18000000u)

#if defined(SPB_UART_IS_LPUART)
#define UART 0x40008000u
#define UART_ENR RCC_APB1ENR2
#define UART_EN (1u << 0)
#define UART_BRR LPUART_BRR
#elif SPB_UART_INSTANCE == 1
#define UART 0x40013800u
#define UART_ENR RCC_APB2ENR
#define UART_EN (1u << 14)
#else
#define UART 0x40004400u
#define UART_ENR RCC_APB1ENR1
#define UART_EN (1u << 17)
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
    RCC_CR |= 1u; /* MSION */
    while (!(RCC_CR & 2u)) {
    }
    RCC_CFGR &= ~3u; /* SYSCLK = MSI */
    while (RCC_CFGR & 0xCu) {
    }
    RCC_CR &= ~(1u << 24); /* PLL off */
    while (RCC_CR & (1u << 25)) {
    }
    RCC_CR = (RCC_CR & ~(0xFu << 4)) | (6u << 4) | (1u << 3); /* MSI 4 MHz from RCC_CR */
    PWR_CR1 = (PWR_CR1 & ~(3u << 9)) | (1u << 9);
    while (PWR_SR2 & (1u << 10)) {
    }
#if defined(SPB_CLOCK_SOURCE_HSI)
    RCC_CR |= 1u << 8;
    while (!(RCC_CR & (1u << 10))) {
    }
#endif
    FLASH_ACR = (FLASH_ACR & ~7u) | FLASH_WS | (7u << 8); /* latency, prefetch, I/D caches */
    while ((FLASH_ACR & 7u) != FLASH_WS) {
    }
    RCC_PLLCFGR = PLL_SRC | ((PLL_M - 1u) << 4) | (PLL_N << 8) | (1u << 28) | (3u << 29); /* PLLREN, R = /4 */
    RCC_CR |= 1u << 24;
    while (!(RCC_CR & (1u << 25))) {
    }
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 4) | (0x3Fu << 8) | 3u)) | 3u;
    while ((RCC_CFGR & 0xCu) != 0xCu) {
    }
}

void bsp_init(void)
{
    clock_init();
    bsp_console_init();
    __asm volatile("cpsie i" ::: "memory");
}
