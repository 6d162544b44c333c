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

void swap_read(swap_state_t *st, image_header_t *in, image_header_t *out)
{
    uint8_t d[DESC_SIZE];
    memset(st, 0, sizeof *st);
    st->free = RECORDS;
    if (port_flash_read(SPB_SWAP_STATUS_ADDR, d, sizeof d) != 0) {
        return; /* torn (ECC error): no descriptor */
    }
    uint32_t h = slot_fnv1a(SLOT_FNV_START, d, DESC_SIZE - 4u);
    /* "SPBX" | kind | 0 | units | 0 | check */
    st->kind = d[260];
    st->units = (uint16_t)(d[262] | (d[263] << 8));
    if (get32(&d[256]) != DESC_MAGIC || (st->kind != SWAP_KIND_INSTALL && st->kind != SWAP_KIND_REVERT) ||
        st->units == 0u || st->units > SPB_SLOT0_SIZE / UNIT || get32(&d[DESC_SIZE - 4u]) != h) {
        return;
    }
    if (in != NULL && out != NULL) {
        (void)image_header_parse(in, d);
        (void)image_header_parse(out, &d[IMAGE_HEADER_SIZE]);
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
        uint32_t number = (uint32_t)rec[1] | ((uint32_t)rec[2] << 8) | ((uint32_t)rec[3] << 16);
        switch (rec[0]) {
        case SWAP_REC_STEP:
            if (number == st->steps && number < SWAP_STEPS(st->units)) {
                st->steps++;
            }
            break;
        case SWAP_REC_SWAPPED: /* complete (its last step's record may be the torn one before it) */
            st->swapped = true;
            st->steps = SWAP_STEPS(st->units);
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

static int append(swap_state_t *st, uint8_t type, uint32_t number)
{
    uint8_t rec[REC_SIZE];
    if (st->free >= RECORDS) {
        return -1;
    }
    rec[0] = type;
    rec[1] = (uint8_t)number;
    rec[2] = (uint8_t)(number >> 8);
    rec[3] = (uint8_t)(number >> 16);
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
    return append(st, type, 0);
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

/* Step n of the exchange (swap.h): erase the unit it writes, program it from its source through its mode
 * (RAW, ENCRYPT, DECRYPT). Steps 0 .. 3*units-1: step s of unit i, the header areas left erased. The four
 * last put the headers in through the first scratch unit, SLOT0's last of all, so that SLOT0 has an
 * installed header only once the exchange is complete: copy unit 0 of SLOT1 (then SLOT0) out, erase it,
 * program its data back and then the header (SLOT1: the outgoing .sfb header, markers erased; SLOT0: the
 * incoming installed header). */
static int step(work_t *w, uint32_t n, uint32_t units, const image_header_t *in, const image_header_t *out)
{
    uint32_t i = n / 3u, s = n % 3u, header = 0;
    uint32_t off, lo, dst, src;
    const image_header_t *h;
    int mode = (int)s;
    if (i < units) {
        off = i * UNIT;
        lo = off > SPB_VECTOR_SIZE ? off : SPB_VECTOR_SIZE;
        uint32_t x = SPB_SWAP_SCRATCH_ADDR + (i & 1u) * UNIT;
        h = s == 1u ? out : in; /* the image whose bytes this step writes */
        dst = s == 0u ? x : (s == 1u ? SPB_SLOT1_ADDR : SPB_SLOT0_ADDR) + off;
        src = s == 0u ? SPB_SLOT1_ADDR + lo : (s == 1u ? SPB_SLOT0_ADDR + lo : x + (lo - off));
    } else {
        uint32_t f = n - 3u * units;
        uint32_t slot = f < 2u ? SPB_SLOT1_ADDR : SPB_SLOT0_ADDR;
        h = f < 2u ? out : in;
        off = 0;
        lo = SPB_VECTOR_SIZE;
        mode = RAW;
        dst = (f & 1u) == 0u ? SPB_SWAP_SCRATCH_ADDR : slot;
        src = ((f & 1u) == 0u ? slot : SPB_SWAP_SCRATCH_ADDR) + lo;
        header = (f & 1u) == 0u ? 0u : (f < 2u ? IMAGE_HEADER_SIZE : SLOT_INSTALLED_HEADER_SIZE);
    }
    int rc = slot_erase_range(dst, UNIT, NULL);
    if (rc == 0 && mode != RAW) {
        /* SLOT1's unit i-1 already holds its outgoing ciphertext; unit i-1's incoming ciphertext is still
         * in the other scratch unit */
        rc = chain(w, lo, h, s == 1u ? SPB_SLOT1_ADDR + lo - 16u : SPB_SWAP_SCRATCH_ADDR + ((i + 1u) & 1u) * UNIT + UNIT - 16u);
    }
    if (rc == 0) {
        rc = transfer(w, dst + (lo - off), src, span(off, lo, SPB_VECTOR_SIZE + h->size), mode);
    }
    if (rc == 0 && header != 0u) {
        uint8_t raw[SLOT_INSTALLED_HEADER_SIZE];
        image_installed_header(h, raw);
        rc = port_flash_write(dst, raw, header);
    }
    return rc;
}

int swap_run(swap_state_t *st, const image_header_t *in, const image_header_t *out)
{
    work_t w;
    int rc = 0;
    spb_aes128_init(&w.aes, spb_aes_key);
    uint32_t total = SWAP_STEPS(st->units);
    while (rc == 0 && st->steps < total) {
        uint32_t n = st->steps;
        rc = step(&w, n, st->units, in, out);
        if (rc == 0) {
            rc = append(st, SWAP_REC_STEP, n);
        }
        if (rc == 0) {
            st->steps++;
            log_progress(log_share(st->steps, total, 100u));
        }
    }
    spb_wipe(&w, sizeof w);
    if (rc == 0 && !st->swapped) {
        rc = append(st, SWAP_REC_SWAPPED, 0);
        st->swapped = rc == 0;
    }
    return rc;
}

#endif
