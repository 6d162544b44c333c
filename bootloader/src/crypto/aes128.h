/* SPDX-License-Identifier: Apache-2.0 */
/* AES-128 (FIPS 197) block cipher and CBC mode without padding. Table-light for small flash. */
#ifndef SPB_AES128_H
#define SPB_AES128_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t round_key[44]; /* encryption schedule, big-endian words */
    uint32_t dec_key[44];   /* equivalent inverse cipher schedule */
} spb_aes128_ctx;

void spb_aes128_init(spb_aes128_ctx *ctx, const uint8_t key[16]);
void spb_aes128_encrypt_block(const spb_aes128_ctx *ctx, const uint8_t in[16], uint8_t out[16]);
void spb_aes128_decrypt_block(const spb_aes128_ctx *ctx, const uint8_t in[16], uint8_t out[16]);

/* CBC over len bytes (a multiple of 16). iv is updated to the last ciphertext block so a long stream
 * can be processed in pieces. in and out may be the same buffer. */
void spb_aes128_cbc_encrypt(const spb_aes128_ctx *ctx, uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t len);
void spb_aes128_cbc_decrypt(const spb_aes128_ctx *ctx, uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t len);

#endif
