/* SPDX-License-Identifier: Apache-2.0 */
/* The measurement chain. The "ADC" is simulated (a slow sine plus mains hum plus noise) so that the
 * firmware runs on any board: samples go through the notch, the FIR low-pass and the moving average,
 * get calibrated to millivolts and are compared against the alarm thresholds. */
#include <math.h>
#include <stdio.h>

#include "bsp.h"
#include "meter.h"

#define ADC_FULL_SCALE_MV 3300
#define ADC_BITS 12

static biquad_q14_t notch;
static fir_q15_t lowpass;
static moving_average_t average;
static running_stats_t stats;
static int16_t history[SAMPLE_HISTORY];
static uint16_t history_pos;
static uint32_t sample_count;
static int32_t last_mv;
static uint16_t phase_signal, phase_hum;
static bool enabled;
static bool above_high, below_low;
static int32_t last_raw;
#if defined(FW_FUNC)
static int16_t last_peak;
#endif
#if defined(FW_LARGE)
static uint32_t beyond_since;
static float pid_output;
#endif

void sensor_reset_filters(void)
{
    uint32_t f0 = params_u32(PARAM_NOTCH_HZ);
    uint32_t fs = 1000u / params_u32(PARAM_SAMPLE_PERIOD_MS);
    if (f0 != 0u && 2u * f0 < fs) {
#if defined(FW_LARGE)
        biquad_init_notch(&notch, f0, fs, 50);
#else
        biquad_init_notch(&notch, f0, fs, 30);
#endif
    } else {
        biquad_init_notch(&notch, 0, 1, 10); /* f0 = 0: passes everything but DC... */
        notch.b0 = 16384;                   /* ...so make it a plain pass-through */
        notch.b1 = notch.b2 = notch.a1 = notch.a2 = 0;
    }
    fir_init(&lowpass);
    ma_init(&average);
    stats_reset(&stats);
    above_high = below_low = false;
}

void sensor_init(void)
{
    prng_seed(0xC0FFEEu);
    sensor_reset_filters();
    enabled = false;
}

void sensor_enable(bool on)
{
    enabled = on;
}

bool sensor_measuring(void)
{
    return enabled;
}

static int16_t adc_read(void)
{
    phase_signal = (uint16_t)(phase_signal + 37u);
    phase_hum = (uint16_t)(phase_hum + 3277u); /* 50 Hz at 1 kHz */
    int32_t v = 2048 + (dsp_sin_q15(phase_signal) >> 4) + (dsp_sin_q15(phase_hum) >> 7);
    v += (int32_t)(prng_next() & 0x3Fu) - 32;
    if (v < 0) {
        v = 0;
    } else if (v > (1 << ADC_BITS) - 1) {
        v = (1 << ADC_BITS) - 1;
    }
    last_raw = v;
    return (int16_t)v;
}

static int32_t to_millivolts(int16_t filtered)
{
    float mv = (float)filtered * (float)ADC_FULL_SCALE_MV / (float)(1 << ADC_BITS) - ADC_FULL_SCALE_MV / 2.0f;
    mv = mv * params_float(PARAM_CAL_GAIN) + params_float(PARAM_CAL_OFFSET_MV);
    return (int32_t)lrintf(mv);
}

static void check_levels(int32_t mv, uint32_t now_ms)
{
    int32_t high = params_i32(PARAM_ALARM_HIGH_MV);
    int32_t low = params_i32(PARAM_ALARM_LOW_MV);
#if defined(FW_LARGE)
    bool beyond = mv > high || mv < low;
    if (!beyond) {
        beyond_since = now_ms;
    } else if (now_ms - beyond_since < params_u32(PARAM_ALARM_DELAY_MS)) {
        return;
    }
#else
    (void)now_ms;
#endif
    if (!above_high && mv > high) {
        above_high = true;
        fsm_post(EV_LEVEL_HIGH, mv);
    } else if (above_high && mv < high - ALARM_HYSTERESIS_MV) {
        above_high = false;
        fsm_post(EV_LEVEL_OK, mv);
    }
#if defined(FW_SMALL)
    if (!below_low && mv <= low) {
#else
    if (!below_low && mv < low) {
#endif
        below_low = true;
        fsm_post(EV_LEVEL_LOW, mv);
    } else if (below_low && mv > low + ALARM_HYSTERESIS_MV) {
        below_low = false;
        fsm_post(EV_LEVEL_OK, mv);
    }
}

void sensor_tick(uint32_t now_ms)
{
    if (!enabled) {
        return;
    }
    int16_t raw = adc_read();
    if (raw == 0 || raw == (1 << ADC_BITS) - 1) {
        fsm_post(EV_FAULT, raw); /* rail: open or shorted input */
        return;
    }
    int16_t x = (int16_t)(raw << 3); /* 12 -> 15 bit */
    x = biquad_step(&notch, x);
    x = fir_step(&lowpass, x);
    x = ma_step(&average, x);
#if defined(FW_FUNC)
    last_peak = dsp_peak_hold((int16_t)(x - (2048 << 3)), now_ms);
#endif
    history[history_pos] = x;
    history_pos = (uint16_t)((history_pos + 1u) % SAMPLE_HISTORY);
    sample_count++;
    last_mv = to_millivolts((int16_t)(x >> 3));
    stats_add(&stats, (float)last_mv);
#if defined(FW_LARGE)
    if (fsm_state() == ST_REGULATING) {
        pid_output = pid_step((float)last_mv, (float)params_u32(PARAM_SAMPLE_PERIOD_MS) / 1000.0f);
    }
#endif
    check_levels(last_mv, now_ms);
}

void sensor_calibrate(int32_t reference_mv)
{
    float measured = (float)stats.mean;
    if (stats.n < 16u) {
        log_msg(LOG_WARN, "calibration needs 16 samples, have %lu", (unsigned long)stats.n);
        return;
    }
    float offset = (float)reference_mv - measured * params_float(PARAM_CAL_GAIN);
    char text[16];
    snprintf(text, sizeof text, "%.2f", (double)offset);
    params_set_text(PARAM_CAL_OFFSET_MV, text);
    log_msg(LOG_INFO, "calibrated: measured %.1f mV, reference %ld mV", (double)measured, (long)reference_mv);
}

int32_t sensor_last_mv(void)
{
    return last_mv;
}

void sensor_print_stats(void)
{
    char dur[24];
    con_printf("samples %lu (%s at %lu ms), last raw %ld, last %ld mV\n", (unsigned long)sample_count,
               fmt_duration(sample_count * params_u32(PARAM_SAMPLE_PERIOD_MS), dur, sizeof dur),
               (unsigned long)params_u32(PARAM_SAMPLE_PERIOD_MS), (long)last_raw, (long)last_mv);
    if (stats.n > 0u) {
        con_printf("mean %.2f mV, stddev %.3f mV, min %.1f, max %.1f (n=%lu)\n", (double)stats.mean,
                   (double)stats_stddev(&stats), (double)stats.min, (double)stats.max, (unsigned long)stats.n);
    }
    uint16_t rms = dsp_rms(history, SAMPLE_HISTORY);
    uint32_t hum = goertzel_power(history, SAMPLE_HISTORY, 50, 1000u / params_u32(PARAM_SAMPLE_PERIOD_MS));
    uint32_t total = (uint32_t)rms * rms;
    con_printf("rms %u, 50 Hz residue ", rms);
    con_print_fixed(dsp_db_q8(hum + 1u, total + 1u), 8, 1);
    con_printf(" dB, filter %u taps\n", fir_taps());
#if defined(FW_FUNC)
    con_printf("peak %d (held 2 s)\n", last_peak);
#endif
#if defined(FW_LARGE)
    con_printf("pid output %.3f\n", (double)pid_output);
#endif
}

void sensor_scope(unsigned columns)
{
    enum { ROWS = 12 };
    if (columns > SAMPLE_HISTORY) {
        columns = SAMPLE_HISTORY;
    }
    int16_t lo = INT16_MAX, hi = INT16_MIN;
    for (unsigned i = 0; i < columns; i++) {
        int16_t v = history[(history_pos + SAMPLE_HISTORY - columns + i) % SAMPLE_HISTORY];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    int32_t span = (int32_t)hi - lo + 1;
    char line[SAMPLE_HISTORY + 3];
    for (int row = ROWS - 1; row >= 0; row--) {
        unsigned n = 0;
        line[n++] = row == ROWS - 1 ? '^' : '|';
        for (unsigned i = 0; i < columns; i++) {
            int16_t v = history[(history_pos + SAMPLE_HISTORY - columns + i) % SAMPLE_HISTORY];
            int32_t r = ((int32_t)(v - lo) * ROWS) / span;
#if defined(FW_LARGE)
            line[n++] = r == row ? '*' : (r > row ? ':' : ' ');
#else
            line[n++] = r == row ? '*' : ' ';
#endif
        }
        line[n++] = '\n';
        con_write(line, n);
    }
    con_printf("+ %u samples, %d..%d\n", columns, lo, hi);
}

/* NTC input: piecewise-linear interpolation in the generated table (ADC falls as temperature rises) */
int32_t sensor_ntc_deci_celsius(int32_t adc)
{
    const unsigned n = sizeof table_ntc / sizeof table_ntc[0];
    if (adc >= table_ntc[0].adc) {
        return table_ntc[0].deci_celsius;
    }
    if (adc <= table_ntc[n - 1u].adc) {
        return table_ntc[n - 1u].deci_celsius;
    }
    unsigned lo = 0, hi = n - 1u;
    while (hi - lo > 1u) {
        unsigned mid = (lo + hi) / 2u;
        if (table_ntc[mid].adc > adc) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    int32_t a0 = table_ntc[lo].adc, a1 = table_ntc[hi].adc;
    int32_t t0 = table_ntc[lo].deci_celsius, t1 = table_ntc[hi].deci_celsius;
    return t0 + (t1 - t0) * (a0 - adc) / (a0 - a1);
}
