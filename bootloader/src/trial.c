/* SPDX-License-Identifier: Apache-2.0 */
#include "trial.h"

#if defined(SPB_TRIAL) && SPB_TRIAL

#include <string.h>

#include "log.h"
#include "swap.h"

/* The descriptor's headers are the ones the journal committed to: the incoming image of an install is
 * the last INSTALL; a revert brings back the image confirmed before the rejected last INSTALL. */
static bool authorised(const swap_state_t *st, const journal_t *j, image_header_t *in, image_header_t *out)
{
    if (image_header_check(in, in->raw, IMAGE_PROTOCOL_FULL) != IMAGE_OK ||
        image_header_check(out, out->raw, IMAGE_PROTOCOL_FULL) != IMAGE_OK) {
        return false;
    }
    if (st->kind == SWAP_KIND_INSTALL) {
        return journal_is_last(j, in) && !j->last_confirmed && !j->last_rejected;
    }
    return journal_is_last(j, out) && j->last_rejected && journal_names(j->prev_version, j->prev_id, in);
}

static bool exchange(swap_state_t *st, const image_header_t *in, const image_header_t *out)
{
    log_line("Swap slots: %V <-> %V.", out->version, in->version);
    if (swap_run(st, in, out) != 0) {
        log_line("Swap failed.");
        return false;
    }
    return true;
}

bool trial_swap_in(journal_t *j, const image_header_t *in, const image_header_t *out)
{
    swap_state_t st;
    /* The image running until now is what a failed trial returns to: it is confirmed from here on (it
     * ran, and nothing rejected it). Then the commitment, then the exchange. */
    bool rejected = journal_is_last(j, out) && j->last_rejected; /* kept only because nothing else was there */
    if ((!rejected && journal_add(j, JOURNAL_CONFIRM, out) != 0) || journal_add(j, JOURNAL_INSTALL, in) != 0) {
        log_line("Could not record the install in the journal: update postponed.");
        return false;
    }
    if (swap_begin(&st, SWAP_KIND_INSTALL, in, out) != 0) {
        log_line("Swap failed.");
        return false;
    }
    (void)exchange(&st, in, out);
    return true;
}

/* SLOT0's header is exactly h (authentic, as boot checked it). */
static bool slot0_is(const slot0_state_t *s0, const image_header_t *h)
{
    return s0->header == IMAGE_OK && memcmp(s0->h.raw, h->raw, IMAGE_HEADER_SIZE) == 0;
}

static bool slot0_valid(const slot0_state_t *s0)
{
    return s0->header == IMAGE_OK && s0->image == IMAGE_OK && s0->ready;
}

/* The journal rejected SLOT0's image: exchange back to the image confirmed before it, if SLOT1 holds it
 * intact. Returns true when SLOT0 changed. */
static bool revert(const journal_t *j, const slot0_state_t *s0)
{
    swap_state_t st;
    image_header_t prev;
    if (j->prev_version == 0u || image_read_header(SLOT1, &prev) != IMAGE_OK ||
        !journal_names(j->prev_version, j->prev_id, &prev) || image_verify(SLOT1, &prev, NULL) != IMAGE_OK) {
        log_line("Nothing to return to.");
        return false;
    }
    log_line("Returning to %V.", prev.version);
    if (swap_begin(&st, SWAP_KIND_REVERT, &prev, &s0->h) != 0 || !exchange(&st, &prev, &s0->h)) {
        return true;
    }
    (void)swap_clear();
    return true;
}

bool trial_settle(slot0_state_t *s0, bool *trial)
{
    journal_t j;
    swap_state_t st;
    image_header_t in, out;

    *trial = false;
    journal_read(&j);
    swap_read(&st, &in, &out);
    if (st.valid && !st.swapped) {
        /* Interrupted exchange: resumed only as the journal committed to it (the area is not protected). */
        if (!authorised(&st, &j, &in, &out)) {
            log_line("Swap status refused.");
            (void)swap_clear();
            return false;
        }
        if (slot0_valid(s0) && slot0_is(s0, &in)) {
            /* SLOT0's installed header is the exchange's last write: it is complete, only its record
             * is missing (or the descriptor was written again over a complete exchange: not run twice). */
            st.steps = SWAP_STEPS(st.units);
        } else {
            log_line("Resuming the swap.");
        }
        if (exchange(&st, &in, &out) && st.kind == SWAP_KIND_REVERT) {
            (void)swap_clear();
        }
        return true;
    }
    if (st.valid && st.kind == SWAP_KIND_REVERT) {
        (void)swap_clear(); /* a revert that completed: nothing left to do */
        st.valid = false;
    }
    if (st.valid) {
        /* The trial of the incoming image. */
        if (!slot0_is(s0, &in) || journal_names(j.confirmed_version, j.confirmed_id, &in)) {
            (void)swap_clear(); /* not SLOT0's image, or confirmed already: the trial is over */
            return false;
        }
        if (st.confirmed) {
            log_line("%V confirmed.", in.version);
            if (journal_add(&j, JOURNAL_CONFIRM, &in) == 0) {
                (void)swap_clear();
            }
            return false;
        }
        bool rejected = journal_is_last(&j, &in) && j.last_rejected;
        bool damaged = !slot0_valid(s0);
        if (!rejected && !damaged && !st.rollback && st.boots < SPB_TRIAL_BOOTS) {
            *trial = true;
            return false;
        }
        log_line("%V rejected: %s.", in.version,
                 damaged ? "invalid" : st.rollback ? "rollback asked" : "not confirmed in time");
        /* The journal says it first (INSTALL again only where a full unit lost it), then the area goes. */
        if (journal_add(&j, JOURNAL_INSTALL, &in) != 0 || journal_add(&j, JOURNAL_REJECT, &in) != 0 ||
            swap_clear() != 0) {
            log_line("Journal write failed.");
            *trial = true;
            return false;
        }
    }
    /* No exchange and no trial in progress: what the journal says of SLOT0's image. */
    if (s0->header != IMAGE_OK || !journal_is_last(&j, &s0->h) || j.last_confirmed) {
        return false;
    }
    if (j.last_rejected) {
        return revert(&j, s0);
    }
    /* Installed without an exchange (nothing valid to keep), or its trial record is gone: it stays. */
    if (slot0_valid(s0)) {
        (void)journal_add(&j, JOURNAL_CONFIRM, &s0->h);
    }
    return false;
}

void trial_note_boot(const slot0_state_t *s0)
{
    swap_state_t st;
    swap_read(&st, NULL, NULL);
    if (st.valid && st.kind == SWAP_KIND_INSTALL && st.swapped && !st.confirmed) {
        log_line("%V in trial: start %u of %u.", s0->h.version,
                 st.boots + 1u, (uint32_t)SPB_TRIAL_BOOTS);
        (void)swap_note(&st, SWAP_REC_BOOT);
    }
}

static bool in_trial(swap_state_t *st)
{
    swap_read(st, NULL, NULL);
    return st->valid && st->kind == SWAP_KIND_INSTALL && st->swapped && !st->confirmed;
}

uint32_t trial_state(uint32_t *boots)
{
    swap_state_t st;
    bool t = in_trial(&st);
    *boots = t ? st.boots : 0u;
    return !t ? 0u : st.rollback ? 2u : 1u;
}

int trial_confirm(void)
{
    swap_state_t st;
    return in_trial(&st) ? swap_note(&st, SWAP_REC_CONFIRM) : 0;
}

int trial_rollback(void)
{
    swap_state_t st;
    if (!in_trial(&st)) {
        return -1; /* confirmed, or no trial: there is nothing it may go back to */
    }
    return st.rollback ? 0 : swap_note(&st, SWAP_REC_ROLLBACK);
}

#endif
