/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Example BSP for the Cortex-M7 side of the STM32H745/H755 (RM0399), configured by spb_board.h: direct SMPS
 * supply (written once after power-on: after the bootloader the same value again changes nothing), voltage
 * scale 1, HSE or HSI -> PLL1 with a 5 (or 4) MHz reference, VCO = 2 * SYSCLK, SYSCLK = SPB_SYSCLK_HZ (<= 400
 * MHz), AXI/AHB <= 200 MHz, APB <= 100 MHz, flash wait states for the AXI clock, console USARTx/UARTx on its
 * APB clock, SysTick milliseconds. Works from the reset state and from the bootloader's state.
 */
#include <stdint.h>

#include "bsp.h"
#include "spb_board.h"

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define RCC_CR        REG32(0x58024400u)
#define RCC_CFGR      REG32(0x58024410u)
#define RCC_D1CFGR    REG32(0x58024418u)
#define RCC_D2CFGR    REG32(0x5802441Cu)
#define RCC_D3CFGR    REG32(0x58024420u)
#define RCC_PLLCKSELR REG32(0x58024428u)
#define RCC_PLLCFGR   REG32(0x5802442Cu)
#define RCC_PLL1DIVR  REG32(0x58024430u)
#define RCC_AHB4ENR   REG32(0x580244E0u)
#define RCC_APB1LENR  REG32(0x580244E8u)
#define RCC_APB2ENR   REG32(0x580244F0u)
#define PWR_CSR1      REG32(0x58024804u)
#define PWR_CR3       REG32(0x5802480Cu)
#define PWR_D3CR      REG32(0x58024818u)
#define FLASH_ACR     REG32(0x52002000u)
#define GPIO(port, off) REG32(0x58020000u + 0x400u * (port) + (off))

#if defined(SPB_CLOCK_SOURCE_HSE)
#define SRC_HZ SPB_HSE_HZ
#define PLL_SRC 2u
#else
#define SRC_HZ 64000000u
#define PLL_SRC 0u
#endif
#define REF_HZ (SRC_HZ % 5000000u == 0u ? 5000000u : SRC_HZ % 4000000u == 0u ? 4000000u : 2000000u)
#define HCLK_HZ (SPB_SYSCLK_HZ > 200000000u ? SPB_SYSCLK_HZ / 2u : SPB_SYSCLK_HZ)
#define APB_HZ (HCLK_HZ > 100000000u ? HCLK_HZ / 2u : HCLK_HZ)
#define PPRE (HCLK_HZ > 100000000u ? 4u : 0u)
#define FLASH_WS (HCLK_HZ <= 70000000u ? 0u : HCLK_HZ <= 140000000u ? 1u : 4u)
#define FLASH_WRHF (HCLK_HZ <= 70000000u ? 0u : HCLK_HZ <= 185000000u ? 1u : 2u)

#if SPB_UART_INSTANCE == 1 || SPB_UART_INSTANCE == 6
#define UART (SPB_UART_INSTANCE == 1 ? 0x40011000u : 0x40011400u)
#define UART_ENR RCC_APB2ENR
#define UART_EN (SPB_UART_INSTANCE == 1 ? (1u << 4) : (1u << 5))
#elif SPB_UART_INSTANCE == 7 || SPB_UART_INSTANCE == 8
#define UART (SPB_UART_INSTANCE == 7 ? 0x40007800u : 0x40007C00u)
#define UART_ENR RCC_APB1LENR
#define UART_EN (1u << (23u + SPB_UART_INSTANCE))
#else
#define UART (0x40004400u + 0x400u * (SPB_UART_INSTANCE - 2u))
#define UART_ENR RCC_APB1LENR
#define UART_EN (1u << (15u + SPB_UART_INSTANCE))
#endif

#define BSP_GPIO_ENR RCC_AHB4ENR
#define BSP_UART_BRR_VALUE ((APB_HZ + SPB_UART_BAUD / 2u) / SPB_UART_BAUD)
#include "bsp_stm32.h"

static void clock_init(void)
{
    PWR_CR3 = (PWR_CR3 & ~0x3Fu) | (1u << 2); /* direct SMPS (the board's supply) */
    while (!(PWR_CSR1 & (1u << 13))) {       /* ACTVOSRDY */
    }
    PWR_D3CR = (PWR_D3CR & ~(3u << 14)) | (3u << 14); /* VOS1 */
    while (!(PWR_D3CR & (1u << 13))) {
    }
    RCC_CR |= 1u; /* HSION; SYSCLK = HSI while PLL1 is set up */
    while (!(RCC_CR & (1u << 2))) {
    }
    RCC_CFGR &= ~7u;
    while (RCC_CFGR & (7u << 3)) {
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
    RCC_PLLCKSELR = (RCC_PLLCKSELR & ~((0x3Fu << 4) | 3u)) | ((SRC_HZ / REF_HZ) << 4) | PLL_SRC;
    RCC_PLLCFGR = (RCC_PLLCFGR & ~((7u << 16) | 0xFu)) | (1u << 16) | ((REF_HZ >= 4000000u ? 2u : 1u) << 2);
    RCC_PLL1DIVR = (2u * SPB_SYSCLK_HZ / REF_HZ - 1u) | (1u << 9) | (1u << 16) | (1u << 24);
    RCC_CR |= 1u << 24;
    FLASH_ACR = FLASH_WS | (FLASH_WRHF << 4);
    while ((FLASH_ACR & 0x3Fu) != (FLASH_WS | (FLASH_WRHF << 4))) {
    }
    RCC_D1CFGR = (SPB_SYSCLK_HZ > 200000000u ? 8u : 0u) | (PPRE << 4);
    RCC_D2CFGR = (PPRE << 4) | (PPRE << 8);
    RCC_D3CFGR = PPRE << 4;
    while (!(RCC_CR & (1u << 25))) {
    }
    RCC_CFGR = (RCC_CFGR & ~7u) | 3u;
    while ((RCC_CFGR & (7u << 3)) != (3u << 3)) {
    }
}

void bsp_init(void)
{
    clock_init();
    bsp_console_init();
    __asm volatile("cpsie i" ::: "memory");
}
