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

#define BSP_TX_READY() ((UART_STATE & 1u) == 0u) /* TX buffer not full */
#define BSP_TX(byte)   (UART_DATA = (byte))
#define BSP_RX_READY() ((UART_STATE & 2u) != 0u) /* RX buffer full */
#define BSP_RX()       (UART_DATA & 0xFFu)
#define BSP_TX_DONE()  1 /* the CMSDK UART has no "transmission complete" flag */
#include "bsp_console.h"

void bsp_init(void)
{
    UART_CTRL = 0u;
    UART_BAUDDIV = SPB_SYSCLK_HZ / SPB_UART_BAUD;
    UART_CTRL = 3u;
    bsp_tick_init();
    __asm volatile("cpsie i" ::: "memory");
}
