/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Trial boot with automatic revert (SPB_TRIAL; docs/trial-boot.md). An update is installed by exchanging
 * the slots (swap.h), so SLOT1 keeps the image it replaced; the new image then runs in trial until it
 * calls SE_APP_Confirm(). If it starts SPB_TRIAL_BOOTS times without confirming, or asks with
 * SE_APP_Rollback(), the bootloader rejects it in the install journal and exchanges the slots back.
 *
 * Authority: the install journal (journal.h), which the application cannot write in production builds.
 * A revert goes only to the image the journal records as confirmed when the rejected one was installed;
 * a confirmed image is never rejected. The swap status area says only how far an exchange got and how
 * often the trial image started; whatever it says, nothing older than that confirmed image is ever
 * installed, and nothing that does not verify.
 */
#ifndef SPB_TRIAL_H
#define SPB_TRIAL_H

#include <stdbool.h>
#include <stdint.h>

#include "install.h"
#include "journal.h"

#if defined(SPB_TRIAL) && SPB_TRIAL
/* At boot, before an update is looked at: finish an interrupted exchange, record a confirmation, reject
 * a failed trial and go back. Returns true when SLOT0 changed (the caller verifies it again and calls
 * this again). *trial: SLOT0's image runs in trial (an update waits until it is confirmed or rejected). */
bool trial_settle(slot0_state_t *s0, bool *trial);

/* Last thing before the hand-over to an image in trial: count this start. */
void trial_note_boot(const slot0_state_t *s0);

/* install.c: commit to `in` (SLOT1, verified) and exchange it with `out` (SLOT0, valid). */
bool trial_swap_in(journal_t *j, const image_header_t *in, const image_header_t *out);

/* Application side (SE_APP_*): the trial state now. 0 confirmed / no trial, 1 in trial, 2 rollback asked. */
uint32_t trial_state(uint32_t *boots);
int trial_confirm(void);
int trial_rollback(void);
#endif

#endif
