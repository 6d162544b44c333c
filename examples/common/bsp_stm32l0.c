/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Example BSP for STM32L0 (RM0367/RM0376/RM0377), configured by spb_board.h: HSI16 or HSE -> PLL to
 * SPB_SYSCLK_HZ (32 MHz on the Nucleo: HSI16 x4 / 2), voltage range 1, one flash wait state above
 * 16 MHz, console USARTx/LPUART1 on PCLK, SysTick milliseconds. Works from reset state and from the
 * bootloader's state.
 */
#include <stdint.h>

#include "bsp.h"
#include "spb_board.h"

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define RCC_CR      REG32(0x40021000u)
#define RCC_CFGR    REG32(0x4002100Cu)
#define RCC_IOPENR  REG32(0x4002102Cu)
#define RCC_APB2ENR REG32(0x40021034u)
#define RCC_APB1ENR REG32(0x40021038u)
#define PWR_CR      REG32(0x40007000u)
#define PWR_CSR     REG32(0x40007004u)
#define FLASH_ACR   REG32(0x40022000u)
#define GPIO(port, off) REG32(0x50000000u + 0x400u * (port) + (off))

#if defined(SPB_CLOCK_SOURCE_HSE)
#define SRC_HZ SPB_HSE_HZ
#define PLL_SRC (1u << 16)
#else
#define SRC_HZ 16000000u
#define PLL_SRC 0u
#endif

#if defined(SPB_UART_IS_LPUART)
#define UART 0x40004800u
#define UART_ENR RCC_APB1ENR
#define UART_EN (1u << 18)
#define UART_BRR ((uint32_t)(((uint64_t)SPB_SYSCLK_HZ * 256u + SPB_UART_BAUD / 2u) / SPB_UART_BAUD))
#elif SPB_UART_INSTANCE == 1
#define UART 0x40013800u
#define UART_ENR RCC_APB2ENR
#define UART_EN (1u << 14)
#elif SPB_UART_INSTANCE == 2
#define UART 0x40004400u
#define UART_ENR RCC_APB1ENR
#define UART_EN (1u << 17)
#else
#define UART (SPB_UART_INSTANCE == 4 ? 0x40004C00u : 0x40005000u)
#define UART_ENR RCC_APB1ENR
#define UART_EN (1u << (15u + SPB_UART_INSTANCE))
#endif
#ifndef UART_BRR
#define UART_BRR ((SPB_SYSCLK_HZ + SPB_UART_BAUD / 2u) / SPB_UART_BAUD)
#endif

#define BSP_GPIO_ENR RCC_IOPENR
#define BSP_UART_BRR_VALUE (UART_BRR)
#include "bsp_stm32.h"

/* PLLMUL / PLLDIV codes of RCC_CFGR for SRC_HZ -> SPB_SYSCLK_HZ with VCO <= 96 MHz. */
static uint32_t pll_bits(void)
{
    static const uint8_t mul[] = {3, 4, 6, 8, 12, 16, 24, 32, 48};
    for (uint32_t m = 0; m < sizeof mul; m++) {
        for (uint32_t d = 2; d <= 4u; d++) {
            uint32_t vco = SRC_HZ * mul[m];
            if (vco <= 96000000u && vco % d == 0u && vco / d == SPB_SYSCLK_HZ) {
                return (m << 18) | ((d - 1u) << 22);
            }
        }
    }
    return 0u;
}

static void clock_init(void)
{
    RCC_CR |= 1u << 8; /* MSION */
    while (!(RCC_CR & (1u << 9))) {
    }
    RCC_CFGR &= ~3u; /* SYSCLK = MSI */
    while (RCC_CFGR & 0xCu) {
    }
    RCC_CR &= ~(1u << 24);
    while (RCC_CR & (1u << 25)) {
    }
    RCC_APB1ENR |= 1u << 28; /* PWR */
    while (PWR_CSR & (1u << 4)) {
    }
    PWR_CR = (PWR_CR & ~(3u << 11)) | (1u << 11); /* range 1 */
    while (PWR_CSR & (1u << 4)) {
    }
#if defined(SPB_CLOCK_SOURCE_HSE)
#if defined(SPB_HSE_BYPASS) && SPB_HSE_BYPASS
    RCC_CR |= 1u << 18;
#endif
    RCC_CR |= 1u << 16;
    while (!(RCC_CR & (1u << 17))) {
    }
#else
    RCC_CR |= 1u; /* HSI16ON */
    while (!(RCC_CR & 4u)) {
    }
#endif
    uint32_t ws = SPB_SYSCLK_HZ > 16000000u ? 1u : 0u;
    FLASH_ACR = ws | (ws << 1); /* latency, prefetch */
    while ((FLASH_ACR & 1u) != ws) {
    }
    uint32_t cfgr = RCC_CFGR & ~((0xFFu << 16) | (0xFu << 4) | (0x3Fu << 8) | 3u);
    if (SPB_SYSCLK_HZ == SRC_HZ) {
        uint32_t sw = PLL_SRC ? 2u : 1u;
        RCC_CFGR = cfgr | sw;
        while ((RCC_CFGR & 0xCu) != (sw << 2)) {
        }
        return;
    }
    uint32_t pll = pll_bits();
    if (pll == 0u) {
        return; /* no PLL setting for this clock: stay on MSI */
    }
    RCC_CFGR = cfgr | PLL_SRC | pll;
    RCC_CR |= 1u << 24;
    while (!(RCC_CR & (1u << 25))) {
    }
    RCC_CFGR = cfgr | PLL_SRC | pll | 3u;
    while ((RCC_CFGR & 0xCu) != 0xCu) {
    }
}

void bsp_init(void)
{
    clock_init();
    bsp_console_init();
    __asm volatile("cpsie i" ::: "memory");
}
