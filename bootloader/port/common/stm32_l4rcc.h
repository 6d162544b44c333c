/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the ports of the parts with the STM32L4-class RCC share: STM32L4 / L4+ (RM0394 / RM0351 / RM0432
 * section 6) and STM32L5 (RM0438 section 9, non-secure aliases with TrustZone disabled). Their RCC has the
 * same register layout and bit positions for everything used here (CR, CFGR, PLLCFGR with PLLM in [7:4],
 * the AHB2 / APB1 / APB2 enables of GPIO and the U(S)ARTs), the same U(S)ART/LPUART instances at the same
 * addresses, the same MSI (4 MHz at reset), HSI16 and HSE, and the same VDDIO2 isolation of PG[15:2]
 * (PWR_CR2.IOSV). What differs (voltage scaling, wait states, boost, GPIO base) the port defines first:
 *
 *   GPIO_BASE(port)        GPIO port base address (port index A = 0)
 *   L4RCC_FLASH_WS         FLASH_ACR.LATENCY for SPB_SYSCLK_HZ at the voltage range the port selects
 *   L4RCC_ACR_BITS         other FLASH_ACR bits to set with the latency (prefetch, caches; 0 if none)
 *   L4RCC_AHB_STEP         1 when the switch to SYSCLK needs the AHB /2 step (above 80 MHz, RM0432 6.2.9,
 *                          RM0438 9.2.9 "clock switching above 80 MHz"), else 0
 *   static void l4rcc_power_up(void)  the regulator range (and boost) for SPB_SYSCLK_HZ; PWR clock is on
 *
 * Clock: MSI (4 MHz), HSI16 or HSE brought to a 4 MHz PLL input (PLLM), VCO = 2 * SYSCLK (PLLN),
 * SYSCLK = VCO / 2 (PLLR); APB1/APB2 undivided. Console: the U(S)ART on PCLK (CCIPR reset value), pins
 * from the board, driven by stm32_port_glue.h (SysTick, console, button, reset, hand-over), which this
 * header includes with the UART and GPIO definitions it needs. Include from exactly one port file.
 */
#ifndef SPB_STM32_L4RCC_H
#define SPB_STM32_L4RCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cortexm.h"
#include "port.h"
#include "stm32_common.h"

/* ---- registers (RCC 0x4002_1000, PWR 0x4000_7000, FLASH_ACR 0x4002_2000 on all of them) ---- */
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

#define RCC_CR_MSION  (1u << 0)
#define RCC_CR_MSIRDY (1u << 1)
#define RCC_CR_HSION  (1u << 8)
#define RCC_CR_HSIRDY (1u << 10)
#define RCC_CR_HSEON  (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_HSEBYP (1u << 18)
#define RCC_CR_PLLON  (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_APB1ENR1_PWREN (1u << 28)

#define PWR_CR1 SPB_REG32(0x40007000u)
#define PWR_CR2 SPB_REG32(0x40007004u)
#define PWR_SR2 SPB_REG32(0x40007014u)
#define PWR_SR2_VOSF (1u << 10)
#define PWR_CR2_IOSV (1u << 9) /* VDDIO2 valid: PG[15:2] usable */

#define FLASH_ACR SPB_REG32(0x40022000u)

/* ---- clock plan (compile time) ---- */
#define PLL_IN_HZ 4000000u
#if defined(SPB_CLOCK_SOURCE_MSI)
#define PLL_SRC 1u
#define PLL_M 1u /* MSI range 6 = 4 MHz, the reset value */
#elif defined(SPB_CLOCK_SOURCE_HSI)
#define PLL_SRC 2u
#define PLL_M 4u
#elif defined(SPB_CLOCK_SOURCE_HSE)
#define PLL_SRC 3u
#define PLL_M (SPB_HSE_HZ / PLL_IN_HZ)
_Static_assert(SPB_HSE_HZ % PLL_IN_HZ == 0u && SPB_HSE_HZ / PLL_IN_HZ <= 8u, "HSE must be 4/8/.../32 MHz");
#else
#error "clock.source must be MSI, HSI or HSE"
#endif
#define PLL_N (2u * SPB_SYSCLK_HZ / PLL_IN_HZ)
_Static_assert(SPB_SYSCLK_HZ % (PLL_IN_HZ / 2u) == 0u, "SYSCLK must be a multiple of 2 MHz");
_Static_assert(PLL_N >= 8u && PLL_N <= 86u && SPB_SYSCLK_HZ >= 16000000u && SPB_SYSCLK_HZ <= 120000000u,
               "SYSCLK out of the PLL range (16..120 MHz)");

/* Pins on PG2..PG15 are supplied by VDDIO2 and stay isolated until PWR_CR2.IOSV is set (RM0351 / RM0432 /
 * RM0438 "Independent I/O supply rail"); e.g. the NUCLEO-L496ZG console (LPUART1 on PG7/PG8). */
#define ON_VDDIO2(port, pin) ((port) == 6u && (pin) >= 2u)
#if ON_VDDIO2(SPB_UART_TX_PORT, SPB_UART_TX_PIN) || ON_VDDIO2(SPB_UART_RX_PORT, SPB_UART_RX_PIN)
#define PINS_ON_VDDIO2 1
#elif defined(SPB_BUTTON_PRESENT)
#if SPB_BUTTON_PRESENT && ON_VDDIO2(SPB_BUTTON_PORT, SPB_BUTTON_PIN)
#define PINS_ON_VDDIO2 1
#endif
#endif

/* ---- console UART ---- */
#if defined(SPB_UART_IS_LPUART)
#define UART_BASE 0x40008000u
#define UART_EN_REG RCC_APB1ENR2
#define UART_RST_REG RCC_APB1RSTR2
#define UART_BIT (1u << 0)
#define UART_BRR ((uint32_t)(((uint64_t)SPB_SYSCLK_HZ * 256u + SPB_UART_BAUD / 2u) / SPB_UART_BAUD))
#else
#if SPB_UART_INSTANCE == 1
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
#error "console must be USART1..3, UART4/5 or LPUART1"
#endif
#define UART_BRR ((SPB_SYSCLK_HZ + SPB_UART_BAUD / 2u) / SPB_UART_BAUD)
#endif
#define GPIO_EN_REG RCC_AHB2ENR

#include "stm32_port_glue.h" /* SysTick, console, button, reset, hand-over */

static void l4rcc_power_up(void);

static void l4rcc_clock_init(void)
{
    /* Run from MSI while the PLL is (re)configured: a previous stage may have left the PLL on. */
    RCC_CR |= RCC_CR_MSION;
    stm32_wait_set(&RCC_CR, RCC_CR_MSIRDY);
    RCC_CFGR &= ~3u;
    while ((RCC_CFGR & 0xCu) != 0u) {
    }
    RCC_CR &= ~RCC_CR_PLLON;
    while (RCC_CR & RCC_CR_PLLRDY) {
    }

    RCC_APB1ENR1 |= RCC_APB1ENR1_PWREN;
    (void)RCC_APB1ENR1;
    l4rcc_power_up();

#if defined(SPB_CLOCK_SOURCE_HSI)
    RCC_CR |= RCC_CR_HSION;
    stm32_wait_set(&RCC_CR, RCC_CR_HSIRDY);
#elif defined(SPB_CLOCK_SOURCE_HSE)
#if defined(SPB_HSE_BYPASS) && SPB_HSE_BYPASS
    RCC_CR |= RCC_CR_HSEBYP;
#endif
    RCC_CR |= RCC_CR_HSEON;
    stm32_wait_set(&RCC_CR, RCC_CR_HSERDY);
#endif

    /* More wait states first, then the faster clock. */
    FLASH_ACR = (FLASH_ACR & ~0xFu) | L4RCC_FLASH_WS | L4RCC_ACR_BITS;
    while ((FLASH_ACR & 0xFu) != L4RCC_FLASH_WS) {
    }

    /* PLLR = /2 (00) with PLLREN; P and Q outputs off. */
    RCC_PLLCFGR = PLL_SRC | ((PLL_M - 1u) << 4) | (PLL_N << 8) | (1u << 24);
    RCC_CR |= RCC_CR_PLLON;
    stm32_wait_set(&RCC_CR, RCC_CR_PLLRDY);
#if L4RCC_AHB_STEP
    RCC_CFGR = (RCC_CFGR & ~(0xFu << 4)) | (0x8u << 4); /* HCLK = SYSCLK / 2 during the switch */
#endif
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 4) | (0x3Fu << 8) | 3u)) | 3u
#if L4RCC_AHB_STEP
               | (0x8u << 4)
#endif
        ;
    while ((RCC_CFGR & 0xCu) != 0xCu) {
    }
#if L4RCC_AHB_STEP
    for (volatile uint32_t i = 0; i < 100u; i++) { /* >= 1 us at SYSCLK / 2 */
    }
    RCC_CFGR &= ~(0xFu << 4);
#endif
}

/* Clocks and the VDDIO2 rail; then the console, button and SysTick of stm32_port_glue.h. Leaves the PWR
 * clock on. */
static void l4rcc_init(void)
{
    SCB_VTOR = SPB_BOOT_BASE;
    l4rcc_clock_init();
#if defined(PINS_ON_VDDIO2)
    PWR_CR2 |= PWR_CR2_IOSV;
#endif
    stm32_glue_init();
}

#endif
