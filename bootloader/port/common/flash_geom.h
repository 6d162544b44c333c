/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Erase-unit lookup over the board's SPB_FLASH_SECTOR_GROUPS ({start, size, count} runs, ascending),
 * shared by the ports. Include after spb_board.h.
 */
#ifndef SPB_FLASH_GEOM_H
#define SPB_FLASH_GEOM_H

#include <stdint.h>

typedef struct {
    uint32_t start;
    uint32_t size;
    uint32_t count;
} spb_sector_group_t;

static const spb_sector_group_t spb_sector_groups[SPB_FLASH_SECTOR_GROUP_COUNT] = SPB_FLASH_SECTOR_GROUPS;

/* The erase unit containing addr: its index (0-based over the whole flash), first address and size;
 * -1 if addr lies in no unit. */
static inline int32_t spb_sector_find(uint32_t addr, uint32_t *start, uint32_t *size)
{
    int32_t index = 0;
    for (uint32_t g = 0; g < (uint32_t)SPB_FLASH_SECTOR_GROUP_COUNT; g++) {
        const spb_sector_group_t *grp = &spb_sector_groups[g];
        if (addr >= grp->start && addr - grp->start < grp->size * grp->count) {
            uint32_t off = addr - grp->start;
            *start = addr - off % grp->size;
            *size = grp->size;
            return index + (int32_t)(off / grp->size);
        }
        index += (int32_t)grp->count;
    }
    return -1;
}

/* Index of the erase unit that starts exactly at addr; -1 if addr is not the first byte of an erase
 * unit. *size receives the unit size. */
static inline int32_t spb_sector_index(uint32_t addr, uint32_t *size)
{
    uint32_t start = 0;
    int32_t index = spb_sector_find(addr, &start, size);
    return (index >= 0 && start == addr) ? index : -1;
}

/* True when [addr, addr + len) lies inside internal flash (no overflow). */
static inline int spb_in_flash(uint32_t addr, uint32_t len)
{
    return addr >= SPB_FLASH_BASE && addr - SPB_FLASH_BASE <= SPB_FLASH_SIZE &&
           len <= SPB_FLASH_SIZE - (addr - SPB_FLASH_BASE);
}

/* port.h write rules that need no hardware: 0, -1 (outside flash) or -2 (not write-unit aligned). */
static inline int spb_flash_check_write(uint32_t addr, uint32_t len)
{
    if (!spb_in_flash(addr, len)) {
        return -1;
    }
    if ((addr - SPB_FLASH_BASE) % SPB_FLASH_WRITE_SIZE != 0u || len % SPB_FLASH_WRITE_SIZE != 0u) {
        return -2;
    }
    return 0;
}

#endif
