/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port for STM32F76x/F77x (RM0410; the DISCO-F769I). What differs from the F4 port is here; the flash
 * controller is the F4's (port/common/stm32_flash_sector.h), the QUADSPI driver the F469's
 * (port/stm32f4/qspi.c, compiled through qspi_f7.c), the console, button, SysTick and hand-over the shared
 * U(S)ART glue (port/common/stm32_port_glue.h: the F7 has the ISR/RDR/TDR U(S)ART generation).
 *
 * Clock (RM0410 section 5 "Reset and clock control"; DS11532 "General operating conditions"): HSI 16 MHz or
 * HSE -> PLL with a 2 MHz input (1 MHz when HSE is an odd number of MHz: the DISCO-F769I's 25 MHz crystal,
 * PLLM = 25), VCO = 2 * SYSCLK (PLLN; 432 MHz at 216 MHz, the VCO maximum), SYSCLK = VCO / 2 (PLLP), PLLQ for
 * a 48 MHz domain at most 48 MHz. Above 180 MHz (up to 216 MHz) the over-drive is switched on while the
 * system still runs from HSI/HSE, in the order RM0410 "Entering Over-drive mode" (PWR section) gives: PLL configured
 * and on, PWR_CR1.ODEN and CSR1.ODRDY, ODSWEN and ODSWRDY, then wait states, prescalers and the switch to
 * the PLL. Voltage scale 1 is PWR_CR1.VOS's reset value. APB1 <= 54 MHz, APB2 <= 108 MHz with over-drive
 * (45 / 90 MHz without). Flash wait states at 2.7-3.6 V (RM0410 "Number of wait states according to CPU
 * clock (HCLK) frequency"): one per 30 MHz, 7 at 216 MHz.
 * FLASH_ACR: LATENCY [3:0], PRFTEN b8, ARTEN b9, ARTRST b11 (the F4's ICEN/DCEN/ICRST/DCRST do not exist).
 *
 * Flash (RM0410 section 3): the F4's sector controller; single-bank mode (FLASH_OPTCR.nDBANK b29 = 1, as
 * shipped) gives sectors 0-3 of 32 KiB, 4 of 128 KiB, 5-11 of 256 KiB, numbered 0..11 in SNB; FLASH_SR bit 7
 * is ERSERR (erase sequence error, the F4's PGSERR position), no RDERR. Dual-bank mode (nDBANK = 0) splits
 * the same 2 MiB into two banks of 16/64/128 KiB sectors with other SNB numbers: a board whose layout
 * assumes one organisation must not run on the other, so port_init() compares nDBANK with the board
 * (bank2_base given = dual bank) and, like the original ("Flash Configuration KO: Dual bank mode
 * activated."), stays in the loader without touching the flash. No ECC on the F7's flash (its register map
 * ACR, KEYR, OPTKEYR, SR, CR, OPTCR, OPTCR1 has no ECC register or flag; the H7 added it): a torn word reads
 * back as the bits it holds.
 *
 * Cortex-M7 caches: the bootloader never enables the L1 instruction or data cache (SCB_CCR.IC/DC reset to 0)
 * and leaves them as it finds them. The application may enable them before it calls the update API; then
 * every erase and program of internal flash (AXIM window 0x0800_0000, normal write-through memory) and of the
 * QUADSPI window (0x9000_0000, normal write-back memory in the default map) changes memory behind the data
 * cache, so the range is cleaned and invalidated by address (DCCIMVAC, 32-byte lines) before the result is
 * read back (cortexm.h, cm_cache_maintain(); internal flash: after each erase and word program; QUADSPI
 * window: after each erase and page-programmed range, in port/common/xspi_nor.c). The instruction cache
 * holds no line of what the API writes (SLOT1 never runs; SLOT0 is written by the install, after a reset,
 * caches off). Lines of
 * these ranges are never dirty (flash is written through the controller, the QUADSPI window is read-only),
 * so "clean" never writes anything back. The ART accelerator and the prefetch (FLASH_ACR ARTEN, PRFTEN) serve
 * only the ITCM-bus alias of the flash (0x0020_0000); the bootloader runs, reads and verifies through AXIM
 * (0x0800_0000) and leaves them off. An application that turns the ART on and reads flash through the ITCM
 * alias must reset it (ARTRST) after the update API erased that flash.
 *
 * On port_jump_to_app() the system clock stays at SPB_SYSCLK_HZ; SysTick and the U(S)ART are reset.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "log.h"
#include "port.h"
#include "spb_board.h"
#include "../common/cortexm.h"
#include "../common/stm32_common.h"
#include "../common/xspi_nor.h"

/* ---- registers ---- */
#define RCC_BASE     0x40023800u
#define RCC_CR       SPB_REG32(RCC_BASE + 0x00u)
#define RCC_PLLCFGR  SPB_REG32(RCC_BASE + 0x04u)
#define RCC_CFGR     SPB_REG32(RCC_BASE + 0x08u)
#define RCC_APB1RSTR SPB_REG32(RCC_BASE + 0x20u)
#define RCC_APB2RSTR SPB_REG32(RCC_BASE + 0x24u)
#define RCC_AHB1ENR  SPB_REG32(RCC_BASE + 0x30u)
#define RCC_APB1ENR  SPB_REG32(RCC_BASE + 0x40u)
#define RCC_APB2ENR  SPB_REG32(RCC_BASE + 0x44u)
#define RCC_CR_HSEON  (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_HSEBYP (1u << 18)
#define RCC_CR_PLLON  (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_APB1ENR_PWREN (1u << 28)

#define PWR_CR1  SPB_REG32(0x40007000u)
#define PWR_CSR1 SPB_REG32(0x40007004u)
#define PWR_CR1_ODEN     (1u << 16)
#define PWR_CR1_ODSWEN   (1u << 17)
#define PWR_CSR1_ODRDY   (1u << 16)
#define PWR_CSR1_ODSWRDY (1u << 17)

#define FLASH_ACR  SPB_REG32(0x40023C00u)
#define FLASH_OPTCR_NDBANK (1u << 29)
#define STM32_SECTOR_SR_ERRORS 0x000000F2u /* OPERR WRPERR PGAERR PGPERR ERSERR */

/* ---- clock plan ---- */
#if defined(SPB_CLOCK_SOURCE_HSE)
#define PLL_SRC_HSE (1u << 22)
#define PLL_IN_HZ (SPB_HSE_HZ % 2000000u == 0u ? 2000000u : 1000000u)
#define PLL_M (SPB_HSE_HZ / PLL_IN_HZ)
_Static_assert(SPB_HSE_HZ % 1000000u == 0u && SPB_HSE_HZ >= 4000000u && SPB_HSE_HZ <= 26000000u,
               "HSE must be a whole number of MHz, 4..26");
#elif defined(SPB_CLOCK_SOURCE_HSI)
#define PLL_SRC_HSE 0u
#define PLL_IN_HZ 2000000u
#define PLL_M 8u
#else
#error "STM32F7: clock.source must be HSI or HSE"
#endif
#define PLL_VCO (2u * SPB_SYSCLK_HZ)
#define PLL_N (PLL_VCO / PLL_IN_HZ)
#define PLL_Q ((PLL_VCO + 47999999u) / 48000000u)
_Static_assert(SPB_SYSCLK_HZ % 1000000u == 0u && SPB_SYSCLK_HZ >= 50000000u && SPB_SYSCLK_HZ <= 216000000u,
               "SYSCLK must be whole MHz, 50..216 MHz (above 180 MHz with over-drive)");
_Static_assert(PLL_N >= 50u && PLL_N <= 432u, "PLLN out of 50..432");
#define OVERDRIVE (SPB_SYSCLK_HZ > 180000000u)
#define FLASH_WS ((SPB_SYSCLK_HZ - 1u) / 30000000u)
#define APB_DIV_CODE(limit) \
    (SPB_SYSCLK_HZ <= (limit) ? 0u : SPB_SYSCLK_HZ <= 2u * (limit) ? 4u : SPB_SYSCLK_HZ <= 4u * (limit) ? 5u : 6u)
#define APB_DIV(code) ((code) == 0u ? 1u : 1u << ((code) - 3u))
#define PPRE1 APB_DIV_CODE(OVERDRIVE ? 54000000u : 45000000u)
#define PPRE2 APB_DIV_CODE(OVERDRIVE ? 108000000u : 90000000u)

/* ---- console U(S)ART (RM0410 memory map: the F4's instances and addresses) and the shared glue ---- */
#if SPB_UART_INSTANCE == 1 || SPB_UART_INSTANCE == 6
#define UART_BASE (SPB_UART_INSTANCE == 1 ? 0x40011000u : 0x40011400u)
#define UART_EN_REG RCC_APB2ENR
#define UART_RST_REG RCC_APB2RSTR
#define UART_BIT (SPB_UART_INSTANCE == 1 ? (1u << 4) : (1u << 5))
#define UART_PCLK (SPB_SYSCLK_HZ / APB_DIV(PPRE2))
#elif SPB_UART_INSTANCE >= 2 && SPB_UART_INSTANCE <= 5
#define UART_BASE (0x40004400u + 0x400u * (SPB_UART_INSTANCE - 2u))
#define UART_EN_REG RCC_APB1ENR
#define UART_RST_REG RCC_APB1RSTR
#define UART_BIT (1u << (15u + SPB_UART_INSTANCE))
#define UART_PCLK (SPB_SYSCLK_HZ / APB_DIV(PPRE1))
#elif SPB_UART_INSTANCE == 7 || SPB_UART_INSTANCE == 8
#define UART_BASE (SPB_UART_INSTANCE == 7 ? 0x40007800u : 0x40007C00u)
#define UART_EN_REG RCC_APB1ENR
#define UART_RST_REG RCC_APB1RSTR
#define UART_BIT (1u << (23u + SPB_UART_INSTANCE))
#define UART_PCLK (SPB_SYSCLK_HZ / APB_DIV(PPRE1))
#else
#error "STM32F7: console must be USART1/2/3/6 or UART4/5/7/8"
#endif
/* Kernel clock = PCLK (RCC_DCKCFGR2 USARTxSEL at its reset value 00); oversampling 16: BRR = fck / baud. */
#define UART_BRR ((UART_PCLK + SPB_UART_BAUD / 2u) / SPB_UART_BAUD)
#define GPIO_BASE(port) (0x40020000u + 0x400u * (port))
#define GPIO_EN_REG RCC_AHB1ENR
#include "../common/stm32_port_glue.h"

/* Entered only from a reset (power-on or system: Reset_Handler), with RCC at its reset values: HSI on and
 * the system clock, PLL off (RM0410 RCC_CR / RCC_CFGR reset values), so the PLL may be configured at once. */
static void clock_init(void)
{
#if defined(SPB_CLOCK_SOURCE_HSE)
#if defined(SPB_HSE_BYPASS) && SPB_HSE_BYPASS
    RCC_CR |= RCC_CR_HSEBYP;
#endif
    RCC_CR |= RCC_CR_HSEON;
    stm32_wait_set(&RCC_CR, RCC_CR_HSERDY);
#endif
    /* M, N, P = 2 (00), source, Q; PLLR [30:28] at its reset value 2 (RCC_PLLCFGR reset 0x2400_3010). */
    RCC_PLLCFGR = PLL_M | (PLL_N << 6) | PLL_SRC_HSE | (PLL_Q << 24) | (2u << 28);
    RCC_CR |= RCC_CR_PLLON;
#if OVERDRIVE
    RCC_APB1ENR |= RCC_APB1ENR_PWREN;
    (void)RCC_APB1ENR;
    PWR_CR1 |= PWR_CR1_ODEN;
    stm32_wait_set(&PWR_CSR1, PWR_CSR1_ODRDY);
    PWR_CR1 |= PWR_CR1_ODSWEN;
    stm32_wait_set(&PWR_CSR1, PWR_CSR1_ODSWRDY);
#endif

    FLASH_ACR = FLASH_WS; /* prefetch and ART serve the ITCM bus only: code runs from AXIM 0x0800_0000 */
    while ((FLASH_ACR & 0xFu) != FLASH_WS) {
    }
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 4) | (0x3Fu << 10))) | (PPRE1 << 10) | (PPRE2 << 13);
    stm32_wait_set(&RCC_CR, RCC_CR_PLLRDY);
    RCC_CFGR = (RCC_CFGR & ~3u) | 2u;
    while ((RCC_CFGR & 0xCu) != 0x8u) {
    }
}

/* ---- flash: the F4/F7 sector controller ---- */

/* After an erase or a program: the Cortex-M7 L1 data cache lines of the range, if the application turned the
 * cache on (see the top). */
static void stm32_sector_flushed(uint32_t addr, uint32_t len, bool erased)
{
    (void)erased;
    cm_cache_maintain(addr, len);
}

#include "../common/stm32_flash_sector.h"
/* OPTCR nDBOOT b28 = nDBANK b29 = 1 (single bank, no dual boot); OPTCR1 BOOT_ADD0 = 0x0080 (0x0020_0000, the
 * flash on ITCM), BOOT_ADD1 = 0x0040 (system memory) as shipped - RM0410 3.7.1, 3.7.7-3.7.8 */
#define STM32_SECTOR_OPTCR_OWNED_MASK  ((1u << 28) | (1u << 29))
#define STM32_SECTOR_OPTCR_OWNED_VALUE ((1u << 28) | (1u << 29))
#define STM32_SECTOR_OPTCR1_VALUE      0x00400080u
#include "../common/stm32_protect_sector.h" /* production builds only */

/* nDBANK must say what the board's layout assumes; otherwise say so and never return (nothing written). */
static void check_bank_mode(void)
{
#if defined(SPB_FLASH_BANK2_BASE)
    const uint32_t wanted = 0u; /* dual bank */
#else
    const uint32_t wanted = FLASH_OPTCR_NDBANK; /* single bank */
#endif
    if ((STM32_SECTOR_OPTCR & FLASH_OPTCR_NDBANK) == wanted) {
        return;
    }
#if defined(SPB_FLASH_BANK2_BASE)
    log_line("Flash Configuration KO: Single bank mode activated.");
#else
    log_line("Flash Configuration KO: Dual bank mode activated."); /* the original's words */
#endif
    for (;;) {
        __asm volatile("wfi"); /* the SysTick wakes it every millisecond */
    }
}

void port_init(void)
{
    SCB_VTOR = SPB_BOOT_BASE;
    clock_init();
    stm32_glue_init();
    check_bank_mode();
#if defined(SPB_EXT_FLASH_DRIVER)
    xspi_init(); /* the QUADSPI driver (qspi_f7.c); its waits need the SysTick */
#endif
}

#define STM32_FLASH_ERASE stm32_sector_erase
#define STM32_FLASH_WRITE stm32_sector_write
#define STM32_FLASH_READ  stm32_sector_read
#include "../common/stm32_flash_port.h"

