/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cortex-M core registers and the few operations every port needs (ARMv6-M and ARMv7-M).
 * Addresses are from the Armv7-M / Armv6-M Architecture Reference Manuals (System Control Space).
 * Header-only on purpose: a port is one .c file plus the shared startup.
 */
#ifndef SPB_CORTEXM_H
#define SPB_CORTEXM_H

#include <stdint.h>

#define SPB_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* SysTick */
#define SYST_CSR SPB_REG32(0xE000E010u)
#define SYST_RVR SPB_REG32(0xE000E014u)
#define SYST_CVR SPB_REG32(0xE000E018u)
#define SYST_CSR_ENABLE    (1u << 0)
#define SYST_CSR_TICKINT   (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2) /* 1: processor clock */

/* NVIC: ICER/ICPR banks (ARMv6-M has only the first) */
#define NVIC_ICER(n) SPB_REG32(0xE000E180u + 4u * (n))
#define NVIC_ICPR(n) SPB_REG32(0xE000E280u + 4u * (n))

/* System Control Block */
#define SCB_ICSR  SPB_REG32(0xE000ED04u)
#define SCB_VTOR  SPB_REG32(0xE000ED08u)
#define SCB_AIRCR SPB_REG32(0xE000ED0Cu)
#define SCB_CPACR SPB_REG32(0xE000ED88u) /* ARMv7-M with FPU only */
#define SCB_CCR   SPB_REG32(0xE000ED14u)
#define SCB_ICSR_PENDSTCLR (1u << 25)
#define SCB_CCR_DC (1u << 16) /* Cortex-M7 L1 data cache enable (RAZ on cores without one) */
/* Cache maintenance operations (ARMv7-M B3.5.2; Cortex-M7: 32-byte lines) */
#define SCB_DCCIMVAC SPB_REG32(0xE000EF70u)
#define SCB_AIRCR_SYSRESETREQ_KEY 0x05FA0004u /* VECTKEY | SYSRESETREQ */

static inline void cm_dsb(void) { __asm volatile("dsb 0xF" ::: "memory"); }
static inline void cm_isb(void) { __asm volatile("isb 0xF" ::: "memory"); }
static inline void cm_irq_disable(void) { __asm volatile("cpsid i" ::: "memory"); }
static inline void cm_irq_enable(void) { __asm volatile("cpsie i" ::: "memory"); }

/* Memory [addr, addr + len) changed behind the Cortex-M7 L1 data cache (a flash erase or program): its lines
 * of the range cleaned and invalidated (DCCIMVAC), if the cache is on (SCB_CCR.DC; RAZ on cores without
 * one). The instruction cache needs nothing: the update API writes no code that runs while it is on (SLOT1
 * never runs; SLOT0 is written by the install, which runs after a reset, with the caches off). One copy for
 * the port and the NOR driver: port/common/cortexm_cache.c (dropped by --gc-sections where unused). */
void cm_cache_maintain(uint32_t addr, uint32_t len);

/* SysTick interrupt every `cycles` processor clocks (24-bit reload). */
static inline void cm_systick_start(uint32_t cycles)
{
    SYST_CSR = 0u;
    SYST_RVR = (cycles - 1u) & 0x00FFFFFFu;
    SYST_CVR = 0u;
    SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
}

/* SysTick off, its pending bit cleared, every NVIC interrupt disabled and cleared. */
static inline void cm_quiesce(void)
{
    cm_irq_disable();
    SYST_CSR = 0u;
    SCB_ICSR = SCB_ICSR_PENDSTCLR;
#if defined(__ARM_ARCH_6M__)
    NVIC_ICER(0) = 0xFFFFFFFFu;
    NVIC_ICPR(0) = 0xFFFFFFFFu;
#else
    for (uint32_t i = 0; i < 8u; i++) {
        NVIC_ICER(i) = 0xFFFFFFFFu;
        NVIC_ICPR(i) = 0xFFFFFFFFu;
    }
#endif
    cm_dsb();
    cm_isb();
}

__attribute__((noreturn)) static inline void cm_system_reset(void)
{
    cm_dsb();
    SCB_AIRCR = SCB_AIRCR_SYSRESETREQ_KEY;
    cm_dsb();
    for (;;) {
    }
}

/* How much of the boot-time stack cm_jump wipes, from its top down: more than the bootloader's deepest
 * use (under 2 KiB on every board, bench/stack_usage.py) and never below the stack's region. */
#ifndef SPB_BOOT_STACK_WIPE
#define SPB_BOOT_STACK_WIPE 4096u
#endif
extern uint32_t __stack_top;   /* linker script */
extern uint32_t __stack_limit; /* linker script: the bottom of the boot-time stack's region */

/* VTOR = vector_table, zero the boot-time stack (it lies in the application's RAM: what the verification
 * and the install left there - hash schedules, decrypted blocks - must not reach the application), MSP =
 * its word 0, branch to its word 1 with interrupts enabled again (the application starts like after a
 * reset: PRIMASK clear, nothing enabled or pending). Call cm_quiesce() first. The wipe runs in assembly
 * on registers only, as it clears the stack this function runs on. */
__attribute__((noreturn, always_inline)) static inline void cm_jump(uint32_t vector_table)
{
    const volatile uint32_t *vt = (const volatile uint32_t *)(uintptr_t)vector_table;
    uint32_t sp = vt[0];
    uint32_t pc = vt[1];
    uintptr_t end = (uintptr_t)&__stack_top;
    uintptr_t start = end - SPB_BOOT_STACK_WIPE;
    if (start < (uintptr_t)&__stack_limit) {
        start = (uintptr_t)&__stack_limit;
    }
    SCB_VTOR = vector_table;
    cm_dsb();
    cm_isb();
    __asm volatile("mov r3, #0\n\t" /* mov/add: valid in both the divided (Thumb-1) and unified syntax */
                   "1: cmp %2, %3\n\t"
                   "bhs 2f\n\t"
                   "str r3, [%2]\n\t"
                   "add %2, #4\n\t"
                   "b 1b\n\t"
                   "2: msr msp, %0\n\t"
                   "cpsie i\n\t"
                   "bx %1\n\t" ::"r"(sp), "r"(pc), "l"(start), "l"(end) : "r3", "memory", "cc");
    __builtin_unreachable();
}

#endif
