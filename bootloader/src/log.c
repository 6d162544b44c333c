/* SPDX-License-Identifier: Apache-2.0 */
#include "log.h"

#include <stdarg.h>
#include <stddef.h>

#include "port.h"

static void put(const char *s, size_t n)
{
    port_uart_write((const uint8_t *)s, n);
}

static void put_unsigned(uint32_t value, unsigned base, int upper, unsigned width, char pad)
{
    char buf[12];
    unsigned n = 0;
    do {
        unsigned d = value % base; /* digits computed: no two 16-byte digit tables */
        buf[n++] = (char)(d < 10u ? '0' + d : (upper ? 'A' - 10 : 'a' - 10) + d);
        value /= base;
    } while (value != 0u && n < sizeof buf);
    while (width > n) {
        put(&pad, 1);
        width--;
    }
    while (n > 0u) {
        put(&buf[--n], 1);
    }
}

static void vformat(const char *fmt, va_list ap)
{
    while (*fmt != '\0') {
        const char *run = fmt;
        while (*fmt != '\0' && *fmt != '%') {
            fmt++;
        }
        if (fmt != run) {
            put(run, (size_t)(fmt - run));
        }
        if (*fmt == '\0') {
            break;
        }
        fmt++; /* '%' */
        char pad = ' ';
        unsigned width = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9') {
            width = width * 10u + (unsigned)(*fmt++ - '0');
        }
        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            size_t n = 0;
            while (s[n] != '\0') {
                n++;
            }
            put(s, n);
            break;
        }
        case 'u':
            put_unsigned(va_arg(ap, uint32_t), 10, 0, width, pad);
            break;
        case 'x':
        case 'X':
            put_unsigned(va_arg(ap, uint32_t), 16, *fmt == 'X', width, pad);
            break;
        case 'V': {
            uint32_t v = va_arg(ap, uint32_t);
            put_unsigned(v >> 24, 10, 0, 0, ' ');
            put(".", 1);
            put_unsigned((v >> 8) & 0xFFFFu, 10, 0, 0, ' ');
            put(".", 1);
            put_unsigned(v & 0xFFu, 10, 0, 0, ' ');
            break;
        }
        case '%':
            put("%", 1);
            break;
        default: /* unknown conversion: print it verbatim rather than guess an argument */
            put(fmt - 1, 2);
            break;
        }
        if (*fmt != '\0') {
            fmt++;
        }
    }
}

void log_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(fmt, ap);
    va_end(ap);
}

static void timestamp(void)
{
    uint32_t ms = port_millis();
    log_printf("[%3u.%03u] ", ms / 1000u, ms % 1000u);
}

void log_line(const char *fmt, ...)
{
    va_list ap;
    timestamp();
    va_start(ap, fmt);
    vformat(fmt, ap);
    va_end(ap);
    put("\r\n", 2);
}

void log_progress(uint32_t percent)
{
    static uint32_t shown = 0xFFu; /* in steps of 1/8: a bar per step, and 100 % always */
    if (percent / 12u == shown && percent < 100u) {
        return;
    }
    shown = percent / 12u;
    char bar[34];
    uint32_t dots = percent >= 100u ? 32u : percent * 32u / 100u;
    bar[0] = '[';
    for (uint32_t i = 0; i < 32u; i++) {
        bar[1u + i] = i < dots ? '.' : ' ';
    }
    bar[33] = ']';
    put(bar, sizeof bar);
    log_printf(" %u%%\r\n", percent > 100u ? 100u : percent);
}

uint32_t log_share(uint32_t part, uint32_t whole, uint32_t scale)
{
    while (whole > 0x00FFFFFFu) {
        part >>= 1;
        whole >>= 1;
    }
    return whole == 0u ? 0u : part * scale / whole;
}

void log_hex(const uint8_t *data, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        put_unsigned(data[i], 16, 0, 2, '0');
    }
}
