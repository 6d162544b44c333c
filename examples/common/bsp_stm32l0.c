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
#define UART_CR1   REG32(UART + 0x00u)
#define UART_CR3   REG32(UART + 0x08u)
#define UART_BRR_R REG32(UART + 0x0Cu)
#define UART_ISR   REG32(UART + 0x1Cu)
#define UART_RDR   REG32(UART + 0x24u)
#define UART_TDR   REG32(UART + 0x28u)

static volatile uint32_t s_millis;

void SysTick_Handler(void)
{
    s_millis++;
}

static void pin_af(uint32_t port, uint32_t pin, uint32_t af)
{
    GPIO(port, 0x20u + 4u * (pin / 8u)) = (GPIO(port, 0x20u + 4u * (pin / 8u)) & ~(0xFu << (4u * (pin % 8u)))) |
                                         (af << (4u * (pin % 8u)));
    GPIO(port, 0x0Cu) = (GPIO(port, 0x0Cu) & ~(3u << (2u * pin))) | (1u << (2u * pin));
    GPIO(port, 0x08u) |= 2u << (2u * pin);
    GPIO(port, 0x00u) = (GPIO(port, 0x00u) & ~(3u << (2u * pin))) | (2u << (2u * pin));
}

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
    RCC_IOPENR |= (1u << SPB_UART_TX_PORT) | (1u << SPB_UART_RX_PORT);
    UART_ENR |= UART_EN;
    (void)UART_ENR;
    pin_af(SPB_UART_TX_PORT, SPB_UART_TX_PIN, SPB_UART_TX_AF);
    pin_af(SPB_UART_RX_PORT, SPB_UART_RX_PIN, SPB_UART_RX_AF);
    UART_CR1 = 0u;
    UART_CR3 = 1u << 12; /* OVRDIS */
    UART_BRR_R = UART_BRR;
    UART_CR1 = (1u << 0) | (1u << 2) | (1u << 3);

    REG32(0xE000E010u) = 0u;
    REG32(0xE000E014u) = SPB_SYSCLK_HZ / 1000u - 1u;
    REG32(0xE000E018u) = 0u;
    REG32(0xE000E010u) = 7u;
    __asm volatile("cpsie i" ::: "memory");
}

void bsp_putc(char c)
{
    while (!(UART_ISR & (1u << 7))) {
    }
    UART_TDR = (uint8_t)c;
}

void bsp_puts(const char *s)
{
    while (*s != '\0') {
        bsp_putc(*s++);
    }
}

int bsp_getc(uint32_t timeout_ms)
{
    uint32_t start = s_millis;
    do {
        if (UART_ISR & (1u << 5)) {
            return (int)(UART_RDR & 0xFFu);
        }
    } while ((uint32_t)(s_millis - start) < timeout_ms);
    return -1;
}

uint32_t bsp_millis(void)
{
    return s_millis;
}

void bsp_reset(void)
{
    while (!(UART_ISR & (1u << 6))) {
    }
    __asm volatile("dsb 0xF" ::: "memory");
    REG32(0xE000ED0Cu) = 0x05FA0004u;
    for (;;) {
    }
}
