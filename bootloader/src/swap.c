/* SPDX-License-Identifier: Apache-2.0 */
#include "swap.h"

#if defined(SPB_TRIAL) && SPB_TRIAL

#include <string.h>

#include "aes128.h"
#include "ct.h"
#include "keys.h"
#include "log.h"
#include "port.h"

#define DESC_SIZE    272u
#define DESC_MAGIC   0x58425053u /* "SPBX" */
#define REC_SIZE     8u
#define RECORDS      ((SPB_SWAP_STATUS_SIZE - DESC_SIZE) / REC_SIZE)
#define CHUNK        256u
#define UNIT         SPB_SWAP_UNIT

_Static_assert(DESC_SIZE % SPB_FLASH_WRITE_SIZE == 0u && REC_SIZE % SPB_FLASH_WRITE_SIZE == 0u,
               "descriptor and records are whole programming units");
_Static_assert(SPB_SWAP_UNIT >= SPB_VECTOR_SIZE && SPB_SWAP_UNIT % CHUNK == 0u,
               "a swap unit holds the header area and whole chunks");
_Static_assert(SPB_SWAP_STATUS_SIZE > DESC_SIZE + 16u * REC_SIZE, "the status area holds the records");

static uint32_t fnv(uint32_t h, const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 0x01000193u;
    }
    return h;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t record_check(uint32_t salt, const uint8_t *rec)
{
    uint8_t s[4];
    put32(s, salt);
    return fnv(fnv(0x811C9DC5u, s, 4), rec, 4);
}

static uint32_t record_address(uint32_t index)
{
    return SPB_SWAP_STATUS_ADDR + DESC_SIZE + index * REC_SIZE;
}

void swap_read(swap_state_t *st)
{
    uint8_t b[16];
    uint32_t h = 0x811C9DC5u;
    memset(st, 0, sizeof *st);
    st->free = RECORDS;
    for (uint32_t at = 0; at < DESC_SIZE; at += sizeof b) {
        if (port_flash_read(SPB_SWAP_STATUS_ADDR + at, b, sizeof b) != 0) {
            return; /* torn (ECC error): no descriptor */
        }
        h = fnv(h, b, at + sizeof b == DESC_SIZE ? sizeof b - 4u : sizeof b);
    }
    /* b: the descriptor's last 16 bytes, "SPBX" | kind | 0 | units | 0 | check */
    st->kind = b[4];
    st->units = (uint16_t)(b[6] | (b[7] << 8));
    if (get32(&b[0]) != DESC_MAGIC || (st->kind != SWAP_KIND_INSTALL && st->kind != SWAP_KIND_REVERT) ||
        st->units == 0u || st->units > SPB_SLOT0_SIZE / UNIT || get32(&b[12]) != h) {
        return;
    }
    st->valid = true;
    st->salt = h;
    for (uint32_t i = 0; i < RECORDS; i++) {
        uint8_t rec[REC_SIZE];
        if (slot_is_erased(record_address(i), REC_SIZE)) {
            st->free = i; /* the end of the log: nothing is written after an erased record */
            break;
        }
        if (port_flash_read(record_address(i), rec, sizeof rec) != 0 || get32(&rec[4]) != record_check(h, rec)) {
            continue; /* torn: not written */
        }
        uint32_t unit = (uint32_t)rec[2] | ((uint32_t)rec[3] << 8);
        switch (rec[0]) {
        case SWAP_REC_STEP:
            if (unit * 3u + rec[1] == st->steps && rec[1] < 3u) {
                st->steps++;
            }
            break;
        case SWAP_REC_SWAPPED:
            st->swapped = st->steps == 3u * st->units;
            break;
        case SWAP_REC_BOOT:
            st->boots += st->swapped ? 1u : 0u;
            break;
        case SWAP_REC_CONFIRM:
            st->confirmed = st->swapped;
            break;
        case SWAP_REC_ROLLBACK:
            st->rollback = st->swapped;
            break;
        default:
            break;
        }
    }
}

int swap_headers(image_header_t *in, image_header_t *out)
{
    uint8_t raw[IMAGE_HEADER_SIZE];
    if (port_flash_read(SPB_SWAP_STATUS_ADDR, raw, sizeof raw) != 0) {
        return -1;
    }
    (void)image_header_parse(in, raw);
    if (port_flash_read(SPB_SWAP_STATUS_ADDR + IMAGE_HEADER_SIZE, raw, sizeof raw) != 0) {
        return -1;
    }
    (void)image_header_parse(out, raw);
    return 0;
}

int swap_clear(void)
{
    /* The descriptor's unit first: from its erase on, whatever the rest still holds belongs to nothing. */
    for (uint32_t at = 0; at < SPB_SWAP_STATUS_SIZE; at = slot_unit_end(SPB_SWAP_STATUS_ADDR + at) - SPB_SWAP_STATUS_ADDR) {
        uint32_t unit = SPB_SWAP_STATUS_ADDR + at;
        uint32_t size = slot_unit_end(unit) - unit;
        if (size == 0u) {
            return -1;
        }
        if (!slot_is_erased(unit, size)) {
            int rc = port_flash_erase(unit);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

static int append(swap_state_t *st, uint8_t type, uint8_t step, uint32_t unit)
{
    uint8_t rec[REC_SIZE];
    if (st->free >= RECORDS) {
        return -1;
    }
    rec[0] = type;
    rec[1] = step;
    rec[2] = (uint8_t)unit;
    rec[3] = (uint8_t)(unit >> 8);
    put32(&rec[4], record_check(st->salt, rec));
    int rc = port_flash_write(record_address(st->free), rec, sizeof rec);
    st->free++; /* written or torn, this record's place is used */
    return rc;
}

int swap_begin(swap_state_t *st, uint8_t kind, const image_header_t *in, const image_header_t *out)
{
    uint8_t d[DESC_SIZE];
    uint32_t end = SPB_VECTOR_SIZE + (in->size > out->size ? in->size : out->size);
    int rc = swap_clear();
    if (rc != 0) {
        return rc;
    }
    memset(d, 0, sizeof d);
    memcpy(d, in->raw, IMAGE_HEADER_SIZE);
    memcpy(&d[IMAGE_HEADER_SIZE], out->raw, IMAGE_HEADER_SIZE);
    put32(&d[256], DESC_MAGIC);
    d[260] = kind;
    uint32_t units = (end + UNIT - 1u) / UNIT;
    d[262] = (uint8_t)units;
    d[263] = (uint8_t)(units >> 8);
    uint32_t check = fnv(0x811C9DC5u, d, DESC_SIZE - 4u);
    put32(&d[DESC_SIZE - 4u], check);
    rc = port_flash_write(SPB_SWAP_STATUS_ADDR, d, sizeof d);
    if (rc != 0) {
        return rc;
    }
    memset(st, 0, sizeof *st);
    st->valid = true;
    st->kind = kind;
    st->units = (uint16_t)units;
    st->salt = check;
    return 0;
}

int swap_note(swap_state_t *st, uint8_t type)
{
    return append(st, type, 0, 0);
}

enum { RAW, ENCRYPT, DECRYPT };

typedef struct {
    spb_aes128_ctx aes;
    uint8_t cv[16]; /* CBC chaining value */
    uint8_t buf[CHUNK];
} work_t;

/* Program len bytes at dst from src through mode (dst already erased). */
static int transfer(work_t *w, uint32_t dst, uint32_t src, uint32_t len, int mode)
{
    while (len > 0u) {
        uint32_t n = len < CHUNK ? len : CHUNK;
        int rc = port_flash_read(src, w->buf, n);
        if (rc != 0) {
            return rc;
        }
        if (mode == ENCRYPT) {
            spb_aes128_cbc_encrypt(&w->aes, w->cv, w->buf, w->buf, n);
        } else if (mode == DECRYPT) {
            spb_aes128_cbc_decrypt(&w->aes, w->cv, w->buf, w->buf, n);
        }
        rc = port_flash_write(dst, w->buf, n);
        if (rc != 0) {
            return rc;
        }
        dst += n;
        src += n;
        len -= n;
    }
    return 0;
}

/* Bytes of the unit at off, from lo on, that the image ending at slot offset end occupies. */
static uint32_t span(uint32_t off, uint32_t lo, uint32_t end)
{
    uint32_t hi = off + UNIT < end ? off + UNIT : end;
    return hi > lo ? hi - lo : 0u;
}

/* The CBC chaining value in front of slot offset lo: the image's IV at its first byte, else the 16
 * ciphertext bytes before it, at `before`. */
static int chain(work_t *w, uint32_t lo, const image_header_t *h, uint32_t before)
{
    if (lo == SPB_VECTOR_SIZE) {
        memcpy(w->cv, &h->raw[0x04], sizeof w->cv);
        return 0;
    }
    return port_flash_read(before, w->cv, sizeof w->cv);
}

static int step(work_t *w, uint32_t i, uint32_t s, const image_header_t *in, const image_header_t *out)
{
    uint32_t off = i * UNIT;
    uint32_t lo = off > SPB_VECTOR_SIZE ? off : SPB_VECTOR_SIZE;
    uint32_t x = SPB_SWAP_SCRATCH_ADDR + (i & 1u) * UNIT;
    uint32_t in_end = SPB_VECTOR_SIZE + in->size;
    int rc;
    if (s == 0u) {
        rc = slot_erase_range(x, UNIT, NULL);
        return rc != 0 ? rc : transfer(w, x + (lo - off), SPB_SLOT1_ADDR + lo, span(off, lo, in_end), RAW);
    }
    if (s == 1u) {
        rc = slot_erase_range(SPB_SLOT1_ADDR + off, UNIT, NULL);
        if (rc == 0 && i == 0u) {
            rc = port_flash_write(SPB_SLOT1_ADDR, out->raw, IMAGE_HEADER_SIZE); /* markers stay erased */
        }
        if (rc == 0) {
            rc = chain(w, lo, out, SPB_SLOT1_ADDR + lo - 16u);
        }
        return rc != 0 ? rc
                       : transfer(w, SPB_SLOT1_ADDR + lo, SPB_SLOT0_ADDR + lo,
                                  span(off, lo, SPB_VECTOR_SIZE + out->size), ENCRYPT);
    }
    rc = slot_erase_range(SPB_SLOT0_ADDR + off, UNIT, NULL);
    if (rc == 0 && i == 0u) {
        uint8_t installed[SLOT_INSTALLED_HEADER_SIZE];
        image_installed_header(in, installed);
        rc = port_flash_write(SPB_SLOT0_ADDR, installed, sizeof installed);
    }
    if (rc == 0) {
        /* unit i-1's ciphertext is still in the other scratch unit */
        rc = chain(w, lo, in, SPB_SWAP_SCRATCH_ADDR + ((i + 1u) & 1u) * UNIT + UNIT - 16u);
    }
    return rc != 0 ? rc : transfer(w, SPB_SLOT0_ADDR + lo, x + (lo - off), span(off, lo, in_end), DECRYPT);
}

int swap_run(swap_state_t *st, const image_header_t *in, const image_header_t *out)
{
    work_t w;
    int rc = 0;
    uint32_t shown = 0xFFu;
    spb_aes128_init(&w.aes, spb_aes_key);
    while (rc == 0 && st->steps < 3u * st->units) {
        uint32_t i = st->steps / 3u, s = st->steps % 3u;
        rc = step(&w, i, s, in, out);
        if (rc == 0) {
            rc = append(st, SWAP_REC_STEP, (uint8_t)s, i);
        }
        if (rc == 0) {
            st->steps++;
            uint32_t percent = log_share(st->steps, 3u * st->units, 100u);
            if (percent / 12u != shown || percent == 100u) { /* the install's bar: steps of 1/8 */
                shown = percent / 12u;
                log_progress(percent);
            }
        }
    }
    spb_wipe(&w, sizeof w);
    if (rc == 0 && !st->swapped) {
        rc = append(st, SWAP_REC_SWAPPED, 0, 0);
        st->swapped = rc == 0;
    }
    return rc;
}

#endif
