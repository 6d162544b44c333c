/* SPDX-License-Identifier: Apache-2.0 */
#ifndef SPB_BOOT_H
#define SPB_BOOT_H

#include <stdint.h>

/* Run the boot sequence up to the launch decision: returns the application's vector table address,
 * or 0 when nothing valid can run. Installs a pending update on the way. */
uint32_t boot_run(void);

#endif
