/* SPDX-License-Identifier: Apache-2.0 */
#include "patch_jojo.h"

enum { ESC = 0xA7, MOD = 0xA6, INS = 0xA5, DEL = 0xA4, EQL = 0xA3, BKT = 0xA2 };
enum { S_OP_ESC, S_OP_CODE, S_LEN_FIRST, S_LEN_MORE, S_LEN_PLUS, S_LITERAL, S_LITERAL_ESC };

void jojo_init(jojo_state_t *s)
{
    s->state = S_OP_ESC;
    s->op = 0;
    s->need = 0;
    s->length = 0;
    s->src = 0;
}

static patch_result_t literal(jojo_state_t *s, uint8_t b)
{
    if (s->op == MOD) {
        s->src++;
    }
    return patch_emit(&b, 1);
}

static patch_result_t run(jojo_state_t *s)
{
    uint32_t n = s->length;
    s->state = S_OP_ESC;
    switch (s->op) {
    case EQL:
        if (n > patch_old_size() || s->src > patch_old_size() - n) {
            return PATCH_FORMAT;
        }
        s->src += n;
        return patch_copy_old(s->src - n, n);
    case DEL:
        if (n > UINT32_MAX - s->src) {
            return PATCH_FORMAT;
        }
        s->src += n;
        return PATCH_OK;
    default: /* BKT */
        if (n > s->src) {
            return PATCH_FORMAT;
        }
        s->src -= n;
        return PATCH_OK;
    }
}

static patch_result_t step(jojo_state_t *s, uint8_t b)
{
    switch (s->state) {
    case S_OP_ESC:
        if (b != ESC) {
            return PATCH_FORMAT; /* "expected ESC" */
        }
        s->state = S_OP_CODE;
        return PATCH_OK;
    case S_OP_CODE:
    operation:
        if (b == MOD || b == INS) {
            s->op = b;
            s->state = S_LITERAL;
        } else if (b == DEL || b == EQL || b == BKT) {
            s->op = b;
            s->state = S_LEN_FIRST;
        } else {
            return PATCH_FORMAT; /* "unsupported operator" */
        }
        return PATCH_OK;
    case S_LEN_FIRST:
        if (b <= 251u) {
            s->length = b + 1u;
            return run(s);
        }
        if (b == 255u) {
            return PATCH_FORMAT;
        }
        s->need = b == 253u ? 2u : 4u;
        s->length = 0;
        s->state = b == 252u ? S_LEN_PLUS : S_LEN_MORE;
        return PATCH_OK;
    case S_LEN_PLUS:
        s->length = 253u + b;
        return run(s);
    case S_LEN_MORE:
        s->length = (s->length << 8) | b;
        if (--s->need == 0u) {
            return run(s);
        }
        return PATCH_OK;
    case S_LITERAL:
        if (b == ESC) {
            s->state = S_LITERAL_ESC;
            return PATCH_OK;
        }
        return literal(s, b);
    default: /* S_LITERAL_ESC */
        if (b == MOD || b == INS || b == DEL || b == EQL || b == BKT) {
            goto operation;
        }
        s->state = S_LITERAL;
        patch_result_t r = literal(s, ESC);
        return (r != PATCH_OK || b == ESC) ? r : literal(s, b);
    }
}

patch_result_t jojo_push(jojo_state_t *s, const uint8_t *data, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) {
        patch_result_t r = step(s, data[i]);
        if (r != PATCH_OK) {
            return r;
        }
    }
    return PATCH_OK;
}

patch_result_t jojo_end(const jojo_state_t *s)
{
    return (s->state == S_OP_ESC || s->state == S_LITERAL) ? PATCH_OK : PATCH_FORMAT;
}
