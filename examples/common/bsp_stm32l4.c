/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Example BSP for STM32L4 / L4+ (RM0394, RM0351, RM0432), configured by spb_board.h: PLL from MSI (4 MHz),
 * HSI16 or HSE at a 4 MHz PLL input, SYSCLK = SPB_SYSCLK_HZ (boost mode above 80 MHz on L4+), console
 * USARTx/UARTx/LPUART1 on PCLK (on PG2..PG15, VDDIO2 validated first), SysTick milliseconds. Works from
 * reset state and from the state the bootloader leaves (PLL already running): it switches to MSI before
 * touching the PLL.
 */
#include <stdint.h>

#include "bsp.h"
#include "spb_board.h"

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define RCC_CR       REG32(0x40021000u)
#define RCC_CFGR     REG32(0x40021008u)
#define RCC_PLLCFGR  REG32(0x4002100Cu)
#define RCC_AHB2ENR  REG32(0x4002104Cu)
#define RCC_APB1ENR1 REG32(0x40021058u)
#define RCC_APB1ENR2 REG32(0x4002105Cu)
#define RCC_APB2ENR  REG32(0x40021060u)
#define PWR_CR1      REG32(0x40007000u)
#define PWR_CR2      REG32(0x40007004u)
#define PWR_SR2      REG32(0x40007014u)
#define PWR_CR5      REG32(0x40007080u)
#define FLASH_ACR    REG32(0x40022000u)
#if defined(BSP_STM32L5) /* bsp_stm32l5.c: the L5's RCC, U(S)ARTs and GPIO block are the L4's (RM0438) */
#define GPIO(port, off) REG32(0x42020000u + 0x400u * (port) + (off)) /* non-secure AHB2 alias */
#else
#define GPIO(port, off) REG32(0x48000000u + 0x400u * (port) + (off))
#endif

#if defined(SPB_CLOCK_SOURCE_MSI)
#define PLL_SRC 1u
#define PLL_M 1u
#elif defined(SPB_CLOCK_SOURCE_HSI)
#define PLL_SRC 2u
#define PLL_M 4u
#else
#define PLL_SRC 3u
#define PLL_M (SPB_HSE_HZ / 4000000u)
#endif
#define PLL_N (SPB_SYSCLK_HZ / 2000000u) /* VCO = 2 * SYSCLK, R = 2 */
#define BOOST (SPB_SYSCLK_HZ > 80000000u)
#if defined(BSP_STM32L5)
/* Range 0 above 80 MHz, else range 1; 20 MHz per wait state in both; FLASH_ACR has no cache bits. */
#define VOS (BOOST ? 0u : 1u)
#define FLASH_WS ((SPB_SYSCLK_HZ - 1u) / 20000000u)
#define ACR_BITS 0u
#define R1_BOOST 0
#else
#define VOS 1u /* range 1 */
#define FLASH_WS (BOOST ? (SPB_SYSCLK_HZ - 1u) / 20000000u : (SPB_SYSCLK_HZ - 1u) / 16000000u)
#define ACR_BITS (7u << 8) /* prefetch, I/D caches */
#define R1_BOOST BOOST     /* L4+ range 1 boost: PWR_CR5.R1MODE = 0 */
#endif

#if defined(SPB_UART_IS_LPUART)
#define UART 0x40008000u
#define UART_ENR RCC_APB1ENR2
#define UART_EN (1u << 0)
#define UART_BRR ((uint32_t)(((uint64_t)SPB_SYSCLK_HZ * 256u + SPB_UART_BAUD / 2u) / SPB_UART_BAUD))
#elif SPB_UART_INSTANCE == 1
#define UART 0x40013800u
#define UART_ENR RCC_APB2ENR
#define UART_EN (1u << 14)
#else
#define UART (0x40004400u + 0x400u * (SPB_UART_INSTANCE - 2u))
#define UART_ENR RCC_APB1ENR1
#define UART_EN (1u << (15u + SPB_UART_INSTANCE))
#endif
#ifndef UART_BRR
#define UART_BRR ((SPB_SYSCLK_HZ + SPB_UART_BAUD / 2u) / SPB_UART_BAUD)
#endif

#define BSP_GPIO_ENR RCC_AHB2ENR
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
    RCC_APB1ENR1 |= 1u << 28; /* PWR */
    PWR_CR1 = (PWR_CR1 & ~(3u << 9)) | (VOS << 9);
    while (PWR_SR2 & (1u << 10)) {
    }
    if (R1_BOOST) {
        PWR_CR5 &= ~(1u << 8);
    }
#if defined(SPB_CLOCK_SOURCE_HSI)
    RCC_CR |= 1u << 8;
    while (!(RCC_CR & (1u << 10))) {
    }
#elif defined(SPB_CLOCK_SOURCE_HSE)
#if defined(SPB_HSE_BYPASS) && SPB_HSE_BYPASS
    RCC_CR |= 1u << 18;
#endif
    RCC_CR |= 1u << 16;
    while (!(RCC_CR & (1u << 17))) {
    }
#endif
    FLASH_ACR = (FLASH_ACR & ~0xFu) | FLASH_WS | ACR_BITS;
    while ((FLASH_ACR & 0xFu) != FLASH_WS) {
    }
    RCC_PLLCFGR = PLL_SRC | ((PLL_M - 1u) << 4) | (PLL_N << 8) | (1u << 24); /* PLLREN, R = /2 */
    RCC_CR |= 1u << 24;
    while (!(RCC_CR & (1u << 25))) {
    }
    uint32_t hpre = BOOST ? (0x8u << 4) : 0u; /* AHB /2 across the switch above 80 MHz */
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 4) | (0x3Fu << 8) | 3u)) | hpre | 3u;
    while ((RCC_CFGR & 0xCu) != 0xCu) {
    }
    if (BOOST) {
        for (volatile uint32_t i = 0; i < 100u; i++) {
        }
        RCC_CFGR &= ~(0xFu << 4);
    }
}

void bsp_init(void)
{
    clock_init();
#if (SPB_UART_TX_PORT == 6u && SPB_UART_TX_PIN >= 2u) || (SPB_UART_RX_PORT == 6u && SPB_UART_RX_PIN >= 2u)
    PWR_CR2 |= 1u << 9; /* IOSV: PG[15:2] are supplied by VDDIO2 (e.g. LPUART1 on PG7/PG8) */
#endif
    bsp_console_init();
#if defined(BSP_STM32L5)
    REG32(0x40030400u) |= 1u; /* ICACHE_CR.EN, as CubeMX-generated L5 applications do */
#endif
    __asm volatile("cpsie i" ::: "memory");
}
