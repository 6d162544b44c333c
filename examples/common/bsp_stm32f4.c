/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Example BSP for STM32F4 (RM0090), configured by spb_board.h: HSI or HSE (optionally bypass) -> PLL with
 * a 2 MHz input, VCO = 2 * SYSCLK, SYSCLK = SPB_SYSCLK_HZ (<= 168 MHz; up to 180 MHz with the over-drive
 * of the F42x/F43x/F469/F479), APB1 <= 42 MHz, APB2 <= 84 MHz (45 / 90 MHz with over-drive), console
 * USARTx/UARTx, SysTick milliseconds. Works from reset state and from the bootloader's state.
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
#define PWR_CR      REG32(0x40007000u)
#define PWR_CSR     REG32(0x40007004u)
#define OVERDRIVE   (SPB_SYSCLK_HZ > 168000000u)
#define GPIO(port, off) REG32(0x40020000u + 0x400u * (port) + (off))

#if defined(SPB_CLOCK_SOURCE_HSE)
#define PLL_M (SPB_HSE_HZ / 2000000u)
#define PLL_SRC (1u << 22)
#else
#define PLL_M 8u
#define PLL_SRC 0u
#endif
#define PLL_N (SPB_SYSCLK_HZ / 1000000u)                 /* VCO = 2 * SYSCLK from 2 MHz */
#define PLL_Q ((2u * SPB_SYSCLK_HZ + 47999999u) / 48000000u) /* 48 MHz domain, at most 48 MHz */
#define FLASH_WS ((SPB_SYSCLK_HZ - 1u) / 30000000u)
#define DIV_CODE(limit) \
    (SPB_SYSCLK_HZ <= (limit) ? 0u : SPB_SYSCLK_HZ <= 2u * (limit) ? 4u : SPB_SYSCLK_HZ <= 4u * (limit) ? 5u : 6u)
#define DIV(code) ((code) == 0u ? 1u : 1u << ((code) - 3u))
#define PPRE1 DIV_CODE(OVERDRIVE ? 45000000u : 42000000u)
#define PPRE2 DIV_CODE(OVERDRIVE ? 90000000u : 84000000u)

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

#define BSP_USART_V1 /* SR/DR register set */
#define BSP_GPIO_ENR RCC_AHB1ENR
#define BSP_UART_BRR_VALUE ((UART_PCLK + SPB_UART_BAUD / 2u) / SPB_UART_BAUD)
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
    PWR_CR |= 1u << 16; /* ODEN, then ODSWEN: RM0090 5.1.4 (after the bootloader both are already on) */
    while (!(PWR_CSR & (1u << 16))) {
    }
    PWR_CR |= 1u << 17;
    while (!(PWR_CSR & (1u << 17))) {
    }
#endif
    FLASH_ACR = FLASH_WS | (7u << 8); /* latency, prefetch, I/D caches */
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
