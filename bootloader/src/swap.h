/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exchange of SLOT0 and SLOT1 (trial boot, SPB_TRIAL; docs/trial-boot.md): the installed image and the
 * download change places, one swap unit (SPB_SWAP_UNIT bytes, whole erase units) at a time, through two
 * scratch units, with every step recorded in the swap status area, so that a power cut at any erase or
 * programming unit is resumed by the next boot where it stopped.
 *
 * SLOT1 holds a .sfb (header, AES-128-CBC ciphertext at SPB_VECTOR_SIZE); SLOT0 the installed header and
 * the plaintext. The exchange decrypts the incoming image into SLOT0 and encrypts the outgoing one into
 * SLOT1 with its own key and IV: SLOT1 afterwards holds exactly the outgoing image's .sfb (header and
 * ciphertext), which the bootloader authenticates and verifies again like any download.
 *
 * Unit i (slot offsets [i*U, (i+1)*U)), scratch X[i % 2]:
 *   step 0: erase X[i % 2]; copy SLOT1's unit into it                         (incoming ciphertext)
 *   step 1: erase SLOT1's unit; encrypt SLOT0's unit into it                   (outgoing ciphertext)
 *           CBC chain: the outgoing IV, or the ciphertext just written at the end of SLOT1's unit i-1
 *   step 2: erase SLOT0's unit; decrypt X[i % 2] into it                       (incoming plaintext)
 *           CBC chain: the incoming IV, or the end of X[(i-1) % 2], which still holds unit i-1's ciphertext
 * The header areas stay erased; four last steps put the headers in through the first scratch unit (copy
 * SLOT1's unit 0 out, erase it, program its data back and then the outgoing .sfb header; the same for
 * SLOT0 with the incoming installed header), SLOT0's last of all: SLOT0 has an installed header again only
 * once the exchange is complete, so an exchange whose descriptor claims otherwise is not run again
 * (trial.c). A step reads only what no earlier unfinished step writes, and starts by erasing what it
 * writes: redone after a cut, it gives the same bytes.
 *
 * Status area (SPB_SWAP_STATUS_ADDR, SPB_SWAP_STATUS_SIZE): a descriptor, then 8-byte records.
 *   descriptor (272 bytes, one write): incoming header (128) | outgoing header (128) | "SPBX" | kind |
 *     0 | units (u16) | 0 (u32) | FNV-1a 32 of the 268 bytes before it
 *   record: type | step number (u24) | FNV-1a 32 of the 4 bytes before it, continued from the descriptor's check
 * A torn descriptor or record fails its check (or reads with an ECC error) and counts as not written.
 * The area is erased completely before a descriptor is written, so every record belongs to it.
 */
#ifndef SPB_SWAP_H
#define SPB_SWAP_H

#include <stdbool.h>
#include <stdint.h>

#include "image.h"

#define SWAP_KIND_INSTALL 1u /* an update goes into SLOT0; the image it replaces is kept in SLOT1 */
#define SWAP_KIND_REVERT  2u /* a rejected trial goes back to SLOT1; the image confirmed before returns */

/* Record types (docs/trial-boot.md) */
#define SWAP_REC_STEP     0x51u /* a step of the exchange is complete */
#define SWAP_REC_SWAPPED  0x5Du /* the exchange is complete */
#define SWAP_REC_BOOT     0xB0u /* the bootloader starts the incoming image in trial */
#define SWAP_REC_CONFIRM  0xC3u /* the application confirmed itself (SE_APP_Confirm) */
#define SWAP_REC_ROLLBACK 0xBAu /* the application asked for the previous image (SE_APP_Rollback) */

/* Steps of an exchange of `units` units: three per unit, four for the headers. */
#define SWAP_STEPS(units) (3u * (units) + 4u)

typedef struct {
    bool valid;       /* an intact descriptor */
    uint8_t kind;
    uint16_t units;
    uint32_t salt;    /* the descriptor's check */
    uint32_t steps;   /* exchange steps complete (SWAP_STEPS in all) */
    bool swapped;
    uint32_t boots;   /* trial boots begun */
    bool confirmed, rollback;
    uint32_t free;    /* index of the next record; swap_records() when full */
} swap_state_t;

#if defined(SPB_TRIAL) && SPB_TRIAL
/* The status area; with in and out not NULL also the descriptor's headers (not authenticated here). The
 * caller's stack holds the descriptor meanwhile (272 bytes). */
void swap_read(swap_state_t *st, image_header_t *in, image_header_t *out);

/* Erase what is not erased in the status area. 0 or a negative driver error. */
int swap_clear(void);

/* Clear, then write a descriptor for exchanging `in` (from SLOT1) and `out` (from SLOT0). */
int swap_begin(swap_state_t *st, uint8_t kind, const image_header_t *in, const image_header_t *out);

/* Run the exchange from where st says it is to the end, then record SWAPPED. 0 or negative. */
int swap_run(swap_state_t *st, const image_header_t *in, const image_header_t *out);

/* Append a record (BOOT, CONFIRM, ROLLBACK). 0, or negative when the area is full or the write failed. */
int swap_note(swap_state_t *st, uint8_t type);
#endif

#endif
