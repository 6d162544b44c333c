/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Example application: prints its version and what the bootloader reports, then accepts an update
 * over the console UART and hands it to the bootloader's patch engine (SE_PATCH_*), as a real product
 * would from its own transport.
 *
 * Console protocol:
 *   'i'                      print the firmware information again
 *   'u' <len:u32 LE> <bytes>  stream a .sfb (or .sfbp) into SLOT1, then mark it and reset
 *   'r'                      reset
 *   'b'                      ask for the previous image (SE_APP_Rollback, trial boot only) and reset
 *   "load" CR (or LF)        YMODEM receiver (examples/common/ymodem_rx.c): the trigger the bootloader's
 *                            loader takes too, so `spb send --load` updates a running application as well
 *
 * Trial boot (docs/trial-boot.md): after an update the image runs in trial; this one confirms itself
 * (SE_APP_Confirm) once it has started and printed its information, its "self-test". Built with
 * HELLO_NEVER_CONFIRM=1 (scons option) it is the deliberately broken release: it never confirms and
 * resets right away, as a crashing image would, so the bootloader returns to the previous image.
 */
#include <stdint.h>

#include "bsp.h"
#include "se_interface.h"
#include "spb_version.h"
#include "ymodem_rx.h"

static void put_u32(uint32_t value)
{
    char digits[11];
    int n = 0;
    do {
        digits[n++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u);
    while (n > 0) {
        bsp_putc(digits[--n]);
    }
}

static void put_version(uint32_t v)
{
    put_u32(SE_VERSION_MAJOR(v));
    bsp_putc('.');
    put_u32(SE_VERSION_MINOR(v));
    bsp_putc('.');
    put_u32(SE_VERSION_PATCH(v));
}

static void print_info(void)
{
    bsp_puts("APP: hello version " APP_VERSION_STR " (" APP_VERSION_LABEL ") running\r\n");
    if (!SE_API_Present()) {
        bsp_puts("APP: no bootloader API found\r\n");
        return;
    }
    char boot[24];
    SE_StatusTypeDef st;
    if (SE_APP_GetBootVer(&st, boot, sizeof boot) == SE_SUCCESS) {
        bsp_puts("APP: bootloader ");
        bsp_puts(boot);
        bsp_puts("\r\n");
    }
    SE_APP_ActiveFwInfo info;
    if (SE_APP_GetActiveFwInfo(&st, &info) == SE_SUCCESS) {
        bsp_puts("APP: active firmware ");
        put_version(info.ActiveFwVersion);
        bsp_puts(", ");
        put_u32(info.ActiveFwSize);
        bsp_puts(" bytes, ");
        if (info.ActiveFwState == SE_APP_FW_CONFIRMED) {
            bsp_puts("confirmed\r\n");
        } else {
            bsp_puts(info.ActiveFwState == SE_APP_FW_ROLLBACK ? "rollback requested" : "in trial");
            bsp_puts(", start ");
            put_u32(info.TrialBoots);
            bsp_puts(" of ");
            put_u32(info.TrialBootsMax);
            bsp_puts("\r\n");
        }
    }
}

/* The trial's verdict: this image works (it got here), or it is the broken release. */
static void confirm_or_crash(void)
{
    SE_StatusTypeDef st;
    if (!SE_API_Present()) {
        return;
    }
#if defined(HELLO_NEVER_CONFIRM) && HELLO_NEVER_CONFIRM
    bsp_puts("APP: broken release: not confirming, resetting\r\n");
    bsp_reset();
#else
    SE_APP_ActiveFwInfo info;
    if (SE_APP_GetActiveFwInfo(&st, &info) == SE_SUCCESS && info.ActiveFwState == SE_APP_FW_TRIAL) {
        bsp_puts(SE_APP_Confirm(&st) == SE_SUCCESS ? "APP: confirmed\r\n" : "APP: confirm failed\r\n");
    }
#endif
}

static int read_byte(uint8_t *out)
{
    int c = bsp_getc(5000u);
    if (c < 0) {
        return 0;
    }
    *out = (uint8_t)c;
    return 1;
}

static void print_status(const char *what, const SE_PATCH_Status *status)
{
    bsp_puts("APP: ");
    bsp_puts(what);
    bsp_puts(" status=");
    put_u32(status->status);
    bsp_puts(" (");
    bsp_puts(SE_PATCH_GetStatusCodeString(status->status));
    bsp_puts(") stage=");
    put_u32(status->stage);
    bsp_puts("\r\n");
}

static void receive_update(void)
{
    uint8_t b;
    uint32_t total = 0;
    for (int i = 0; i < 4; i++) {
        if (!read_byte(&b)) {
            bsp_puts("APP: update timeout\r\n");
            return;
        }
        total |= (uint32_t)b << (8 * i);
    }
    SE_PATCH_Status status;
    SE_PATCH_InitStatus(&status);
    const SE_PATCH_StartInfo start = {SE_PATCH_ImageType_APP, 0, SE_PATCH_RebootDelay_COMMAND, total};
    if (SE_PATCH_Init(&status, &start) != SE_SUCCESS) {
        print_status("init failed", &status);
        return;
    }
    bsp_puts("APP: receiving ");
    put_u32(total);
    bsp_puts(" bytes\r\n");
    uint8_t chunk[64];
    uint32_t got = 0;
    uint32_t next_report = 10;
    while (got < total) {
        uint32_t n = 0;
        while (n < sizeof chunk && got + n < total) {
            if (!read_byte(&chunk[n])) {
                bsp_puts("APP: update timeout\r\n");
                SE_PATCH_Abort(&status);
                return;
            }
            n++;
        }
        got += n;
        if (SE_PATCH_Data(&status, chunk, n) != SE_SUCCESS) {
            print_status("update rejected", &status);
            SE_PATCH_Abort(&status);
            return;
        }
        if (status.percent >= next_report) {
            bsp_puts("APP: progress ");
            put_u32(status.percent);
            bsp_puts("%\r\n");
            next_report = status.percent + 10u;
        }
    }
    SE_PATCH_Poll(&status);
    if (!status.completed) {
        print_status("update incomplete", &status);
        SE_PATCH_Abort(&status);
        return;
    }
    if (SE_PATCH_InstallAtNextReset(&status) != SE_SUCCESS) {
        print_status("install request failed", &status);
        return;
    }
    bsp_puts("APP: update verified, installing at reset\r\n");
    bsp_reset();
}

/* After "load" CR: one YMODEM batch, the verdict as the bootloader's loader prints it, and a reset into
 * the install after a good file; otherwise the application goes on. */
static void receive_ymodem(void)
{
    SE_PATCH_Status status;
    if (!SE_API_Present()) {
        bsp_puts("APP: no bootloader API found\r\n");
        return;
    }
    bsp_puts("APP: YMODEM receiver ready.\r\n");
    ymodem_rx_result_t result = ymodem_rx(&status);
    bsp_puts("\r\nAPP: YMODEM: ");
    bsp_puts(ymodem_rx_result_text(result));
    bsp_puts(", ");
    put_u32(status.received);
    bsp_puts(" bytes, status ");
    put_u32(status.status);
    bsp_puts(": ");
    bsp_puts(SE_PATCH_GetStatusCodeString(status.status));
    bsp_puts("\r\n");
    if (result == YMODEM_RX_READY) {
        bsp_reset();
    }
}

int main(void)
{
    static const char trigger[] = "load";
    uint32_t matched = 0;
    bsp_init();
    print_info();
    confirm_or_crash();
    for (;;) {
        int c = bsp_getc(1000u);
        if (matched == 4u && (c == '\r' || c == '\n')) {
            receive_ymodem();
        }
        matched = matched < 4u && c == trigger[matched] ? matched + 1u : (uint32_t)(c == 'l');
        if (c == 'i') {
            print_info();
        } else if (c == 'u') {
            receive_update();
        } else if (c == 'r') {
            bsp_reset();
        } else if (c == 'b') {
            SE_StatusTypeDef st;
            bsp_puts(SE_APP_Rollback(&st) == SE_SUCCESS ? "APP: rollback at reset\r\n" : "APP: no rollback\r\n");
            bsp_reset();
        }
    }
}
