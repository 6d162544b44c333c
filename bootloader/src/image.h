/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signed 128-byte image header (docs/formats.md) and verification of the image it describes.
 * Mirrors site_scons/spb/image.py.
 */
#ifndef SPB_IMAGE_H
#define SPB_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "slot.h"

#define IMAGE_HEADER_SIZE   128u
#define IMAGE_SIGNED_SIZE   0x40u
#define IMAGE_PROTOCOL_FULL  0x0001u
#define IMAGE_PROTOCOL_PATCH 0x0011u

typedef struct {
    uint8_t raw[IMAGE_HEADER_SIZE]; /* exactly as signed and stored */
    uint16_t protocol;
    uint32_t version;
    uint32_t size;
    uint32_t segoff;
} image_header_t;

typedef enum {
    IMAGE_OK = 0,
    IMAGE_NO_HEADER,      /* no "SU" magic: empty or foreign */
    IMAGE_BAD_SIGNATURE,  /* header not signed by our key */
    IMAGE_BAD_PROTOCOL,   /* signed, but not a kind this bootloader handles here */
    IMAGE_BAD_SIZE,       /* signed, but the image cannot fit the slots or is not a multiple of 16 */
    IMAGE_BAD_TAG,        /* image content does not hash to the header's tag */
    IMAGE_READ_ERROR,     /* the flash driver failed to read */
    IMAGE_WRITE_ERROR,    /* the flash driver failed to erase or program */
} image_result_t;

/* Parse raw into h (copying it). Checks the magic only. */
image_result_t image_header_parse(image_header_t *h, const uint8_t raw[IMAGE_HEADER_SIZE]);

/* Signature over bytes 0..0x3F with the compiled-in public key: IMAGE_AUTHENTIC when it is valid, any other
 * value when not. Not a bool: a wide constant derived from the verification's own result, so that no single
 * skipped instruction turns a refusal into it (tests/silicon/test_fault_injection.py). */
#define IMAGE_AUTH_ADD 0x6D2B79F5u
#define IMAGE_AUTH_MUL 0x9E3779B1u
#define IMAGE_AUTH_MIX 0x85EBCA6Bu
#define IMAGE_AUTHENTIC 0x71571F65u /* ((0 + IMAGE_AUTH_ADD) * IMAGE_AUTH_MUL) ^ (0 * IMAGE_AUTH_MIX) mod 2^32 */
uint32_t image_header_authentic(const image_header_t *h);

/* Parse + authenticate + check protocol and size against both slots: the gate before any use. */
image_result_t image_header_check(image_header_t *h, const uint8_t raw[IMAGE_HEADER_SIZE], uint16_t protocol);

/* Read the header stored at the start of a slot and check it as above. */
image_result_t image_read_header(slot_id_t slot, image_header_t *h);

/* Hash the slot's image (SLOT1: decrypting it first) and compare with the header tag. progress, when
 * set, gets the bytes done so far. */
image_result_t image_verify(slot_id_t slot, const image_header_t *h, void (*progress)(uint32_t done, uint32_t total));

/* SLOT0's installed header for h: the header and three copies of signature[0:32] (docs/update-state.md). */
void image_installed_header(const image_header_t *h, uint8_t out[SLOT_INSTALLED_HEADER_SIZE]);

/* Decrypt SLOT1 into SLOT0 (already erased), verifying the tag on the way and again from SLOT0. */
image_result_t image_copy_to_slot0(const image_header_t *h, void (*progress)(uint32_t done, uint32_t total));

#endif
