/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The part of every STM32 example BSP that does not depend on the family: the console pins (alternate
 * function, pull-up, high speed) and the console U(S)ART, under bsp_console.h's tick and console functions. A BSP
 * includes it once, after its clock and peripheral map:
 *
 *   REG32(addr), GPIO(port, offset)    register access; a GPIO port's registers by index (A = 0)
 *   BSP_GPIO_ENR                       RCC register with one clock-enable bit per GPIO port
 *   UART, UART_ENR, UART_EN            console U(S)ART/LPUART base, its RCC enable register and bit
 *   BSP_UART_BRR_VALUE                 BRR for SPB_UART_BAUD at the U(S)ART's kernel clock
 *   BSP_USART_V1                       defined for the F4's USART (SR/DR at 0x00/0x04, BRR 0x08, CR1 0x0C);
 *                                      otherwise the ISR/RDR/TDR register set of every other family
 *
 * and calls bsp_console_init() from bsp_init() once its clocks run, then enables interrupts.
 */
#ifndef BSP_STM32_H
#define BSP_STM32_H

#include <stdint.h>

#include "bsp.h"
#include "spb_board.h"

#if defined(BSP_USART_V1)
#define BSP_UART_SR  REG32(UART + 0x00u)
#define BSP_UART_RDR REG32(UART + 0x04u)
#define BSP_UART_TDR REG32(UART + 0x04u)
#define BSP_UART_BRR REG32(UART + 0x08u)
#define BSP_UART_CR1 REG32(UART + 0x0Cu)
#define BSP_UART_CR1_ON ((1u << 13) | (1u << 3) | (1u << 2)) /* UE, TE, RE */
#else
#define BSP_UART_CR1 REG32(UART + 0x00u)
#define BSP_UART_CR3 REG32(UART + 0x08u)
#define BSP_UART_BRR REG32(UART + 0x0Cu)
#define BSP_UART_SR  REG32(UART + 0x1Cu) /* ISR */
#define BSP_UART_RDR REG32(UART + 0x24u)
#define BSP_UART_TDR REG32(UART + 0x28u)
#define BSP_UART_CR1_ON ((1u << 0) | (1u << 2) | (1u << 3)) /* UE, RE, TE */
#endif
/* The same status bits in SR and ISR: TXE 7, TC 6, RXNE 5 */
#define BSP_UART_TXE  (1u << 7)
#define BSP_UART_TC   (1u << 6)
#define BSP_UART_RXNE (1u << 5)

#define BSP_TX_READY() ((BSP_UART_SR & BSP_UART_TXE) != 0u)
#define BSP_TX(byte)   (BSP_UART_TDR = (byte))
#define BSP_RX_READY() ((BSP_UART_SR & BSP_UART_RXNE) != 0u) /* F4: reading SR then DR also clears an overrun */
#define BSP_RX()       (BSP_UART_RDR & 0xFFu)
#define BSP_TX_DONE()  ((BSP_UART_SR & BSP_UART_TC) != 0u)
#include "bsp_console.h"

static void pin_af(uint32_t port, uint32_t pin, uint32_t af)
{
    GPIO(port, 0x20u + 4u * (pin / 8u)) = (GPIO(port, 0x20u + 4u * (pin / 8u)) & ~(0xFu << (4u * (pin % 8u)))) |
                                         (af << (4u * (pin % 8u)));
    GPIO(port, 0x0Cu) = (GPIO(port, 0x0Cu) & ~(3u << (2u * pin))) | (1u << (2u * pin)); /* pull-up */
    GPIO(port, 0x08u) |= 2u << (2u * pin);                                               /* high speed */
    GPIO(port, 0x00u) = (GPIO(port, 0x00u) & ~(3u << (2u * pin))) | (2u << (2u * pin)); /* AF mode */
}

/* Console pins and U(S)ART, and the 1 ms SysTick (interrupts still masked). */
static void bsp_console_init(void)
{
    BSP_GPIO_ENR |= (1u << SPB_UART_TX_PORT) | (1u << SPB_UART_RX_PORT);
    UART_ENR |= UART_EN;
    (void)UART_ENR;
    pin_af(SPB_UART_TX_PORT, SPB_UART_TX_PIN, SPB_UART_TX_AF);
    pin_af(SPB_UART_RX_PORT, SPB_UART_RX_PIN, SPB_UART_RX_AF);
    BSP_UART_CR1 = 0u;
#if !defined(BSP_USART_V1)
    BSP_UART_CR3 = 1u << 12; /* OVRDIS */
#endif
    BSP_UART_BRR = BSP_UART_BRR_VALUE;
    BSP_UART_CR1 = BSP_UART_CR1_ON;

    bsp_tick_init();
}

#endif
