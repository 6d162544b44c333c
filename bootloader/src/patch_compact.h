/* SPDX-License-Identifier: Apache-2.0 */
/* The compact encoding: range-coded bsdiff-style blocks (mirrors spb/compact.py, docs/formats.md). */
#ifndef SPB_PATCH_COMPACT_H
#define SPB_PATCH_COMPACT_H

#include <stdbool.h>
#include <stdint.h>

#include "patch.h"

#define COMPACT_DIFF_CONTEXTS 2u
#define COMPACT_LITERAL_CONTEXTS 2u
#define COMPACT_UINT_PROBS    128u
#define COMPACT_RING          64u  /* input buffer; one symbol needs at most COMPACT_SYMBOL_INPUT bytes */
#define COMPACT_SYMBOL_INPUT  40u

typedef struct {
    /* Adaptive probabilities, 11 bits each (3596 bytes). */
    uint16_t p_diff[COMPACT_DIFF_CONTEXTS][256];
    uint16_t p_literal[COMPACT_LITERAL_CONTEXTS][256];
    uint16_t p_copy_len[COMPACT_UINT_PROBS];
    uint16_t p_ndiff[COMPACT_UINT_PROBS];
    uint16_t p_gap[COMPACT_UINT_PROBS];
    uint16_t p_gap_adjacent[COMPACT_UINT_PROBS]; /* the gap after a zero gap */
    uint16_t p_extra_len[COMPACT_UINT_PROBS];
    uint16_t p_seek[COMPACT_UINT_PROBS];
    uint16_t p_repeat[4];  /* difference = the lane's last one, by lane and whether that was a repeat */
    uint16_t p_repeat2[2]; /* difference = the lane's one before, by lane */
    /* Range decoder and its input. */
    uint32_t range;
    uint32_t code;
    uint8_t ring[COMPACT_RING];
    uint8_t head;          /* index of the oldest buffered byte */
    uint8_t count;         /* bytes buffered */
    uint8_t past_end;      /* zero bytes supplied after the end of the patch */
    bool input_done;
    /* Where the parse stands. */
    uint8_t phase;
    uint32_t src;          /* position in the FROM image */
    uint32_t copy_len;
    uint32_t copy_pos;     /* bytes of the current copy produced */
    uint32_t ndiff;        /* non-zero differences left in the current copy */
    uint32_t extra;        /* literals left */
    bool prev_gap_zero;
    uint8_t last[2];       /* per lane (output address parity): last two difference values */
    uint8_t last2[2];
    uint8_t last_rep[2];
} compact_state_t;

void compact_init(compact_state_t *s);
patch_result_t compact_push(compact_state_t *s, const uint8_t *data, uint32_t len);
/* No more input: decode the rest (reading zeros past the end) and check the image is complete. */
patch_result_t compact_end(compact_state_t *s);

#endif
