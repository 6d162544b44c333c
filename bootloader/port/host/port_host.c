/* SPDX-License-Identifier: Apache-2.0 */
/* Host port: port.h over simulated flash (see host_sim.h). */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "spb_board.h"
#include "boot.h"
#include "flash_geom.h"
#include "host_sim.h"
#include "port.h"

#if defined(SPB_EXT_FLASH_PRESENT)
/* The simulator covers the first 16 MiB of external flash: every board's slots lie there. */
#define HOST_EXT_SIZE (SPB_EXT_FLASH_SIZE < 0x1000000u ? SPB_EXT_FLASH_SIZE : 0x1000000u)
#else
#define HOST_EXT_SIZE 0u
#endif

static uint8_t *flash_mem, *flash_copy;
/* ECC (boards with SPB_FLASH_ECC_DETECT, internal flash only): one byte per programming unit, set where a
 * cut left data and check bits that disagree. Reading such a unit is an error, as the L4 port's guarded
 * read reports it. */
static uint8_t *ecc_bad, *ecc_copy;
#define HOST_UNITS (SPB_FLASH_SIZE / SPB_FLASH_WRITE_SIZE)
static uint8_t *ext_mem, *ext_copy;
static uint32_t ops, erases, cut_at, violations, millis;
static jmp_buf *cut_env;
static char console[1u << 17];
static uint32_t console_len;

void update_host_power_on(void); /* update.c, SPB_HOST only */

static void ensure_memory(void)
{
    if (flash_mem == NULL) {
        flash_mem = malloc(SPB_FLASH_SIZE);
        flash_copy = malloc(SPB_FLASH_SIZE);
        ecc_bad = calloc(HOST_UNITS, 1);
        ecc_copy = calloc(HOST_UNITS, 1);
        if (HOST_EXT_SIZE != 0u) {
            ext_mem = malloc(HOST_EXT_SIZE);
            ext_copy = malloc(HOST_EXT_SIZE);
        }
        if (flash_mem == NULL || flash_copy == NULL || ecc_bad == NULL || ecc_copy == NULL || (HOST_EXT_SIZE != 0u && (ext_mem == NULL || ext_copy == NULL))) {
            abort();
        }
    }
}

void host_erase_all(void)
{
    ensure_memory();
    memset(ecc_bad, 0, HOST_UNITS);
    memset(flash_mem, SPB_FLASH_ERASED_VALUE, SPB_FLASH_SIZE);
#if defined(SPB_EXT_FLASH_PRESENT)
    memset(ext_mem, 0xFF, HOST_EXT_SIZE); /* NOR flash erases to 0xFF */
#endif
    ops = erases = cut_at = violations = 0;
    host_console_clear();
    host_power_on();
}

void host_power_on(void)
{
    update_host_power_on();
    millis = 0;
}

uint8_t *host_flash(void) { ensure_memory(); return flash_mem; }
uint32_t host_flash_size(void) { return SPB_FLASH_SIZE; }
uint8_t *host_ext(void) { ensure_memory(); return ext_mem; }
uint32_t host_ext_size(void) { return HOST_EXT_SIZE; }
uint8_t *host_ecc(void) { ensure_memory(); return ecc_bad; }
uint32_t host_ecc_size(void) { return HOST_UNITS; }

void host_snapshot(void)
{
    ensure_memory();
    memcpy(flash_copy, flash_mem, SPB_FLASH_SIZE);
    memcpy(ecc_copy, ecc_bad, HOST_UNITS);
#if defined(SPB_EXT_FLASH_PRESENT)
    memcpy(ext_copy, ext_mem, HOST_EXT_SIZE);
#endif
}

void host_restore(void)
{
    memcpy(flash_mem, flash_copy, SPB_FLASH_SIZE);
    memcpy(ecc_bad, ecc_copy, HOST_UNITS);
#if defined(SPB_EXT_FLASH_PRESENT)
    memcpy(ext_mem, ext_copy, HOST_EXT_SIZE);
#endif
}

void host_set_cut(uint32_t op) { cut_at = op; }
void host_reset_ops(void) { ops = erases = 0; }
uint32_t host_ops(void) { return ops; }
uint32_t host_erases(void) { return erases; }
uint32_t host_violations(void) { return violations; }
const char *host_console(void) { console[console_len] = '\0'; return console; }
void host_console_clear(void) { console_len = 0; }

/* Memory behind [addr, addr + len) and its erased value; NULL if outside. */
static uint8_t *map(uint32_t addr, uint32_t len, uint8_t *erased)
{
    if (addr >= SPB_FLASH_BASE && addr - SPB_FLASH_BASE <= SPB_FLASH_SIZE && len <= SPB_FLASH_SIZE - (addr - SPB_FLASH_BASE)) {
        *erased = SPB_FLASH_ERASED_VALUE;
        return flash_mem + (addr - SPB_FLASH_BASE);
    }
#if defined(SPB_EXT_FLASH_PRESENT)
    if (addr >= SPB_EXT_FLASH_BASE && addr - SPB_EXT_FLASH_BASE <= HOST_EXT_SIZE &&
        len <= HOST_EXT_SIZE - (addr - SPB_EXT_FLASH_BASE)) {
        *erased = 0xFF;
        return ext_mem + (addr - SPB_EXT_FLASH_BASE);
    }
#endif
    return NULL;
}

static int is_unit_start(uint32_t addr, uint32_t *size)
{
#if defined(SPB_EXT_FLASH_PRESENT)
    if (addr >= SPB_EXT_FLASH_BASE && addr - SPB_EXT_FLASH_BASE < HOST_EXT_SIZE) {
        *size = SPB_EXT_FLASH_SECTOR_SIZE;
        return (addr - SPB_EXT_FLASH_BASE) % SPB_EXT_FLASH_SECTOR_SIZE == 0u;
    }
#endif
    return spb_sector_index(addr, size) >= 0;
}

static int is_internal(uint32_t addr)
{
    return addr >= SPB_FLASH_BASE && addr - SPB_FLASH_BASE < SPB_FLASH_SIZE;
}


static void ecc_mark(uint32_t addr, uint32_t len, uint8_t bad)
{
#if defined(SPB_FLASH_ECC_DETECT)
    if (!is_internal(addr)) {
        return;
    }
    for (uint32_t u = (addr - SPB_FLASH_BASE) / SPB_FLASH_WRITE_SIZE; u * SPB_FLASH_WRITE_SIZE < addr + len - SPB_FLASH_BASE; u++) {
        ecc_bad[u] = bad;
    }
#else
    (void)addr;
    (void)len;
    (void)bad;
#endif
}

static int ecc_error_in(uint32_t addr, uint32_t len)
{
#if defined(SPB_FLASH_ECC_DETECT)
    if (!is_internal(addr)) {
        return 0;
    }
    for (uint32_t u = (addr - SPB_FLASH_BASE) / SPB_FLASH_WRITE_SIZE; u * SPB_FLASH_WRITE_SIZE < addr + len - SPB_FLASH_BASE; u++) {
        if (ecc_bad[u]) {
            return 1;
        }
    }
#else
    (void)addr;
    (void)len;
#endif
    return 0;
}

static void maybe_cut(void)
{
    if (cut_at != 0u && ops == cut_at && cut_env != NULL) {
        longjmp(*cut_env, 1);
    }
}

/* Deterministic randomness for a torn operation, from its operation number. */
static uint32_t tear_bits(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

/* Each bit that the operation had to move (towards `target`) moved or not. */
static void tear(uint8_t *p, const uint8_t *target, uint32_t len, uint8_t fill)
{
    uint32_t state = 0x9E3779B9u ^ (ops * 2654435761u);
    for (uint32_t i = 0; i < len; i++) {
        uint8_t want = target != NULL ? target[i] : fill;
        uint8_t moving = (uint8_t)(p[i] ^ want);
        p[i] ^= (uint8_t)(tear_bits(&state) & moving);
    }
}

/* One operation: counts, and at the armed cut point leaves it torn and stops everything. A torn program
 * leaves its unit with an ECC error; a torn erase every programming unit of the sector that was not
 * already erased. */
static void operation(uint8_t *p, const uint8_t *target, uint32_t addr, uint32_t len, uint8_t fill)
{
    ops++;
    if (cut_at != 0u && ops == cut_at) {
        if (target != NULL) {
            tear(p, target, len, fill);
            ecc_mark(addr, len, 1u);
        } else {
            uint32_t unit = is_internal(addr) ? SPB_FLASH_WRITE_SIZE : len;
            for (uint32_t off = 0; off < len; off += unit) {
                uint32_t i = 0;
                while (i < unit && p[off + i] == fill) {
                    i++;
                }
                if (i < unit || ecc_error_in(addr + off, unit)) {
                    tear(p + off, NULL, unit, fill);
                    ecc_mark(addr + off, unit, 1u);
                }
            }
        }
        maybe_cut();
    }
    if (target != NULL) {
        memcpy(p, target, len);
    } else {
        memset(p, fill, len);
    }
    ecc_mark(addr, len, 0u);
}

int port_flash_erase(uint32_t addr)
{
    uint32_t size = 0;
    uint8_t erased;
    if (!is_unit_start(addr, &size)) {
        violations++;
        return -1;
    }
    uint8_t *p = map(addr, size, &erased);
    if (p == NULL) {
        violations++;
        return -1;
    }
    erases++;
    /* A page or sector erase is one operation of the flash controller. */
    operation(p, NULL, addr, size, erased);
    return 0;
}

int port_flash_write(uint32_t addr, const void *data, uint32_t len)
{
    uint8_t erased;
    uint8_t *p = map(addr, len, &erased);
    uint32_t program = SPB_FLASH_WRITE_SIZE;
#if defined(SPB_EXT_FLASH_PRESENT)
    if (!is_internal(addr)) {
        program = SPB_EXT_FLASH_WRITE_SIZE;
    }
#endif
    if (p == NULL || len == 0u || addr % program != 0u || len % program != 0u) {
        violations++;
        return -1;
    }
    for (uint32_t i = 0; i < len; i++) {
        if (p[i] != erased) {
            violations++; /* programming a unit that is not erased */
            return -3;
        }
    }
    if (ecc_error_in(addr, len)) {
        violations++; /* a torn unit must be erased before it is programmed again */
        return -3;
    }
    /* Every programming unit is one operation of the flash controller. */
    for (uint32_t off = 0; off < len; off += program) {
        operation(p + off, (const uint8_t *)data + off, addr + off, program, erased);
    }
    return 0;
}

int port_flash_read(uint32_t addr, void *dst, uint32_t len)
{
    uint8_t erased;
    uint8_t *p = map(addr, len, &erased);
    if (p == NULL) {
        return -1;
    }
    memcpy(dst, p, len);
    return ecc_error_in(addr, len) ? -6 : 0;
}

void port_init(void) {}

uint32_t port_millis(void)
{
    return millis++;
}

void port_uart_write(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len && console_len + 1u < sizeof console; i++) {
        console[console_len++] = (char)data[i];
    }
}

int port_uart_read(uint8_t *byte, uint32_t timeout_ms)
{
    (void)byte;
    (void)timeout_ms;
    return 0;
}

bool port_button_pressed(void)
{
    return false;
}

void port_reset(void)
{
    abort(); /* the core never resets by itself */
}

void port_jump_to_app(uint32_t vector_table)
{
    (void)vector_table;
    abort(); /* host_boot() returns the address instead */
}

int host_boot(uint32_t *vector_table)
{
    jmp_buf env;
    *vector_table = 0;
    host_power_on();
    if (setjmp(env) != 0) {
        cut_env = NULL;
        return 1;
    }
    cut_env = &env;
    *vector_table = boot_run();
    cut_env = NULL;
    return 0;
}

int host_update(const uint8_t *data, uint32_t len, uint32_t chunk, uint16_t reboot_delay, uint32_t declared,
                int install, SE_PATCH_Status *status, uint32_t *failed_call)
{
    jmp_buf env;
    /* Volatile: they change between setjmp and a possible longjmp. */
    volatile uint32_t offset = 0;
    SE_PATCH_StartInfo info = {SE_PATCH_ImageType_APP, 0, reboot_delay, declared};
    *failed_call = 0;
    if (setjmp(env) != 0) {
        cut_env = NULL;
        return 1;
    }
    cut_env = &env;
    SE_PATCH_InitStatus(status);
    if (SE_PATCH_Init(status, &info) != SE_SUCCESS) {
        *failed_call = 1;
        cut_env = NULL;
        return 0;
    }
    while (offset < len) {
        uint32_t n = len - offset < chunk ? len - offset : chunk;
        if (SE_PATCH_Data(status, data + offset, n) != SE_SUCCESS) {
            *failed_call = 2;
            cut_env = NULL;
            return 0;
        }
        offset += n;
    }
    if (install && SE_PATCH_InstallAtNextReset(status) != SE_SUCCESS) {
        *failed_call = 3;
    }
    cut_env = NULL;
    return 0;
}

int host_app_call(uint32_t which, SE_StatusTypeDef *status, SE_APP_ActiveFwInfo *info, uint32_t *result)
{
    jmp_buf env;
    *result = 0;
    if (setjmp(env) != 0) {
        cut_env = NULL;
        return 1;
    }
    cut_env = &env;
    switch (which) {
    case 0:
        *result = SE_APP_Confirm(status);
        break;
    case 1:
        *result = SE_APP_Rollback(status);
        break;
    default:
        *result = SE_APP_GetActiveFwInfo2(status, info);
        break;
    }
    cut_env = NULL;
    return 0;
}
