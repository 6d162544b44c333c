/* SPDX-License-Identifier: Apache-2.0 */
/* Fixed-point signal processing for the measurement chain: sine lookup, FIR low-pass, biquad notch,
 * moving average, RMS, fixed-point log2/dB, Goertzel tone power and running statistics. */
#include <math.h>

#include "meter.h"

#define FIR_TAPS (sizeof table_fir_q15 / sizeof table_fir_q15[0])

static int16_t sat16(int32_t x)
{
    if (x > 32767) {
        return 32767;
    }
    if (x < -32768) {
        return -32768;
    }
    return (int16_t)x;
}

/* phase: 0..65535 is one period; linear interpolation between the 256 table points */
int16_t dsp_sin_q15(uint16_t phase)
{
    unsigned i = phase >> 8;
    int32_t frac = phase & 0xFFu;
    int32_t a = table_sin_q15[i];
    int32_t b = table_sin_q15[(i + 1u) & 0xFFu];
    return (int16_t)(a + (((b - a) * frac) >> 8));
}

int16_t dsp_cos_q15(uint16_t phase)
{
    return dsp_sin_q15((uint16_t)(phase + 16384u));
}

void fir_init(fir_q15_t *f)
{
    for (unsigned i = 0; i < sizeof f->history / sizeof f->history[0]; i++) {
        f->history[i] = 0;
    }
    f->pos = 0;
}

unsigned fir_taps(void)
{
    return (unsigned)FIR_TAPS;
}

int16_t fir_step(fir_q15_t *f, int16_t x)
{
    f->history[f->pos] = x;
    int64_t acc = 0;
    unsigned idx = f->pos;
    for (unsigned k = 0; k < FIR_TAPS; k++) {
        acc += (int32_t)table_fir_q15[k] * f->history[idx];
        idx = idx == 0u ? (unsigned)FIR_TAPS - 1u : idx - 1u;
    }
    f->pos = (uint8_t)(f->pos + 1u == FIR_TAPS ? 0u : f->pos + 1u);
    return sat16((int32_t)((acc + (1 << 14)) >> 15));
}

/* RBJ cookbook notch, coefficients normalised by a0 and stored in Q14 */
void biquad_init_notch(biquad_q14_t *bq, uint32_t f0_hz, uint32_t fs_hz, unsigned q_x10)
{
    float w0 = 2.0f * (float)M_PI * (float)f0_hz / (float)fs_hz;
    float alpha = sinf(w0) / (2.0f * (float)q_x10 / 10.0f);
    float cw = cosf(w0);
    float a0 = 1.0f + alpha;
    bq->b0 = (int16_t)lrintf(16384.0f / a0);
    bq->b1 = (int16_t)lrintf(-2.0f * cw * 16384.0f / a0);
    bq->b2 = bq->b0;
    bq->a1 = (int16_t)lrintf(-2.0f * cw * 16384.0f / a0);
    bq->a2 = (int16_t)lrintf((1.0f - alpha) * 16384.0f / a0);
    bq->x1 = bq->x2 = bq->y1 = bq->y2 = 0;
}

int16_t biquad_step(biquad_q14_t *bq, int16_t x)
{
    int32_t acc = (int32_t)bq->b0 * x + (int32_t)bq->b1 * bq->x1 + (int32_t)bq->b2 * bq->x2
                - (int32_t)bq->a1 * bq->y1 - (int32_t)bq->a2 * bq->y2;
    int16_t y = sat16((acc + (1 << 13)) >> 14);
    bq->x2 = bq->x1;
    bq->x1 = x;
    bq->y2 = bq->y1;
    bq->y1 = y;
    return y;
}

#if defined(FW_FUNC)
/* 1.5.0: peak detector with a 2 s hold and a slow decay, shown by the stats command */
int16_t dsp_peak_hold(int16_t x, uint32_t now_ms)
{
    static int16_t peak;
    static uint32_t peak_time;
    int16_t mag = x < 0 ? sat16(-(int32_t)x) : x;
    if (mag >= peak) {
        peak = mag;
        peak_time = now_ms;
    } else if (now_ms - peak_time > 2000u) {
        peak = (int16_t)(peak - (peak >> 6) - 1);
        if (peak < mag) {
            peak = mag;
        }
    }
    return peak;
}
#endif

void ma_init(moving_average_t *ma)
{
    ma->sum = 0;
    ma->pos = 0;
    for (unsigned i = 0; i < (1u << MOVING_AVERAGE_LOG2); i++) {
        ma->window[i] = 0;
    }
}

int16_t ma_step(moving_average_t *ma, int16_t x)
{
    ma->sum += x - ma->window[ma->pos];
    ma->window[ma->pos] = x;
    ma->pos = (uint8_t)((ma->pos + 1u) & ((1u << MOVING_AVERAGE_LOG2) - 1u));
    return (int16_t)(ma->sum >> MOVING_AVERAGE_LOG2);
}

uint32_t dsp_isqrt(uint64_t x)
{
    uint64_t res = 0;
    uint64_t bit = (uint64_t)1 << 62;
    while (bit > x) {
        bit >>= 2;
    }
    while (bit != 0u) {
        if (x >= res + bit) {
            x -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    return (uint32_t)res;
}

uint16_t dsp_rms(const int16_t *x, size_t n)
{
    if (n == 0u) {
        return 0;
    }
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc += (uint64_t)((int32_t)x[i] * x[i]);
    }
    return (uint16_t)dsp_isqrt(acc / n);
}

/* log2(x) in Q16 for x > 0: integer part from the bit length, fraction from a 33-point table */
int32_t dsp_log2_q16(uint32_t x)
{
    if (x == 0u) {
        return INT32_MIN;
    }
    int32_t ip = 31 - __builtin_clz(x);
    uint32_t norm = ip >= 16 ? x >> (ip - 16) : x << (16 - ip); /* 1.16 fixed point, 1 <= norm < 2 */
    uint32_t m = norm & 0xFFFFu;
    unsigned i = m >> 11;
    uint32_t frac = m & 0x7FFu;
    uint32_t a = table_log2_q16[i];
    uint32_t b = i + 1u == 32u ? 65536u : table_log2_q16[i + 1u];
    return (ip << 16) + (int32_t)(a + (((b - a) * frac) >> 11));
}

/* 10*log10(a/b) in Q8 dB */
int32_t dsp_db_q8(uint32_t power_a, uint32_t power_b)
{
    int32_t l2 = dsp_log2_q16(power_a) - dsp_log2_q16(power_b);
    return (int32_t)(((int64_t)l2 * 771) >> 16); /* 10*log10(2) = 3.0103 = 771/256 */
}

uint32_t goertzel_power(const int16_t *x, size_t n, uint32_t f_hz, uint32_t fs_hz)
{
    uint16_t phase = (uint16_t)((f_hz * 65536u) / fs_hz);
    int32_t coeff = 2 * (int32_t)dsp_cos_q15(phase); /* Q15 */
    int32_t s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t s0 = x[i] + (int32_t)(((int64_t)coeff * s1) >> 15) - s2;
        s2 = s1;
        s1 = s0;
    }
    int64_t p = (int64_t)s1 * s1 + (int64_t)s2 * s2 - (((int64_t)coeff * s1 >> 15) * s2);
    return (uint32_t)((p < 0 ? 0 : p) / (int64_t)(n * n));
}

void stats_reset(running_stats_t *s)
{
    s->n = 0;
    s->mean = s->m2 = 0.0f;
    s->min = INFINITY;
    s->max = -INFINITY;
}

void stats_add(running_stats_t *s, float x)
{
    s->n++;
    float delta = x - s->mean;
    s->mean += delta / (float)s->n;
    s->m2 += delta * (x - s->mean);
    if (x < s->min) {
        s->min = x;
    }
    if (x > s->max) {
        s->max = x;
    }
}

float stats_stddev(const running_stats_t *s)
{
    return s->n > 1u ? sqrtf(s->m2 / (float)(s->n - 1u)) : 0.0f;
}
