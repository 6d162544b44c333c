/* SPDX-License-Identifier: Apache-2.0 */
/* ECDSA P-256 signature verification only (FIPS 186-4), for SHA-256 digests. */
#ifndef SPB_P256_H
#define SPB_P256_H

#include <stdint.h>

/* public_key: uncompressed point X||Y, 32 bytes big-endian each.
 * digest: SHA-256 of the message. signature: r||s, 32 bytes big-endian each.
 * Returns 0 when the signature is valid, nonzero otherwise (bad point, r or s out of [1, n-1], mismatch).
 * Accepts high-s signatures, as OpenSSL and `cryptography` do. */
int spb_p256_verify(const uint8_t public_key[64], const uint8_t digest[32], const uint8_t signature[64]);

#endif
