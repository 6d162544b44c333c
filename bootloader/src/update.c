/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The update engine behind SE_PATCH_*: receives a .sfb as a byte stream of any chunking and stores it
 * in SLOT1. Nothing is written before the whole header has been authenticated and checked against the
 * running image (version) and the slots (size); the image is verified from flash once complete.
 * Runs on the application's stack (docs/api.md); its state lives in the bootloader's reserved RAM.
 */
#include <string.h>

#include "image.h"
#include "journal.h"
#include "log.h"
#include "patch.h"
#include "port.h"
#include "se_interface.h"
#include "slot.h"
#include "trial.h"

static struct {
    SE_PATCH_Stage stage;
    SE_PATCH_StatusCode status;
    uint16_t reboot_delay;
    uint32_t declared;  /* totalLength from SE_PATCH_Init, 0 = unknown */
    uint32_t received;  /* stream bytes consumed */
    uint32_t total;     /* stream bytes expected, known once the header is in */
    bool written;       /* SLOT1 has been modified by this session */
    bool patching;      /* the stream is a .sfbp */
    image_header_t h;   /* h.raw collects the header bytes as they arrive; for a patch, the TO header */
    patch_from_t from;  /* for a .sfbp: what the patch header and SLOT0 say */
    slot_writer_t out;
} u;

static void report(SE_PATCH_Status *status)
{
    if (status == NULL) {
        return;
    }
    uint32_t total = u.total != 0u ? u.total : u.declared;
    status->status = u.status;
    status->stage = u.stage;
    status->completed = (u.stage == SE_PATCH_Stage_VERIFIED || u.stage == SE_PATCH_Stage_READY) ? 1u : 0u;
    status->percent = (uint8_t)log_share(u.received < total ? u.received : total, total, 100u);
    status->received = u.received;
    status->total = total;
}

static SE_ErrorStatus fail(SE_PATCH_Status *status, SE_PATCH_StatusCode code)
{
    u.stage = SE_PATCH_Stage_ERROR;
    u.status = code;
    patch_reset(); /* key schedule and plaintext do not stay in RAM */
    report(status);
    return SE_ERROR;
}

void SE_PATCH_InitStatus(SE_PATCH_Status *status)
{
    if (status != NULL) {
        memset(status, 0, sizeof *status);
    }
}

SE_ErrorStatus SE_PATCH_Init(SE_PATCH_Status *status, const SE_PATCH_StartInfo *info)
{
    if (u.stage != SE_PATCH_Stage_IDLE) {
        /* Keep the running session intact; only report why this call is refused. */
        if (status != NULL) {
            report(status);
            status->status = SE_PATCH_StatusCode_INVALID_STATE;
        }
        return SE_ERROR;
    }
    memset(&u, 0, sizeof u);
    patch_reset();
    if (info == NULL || info->type > SE_PATCH_ImageType_APP ||
        (info->rebootDelay != SE_PATCH_RebootDelay_NEXT && info->rebootDelay != SE_PATCH_RebootDelay_COMMAND)) {
        u.status = SE_PATCH_StatusCode_INVALID_ARG;
        report(status);
        return SE_ERROR;
    }
    if (SPB_SLOT1_SIZE == 0u) {
        u.status = SE_PATCH_StatusCode_SECTION_NOT_AVAILABLE;
        report(status);
        return SE_ERROR;
    }
#if defined(SPB_TRIAL) && SPB_TRIAL
    uint32_t boots;
    if (trial_state(&boots) != 0u) {
        /* SLOT1 holds what a failed trial returns to: the running image confirms itself first. */
        u.status = SE_PATCH_StatusCode_INVALID_STATE;
        report(status);
        return SE_ERROR;
    }
#endif
    if (info->totalLength != 0u && info->totalLength > SPB_SLOT1_SIZE) {
        u.status = SE_PATCH_StatusCode_IMAGE_TOO_LARGE;
        report(status);
        return SE_ERROR;
    }
    if (info->totalLength != 0u && info->totalLength < 2u * IMAGE_HEADER_SIZE + 16u) { /* smallest .sfbp */
        u.status = SE_PATCH_StatusCode_IMAGE_TOO_SMALL;
        report(status);
        return SE_ERROR;
    }
    u.reboot_delay = info->rebootDelay;
    u.declared = info->totalLength;
    u.stage = SE_PATCH_Stage_HEADER;
    u.status = SE_PATCH_StatusCode_NONE;
    report(status);
    return SE_SUCCESS;
}

/* SLOT1's header area first (this also clears the markers of whatever was there before), then the
 * header itself; the body follows at SPB_VECTOR_SIZE. */
static SE_PATCH_StatusCode open_slot1(void)
{
    u.written = true;
    if (slot_erase_range(SPB_SLOT1_ADDR, SPB_VECTOR_SIZE, NULL) != 0) {
        return SE_PATCH_StatusCode_SECTION_ERASE_FAILURE;
    }
    if (port_flash_write(SPB_SLOT1_ADDR, u.h.raw, IMAGE_HEADER_SIZE) != 0) {
        return SE_PATCH_StatusCode_SECTION_WRITE_FAILURE;
    }
    return SE_PATCH_StatusCode_NONE;
}

/* Checks shared by a .sfb header and the TO header of a .sfbp (already authenticated). */
static SE_PATCH_StatusCode check_image_header(void)
{
    if (u.h.size == 0u) {
        return SE_PATCH_StatusCode_IMAGE_TOO_SMALL;
    }
    if (u.h.size % 16u != 0u) {
        return SE_PATCH_StatusCode_PARSER_ERROR;
    }
    if (!slot_image_fits(SLOT1, 0, u.h.size) || !slot_image_fits(SLOT0, u.h.segoff, u.h.size)) {
        return SE_PATCH_StatusCode_IMAGE_TOO_LARGE;
    }
    return SE_PATCH_StatusCode_NONE;
}

static SE_PATCH_StatusCode check_declared(void)
{
    if (u.declared != 0u && u.declared != u.total) {
        return u.declared < u.total ? SE_PATCH_StatusCode_IMAGE_TOO_SMALL : SE_PATCH_StatusCode_IMAGE_TOO_LARGE;
    }
    return SE_PATCH_StatusCode_NONE;
}

/* Not newer than an install the journal committed to: the bootloader would refuse it at boot. */
static bool not_newer_than_journal(uint32_t version)
{
    journal_t journal;
    journal_read(&journal);
    return journal.any && version <= journal.max_version;
}

/* A patch header: it must be authentic and made for exactly the image SLOT0 holds. Nothing is written. */
static SE_PATCH_StatusCode accept_patch_header(void)
{
    image_header_t running; /* on the caller's stack: reserved RAM is scarce */

    u.patching = true;
    if (u.h.size == 0u) {
        return SE_PATCH_StatusCode_IMAGE_TOO_SMALL;
    }
    if (u.h.size > SPB_SLOT1_SIZE) {
        return SE_PATCH_StatusCode_IMAGE_TOO_LARGE;
    }
    u.total = 2u * IMAGE_HEADER_SIZE + ((u.h.size + 15u) & ~15u);
    SE_PATCH_StatusCode code = check_declared();
    if (code != SE_PATCH_StatusCode_NONE) {
        return code;
    }
    /* The FROM image: SLOT0's authentic header names the version and tag the patch was made from,
     * and SLOT0's content must still hash to that tag. */
    if (image_read_header(SLOT0, &running) != IMAGE_OK || running.version != u.h.version ||
        memcmp(&running.raw[0x1C], &u.h.raw[0x1C], 32) != 0 || image_verify(SLOT0, &running, NULL) != IMAGE_OK) {
        return SE_PATCH_StatusCode_INVALID_SOURCE_IMAGE;
    }
    u.from.protocol = u.h.protocol;
    u.from.patch_size = u.h.size;
    memcpy(u.from.patch_iv, &u.h.raw[0x04], sizeof u.from.patch_iv);
    u.from.version = running.version;
    u.from.size = running.size;
    u.from.segoff = running.segoff;
    return SE_PATCH_StatusCode_NONE;
}

/* The TO header of a .sfbp: authentic, a full image, newer than SLOT0. Then SLOT1 is opened. */
static SE_PATCH_StatusCode accept_to_header(void)
{
    if (image_header_parse(&u.h, u.h.raw) != IMAGE_OK || image_header_authentic(&u.h) != IMAGE_AUTHENTIC ||
        u.h.protocol != IMAGE_PROTOCOL_FULL) {
        return SE_PATCH_StatusCode_INVALID_TARGET_IMAGE;
    }
    SE_PATCH_StatusCode code = check_image_header();
    if (code != SE_PATCH_StatusCode_NONE) {
        return code;
    }
    if (u.h.version <= u.from.version || not_newer_than_journal(u.h.version)) {
        return SE_PATCH_StatusCode_IMAGE_VERSION_FAILURE;
    }
    code = open_slot1();
    if (code != SE_PATCH_StatusCode_NONE) {
        return code;
    }
    patch_begin(&u.from, &u.h);
    return SE_PATCH_StatusCode_NONE;
}

/* The first header is complete: decide, then prepare SLOT1. Returns a status code, NONE when accepted. */
static SE_PATCH_StatusCode accept_header(void)
{
    image_header_t running;

    if (image_header_parse(&u.h, u.h.raw) != IMAGE_OK) {
        return SE_PATCH_StatusCode_INVALID_PATCH_IMAGE;
    }
    if (image_header_authentic(&u.h) != IMAGE_AUTHENTIC) {
        return SE_PATCH_StatusCode_INVALID_PATCH_IMAGE;
    }
    if (patch_protocol_supported(u.h.protocol)) {
        return accept_patch_header();
    }
    if (u.h.protocol != IMAGE_PROTOCOL_FULL) {
        return SE_PATCH_StatusCode_PARSER_ERROR;
    }
    SE_PATCH_StatusCode code = check_image_header();
    if (code != SE_PATCH_StatusCode_NONE) {
        return code;
    }
    u.total = SPB_VECTOR_SIZE + u.h.size;
    code = check_declared();
    if (code != SE_PATCH_StatusCode_NONE) {
        return code;
    }
    /* Anti-rollback against the running image, whenever its header is authentic, and the journal. */
    if ((image_read_header(SLOT0, &running) == IMAGE_OK && u.h.version <= running.version) ||
        not_newer_than_journal(u.h.version)) {
        return SE_PATCH_StatusCode_IMAGE_VERSION_FAILURE;
    }
    code = open_slot1();
    if (code != SE_PATCH_StatusCode_NONE) {
        return code;
    }
    slot_writer_init(&u.out, SPB_SLOT1_ADDR + SPB_VECTOR_SIZE, SPB_SLOT1_ADDR + SPB_SLOT1_SIZE,
                     slot_unit_end(SPB_SLOT1_ADDR + SPB_VECTOR_SIZE - 1u));
    return SE_PATCH_StatusCode_NONE;
}

static SE_PATCH_StatusCode patch_status(patch_result_t r)
{
    switch (r) {
    case PATCH_OK:
        return SE_PATCH_StatusCode_NONE;
    case PATCH_READ:
        return SE_PATCH_StatusCode_FLASH_SEGMENT_ERROR;
    case PATCH_WRITE:
        return SE_PATCH_StatusCode_SECTION_WRITE_FAILURE;
    case PATCH_TAG:
        return SE_PATCH_StatusCode_INVALID_PATCH_TAG;
    default:
        return SE_PATCH_StatusCode_PARSER_ERROR;
    }
}

static SE_PATCH_StatusCode finish(void)
{
    image_header_t stored;
    if (u.patching) {
        SE_PATCH_StatusCode code = patch_status(patch_end());
        patch_reset();
        if (code != SE_PATCH_StatusCode_NONE) {
            return code;
        }
    } else if (slot_writer_flush(&u.out) != 0) {
        return SE_PATCH_StatusCode_SECTION_WRITE_FAILURE;
    }
    /* Read back what flash now holds: the header must still be ours and the image must hash right. */
    image_result_t r = image_read_header(SLOT1, &stored);
    if (r != IMAGE_OK || memcmp(stored.raw, u.h.raw, IMAGE_HEADER_SIZE) != 0) {
        return SE_PATCH_StatusCode_IMAGE_VERIFY_TAG_FAILURE;
    }
    if (image_verify(SLOT1, &u.h, NULL) != IMAGE_OK) {
        return SE_PATCH_StatusCode_IMAGE_VERIFY_ALG_FAILURE;
    }
    return SE_PATCH_StatusCode_NONE;
}

static SE_PATCH_StatusCode mark_ready(void)
{
    return slot_marker_write(SLOT_MARK_READY, &u.h.raw[IMAGE_SIGNED_SIZE]) == 0 ? SE_PATCH_StatusCode_NONE
                                                                                  : SE_PATCH_StatusCode_INSTALL_ERROR;
}

SE_ErrorStatus SE_PATCH_Data(SE_PATCH_Status *status, const uint8_t *data, uint32_t len)
{
    if (u.stage != SE_PATCH_Stage_HEADER && u.stage != SE_PATCH_Stage_DATA) {
        if (u.stage == SE_PATCH_Stage_VERIFIED || u.stage == SE_PATCH_Stage_READY) {
            report(status); /* bytes after the end of the stream are ignored */
            return SE_SUCCESS;
        }
        if (status != NULL) {
            report(status);
            status->status = u.stage == SE_PATCH_Stage_IDLE ? SE_PATCH_StatusCode_INVALID_ORDER
                                                             : SE_PATCH_StatusCode_INVALID_STATE;
        }
        return SE_ERROR;
    }
    if (data == NULL && len != 0u) {
        return fail(status, SE_PATCH_StatusCode_INVALID_ARG);
    }
    while (len > 0u) {
        uint32_t n;
        if (u.received < IMAGE_HEADER_SIZE) {
            n = IMAGE_HEADER_SIZE - u.received;
            n = len < n ? len : n;
            memcpy(&u.h.raw[u.received], data, n);
            u.received += n;
            if (u.received == IMAGE_HEADER_SIZE) {
                SE_PATCH_StatusCode code = accept_header();
                if (code != SE_PATCH_StatusCode_NONE) {
                    return fail(status, code);
                }
                u.stage = SE_PATCH_Stage_DATA;
            }
        } else if (u.patching && u.received < 2u * IMAGE_HEADER_SIZE) {
            uint32_t at = u.received - IMAGE_HEADER_SIZE;
            n = IMAGE_HEADER_SIZE - at;
            n = len < n ? len : n;
            memcpy(&u.h.raw[at], data, n);
            u.received += n;
            if (u.received == 2u * IMAGE_HEADER_SIZE) {
                SE_PATCH_StatusCode code = accept_to_header();
                if (code != SE_PATCH_StatusCode_NONE) {
                    return fail(status, code);
                }
            }
        } else if (u.patching) {
            n = u.total - u.received;
            n = len < n ? len : n;
            SE_PATCH_StatusCode code = patch_status(patch_push(data, n));
            if (code != SE_PATCH_StatusCode_NONE) {
                return fail(status, code);
            }
            u.received += n;
        } else if (u.received < SPB_VECTOR_SIZE) {
            /* Padding up to the vector offset: not signed, not stored, so SLOT1's markers stay erased. */
            n = SPB_VECTOR_SIZE - u.received;
            n = len < n ? len : n;
            u.received += n;
        } else {
            n = u.total - u.received;
            n = len < n ? len : n;
            if (slot_writer_put(&u.out, data, n) != 0) {
                return fail(status, SE_PATCH_StatusCode_SECTION_WRITE_FAILURE);
            }
            u.received += n;
        }
        data += n;
        len -= n;
        if (u.total != 0u && u.received == u.total) {
            SE_PATCH_StatusCode code = finish();
            if (code == SE_PATCH_StatusCode_NONE && u.reboot_delay == SE_PATCH_RebootDelay_NEXT) {
                code = mark_ready();
                if (code == SE_PATCH_StatusCode_NONE) {
                    u.stage = SE_PATCH_Stage_READY;
                }
            }
            if (code != SE_PATCH_StatusCode_NONE) {
                return fail(status, code);
            }
            if (u.stage != SE_PATCH_Stage_READY) {
                u.stage = SE_PATCH_Stage_VERIFIED;
            }
            u.status = SE_PATCH_StatusCode_COMPLETED;
            break; /* anything after the stream is ignored */
        }
    }
    report(status);
    return SE_SUCCESS;
}

SE_ErrorStatus SE_PATCH_InstallAtNextReset(SE_PATCH_Status *status)
{
    if (u.stage == SE_PATCH_Stage_READY) {
        report(status);
        return SE_SUCCESS;
    }
    if (u.stage != SE_PATCH_Stage_VERIFIED) {
        if (status != NULL) {
            report(status);
            status->status = SE_PATCH_StatusCode_INVALID_STATE;
        }
        return SE_ERROR;
    }
    SE_PATCH_StatusCode code = mark_ready();
    if (code != SE_PATCH_StatusCode_NONE) {
        return fail(status, code);
    }
    u.stage = SE_PATCH_Stage_READY;
    report(status);
    return SE_SUCCESS;
}

SE_ErrorStatus SE_PATCH_Abort(SE_PATCH_Status *status)
{
    bool erase = u.written;
    memset(&u, 0, sizeof u);
    patch_reset();
    /* Invalidate a partial or cancelled download: without a header SLOT1 is empty to the bootloader. */
    if (erase && slot_erase_range(SPB_SLOT1_ADDR, SPB_VECTOR_SIZE, NULL) != 0) {
        u.status = SE_PATCH_StatusCode_SECTION_ERASE_FAILURE;
        report(status);
        return SE_ERROR;
    }
    report(status);
    return SE_SUCCESS;
}

SE_ErrorStatus SE_PATCH_Poll(SE_PATCH_Status *status)
{
    report(status);
    return u.stage == SE_PATCH_Stage_ERROR ? SE_ERROR : SE_SUCCESS;
}

#ifdef SPB_HOST
/* Host simulator only: a reset clears the engine's RAM, as .bss zeroing does on hardware. */
void update_host_power_on(void);
void update_host_power_on(void)
{
    memset(&u, 0, sizeof u);
    patch_reset();
}
#endif
