/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target over the real bootloader core and the host flash simulator (fuzz/README.md).
 * The first input byte picks the mode (SPB_FUZZ_MODE=N in the environment pins it), the second seeds
 * the chunking:
 *   0  the input is an update stream (SE_PATCH_Init + SE_PATCH_Data in pseudo-random chunks)
 *   1  a correctly signed header, then the input as the rest of the stream, then boot
 *   2  the input is SLOT1's flash content, then the boot sequence runs
 *   3  a correctly signed header in SLOT1, the input as everything after it (markers, body), then boot
 *   4  authentic .sfbp headers (compat encoding), the input as the raw patch, encrypted by the target
 *   5  the same with the compact encoding
 *   6  the patch decoders alone, any TO size, FROM size and patch: chunked at random and again in the
 *      16-byte pieces the firmware feeds them; both runs must agree to the byte
 *   7  authentic headers with edge-case fields (fuzz_fixture.h, FIX_EDGE) as a stream, in SLOT1, or
 *      installed in SLOT0 over v1's image, then boot
 *   8  power cuts: a near-valid state (SLOT0 v1/erased/v2/half-copied v2, SLOT1 the v1.1.0 .sfb or its
 *      download, markers erased/written/torn/arbitrary, bytes flipped, the install journal from the
 *      input) and boots cut at chosen flash operations, then an uncut boot
 * SLOT0 always starts as a valid v1.0.0 image (mode 8 may damage it). After every run: no flash rule was
 * broken; an uncut boot launches exactly when SLOT0 holds v1.0.0 or v1.1.0 byte for byte with its
 * installed header (never anything else), never loses a valid SLOT0, and a further boot touches no
 * flash. From a clean state (v1 installed, v1.1.0 downloaded or marked READY), whatever the cuts, the
 * final uncut boot ends on v1.1.0 (on v1 or v1.1.0 if the download itself was cut).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spb_board.h"
#include "aes128.h"
#include "keys.h"
#include "boot.h"
#include "fuzz_fixture.h"
#include "host_sim.h"
#include "patch.h"
#include "patch_compact.h"
#include "patch_jojo.h"
#include "se_interface.h"
#include "slot.h"

#define MODES 9u

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

#define VEC       SPB_VECTOR_SIZE
#define ERASED    ((uint8_t)SPB_FLASH_ERASED_VALUE)
#define SLOT0_OFF (SPB_SLOT0_ADDR - SPB_FLASH_BASE)
#define SLOT1_OFF (SPB_SLOT1_ADDR - SPB_FLASH_BASE)
#define INSTALLED SLOT_INSTALLED_HEADER_SIZE /* header + three signature copies */

static int forced_mode = -1;
static unsigned mode;

#define CHECK(cond, what)                                                                      \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "fuzz_target: mode %u: %s (%s:%d)\n", mode, what, __FILE__, __LINE__); \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *pin = getenv("SPB_FUZZ_MODE");
    if (pin != NULL && *pin != '\0') {
        forced_mode = atoi(pin);
        if (forced_mode < 0 || (unsigned)forced_mode >= MODES) {
            fprintf(stderr, "SPB_FUZZ_MODE must be 0..%u\n", MODES - 1u);
            exit(2);
        }
    }
    return 0;
}

static uint8_t *slot0(void)
{
    return host_flash() + SLOT0_OFF;
}

static uint8_t *slot1(void)
{
    return host_flash() + SLOT1_OFF;
}

static int ecc_error(uint32_t off, uint32_t len)
{
    const uint8_t *ecc = host_ecc();
    for (uint32_t u = off / SPB_FLASH_WRITE_SIZE; u * SPB_FLASH_WRITE_SIZE < off + len; u++) {
        if (ecc[u] != 0u) {
            return 1;
        }
    }
    return 0;
}

/* 1, 2 or 3 when SLOT0 holds v1.0.0, v1.1.0 or the patches' v1.1.0 exactly as the core must see them to
 * launch (installed header with its three copies, the image, no unit reading as an ECC error); else 0.
 * Those are the only authentic images (the edge headers' tags match no image, or v1.1.0's under an
 * older or equal version, which must never be installed). */
static int slot0_form(void)
{
    if (ecc_error(SLOT0_OFF, INSTALLED) || ecc_error(SLOT0_OFF + VEC, FIX_IMAGE_SIZE)) {
        return 0;
    }
    if (memcmp(slot0(), FIX_SLOT0, INSTALLED) == 0 && memcmp(slot0() + VEC, FIX_SLOT0 + VEC, FIX_IMAGE_SIZE) == 0) {
        return 1;
    }
    if (memcmp(slot0(), FIX_SLOT0_V2, INSTALLED) == 0 &&
        memcmp(slot0() + VEC, FIX_SLOT0_V2 + VEC, FIX_IMAGE_SIZE) == 0) {
        return 2;
    }
    if (memcmp(slot0(), FIX_SLOT0_V2P, INSTALLED) == 0 &&
        memcmp(slot0() + VEC, FIX_SLOT0_V2P + VEC, FIX_IMAGE_SIZE) == 0) {
        return 3;
    }
    return 0;
}

/* An uncut boot: launch exactly when SLOT0 is valid, never lose a valid SLOT0, stable on the next boot. */
static uint32_t boot_checked(void)
{
    uint32_t vector = 0, again = 0;
    int before = slot0_form();
    CHECK(host_boot(&vector) == 0, "boot cut without a cut armed");
    int after = slot0_form();
    CHECK(vector == 0u || vector == SPB_SLOT0_ADDR + VEC, "launch address");
    CHECK((vector != 0u) == (after != 0), "launch decision disagrees with SLOT0's content");
    CHECK(before == 0 || after != 0, "an uncut boot lost a valid SLOT0");
    CHECK(before < 2 || after == before, "v1.1.0 replaced by an older or equal version");
    host_reset_ops();
    CHECK(host_boot(&again) == 0, "boot cut without a cut armed");
    CHECK(again == vector, "a second boot decided differently");
    CHECK(host_ops() == 0u, "a second boot touched flash");
    return vector;
}

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

/* SLOT1 as the download leaves it: header, erased header area, encrypted body; READY when asked. */
static void slot1_sfb(int ready)
{
    memcpy(slot1(), FIX_SFB, 128);
    memcpy(slot1() + VEC, FIX_SFB + VEC, FIX_IMAGE_SIZE);
    if (ready) {
        memcpy(slot1() + SLOT_MARK_READY, FIX_SFB + 64, SLOT_MARK_SIZE);
    }
}

/* ---- mode 6: the decoders alone ---- */

#define DEC_MAX_NEW 0x2000u
static uint8_t dec_out[DEC_MAX_NEW + 64u];

typedef struct {
    patch_result_t result;
    uint32_t produced;
} dec_outcome_t;

static dec_outcome_t decode_run(int compact, uint32_t old_size, uint32_t new_size, const uint8_t *data, size_t size,
                                uint8_t seed, int random_chunks)
{
    union {
        jojo_state_t jojo;
        compact_state_t compact;
    } dec;
    patch_from_t from = {compact ? IMAGE_PROTOCOL_PATCH_COMPACT : IMAGE_PROTOCOL_PATCH, (uint32_t)size, {0}, 0x01000000u,
                         old_size, 0};
    image_header_t to;
    memset(&to, 0, sizeof to);
    to.size = new_size;
    host_erase_all();
    memcpy(slot0(), FIX_SLOT0, sizeof FIX_SLOT0);
    patch_begin(&from, &to);
    if (compact) {
        compact_init(&dec.compact);
    } else {
        jojo_init(&dec.jojo);
    }
    uint32_t state = seed * 2654435761u + 7u;
    patch_result_t r = PATCH_OK;
    size_t pos = 0;
    while (pos < size && r == PATCH_OK) {
        state = state * 1103515245u + 12345u;
        size_t n = random_chunks ? (state >> 16) % 80u : 16u;
        if (n > size - pos) {
            n = size - pos;
        }
        r = compact ? compact_push(&dec.compact, data + pos, (uint32_t)n) : jojo_push(&dec.jojo, data + pos, (uint32_t)n);
        pos += n;
    }
    if (r == PATCH_OK) {
        r = compact ? compact_end(&dec.compact) : jojo_end(&dec.jojo);
    }
    dec_outcome_t o = {r, patch_produced()};
    CHECK(o.produced <= new_size, "decoder produced more than the TO size");
    patch_reset();
    return o;
}

static void mode_decoders(const uint8_t *data, size_t size, uint8_t seed)
{
    if (size < 4) {
        return;
    }
    int compact = data[0] & 1;
    uint32_t new_size = ((uint32_t)data[1] | (uint32_t)data[2] << 8) % DEC_MAX_NEW;
    uint32_t old_size = data[3] == 0u ? FIX_IMAGE_SIZE : data[3] * 8u;
    data += 4;
    size -= 4;
    uint32_t window = (new_size + 15u) & ~15u;
    dec_outcome_t a = decode_run(compact, old_size, new_size, data, size, seed, 1);
    memcpy(dec_out, slot1() + VEC, window);
    CHECK(host_violations() == 0u, "flash rule broken by a decoder");
    CHECK(memcmp(slot0(), FIX_SLOT0, sizeof FIX_SLOT0) == 0, "a decoder wrote SLOT0");
    dec_outcome_t b = decode_run(compact, old_size, new_size, data, size, seed, 0);
    CHECK(a.result == b.result, "decoder result depends on the chunking");
    CHECK(a.produced == b.produced, "decoder output length depends on the chunking");
    CHECK(memcmp(dec_out, slot1() + VEC, window) == 0, "decoder output depends on the chunking");
}

/* ---- mode 7: authentic headers with edge-case fields ---- */

static void mode_edge(const uint8_t *data, size_t size, uint8_t seed, uint8_t *buffer, size_t room)
{
    if (size < 3) {
        return;
    }
    const uint8_t *ha = &FIX_EDGE[(data[0] % FIX_EDGE_COUNT) * 128u];
    const uint8_t *hb = &FIX_EDGE[(data[1] % FIX_EDGE_COUNT) * 128u];
    unsigned variant = data[2] % 3u;
    data += 3;
    size -= 3;
    switch (variant) {
    case 0: { /* as a stream: first header, second header (the TO header of a patch), the rest */
        size_t n = size < room - 256u ? size : room - 256u;
        memcpy(buffer, ha, 128);
        memcpy(buffer + 128, hb, 128);
        memcpy(buffer + 256, data, n);
        stream(buffer, 256u + n, seed, (seed & 2u) ? (uint32_t)(256u + n) : 0u);
        break;
    }
    case 1: { /* in SLOT1 with the input as markers and body */
        size_t n = size < SPB_SLOT1_SIZE - 128u ? size : SPB_SLOT1_SIZE - 128u;
        memcpy(slot1(), ha, 128);
        memcpy(slot1() + 128, data, n);
        break;
    }
    default: /* installed in SLOT0 over v1's image; SLOT1 holds v1.1.0 marked READY, the input over its markers */
        memcpy(slot0(), ha, 128);
        for (uint32_t i = 0; i < 3u; i++) {
            memcpy(slot0() + 128u + i * SLOT_MARK_SIZE, ha + 64, SLOT_MARK_SIZE);
        }
        slot1_sfb(1);
        memcpy(slot1() + 128, data, size < VEC - 128u ? size : VEC - 128u);
        break;
    }
    boot_checked();
}

/* ---- mode 8: power cuts over near-valid states ---- */

static const uint8_t *tail;
static size_t tail_left;

static uint8_t next_byte(void)
{
    if (tail_left == 0u) {
        return 0;
    }
    tail_left--;
    return *tail++;
}

/* kind 0 erased, 1 written, 2 torn (each bit the write had to move moved or not), 3 arbitrary. */
static void set_marker(uint32_t offset, unsigned kind)
{
    uint8_t *m = slot1() + offset;
    const uint8_t *full = FIX_SFB + 64; /* the marker value: the first 32 signature bytes */
    for (uint32_t i = 0; i < SLOT_MARK_SIZE && kind != 0u; i++) {
        uint8_t b = kind == 1u ? full[i] : next_byte();
        m[i] = kind == 2u ? (uint8_t)(ERASED ^ (b & (ERASED ^ full[i]))) : b;
    }
}

static void mode_cuts(const uint8_t *data, size_t size, uint8_t seed)
{
    if (size < 3) {
        return;
    }
    unsigned state = data[0], counts = data[1], prefix = data[2];
    unsigned s0 = state & 3u, ready = (state >> 3) & 3u, approved = (state >> 5) & 3u, done = counts & 3u;
    unsigned damage = (counts >> 2) & 7u, ncuts = (counts >> 5) & 7u;
    int download = (state >> 2) & 1;
    uint16_t cuts[7] = {0};
    data += 3;
    size -= 3;
    for (unsigned i = 0; i < ncuts; i++) {
        if (size >= 2u) {
            cuts[i] = (uint16_t)((data[0] | data[1] << 8) % 1024u);
            data += 2;
            size -= 2;
        }
    }
    switch (s0) {
    case 0: /* v1 installed (host_erase_all + the common setup did it) */
        break;
    case 1: /* erased: the install's erase happened */
        memset(slot0(), ERASED, sizeof FIX_SLOT0);
        break;
    case 2: /* v1.1.0 installed */
        memcpy(slot0(), FIX_SLOT0_V2, sizeof FIX_SLOT0_V2);
        break;
    default: { /* the copy stopped after `prefix` units: no header yet, part of v1.1.0 */
        uint32_t copied = prefix * 8u < FIX_IMAGE_SIZE ? prefix * 8u : FIX_IMAGE_SIZE;
        memset(slot0(), ERASED, sizeof FIX_SLOT0);
        memcpy(slot0() + VEC, FIX_SLOT0_V2 + VEC, copied);
        break;
    }
    }
    tail = data;
    tail_left = size;
    int clean = s0 == 0u && damage == 0u && (download || (ready == 1u && approved == 0u && done == 0u));
    if (!download) {
        slot1_sfb(0);
        set_marker(SLOT_MARK_READY, ready);
        set_marker(SLOT_MARK_APPROVED, approved);
        set_marker(SLOT_MARK_DONE, done);
    }
    /* Flipped bytes over both slots' header areas and images (before a download: SLOT1's are then
     * mostly erased or overwritten by it). */
    uint32_t span = VEC + FIX_IMAGE_SIZE;
    for (unsigned i = 0; i < damage; i++) {
        uint32_t at = ((uint32_t)next_byte() | (uint32_t)next_byte() << 8) % (2u * span);
        uint8_t flip = next_byte();
        if (at < span) {
            slot0()[at] ^= flip;
        } else {
            slot1()[at - span] ^= flip;
        }
    }
#if defined(SPB_JOURNAL_ADDR)
    if (state & 0x80u) { /* the install journal: whatever the rest of the input says */
        uint8_t *journal = host_flash() + (SPB_JOURNAL_ADDR - SPB_FLASH_BASE);
        for (uint32_t i = 0; i < SPB_JOURNAL_SIZE && tail_left != 0u; i++) {
            journal[i] = next_byte();
        }
        clean = 0;
    }
#endif
    unsigned next_cut = 0;
    int download_cut = 0;
    if (download) {
        SE_PATCH_Status st;
        uint32_t failed = 0;
        host_reset_ops();
        host_set_cut(ncuts > 0u ? cuts[next_cut++] : 0u);
        download_cut = host_update(FIX_SFB, sizeof FIX_SFB, (seed % 200u) + 1u, SE_PATCH_RebootDelay_NEXT,
                                   (seed & 1u) ? (uint32_t)sizeof FIX_SFB : 0u, 0, &st, &failed);
        host_set_cut(0);
        CHECK(!clean || download_cut || (failed == 0u && st.stage == SE_PATCH_Stage_READY),
              "a valid download did not end READY");
        host_power_on();
    }
    CHECK(host_violations() == 0u, "flash rule broken");
    while (next_cut < ncuts) {
        uint32_t vector = 0;
        host_reset_ops();
        host_set_cut(cuts[next_cut++]);
        int cut = host_boot(&vector);
        host_set_cut(0);
        CHECK(host_violations() == 0u, "flash rule broken");
        if (!cut) {
            CHECK((vector != 0u) == (slot0_form() != 0), "launch decision disagrees with SLOT0's content");
        }
    }
    host_reset_ops();
    uint32_t vector = boot_checked();
    if (clean) {
        CHECK(vector != 0u, "nothing to launch after cuts from a clean state");
        CHECK(download_cut || slot0_form() == 2, "v1.1.0 was not installed after the cuts");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buffer[SPB_SLOT1_SIZE];
    if (size < 2) {
        return 0;
    }
    mode = forced_mode >= 0 ? (unsigned)forced_mode : (unsigned)(data[0] % MODES);
    uint8_t seed = data[1];
    data += 2;
    size -= 2;
    host_erase_all();
    memcpy(slot0(), FIX_SLOT0, sizeof FIX_SLOT0);

    switch (mode) {
    case 0:
        stream(data, size, seed, 0);
        CHECK(memcmp(slot0(), FIX_SLOT0, sizeof FIX_SLOT0) == 0, "a stream changed SLOT0");
        break;
    case 1: {
        size_t n = size < sizeof buffer - 128u ? size : sizeof buffer - 128u;
        memcpy(buffer, FIX_SFB, 128);
        memcpy(buffer + 128, data, n);
        stream(buffer, 128u + n, seed, (seed & 2u) ? (uint32_t)sizeof FIX_SFB : 0u);
        CHECK(memcmp(slot0(), FIX_SLOT0, sizeof FIX_SLOT0) == 0, "a stream changed SLOT0");
        boot_checked();
        break;
    }
    case 2:
        memcpy(slot1(), data, size < SPB_SLOT1_SIZE ? size : SPB_SLOT1_SIZE);
        boot_checked();
        break;
    case 3: {
        size_t n = size < SPB_SLOT1_SIZE - 128u ? size : SPB_SLOT1_SIZE - 128u;
        memcpy(slot1(), FIX_SFB, 128);
        memcpy(slot1() + 128, data, n);
        boot_checked();
        break;
    }
    case 4:
    case 5: {
        size_t n = patch_stream(buffer, mode == 4 ? FIX_SFBP_COMPAT : FIX_SFBP_COMPACT, data, size);
        stream(buffer, n, seed, (seed & 2u) ? (uint32_t)n : 0u);
        CHECK(memcmp(slot0(), FIX_SLOT0, sizeof FIX_SLOT0) == 0, "a stream changed SLOT0");
        boot_checked(); /* a patch that regenerated the authentic TO image may be installed */
        break;
    }
    case 6:
        mode_decoders(data, size, seed);
        break;
    case 7:
        mode_edge(data, size, seed, buffer, sizeof buffer);
        break;
    default:
        mode_cuts(data, size, seed);
        break;
    }
    CHECK(host_violations() == 0u, "the core broke a flash rule");
    /* Where SLOT0 started valid, it may only ever hold v1.0.0 or an authentic newer image. */
    CHECK(mode >= 7u || slot0_form() != 0, "SLOT0 no longer holds an authentic image");
    return 0;
}
