/* SPDX-License-Identifier: Apache-2.0 */
/* Small parsing helpers (no strtod: it would pull the full floating-point scanner in) and a PRNG. */
#include <ctype.h>

#include "meter.h"

static uint32_t prng_state = 0x2545F491u;

bool parse_u32(const char *s, uint32_t *out)
{
    uint32_t base = 10, v = 0;
    if (s == NULL || *s == '\0') {
        return false;
    }
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        if (*s == '\0') {
            return false;
        }
    }
    for (; *s != '\0'; s++) {
        uint32_t d;
        if (*s >= '0' && *s <= '9') {
            d = (uint32_t)(*s - '0');
        } else if (base == 16u && isxdigit((unsigned char)*s)) {
            d = (uint32_t)(tolower((unsigned char)*s) - 'a' + 10);
        } else if (*s == '_') {
            continue;
        } else {
            return false;
        }
        if (v > (UINT32_MAX - d) / base) {
            return false; /* overflow */
        }
        v = v * base + d;
    }
    *out = v;
    return true;
}

bool parse_i32(const char *s, int32_t *out)
{
    bool neg = false;
    uint32_t mag;
    if (s != NULL && (*s == '-' || *s == '+')) {
        neg = *s == '-';
        s++;
    }
    if (!parse_u32(s, &mag) || mag > (neg ? 0x80000000u : 0x7FFFFFFFu)) {
        return false;
    }
    *out = neg ? (int32_t)(0u - mag) : (int32_t)mag;
    return true;
}

bool parse_float(const char *s, float *out)
{
    bool neg = false, digits = false;
    float v = 0.0f, scale = 1.0f;
    if (*s == '-' || *s == '+') {
        neg = *s++ == '-';
    }
    for (; isdigit((unsigned char)*s); s++) {
        v = v * 10.0f + (float)(*s - '0');
        digits = true;
    }
    if (*s == '.') {
        for (s++; isdigit((unsigned char)*s); s++) {
            scale *= 0.1f;
            v += (float)(*s - '0') * scale;
            digits = true;
        }
    }
    if (digits && (*s == 'e' || *s == 'E')) {
        int32_t exp10;
        if (!parse_i32(s + 1, &exp10) || exp10 < -38 || exp10 > 38) {
            return false;
        }
        for (; exp10 > 0; exp10--) {
            v *= 10.0f;
        }
        for (; exp10 < 0; exp10++) {
            v *= 0.1f;
        }
        s += 1;
        while (*s != '\0') {
            s++;
        }
    }
    if (!digits || *s != '\0') {
        return false;
    }
    *out = neg ? -v : v;
    return true;
}

int str_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
        if (ca != cb || ca == 0) {
            return ca - cb;
        }
    }
}

uint32_t prng_next(void)
{
    /* xorshift32 */
    uint32_t x = prng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    prng_state = x;
    return x;
}

void prng_seed(uint32_t seed)
{
    prng_state = seed != 0u ? seed : 0x2545F491u;
}
