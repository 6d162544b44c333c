/* SPDX-License-Identifier: Apache-2.0 */
/* The device's compat decoder (bootloader/src/patch_jojo.c, unchanged) on the host, for the benchmark:
 *   jojo_apply OLD PATCH OUT
 * regenerates OUT from OLD and the raw compat PATCH, fed in chunks of 1..61 bytes like a transfer.
 * Exit status 0 when the stream was accepted, 1 when the decoder refused it, 2 on I/O errors.
 * Built by bench/patch_sizes.py: cc -O2 -Ibootloader/src bench/jojo_apply.c bootloader/src/patch_jojo.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patch_jojo.h"

static uint8_t *old_image, *out_image;
static size_t old_size, out_size, out_cap;

static uint8_t *load(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(n > 0 ? (size_t)n : 1u);
    if (data == NULL || (n > 0 && fread(data, 1, (size_t)n, f) != (size_t)n)) {
        fclose(f);
        return NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return data;
}

patch_result_t patch_emit(const uint8_t *data, uint32_t len)
{
    if (out_size + len > out_cap) {
        out_cap = (out_size + len) * 2u;
        out_image = realloc(out_image, out_cap);
        if (out_image == NULL) {
            exit(2);
        }
    }
    memcpy(out_image + out_size, data, len);
    out_size += len;
    return PATCH_OK;
}

patch_result_t patch_copy_old(uint32_t offset, uint32_t len)
{
    if (offset > old_size || len > old_size - offset) {
        return PATCH_FORMAT;
    }
    return patch_emit(old_image + offset, len);
}

uint32_t patch_old_size(void)
{
    return (uint32_t)old_size;
}

int main(int argc, char **argv)
{
    size_t patch_size;
    uint8_t *patch;
    jojo_state_t state;

    if (argc != 4 || (old_image = load(argv[1], &old_size)) == NULL || (patch = load(argv[2], &patch_size)) == NULL) {
        fprintf(stderr, "usage: jojo_apply OLD PATCH OUT\n");
        return 2;
    }
    jojo_init(&state);
    for (size_t at = 0, chunk = 1; at < patch_size; at += chunk, chunk = chunk % 61u + 1u) {
        size_t n = patch_size - at < chunk ? patch_size - at : chunk;
        if (jojo_push(&state, patch + at, (uint32_t)n) != PATCH_OK) {
            fprintf(stderr, "refused at patch byte %zu\n", at);
            return 1;
        }
    }
    if (jojo_end(&state) != PATCH_OK) {
        fprintf(stderr, "stream ends inside an operation\n");
        return 1;
    }
    FILE *f = fopen(argv[3], "wb");
    if (f == NULL || fwrite(out_image, 1, out_size, f) != out_size || fclose(f) != 0) {
        return 2;
    }
    return 0;
}
