/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YMODEM receiver for the example applications (docs/ymodem.md): batch mode with CRC-16, 128- and
 * 1024-byte blocks, block 0 with the file name and size. The first file goes block by block, each only
 * once its block number and CRC are good, into the bootloader's update engine (SE_PATCH_*), which writes
 * SLOT1; a file the engine refuses (its header is checked at byte 128, before anything is written) is
 * cancelled at once. Once the last block is in, the image is verified by the engine and marked for
 * install; the application resets into the bootloader, which installs it.
 *
 * The line may be bad: a packet with a wrong CRC, block number or length is asked for again (NAK) once
 * the line has been quiet for QUIET_MS, a repeated packet (our ACK was lost) is acknowledged and not
 * used twice; MAX_ERRORS consecutive failures end the session (CAN CAN CAN, download dropped).
 */
#include "ymodem_rx.h"

#include <stddef.h>
#include <stdint.h>

#include "bsp.h"

#define SOH 0x01u
#define STX 0x02u
#define EOT 0x04u
#define ACK 0x06u
#define NAK 0x15u
#define CAN 0x18u
#define CRC_REQUEST 'C'

#define BLOCK_MAX     1024u
#define MAX_ERRORS    10u   /* consecutive bad or missing packets of an open file */
#define WAIT_REQUESTS 30u   /* 'C' offered once a second before the first file */
#define BYTE_MS       1000u /* inside a packet; also the 'C' interval */
#define BLOCK_MS      5000u /* for the next packet of an open file, then NAK */
#define QUIET_MS      200u  /* silence that ends the rest of a bad packet */

#define RX_EOT     0
#define RX_TIMEOUT (-1)
#define RX_BAD     (-2)
#define RX_CANCEL  (-3)

/* Whatever is still arriving (the rest of a bad packet) is dropped until the line is quiet. */
static void purge(void)
{
    while (bsp_getc(QUIET_MS) >= 0) {
    }
}

/* CRC-16/XMODEM (polynomial 0x1021, initial 0); over data followed by its big-endian CRC it is 0. */
static uint32_t crc16(const uint8_t *p, uint32_t n)
{
    uint32_t crc = 0;
    while (n-- > 0u) {
        crc ^= (uint32_t)*p++ << 8;
        for (uint32_t k = 0; k < 8u; k++) {
            crc = (crc & 0x8000u) != 0u ? (crc << 1) ^ 0x1021u : crc << 1;
        }
    }
    return crc & 0xFFFFu;
}

/* [block number, complement, data, CRC] into buf: the data length, RX_EOT or a negative RX_ code. */
static int read_packet(uint8_t *buf, uint32_t timeout_ms)
{
    int c = bsp_getc(timeout_ms);
    if (c < 0) {
        return RX_TIMEOUT;
    }
    if (c == (int)EOT) {
        return RX_EOT;
    }
    if (c == (int)CAN) {
        return bsp_getc(BYTE_MS) == (int)CAN ? RX_CANCEL : RX_BAD;
    }
    if (c != (int)SOH && c != (int)STX) {
        return RX_BAD;
    }
    uint32_t len = c == (int)SOH ? 128u : BLOCK_MAX;
    for (uint32_t i = 0; i < len + 4u; i++) {
        c = bsp_getc(BYTE_MS);
        if (c < 0) {
            return RX_BAD;
        }
        buf[i] = (uint8_t)c;
    }
    if ((uint8_t)(buf[0] ^ buf[1]) != 0xFFu || crc16(&buf[2], len + 2u) != 0u) {
        return RX_BAD;
    }
    return (int)len;
}

/* Block 0: "name\0size[ ...]"; 0 when the size is missing (the engine goes by the header), a huge
 * size saturates (the engine refuses it as too large). */
static uint32_t declared_size(const uint8_t *d)
{
    uint32_t i = 0, size = 0;
    while (i < 127u && d[i] != 0u) {
        i++;
    }
    for (i++; i < 128u && d[i] >= '0' && d[i] <= '9'; i++) {
        if (size >= 0x10000000u) {
            return 0xFFFFFFFFu;
        }
        size = size * 10u + (uint32_t)(d[i] - '0');
    }
    return size;
}

const char *ymodem_rx_result_text(ymodem_rx_result_t result)
{
    static const char *const text[] = {"ready", "no sender", "cancelled", "failed"};
    return text[result];
}

ymodem_rx_result_t ymodem_rx(SE_PATCH_Status *st)
{
    uint8_t buf[2u + BLOCK_MAX + 2u];
    ymodem_rx_result_t result = YMODEM_RX_NO_SENDER;
    uint32_t left = 0, errors = 0;
    uint8_t expect = 0, answer = CRC_REQUEST;
    int open = 0; /* block 0 of the file accepted: data blocks expected */

    SE_PATCH_InitStatus(st);
    for (;;) {
        bsp_putc((char)answer);
        int r = read_packet(buf, open ? BLOCK_MS : BYTE_MS);
        if (r == RX_CANCEL) {
            result = YMODEM_RX_CANCELLED;
            goto drop;
        }
        if (r < 0) {
            if (r == RX_BAD) {
                purge();
            }
            if (++errors >= (result == YMODEM_RX_NO_SENDER && !open ? WAIT_REQUESTS : MAX_ERRORS)) {
                if (open) {
                    goto fail;
                }
                break; /* no sender; or the file is in and the end of the batch did not come */
            }
            answer = open ? NAK : CRC_REQUEST;
            continue;
        }
        if (r == RX_EOT) {
            if (open) {
                (void)SE_PATCH_Poll(st);
                if (!st->completed) {
                    st->status = SE_PATCH_StatusCode_TOO_FEW_BYTES;
                    goto fail;
                }
                if (SE_PATCH_InstallAtNextReset(st) != SE_SUCCESS) {
                    goto fail;
                }
                open = 0;
                expect = 0u;
                result = YMODEM_RX_READY;
            }
            if (result == YMODEM_RX_READY) {
                bsp_putc((char)ACK); /* also for an EOT repeated because our ACK was lost */
            }
            answer = CRC_REQUEST;
            continue;
        }
        errors = 0;
        if (open && buf[0] == (uint8_t)(expect - 1u)) {
            /* Our ACK was lost and the sender repeats the block: acknowledged, not used again. */
            answer = ACK;
            if (expect == 1u && st->received == 0u) { /* block 0 (not data block 256): ACK, then 'C' */
                bsp_putc((char)ACK);
                answer = CRC_REQUEST;
            }
            continue;
        }
        if (buf[0] != expect) {
            goto fail;
        }
        if (!open) {
            if (buf[2] == 0u || result == YMODEM_RX_READY) {
                /* End of batch (empty name); one file per session, a second one is cancelled. */
                if (buf[2] != 0u) {
                    bsp_putc((char)CAN);
                }
                bsp_putc((char)(buf[2] == 0u ? ACK : CAN));
                break;
            }
            const SE_PATCH_StartInfo info = {SE_PATCH_ImageType_APP, 0u, SE_PATCH_RebootDelay_COMMAND,
                                             declared_size(&buf[2])};
            left = info.totalLength != 0u ? info.totalLength : 0xFFFFFFFFu;
            if (SE_PATCH_Init(st, &info) != SE_SUCCESS) {
                goto fail;
            }
            open = 1;
            expect = 1u;
            bsp_putc((char)ACK);
            answer = CRC_REQUEST;
            continue;
        }
        uint32_t n = (uint32_t)r < left ? (uint32_t)r : left; /* the last block's padding is not the file's */
        left -= n;
        if (n != 0u && SE_PATCH_Data(st, &buf[2], n) != SE_SUCCESS) {
            goto fail;
        }
        expect++;
        answer = ACK;
    }
    return result;

fail:
    result = YMODEM_RX_FAILED;
    bsp_putc((char)CAN);
    bsp_putc((char)CAN);
    bsp_putc((char)CAN);
    purge();
drop:
    (void)SE_PATCH_Abort(NULL); /* a partial download leaves SLOT1 without a header */
    return result;
}
