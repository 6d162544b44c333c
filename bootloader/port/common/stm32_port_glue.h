/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The part of a port that is the same on every STM32 with the "new" U(S)ART register set (ISR/RDR/TDR)
 * and the common GPIO block: the millisecond tick, the console pins and U(S)ART, the button, the reset
 * and the hand-over to the application. A port includes it once, after defining its peripheral map:
 *
 *   UART_BASE, UART_BRR              console U(S)ART/LPUART base and BRR value for SPB_UART_BAUD
 *   UART_EN_REG, UART_RST_REG, UART_BIT   its RCC clock-enable and reset registers and bit
 *   GPIO_BASE(port)                  GPIO port base by index (A = 0)
 *   GPIO_EN_REG                      RCC register with one clock-enable bit per GPIO port (bit = index)
 *
 * and calls stm32_glue_init() at the end of port_init() (clocks already set up).
 */
#ifndef SPB_STM32_PORT_GLUE_H
#define SPB_STM32_PORT_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cortexm.h"
#include "port.h"
#include "spb_board.h"
#include "stm32_common.h"

static volatile uint32_t s_millis;

void SysTick_Handler(void)
{
    s_millis++;
}

uint32_t port_millis(void)
{
    return s_millis;
}

/* Console pins and U(S)ART, the button input, the 1 ms SysTick; interrupts on. */
static inline void stm32_glue_init(void)
{
    GPIO_EN_REG |= (1u << SPB_UART_TX_PORT) | (1u << SPB_UART_RX_PORT);
#if defined(SPB_BUTTON_PRESENT) && SPB_BUTTON_PRESENT
    GPIO_EN_REG |= 1u << SPB_BUTTON_PORT;
#endif
    (void)GPIO_EN_REG;
    UART_EN_REG |= UART_BIT;
    (void)UART_EN_REG;
    stm32_gpio_af(GPIO_BASE(SPB_UART_TX_PORT), SPB_UART_TX_PIN, SPB_UART_TX_AF);
    stm32_gpio_af(GPIO_BASE(SPB_UART_RX_PORT), SPB_UART_RX_PIN, SPB_UART_RX_AF);
    stm32_usartn_init(UART_BASE, UART_BRR);
#if defined(SPB_BUTTON_PRESENT) && SPB_BUTTON_PRESENT
    /* Input with the pull towards "released": some boards (NUCLEO-WL55JC B1, LoRa-E5 SW2) rely on the
     * MCU's pull-up; on boards with their own resistor the weak internal pull changes nothing. */
    uint32_t base = GPIO_BASE(SPB_BUTTON_PORT);
    GPIO_PUPDR(base) = (GPIO_PUPDR(base) & ~(3u << (2u * SPB_BUTTON_PIN))) |
                       ((SPB_BUTTON_ACTIVE_LOW ? 1u : 2u) << (2u * SPB_BUTTON_PIN));
    stm32_gpio_input(base, SPB_BUTTON_PIN);
#endif
    s_millis = 0u;
    cm_systick_start(SPB_SYSCLK_HZ / 1000u);
    cm_irq_enable();
}

void port_uart_write(const uint8_t *data, size_t len)
{
    stm32_uart_write(&USARTN_ISR(UART_BASE), USARTN_ISR_TXE, &USARTN_TDR(UART_BASE), data, len);
}

int port_uart_read(uint8_t *byte, uint32_t timeout_ms)
{
    return stm32_uart_read(&USARTN_ISR(UART_BASE), USARTN_ISR_RXNE, &USARTN_RDR(UART_BASE), byte, timeout_ms);
}

bool port_button_pressed(void)
{
#if defined(SPB_BUTTON_PRESENT) && SPB_BUTTON_PRESENT
    return stm32_gpio_active(GPIO_BASE(SPB_BUTTON_PORT), SPB_BUTTON_PIN, SPB_BUTTON_ACTIVE_LOW);
#else
    return false;
#endif
}

/* The last byte leaves the line first (TC), bounded: a U(S)ART that was never enabled has nothing to send. */
static inline void stm32_glue_drain(void)
{
    for (uint32_t n = SPB_SYSCLK_HZ / 100u;
         (USARTN_CR1(UART_BASE) & USARTN_CR1_UE) && (USARTN_ISR(UART_BASE) & USARTN_ISR_TC) == 0u && n > 0u; n--) {
    }
}

void port_reset(void)
{
    stm32_glue_drain();
    cm_system_reset();
}

void port_jump_to_app(uint32_t vector_table)
{
    stm32_glue_drain();
    cm_quiesce();
    UART_RST_REG |= UART_BIT;
    UART_RST_REG &= ~UART_BIT;
    UART_EN_REG &= ~UART_BIT;
#if defined(SPB_FIREWALL) && SPB_FIREWALL
    stm32_firewall_jump(vector_table); /* the Firewall closed behind the bootloader (port firewall.c) */
#else
    cm_jump(vector_table);
#endif
}

#endif
