/* SPDX-License-Identifier: Apache-2.0 */
/* Console output: printf-style formatting (newlib-nano, with floats) on top of the BSP UART. */
#include <stdio.h>
#include <string.h>

#include "bsp.h"
#include "meter.h"

static char con_line[192];

void con_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) {
            bsp_putc('\r');
        }
        bsp_putc(s[i]);
    }
}

int con_vprintf(const char *fmt, va_list ap)
{
    int n = vsnprintf(con_line, sizeof con_line, fmt, ap);
    if (n < 0) {
        return n;
    }
    size_t len = (size_t)n < sizeof con_line ? (size_t)n : sizeof con_line - 1u;
    con_write(con_line, len);
    if ((size_t)n >= sizeof con_line) {
        bsp_puts("~\r\n"); /* truncated */
    }
    return n;
}

int con_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = con_vprintf(fmt, ap);
    va_end(ap);
    return n;
}

void con_hexdump(uint32_t address, const void *data, size_t len)
{
    const uint8_t *p = data;
    char ascii[17];
    for (size_t row = 0; row < len; row += 16u) {
        con_printf("%08lx ", (unsigned long)(address + row));
        for (size_t i = 0; i < 16u; i++) {
            if (row + i < len) {
                uint8_t b = p[row + i];
                con_printf("%s%02x", i == 8u ? "  " : " ", b);
                ascii[i] = (b >= 0x20u && b < 0x7Fu) ? (char)b : '.';
            } else {
                con_printf("%s   ", i == 8u ? "  " : "");
                ascii[i] = ' ';
            }
        }
        ascii[16] = '\0';
        con_printf("  |%s|\n", ascii);
    }
}

void con_print_fixed(int32_t value, unsigned frac_bits, unsigned decimals)
{
    uint32_t mag = value < 0 ? (uint32_t)(-(value + 1)) + 1u : (uint32_t)value;
    uint32_t ip = mag >> frac_bits;
    uint32_t frac = mag & ((1u << frac_bits) - 1u);
    uint32_t scale = 1;
    for (unsigned i = 0; i < decimals; i++) {
        scale *= 10u;
    }
    uint32_t fd = (uint32_t)(((uint64_t)frac * scale + (1u << (frac_bits - 1u))) >> frac_bits);
    if (fd >= scale) {
        ip++;
        fd -= scale;
    }
    if (decimals == 0u) {
        con_printf("%s%lu", value < 0 ? "-" : "", (unsigned long)ip);
    } else {
        con_printf("%s%lu.%0*lu", value < 0 ? "-" : "", (unsigned long)ip, (int)decimals, (unsigned long)fd);
    }
}

const char *fmt_duration(uint32_t ms, char *buf, size_t size)
{
    uint32_t s = ms / 1000u;
    uint32_t days = s / 86400u;
    s %= 86400u;
    if (days != 0u) {
        snprintf(buf, size, "%lud %02lu:%02lu:%02lu", (unsigned long)days, (unsigned long)(s / 3600u),
                 (unsigned long)(s / 60u % 60u), (unsigned long)(s % 60u));
    } else {
        snprintf(buf, size, "%02lu:%02lu:%02lu.%03lu", (unsigned long)(s / 3600u), (unsigned long)(s / 60u % 60u),
                 (unsigned long)(s % 60u), (unsigned long)(ms % 1000u));
    }
    return buf;
}

const char *fmt_bytes(uint32_t bytes, char *buf, size_t size)
{
    if (bytes < 1024u) {
        snprintf(buf, size, "%lu B", (unsigned long)bytes);
    } else if (bytes < 1024u * 1024u) {
        snprintf(buf, size, "%.1f KiB", (double)bytes / 1024.0);
    } else {
        snprintf(buf, size, "%.2f MiB", (double)bytes / (1024.0 * 1024.0));
    }
    return buf;
}
