/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Installing SLOT1 into SLOT0 at boot, fail-safe against power loss at any flash operation.
 * The on-flash state machine is documented in docs/update-state.md.
 */
#ifndef SPB_INSTALL_H
#define SPB_INSTALL_H

#include <stdbool.h>
#include <stdint.h>

#include "image.h"

typedef struct {
    image_result_t header;  /* result of reading the header; of checking it too when `checked` */
    image_header_t h;
    bool ready, approved, done;
    bool checked;           /* the header was authenticated (only when READY is set and DONE is not) */
} slot1_state_t;

typedef struct {
    image_result_t header;  /* IMAGE_OK: the header is authentic (its version is trustworthy) */
    bool ready;             /* the installed-header copies are present */
    image_result_t image;   /* IMAGE_OK: the image hashes to the tag */
    image_header_t h;
} slot0_state_t;

/* Reads SLOT1's header and markers. The header is authenticated only when the markers ask for an install
 * (READY set, DONE clear): otherwise there is nothing to do with it, whatever it says, and every boot
 * after an update would pay two signature verifications for nothing. */
void install_read_slot1(slot1_state_t *s);

/* Checks SLOT0 with the boot log's messages; valid when header, ready copies and image all pass. */
bool install_check_slot0(slot0_state_t *s, bool log);

/* Decide what to do with SLOT1 and do it. Returns true when SLOT0 may have changed. */
bool install_process_update(slot1_state_t *s1, slot0_state_t *s0);

#endif
