/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bootloader's YMODEM loader (docs/ymodem.md): receives one .sfb or .sfbp over the console UART and
 * streams it into the SE_PATCH engine, so SLOT1 gets exactly what an application download would give.
 */
#ifndef SPB_YMODEM_H
#define SPB_YMODEM_H

#include <stdbool.h>
#include <stdint.h>

#include "spb_board.h"

/* Built in on every board with a SLOT1 (the engine downloads there); -DSPB_YMODEM=0 leaves it out. */
#ifndef SPB_YMODEM
#define SPB_YMODEM (SPB_SLOT1_SIZE != 0u)
#endif

/* How long the boot waits for `load` on the console after "UART loader check trigger.". */
#ifndef SPB_YMODEM_WINDOW_MS
#define SPB_YMODEM_WINDOW_MS 250u
#endif

/* Seconds the loader offers 'C' to a sender that has not started yet. */
#ifndef SPB_YMODEM_WAIT_S
#define SPB_YMODEM_WAIT_S 30u
#endif

typedef enum {
    YMODEM_READY = 0,   /* a file was received, verified and marked for install */
    YMODEM_NO_SENDER,   /* nobody started a transfer within SPB_YMODEM_WAIT_S */
    YMODEM_CANCELLED,   /* the sender cancelled (CAN CAN) */
    YMODEM_FAILED,      /* line errors, a protocol error, or the file was refused */
} ymodem_result_t;

/* True if the user button is held or `load` arrives within the window. */
bool ymodem_requested(void);

/* One YMODEM batch: the first file goes to the update engine, the verdict is printed after the transfer. */
ymodem_result_t ymodem_receive(void);

#endif
