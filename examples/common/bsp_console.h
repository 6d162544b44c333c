/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The console and tick half of every example BSP: the SysTick millisecond counter and the polled console
 * functions of bsp.h, written once over four operations the BSP defines before including it:
 *
 *   BSP_TX_READY()   the transmitter takes a byte        BSP_TX(byte)   send it
 *   BSP_RX_READY()   a received byte is waiting          BSP_RX()       take it (0..255)
 *   BSP_TX_DONE()    the last byte has left the line (bsp_reset waits for it; 1 if unknown)
 */
#ifndef BSP_CONSOLE_H
#define BSP_CONSOLE_H

#include <stdint.h>

#include "bsp.h"
#include "spb_board.h"

static volatile uint32_t s_millis;

void SysTick_Handler(void)
{
    s_millis++;
}

/* SysTick at 1 ms from SPB_SYSCLK_HZ, interrupt on (interrupts themselves still masked). */
static void bsp_tick_init(void)
{
    *(volatile uint32_t *)0xE000E010u = 0u;
    *(volatile uint32_t *)0xE000E014u = SPB_SYSCLK_HZ / 1000u - 1u;
    *(volatile uint32_t *)0xE000E018u = 0u;
    *(volatile uint32_t *)0xE000E010u = 7u; /* processor clock, interrupt, enable */
}

void bsp_putc(char c)
{
    while (!BSP_TX_READY()) {
    }
    BSP_TX((uint8_t)c);
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
        if (BSP_RX_READY()) {
            return (int)BSP_RX();
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
    while (!BSP_TX_DONE()) { /* let the last character leave */
    }
    __asm volatile("dsb 0xF" ::: "memory");
    *(volatile uint32_t *)0xE000ED0Cu = 0x05FA0004u; /* AIRCR: SYSRESETREQ */
    for (;;) {
    }
}

#endif
