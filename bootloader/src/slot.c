/* SPDX-License-Identifier: Apache-2.0 */
#include "slot.h"

#include <string.h>

#include "flash_geom.h"
#include "port.h"

/* External NOR flash erases to 0xFF whatever the internal flash does (0x00 on STM32L0). */
static uint8_t erased_at(uint32_t addr)
{
#if defined(SPB_EXT_FLASH_PRESENT)
    if (addr >= SPB_EXT_FLASH_BASE && addr - SPB_EXT_FLASH_BASE < SPB_EXT_FLASH_SIZE) {
        return 0xFFu;
    }
#else
    (void)addr;
#endif
    return SPB_FLASH_ERASED_VALUE;
}

uint32_t slot_base(slot_id_t slot)
{
    return slot == SLOT0 ? SPB_SLOT0_ADDR : SPB_SLOT1_ADDR;
}

uint32_t slot_image_address(slot_id_t slot, uint32_t segoff, uint32_t offset)
{
#if defined(SPB_SLOT0_EXT_ADDR)
    if (slot == SLOT0 && segoff != 0u && offset >= segoff) {
        return SPB_SLOT0_EXT_ADDR + (offset - segoff);
    }
#else
    (void)segoff;
#endif
    return slot_base(slot) + SPB_VECTOR_SIZE + offset;
}

int slot_read_image(slot_id_t slot, uint32_t segoff, uint32_t offset, void *dst, uint32_t len)
{
    uint8_t *out = dst;
    while (len > 0u) {
        uint32_t n = len;
        if (slot == SLOT0 && segoff != 0u && offset < segoff && segoff - offset < n) {
            n = segoff - offset; /* the rest continues in the second segment */
        }
        int r = port_flash_read(slot_image_address(slot, segoff, offset), out, n);
        if (r != 0) {
            return r;
        }
        offset += n;
        out += n;
        len -= n;
    }
    return 0;
}

bool slot_image_fits(slot_id_t slot, uint32_t segoff, uint32_t size)
{
    if (slot == SLOT1) {
        return SPB_SLOT1_SIZE >= SPB_VECTOR_SIZE && size <= SPB_SLOT1_SIZE - SPB_VECTOR_SIZE;
    }
    uint32_t internal = SPB_SLOT0_SIZE - SPB_VECTOR_SIZE;
#if defined(SPB_SLOT0_EXT_ADDR)
    if (segoff != 0u) {
        return segoff <= internal && segoff <= size && size - segoff <= SPB_SLOT0_EXT_SIZE;
    }
#else
    if (segoff != 0u) {
        return false; /* a MultiSegment image on a board without the second segment */
    }
#endif
    return size <= internal;
}

/* Start of the erase unit containing addr, or addr itself if it lies in no known unit. */
static uint32_t unit_start(uint32_t addr, uint32_t *size)
{
#if defined(SPB_EXT_FLASH_PRESENT)
    if (addr >= SPB_EXT_FLASH_BASE && addr - SPB_EXT_FLASH_BASE < SPB_EXT_FLASH_SIZE) {
        *size = SPB_EXT_FLASH_SECTOR_SIZE;
        return addr - (addr - SPB_EXT_FLASH_BASE) % SPB_EXT_FLASH_SECTOR_SIZE;
    }
#endif
    uint32_t start = addr;
    if (spb_sector_find(addr, &start, size) < 0) {
        *size = 0;
        return addr;
    }
    return start;
}

uint32_t slot_unit_end(uint32_t addr)
{
    uint32_t size = 0;
    uint32_t start = unit_start(addr, &size);
    return size == 0u ? addr : start + size;
}

int slot_erase_range(uint32_t addr, uint32_t len, void (*progress)(uint32_t done, uint32_t total))
{
    uint32_t end = addr + len;
    uint32_t size = 0;
    uint32_t unit = unit_start(addr, &size);
    while (unit < end) {
        if (size == 0u) {
            return -1; /* outside every flash region the board describes */
        }
        int rc = port_flash_erase(unit);
        if (rc != 0) {
            return rc;
        }
        unit += size;
        if (progress != NULL) {
            progress(unit - addr < len ? unit - addr : len, len);
        }
        if (unit < end) {
            unit = unit_start(unit, &size);
        }
    }
    return 0;
}

bool slot_is_erased(uint32_t addr, uint32_t len)
{
    uint8_t chunk[32];
    while (len > 0u) {
        uint32_t n = len < sizeof chunk ? len : (uint32_t)sizeof chunk;
        if (port_flash_read(addr, chunk, n) != 0) {
            return false;
        }
        uint8_t erased = erased_at(addr);
        for (uint32_t i = 0; i < n; i++) {
            if (chunk[i] != erased) {
                return false;
            }
        }
        addr += n;
        len -= n;
    }
    return true;
}

uint32_t slot_fnv1a(uint32_t h, const uint8_t *p, uint32_t n)
{
    while (n-- > 0u) {
        h = (h ^ *p++) * 0x01000193u;
    }
    return h;
}

bool slot_marker_is_set(uint32_t offset)
{
    return !slot_is_erased(SPB_SLOT1_ADDR + offset, SLOT_MARK_SIZE);
}

bool slot_marker_equals(uint32_t offset, const uint8_t value[SLOT_MARK_SIZE])
{
    uint8_t marker[SLOT_MARK_SIZE];
    return port_flash_read(SPB_SLOT1_ADDR + offset, marker, sizeof marker) == 0 &&
           memcmp(marker, value, sizeof marker) == 0;
}

int slot_marker_write(uint32_t offset, const uint8_t value[SLOT_MARK_SIZE])
{
    /* One program call: on a power cut the marker is either untouched or (partly) set. */
    return port_flash_write(SPB_SLOT1_ADDR + offset, value, SLOT_MARK_SIZE);
}

void slot_writer_init(slot_writer_t *w, uint32_t start, uint32_t limit, uint32_t erased_until)
{
    w->address = start;
    w->erased_until = erased_until;
    w->limit = limit;
    w->fill = 0;
}

static int program_unit(slot_writer_t *w)
{
    if (w->address >= w->limit || w->limit - w->address < SPB_FLASH_WRITE_SIZE) {
        return -1;
    }
    while (w->erased_until < w->address + SPB_FLASH_WRITE_SIZE) {
        uint32_t size = 0;
        uint32_t unit = unit_start(w->erased_until, &size);
        if (size == 0u) {
            return -1;
        }
        int rc = port_flash_erase(unit);
        if (rc != 0) {
            return rc;
        }
        w->erased_until = unit + size;
    }
    int rc = port_flash_write(w->address, w->buffer, SPB_FLASH_WRITE_SIZE);
    if (rc == 0) {
        w->address += SPB_FLASH_WRITE_SIZE;
        w->fill = 0;
    }
    return rc;
}

int slot_writer_put(slot_writer_t *w, const uint8_t *data, uint32_t len)
{
    while (len > 0u) {
        uint32_t room = SPB_FLASH_WRITE_SIZE - w->fill;
        uint32_t n = len < room ? len : room;
        memcpy(&w->buffer[w->fill], data, n);
        w->fill = (uint8_t)(w->fill + n);
        data += n;
        len -= n;
        if (w->fill == SPB_FLASH_WRITE_SIZE) {
            int rc = program_unit(w);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

int slot_writer_flush(slot_writer_t *w)
{
    if (w->fill == 0u) {
        return 0;
    }
    memset(&w->buffer[w->fill], erased_at(w->address), SPB_FLASH_WRITE_SIZE - w->fill);
    return program_unit(w);
}
