/* SPDX-License-Identifier: Apache-2.0 */
/* The one system call newlib needs here: _sbrk, for the few bytes the float formatting allocates.
 * The heap grows from the end of .bss towards the stack and stops 1 KiB short of it. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

extern uint8_t __heap_start;
extern uint8_t __stack_top;

void *_sbrk(ptrdiff_t increment)
{
    static uint8_t *brk = &__heap_start;
    uint8_t *sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    uint8_t *limit = sp - 1024;
    if (limit > &__stack_top) {
        limit = &__stack_top;
    }
    if (increment > 0 && brk + increment > limit) {
        errno = ENOMEM;
        return (void *)-1;
    }
    uint8_t *old = brk;
    brk += increment;
    return old;
}
