/* SPDX-License-Identifier: Apache-2.0 */
/* Settings: a table of named parameters with type, limits and default, kept in RAM and saved as a
 * CRC-protected record (an emulated EEPROM page here; a real product would write flash). */
#include <stdio.h>
#include <string.h>

#include "meter.h"

typedef struct {
    const char *name;
    param_type_t type;
    param_value_t min, max, def;
    const char *unit;
    const char *help;
} param_desc_t;

#define U(v) {.u = (v)}
#define I(v) {.i = (v)}
#define F(v) {.f = (v)}

static const param_desc_t params_desc[PARAM_COUNT] = {
    [PARAM_SAMPLE_PERIOD_MS] = {"period", PT_U32, U(1), U(1000), U(10), "ms", "sampling period"},
    [PARAM_ALARM_HIGH_MV] = {"alarm_hi", PT_I32, I(-5000), I(5000), I(2500), "mV", "upper alarm threshold"},
    [PARAM_ALARM_LOW_MV] = {"alarm_lo", PT_I32, I(-5000), I(5000), I(-2500), "mV", "lower alarm threshold"},
#if defined(FW_LARGE)
    [PARAM_ALARM_DELAY_MS] = {"alarm_delay", PT_U32, U(0), U(60000), U(200), "ms",
                              "time beyond a threshold before the alarm trips"},
#endif
    [PARAM_CAL_GAIN] = {"cal_gain", PT_FLOAT, F(0.5f), F(2.0f), F(1.0f), "", "calibration gain"},
    [PARAM_CAL_OFFSET_MV] = {"cal_offset", PT_FLOAT, F(-500.0f), F(500.0f), F(0.0f), "mV", "calibration offset"},
    [PARAM_NOTCH_HZ] = {"notch", PT_U32, U(0), U(400), U(50), "Hz", "mains notch frequency (0: off)"},
    [PARAM_LOG_LEVEL] = {"log_level", PT_U32, U(0), U(3), U(2), "", "0 error, 1 warn, 2 info, 3 debug"},
    [PARAM_ECHO] = {"echo", PT_BOOL, U(0), U(1), U(1), "", "echo typed characters"},
#if defined(FW_LARGE)
    [PARAM_PID_KP] = {"pid_kp", PT_FLOAT, F(0.0f), F(100.0f), F(0.8f), "", "PID proportional gain"},
    [PARAM_PID_KI] = {"pid_ki", PT_FLOAT, F(0.0f), F(100.0f), F(0.2f), "1/s", "PID integral gain"},
    [PARAM_PID_KD] = {"pid_kd", PT_FLOAT, F(0.0f), F(10.0f), F(0.01f), "s", "PID derivative gain"},
    [PARAM_PID_SETPOINT_MV] = {"pid_sp", PT_FLOAT, F(-5000.0f), F(5000.0f), F(1000.0f), "mV", "PID setpoint"},
#endif
};

#define PARAMS_MAGIC 0x4D545231u /* "MTR1" */

typedef struct {
    uint32_t magic;
    uint16_t version;
    uint16_t count;
    param_value_t values[PARAM_COUNT];
    uint32_t crc;
} params_record_t;

static param_value_t params_value[PARAM_COUNT];
static uint8_t params_eeprom[256] __attribute__((aligned(4)));
static uint32_t params_saves;

_Static_assert(sizeof(params_record_t) <= sizeof params_eeprom, "parameter record too large");

void params_defaults(void)
{
    for (unsigned i = 0; i < PARAM_COUNT; i++) {
        params_value[i] = params_desc[i].def;
    }
}

void params_init(void)
{
    params_defaults();
    if (!params_load()) {
        log_msg(LOG_WARN, "params: no valid record, using defaults");
    }
}

int params_find(const char *name)
{
    for (unsigned i = 0; i < PARAM_COUNT; i++) {
        if (str_casecmp(name, params_desc[i].name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

const char *params_name(param_id_t id)
{
    return id < PARAM_COUNT ? params_desc[id].name : "?";
}

static bool in_range(const param_desc_t *d, param_value_t v)
{
    switch (d->type) {
    case PT_U32:
    case PT_BOOL:
        return v.u >= d->min.u && v.u <= d->max.u;
    case PT_I32:
        return v.i >= d->min.i && v.i <= d->max.i;
    case PT_FLOAT:
        return v.f >= d->min.f && v.f <= d->max.f;
    }
    return false;
}

bool params_set_text(param_id_t id, const char *text)
{
    const param_desc_t *d = &params_desc[id];
    param_value_t v;
    bool ok;
    switch (d->type) {
    case PT_U32:
        ok = parse_u32(text, &v.u);
        break;
    case PT_I32:
        ok = parse_i32(text, &v.i);
        break;
    case PT_FLOAT:
        ok = parse_float(text, &v.f);
        break;
    case PT_BOOL:
        ok = true;
        if (str_casecmp(text, "on") == 0 || str_casecmp(text, "true") == 0 || strcmp(text, "1") == 0) {
            v.u = 1;
        } else if (str_casecmp(text, "off") == 0 || str_casecmp(text, "false") == 0 || strcmp(text, "0") == 0) {
            v.u = 0;
        } else {
            ok = false;
        }
        break;
    default:
        ok = false;
        break;
    }
    if (!ok) {
        con_printf("%s: cannot parse '%s'\n", d->name, text);
        return false;
    }
    if (!in_range(d, v)) {
        con_printf("%s: out of range\n", d->name);
        return false;
    }
    params_value[id] = v;
    log_msg(LOG_INFO, "param %s = %s", d->name, text);
    return true;
}

static void print_value(const param_desc_t *d, param_value_t v)
{
    switch (d->type) {
    case PT_U32:
        con_printf("%lu", (unsigned long)v.u);
        break;
    case PT_I32:
        con_printf("%ld", (long)v.i);
        break;
    case PT_FLOAT:
        con_printf("%.4g", (double)v.f);
        break;
    case PT_BOOL:
        con_printf("%s", v.u ? "on" : "off");
        break;
    }
}

void params_print(param_id_t id)
{
    const param_desc_t *d = &params_desc[id];
    con_printf("%-12s ", d->name);
    print_value(d, params_value[id]);
    con_printf(" %s", d->unit);
    if (params_value[id].u != d->def.u) {
        con_printf(" (default ");
        print_value(d, d->def);
        con_printf(")");
    }
    con_printf("\n");
}

void params_list(void)
{
    for (unsigned i = 0; i < PARAM_COUNT; i++) {
        params_print((param_id_t)i);
        con_printf("             %s, ", params_desc[i].help);
        print_value(&params_desc[i], params_desc[i].min);
        con_printf("..");
        print_value(&params_desc[i], params_desc[i].max);
        con_printf("\n");
    }
    con_printf("%u parameters, %lu saves\n", (unsigned)PARAM_COUNT, (unsigned long)params_saves);
}

uint32_t params_u32(param_id_t id)
{
    return params_value[id].u;
}

int32_t params_i32(param_id_t id)
{
    return params_value[id].i;
}

float params_float(param_id_t id)
{
    return params_value[id].f;
}

bool params_save(void)
{
    params_record_t rec;
    rec.magic = PARAMS_MAGIC;
    rec.version = 1;
    rec.count = PARAM_COUNT;
    memcpy(rec.values, params_value, sizeof rec.values);
    rec.crc = crc32(&rec, offsetof(params_record_t, crc));
    memcpy(params_eeprom, &rec, sizeof rec);
    params_saves++;
    log_msg(LOG_INFO, "params saved (crc %08lx)", (unsigned long)rec.crc);
    return true;
}

bool params_load(void)
{
    params_record_t rec;
    memcpy(&rec, params_eeprom, sizeof rec);
    if (rec.magic != PARAMS_MAGIC || rec.count != PARAM_COUNT) {
        return false;
    }
    if (crc32(&rec, offsetof(params_record_t, crc)) != rec.crc) {
        log_msg(LOG_ERROR, "params: record CRC mismatch");
        return false;
    }
    for (unsigned i = 0; i < PARAM_COUNT; i++) {
        if (!in_range(&params_desc[i], rec.values[i])) {
            log_msg(LOG_WARN, "params: %s out of range, reset", params_desc[i].name);
            rec.values[i] = params_desc[i].def;
        }
    }
    memcpy(params_value, rec.values, sizeof params_value);
    return true;
}
