/* SPDX-License-Identifier: Apache-2.0 */
#include "journal.h"
#include "protect.h"

#include <string.h>

#include "port.h"
#include "slot.h"

#define JOURNAL_SLOTS   (SPB_JOURNAL_SIZE / JOURNAL_ENTRY_SIZE)

_Static_assert(JOURNAL_ENTRY_SIZE % SPB_FLASH_WRITE_SIZE == 0u, "a journal entry is whole programming units");
_Static_assert(JOURNAL_SLOTS >= 1u, "the journal unit holds at least one entry");

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t check_of(const uint8_t *e)
{
    return slot_fnv1a(SLOT_FNV_START, e, JOURNAL_ENTRY_SIZE - 4u);
}

/* The log is the run of slots from the start up to the first erased one; the next entry goes there. A slot
 * that is not erased after that point is residue of an interrupted full-unit erase (journal_add): the
 * entries it still holds were committed by this bootloader, so they still raise the floor, but they are
 * not "last", and the next append erases the unit first instead of writing in front of them. */
static void apply(journal_t *j, uint32_t kind, uint32_t version, const uint8_t *id)
{
    if (!j->any || version > j->max_version) {
        j->max_version = version;
    }
    j->any = true;
    if (kind == JOURNAL_INSTALL) {
        j->last_version = version;
        memcpy(j->last_id, id, JOURNAL_ID_SIZE);
        j->last_confirmed = false;
        j->last_rejected = false;
        j->prev_version = j->confirmed_version; /* what a trial of this image returns to */
        memcpy(j->prev_id, j->confirmed_id, JOURNAL_ID_SIZE);
        return;
    }
    bool last = version == j->last_version && memcmp(id, j->last_id, JOURNAL_ID_SIZE) == 0;
    if (kind == JOURNAL_CONFIRM) {
        j->confirmed_version = version;
        memcpy(j->confirmed_id, id, JOURNAL_ID_SIZE);
        j->last_confirmed = j->last_confirmed || last;
    } else {
        j->last_rejected = j->last_rejected || last;
    }
}

void journal_read(journal_t *j)
{
    uint8_t e[JOURNAL_ENTRY_SIZE];
    bool gap = false;
    memset(j, 0, sizeof *j);
    j->free_slot = JOURNAL_SLOTS;
    for (uint32_t i = 0; i < JOURNAL_SLOTS; i++) {
        uint32_t addr = SPB_JOURNAL_ADDR + i * JOURNAL_ENTRY_SIZE;
        if (slot_is_erased(addr, JOURNAL_ENTRY_SIZE)) {
            if (!gap) {
                j->free_slot = i;
            }
            gap = true;
            continue;
        }
        if (gap) {
            j->free_slot = JOURNAL_SLOTS; /* residue after the end: append as if full */
        }
        if (port_flash_read(addr, e, sizeof e) != 0) {
            continue; /* torn (ECC error): skipped */
        }
        uint32_t kind = get32(&e[0]);
        uint32_t version = get32(&e[4]);
        if ((kind != JOURNAL_INSTALL && kind != JOURNAL_CONFIRM && kind != JOURNAL_REJECT) ||
            (version ^ get32(&e[8])) != 0xFFFFFFFFu || version == 0u ||
            get32(&e[JOURNAL_ENTRY_SIZE - 4u]) != check_of(e)) {
            continue; /* torn, or not ours */
        }
        if (gap) {
            /* Residue: it only raises the floor. */
            if (version > j->max_version) {
                j->max_version = version;
            }
            j->any = true;
            continue;
        }
        apply(j, kind, version, &e[12]);
    }
}

bool journal_names(uint32_t version, const uint8_t id[JOURNAL_ID_SIZE], const image_header_t *h)
{
    return version == h->version && version != 0u && memcmp(id, &h->raw[IMAGE_SIGNED_SIZE], JOURNAL_ID_SIZE) == 0;
}


/* Program one entry at the free slot (the caller made sure there is one). */
static int put_entry(journal_t *j, uint32_t kind, uint32_t version, const uint8_t *id)
{
    uint8_t e[JOURNAL_ENTRY_SIZE];
    memset(e, 0, sizeof e);
    put32(&e[0], kind);
    put32(&e[4], version);
    put32(&e[8], ~version);
    memcpy(&e[12], id, JOURNAL_ID_SIZE);
    put32(&e[JOURNAL_ENTRY_SIZE - 4u], check_of(e));
    int rc = port_flash_write(SPB_JOURNAL_ADDR + j->free_slot * JOURNAL_ENTRY_SIZE, e, sizeof e);
    if (rc != 0) {
        return rc;
    }
    j->free_slot++;
    apply(j, kind, version, id);
    return 0;
}

int journal_add(journal_t *j, uint32_t kind, const image_header_t *h)
{
    const uint8_t *id = &h->raw[IMAGE_SIGNED_SIZE];
    if ((kind == JOURNAL_INSTALL && journal_is_last(j, h)) ||
        (kind == JOURNAL_CONFIRM && journal_names(j->confirmed_version, j->confirmed_id, h)) ||
        (kind == JOURNAL_REJECT && journal_is_last(j, h) && j->last_rejected)) {
        return 0;
    }
#if defined(SPB_PRODUCTION) && SPB_PRODUCTION
    /* Write-protected while the application runs: lifted now (through a reset) for this entry. */
    int lifted = protect_journal_writable();
    if (lifted != 0) {
        return lifted;
    }
#endif
    /* Room for the entry and what a full unit has to carry over (at most two entries before it). */
    uint32_t carry = (j->confirmed_version != 0u ? 1u : 0u) + (kind != JOURNAL_INSTALL ? 1u : 0u);
    if (j->free_slot >= JOURNAL_SLOTS) {
        /* Full (or residue after the end): start again. An INSTALL is newer than every entry (install.c
         * commits only above the floor), so once it lands nothing is lost; until it lands the floor is
         * SLOT0's authentic version and whatever entries survive a torn erase; SLOT0 is not touched yet
         * and the next boot commits this same image again before anything else runs
         * (docs/update-state.md, "The install journal"). Trial boot's state is written again first: the
         * confirmed image (the revert target of the next install) and, for a CONFIRM or REJECT, the
         * install it is about; a cut in between leaves less, which the next boot writes again
         * (docs/trial-boot.md). */
        journal_t keep = *j;
        int rc = slot_erase_range(SPB_JOURNAL_ADDR, SPB_JOURNAL_SIZE, NULL);
        if (rc != 0) {
            return rc;
        }
        memset(j, 0, sizeof *j);
        if (keep.confirmed_version != 0u && carry < JOURNAL_SLOTS) {
            rc = put_entry(j, JOURNAL_CONFIRM, keep.confirmed_version, keep.confirmed_id);
            if (rc != 0) {
                return rc;
            }
        }
        if (kind != JOURNAL_INSTALL && keep.last_version != 0u) {
            rc = put_entry(j, JOURNAL_INSTALL, keep.last_version, keep.last_id);
            if (rc != 0) {
                return rc;
            }
        }
        if (keep.max_version > j->max_version) {
            j->max_version = keep.max_version; /* this boot's view; the flash's is rebuilt by the entries */
        }
    }
    return put_entry(j, kind, h->version, id);
}
