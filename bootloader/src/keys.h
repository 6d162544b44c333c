/* SPDX-License-Identifier: Apache-2.0 */
/* Keys compiled into the bootloader. The build generates their definitions (gen/spb_keys.c) from the
 * KEYS directory; they are never committed. */
#ifndef SPB_KEYS_H
#define SPB_KEYS_H

#include <stdint.h>

extern const uint8_t spb_public_key[64];        /* ECDSA P-256 public key, X||Y big-endian */
extern const uint8_t spb_aes_key[16];           /* AES-128 image key */
extern const uint8_t spb_keys_are_development;  /* 1: generated development keys, never ship */

#endif
