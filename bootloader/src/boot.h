/* SPDX-License-Identifier: Apache-2.0 */
#ifndef SPB_BOOT_H
#define SPB_BOOT_H

#include <stdint.h>

/* boot_run()'s answer when the YMODEM loader was asked for (button or `load`, bootloader/src/ymodem.h). */
#define BOOT_LOADER 1u

/* Run the boot sequence up to the launch decision: returns the application's vector table address,
 * 0 when nothing valid can run, or BOOT_LOADER. Installs a pending update on the way. */
uint32_t boot_run(void);

#endif
