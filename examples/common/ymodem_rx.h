/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YMODEM receiver for applications (docs/ymodem.md, "Into the running application"): one batch over the
 * console UART (bsp_getc/bsp_putc), the first file streamed into the bootloader's update engine through
 * its API (SE_PATCH_Init / SE_PATCH_Data, then SE_PATCH_InstallAtNextReset once the image is verified).
 * The caller prints the verdict and resets into the install after YMODEM_RX_READY.
 */
#ifndef SPB_EXAMPLE_YMODEM_RX_H
#define SPB_EXAMPLE_YMODEM_RX_H

#include "se_interface.h"

typedef enum {
    YMODEM_RX_READY = 0, /* received, verified, marked for install at the next reset */
    YMODEM_RX_NO_SENDER, /* no transfer started within 30 s */
    YMODEM_RX_CANCELLED, /* the sender cancelled (CAN CAN); the partial download was dropped */
    YMODEM_RX_FAILED,    /* line errors, a protocol error or a refused file; cancelled, download dropped */
} ymodem_rx_result_t;

/* Receive one batch; `status` holds the engine's verdict afterwards (status 0 when the line failed). */
ymodem_rx_result_t ymodem_rx(SE_PATCH_Status *status);

/* "ready", "no sender", "cancelled", "failed" */
const char *ymodem_rx_result_text(ymodem_rx_result_t result);

#endif
