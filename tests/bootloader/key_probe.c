/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test-only (tests/bootloader/test_key_hygiene.py), linked into a host build of the bootloader core: run
 * an entry point of the host harness on a stack this file owns, filled with a known pattern first, so
 * the test can read every byte the call left behind - what an application would find on its own stack
 * after an SE_PATCH_* call, or in RAM after the bootloader hands over. No undefined behaviour: the stack
 * is an ordinary static array, entered with makecontext/swapcontext.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

#include "host_sim.h"

#define PROBE_STACK_SIZE (256u * 1024u)
#define PROBE_FILL       0xA5u

static uint8_t probe_stack[PROBE_STACK_SIZE] __attribute__((aligned(64)));
static ucontext_t probe_caller, probe_callee;

static struct {
    int boot; /* 1: host_boot, 0: host_update */
    const uint8_t *data;
    uint32_t len, chunk, declared;
    uint16_t delay;
    int install;
    SE_PATCH_Status *status;
    uint32_t *out; /* the vector table (boot) or the failed call (update) */
    int rc;
} probe_args;

static void probe_body(void)
{
    if (probe_args.boot) {
        probe_args.rc = host_boot(probe_args.out);
    } else {
        probe_args.rc = host_update(probe_args.data, probe_args.len, probe_args.chunk, probe_args.delay,
                                    probe_args.declared, probe_args.install, probe_args.status, probe_args.out);
    }
}

static int probe_run(void)
{
    memset(probe_stack, PROBE_FILL, sizeof probe_stack);
    if (getcontext(&probe_callee) != 0) {
        return -1;
    }
    probe_callee.uc_stack.ss_sp = probe_stack;
    probe_callee.uc_stack.ss_size = sizeof probe_stack;
    probe_callee.uc_link = &probe_caller;
    makecontext(&probe_callee, probe_body, 0);
    if (swapcontext(&probe_caller, &probe_callee) != 0) {
        return -1;
    }
    return probe_args.rc;
}

int probe_boot(uint32_t *vector_table);
int probe_boot(uint32_t *vector_table)
{
    memset(&probe_args, 0, sizeof probe_args);
    probe_args.boot = 1;
    probe_args.out = vector_table;
    return probe_run();
}

int probe_update(const uint8_t *data, uint32_t len, uint32_t chunk, uint16_t delay, uint32_t declared, int install,
                 SE_PATCH_Status *status, uint32_t *failed_call);
int probe_update(const uint8_t *data, uint32_t len, uint32_t chunk, uint16_t delay, uint32_t declared, int install,
                 SE_PATCH_Status *status, uint32_t *failed_call)
{
    memset(&probe_args, 0, sizeof probe_args);
    probe_args.data = data;
    probe_args.len = len;
    probe_args.chunk = chunk;
    probe_args.delay = delay;
    probe_args.declared = declared;
    probe_args.install = install;
    probe_args.status = status;
    probe_args.out = failed_call;
    return probe_run();
}

uint8_t *probe_stack_base(void);
uint8_t *probe_stack_base(void)
{
    return probe_stack;
}

uint32_t probe_stack_size(void);
uint32_t probe_stack_size(void)
{
    return PROBE_STACK_SIZE;
}
