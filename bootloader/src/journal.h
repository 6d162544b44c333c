/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The install journal: an append-only log, in the last erase unit of the bootloader's own flash region
 * (SPB_JOURNAL_ADDR, SPB_JOURNAL_SIZE), of the images this bootloader committed to install. It is the
 * anti-rollback reference that does not depend on SLOT0 (which an application can erase) nor on SLOT1's
 * markers (which an application can forge): docs/update-state.md.
 *
 * Entry (32 bytes, one write): kind | version | ~version | signature[0:16] of the image's header |
 * check (FNV-1a over the 28 bytes before it). Kinds: "SPBJ" committed to install the image; with trial boot
 * (SPB_TRIAL, docs/trial-boot.md) also "SPBC" the image confirmed itself and "SPBR" the image was rejected
 * in its trial (the bootloader returns to the image confirmed before it). Programming units are written in address order, so the
 * check is the last unit of an entry to land: a torn entry (a cut while it was programmed) fails its
 * check, or reads with an ECC error, and is ignored. An erased slot ends the log; valid entries after it
 * (residue of a torn erase of a full unit) still count for max_version, and the next append erases the
 * unit first.
 */
#ifndef SPB_JOURNAL_H
#define SPB_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "image.h"

#define JOURNAL_ENTRY_SIZE 32u
#define JOURNAL_ID_SIZE    16u

#define JOURNAL_INSTALL 0x4A425053u /* "SPBJ" */
#define JOURNAL_CONFIRM 0x43425053u /* "SPBC" */
#define JOURNAL_REJECT  0x52425053u /* "SPBR" */

typedef struct {
    bool any;             /* at least one valid entry */
    uint32_t max_version; /* highest version ever committed: nothing older or equal is installed again */
    uint32_t last_version; /* the log's last entry (0: none) */
    uint8_t last_id[JOURNAL_ID_SIZE];
    uint32_t free_slot;   /* where the next entry goes; the slot count when the unit must be erased first */
    /* Trial boot (written only by SPB_TRIAL builds; read by all). */
    bool last_confirmed;  /* a CONFIRM of the last INSTALL's image follows it */
    bool last_rejected;   /* a REJECT of the last INSTALL's image follows it */
    uint32_t confirmed_version; /* the last CONFIRM entry (0: none) */
    uint8_t confirmed_id[JOURNAL_ID_SIZE];
    uint32_t prev_version; /* the image confirmed when the last INSTALL was appended: the only revert target */
    uint8_t prev_id[JOURNAL_ID_SIZE];
} journal_t;

void journal_read(journal_t *j);


/* True when the entry (version, id) names exactly this image. */
bool journal_names(uint32_t version, const uint8_t id[JOURNAL_ID_SIZE], const image_header_t *h);

/* True when the last committed install is exactly this image (same version and signature). last_version
 * stays 0 without a last entry, and no entry has version 0: it is never newer than anything (install.c),
 * so none is ever committed. */
static inline bool journal_is_last(const journal_t *j, const image_header_t *h)
{
    return journal_names(j->last_version, j->last_id, h);
}

/* Append an entry of a kind for h - JOURNAL_INSTALL commits to installing it (no-op when the log already says it). When the unit is full it is
 * erased and the state trial boot needs is written again first: CONFIRM of the confirmed image, and the
 * last INSTALL when kind is not an INSTALL. 0 or a negative driver error. */
int journal_add(journal_t *j, uint32_t kind, const image_header_t *h);

#endif
