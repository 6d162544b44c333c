/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cortex-M7 L1 data cache maintenance after a flash erase or program (cortexm.h): ARMv7-M B3.5.2 cache
 * maintenance operations, DCCIMVAC at 0xE000_EF70 (clean and invalidate by address to the point of
 * coherency); Cortex-M7 TRM: 32-byte data cache lines, SCB_CCR.DC bit 16 enables the data cache. Compiled for
 * every port, linked only where called (the F7 port and, on Cortex-M7 boards, the NOR driver).
 */
#include <stdint.h>

#include "cortexm.h"

void cm_cache_maintain(uint32_t addr, uint32_t len)
{
    if (SCB_CCR & SCB_CCR_DC) {
        for (uint32_t line = addr & ~31u; line < addr + len; line += 32u) {
            SCB_DCCIMVAC = line;
        }
        cm_dsb();
    }
}
