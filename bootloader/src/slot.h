/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Slots on flash: where each byte of an image lives, erase units, and a buffered sequential writer
 * that honours the board's program granularity.
 *
 * SLOT0 (active) holds the installed header in its first SPB_VECTOR_SIZE bytes and the plaintext image
 * after it; on MultiSegment boards the image continues in external flash from plaintext offset segoff.
 * SLOT1 (download) holds a .sfb as received: header, then the still encrypted image at SPB_VECTOR_SIZE.
 */
#ifndef SPB_SLOT_H
#define SPB_SLOT_H

#include <stdbool.h>
#include <stdint.h>

#include "spb_board.h"

#if SPB_FLASH_WRITE_SIZE > 32
#error "program units above 32 bytes are not supported"
#endif
#if SPB_VECTOR_SIZE < 0x100u
#error "the header area (vector_size) must hold the header and the three 32-byte markers"
#endif
#if defined(SPB_SLOT1_EXT_ADDR)
#error "a segmented SLOT1 is not supported: place SLOT1 in one flash region"
#endif

/* State markers in a slot's header area (docs/update-state.md). */
#define SLOT_MARK_READY    0x80u /* SLOT1: the application asked for this image to be installed */
#define SLOT_MARK_APPROVED 0xA0u /* SLOT1: the bootloader verified it and committed to installing it */
#define SLOT_MARK_DONE     0xC0u /* SLOT1: installed; never install this image again */
#define SLOT_MARK_SIZE     32u
#define SLOT_INSTALLED_HEADER_SIZE 0xE0u /* SLOT0: header + three signature copies, one write */

typedef enum { SLOT0 = 0, SLOT1 = 1 } slot_id_t;

/* Address of image byte `offset` (plaintext offset in SLOT0, ciphertext offset in SLOT1). */
uint32_t slot_image_address(slot_id_t slot, uint32_t segoff, uint32_t offset);

/* Read image bytes [offset, offset + len) of a slot, across the MultiSegment boundary where SLOT0 has
 * one. Returns 0 or a negative driver error. */
int slot_read_image(slot_id_t slot, uint32_t segoff, uint32_t offset, void *dst, uint32_t len);

/* Bytes of image that fit: SLOT0 limits the internal part to segoff when segoff != 0. */
bool slot_image_fits(slot_id_t slot, uint32_t segoff, uint32_t size);

uint32_t slot_base(slot_id_t slot);

/* Erase every unit overlapping [addr, addr + len). Returns 0 or a negative driver error. If progress
 * is set it is called with the bytes erased so far. */
int slot_erase_range(uint32_t addr, uint32_t len, void (*progress)(uint32_t done, uint32_t total));

/* True if all len bytes at addr read as erased. */
bool slot_is_erased(uint32_t addr, uint32_t len);

/* Markers: APPROVED and DONE are set once any of their bytes is programmed (or reads with an ECC error),
 * so a torn write counts as set: each is written only after the decision it records, and APPROVED is
 * further bound to the install journal (journal.h). READY must hold exactly the value its image binds it
 * to (slot_marker_equals): a zeroed, partial or copied READY is not a request to install. */
bool slot_marker_is_set(uint32_t offset);
bool slot_marker_equals(uint32_t offset, const uint8_t value[SLOT_MARK_SIZE]);
int slot_marker_write(uint32_t offset, const uint8_t value[SLOT_MARK_SIZE]);

/* FNV-1a 32 of n bytes, continuing from h (0x811C9DC5 to start): the check word of the journal's
 * entries and of the swap status area's descriptor and records. */
#define SLOT_FNV_START 0x811C9DC5u
uint32_t slot_fnv1a(uint32_t h, const uint8_t *p, uint32_t n);

/* Sequential writer. Bytes are collected up to the program unit; flash from erased_until on is erased
 * lazily, one unit just before the first write into it (pass limit when the caller erased it all). */
typedef struct {
    uint32_t address;      /* next flash address to program (program-unit aligned) */
    uint32_t erased_until; /* first address not yet known to be erased */
    uint32_t limit;        /* writes must stay below this address */
    uint8_t fill;          /* bytes pending in buffer */
    uint8_t buffer[SPB_FLASH_WRITE_SIZE];
} slot_writer_t;

void slot_writer_init(slot_writer_t *w, uint32_t start, uint32_t limit, uint32_t erased_until);

/* End of the erase unit containing addr (addr itself if it is in no unit). */
uint32_t slot_unit_end(uint32_t addr);
int slot_writer_put(slot_writer_t *w, const uint8_t *data, uint32_t len);
/* Pads the last program unit with the erased value and writes it. */
int slot_writer_flush(slot_writer_t *w);

#endif
