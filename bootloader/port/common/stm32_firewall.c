/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Production mode's Firewall (STM32L4 / L4+, RM0394 / RM0351 / RM0432 section 4 "Firewall"; STM32L0,
 * RM0367 section 5 "Firewall"): the keys and every piece of code that uses them out of the application's
 * reach, while the application keeps the update API. Compiled into production builds of those families
 * (SPB_FIREWALL, set by the SCons tool). One Firewall IP: the L0 names the enable bit SYSCFG_CFGR2.FWDISEN
 * (the same address and bit as the L4's CFGR1.FWDIS), has its FWEN clock bit in RCC_APB2ENR at +0x34
 * instead of +0x60 and a 16-bit volatile segment address; its Cortex-M0+ gets Thumb-1 entry code.
 *
 * Layout (spb.linker, firewall=True): the vector table, the API table and the entry stubs below lie
 * outside; from a 256-byte boundary the code segment holds one word never executed, the call gate
 * (spb_fw_gate, the segment's second word), all other code and constants - the AES key and the public key
 * among them - and the initial values of .data. The bootloader's RAM (board ram_reserved: the update
 * engine's state, the AES key schedule of an open session) is the volatile data segment, not shared. No
 * non-volatile data segment: the keys are constants inside the code segment, readable only by the code
 * running inside it.
 *
 * Before the hand-over (stm32_firewall_jump, still inside, firewall disabled) the segment registers are
 * written; then code outside the segment (fw_close_and_jump) clears SYSCFG_CFGR1.FWDIS - the firewall is
 * enabled and closed from then on, until the next system reset - and jumps to the application. Any
 * access by the application to a protected segment, and any jump into the code segment other than to the
 * call gate, resets the chip.
 *
 * An API call: the application calls the table's entry, a stub here, which masks interrupts (an
 * interrupt taken inside would leave the segment without FPA: a reset), puts the function's number in r12
 * and calls the gate. The gate, now inside and open, bounds-checks the number, calls the function, sets
 * FW_CR.FPA (leaving the segment then closes the firewall instead of resetting) and returns to the stub,
 * which restores the interrupt mask. Arguments r0-r3 and the result r0 pass through untouched; every API
 * function takes at most three arguments. The application's stack is used inside, as without the firewall.
 *
 * Limits: interrupts stay masked for the whole of each API call (a flash erase in SE_PATCH_Data takes
 * ~22 ms); an NMI inside (an ECC double error on a torn flash word) goes to the application's handler,
 * outside, and resets the chip; no other bus master (DMA) is considered.
 */
#include <stdint.h>

#include "port.h"
#include "se_interface.h"
#include "spb_board.h"
#include "../common/cortexm.h"

#if defined(SPB_FIREWALL) && SPB_FIREWALL

#define FW_BASE   0x40011C00u
#define FW_CSSA   SPB_REG32(FW_BASE + 0x00u)
#define FW_CSL    SPB_REG32(FW_BASE + 0x04u)
#define FW_NVDSSA SPB_REG32(FW_BASE + 0x08u)
#define FW_NVDSL  SPB_REG32(FW_BASE + 0x0Cu)
#define FW_VDSSA  SPB_REG32(FW_BASE + 0x10u)
#define FW_VDSL   SPB_REG32(FW_BASE + 0x14u)
#define FW_CR     SPB_REG32(FW_BASE + 0x20u)
#define FW_ADD_MASK  0x00FFFF00u /* CSSA / NVDSSA ADD [23:8] */
#define FW_LENG_MASK 0x003FFF00u /* CSL / NVDSL LENG [21:8] */
#define SYSCFG_CFGR1 SPB_REG32(0x40010004u) /* L0: SYSCFG_CFGR2, FWDISEN: the same bit */
#define SYSCFG_CFGR1_FWDIS (1u << 0)
#if defined(SPB_FAMILY_STM32L0)
#define FW_VDS_MASK  0x0000FFC0u /* VDSSA ADD / VDSL LENG [15:6] */
#define RCC_APB2ENR  SPB_REG32(0x40021034u)
#else
#define FW_VDS_MASK  0x0003FFC0u /* VDSSA ADD / VDSL LENG [17:6] on the L4+, [16:6] on the L4 */
#define RCC_APB2ENR  SPB_REG32(0x40021060u)
#endif
#define RCC_APB2ENR_SYSCFGEN (1u << 0)
#define RCC_APB2ENR_FWEN     (1u << 7)

extern uint8_t __fw_code_start[], __fw_code_end[], __fw_vds_start[], __fw_vds_end[]; /* linker script */

/* The functions behind the gate, by the number the stubs pass (addresses: the gate loads and calls them). */
__attribute__((used)) const uintptr_t spb_fw_table[] = {
    (uintptr_t)SE_APP_GetActiveFwInfo, (uintptr_t)SE_APP_GetBootVer,         (uintptr_t)SE_PATCH_InitStatus,
    (uintptr_t)SE_PATCH_Init,          (uintptr_t)SE_PATCH_Data,             (uintptr_t)SE_PATCH_InstallAtNextReset,
    (uintptr_t)SE_PATCH_Abort,         (uintptr_t)SE_PATCH_Poll,             (uintptr_t)SE_PATCH_GetStatusCodeString,
    (uintptr_t)SE_APP_GetActiveFwInfo2, (uintptr_t)SE_APP_Confirm,           (uintptr_t)SE_APP_Rollback,
};
#define FW_FUNCTIONS 12
_Static_assert(sizeof spb_fw_table / sizeof spb_fw_table[0] == FW_FUNCTIONS, "one stub per table entry");

/* The call gate, the code segment's second word (spb.linker puts .fw_gate there). */
__attribute__((naked, section(".fw_gate"), used)) void spb_fw_gate(void)
{
#if defined(__ARM_ARCH_6M__)
    __asm volatile(".syntax unified\n\t" /* GCC hands inline asm to the assembler in divided syntax */
                   "push {r4, lr}\n\t"
                   "mov r4, r12\n\t"
                   "cmp r4, #12\n\t" /* FW_FUNCTIONS */
                   "bhs 1f\n\t"
                   "lsls r4, r4, #2\n\t"
                   "ldr r3, =spb_fw_table\n\t" /* r3: no API function takes a fourth argument */
                   "ldr r4, [r3, r4]\n\t"
                   "blx r4\n\t"
                   "b 2f\n\t"
                   "1: movs r0, #0\n\t" /* SE_ERROR */
                   "2: ldr r2, =0x40011C20\n\t" /* FW_CR */
                   "ldr r3, [r2]\n\t"
                   "movs r1, #1\n\t" /* FPA: leaving the segment closes the firewall */
                   "orrs r3, r1\n\t"
                   "str r3, [r2]\n\t"
                   "pop {r4, pc}\n\t"
                   ".ltorg\n\t"
                   ".syntax divided");
#else
    __asm volatile("push {r4, lr}\n\t"
                   "cmp r12, #12\n\t" /* FW_FUNCTIONS */
                   "bhs 1f\n\t"
                   "ldr r4, =spb_fw_table\n\t"
                   "ldr r4, [r4, r12, lsl #2]\n\t"
                   "blx r4\n\t"
                   "b 2f\n\t"
                   "1: movs r0, #0\n\t" /* SE_ERROR */
                   "2: ldr r2, =0x40011C20\n\t" /* FW_CR */
                   "ldr r3, [r2]\n\t"
                   "orr r3, r3, #1\n\t" /* FPA: leaving the segment closes the firewall */
                   "str r3, [r2]\n\t"
                   "pop {r4, pc}\n\t"
                   ".ltorg");
#endif
}

/* The entry stubs, outside the segment: interrupts masked for the call, the function's number in r12. */
#if defined(__ARM_ARCH_6M__) /* Thumb-1: no immediate into r12; push an even number of registers */
#define FW_STUB_CODE(n)                                                                                       \
    ".syntax unified\n\t"                                                                                    \
    "push {r4, r5, r6, lr}\n\t"                                                                              \
    "mrs r4, primask\n\t"                                                                                    \
    "cpsid i\n\t"                                                                                            \
    "movs r5, #" #n "\n\t"                                                                                   \
    "mov r12, r5\n\t"                                                                                        \
    "bl spb_fw_gate\n\t"                                                                                     \
    "msr primask, r4\n\t"                                                                                    \
    "pop {r4, r5, r6, pc}\n\t"                                                                               \
    ".syntax divided"
#else
#define FW_STUB_CODE(n)                                                                                       \
    "push {r4, lr}\n\t"                                                                                      \
    "mrs r4, primask\n\t"                                                                                    \
    "cpsid i\n\t"                                                                                            \
    "mov r12, #" #n "\n\t"                                                                                   \
    "bl spb_fw_gate\n\t"                                                                                     \
    "msr primask, r4\n\t"                                                                                    \
    "pop {r4, pc}"
#endif
#define FW_STUB(n)                                                                                            \
    __attribute__((naked, section(".fw_outside.stub" #n), used)) static void fw_stub_##n(void)                \
    {                                                                                                         \
        __asm volatile(FW_STUB_CODE(n));                                                                      \
    }
FW_STUB(0)
FW_STUB(1)
FW_STUB(2)
FW_STUB(3)
FW_STUB(4)
FW_STUB(5)
FW_STUB(6)
FW_STUB(7)
FW_STUB(8)
FW_STUB(9)
FW_STUB(10)
FW_STUB(11)

/* The application's table (se_interface.h) points at the stubs. */
__attribute__((section(".spb_api"), used)) const SE_API_Table spb_api_table = {
    .magic = SPB_API_MAGIC,
    .abi = SPB_API_ABI,
    .size = sizeof(SE_API_Table),
    .GetActiveFwInfo = (SE_ErrorStatus(*)(SE_StatusTypeDef *, SE_APP_ActiveFwInfo *))fw_stub_0,
    .GetBootVer = (SE_ErrorStatus(*)(SE_StatusTypeDef *, char *, uint32_t))fw_stub_1,
    .PatchInitStatus = (void (*)(SE_PATCH_Status *))fw_stub_2,
    .PatchInit = (SE_ErrorStatus(*)(SE_PATCH_Status *, const SE_PATCH_StartInfo *))fw_stub_3,
    .PatchData = (SE_ErrorStatus(*)(SE_PATCH_Status *, const uint8_t *, uint32_t))fw_stub_4,
    .PatchInstallAtNextReset = (SE_ErrorStatus(*)(SE_PATCH_Status *))fw_stub_5,
    .PatchAbort = (SE_ErrorStatus(*)(SE_PATCH_Status *))fw_stub_6,
    .PatchPoll = (SE_ErrorStatus(*)(SE_PATCH_Status *))fw_stub_7,
    .StatusCodeString = (const char *(*)(SE_PATCH_StatusCode))fw_stub_8,
    .GetActiveFwInfo2 = (SE_ErrorStatus(*)(SE_StatusTypeDef *, SE_APP_ActiveFwInfo *))fw_stub_9,
    .Confirm = (SE_ErrorStatus(*)(SE_StatusTypeDef *))fw_stub_10,
    .Rollback = (SE_ErrorStatus(*)(SE_StatusTypeDef *))fw_stub_11,
};

/* Outside the segment: enable the firewall (closed from here on), then the usual hand-over. Nothing here
 * may touch the segments: registers, the application's vector table and RAM only. */
__attribute__((noreturn, noinline, section(".fw_outside.jump"))) static void fw_close_and_jump(uint32_t vector_table)
{
    SYSCFG_CFGR1 &= ~SYSCFG_CFGR1_FWDIS;
    cm_jump(vector_table);
}

void stm32_firewall_jump(uint32_t vector_table)
{
    RCC_APB2ENR |= RCC_APB2ENR_SYSCFGEN | RCC_APB2ENR_FWEN;
    (void)RCC_APB2ENR;
    FW_CSSA = (uint32_t)(uintptr_t)__fw_code_start & FW_ADD_MASK;
    FW_CSL = (uint32_t)(__fw_code_end - __fw_code_start) & FW_LENG_MASK;
    FW_NVDSSA = 0u;
    FW_NVDSL = 0u;
    FW_VDSSA = (uint32_t)(uintptr_t)__fw_vds_start & FW_VDS_MASK;
    FW_VDSL = (uint32_t)(__fw_vds_end - __fw_vds_start) & FW_VDS_MASK;
    FW_CR = 0u; /* volatile data not shared, not executable; FPA clear */
    fw_close_and_jump(vector_table);
}

#endif
