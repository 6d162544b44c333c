/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Startup of the example applications: vector table in .isr_vector (the application linker script puts
 * it first, at SLOT0 + vector_size, where the bootloader points VTOR before jumping) and Reset_Handler.
 *
 * Linker symbols: __stack_top, __data_load, __data_start, __data_end, __bss_start, __bss_end,
 * __init_array_start, __init_array_end (generated application script). Every handler is weak: define
 * e.g. SysTick_Handler in the application or BSP to use it. Device interrupts all go to
 * Default_IRQHandler (weak), which an application may override to dispatch on the active IRQ number
 * (IPSR - 16).
 */
#include <stdint.h>

#include "spb_board.h"

extern uint32_t __stack_top;
extern uint32_t __data_load;
extern uint32_t __data_start;
extern uint32_t __data_end;
extern uint32_t __bss_start;
extern uint32_t __bss_end;
typedef void (*app_vector_t)(void);
extern const app_vector_t __init_array_start[] __attribute__((weak));
extern const app_vector_t __init_array_end[] __attribute__((weak));

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
void Default_IRQHandler(void) __attribute__((weak, alias("Default_Handler")));

/* Device interrupt lines of the largest part of each family (board.py FAMILIES.vector_bytes). */
#if defined(SPB_FAMILY_STM32L4)
#define APP_IRQ_COUNT 95
#elif defined(SPB_FAMILY_STM32F4)
#define APP_IRQ_COUNT 102
#else
#define APP_IRQ_COUNT 32 /* STM32L0, MPS2 AN385 */
#endif

#if defined(__ARM_ARCH_6M__)
#define V7M_ONLY(handler) 0
#else
#define V7M_ONLY(handler) handler
#endif

__attribute__((section(".isr_vector"), used)) const app_vector_t app_vectors[16 + APP_IRQ_COUNT] = {
    (app_vector_t)(uintptr_t)&__stack_top,
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
    [16 ... 16 + APP_IRQ_COUNT - 1] = Default_IRQHandler, /* GNU range initializer */
};

#define APP_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

__attribute__((noreturn, optimize("no-tree-loop-distribute-patterns"))) void Reset_Handler(void)
{
#if defined(__ARM_FP)
    APP_REG32(0xE000ED88u) |= 0xFu << 20; /* CPACR: CP10/CP11 full access before any FP instruction */
    __asm volatile("dsb 0xF\n\tisb 0xF" ::: "memory");
#endif
    APP_REG32(0xE000ED08u) = (uint32_t)(uintptr_t)app_vectors; /* VTOR (the bootloader set it already) */
    const uint32_t *src = &__data_load;
    for (uint32_t *dst = &__data_start; dst < &__data_end;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &__bss_start; dst < &__bss_end;) {
        *dst++ = 0u;
    }
    for (const app_vector_t *ctor = __init_array_start; ctor < __init_array_end; ctor++) {
        (*ctor)();
    }
    (void)main();
    APP_REG32(0xE000ED0Cu) = 0x05FA0004u; /* main() returned: SYSRESETREQ */
    for (;;) {
    }
}

void Default_Handler(void)
{
    for (volatile uint32_t i = 0; i < 2000000u; i++) {
    }
    APP_REG32(0xE000ED0Cu) = 0x05FA0004u;
    for (;;) {
    }
}
