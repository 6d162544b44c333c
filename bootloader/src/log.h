/* SPDX-License-Identifier: Apache-2.0 */
/* Console messages of the bootloader: "[  s.mss] text" lines as the original's boot log, and the
 * 32-column progress bar. A small formatter instead of printf keeps newlib's stdio out of the image. */
#ifndef SPB_LOG_H
#define SPB_LOG_H

#include <stdint.h>

/* Supported conversions: %s %u %x %X with optional zero flag and width (e.g. %08X), %% and %V (a u32
 * firmware version printed as major.minor.patch). Nothing prints signed numbers or single characters:
 * %d and %c were dropped for flash; an unknown conversion is printed verbatim. */
void log_printf(const char *fmt, ...);

/* One timestamped line; a newline is added. */
void log_line(const char *fmt, ...);

/* "[................                ] 50%" on its own line. */
/* Prints the bar when percent reaches another eighth (and at 100 %): callers report every step. */
void log_progress(uint32_t percent);

/* part * scale / whole without 64-bit arithmetic (no libgcc 64-bit division in the image): exact while
 * part * scale fits in 32 bits, else both sides are halved first. For progress figures; scale <= 255, part
 * <= whole; 0 when whole is 0. */
uint32_t log_share(uint32_t part, uint32_t whole, uint32_t scale);

/* Hex dump of n bytes without separators. */
void log_hex(const uint8_t *data, uint32_t n);

#endif
