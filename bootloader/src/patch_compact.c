/* SPDX-License-Identifier: Apache-2.0 */
#include "patch_compact.h"

#include <string.h>

#define PROB_BITS 11u
#define PROB_INIT (1u << (PROB_BITS - 1u))
#define MOVE      5u
#define TOP       (1u << 24)
#define SEEK_SIGN 127u
#define MAX_PAST_END 8u /* the coder legitimately reads a few bytes past the stored end */

enum { P_CODE, P_SIZE, P_SEEK, P_COPY_LEN, P_NDIFF, P_GAP, P_VALUE, P_EXTRA_LEN, P_LITERAL, P_DONE };

void compact_init(compact_state_t *s)
{
    uint16_t *probs = &s->p_diff[0][0];
    uint32_t n = (uint32_t)((const uint8_t *)&s->range - (const uint8_t *)probs) / sizeof *probs;
    for (uint32_t i = 0; i < n; i++) {
        probs[i] = PROB_INIT;
    }
    s->range = 0xFFFFFFFFu;
    s->code = 0;
    s->head = s->count = s->past_end = 0;
    s->input_done = false;
    s->phase = P_CODE;
    s->src = s->copy_len = s->copy_pos = s->ndiff = s->extra = 0;
    s->prev_gap_zero = false;
    s->last[0] = s->last[1] = s->last2[0] = s->last2[1] = s->last_rep[0] = s->last_rep[1] = 0;
}

/* Input: only called when a whole symbol's worth is buffered, or after the end (zeros follow). */
static bool next_byte(compact_state_t *s, uint8_t *b)
{
    if (s->count != 0u) {
        *b = s->ring[s->head];
        s->head = (uint8_t)((s->head + 1u) % COMPACT_RING);
        s->count--;
        return true;
    }
    *b = 0;
    return ++s->past_end <= MAX_PAST_END;
}

static bool normalize(compact_state_t *s)
{
    if (s->range < TOP) {
        uint8_t b;
        if (!next_byte(s, &b)) {
            return false;
        }
        s->range <<= 8;
        s->code = (s->code << 8) | b;
    }
    return true;
}

/* Each decoding function returns -1 when the input ran out (a truncated patch). */
static int bit(compact_state_t *s, uint16_t *prob)
{
    uint32_t p = *prob;
    uint32_t bound = (s->range >> PROB_BITS) * p;
    int result;
    if (s->code < bound) {
        s->range = bound;
        *prob = (uint16_t)(p + (((1u << PROB_BITS) - p) >> MOVE));
        result = 0;
    } else {
        s->code -= bound;
        s->range -= bound;
        *prob = (uint16_t)(p - (p >> MOVE));
        result = 1;
    }
    return normalize(s) ? result : -1;
}

static int64_t get_uint(compact_state_t *s, uint16_t *probs)
{
    uint32_t node = 1;
    for (int k = 0; k < 5; k++) {
        int b = bit(s, &probs[node]);
        if (b < 0) {
            return -1;
        }
        node = node * 2u + (uint32_t)b;
    }
    uint32_t nbits = node - 32u;
    if (nbits <= 1u) {
        return nbits;
    }
    uint32_t base = 32u + (nbits - 1u) * 3u;
    int b1 = bit(s, &probs[base]);
    if (b1 < 0) {
        return -1;
    }
    uint32_t v = 2u | (uint32_t)b1;
    if (nbits >= 3u) {
        int b2 = bit(s, &probs[base + 1u + (uint32_t)b1]);
        if (b2 < 0) {
            return -1;
        }
        v = (v << 1) | (uint32_t)b2;
        for (uint32_t k = 3; k < nbits; k++) {
            s->range >>= 1;
            uint32_t d = s->code >= s->range ? 1u : 0u;
            if (d != 0u) {
                s->code -= s->range;
            }
            v = (v << 1) | d;
            if (!normalize(s)) {
                return -1;
            }
        }
    }
    return v;
}

static int get_byte(compact_state_t *s, uint16_t *probs)
{
    uint32_t node = 1;
    while (node < 256u) {
        int b = bit(s, &probs[node]);
        if (b < 0) {
            return -1;
        }
        node = node * 2u + (uint32_t)b;
    }
    return (int)(node - 256u);
}

/* A difference value: a repeat of the lane's last or second-last value, or a literal byte. */
static int get_diff(compact_state_t *s, uint32_t lane)
{
    int rep = bit(s, &s->p_repeat[lane * 2u + s->last_rep[lane]]);
    int value;
    if (rep < 0) {
        return -1;
    }
    if (rep != 0) {
        value = s->last[lane];
    } else {
        int rep2 = bit(s, &s->p_repeat2[lane]);
        if (rep2 < 0) {
            return -1;
        }
        value = rep2 != 0 ? s->last2[lane] : get_byte(s, s->p_diff[lane]);
        if (value < 0) {
            return -1;
        }
        s->last2[lane] = s->last[lane];
    }
    s->last[lane] = (uint8_t)value;
    s->last_rep[lane] = (uint8_t)rep;
    return value;
}

/* One step of the parse. Returns PATCH_OK with *progress false when it needs more input. */
static patch_result_t step(compact_state_t *s)
{
    int64_t v;
    int b;
    switch (s->phase) {
    case P_CODE:
        for (int k = 0; k < 4; k++) {
            uint8_t c;
            if (!next_byte(s, &c)) {
                return PATCH_FORMAT;
            }
            s->code = (s->code << 8) | c;
        }
        s->phase = P_SIZE;
        return PATCH_OK;
    case P_SIZE:
        v = get_uint(s, s->p_copy_len);
        if (v < 0 || (uint32_t)v != patch_new_size()) {
            return PATCH_FORMAT; /* the patch was made for another TO image */
        }
        s->phase = v == 0 ? P_DONE : P_SEEK;
        return PATCH_OK;
    case P_SEEK:
        b = bit(s, &s->p_seek[SEEK_SIGN]);
        v = b < 0 ? -1 : get_uint(s, s->p_seek);
        if (v < 0) {
            return PATCH_FORMAT;
        }
        if (b != 0) {
            if ((uint32_t)v > s->src) {
                return PATCH_FORMAT;
            }
            s->src -= (uint32_t)v;
        } else {
            if ((uint32_t)v > patch_old_size() - (s->src < patch_old_size() ? s->src : patch_old_size())) {
                /* src may only move within the FROM image (or to its very end) */
                return PATCH_FORMAT;
            }
            s->src += (uint32_t)v;
        }
        s->phase = P_COPY_LEN;
        return PATCH_OK;
    case P_COPY_LEN:
        v = get_uint(s, s->p_copy_len);
        if (v < 0) {
            return PATCH_FORMAT;
        }
        s->copy_len = (uint32_t)v;
        s->copy_pos = 0;
        if (s->copy_len != 0u) {
            if (s->src > patch_old_size() || s->copy_len > patch_old_size() - s->src ||
                s->copy_len > patch_new_size() - patch_produced()) {
                return PATCH_FORMAT;
            }
            s->phase = P_NDIFF;
        } else {
            s->phase = P_EXTRA_LEN;
        }
        return PATCH_OK;
    case P_NDIFF:
        v = get_uint(s, s->p_ndiff);
        if (v < 0 || (uint32_t)v > s->copy_len) {
            return PATCH_FORMAT;
        }
        s->ndiff = (uint32_t)v;
        s->phase = P_GAP;
        return PATCH_OK;
    case P_GAP: {
        uint32_t gap;
        if (s->ndiff == 0u) {
            gap = s->copy_len - s->copy_pos; /* the rest of the copy is unchanged */
        } else {
            v = get_uint(s, s->prev_gap_zero ? s->p_gap_adjacent : s->p_gap);
            if (v < 0 || (uint32_t)v >= s->copy_len - s->copy_pos) {
                return PATCH_FORMAT;
            }
            gap = (uint32_t)v;
            s->prev_gap_zero = gap == 0u;
        }
        patch_result_t r = patch_copy_old(s->src + s->copy_pos, gap);
        if (r != PATCH_OK) {
            return r;
        }
        s->copy_pos += gap;
        if (s->ndiff == 0u) {
            s->src += s->copy_len;
            s->phase = P_EXTRA_LEN;
        } else {
            s->phase = P_VALUE;
        }
        return PATCH_OK;
    }
    case P_VALUE: {
        uint8_t old;
        b = get_diff(s, patch_produced() & 1u);
        if (b < 0) {
            return PATCH_FORMAT;
        }
        patch_result_t r = patch_old_read(s->src + s->copy_pos, &old, 1);
        if (r != PATCH_OK) {
            return r;
        }
        old = (uint8_t)(old + (uint8_t)b);
        s->copy_pos++;
        s->ndiff--;
        s->phase = P_GAP;
        return patch_emit(&old, 1);
    }
    case P_EXTRA_LEN:
        v = get_uint(s, s->p_extra_len);
        if (v < 0 || (uint32_t)v > patch_new_size() - patch_produced() || (v == 0 && s->copy_len == 0u)) {
            return PATCH_FORMAT; /* overruns the image, or an empty block (no progress) */
        }
        s->extra = (uint32_t)v;
        s->phase = s->extra != 0u ? P_LITERAL : (patch_produced() == patch_new_size() ? P_DONE : P_SEEK);
        return PATCH_OK;
    case P_LITERAL: {
        b = get_byte(s, s->p_literal[patch_produced() & (COMPACT_LITERAL_CONTEXTS - 1u)]);
        if (b < 0) {
            return PATCH_FORMAT;
        }
        uint8_t c = (uint8_t)b;
        if (--s->extra == 0u) {
            s->phase = patch_produced() + 1u == patch_new_size() ? P_DONE : P_SEEK;
        }
        return patch_emit(&c, 1);
    }
    default:
        return PATCH_OK;
    }
}

static patch_result_t run(compact_state_t *s)
{
    while (s->phase != P_DONE && (s->input_done || s->count >= COMPACT_SYMBOL_INPUT)) {
        patch_result_t r = step(s);
        if (r != PATCH_OK) {
            return r;
        }
    }
    return PATCH_OK;
}

patch_result_t compact_push(compact_state_t *s, const uint8_t *data, uint32_t len)
{
    while (len > 0u) {
        uint32_t room = COMPACT_RING - s->count;
        uint32_t n = len < room ? len : room;
        for (uint32_t i = 0; i < n; i++) {
            s->ring[(s->head + s->count + i) % COMPACT_RING] = data[i];
        }
        s->count = (uint8_t)(s->count + n);
        data += n;
        len -= n;
        patch_result_t r = run(s);
        if (r != PATCH_OK) {
            return r;
        }
        if (s->phase == P_DONE) {
            return PATCH_OK; /* what follows the coded stream is ignored, like the zero padding */
        }
    }
    return PATCH_OK;
}

patch_result_t compact_end(compact_state_t *s)
{
    s->input_done = true;
    patch_result_t r = run(s);
    if (r != PATCH_OK) {
        return r;
    }
    return s->phase == P_DONE ? PATCH_OK : PATCH_FORMAT;
}
