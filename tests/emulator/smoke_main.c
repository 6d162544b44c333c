/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Emulator smoke program: exercises bootloader/port/mps2/port_mps2.c and port/common/startup.c under
 * QEMU mps2-an385 (tests/emulator/test_port_smoke.py drives it over the console UART).
 *
 * At every boot it counts itself in a persistent boot counter (one programmed write unit per boot in
 * COUNTER_PAGE), prints "SMOKE boot <n>" and waits for one-letter commands:
 *   t  flash rule test in TEST_PAGE: prints "OK <name>" / "FAIL <name> rc=<n>" lines, then "DONE"
 *   v  verify TEST_PAGE holds what 't' wrote: "VERIFY OK" / "VERIFY BAD"
 *   w  power-cut helper in CUT_PAGE: erase it, then program unit i with pattern(i), print "W <i>" and
 *      wait for any byte before the next unit
 *   m  "MS <millis>"
 *   j  port_jump_to_app() to a tiny vector table inside this program ("APP vtor=<hex> sp=<hex>"), which
 *      then resets the board
 *   r  port_reset()
 *   z  overwrite the boot alias at address 0 (reset SP/PC), then port_reset(): the next boot proves QEMU
 *      restores the alias at every system reset
 *   c  "CYC <ticks> <dwt>": SysTick ticks (and DWT CYCCNT) around a 100000-instruction loop; under
 *      -icount shift=0 one tick is 40 instructions at 25 MHz
 */
#include <stdint.h>
#include <string.h>

#include "port.h"
#include "spb_board.h"

#define COUNTER_PAGE (SPB_FLASH_BASE + 0x80000u)
#define TEST_PAGE    (SPB_FLASH_BASE + 0x80800u)
#define CUT_PAGE     (SPB_FLASH_BASE + 0x81000u)
#define PAGE_SIZE    0x800u
#define UNIT         SPB_FLASH_WRITE_SIZE

static void puts_(const char *s)
{
    port_uart_write((const uint8_t *)s, strlen(s));
}

static void put_dec(int32_t v)
{
    char buf[12];
    int n = 0;
    uint32_t u = v < 0 ? (uint32_t)-v : (uint32_t)v;
    if (v < 0) {
        puts_("-");
    }
    do {
        buf[n++] = (char)('0' + u % 10u);
        u /= 10u;
    } while (u != 0u);
    while (n > 0) {
        port_uart_write((const uint8_t *)&buf[--n], 1);
    }
}

static void put_hex(uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    char buf[8];
    for (int i = 0; i < 8; i++) {
        buf[i] = digits[(v >> (28 - 4 * i)) & 0xFu];
    }
    port_uart_write((const uint8_t *)buf, 8);
}

static int s_failures;

static void check(const char *name, int ok, int rc)
{
    puts_(ok ? "OK " : "FAIL ");
    puts_(name);
    if (!ok) {
        puts_(" rc=");
        put_dec(rc);
        s_failures++;
    }
    puts_("\r\n");
}

static void pattern(uint8_t *buf, uint32_t len, uint32_t seed)
{
    for (uint32_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)(seed * 31u + i * 7u + 1u);
    }
}

static int is_blank(uint32_t addr, uint32_t len)
{
    const volatile uint8_t *p = (const volatile uint8_t *)addr;
    for (uint32_t i = 0; i < len; i++) {
        if (p[i] != 0xFFu) {
            return 0;
        }
    }
    return 1;
}

static int boot_count(void)
{
    /* Count programmed units in COUNTER_PAGE and program the next one. */
    uint32_t n = 0;
    while (n < PAGE_SIZE / UNIT && !is_blank(COUNTER_PAGE + n * UNIT, UNIT)) {
        n++;
    }
    if (n == PAGE_SIZE / UNIT) {
        (void)port_flash_erase(COUNTER_PAGE);
        n = 0;
    }
    uint8_t unit[UNIT];
    memset(unit, 0xA5, sizeof unit);
    unit[0] = (uint8_t)n;
    (void)port_flash_write(COUNTER_PAGE + n * UNIT, unit, UNIT);
    return (int)n + 1;
}

static void flash_test(void)
{
    uint8_t buf[64];
    uint8_t back[64];
    int rc;

    s_failures = 0;
    rc = port_flash_erase(TEST_PAGE);
    check("erase", rc == 0 && is_blank(TEST_PAGE, PAGE_SIZE), rc);

    pattern(buf, sizeof buf, 1);
    rc = port_flash_write(TEST_PAGE, buf, sizeof buf);
    check("write", rc == 0, rc);
    rc = port_flash_read(TEST_PAGE, back, sizeof back);
    check("readback", rc == 0 && memcmp(buf, back, sizeof buf) == 0, rc);

    rc = port_flash_write(TEST_PAGE + 8u, buf, UNIT);
    check("reprogram_refused", rc < 0, rc);
    rc = port_flash_write(TEST_PAGE + 0x100u + 4u, buf, UNIT);
    check("misaligned_addr_refused", rc < 0 && is_blank(TEST_PAGE + 0x100u, 16u), rc);
    rc = port_flash_write(TEST_PAGE + 0x100u, buf, UNIT + 4u);
    check("misaligned_len_refused", rc < 0 && is_blank(TEST_PAGE + 0x100u, 16u), rc);
    rc = port_flash_write(SPB_FLASH_BASE + SPB_FLASH_SIZE - UNIT, buf, 2u * UNIT);
    check("beyond_flash_refused", rc < 0, rc);
    rc = port_flash_erase(TEST_PAGE + 0x100u);
    check("erase_misaligned_refused", rc < 0, rc);
    rc = port_flash_erase(SPB_FLASH_BASE + SPB_FLASH_SIZE);
    check("erase_beyond_refused", rc < 0, rc);

    /* A unit programmed with all-0xFF data is programmed all the same (ECC): the shadow catches it. */
    memset(back, 0xFF, UNIT);
    rc = port_flash_write(TEST_PAGE + 0x200u, back, UNIT);
    check("write_ff", rc == 0, rc);
    rc = port_flash_write(TEST_PAGE + 0x200u, buf, UNIT);
    check("reprogram_ff_refused", rc < 0 && is_blank(TEST_PAGE + 0x200u, UNIT), rc);

    /* A multi-unit write stops at the first programmed unit; the ones before it are programmed. */
    rc = port_flash_write(TEST_PAGE + 0x1F0u, buf, 3u * UNIT);
    check("partial_write_refused", rc < 0 && memcmp((const void *)(TEST_PAGE + 0x1F0u), buf, 2u * UNIT) == 0, rc);

    /* Erase + write again, then the data that 'v' checks after a reset. */
    rc = port_flash_erase(TEST_PAGE);
    check("erase_again", rc == 0 && is_blank(TEST_PAGE, PAGE_SIZE), rc);
    pattern(buf, sizeof buf, 2);
    rc = port_flash_write(TEST_PAGE + 8u, buf, UNIT);
    check("write_after_erase", rc == 0, rc);
    for (uint32_t off = 0x400u; off < PAGE_SIZE; off += sizeof buf) {
        pattern(buf, sizeof buf, off);
        rc = port_flash_write(TEST_PAGE + off, buf, sizeof buf);
        if (rc != 0) {
            break;
        }
    }
    check("write_upper_half", rc == 0, rc);

    uint32_t t0 = port_millis();
    while (port_millis() - t0 < 20u) {
    }
    check("millis_advances", port_millis() - t0 >= 20u, (int)(port_millis() - t0));
    check("no_button", !port_button_pressed(), 0);

    puts_(s_failures == 0 ? "DONE PASS\r\n" : "DONE FAIL\r\n");
}

static void verify(void)
{
    uint8_t buf[64];
    int ok = 1;
    pattern(buf, sizeof buf, 2);
    ok &= memcmp((const void *)(TEST_PAGE + 8u), buf, UNIT) == 0;
    for (uint32_t off = 0x400u; off < PAGE_SIZE; off += sizeof buf) {
        pattern(buf, sizeof buf, off);
        ok &= memcmp((const void *)(TEST_PAGE + off), buf, sizeof buf) == 0;
    }
    ok &= is_blank(TEST_PAGE, 8u) && is_blank(TEST_PAGE + 16u, 0x400u - 16u);
    puts_(ok ? "VERIFY OK\r\n" : "VERIFY BAD\r\n");
}

static void cut_helper(void)
{
    uint8_t unit[UNIT];
    uint8_t c;
    int rc = port_flash_erase(CUT_PAGE);
    for (uint32_t i = 0; rc == 0 && i < PAGE_SIZE / UNIT; i++) {
        pattern(unit, UNIT, 1000u + i);
        rc = port_flash_write(CUT_PAGE + i * UNIT, unit, UNIT);
        puts_("W ");
        put_dec((int32_t)i);
        puts_("\r\n");
        while (!port_uart_read(&c, 1000u)) {
        }
    }
    puts_("WEND ");
    put_dec(rc);
    puts_("\r\n");
}

/* ---- port_jump_to_app target ---- */

static void app_reset(void)
{
    uint32_t sp;
    __asm volatile("mrs %0, msp" : "=r"(sp));
    *(volatile uint32_t *)0x40004008u = 3u; /* port_jump_to_app() switched the UART off: TXEN | RXEN */
    puts_("APP vtor=");
    put_hex(*(volatile uint32_t *)0xE000ED08u);
    puts_(" sp=");
    put_hex(sp);
    puts_(" systick=");
    put_hex(*(volatile uint32_t *)0xE000E010u & 3u);
    puts_("\r\n");
    /* Reset at once instead of waiting for a command: with SysTick off no guest timer is armed, and
     * QEMU's socket chardev may then not notice input that arrives after the UART was re-enabled
     * (seen as a rare hang on a loaded host). */
    port_reset();
}

__attribute__((aligned(128))) static const uint32_t app_vectors[16] = {
    0x20008000u,
    (uint32_t)(uintptr_t)app_reset,
};

static void count_insns(void)
{
    uint32_t n = 50000u;
    *(volatile uint32_t *)0xE000EDFCu |= 1u << 24; /* DEMCR.TRCENA */
    *(volatile uint32_t *)0xE0001000u |= 1u;       /* DWT_CTRL.CYCCNTENA */
    uint32_t d0 = *(volatile uint32_t *)0xE0001004u;
    uint32_t t0 = *(volatile uint32_t *)0xE000E018u;
    __asm volatile("1: subs %0, %0, #1\n\t"
                   "bne 1b\n\t"
                   : "+r"(n)::"cc");
    uint32_t t1 = *(volatile uint32_t *)0xE000E018u;
    uint32_t d1 = *(volatile uint32_t *)0xE0001004u;
    uint32_t reload = *(volatile uint32_t *)0xE000E014u + 1u;
    puts_("CYC ");
    put_dec((int32_t)((t0 - t1 + reload) % reload));
    puts_(" ");
    put_dec((int32_t)(d1 - d0));
    puts_("\r\n");
}

int main(void)
{
    uint32_t vtor0 = *(volatile uint32_t *)0xE000ED08u;
    port_init();
    int boot = boot_count();
    puts_("SMOKE boot ");
    put_dec(boot);
    puts_(" vtor=");
    put_hex(*(volatile uint32_t *)0xE000ED08u);
    puts_(" vtor0=");
    put_hex(vtor0);
    puts_("\r\n");
    for (;;) {
        uint8_t c;
        if (!port_uart_read(&c, 1000u)) {
            continue;
        }
        switch (c) {
        case 't': flash_test(); break;
        case 'v': verify(); break;
        case 'w': cut_helper(); break;
        case 'm':
            puts_("MS ");
            put_dec((int32_t)port_millis());
            puts_("\r\n");
            break;
        case 'j': port_jump_to_app((uint32_t)(uintptr_t)app_vectors);
        case 'c': count_insns(); break;
        case 'z': {
            uintptr_t alias = 0u;
            __asm volatile("" : "+r"(alias)); /* address 0 is RAM here, hide it from the null checks */
            ((volatile uint32_t *)alias)[0] = 0u;
            ((volatile uint32_t *)alias)[1] = 0u;
            port_reset();
        }
        case 'r': port_reset();
        default: break;
        }
    }
}
