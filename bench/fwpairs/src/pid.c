/* SPDX-License-Identifier: Apache-2.0 */
/* 2.0: PID regulator for the output stage (float, anti-windup by clamping the integral). */
#include "meter.h"

#if !defined(FW_LARGE)
#error "pid.c belongs to release 2.0 (FW_LARGE)"
#endif

#define PID_OUT_MIN 0.0f
#define PID_OUT_MAX 100.0f

static float integral, last_error, last_output;
static bool first;
static uint32_t steps, saturated;

void pid_reset(void)
{
    integral = 0.0f;
    last_error = 0.0f;
    last_output = 0.0f;
    first = true;
    steps = saturated = 0;
}

float pid_step(float measured, float dt_s)
{
    float kp = params_float(PARAM_PID_KP);
    float ki = params_float(PARAM_PID_KI);
    float kd = params_float(PARAM_PID_KD);
    float error = params_float(PARAM_PID_SETPOINT_MV) - measured;
    float derivative = first || dt_s <= 0.0f ? 0.0f : (error - last_error) / dt_s;
    first = false;
    float candidate = integral + error * dt_s;
    float out = kp * error + ki * candidate + kd * derivative;
    if (out > PID_OUT_MAX) {
        out = PID_OUT_MAX;
        saturated++;
    } else if (out < PID_OUT_MIN) {
        out = PID_OUT_MIN;
        saturated++;
    } else {
        integral = candidate; /* integrate only while not saturated */
    }
    last_error = error;
    last_output = out;
    steps++;
    return out;
}

void pid_print(void)
{
    con_printf("pid: kp %.3f ki %.3f kd %.3f sp %.1f mV\n", (double)params_float(PARAM_PID_KP),
               (double)params_float(PARAM_PID_KI), (double)params_float(PARAM_PID_KD),
               (double)params_float(PARAM_PID_SETPOINT_MV));
    con_printf("     out %.2f %%, integral %.3f, error %.2f, %lu steps, %lu saturated\n", (double)last_output,
               (double)integral, (double)last_error, (unsigned long)steps, (unsigned long)saturated);
}
