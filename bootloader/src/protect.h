/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Production mode (`scons PRODUCTION=1`, docs/security.md "Production mode"): the chip's own protections,
 * which the bootloader sets through the option bytes of its flash controller and checks at every boot.
 *
 *   - write protection (WRP) of the bootloader's code - its region without the journal, [SPB_BOOT_BASE,
 *     SPB_JOURNAL_ADDR) where the journal ends the region, the region itself where the journal lies
 *     elsewhere (DISCO-H745I): the code and the keys it holds can no longer be erased or programmed, by the
 *     application or anyone else;
 *   - write protection of the install journal (the anti-rollback record) whenever the application runs.
 *     The bootloader lifts it only to append an entry, at a boot that installs a verified newer image:
 *     option bytes take effect at a reset, and after every reset the bootloader runs before the
 *     application, so the application never runs while the journal is writable. An application that
 *     clears the protection in the option bytes gets it back at the next reset, before it runs again;
 *   - read-out protection (RDP) level 1, or level 2 with PRODUCTION_RDP=2: irreversible, and it freezes
 *     the option bytes, so the journal's protection can no longer be lifted: at level 2 it stays
 *     writable (the code's protection and level 2 are set in the same programming, once);
 *   - on the L4/L4+/L0 the Firewall, closed at the hand-over (port/common/stm32_firewall.c).
 *
 * The port reads and programs the option bytes (port_protection_*, one implementation per flash
 * controller generation); this file decides what they should be. Programming them ends in an option-byte
 * reload, which resets the chip: the boot starts again and finds them in place. A power cut while they
 * are programmed leaves them torn or old; the next boot programs them again.
 */
#ifndef SPB_PROTECT_H
#define SPB_PROTECT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint8_t rdp;  /* read-out protection level: 0, 1 or 2 */
    bool code;    /* the bootloader's code (above) write-protected */
    bool journal; /* the journal's erase unit write-protected */
    bool other;   /* write protection anywhere else (read: a state production mode does not leave) */
} protection_t;

/* Port: the protections the chip applies now (loaded option bytes). 0, or negative if unreadable. */
int port_protection_read(protection_t *now);

/* Port: program the option bytes to `want` (other write protection removed; RDP never lowered) and
 * reload them, which resets the chip. Returns only on failure (negative). */
int port_protection_apply(const protection_t *want);

/* Before the hand-over: true when the protections hold; otherwise they are programmed (a reset follows)
 * and false is returned only if that failed. */
bool protect_before_jump(void);

/* Before the journal is written: lifts its write protection (a reset follows, then the same boot runs
 * again with it writable). Returns 0 when the journal is writable, negative if it cannot be made so. */
int protect_journal_writable(void);

#endif
