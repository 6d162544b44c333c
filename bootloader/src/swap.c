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
    return slot_fnv1a(salt, rec, 4u); /* FNV-1a continued from the descriptor's check */
}

static uint32_t record_address(uint32_t index)
{
    return SPB_SWAP_STATUS_ADDR + DESC_SIZE + index * REC_SIZE;
}

void swap_read(swap_state_t *st)
{
    uint8_t b[16];
    uint32_t h = SLOT_FNV_START;
    memset(st, 0, sizeof *st);
    st->free = RECORDS;
    for (uint32_t at = 0; at < DESC_SIZE; at += sizeof b) {
        if (port_flash_read(SPB_SWAP_STATUS_ADDR + at, b, sizeof b) != 0) {
            return; /* torn (ECC error): no descriptor */
        }
        h = slot_fnv1a(h, b, at + sizeof b == DESC_SIZE ? sizeof b - 4u : sizeof b);
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
    uint32_t check = slot_fnv1a(SLOT_FNV_START, d, DESC_SIZE - 4u);
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

/* Step s of unit i (swap.h): erase the unit it writes, then program it from its source through mode s
 * (RAW, ENCRYPT, DECRYPT), with the headers where unit 0 holds them. */
static int step(work_t *w, uint32_t i, uint32_t s, const image_header_t *in, const image_header_t *out)
{
    uint32_t off = i * UNIT;
    uint32_t lo = off > SPB_VECTOR_SIZE ? off : SPB_VECTOR_SIZE;
    uint32_t x = SPB_SWAP_SCRATCH_ADDR + (i & 1u) * UNIT;
    const image_header_t *h = s == 1u ? out : in; /* the image whose bytes this step writes */
    uint32_t dst = s == 0u ? x : (s == 1u ? SPB_SLOT1_ADDR : SPB_SLOT0_ADDR) + off;
    uint32_t src = s == 0u ? SPB_SLOT1_ADDR + lo : (s == 1u ? SPB_SLOT0_ADDR + lo : x + (lo - off));
    int rc = slot_erase_range(dst, UNIT, NULL);
    if (rc == 0 && i == 0u && s != 0u) {
        /* SLOT1: the outgoing .sfb header, markers left erased; SLOT0: the incoming installed header */
        uint8_t header[SLOT_INSTALLED_HEADER_SIZE];
        image_installed_header(h, header);
        rc = port_flash_write(dst, header, s == 1u ? IMAGE_HEADER_SIZE : SLOT_INSTALLED_HEADER_SIZE);
    }
    if (rc == 0 && s != 0u) {
        /* SLOT1's unit i-1 already holds its outgoing ciphertext; unit i-1's incoming ciphertext is still
         * in the other scratch unit */
        rc = chain(w, lo, h, s == 1u ? SPB_SLOT1_ADDR + lo - 16u : SPB_SWAP_SCRATCH_ADDR + (x == SPB_SWAP_SCRATCH_ADDR ? UNIT : 0u) + UNIT - 16u);
    }
    return rc != 0 ? rc : transfer(w, dst + (lo - off), src, span(off, lo, SPB_VECTOR_SIZE + h->size), (int)s);
}

int swap_run(swap_state_t *st, const image_header_t *in, const image_header_t *out)
{
    work_t w;
    int rc = 0;
    spb_aes128_init(&w.aes, spb_aes_key);
    while (rc == 0 && st->steps < 3u * st->units) {
        uint32_t i = st->steps / 3u, s = st->steps % 3u;
        rc = step(&w, i, s, in, out);
        if (rc == 0) {
            rc = append(st, SWAP_REC_STEP, (uint8_t)s, i);
        }
        if (rc == 0) {
            st->steps++;
            log_progress(log_share(st->steps, 3u * st->units, 100u));
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
