/* SPDX-License-Identifier: Apache-2.0 */
#include "image.h"

#include <string.h>

#include "aes128.h"
#include "ct.h"
#include "keys.h"
#include "p256.h"
#include "port.h"
#include "sha256.h"

#define CHUNK 256u /* bytes per flash read while hashing; a multiple of 16 for CBC */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

image_result_t image_header_parse(image_header_t *h, const uint8_t raw[IMAGE_HEADER_SIZE])
{
    memmove(h->raw, raw, IMAGE_HEADER_SIZE);
    h->protocol = get16(&h->raw[0x02]);
    h->version = get32(&h->raw[0x14]);
    h->size = get32(&h->raw[0x18]);
    h->segoff = get32(&h->raw[0x3C]);
    return (h->raw[0] == 'S' && h->raw[1] == 'U') ? IMAGE_OK : IMAGE_NO_HEADER;
}

/* x, which the compiler may no longer assume anything about: keeps the steps below apart (it would
 * otherwise fold them into one constant, or drop a repeated test). No instruction. */
static uint32_t opaque(uint32_t x)
{
    __asm__ volatile("" : "+r"(x));
    return x;
}

/* Read at the second test of a verdict: the compiler knows nothing of its value, so cannot reuse the
 * register of the first test's operand in its place. */
static const uint32_t authentic_ref = IMAGE_AUTHENTIC;
#define AUTHENTIC_REF (*(const volatile uint32_t *)&authentic_ref) /* a load the compiler must make */

uint32_t image_header_authentic(const image_header_t *h)
{
    uint8_t digest[32];
    spb_sha256(h->raw, IMAGE_SIGNED_SIZE, digest);
    /* One verification (a second one, as before, cost 2.9 M instructions on Cortex-M4 and 9.7 M on
     * Cortex-M0+ at every boot). It compares twice and returns the difference itself, never a constant
     * (p256.c). The verdict mixes that difference in twice, by two separate computations, so that
     * skipping any one instruction (which is like a difference of 0 for one computation) still leaves the
     * other one away from IMAGE_AUTHENTIC: one skipped instruction from the final comparison to
     * image_header_check's verdict does not accept a forgery (checked instruction by instruction on the
     * Cortex-M4 and M0+ builds: tests/silicon/test_fault_injection.py). */
    uint32_t v = (uint32_t)spb_p256_verify(spb_public_key, digest, &h->raw[IMAGE_SIGNED_SIZE]);
    uint32_t a = opaque(v + IMAGE_AUTH_ADD);
    uint32_t b = opaque(v * IMAGE_AUTH_MIX);
    a = opaque(a * IMAGE_AUTH_MUL);
    return opaque(a ^ b);
}

image_result_t image_header_check(image_header_t *h, const uint8_t raw[IMAGE_HEADER_SIZE], uint16_t protocol)
{
    if (image_header_parse(h, raw) != IMAGE_OK) { /* no IMAGE_OK kept in a register for a return below */
        return IMAGE_NO_HEADER;
    }
    uint32_t authentic = image_header_authentic(h);
    uint32_t again = opaque(authentic); /* taken before the test: nothing the test proves applies to it */
    if (authentic != IMAGE_AUTHENTIC) {
        return IMAGE_BAD_SIGNATURE;
    }
    if (h->protocol != protocol) {
        return IMAGE_BAD_PROTOCOL;
    }
    if (h->size == 0u || h->size % 16u != 0u || (SPB_SLOT1_SIZE != 0u && !slot_image_fits(SLOT1, 0, h->size)) ||
        !slot_image_fits(SLOT0, h->segoff, h->size)) {
        return IMAGE_BAD_SIZE;
    }
    if (again != AUTHENTIC_REF) { /* again, against a constant read from flash: one skipped branch is not enough */
        return IMAGE_BAD_SIGNATURE;
    }
    return IMAGE_OK;
}

image_result_t image_read_header(slot_id_t slot, image_header_t *h)
{
    uint8_t raw[IMAGE_HEADER_SIZE];
    if (slot == SLOT1 && SPB_SLOT1_SIZE == 0u) {
        return IMAGE_NO_HEADER;
    }
    if (port_flash_read(slot_base(slot), raw, sizeof raw) != 0) {
        return IMAGE_READ_ERROR;
    }
    return image_header_check(h, raw, IMAGE_PROTOCOL_FULL);
}

/* Walk the image in CHUNK pieces, decrypting when it comes from SLOT1, hashing the plaintext, and
 * optionally writing it into SLOT0. Everything secret - the AES key schedule, the CBC chain, the plaintext
 * chunk and the hash state (it buffers plaintext) - is in one object, wiped on the single way out: during
 * SE_PATCH_* calls this runs on the application's stack, and at boot on RAM the application gets next. */
static image_result_t walk(slot_id_t from, const image_header_t *h, slot_writer_t *out,
                           void (*progress)(uint32_t done, uint32_t total))
{
    struct {
        uint8_t buf[CHUNK];
        uint8_t iv[16];
        spb_sha256_ctx sha;
        spb_aes128_ctx aes;
    } s;
    uint8_t digest[32];
    image_result_t r = IMAGE_OK;

    spb_sha256_init(&s.sha);
    if (from == SLOT1) {
        spb_aes128_init(&s.aes, spb_aes_key);
        memcpy(s.iv, &h->raw[0x04], sizeof s.iv);
    }
    for (uint32_t done = 0; done < h->size;) {
        uint32_t n = h->size - done < CHUNK ? h->size - done : CHUNK;
        if (slot_read_image(from, h->segoff, done, s.buf, n) != 0) {
            r = IMAGE_READ_ERROR;
            goto wipe;
        }
        if (from == SLOT1) {
            spb_aes128_cbc_decrypt(&s.aes, s.iv, s.buf, s.buf, n);
        }
        spb_sha256_update(&s.sha, s.buf, n);
        if (out != NULL) {
            /* Where SLOT0 continues in the second segment (possibly right at this chunk's start),
             * restart the writer there. */
            uint32_t split = (h->segoff != 0u && done <= h->segoff && h->segoff - done < n) ? h->segoff - done : n;
            if (split != 0u && slot_writer_put(out, s.buf, split) != 0) {
                r = IMAGE_WRITE_ERROR;
                goto wipe;
            }
            if (split < n) {
#if defined(SPB_SLOT0_EXT_ADDR)
                if (slot_writer_flush(out) != 0) {
                    r = IMAGE_WRITE_ERROR;
                    goto wipe;
                }
                slot_writer_init(out, SPB_SLOT0_EXT_ADDR, SPB_SLOT0_EXT_ADDR + SPB_SLOT0_EXT_SIZE,
                                 SPB_SLOT0_EXT_ADDR + SPB_SLOT0_EXT_SIZE);
                if (slot_writer_put(out, s.buf + split, n - split) != 0) {
                    r = IMAGE_WRITE_ERROR;
                    goto wipe;
                }
#endif
            }
        }
        done += n;
        if (progress != NULL) {
            progress(done, h->size);
        }
    }
    spb_sha256_final(&s.sha, digest);
    r = spb_ct_equal(digest, &h->raw[0x1C], sizeof digest) ? IMAGE_OK : IMAGE_BAD_TAG;
wipe:
    spb_wipe(&s, sizeof s);
    return r;
}

image_result_t image_verify(slot_id_t slot, const image_header_t *h, void (*progress)(uint32_t done, uint32_t total))
{
    return walk(slot, h, NULL, progress);
}

void image_installed_header(const image_header_t *h, uint8_t out[SLOT_INSTALLED_HEADER_SIZE])
{
    memcpy(out, h->raw, IMAGE_HEADER_SIZE);
    for (uint32_t i = 0; i < 3u; i++) {
        memcpy(&out[IMAGE_HEADER_SIZE + i * SLOT_MARK_SIZE], &h->raw[IMAGE_SIGNED_SIZE], SLOT_MARK_SIZE);
    }
}

image_result_t image_copy_to_slot0(const image_header_t *h, void (*progress)(uint32_t done, uint32_t total))
{
    slot_writer_t out;
    uint32_t start = slot_image_address(SLOT0, h->segoff, 0);
    slot_writer_init(&out, start, SPB_SLOT0_ADDR + SPB_SLOT0_SIZE, SPB_SLOT0_ADDR + SPB_SLOT0_SIZE);
    image_result_t r = walk(SLOT1, h, &out, progress);
    if (r != IMAGE_OK) {
        return r;
    }
    if (slot_writer_flush(&out) != 0) {
        return IMAGE_WRITE_ERROR;
    }
    return walk(SLOT0, h, NULL, NULL);
}
