/* SPDX-License-Identifier: Apache-2.0 */
#include "install.h"

#include <string.h>

#include "journal.h"
#include "log.h"
#include "port.h"
#include "trial.h"

static void erase_progress(uint32_t done, uint32_t total)
{
    log_progress(total ? log_share(done, total, 50u) : 50u);
}

static void copy_progress(uint32_t done, uint32_t total)
{
    log_progress(51u + (total ? log_share(done, total, 49u) : 49u));
}

void install_read_slot1(slot1_state_t *s)
{
    uint8_t raw[IMAGE_HEADER_SIZE];
    memset(s, 0, sizeof *s);
    if (SPB_SLOT1_SIZE == 0u) {
        s->header = IMAGE_NO_HEADER;
        return;
    }
    if (port_flash_read(SPB_SLOT1_ADDR, raw, sizeof raw) != 0) {
        s->header = IMAGE_READ_ERROR;
        return;
    }
    s->header = image_header_parse(&s->h, raw);
    if (s->header != IMAGE_OK) {
        return;
    }
    s->ready = slot_marker_equals(SLOT_MARK_READY, &s->h.raw[IMAGE_SIGNED_SIZE]);
    s->approved = slot_marker_is_set(SLOT_MARK_APPROVED);
    s->done = slot_marker_is_set(SLOT_MARK_DONE);
    if (s->ready && !s->done) {
        s->header = image_header_check(&s->h, raw, IMAGE_PROTOCOL_FULL);
        s->checked = true;
    }
}

bool install_check_slot0(slot0_state_t *s, bool log)
{
    memset(s, 0, sizeof *s);
    s->image = IMAGE_NO_HEADER;
    if (log) {
        log_line("Verify slot 0 header.");
    }
    s->header = image_read_header(SLOT0, &s->h);
    if (s->header != IMAGE_OK) {
        if (log) {
            log_line(s->header == IMAGE_NO_HEADER ? "Slot 0 is empty." : "Slot 0 header is invalid (%u).",
                     (uint32_t)s->header);
        }
        return false;
    }
    if (log) {
        log_line("Verify slot 0 signature.");
    }
    s->image = image_verify(SLOT0, &s->h, NULL);
    if (s->image != IMAGE_OK) {
        if (log) {
            log_line("Slot 0 image does not match its tag.");
        }
        return false;
    }
    if (log) {
        log_line("Verify slot 0 ready.");
    }
    /* All three installed copies of signature[0:32]: a cut while the installed header was programmed
     * can leave the last ones erased or torn, and then the install is not complete. */
    uint8_t copies[3u * SLOT_MARK_SIZE];
    s->ready = port_flash_read(SPB_SLOT0_ADDR + IMAGE_HEADER_SIZE, copies, sizeof copies) == 0;
    for (uint32_t i = 0; s->ready && i < 3u; i++) {
        s->ready = memcmp(&copies[i * SLOT_MARK_SIZE], &s->h.raw[IMAGE_SIGNED_SIZE], SLOT_MARK_SIZE) == 0;
    }
    if (!s->ready) {
        if (log) {
            log_line("Slot 0 install was not completed.");
        }
        return false;
    }
    if (log) {
        log_line("Verify slot 0 fw ver.");
    }
    return true;
}

/* Erase SLOT0, decrypt SLOT1 into it, verify it, then write its header last: until that single write
 * lands SLOT0 has no valid header, and APPROVED in SLOT1 makes the next boot redo the install. */
static bool install(const image_header_t *h)
{
    uint8_t installed[SLOT_INSTALLED_HEADER_SIZE];
    uint32_t internal = h->segoff != 0u ? h->segoff : h->size;

    log_line("Erase slot 0.");
    if (slot_erase_range(SPB_SLOT0_ADDR, SPB_VECTOR_SIZE + internal, erase_progress) != 0) {
        log_line("Slot 0 erase failed.");
        return false;
    }
#if defined(SPB_SLOT0_EXT_ADDR)
    if (h->segoff != 0u && slot_erase_range(SPB_SLOT0_EXT_ADDR, h->size - h->segoff, NULL) != 0) {
        log_line("Slot 0 external segment erase failed.");
        return false;
    }
#endif
    log_line("Copy slot 1 to slot 0.");
    image_result_t r = image_copy_to_slot0(h, copy_progress);
    if (r != IMAGE_OK) {
        log_line("Copy failed (%u).", (uint32_t)r);
        return false;
    }
    log_line("Slot 0 validated.");
    image_installed_header(h, installed);
    if (port_flash_write(SPB_SLOT0_ADDR, installed, sizeof installed) != 0) {
        log_line("Writing the slot 0 header failed.");
        return false;
    }
    return true;
}

static void mark_done(const image_header_t *h)
{
    if (slot_marker_write(SLOT_MARK_DONE, &h->raw[IMAGE_SIGNED_SIZE]) != 0) {
        log_line("Could not mark slot 1 installed.");
    }
}

/* The version an update must exceed: SLOT0's, when its header is authentic (an interrupted install erases
 * that header first, so an authentic header is the last complete install even if its image was then
 * damaged), and every version the journal ever committed to - the reference that survives an
 * application erasing SLOT0's header. */
static uint32_t rollback_floor(const slot0_state_t *s0, const journal_t *j)
{
    uint32_t floor = s0->header == IMAGE_OK ? s0->h.version : 0u;
    return j->any && j->max_version > floor ? j->max_version : floor;
}

bool install_process_update(slot1_state_t *s1, slot0_state_t *s0)
{
    image_header_t *h = &s1->h;
    journal_t journal;

    if (s1->header != IMAGE_OK || !s1->checked || !s1->ready || s1->done) {
        return false;
    }
    log_line("Check for update.");
    journal_read(&journal);
    if (s1->approved) {
        /* APPROVED only resumes the install the journal committed to: this very image. Markers an
         * application forged or copied for another image get nothing (docs/update-state.md). */
        if (!journal_is_last(&journal, h)) {
            log_line("Slot 1 firmware %V was not approved by this bootloader: refused.", h->version);
            return false;
        }
        /* A previous boot verified this image and started installing it. If the only thing missing is
         * the DONE marker, SLOT0 already holds it. */
        if (s0->header == IMAGE_OK && s0->image == IMAGE_OK && s0->ready &&
            memcmp(s0->h.raw, h->raw, IMAGE_SIGNED_SIZE) == 0) {
            log_line("Slot 1 firmware %V is installed.", h->version);
            mark_done(h);
            return false;
        }
        log_line("Resuming the interrupted install of firmware %V.", h->version);
    } else if (journal_is_last(&journal, h)) {
        log_line("Slot 1 firmware %V is recorded for install.", h->version); /* cut before APPROVED */
    } else {
        uint32_t floor = rollback_floor(s0, &journal);
        if (h->version <= floor) {
            log_line("Slot 1 firmware %V is not newer than %V: refused.", h->version, floor);
            return false;
        }
        log_line("Slot 1 firmware %V is newer.", h->version);
        log_line("Prepare for update.");
    }
    log_line("Verify slot 1 signature.");
    image_result_t r = image_verify(SLOT1, h, NULL);
    if (r != IMAGE_OK) {
        log_line("Slot 1 image rejected (%u): slot 0 is kept.", (uint32_t)r);
        return false;
    }
#if defined(SPB_TRIAL) && SPB_TRIAL
    if (!s1->approved && s0->header == IMAGE_OK && s0->image == IMAGE_OK && s0->ready) {
        /* SLOT0 holds a valid image: kept, by exchanging the slots (docs/trial-boot.md). */
        return trial_swap_in(&journal, h, &s0->h);
    }
#endif
    if (!s1->approved) {
        /* Commit: first the journal entry (the reference a resumed install is checked against), then
         * APPROVED. A cut in between leaves APPROVED erased: the next boot decides again. */
        if (journal_add(&journal, JOURNAL_INSTALL, h) != 0) {
            log_line("Could not record the install in the journal: update postponed.");
            return false;
        }
        if (slot_marker_write(SLOT_MARK_APPROVED, &h->raw[IMAGE_SIGNED_SIZE]) != 0) {
            log_line("Could not mark slot 1 approved: update postponed.");
            return false;
        }
        s1->approved = true;
    }
    if (!install(h)) {
        return true;
    }
    mark_done(h);
    s1->done = true;
    return true;
}
