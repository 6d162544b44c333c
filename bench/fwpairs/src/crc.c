/* SPDX-License-Identifier: Apache-2.0 */
/* Checksums: CRC-8 (poly 0x07), CRC-16/CCITT, CRC-32 (IEEE 802.3), Adler-32 and FNV-1a. */
#include "meter.h"

uint8_t crc8(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint8_t crc = 0;
    while (len--) {
        crc ^= *p++;
        for (int i = 0; i < 8; i++) {
            crc = (uint8_t)((crc & 0x80u) ? ((unsigned)crc << 1) ^ 0x07u : (unsigned)crc << 1);
        }
    }
    return crc;
}

uint16_t crc16_ccitt(uint16_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len--) {
        crc = (uint16_t)((crc << 8) ^ table_crc16[((crc >> 8) ^ *p++) & 0xFFu]);
    }
    return crc;
}

uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    while (len--) {
        crc = (crc >> 8) ^ table_crc32[(crc ^ *p++) & 0xFFu];
    }
    return ~crc;
}

uint32_t crc32(const void *data, size_t len)
{
    return crc32_update(0u, data, len);
}

uint32_t adler32(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t a = 1, b = 0;
    while (len > 0u) {
        size_t block = len < 5552u ? len : 5552u; /* largest n with no 32-bit overflow */
        len -= block;
        while (block--) {
            a += *p++;
            b += a;
        }
        a %= 65521u;
        b %= 65521u;
    }
    return (b << 16) | a;
}

uint32_t fnv1a32(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t h = 2166136261u;
    while (len--) {
        h ^= *p++;
        h *= 16777619u;
    }
    return h;
}
