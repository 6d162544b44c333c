/* SPDX-License-Identifier: Apache-2.0 */
/* The compat encoding: a JojoDiff opcode stream, decoded one byte at a time (mirrors spb/jojo.py). */
#ifndef SPB_PATCH_JOJO_H
#define SPB_PATCH_JOJO_H

#include <stdint.h>

#include "patch.h"

typedef struct {
    uint8_t state;
    uint8_t op;        /* current literal mode (MOD/INS) or the length operation being read */
    uint8_t need;      /* length bytes still to read */
    uint32_t length;
    uint32_t src;      /* position in the FROM image */
} jojo_state_t;

void jojo_init(jojo_state_t *s);
patch_result_t jojo_push(jojo_state_t *s, const uint8_t *data, uint32_t len);
/* The stream has ended: it must not stop inside an operation. */
patch_result_t jojo_end(const jojo_state_t *s);

#endif
