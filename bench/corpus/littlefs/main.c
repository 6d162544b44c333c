/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark application around littlefs: a RAM-backed block device, format, mount, a small log file
 * appended and rotated, a directory listing and a file system check. The same source is built against
 * several littlefs releases (bench/corpus/build.py): the images differ by what changed in littlefs. */
#include <string.h>

#include "lfs.h"

#define BLOCK_SIZE 512
#define BLOCK_COUNT 64

static uint8_t storage[BLOCK_SIZE * BLOCK_COUNT];
volatile uint32_t result;

static int bd_read(const struct lfs_config *c, lfs_block_t block, lfs_off_t off, void *buffer, lfs_size_t size)
{
    (void)c;
    memcpy(buffer, &storage[block * BLOCK_SIZE + off], size);
    return 0;
}

static int bd_prog(const struct lfs_config *c, lfs_block_t block, lfs_off_t off, const void *buffer,
                   lfs_size_t size)
{
    (void)c;
    memcpy(&storage[block * BLOCK_SIZE + off], buffer, size);
    return 0;
}

static int bd_erase(const struct lfs_config *c, lfs_block_t block)
{
    (void)c;
    memset(&storage[block * BLOCK_SIZE], 0xFF, BLOCK_SIZE);
    return 0;
}

static int bd_sync(const struct lfs_config *c)
{
    (void)c;
    return 0;
}

static const struct lfs_config config = {
    .read = bd_read,
    .prog = bd_prog,
    .erase = bd_erase,
    .sync = bd_sync,
    .read_size = 16,
    .prog_size = 16,
    .block_size = BLOCK_SIZE,
    .block_count = BLOCK_COUNT,
    .cache_size = 64,
    .lookahead_size = 16,
    .block_cycles = 500,
};

int main(void)
{
    lfs_t lfs;
    lfs_file_t file;
    struct lfs_info info;
    lfs_dir_t dir;
    uint32_t count = 0;

    if (lfs_mount(&lfs, &config) != 0) {
        lfs_format(&lfs, &config);
        lfs_mount(&lfs, &config);
    }
    lfs_mkdir(&lfs, "log");
    for (int i = 0; i < 8; i++) {
        lfs_file_open(&lfs, &file, "log/current", LFS_O_RDWR | LFS_O_CREAT | LFS_O_APPEND);
        lfs_file_write(&lfs, &file, "sample line\n", 12);
        if (lfs_file_size(&lfs, &file) > 2048) {
            lfs_file_close(&lfs, &file);
            lfs_remove(&lfs, "log/previous");
            lfs_rename(&lfs, "log/current", "log/previous");
            continue;
        }
        lfs_file_sync(&lfs, &file);
        lfs_file_seek(&lfs, &file, 0, LFS_SEEK_SET);
        char line[12];
        lfs_file_read(&lfs, &file, line, sizeof line);
        lfs_file_close(&lfs, &file);
    }
    lfs_dir_open(&lfs, &dir, "log");
    while (lfs_dir_read(&lfs, &dir, &info) > 0) {
        count += info.size;
    }
    lfs_dir_close(&lfs, &dir);
    lfs_stat(&lfs, "log/current", &info);
    result = count + (uint32_t)lfs_fs_size(&lfs);
    lfs_unmount(&lfs);
    return 0;
}
