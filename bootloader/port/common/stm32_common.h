/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pieces shared by the STM32 ports: GPIO (same register layout on L0, L4 and F4, RM0367/RM0394/RM0090),
 * the "new" USART/LPUART register set of L0 and L4, and the write checks of port.h.
 */
#ifndef SPB_STM32_COMMON_H
#define SPB_STM32_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cortexm.h"
#include "port.h"

/* Busy-wait until one of mask's bits reads set (a ready flag). */
static inline void stm32_wait_set(const volatile uint32_t *reg, uint32_t mask)
{
    while ((*reg & mask) == 0u) {
    }
}

/* ---- GPIO ---- */
#define GPIO_MODER(base)   SPB_REG32((base) + 0x00u)
#define GPIO_OTYPER(base)  SPB_REG32((base) + 0x04u)
#define GPIO_OSPEEDR(base) SPB_REG32((base) + 0x08u)
#define GPIO_PUPDR(base)   SPB_REG32((base) + 0x0Cu)
#define GPIO_IDR(base)     SPB_REG32((base) + 0x10u)
#define GPIO_AFR(base, n)  SPB_REG32((base) + 0x20u + 4u * (n))

static inline void stm32_gpio_af(uint32_t base, uint32_t pin, uint32_t af)
{
    GPIO_AFR(base, pin / 8u) = (GPIO_AFR(base, pin / 8u) & ~(0xFu << (4u * (pin % 8u)))) | (af << (4u * (pin % 8u)));
    GPIO_OTYPER(base) &= ~(1u << pin);                                        /* push-pull */
    GPIO_OSPEEDR(base) = (GPIO_OSPEEDR(base) & ~(3u << (2u * pin))) | (2u << (2u * pin)); /* high speed */
    GPIO_PUPDR(base) = (GPIO_PUPDR(base) & ~(3u << (2u * pin))) | (1u << (2u * pin));     /* pull-up: idle RX */
    GPIO_MODER(base) = (GPIO_MODER(base) & ~(3u << (2u * pin))) | (2u << (2u * pin));     /* alternate */
}

static inline void stm32_gpio_input(uint32_t base, uint32_t pin)
{
    GPIO_MODER(base) &= ~(3u << (2u * pin));
}

/* A button input as "pressed", for buttons wired to either level. */
static inline bool stm32_gpio_active(uint32_t base, uint32_t pin, bool active_low)
{
    bool level = (GPIO_IDR(base) >> pin) & 1u;
    return active_low ? !level : level;
}

/* ---- polled console, any STM32 U(S)ART: status register with TXE/RXNE, data registers ---- */
static inline void stm32_uart_write(const volatile uint32_t *status, uint32_t txe, volatile uint32_t *tdr,
                                    const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        stm32_wait_set(status, txe);
        *tdr = data[i];
    }
}

static inline int stm32_uart_read(const volatile uint32_t *status, uint32_t rxne, const volatile uint32_t *rdr,
                                  uint8_t *byte, uint32_t timeout_ms)
{
    uint32_t start = port_millis();
    for (;;) {
        if (*status & rxne) {
            *byte = (uint8_t)*rdr;
            return 1;
        }
        if ((uint32_t)(port_millis() - start) >= timeout_ms) {
            return 0;
        }
    }
}

/* ---- USART / LPUART of L0 and L4 ---- */
#define USARTN_CR1(base) SPB_REG32((base) + 0x00u)
#define USARTN_CR3(base) SPB_REG32((base) + 0x08u)
#define USARTN_BRR(base) SPB_REG32((base) + 0x0Cu)
#define USARTN_ISR(base) SPB_REG32((base) + 0x1Cu)
#define USARTN_ICR(base) SPB_REG32((base) + 0x20u)
#define USARTN_RDR(base) SPB_REG32((base) + 0x24u)
#define USARTN_TDR(base) SPB_REG32((base) + 0x28u)
#define USARTN_CR1_UE    (1u << 0)
#define USARTN_CR1_RE    (1u << 2)
#define USARTN_CR1_TE    (1u << 3)
#define USARTN_CR3_OVRDIS (1u << 12)
#define USARTN_ISR_RXNE  (1u << 5)
#define USARTN_ISR_TC    (1u << 6)
#define USARTN_ISR_TXE   (1u << 7)

/* 8N1, oversampling 16 (LPUART: BRR = 256 * fck / baud), overrun detection off so a missed byte never
 * blocks reception. */
static inline void stm32_usartn_init(uint32_t base, uint32_t brr)
{
    USARTN_CR1(base) = 0u;
    USARTN_CR3(base) = USARTN_CR3_OVRDIS;
    USARTN_BRR(base) = brr;
    USARTN_CR1(base) = USARTN_CR1_UE | USARTN_CR1_RE | USARTN_CR1_TE;
}

#if defined(SPB_FIREWALL) && SPB_FIREWALL
/* Production builds of the L4/L4+/L0: close the Firewall behind the bootloader and hand over
 * (stm32_firewall.c); instead of cm_jump(). */
__attribute__((noreturn)) void stm32_firewall_jump(uint32_t vector_table);
#endif

#endif
