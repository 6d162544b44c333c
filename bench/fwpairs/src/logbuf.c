/* SPDX-License-Identifier: Apache-2.0 */
/* Event log: timestamped text lines in a ring buffer; the oldest lines go when it fills up. */
#include <stdio.h>

#include "bsp.h"
#include "meter.h"

static uint8_t log_storage[LOG_BUFFER_SIZE];
static ringbuf_t log_ring;
static uint32_t log_lines, log_lost;

static const char log_letters[] = "EWID";

void log_init(void)
{
    rb_init(&log_ring, log_storage, (uint16_t)sizeof log_storage);
    log_lines = 0;
    log_lost = 0;
}

static void drop_oldest_line(void)
{
    int c;
    do {
        c = rb_get(&log_ring);
    } while (c >= 0 && c != '\n');
    log_lost++;
}

void log_msg(int level, const char *fmt, ...)
{
    if (level > (int)params_u32(PARAM_LOG_LEVEL)) {
        return;
    }
    char line[96];
    uint32_t now = bsp_millis();
#if defined(FW_LARGE)
    int n = snprintf(line, sizeof line, "%6lu.%03lu %c ", (unsigned long)(now / 1000u),
                     (unsigned long)(now % 1000u), log_letters[level & 3]);
#else
    int n = snprintf(line, sizeof line, "[%7lu.%03lu] %c: ", (unsigned long)(now / 1000u),
                     (unsigned long)(now % 1000u), log_letters[level & 3]);
#endif
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2) {
        n = (int)sizeof line - 2;
    }
    line[n++] = '\n';
    while (rb_space(&log_ring) < (uint16_t)n) {
        drop_oldest_line();
    }
    rb_write(&log_ring, (const uint8_t *)line, (uint16_t)n);
    log_lines++;
}

void log_dump(bool clear)
{
    uint16_t count = rb_count(&log_ring);
    char chunk[32];
    uint16_t pos = 0;
    while (pos < count) {
        size_t n = 0;
        while (n < sizeof chunk && pos < count) {
            chunk[n++] = (char)rb_peek(&log_ring, pos++);
        }
        con_write(chunk, n);
    }
    con_printf("-- %lu lines logged, %lu dropped, ring high water %u/%u\n", (unsigned long)log_lines,
               (unsigned long)log_lost, log_ring.high_water, log_ring.size);
    if (clear) {
        rb_clear(&log_ring);
        log_lost = 0;
    }
}

uint32_t log_dropped(void)
{
    return log_lost;
}
