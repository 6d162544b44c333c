/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The port's flash functions (port.h) for an STM32 port: addresses in the external flash window go to the
 * QUADSPI/OCTOSPI NOR driver when the board has one (xspi_nor.h), everything else to the internal flash
 * driver the port names before including this header once:
 *
 *   STM32_FLASH_ERASE(addr), STM32_FLASH_WRITE(addr, data, len), STM32_FLASH_READ(addr, dst, len)
 *   STM32_FLASH_ECC_NMI()   optional: true if this NMI was a flash ECC double error during a guarded read
 *                           (stm32_ecc.h), which the port then turns into an error result; with it, this
 *                           header defines the guard flags and the NMI handler (anything else resets)
 *
 * The drivers are the flash controller generation's (stm32_flash_dw.h, stm32_flash_sector.h, the H7's own);
 * a port that must do more around an operation (the L5's ICACHE) wraps them in its own functions.
 */
#ifndef SPB_STM32_FLASH_PORT_H
#define SPB_STM32_FLASH_PORT_H

#include <stdint.h>

#include "port.h"

#if !defined(STM32_FLASH_ERASE) || !defined(STM32_FLASH_WRITE) || !defined(STM32_FLASH_READ)
#error "define STM32_FLASH_ERASE / _WRITE / _READ (the internal flash driver) before stm32_flash_port.h"
#endif

#if defined(STM32_FLASH_ECC_NMI)
volatile uint8_t stm32_ecc_guard;
volatile uint8_t stm32_ecc_fault;

void Default_Handler(void);

/* NMI: a flash ECC double error during a guarded read becomes an error result; anything else resets. */
void NMI_Handler(void)
{
    if (!STM32_FLASH_ECC_NMI()) {
        Default_Handler();
    }
}
#endif

int port_flash_erase(uint32_t addr)
{
#if defined(SPB_EXT_FLASH_DRIVER)
    if (xspi_contains(addr)) {
        return xspi_erase(addr);
    }
#endif
    return STM32_FLASH_ERASE(addr);
}

int port_flash_write(uint32_t addr, const void *data, uint32_t len)
{
#if defined(SPB_EXT_FLASH_DRIVER)
    if (xspi_contains(addr)) {
        return xspi_write(addr, data, len);
    }
#endif
    return STM32_FLASH_WRITE(addr, data, len);
}

int port_flash_read(uint32_t addr, void *dst, uint32_t len)
{
#if defined(SPB_EXT_FLASH_DRIVER)
    if (xspi_contains(addr)) {
        return xspi_read(addr, dst, len);
    }
#endif
    return STM32_FLASH_READ(addr, dst, len);
}

#endif
