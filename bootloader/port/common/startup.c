/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared Cortex-M startup of the bootloader: vector table with the 16 core exceptions (the bootloader
 * uses no device interrupt; a port may define SysTick_Handler) and Reset_Handler.
 *
 * Linker symbols (generated scripts, docs/porting.md): __stack_top, __data_load, __data_start,
 * __data_end, __bss_start, __bss_end; the table goes to section .isr_vector.
 */
#include <stdint.h>

#include "cortexm.h"

extern uint32_t __stack_top;
extern uint32_t __data_load;
extern uint32_t __data_start;
extern uint32_t __data_end;
extern uint32_t __bss_start;
extern uint32_t __bss_end;

int main(void);

void Reset_Handler(void);
void Default_Handler(void);
void NMI_Handler(void) __attribute__((weak, alias("Default_Handler")));
void HardFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void MemManage_Handler(void) __attribute__((weak, alias("Default_Handler")));
void BusFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void UsageFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SVC_Handler(void) __attribute__((weak, alias("Default_Handler")));
void DebugMon_Handler(void) __attribute__((weak, alias("Default_Handler")));
void PendSV_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));

typedef void (*spb_vector_t)(void);

#if defined(__ARM_ARCH_6M__)
#define V7M_ONLY(handler) 0 /* reserved on ARMv6-M */
#else
#define V7M_ONLY(handler) handler
#endif

__attribute__((section(".isr_vector"), used)) const spb_vector_t spb_boot_vectors[16] = {
    (spb_vector_t)(uintptr_t)&__stack_top,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    V7M_ONLY(MemManage_Handler),
    V7M_ONLY(BusFault_Handler),
    V7M_ONLY(UsageFault_Handler),
    0,
    0,
    0,
    0,
    SVC_Handler,
    V7M_ONLY(DebugMon_Handler),
    0,
    PendSV_Handler,
    SysTick_Handler,
};

/* The loops must stay loops: no memcpy/memset calls before .data and .bss exist. */
__attribute__((noreturn, optimize("no-tree-loop-distribute-patterns"))) void Reset_Handler(void)
{
#if defined(__ARM_FP)
    SCB_CPACR |= 0xFu << 20; /* CP10, CP11 full access: code built for the FPU may use it */
    cm_dsb();
    cm_isb();
#endif
    /* The bounds are compared as addresses: to C, __data_start and __data_end are different objects,
     * and ordering pointers to different objects is undefined (C11 6.5.8). */
    const uint32_t *src = &__data_load;
    for (uint32_t *dst = &__data_start; (uintptr_t)dst < (uintptr_t)&__data_end;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &__bss_start; (uintptr_t)dst < (uintptr_t)&__bss_end;) {
        *dst++ = 0u;
    }
    (void)main();
    cm_system_reset();
}

/* Any unexpected exception: wait a moment (lets a UART shift out its last byte) and reset. */
void Default_Handler(void)
{
    for (volatile uint32_t i = 0; i < 2000000u; i++) {
    }
    cm_system_reset();
}
