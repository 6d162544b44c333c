/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YMODEM receiver of the bootloader (docs/ymodem.md): batch mode with CRC-16, 128- and 1024-byte blocks,
 * block 0 with the file name and size. The first file of the batch is streamed into the SE_PATCH engine
 * (update.c) block by block, each block only once its CRC is good, so a .sfb and a .sfbp both work and
 * a file that is not for this device is refused at its first data block, before anything is written.
 *
 * The block buffer is on the stack: during boot the stack lives in the application's RAM (the
 * application is not running), so the loader adds nothing to the RAM the bootloader keeps reserved.
 */
#include "ymodem.h"

#include "log.h"
#include "port.h"
#include "se_interface.h"

#if SPB_YMODEM

#define SOH 0x01u
#define STX 0x02u
#define EOT 0x04u
#define ACK 0x06u
#define NAK 0x15u
#define CAN 0x18u
#define CRC_REQUEST 'C'

#define BLOCK_MAX        1024u
#define MAX_ERRORS       10u    /* consecutive bad or missing packets before the loader gives up */
#define BYTE_TIMEOUT_MS  1000u  /* inside a packet; also the 'C' interval while no file is open */
#define BLOCK_TIMEOUT_MS 5000u  /* for the next packet of an open file, then NAK */

#define RX_EOT     0
#define RX_TIMEOUT (-1)
#define RX_BAD     (-2)
#define RX_CANCEL  (-3)

static void put_byte(uint8_t b)
{
    port_uart_write(&b, 1u);
}

/* Drop whatever is still arriving (the rest of a bad packet) until the line is quiet. */
static void purge(void)
{
    uint8_t c;
    while (port_uart_read(&c, 200u)) {
    }
}

/* CRC-16/XMODEM (polynomial 0x1021, initial 0). Over data followed by its big-endian CRC it is 0. */
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

/* One packet into buf: [block number, its complement, data, CRC high, CRC low]. Returns the data length
 * (128 or 1024), RX_EOT, or a negative RX_ code. */
static int read_packet(uint8_t *buf, uint32_t timeout_ms)
{
    uint8_t c;
    uint32_t len;
    if (!port_uart_read(&c, timeout_ms)) {
        return RX_TIMEOUT;
    }
    if (c == EOT) {
        return RX_EOT;
    }
    if (c == CAN) {
        return port_uart_read(&c, BYTE_TIMEOUT_MS) && c == CAN ? RX_CANCEL : RX_BAD;
    }
    if (c != SOH && c != STX) {
        return RX_BAD;
    }
    len = c == SOH ? 128u : BLOCK_MAX;
    for (uint32_t i = 0; i < len + 4u; i++) {
        if (!port_uart_read(&buf[i], BYTE_TIMEOUT_MS)) {
            return RX_BAD;
        }
    }
    if ((uint8_t)(buf[0] ^ buf[1]) != 0xFFu || crc16(&buf[2], len + 2u) != 0u) {
        return RX_BAD;
    }
    return (int)len;
}

/* Block 0: "name\0size[ ...]". 0 when the size is missing (the engine then goes by the header);
 * an absurd size saturates, so the engine refuses it as too large. */
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

static const char *const verdicts[] = {"ready", "no sender", "cancelled", "failed"};

bool ymodem_requested(void)
{
    static const char word[4] = {'l', 'o', 'a', 'd'};
    uint32_t matched = 0;
    uint8_t c;

    log_line("UART loader check trigger.");
    if (port_button_pressed()) {
        return true;
    }
    uint32_t start = port_millis();
    while ((uint32_t)(port_millis() - start) < SPB_YMODEM_WINDOW_MS) {
        if (port_uart_read(&c, 1u)) {
            matched = c == (uint8_t)word[matched] ? matched + 1u : (uint32_t)(c == 'l');
            if (matched == sizeof word) {
                return true;
            }
        }
    }
    return false;
}

ymodem_result_t ymodem_receive(void)
{
    uint8_t buf[2u + BLOCK_MAX + 2u];
    SE_PATCH_Status st;
    ymodem_result_t result = YMODEM_NO_SENDER;
    uint32_t left = 0, errors = 0;
    uint8_t expect = 0, answer = CRC_REQUEST;
    bool open = false; /* block 0 of a file accepted: data blocks expected */

    SE_PATCH_InitStatus(&st);
    log_line("YMODEM loader ready.");
    for (;;) {
        put_byte(answer);
        int r = read_packet(buf, open ? BLOCK_TIMEOUT_MS : BYTE_TIMEOUT_MS);
        if (r == RX_CANCEL) {
            result = YMODEM_CANCELLED;
            break;
        }
        if (r < 0) {
            if (r == RX_BAD) {
                purge();
            }
            /* Before any file, the 'C' is simply offered again, once a second, up to SPB_YMODEM_WAIT_S. */
            if (++errors >= (result == YMODEM_NO_SENDER && !open ? SPB_YMODEM_WAIT_S : MAX_ERRORS)) {
                if (open) {
                    result = YMODEM_FAILED;
                    goto cancel;
                }
                break; /* no sender; or the file is in and the end of the batch did not come */
            }
            answer = open ? NAK : CRC_REQUEST;
            continue;
        }
        if (r == RX_EOT) {
            if (open) {
                SE_PATCH_Poll(&st);
                if (st.stage != SE_PATCH_Stage_READY) {
                    st.status = SE_PATCH_StatusCode_TOO_FEW_BYTES;
                    result = YMODEM_FAILED;
                    goto cancel;
                }
                open = false;
                expect = 0;
                result = YMODEM_READY;
            }
            if (result == YMODEM_READY) {
                put_byte(ACK); /* also for an EOT repeated because our ACK was lost */
            }
            answer = CRC_REQUEST;
            continue;
        }
        errors = 0;
        if (open && buf[0] == (uint8_t)(expect - 1u)) {
            /* Our ACK was lost and the sender repeats the block: acknowledge it, do not feed it again. */
            answer = ACK;
            if (expect == 1u) {
                put_byte(ACK);
                answer = CRC_REQUEST;
            }
            continue;
        }
        if (buf[0] != expect) {
            result = YMODEM_FAILED;
            goto cancel;
        }
        if (!open) {
            if (buf[2] == 0u || result == YMODEM_READY) {
                /* End of batch (empty name). One file per session: a second one is not taken. */
                if (buf[2] != 0u) {
                    put_byte(CAN);
                }
                put_byte(buf[2] == 0u ? ACK : CAN);
                break;
            }
            SE_PATCH_StartInfo info = {
                .type = SE_PATCH_ImageType_APP,
                .rebootDelay = SE_PATCH_RebootDelay_NEXT,
                .totalLength = declared_size(&buf[2]),
            };
            left = info.totalLength != 0u ? info.totalLength : 0xFFFFFFFFu;
            if (SE_PATCH_Init(&st, &info) != SE_SUCCESS) {
                result = YMODEM_FAILED;
                goto cancel;
            }
            open = true;
            expect = 1u;
            put_byte(ACK);
            answer = CRC_REQUEST;
            continue;
        }
        uint32_t n = (uint32_t)r < left ? (uint32_t)r : left; /* the last block's padding is not the file's */
        left -= n;
        if (n != 0u && SE_PATCH_Data(&st, &buf[2], n) != SE_SUCCESS) {
            result = YMODEM_FAILED;
            goto cancel;
        }
        expect++;
        answer = ACK;
    }
    goto verdict;

cancel:
    put_byte(CAN);
    put_byte(CAN);
    put_byte(CAN);
    purge();
    (void)SE_PATCH_Abort(NULL); /* a partial download leaves SLOT1 without a header */
verdict:
    if (result == YMODEM_CANCELLED) {
        (void)SE_PATCH_Abort(NULL);
    }
    /* e.g. "YMODEM: ready, 4096 bytes, status 1: Completed" or "YMODEM: failed, 128 bytes, status 3: Invalid
     * image - ..." (the engine's verdict on the file; status 0 when the transfer itself failed). */
    log_line("YMODEM: %s, %u bytes, status %u: %s", verdicts[result], st.received, (uint32_t)st.status,
             SE_PATCH_GetStatusCodeString(st.status));
    return result;
}

#else
typedef int spb_ymodem_disabled; /* not an empty translation unit */
#endif
