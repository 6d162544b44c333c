/* SPDX-License-Identifier: Apache-2.0 */
#include "journal.h"
#include "protect.h"

#include <string.h>

#include "port.h"
#include "slot.h"

#define JOURNAL_SLOTS   (SPB_JOURNAL_SIZE / JOURNAL_ENTRY_SIZE)
#define JOURNAL_MAGIC   0x4A425053u /* "SPBJ" */

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
    uint32_t h = 0x811C9DC5u; /* FNV-1a 32 */
    for (uint32_t i = 0; i < JOURNAL_ENTRY_SIZE - 4u; i++) {
        h = (h ^ e[i]) * 0x01000193u;
    }
    return h;
}

/* The log is the run of slots from the start up to the first erased one; the next entry goes there. A slot
 * that is not erased after that point is residue of an interrupted full-unit erase (journal_append): the
 * entries it still holds were committed by this bootloader, so they still raise the floor, but they are
 * not "last", and the next append erases the unit first instead of writing in front of them. */
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
        uint32_t version = get32(&e[4]);
        if (get32(&e[0]) != JOURNAL_MAGIC || (version ^ get32(&e[8])) != 0xFFFFFFFFu ||
            get32(&e[JOURNAL_ENTRY_SIZE - 4u]) != check_of(e)) {
            continue; /* torn, or not ours */
        }
        if (!j->any || version > j->max_version) {
            j->max_version = version;
        }
        j->any = true;
        if (!gap) {
            j->last_version = version;
            memcpy(j->last_id, &e[12], JOURNAL_ID_SIZE);
        }
    }
}

bool journal_is_last(const journal_t *j, const image_header_t *h)
{
    /* last_version stays 0 without a last entry, and no entry has version 0: it is never newer than
     * anything (install.c), so none is ever committed. */
    return j->last_version == h->version && h->version != 0u &&
           memcmp(j->last_id, &h->raw[IMAGE_SIGNED_SIZE], JOURNAL_ID_SIZE) == 0;
}

int journal_append(journal_t *j, const image_header_t *h)
{
    uint8_t e[JOURNAL_ENTRY_SIZE];
    if (journal_is_last(j, h)) {
        return 0;
    }
#if defined(SPB_PRODUCTION) && SPB_PRODUCTION
    /* Write-protected while the application runs: lifted now (through a reset) for this install. */
    int lifted = protect_journal_writable();
    if (lifted != 0) {
        return lifted;
    }
#endif
    if (j->free_slot >= JOURNAL_SLOTS) {
        /* Full (or residue after the end): start again with this entry, which is newer than every entry
         * (install.c commits only above the floor), so once it lands nothing is lost. Until it lands the
         * floor is SLOT0's authentic version and whatever entries survive a torn erase; SLOT0 is not
         * touched yet and the next boot commits this same image again before anything else runs
         * (docs/update-state.md, "The install journal"). */
        int rc = slot_erase_range(SPB_JOURNAL_ADDR, SPB_JOURNAL_SIZE, NULL);
        if (rc != 0) {
            return rc;
        }
        j->free_slot = 0;
    }
    memset(e, 0, sizeof e);
    put32(&e[0], JOURNAL_MAGIC);
    put32(&e[4], h->version);
    put32(&e[8], ~h->version);
    memcpy(&e[12], &h->raw[IMAGE_SIGNED_SIZE], JOURNAL_ID_SIZE);
    put32(&e[JOURNAL_ENTRY_SIZE - 4u], check_of(e));
    int rc = port_flash_write(SPB_JOURNAL_ADDR + j->free_slot * JOURNAL_ENTRY_SIZE, e, sizeof e);
    if (rc != 0) {
        return rc;
    }
    j->free_slot++;
    if (!j->any || h->version > j->max_version) {
        j->max_version = h->version;
    }
    j->any = true;
    j->last_version = h->version;
    memcpy(j->last_id, &h->raw[IMAGE_SIGNED_SIZE], JOURNAL_ID_SIZE);
    return 0;
}
