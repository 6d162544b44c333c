/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The port API: everything the bootloader core needs from a chip family. One port file per family
 * (port/<family>/port_<family>.c) implements it, using only the generated board header for addresses,
 * pins and geometry, so a new board of a supported family is a TOML file and no code.
 *
 * Flash rules every port must honour (and the host simulator enforces):
 *  - port_flash_erase() erases exactly one erase unit (page or sector) starting at addr; afterwards it
 *    reads SPB_FLASH_ERASED_VALUE.
 *  - port_flash_write() programs len bytes at addr; addr and len are multiples of SPB_FLASH_WRITE_SIZE and
 *    every write unit touched must be erased (ECC flash: one program per unit per erase).
 *  - port_flash_read() may be a memcpy on memory-mapped flash.
 * All return 0 on success, a negative value on a driver error.
 */
#ifndef SPB_PORT_H
#define SPB_PORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* Clocks, console UART, tick, button GPIO. Called once at reset before anything else. */
void port_init(void);

/* Milliseconds since port_init() (wraps after ~49 days). */
uint32_t port_millis(void);

/* Blocking console output. */
void port_uart_write(const uint8_t *data, size_t len);

/* Receive one byte within timeout_ms; returns 1 and stores it, or 0 on timeout. */
int port_uart_read(uint8_t *byte, uint32_t timeout_ms);

/* True while the board's user button is held (board file: button.active). False if the board has none. */
bool port_button_pressed(void);

int port_flash_erase(uint32_t addr);
int port_flash_write(uint32_t addr, const void *data, uint32_t len);
int port_flash_read(uint32_t addr, void *dst, uint32_t len);

/* System reset (SCB AIRCR SYSRESETREQ on hardware). */
void port_reset(void) __attribute__((noreturn));

/* Leave the bootloader: de-initialise what port_init() set up, set VTOR to vector_table, load MSP from
 * its first word and branch to its reset handler. */
void port_jump_to_app(uint32_t vector_table) __attribute__((noreturn));

#endif
