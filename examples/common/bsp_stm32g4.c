/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Example BSP for STM32G4 (RM0440), configured by spb_board.h: HSI16 or HSE at a 4 MHz PLL input, VCO =
 * 2 * SYSCLK, R = 2; range 1 boost mode above 150 MHz and the AHB /2 step above 80 MHz; console
 * USARTx/UARTx/LPUART1 on PCLK; SysTick milliseconds. Works from reset and from the state the bootloader
 * leaves (PLL running): it switches to HSI16 before touching the PLL.
 */
#include <stdint.h>

#include "bsp.h"
#include "spb_board.h"

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define RCC_CR       REG32(0x40021000u)
#define RCC_CFGR     REG32(0x40021008u)
#define RCC_PLLCFGR  REG32(0x4002100Cu)
#define GPIO_ENR     REG32(0x4002104Cu)
#define RCC_APB1ENR1 REG32(0x40021058u)
#define RCC_APB1ENR2 REG32(0x4002105Cu)
#define RCC_APB2ENR  REG32(0x40021060u)
#define PWR_CR1      REG32(0x40007000u)
#define PWR_SR2      REG32(0x40007014u)
#define PWR_CR5      REG32(0x40007080u)
#define FLASH_ACR    REG32(0x40022000u)
#define GPIO(port, off) REG32(0x48000000u + 0x400u * (port) + (off))

#if defined(SPB_CLOCK_SOURCE_HSI)
#define PLL_SRC 2u
#define PLL_M 4u
#else
#define PLL_SRC 3u
#define PLL_M (SPB_HSE_HZ / 4000000u)
#endif
#define PLL_N (SPB_SYSCLK_HZ / 2000000u) /* VCO = 2 * SYSCLK, R = 2 */
#define BOOST (SPB_SYSCLK_HZ > 150000000u)
#define AHB_STEP (SPB_SYSCLK_HZ > 80000000u)
#define FLASH_WS (BOOST ? (SPB_SYSCLK_HZ - 1u) / 34000000u : (SPB_SYSCLK_HZ - 1u) / 30000000u)

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
#define UART (0x40004400u + 0x400u * (SPB_UART_INSTANCE - 2u))
#define UART_ENR RCC_APB1ENR1
#define UART_EN (1u << (15u + SPB_UART_INSTANCE))
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
    RCC_CR |= 1u << 8; /* HSION */
    while (!(RCC_CR & (1u << 10))) {
    }
    RCC_CFGR = (RCC_CFGR & ~3u) | 1u; /* SYSCLK = HSI16 */
    while ((RCC_CFGR & 0xCu) != 0x4u) {
    }
    RCC_CR &= ~(1u << 24); /* PLL off */
    while (RCC_CR & (1u << 25)) {
    }
    RCC_APB1ENR1 |= 1u << 28; /* PWR */
    PWR_CR1 = (PWR_CR1 & ~(3u << 9)) | (1u << 9);
    while (PWR_SR2 & (1u << 10)) {
    }
    if (BOOST) {
        PWR_CR5 &= ~(1u << 8);
    } else {
        PWR_CR5 |= 1u << 8;
    }
#if defined(SPB_CLOCK_SOURCE_HSE)
#if defined(SPB_HSE_BYPASS) && SPB_HSE_BYPASS
    RCC_CR |= 1u << 18;
#endif
    RCC_CR |= 1u << 16;
    while (!(RCC_CR & (1u << 17))) {
    }
#endif
    FLASH_ACR = (FLASH_ACR & ~0xFu) | FLASH_WS | (7u << 8); /* latency, prefetch, I/D caches */
    while ((FLASH_ACR & 0xFu) != FLASH_WS) {
    }
    RCC_PLLCFGR = PLL_SRC | ((PLL_M - 1u) << 4) | (PLL_N << 8) | (1u << 24); /* PLLREN, R = /2 */
    RCC_CR |= 1u << 24;
    while (!(RCC_CR & (1u << 25))) {
    }
    uint32_t hpre = AHB_STEP ? (0x8u << 4) : 0u; /* AHB /2 across the switch above 80 MHz */
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 4) | (0x3Fu << 8) | 3u)) | hpre | 3u;
    while ((RCC_CFGR & 0xCu) != 0xCu) {
    }
    if (AHB_STEP) {
        for (volatile uint32_t i = 0; i < 100u; i++) {
        }
        RCC_CFGR &= ~(0xFu << 4);
    }
}

void bsp_init(void)
{
    clock_init();
    bsp_console_init();
    __asm volatile("cpsie i" ::: "memory");
}
