/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Production mode's policy (protect.h); compiled only into production builds.
 */
#include "protect.h"

#if defined(SPB_PRODUCTION) && SPB_PRODUCTION

#include "log.h"
#include "spb_board.h"

#ifndef SPB_PRODUCTION_RDP
#define SPB_PRODUCTION_RDP 1
#endif
#if SPB_PRODUCTION_RDP != 1 && SPB_PRODUCTION_RDP != 2
#error "SPB_PRODUCTION_RDP must be 1 or 2"
#endif

static bool same(const protection_t *a, const protection_t *b)
{
    return a->rdp >= b->rdp && a->code == b->code && a->journal == b->journal && a->other == b->other;
}

static int apply(const protection_t *now, const protection_t *want)
{
    if (now->rdp == 2u) {
        log_line("Production: option bytes frozen (RDP 2), not as this build sets them.");
        return -1;
    }
    log_line("Production: option bytes: WRP code%s, RDP %u; reset.",
             want->journal ? "+journal" : "", (uint32_t)want->rdp);
    int rc = port_protection_apply(want);
    log_line("Production: option bytes not programmed (error %u).", (uint32_t)-rc);
    return rc < 0 ? rc : -1;
}

bool protect_before_jump(void)
{
    protection_t now;
    if (port_protection_read(&now) != 0) {
        return false;
    }
    protection_t want = {
        .rdp = now.rdp > SPB_PRODUCTION_RDP ? now.rdp : SPB_PRODUCTION_RDP,
        .code = true,
        /* RDP 2 freezes the option bytes: a protected journal could never be written again. */
        .journal = SPB_PRODUCTION_RDP < 2,
        .other = false,
    };
    if (same(&now, &want)) {
        return true;
    }
    return apply(&now, &want) == 0;
}

int protect_journal_writable(void)
{
    protection_t now;
    if (port_protection_read(&now) != 0) {
        return -1;
    }
    if (!now.journal) {
        return 0;
    }
    protection_t want = now;
    want.journal = false;
    log_line("Production: lifting the journal's WRP for this install.");
    return apply(&now, &want);
}

#endif
