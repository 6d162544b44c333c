/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target over the real bootloader core and the host flash simulator.
 * The first input byte picks the mode, the second seeds the chunking:
 *   0  the input is an update stream (SE_PATCH_Init + SE_PATCH_Data in pseudo-random chunks)
 *   1  a correctly signed header, then the input as the rest of the stream (body, padding, extra bytes)
 *   2  the input is SLOT1's flash content, then the boot sequence runs
 *   3  a correctly signed header in SLOT1, the input as everything after it (markers, body), then boot
 *   4  authentic .sfbp headers (compat encoding), the input as the raw patch, encrypted by the target
 *   5  the same with the compact encoding
 * SLOT0 always starts as a valid v1.0.0 image. After every run, SLOT0 must still hold it unless the
 * boot installed an authentic newer image, and the flash rules must hold.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spb_board.h"
#include "aes128.h"
#include "keys.h"
#include "boot.h"
#include "fuzz_fixture.h"
#include "host_sim.h"
#include "se_interface.h"

/* Memo of ECDSA verdicts: the same few authentic headers are checked on every run. The real
 * verification still decides every (key, digest, signature) triple the first time it is seen. */
int spb_p256_verify_real(const uint8_t public_key[64], const uint8_t digest[32], const uint8_t signature[64]);
int spb_p256_verify(const uint8_t public_key[64], const uint8_t digest[32], const uint8_t signature[64]);

static struct {
    uint8_t key[160];
    int result;
    int used;
} memo[64];

int spb_p256_verify(const uint8_t public_key[64], const uint8_t digest[32], const uint8_t signature[64])
{
    uint8_t key[160];
    memcpy(key, public_key, 64);
    memcpy(key + 64, digest, 32);
    memcpy(key + 96, signature, 64);
    unsigned slot = (unsigned)(digest[0] | digest[1] << 8) % 64u;
    if (memo[slot].used && memcmp(memo[slot].key, key, sizeof key) == 0) {
        return memo[slot].result;
    }
    int result = spb_p256_verify_real(public_key, digest, signature);
    memcpy(memo[slot].key, key, sizeof key);
    memo[slot].result = result;
    memo[slot].used = 1;
    return result;
}

#define SLOT0_OFF (SPB_SLOT0_ADDR - SPB_FLASH_BASE)
#define SLOT1_OFF (SPB_SLOT1_ADDR - SPB_FLASH_BASE)

static void stream(const uint8_t *data, size_t size, uint8_t seed, uint32_t declared)
{
    SE_PATCH_Status st;
    SE_PATCH_StartInfo info = {SE_PATCH_ImageType_APP, 0, (seed & 1u) ? SE_PATCH_RebootDelay_NEXT : SE_PATCH_RebootDelay_COMMAND, declared};
    uint32_t state = seed * 2654435761u + 1u;
    SE_PATCH_InitStatus(&st);
    if (SE_PATCH_Init(&st, &info) != SE_SUCCESS) {
        return;
    }
    size_t pos = 0;
    while (pos < size) {
        state = state * 1103515245u + 12345u;
        size_t n = (state >> 16) % 300u;
        if (n > size - pos) {
            n = size - pos;
        }
        if (SE_PATCH_Data(&st, data + pos, (uint32_t)n) != SE_SUCCESS) {
            break;
        }
        pos += n;
    }
    SE_PATCH_InstallAtNextReset(&st);
    SE_PATCH_Poll(&st);
    if (st.stage != SE_PATCH_Stage_READY) {
        SE_PATCH_Abort(&st);
    }
}

/* Headers + the input as a raw patch of FIX_PATCH_SIZE bytes (zero-padded), encrypted like the tool does. */
static size_t patch_stream(uint8_t *out, const uint8_t headers[256], const uint8_t *raw, size_t n)
{
    spb_aes128_ctx aes;
    uint8_t iv[16];
    memcpy(out, headers, 256);
    memset(out + 256, 0, FIX_PATCH_SIZE);
    memcpy(out + 256, raw, n < FIX_PATCH_SIZE ? n : FIX_PATCH_SIZE);
    spb_aes128_init(&aes, spb_aes_key);
    memcpy(iv, headers + 4, 16);
    spb_aes128_cbc_encrypt(&aes, iv, out + 256, out + 256, FIX_PATCH_SIZE);
    return 256u + FIX_PATCH_SIZE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buffer[SPB_SLOT1_SIZE];
    if (size < 2) {
        return 0;
    }
    uint8_t mode = (uint8_t)(data[0] % 6u), seed = data[1];
    data += 2;
    size -= 2;
    host_erase_all();
    memcpy(host_flash() + SLOT0_OFF, FIX_SLOT0, sizeof FIX_SLOT0);
    uint32_t vector = 0;

    switch (mode) {
    case 0:
        stream(data, size, seed, 0);
        break;
    case 1: {
        size_t n = size < sizeof buffer - 128u ? size : sizeof buffer - 128u;
        memcpy(buffer, FIX_SFB, 128);
        memcpy(buffer + 128, data, n);
        stream(buffer, 128u + n, seed, (seed & 2u) ? (uint32_t)sizeof FIX_SFB : 0u);
        break;
    }
    case 4:
    case 5: {
        size_t n = patch_stream(buffer, mode == 4 ? FIX_SFBP_COMPAT : FIX_SFBP_COMPACT, data, size);
        stream(buffer, n, seed, (seed & 2u) ? (uint32_t)n : 0u);
        host_boot(&vector); /* a patch that regenerated the authentic v2 may be installed */
        break;
    }
    case 2:
        memcpy(host_flash() + SLOT1_OFF, data, size < SPB_SLOT1_SIZE ? size : SPB_SLOT1_SIZE);
        host_boot(&vector);
        break;
    default: {
        size_t n = size < SPB_SLOT1_SIZE - 128u ? size : SPB_SLOT1_SIZE - 128u;
        memcpy(host_flash() + SLOT1_OFF, FIX_SFB, 128);
        memcpy(host_flash() + SLOT1_OFF + 128, data, n);
        host_boot(&vector);
        break;
    }
    }
    if (host_violations() != 0u) {
        abort(); /* the core broke a flash rule */
    }
    /* Nothing the fuzzer can forge may replace SLOT0: only FIX_SFB's image and the patches' TO image are
     * authentic, and SLOT0 may only ever hold one of them (or stay as it was). */
    if (memcmp(host_flash() + SLOT0_OFF, FIX_SLOT0, 128) != 0) {
        if (memcmp(host_flash() + SLOT0_OFF, FIX_SFB, 128) != 0 &&
            memcmp(host_flash() + SLOT0_OFF, FIX_SFBP_COMPAT + 128, 128) != 0) {
            abort(); /* SLOT0 holds a header that is neither the old nor the authentic new one */
        }
    }
    return 0;
}
