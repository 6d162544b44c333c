/* SPDX-License-Identifier: Apache-2.0 */
#include "patch.h"

#include <string.h>

#include "aes128.h"
#include "ct.h"
#include "keys.h"
#include "patch_compact.h"
#include "patch_jojo.h"
#include "port.h"
#include "sha256.h"
#include "slot.h"

#define READ_CHUNK 64u /* bytes of SLOT0 copied per flash read (on the caller's stack) */

static struct {
    uint16_t protocol;
    uint32_t patch_size;     /* raw patch bytes (the rest of the body is zero padding) */
    uint32_t body_received;  /* encrypted body bytes consumed */
    uint32_t old_size;
    uint32_t old_segoff;
    uint32_t new_size;
    uint32_t produced;
    uint8_t in_iv[16];       /* CBC chain of the patch body */
    uint8_t in_block[16];
    uint8_t in_fill;
    uint8_t out_iv[16];      /* CBC chain of SLOT1's ciphertext (the TO header's IV) */
    uint8_t out_block[16];
    uint8_t out_fill;
    uint8_t to_tag[32];
    spb_aes128_ctx aes;
    spb_sha256_ctx sha;      /* of the regenerated plaintext */
    slot_writer_t out;
    union {
        jojo_state_t jojo;
        compact_state_t compact;
    } dec;
} p;

bool patch_protocol_supported(uint16_t protocol)
{
    return protocol == IMAGE_PROTOCOL_PATCH || protocol == IMAGE_PROTOCOL_PATCH_COMPACT;
}

void patch_reset(void)
{
    memset(&p, 0, sizeof p);
}

void patch_begin(const patch_from_t *from, const image_header_t *to)
{
    patch_reset();
    p.protocol = from->protocol;
    p.patch_size = from->patch_size;
    p.old_size = from->size;
    p.old_segoff = from->segoff;
    p.new_size = to->size;
    memcpy(p.in_iv, from->patch_iv, 16);
    memcpy(p.out_iv, &to->raw[0x04], 16);
    memcpy(p.to_tag, &to->raw[0x1C], 32);
    spb_aes128_init(&p.aes, spb_aes_key);
    spb_sha256_init(&p.sha);
    slot_writer_init(&p.out, SPB_SLOT1_ADDR + SPB_VECTOR_SIZE, SPB_SLOT1_ADDR + SPB_SLOT1_SIZE,
                     slot_unit_end(SPB_SLOT1_ADDR + SPB_VECTOR_SIZE - 1u));
    if (p.protocol == IMAGE_PROTOCOL_PATCH) {
        jojo_init(&p.dec.jojo);
    } else {
        compact_init(&p.dec.compact);
    }
}

uint32_t patch_old_size(void)
{
    return p.old_size;
}

uint32_t patch_new_size(void)
{
    return p.new_size;
}

uint32_t patch_produced(void)
{
    return p.produced;
}

patch_result_t patch_old_read(uint32_t offset, uint8_t *dst, uint32_t len)
{
    if (offset > p.old_size || len > p.old_size - offset) {
        return PATCH_FORMAT;
    }
    if (slot_read_image(SLOT0, p.old_segoff, offset, dst, len) != 0) {
        return PATCH_READ;
    }
    return PATCH_OK;
}

/* Move bytes from *data into a 16-byte block buffer; true once the block is full (fill is reset). */
static bool fill_block(uint8_t block[16], uint8_t *fill, const uint8_t **data, uint32_t *len)
{
    uint32_t n = 16u - *fill;
    n = *len < n ? *len : n;
    memcpy(&block[*fill], *data, n);
    *fill = (uint8_t)(*fill + n);
    *data += n;
    *len -= n;
    if (*fill < 16u) {
        return false;
    }
    *fill = 0;
    return true;
}

patch_result_t patch_emit(const uint8_t *data, uint32_t len)
{
    if (len > p.new_size - p.produced) {
        return PATCH_FORMAT; /* more output than the TO header announces */
    }
    p.produced += len;
    spb_sha256_update(&p.sha, data, len);
    while (len > 0u) {
        if (fill_block(p.out_block, &p.out_fill, &data, &len)) {
            /* One CBC block in place, as spb_aes128_cbc_encrypt would (which is then not linked): the
             * plaintext block becomes its ciphertext and the chain. */
            for (uint32_t i = 0; i < 16u; i++) {
                p.out_block[i] ^= p.out_iv[i];
            }
            spb_aes128_encrypt_block(&p.aes, p.out_block, p.out_block);
            memcpy(p.out_iv, p.out_block, 16);
            if (slot_writer_put(&p.out, p.out_block, 16) != 0) {
                return PATCH_WRITE;
            }
        }
    }
    return PATCH_OK;
}

patch_result_t patch_copy_old(uint32_t offset, uint32_t len)
{
    uint8_t buf[READ_CHUNK];
    while (len > 0u) {
        uint32_t n = len < READ_CHUNK ? len : READ_CHUNK;
        patch_result_t r = patch_old_read(offset, buf, n);
        if (r == PATCH_OK) {
            r = patch_emit(buf, n);
        }
        if (r != PATCH_OK) {
            memset(buf, 0, sizeof buf);
            return r;
        }
        offset += n;
        len -= n;
    }
    memset(buf, 0, sizeof buf); /* plaintext does not linger on the application's stack */
    return PATCH_OK;
}

static patch_result_t decode(const uint8_t *data, uint32_t len)
{
    return p.protocol == IMAGE_PROTOCOL_PATCH ? jojo_push(&p.dec.jojo, data, len)
                                              : compact_push(&p.dec.compact, data, len);
}

patch_result_t patch_push(const uint8_t *data, uint32_t len)
{
    while (len > 0u) {
        if (!fill_block(p.in_block, &p.in_fill, &data, &len)) {
            break;
        }
        spb_aes128_cbc_decrypt(&p.aes, p.in_iv, p.in_block, p.in_block, 16);
        /* Only the first patch_size plaintext bytes are patch; the rest must be the zero padding. */
        uint32_t left = p.body_received < p.patch_size ? p.patch_size - p.body_received : 0u;
        uint32_t real = left < 16u ? left : 16u;
        p.body_received += 16u;
        for (uint32_t i = real; i < 16u; i++) {
            if (p.in_block[i] != 0u) {
                return PATCH_FORMAT;
            }
        }
        patch_result_t r = real != 0u ? decode(p.in_block, real) : PATCH_OK;
        if (r != PATCH_OK) {
            return r;
        }
    }
    return PATCH_OK;
}

patch_result_t patch_end(void)
{
    patch_result_t r = p.protocol == IMAGE_PROTOCOL_PATCH ? jojo_end(&p.dec.jojo) : compact_end(&p.dec.compact);
    if (r != PATCH_OK) {
        return r;
    }
    if (p.produced != p.new_size || p.out_fill != 0u) {
        return PATCH_FORMAT; /* the patch ended short of the TO image */
    }
    if (slot_writer_flush(&p.out) != 0) {
        return PATCH_WRITE;
    }
    uint8_t digest[32];
    spb_sha256_final(&p.sha, digest);
    r = spb_ct_equal(digest, p.to_tag, sizeof digest) ? PATCH_OK : PATCH_TAG;
    memset(&p.aes, 0, sizeof p.aes);
    return r;
}
