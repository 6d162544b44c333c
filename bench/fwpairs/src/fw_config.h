/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Release configuration of the bench firmware "meter". One source tree, built in variants that model
 * what changes between two releases of a product (bench/patch_sizes.py diffs base against each):
 *   (none)     base release 1.4.0
 *   FW_SMALL   1.4.1: version string, one constant and one line in a function body
 *   FW_FUNC    1.5.0: a new function in the middle of dsp.c, called from sensor.c
 *   FW_LARGE   2.0.0: several modules changed, pid.c added, ring buffer and parameter refactor
 * The "opt" variant is the base source built with -O2 instead of -Os.
 */
#ifndef FW_CONFIG_H
#define FW_CONFIG_H

#define FW_NAME "meter"

#if defined(FW_LARGE)
#define FW_VERSION "2.0.0"
#elif defined(FW_FUNC)
#define FW_VERSION "1.5.0"
#elif defined(FW_SMALL)
#define FW_VERSION "1.4.1"
#else
#define FW_VERSION "1.4.0"
#endif

/* 1.4.1: more hysteresis on the alarm comparator (relays chattered near the threshold). */
#if defined(FW_SMALL)
#define ALARM_HYSTERESIS_MV 40
#else
#define ALARM_HYSTERESIS_MV 25
#endif

#define SAMPLE_HISTORY   128u  /* samples kept for the scope command */
#define SHELL_LINE_MAX   80u
#define SHELL_HISTORY    4u
#define SHELL_MAX_ARGS   8u
#define LOG_BUFFER_SIZE  1024u
#define EVENT_QUEUE_LEN  16u

#if defined(FW_LARGE)
#define MOVING_AVERAGE_LOG2 5u  /* 32 samples */
#else
#define MOVING_AVERAGE_LOG2 4u  /* 16 samples */
#endif

#endif
