/* SPDX-License-Identifier: Apache-2.0 */
/* The measurement controller: a table-driven state machine fed by an event queue. Sensor thresholds,
 * shell commands and timeouts post events; each transition may run an action, and every state has
 * an optional timeout that posts EV_TIMEOUT. */
#include "bsp.h"
#include "meter.h"

typedef void (*fsm_action_t)(int32_t arg);

typedef struct {
    uint8_t state;
    uint8_t event;
    uint8_t next;
    fsm_action_t action;
} fsm_transition_t;

typedef struct {
    const char *name;
    uint32_t timeout_ms; /* 0: none */
    void (*on_entry)(void);
    void (*on_exit)(void);
} fsm_state_desc_t;

typedef struct {
    uint8_t event;
    int32_t arg;
} fsm_queued_t;

static fsm_queued_t queue[EVENT_QUEUE_LEN];
static uint8_t q_head, q_tail, q_count, q_high;
static uint32_t q_overflows;
static fsm_state_t current;
static uint32_t entered_at, transitions;
static int32_t alarm_level_mv;
static uint32_t alarm_count;

static void entry_idle(void)
{
    sensor_enable(false);
}

static void entry_measuring(void)
{
    sensor_reset_filters();
    sensor_enable(true);
}

static void entry_calibrating(void)
{
    sensor_enable(true);
    log_msg(LOG_INFO, "calibrating, apply the reference");
}

static void entry_alarm(void)
{
    alarm_count++;
    log_msg(LOG_WARN, "ALARM %ld mV (#%lu)", (long)alarm_level_mv, (unsigned long)alarm_count);
}

static void exit_alarm(void)
{
    log_msg(LOG_INFO, "alarm cleared after %lu ms", (unsigned long)(bsp_millis() - entered_at));
}

static void entry_fault(void)
{
    sensor_enable(false);
    log_msg(LOG_ERROR, "FAULT: measurement stopped");
}

#if defined(FW_LARGE)
static void entry_regulating(void)
{
    pid_reset();
    sensor_enable(true);
    log_msg(LOG_INFO, "regulating to %.1f mV", (double)params_float(PARAM_PID_SETPOINT_MV));
}
#endif

static const fsm_state_desc_t states[ST_COUNT] = {
    [ST_BOOT] = {"boot", 100, NULL, NULL},
    [ST_IDLE] = {"idle", 0, entry_idle, NULL},
    [ST_ARMED] = {"armed", 30000, NULL, NULL},
    [ST_MEASURING] = {"measuring", 0, entry_measuring, NULL},
    [ST_CALIBRATING] = {"calibrating", 5000, entry_calibrating, NULL},
    [ST_ALARM] = {"alarm", 0, entry_alarm, exit_alarm},
#if defined(FW_LARGE)
    [ST_REGULATING] = {"regulating", 0, entry_regulating, NULL},
#endif
    [ST_FAULT] = {"fault", 0, entry_fault, NULL},
};

static const char *const event_names[EV_COUNT] = {
    "none", "arm", "start", "stop", "calibrate", "cal_done", "level_high", "level_low", "level_ok",
    "timeout", "fault", "clear",
#if defined(FW_LARGE)
    "regulate",
#endif
};

static void act_log_start(int32_t arg)
{
    (void)arg;
    log_msg(LOG_INFO, "measurement started, period %lu ms", (unsigned long)params_u32(PARAM_SAMPLE_PERIOD_MS));
}

static void act_set_alarm(int32_t arg)
{
    alarm_level_mv = arg;
}

static void act_cal_done(int32_t arg)
{
    sensor_calibrate(arg);
}

static void act_cal_timeout(int32_t arg)
{
    (void)arg;
    log_msg(LOG_WARN, "calibration timed out, keeping the old values");
}

static void act_arm_timeout(int32_t arg)
{
    (void)arg;
    log_msg(LOG_INFO, "not started within 30 s, disarmed");
}

static const fsm_transition_t transitions_table[] = {
    {ST_BOOT, EV_TIMEOUT, ST_IDLE, NULL},
    {ST_IDLE, EV_ARM, ST_ARMED, NULL},
    {ST_IDLE, EV_CALIBRATE, ST_CALIBRATING, NULL},
    {ST_ARMED, EV_START, ST_MEASURING, act_log_start},
    {ST_ARMED, EV_STOP, ST_IDLE, NULL},
    {ST_ARMED, EV_TIMEOUT, ST_IDLE, act_arm_timeout},
    {ST_MEASURING, EV_STOP, ST_IDLE, NULL},
    {ST_MEASURING, EV_LEVEL_HIGH, ST_ALARM, act_set_alarm},
    {ST_MEASURING, EV_LEVEL_LOW, ST_ALARM, act_set_alarm},
#if defined(FW_LARGE)
    {ST_MEASURING, EV_REGULATE, ST_REGULATING, NULL},
    {ST_REGULATING, EV_STOP, ST_MEASURING, NULL},
    {ST_REGULATING, EV_LEVEL_HIGH, ST_ALARM, act_set_alarm},
    {ST_REGULATING, EV_LEVEL_LOW, ST_ALARM, act_set_alarm},
#endif
    {ST_CALIBRATING, EV_CAL_DONE, ST_IDLE, act_cal_done},
    {ST_CALIBRATING, EV_TIMEOUT, ST_IDLE, act_cal_timeout},
    {ST_CALIBRATING, EV_STOP, ST_IDLE, NULL},
    {ST_ALARM, EV_LEVEL_OK, ST_MEASURING, NULL},
    {ST_ALARM, EV_CLEAR, ST_MEASURING, NULL},
    {ST_ALARM, EV_STOP, ST_IDLE, NULL},
    {ST_FAULT, EV_CLEAR, ST_IDLE, NULL},
};

void fsm_init(void)
{
    q_head = q_tail = q_count = 0;
    current = ST_BOOT;
    entered_at = bsp_millis();
    transitions = 0;
}

bool fsm_post(fsm_event_t ev, int32_t arg)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    bool ok = q_count < EVENT_QUEUE_LEN;
    if (ok) {
        queue[q_head].event = (uint8_t)ev;
        queue[q_head].arg = arg;
        q_head = (uint8_t)((q_head + 1u) % EVENT_QUEUE_LEN);
        q_count++;
        if (q_count > q_high) {
            q_high = q_count;
        }
    } else {
        q_overflows++;
    }
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
    return ok;
}

static bool fsm_take(fsm_queued_t *out)
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    bool ok = q_count > 0u;
    if (ok) {
        *out = queue[q_tail];
        q_tail = (uint8_t)((q_tail + 1u) % EVENT_QUEUE_LEN);
        q_count--;
    }
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
    return ok;
}

static void dispatch(fsm_event_t ev, int32_t arg, uint32_t now)
{
    if (ev == EV_FAULT && current != ST_FAULT) {
        if (states[current].on_exit != NULL) {
            states[current].on_exit();
        }
        current = ST_FAULT;
        entered_at = now;
        transitions++;
        states[ST_FAULT].on_entry();
        return;
    }
    for (unsigned i = 0; i < sizeof transitions_table / sizeof transitions_table[0]; i++) {
        const fsm_transition_t *t = &transitions_table[i];
        if (t->state != current || t->event != ev) {
            continue;
        }
        log_msg(LOG_DEBUG, "%s --%s--> %s", states[current].name, event_names[ev], states[t->next].name);
        if (states[current].on_exit != NULL && t->next != current) {
            states[current].on_exit();
        }
        if (t->action != NULL) {
            t->action(arg);
        }
        if (t->next != current) {
            current = (fsm_state_t)t->next;
            entered_at = now;
            transitions++;
            if (states[current].on_entry != NULL) {
                states[current].on_entry();
            }
        }
        return;
    }
    log_msg(LOG_DEBUG, "%s: event %s ignored", states[current].name, event_names[ev]);
}

void fsm_poll(uint32_t now_ms)
{
    fsm_queued_t item;
    while (fsm_take(&item)) {
        dispatch((fsm_event_t)item.event, item.arg, now_ms);
    }
    uint32_t timeout = states[current].timeout_ms;
    if (timeout != 0u && now_ms - entered_at >= timeout) {
        dispatch(EV_TIMEOUT, 0, now_ms);
    }
}

fsm_state_t fsm_state(void)
{
    return current;
}

const char *fsm_state_name(fsm_state_t s)
{
    return s < ST_COUNT ? states[s].name : "?";
}

const char *fsm_event_name(fsm_event_t e)
{
    return e < EV_COUNT ? event_names[e] : "?";
}

void fsm_print_status(void)
{
    char dur[24];
    con_printf("state %s for %s, %lu transitions\n", states[current].name,
               fmt_duration(bsp_millis() - entered_at, dur, sizeof dur), (unsigned long)transitions);
    con_printf("queue %u/%u (high water %u), %lu overflows, %lu alarms\n", q_count, (unsigned)EVENT_QUEUE_LEN,
               q_high, (unsigned long)q_overflows, (unsigned long)alarm_count);
}
