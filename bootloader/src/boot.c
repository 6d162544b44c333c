/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Boot sequence: banner, inspect both slots, install a verified newer update, launch SLOT0 or stay.
 */
#include <stdbool.h>
#include <stdint.h>

#include "boot.h"
#include "install.h"
#include "keys.h"
#include "log.h"
#include "port.h"
#include "protect.h"
#include "spb_board.h"
#include "trial.h"
#include "ymodem.h"

#ifndef SPB_BOOT_VERSION_STR
#define SPB_BOOT_VERSION_STR "v0.0.0"
#endif

#ifdef SPB_SLOT0_EXT_SIZE
#define SLOT0_TOTAL_SIZE (SPB_SLOT0_SIZE + SPB_SLOT0_EXT_SIZE) /* both segments, as the original prints */
#else
#define SLOT0_TOTAL_SIZE SPB_SLOT0_SIZE
#endif

static void banner(void)
{
    log_line("Bootloader starting up.");
    /* One format string (the constant parts joined by the preprocessor): one call instead of six. */
    log_printf("STM32 Secure Patching Bootloader (open re-implementation)\r\n"
               "Build: " SPB_BOOT_VERSION_STR "\r\n"
               "Target: " SPB_BOARD_NAME "\r\n"
               "Clock:%u UART:" SPB_UART_NAME ",%u,N81\r\n"
               "SLOT0:%08X SLOT1:%08X SIZE:%X\r\n"
               "APP RAMSTART:%08X VTOR:%08X\r\n",
               (uint32_t)SPB_SYSCLK_HZ, (uint32_t)SPB_UART_BAUD, (uint32_t)SPB_SLOT0_ADDR, (uint32_t)SPB_SLOT1_ADDR,
               (uint32_t)SLOT0_TOTAL_SIZE, (uint32_t)SPB_APP_RAM_BASE, (uint32_t)(SPB_SLOT0_ADDR + SPB_VECTOR_SIZE));
    if (spb_keys_are_development) {
        log_printf("WARNING: DEVELOPMENT KEYS. Anyone can sign images for this device. Do not ship.\r\n");
    }
}

static void describe_slot1(const slot1_state_t *s)
{
    log_line("Verify slot 1 header.");
    switch (s->header) {
    case IMAGE_OK:
        if (s->done) {
            log_line("Slot 1 is installed.");
        } else if (!s->ready) {
            log_line("Slot 1 is not marked for install.");
        } else {
            log_line("Slot 1 has firmware header: version %V, size %u.", s->h.version, s->h.size);
            log_line("Slot 1 is ready.");
        }
        break;
    case IMAGE_NO_HEADER:
        log_line("Slot 1 is empty.");
        break;
    default:
        log_line("Slot 1 header is invalid (%u).", (uint32_t)s->header);
        break;
    }
}

/* The hand-over checks: the application's vector table must give an initial stack pointer inside its RAM
 * (word aligned, at most the end of RAM) and a reset handler in Thumb state inside SLOT0's image (either
 * part of a MultiSegment image). An authentic image passes; anything else is not jumped to. */
static bool vector_table_ok(const slot0_state_t *s0)
{
    uint32_t vt[2];
    if (port_flash_read(SPB_SLOT0_ADDR + SPB_VECTOR_SIZE, vt, sizeof vt) != 0) {
        return false;
    }
    uint32_t sp = vt[0], pc = vt[1];
    uint32_t ram_end = SPB_RAM_BASE + SPB_RAM_SIZE;
    if (sp <= SPB_APP_RAM_BASE || sp > ram_end || (sp & 3u) != 0u || (pc & 1u) == 0u) {
        return false;
    }
    pc &= ~1u;
    uint32_t internal = s0->h.segoff != 0u ? s0->h.segoff : s0->h.size;
    uint32_t start = SPB_SLOT0_ADDR + SPB_VECTOR_SIZE;
    if (pc >= start && pc - start < internal) {
        return true;
    }
#if defined(SPB_SLOT0_EXT_ADDR)
    if (s0->h.segoff != 0u && pc >= SPB_SLOT0_EXT_ADDR && pc - SPB_SLOT0_EXT_ADDR < s0->h.size - s0->h.segoff) {
        return true;
    }
#endif
    return false;
}

/* SLOT0 again, after something changed it. */
static bool recheck(slot0_state_t *s0)
{
    log_line("Verify slot 0.");
    bool valid = install_check_slot0(s0, true);
    if (valid) {
        log_line("Slot 0 has valid firmware version %V (%u bytes)", s0->h.version, s0->h.size);
    }
    return valid;
}

#if defined(SPB_TRIAL) && SPB_TRIAL
/* trial_settle until it leaves SLOT0 as it is (at most three rounds: resume, reject, revert), verifying
 * SLOT0 after each change. Returns whether SLOT0 is valid. */
static bool settle(slot0_state_t *s0, bool valid, bool *trial)
{
    for (uint32_t round = 0; round < 3u && trial_settle(s0, trial); round++) {
        valid = recheck(s0);
    }
    return valid;
}
#endif

uint32_t boot_run(void)
{
    slot1_state_t s1;
    slot0_state_t s0;

    banner();
#if SPB_YMODEM
    if (ymodem_requested()) {
        return BOOT_LOADER;
    }
#endif
    install_read_slot1(&s1);
    if (SPB_SLOT1_SIZE != 0u) {
        describe_slot1(&s1);
    }
    log_line("Verify slot 0.");
    bool valid = install_check_slot0(&s0, true);
    if (valid) {
        log_line("Slot 0 has valid active firmware version %V (%u bytes)", s0.h.version, s0.h.size);
    }
#if defined(SPB_TRIAL) && SPB_TRIAL
    /* Trial boot (docs/trial-boot.md): an interrupted exchange, a confirmation, a rejection; after an
     * install by exchange, the start of its trial. */
    bool trial = false;
    valid = settle(&s0, valid, &trial);
    if (!trial && install_process_update(&s1, &s0)) {
        valid = settle(&s0, recheck(&s0), &trial);
    }
#else
    if (SPB_SLOT1_SIZE != 0u && install_process_update(&s1, &s0)) {
        valid = recheck(&s0);
    }
#endif
    if (!valid) {
        log_line("No valid firmware in slot 0 and no update to install: staying in the bootloader.");
        return 0;
    }
    if (!vector_table_ok(&s0)) {
        log_line("Slot 0 vector table is outside the application's RAM or image: staying in the bootloader.");
        return 0;
    }
#if defined(SPB_PRODUCTION) && SPB_PRODUCTION
    /* Protections in place before any application code runs (protect.h); a reset follows if they change. */
    if (!protect_before_jump()) {
        log_line("Protections not in place: staying in the bootloader.");
        return 0;
    }
#endif
#if defined(SPB_TRIAL) && SPB_TRIAL
    if (trial) {
        trial_note_boot(&s0);
    }
#endif
    log_line("Preparing to launch application in slot 0.");
    return SPB_SLOT0_ADDR + SPB_VECTOR_SIZE;
}

#ifndef SPB_HOST
int main(void)
{
    port_init();
    uint32_t vector_table = boot_run();
    if (vector_table > BOOT_LOADER) {
        port_jump_to_app(vector_table);
    }
#if defined(SPB_PRODUCTION) && SPB_PRODUCTION
    /* Staying in the bootloader (nothing runnable, or the loader asked for): the same protections as before
     * a hand-over, so a device that never reached an application is not left open to a debugger. */
    (void)protect_before_jump();
#endif
    for (;;) {
#if SPB_YMODEM
        /* Asked for, or nothing runnable: the loader. After a transfer, or when an asked-for loader saw no
         * sender, reset: into the install, or back to the application. */
        if (ymodem_receive() != YMODEM_NO_SENDER || vector_table == BOOT_LOADER) {
            port_reset();
        }
#else
        /* Nothing runnable: wait here. A reset is the way out. */
        uint8_t byte;
        (void)port_uart_read(&byte, 1000u);
#endif
    }
}
#endif
