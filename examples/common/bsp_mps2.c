/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Example BSP for EMU-MPS2-AN385 (QEMU mps2-an385, Cortex-M3 at 25 MHz): fixed clock, CMSDK APB UART
 * (UART0 at 0x40004000 unless SPB_UART_INSTANCE says otherwise), SysTick millisecond counter.
 */
#include <stdint.h>

#include "bsp.h"
#include "spb_board.h"

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#if SPB_UART_INSTANCE == 0
#define UART_BASE 0x40004000u
#elif SPB_UART_INSTANCE == 1
#define UART_BASE 0x40005000u
#elif SPB_UART_INSTANCE == 2
#define UART_BASE 0x40006000u
#elif SPB_UART_INSTANCE == 3
#define UART_BASE 0x40007000u
#else
#define UART_BASE 0x40009000u
#endif
#define UART_DATA    REG32(UART_BASE + 0x00u)
#define UART_STATE   REG32(UART_BASE + 0x04u) /* bit0 TX full, bit1 RX full */
#define UART_CTRL    REG32(UART_BASE + 0x08u) /* bit0 TX enable, bit1 RX enable */
#define UART_BAUDDIV REG32(UART_BASE + 0x10u)

#define SYST_CSR  REG32(0xE000E010u)
#define SYST_RVR  REG32(0xE000E014u)
#define SYST_CVR  REG32(0xE000E018u)
#define SCB_AIRCR REG32(0xE000ED0Cu)

static volatile uint32_t s_millis;

void SysTick_Handler(void)
{
    s_millis++;
}

void bsp_init(void)
{
    UART_CTRL = 0u;
    UART_BAUDDIV = SPB_SYSCLK_HZ / SPB_UART_BAUD;
    UART_CTRL = 3u;
    SYST_CSR = 0u;
    SYST_RVR = SPB_SYSCLK_HZ / 1000u - 1u;
    SYST_CVR = 0u;
    SYST_CSR = 7u; /* processor clock, interrupt, enable */
    __asm volatile("cpsie i" ::: "memory");
}

void bsp_putc(char c)
{
    while (UART_STATE & 1u) {
    }
    UART_DATA = (uint8_t)c;
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
        if (UART_STATE & 2u) {
            return (int)(UART_DATA & 0xFFu);
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
    __asm volatile("dsb 0xF" ::: "memory");
    SCB_AIRCR = 0x05FA0004u;
    for (;;) {
    }
}
