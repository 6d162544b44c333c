/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Example BSP for STM32F76x/F77x (RM0410), configured by spb_board.h: HSI or HSE -> PLL with a 2 MHz input
 * (1 MHz for an odd number of MHz of HSE, e.g. the DISCO-F769I's 25 MHz), VCO = 2 * SYSCLK, SYSCLK =
 * SPB_SYSCLK_HZ (up to 180 MHz; up to 216 MHz with the over-drive), APB1 <= 45 / 54 MHz, APB2 <= 90 / 108 MHz
 * (without / with over-drive), flash latency one wait state per 30 MHz with prefetch and the ART accelerator,
 * console USARTx/UARTx (the ISR/RDR/TDR generation) on PCLK, SysTick milliseconds. The Cortex-M7 L1 caches
 * stay off. Works from reset state and from the bootloader's state.
 */
#include <stdint.h>

#include "bsp.h"
#include "spb_board.h"

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define RCC_CR      REG32(0x40023800u)
#define RCC_PLLCFGR REG32(0x40023804u)
#define RCC_CFGR    REG32(0x40023808u)
#define RCC_AHB1ENR REG32(0x40023830u)
#define RCC_APB1ENR REG32(0x40023840u)
#define RCC_APB2ENR REG32(0x40023844u)
#define FLASH_ACR   REG32(0x40023C00u)
#define PWR_CR1     REG32(0x40007000u)
#define PWR_CSR1    REG32(0x40007004u)
#define OVERDRIVE   (SPB_SYSCLK_HZ > 180000000u)
#define GPIO(port, off) REG32(0x40020000u + 0x400u * (port) + (off))

#if defined(SPB_CLOCK_SOURCE_HSE)
#define PLL_IN (SPB_HSE_HZ % 2000000u == 0u ? 2000000u : 1000000u)
#define PLL_M (SPB_HSE_HZ / PLL_IN)
#define PLL_SRC (1u << 22)
#else
#define PLL_IN 2000000u
#define PLL_M 8u
#define PLL_SRC 0u
#endif
#define PLL_N (2u * SPB_SYSCLK_HZ / PLL_IN)                  /* VCO = 2 * SYSCLK */
#define PLL_Q ((2u * SPB_SYSCLK_HZ + 47999999u) / 48000000u) /* 48 MHz domain, at most 48 MHz */
#define FLASH_WS ((SPB_SYSCLK_HZ - 1u) / 30000000u)
#define DIV_CODE(limit) \
    (SPB_SYSCLK_HZ <= (limit) ? 0u : SPB_SYSCLK_HZ <= 2u * (limit) ? 4u : SPB_SYSCLK_HZ <= 4u * (limit) ? 5u : 6u)
#define DIV(code) ((code) == 0u ? 1u : 1u << ((code) - 3u))
#define PPRE1 DIV_CODE(OVERDRIVE ? 54000000u : 45000000u)
#define PPRE2 DIV_CODE(OVERDRIVE ? 108000000u : 90000000u)

#if SPB_UART_INSTANCE == 1 || SPB_UART_INSTANCE == 6
#define UART (SPB_UART_INSTANCE == 1 ? 0x40011000u : 0x40011400u)
#define UART_ENR RCC_APB2ENR
#define UART_EN (SPB_UART_INSTANCE == 1 ? (1u << 4) : (1u << 5))
#define UART_PCLK (SPB_SYSCLK_HZ / DIV(PPRE2))
#elif SPB_UART_INSTANCE == 7 || SPB_UART_INSTANCE == 8
#define UART (SPB_UART_INSTANCE == 7 ? 0x40007800u : 0x40007C00u)
#define UART_ENR RCC_APB1ENR
#define UART_EN (1u << (23u + SPB_UART_INSTANCE))
#define UART_PCLK (SPB_SYSCLK_HZ / DIV(PPRE1))
#else
#define UART (0x40004400u + 0x400u * (SPB_UART_INSTANCE - 2u))
#define UART_ENR RCC_APB1ENR
#define UART_EN (1u << (15u + SPB_UART_INSTANCE))
#define UART_PCLK (SPB_SYSCLK_HZ / DIV(PPRE1))
#endif

#define BSP_GPIO_ENR RCC_AHB1ENR
#define BSP_UART_BRR_VALUE ((UART_PCLK + SPB_UART_BAUD / 2u) / SPB_UART_BAUD /* oversampling 16 */)
#include "bsp_stm32.h"

static void clock_init(void)
{
    RCC_CR |= 1u; /* HSION */
    while (!(RCC_CR & 2u)) {
    }
    RCC_CFGR &= ~3u; /* SYSCLK = HSI */
    while (RCC_CFGR & 0xCu) {
    }
    RCC_CR &= ~(1u << 24);
    while (RCC_CR & (1u << 25)) {
    }
#if defined(SPB_CLOCK_SOURCE_HSE)
#if defined(SPB_HSE_BYPASS) && SPB_HSE_BYPASS
    RCC_CR |= 1u << 18;
#endif
    RCC_CR |= 1u << 16;
    while (!(RCC_CR & (1u << 17))) {
    }
#endif
    RCC_PLLCFGR = (RCC_PLLCFGR & ~0x0F437FFFu) | PLL_M | (PLL_N << 6) | PLL_SRC | (PLL_Q << 24); /* P = 2 */
    RCC_CR |= 1u << 24;
#if OVERDRIVE
    RCC_APB1ENR |= 1u << 28; /* PWREN */
    (void)RCC_APB1ENR;
    PWR_CR1 |= 1u << 16; /* ODEN, then ODSWEN: RM0410 (after the bootloader both are already on) */
    while (!(PWR_CSR1 & (1u << 16))) {
    }
    PWR_CR1 |= 1u << 17;
    while (!(PWR_CSR1 & (1u << 17))) {
    }
#endif
    FLASH_ACR = FLASH_WS | (3u << 8); /* latency, prefetch, ART accelerator */
    while ((FLASH_ACR & 0xFu) != FLASH_WS) {
    }
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 4) | (0x3Fu << 10))) | (PPRE1 << 10) | (PPRE2 << 13);
    while (!(RCC_CR & (1u << 25))) {
    }
    RCC_CFGR = (RCC_CFGR & ~3u) | 2u;
    while ((RCC_CFGR & 0xCu) != 0x8u) {
    }
}

void bsp_init(void)
{
    clock_init();
    bsp_console_init();
    __asm volatile("cpsie i" ::: "memory");
}
