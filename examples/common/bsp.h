/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Minimal board support for the example applications (one bsp_<family>.c per chip family, configured
 * by the generated spb_board.h). The application is independent of the bootloader: bsp_init() sets the
 * clock and the console UART up itself, whatever state the bootloader left them in.
 */
#ifndef SPB_EXAMPLE_BSP_H
#define SPB_EXAMPLE_BSP_H

#include <stdint.h>

/* System clock (SPB_SYSCLK_HZ), 1 ms SysTick, console UART at SPB_UART_BAUD. Enables interrupts. */
void bsp_init(void);

/* Blocking console output ("\n" is not translated). */
void bsp_putc(char c);
void bsp_puts(const char *s);

/* One received byte (0..255), or -1 when nothing arrived within timeout_ms. */
int bsp_getc(uint32_t timeout_ms);

/* Milliseconds since bsp_init(). */
uint32_t bsp_millis(void);

/* System reset (SCB AIRCR SYSRESETREQ): the bootloader runs again. */
void bsp_reset(void) __attribute__((noreturn));

#endif
