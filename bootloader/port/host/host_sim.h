/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test-facing side of the host port: a flash simulator with operation counting and power cuts, for
 * running the real bootloader core on the build machine (tests/bootloader). Not part of any firmware.
 *
 * Power-cut model, the same as the register-level flash models of tests/silicon (harness/power.py): every
 * erase of a page or sector and every programming unit of a write is one operation. When the operation
 * counter reaches the armed cut point, that operation is torn and nothing after it runs (longjmp back to
 * the harness entry): each bit the operation had to move moved or not (deterministic randomness from the
 * operation number). On boards whose flash detects ECC errors (SPB_FLASH_ECC_DETECT) a torn unit then
 * reads as an error (port_flash_read returns -6) until it is erased, as the L4 port reports it.
 */
#ifndef SPB_HOST_SIM_H
#define SPB_HOST_SIM_H

#include <stdint.h>

#include "se_interface.h"

/* Power on with erased flash; clears counters, console, and the cut. */
void host_erase_all(void);
/* Simulated reset: RAM state of the bootloader is lost (as .bss zeroing does on hardware). */
void host_power_on(void);

uint8_t *host_flash(void);          /* SPB_FLASH_BASE .. + host_flash_size() */
uint32_t host_flash_size(void);
uint8_t *host_ext(void);            /* SPB_EXT_FLASH_BASE .. + host_ext_size(), NULL if none */
uint32_t host_ext_size(void);
uint8_t *host_ecc(void);            /* one byte per internal programming unit: 1 = reads with an ECC error */
uint32_t host_ecc_size(void);

void host_snapshot(void);           /* save both flash arrays */
void host_restore(void);            /* and put them back */

void host_set_cut(uint32_t op);     /* 0: never; n: tear operation n (counted from the last reset of the counter) */
void host_reset_ops(void);
uint32_t host_ops(void);            /* erase + write operations since host_reset_ops() */
uint32_t host_erases(void);
uint32_t host_violations(void);     /* flash rule violations (must stay 0) */

const char *host_console(void);     /* everything written to the UART since host_erase_all()/host_console_clear() */
void host_console_clear(void);

/* Entry points under cut protection: return 1 if the power was cut during the call, else 0. */
int host_boot(uint32_t *vector_table);
int host_update(const uint8_t *data, uint32_t len, uint32_t chunk, uint16_t reboot_delay, uint32_t declared,
                int install, SE_PATCH_Status *status, uint32_t *failed_call);
/* The application's trial-boot calls, under cut protection: which 0 SE_APP_Confirm, 1 SE_APP_Rollback,
 * 2 SE_APP_GetActiveFwInfo2; *result is the call's SE_ErrorStatus. */
int host_app_call(uint32_t which, SE_StatusTypeDef *status, SE_APP_ActiveFwInfo *info, uint32_t *result);

#endif
