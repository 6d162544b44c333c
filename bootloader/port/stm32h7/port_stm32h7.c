/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port for the Cortex-M7 side of the STM32H745/H755 (RM0399). The Cortex-M4 is not used by the bootloader
 * (option bytes: BCM7 = 1 booting from 0x0800_0000, BCM4 = 0; boards/DISCO-H745I.toml).
 *
 * Supply and voltage (RM0399 "Power control (PWR)"): the supply configuration in PWR_CR3 is written once after
 * a power-on reset (later writes are ignored until the next one); the board is built for the direct SMPS
 * supply (SDEN = 1, LDOEN = 0, BYPASS = 0), which allows voltage scale 1 at most (VOS0 needs the LDO). The port
 * writes that configuration, waits for PWR_CSR1.ACTVOSRDY, selects VOS1 in PWR_D3CR and waits for VOSRDY.
 *
 * Clock (RM0399 "Reset and clock control"): HSE (or HSI 64 MHz) -> DIVM1 to a 5 MHz (or 4 MHz) reference
 * (PLL1RGE 4-8 MHz), wide VCO at 2 * SYSCLK (DIVN1), SYSCLK = VCO / 2 (DIVP1, the only PLL1 output enabled).
 * VOS1 limits (DS12923): CPU 400 MHz, AXI/AHB 200 MHz, APB 100 MHz, so HCLK = SYSCLK / 2 above 200 MHz and
 * every APB = HCLK / 2 above 100 MHz. Flash: 4 wait states with WRHIGHFREQ = 2 at 200 MHz AXI clock (the
 * table's minimum at VOS1 is 2 wait states, 185-210 MHz needs the programming delay 2; 4 is what ST's own
 * STM32H745I-DISCO examples use at this clock); fewer below. The L1 caches stay off: nothing to clean or
 * invalidate around flash operations (an application calling the update API with them on gets the erased or
 * programmed range cleaned and invalidated: cm_cache_maintain()).
 *
 * Console, button, SysTick, reset and hand-over: port/common/stm32_port_glue.h (the H7 U(S)ART is the L4's
 * register set; kernel clock = its APB clock, the D2CCIP2R reset value).
 *
 * Flash (RM0399 "Embedded flash memory"): two banks of 8 x 128 KiB sectors with their own KEYRx/CRx/SRx/CCRx
 * (bank 2 registers at +0x100). Sector erase: SER, SNB (sector in the bank), PSIZE x64, START, then wait for
 * QW. Programming: the 256-bit flash word (SPB_FLASH_WRITE_SIZE 32) goes through the write buffer as eight
 * 32-bit stores with PG set; the buffer is programmed when full (QW until done). Every error flag of SRx
 * (WRPERR, PGSERR, STRBERR, INCERR, OPERR) is reported; the bank is locked again after every operation.
 * ECC: a flash word whose programming or erase a power cut interrupted reads with a double ECC error
 * (DBECCERR), and the read returns a bus error. Every flash read of the port goes through guarded_copy(), and
 * HardFault_Handler (the BusFault stays disabled: the precise bus error escalates) turns a bus error on one of
 * the copy's two load instructions into STM32H7_ECC_ERROR (the load is skipped, the copy goes on, the caller
 * gets the error); any other fault resets, as every unexpected exception.
 * External flash: QUADSPI (qspi.c, the F469 driver with the H7's addresses) in dual-flash mode.
 */
#include <stdint.h>
#include <string.h>

#include "port.h"
#include "spb_board.h"
#include "../common/cortexm.h"
#include "../common/flash_geom.h"
#include "../common/stm32_common.h"
#include "../common/xspi_nor.h"

#if SPB_FLASH_WRITE_SIZE != 32
#error "STM32H7 flash programs 256-bit flash words: flash.write_size must be 32"
#endif

/* ---- RCC (0x5802_4400), PWR (0x5802_4800) ---- */
#define RCC_BASE      0x58024400u
#define RCC_CR        SPB_REG32(RCC_BASE + 0x00u)
#define RCC_CFGR      SPB_REG32(RCC_BASE + 0x10u)
#define RCC_D1CFGR    SPB_REG32(RCC_BASE + 0x18u)
#define RCC_D2CFGR    SPB_REG32(RCC_BASE + 0x1Cu)
#define RCC_D3CFGR    SPB_REG32(RCC_BASE + 0x20u)
#define RCC_PLLCKSELR SPB_REG32(RCC_BASE + 0x28u)
#define RCC_PLLCFGR   SPB_REG32(RCC_BASE + 0x2Cu)
#define RCC_PLL1DIVR  SPB_REG32(RCC_BASE + 0x30u)
#define RCC_APB1LRSTR SPB_REG32(RCC_BASE + 0x90u)
#define RCC_APB2RSTR  SPB_REG32(RCC_BASE + 0x98u)
#define RCC_AHB4ENR   SPB_REG32(RCC_BASE + 0xE0u)
#define RCC_APB1LENR  SPB_REG32(RCC_BASE + 0xE8u)
#define RCC_APB2ENR   SPB_REG32(RCC_BASE + 0xF0u)
#define RCC_CR_HSION   (1u << 0)
#define RCC_CR_HSIRDY  (1u << 2)
#define RCC_CR_HSEON   (1u << 16)
#define RCC_CR_HSERDY  (1u << 17)
#define RCC_CR_HSEBYP  (1u << 18)
#define RCC_CR_PLL1ON  (1u << 24)
#define RCC_CR_PLL1RDY (1u << 25)

#define PWR_CSR1 SPB_REG32(0x58024804u)
#define PWR_CR3  SPB_REG32(0x5802480Cu)
#define PWR_D3CR SPB_REG32(0x58024818u)
#define PWR_CSR1_ACTVOSRDY (1u << 13)
#define PWR_CR3_SDEN       (1u << 2)  /* direct SMPS supply (BYPASS b0, LDOEN b1, SMPSEXTHP b3, SMPSLEVEL [5:4] = 0) */
#define PWR_D3CR_VOS1      (3u << 14)
#define PWR_D3CR_VOSRDY    (1u << 13)

#define FLASH_R_BASE 0x52002000u
#define FLASH_ACR    SPB_REG32(FLASH_R_BASE + 0x00u)

#define GPIO_BASE(port) (0x58020000u + 0x400u * (port))
#define GPIO_EN_REG RCC_AHB4ENR

/* ---- clock plan (compile time) ---- */
#if defined(SPB_CLOCK_SOURCE_HSE)
#define PLL_SRC_CLK SPB_HSE_HZ
#define PLL_SRC 2u
_Static_assert(SPB_HSE_HZ >= 4000000u && SPB_HSE_HZ <= 50000000u, "HSE must be 4..50 MHz");
#elif defined(SPB_CLOCK_SOURCE_HSI)
#define PLL_SRC_CLK 64000000u
#define PLL_SRC 0u
#else
#error "STM32H7: clock.source must be HSI or HSE"
#endif
#define PLL_REF (PLL_SRC_CLK % 5000000u == 0u ? 5000000u : PLL_SRC_CLK % 4000000u == 0u ? 4000000u : 2000000u)
#define PLL_M (PLL_SRC_CLK / PLL_REF)
#define PLL_RGE (PLL_REF >= 4000000u ? 2u : 1u) /* 4-8 MHz, else 2-4 MHz */
#define PLL_N (2u * SPB_SYSCLK_HZ / PLL_REF)  /* VCO = 2 * SYSCLK */
_Static_assert(PLL_M >= 1u && PLL_M <= 63u, "no DIVM1 gives a PLL reference of 2, 4 or 5 MHz");
_Static_assert(SPB_SYSCLK_HZ % (PLL_REF / 2u) == 0u && SPB_SYSCLK_HZ >= 96000000u && SPB_SYSCLK_HZ <= 400000000u,
               "SYSCLK must be 96..400 MHz (voltage scale 1, wide VCO 192..836 MHz) in steps of half the PLL reference");
#define HCLK_HZ (SPB_SYSCLK_HZ > 200000000u ? SPB_SYSCLK_HZ / 2u : SPB_SYSCLK_HZ)
#define HPRE (SPB_SYSCLK_HZ > 200000000u ? 8u : 0u)   /* D1CFGR.HPRE: /2 */
#define APB_HZ (HCLK_HZ > 100000000u ? HCLK_HZ / 2u : HCLK_HZ)
#define PPRE (HCLK_HZ > 100000000u ? 4u : 0u)         /* D1PPRE, D2PPRE1/2, D3PPRE: /2 */
#define FLASH_WS (HCLK_HZ <= 70000000u ? 0u : HCLK_HZ <= 140000000u ? 1u : 4u)
#define FLASH_WRHIGHFREQ (HCLK_HZ <= 70000000u ? 0u : HCLK_HZ <= 185000000u ? 1u : 2u)

/* ---- console UART (kernel clock: its APB clock) ---- */
#if SPB_UART_INSTANCE == 1 || SPB_UART_INSTANCE == 6
#define UART_BASE (SPB_UART_INSTANCE == 1 ? 0x40011000u : 0x40011400u)
#define UART_EN_REG RCC_APB2ENR
#define UART_RST_REG RCC_APB2RSTR
#define UART_BIT (SPB_UART_INSTANCE == 1 ? (1u << 4) : (1u << 5))
#elif SPB_UART_INSTANCE >= 2 && SPB_UART_INSTANCE <= 5
#define UART_BASE (0x40004400u + 0x400u * (SPB_UART_INSTANCE - 2u))
#define UART_EN_REG RCC_APB1LENR
#define UART_RST_REG RCC_APB1LRSTR
#define UART_BIT (1u << (15u + SPB_UART_INSTANCE))
#elif SPB_UART_INSTANCE == 7 || SPB_UART_INSTANCE == 8
#define UART_BASE (SPB_UART_INSTANCE == 7 ? 0x40007800u : 0x40007C00u)
#define UART_EN_REG RCC_APB1LENR
#define UART_RST_REG RCC_APB1LRSTR
#define UART_BIT (1u << (23u + SPB_UART_INSTANCE))
#else
#error "STM32H7: console must be USART1/2/3/6 or UART4/5/7/8"
#endif
#define UART_BRR ((APB_HZ + SPB_UART_BAUD / 2u) / SPB_UART_BAUD)

#include "../common/stm32_port_glue.h" /* SysTick, console, button, reset, hand-over */

static void power_init(void)
{
    /* Written once after a power-on reset: the same value again after a system reset changes nothing. The other
     * CR3 bits (VBAT charging, USB regulator) stay at their reset value 0. */
    PWR_CR3 = PWR_CR3_SDEN;
    stm32_wait_set(&PWR_CSR1, PWR_CSR1_ACTVOSRDY);
    PWR_D3CR = PWR_D3CR_VOS1; /* VOSRDY is read-only */
    stm32_wait_set(&PWR_D3CR, PWR_D3CR_VOSRDY);
}

static void clock_init(void)
{
    /* port_init() runs after a reset only (power-on or system: every H7 reset puts the RCC back to HSI with the
     * PLLs off, RM0399 "Reset and clock control"), so PLL1 is off and may be configured. */
#if defined(SPB_CLOCK_SOURCE_HSE)
#if defined(SPB_HSE_BYPASS) && SPB_HSE_BYPASS
    RCC_CR |= RCC_CR_HSEBYP;
#endif
    RCC_CR |= RCC_CR_HSEON;
    stm32_wait_set(&RCC_CR, RCC_CR_HSERDY);
#endif
    /* PLLSRC, DIVM1 (DIVM2/3 at their reset value 32); PLL1: integer, wide VCO, input range, only the P output
     * (PLL2/PLL3 stay off, their output enables cleared). */
    RCC_PLLCKSELR = (32u << 20) | (32u << 12) | (PLL_M << 4) | PLL_SRC;
    RCC_PLLCFGR = (1u << 16) | (PLL_RGE << 2);
    RCC_PLL1DIVR = (PLL_N - 1u) | (1u << 9) | (1u << 16) | (1u << 24); /* N, P = Q = R = 2 */
    RCC_CR |= RCC_CR_PLL1ON;

    /* More wait states first, then the bus prescalers, then the faster clock. */
    FLASH_ACR = FLASH_WS | (FLASH_WRHIGHFREQ << 4);
    while ((FLASH_ACR & 0x3Fu) != (FLASH_WS | (FLASH_WRHIGHFREQ << 4))) {
    }
    RCC_D1CFGR = HPRE | (PPRE << 4);         /* D1CPRE /1, HPRE, D1PPRE (APB3) */
    RCC_D2CFGR = (PPRE << 4) | (PPRE << 8);  /* APB1, APB2 */
    RCC_D3CFGR = PPRE << 4;                  /* APB4 */
    stm32_wait_set(&RCC_CR, RCC_CR_PLL1RDY);
    RCC_CFGR = (RCC_CFGR & ~7u) | 3u;
    while ((RCC_CFGR & (7u << 3)) != (3u << 3)) {
    }
}

void port_init(void)
{
    SCB_VTOR = SPB_BOOT_BASE;
    power_init();
    clock_init();
    stm32_glue_init();
#if defined(SPB_EXT_FLASH_DRIVER)
    xspi_init(); /* the QUADSPI driver (qspi.c); its waits need the SysTick */
#endif
}

/* ---- flash ---- */

#define FLASH_KEYR(bank) SPB_REG32(FLASH_R_BASE + 0x04u + 0x100u * (bank))
#define FLASH_CR(bank)   SPB_REG32(FLASH_R_BASE + 0x0Cu + 0x100u * (bank))
#define FLASH_SR(bank)   SPB_REG32(FLASH_R_BASE + 0x10u + 0x100u * (bank))
#define FLASH_CCR(bank)  SPB_REG32(FLASH_R_BASE + 0x14u + 0x100u * (bank))
#define FLASH_CR_LOCK    (1u << 0)
#define FLASH_CR_PG      (1u << 1)
#define FLASH_CR_SER     (1u << 2)
#define FLASH_CR_PSIZE   (3u << 4)
#define FLASH_CR_START   (1u << 7)
#define FLASH_CR_SNB     (7u << 8)
#define FLASH_SR_BUSY    0x7u        /* BSY, WBNE, QW */
#define FLASH_SR_ERRORS  0x006E0000u /* WRPERR, PGSERR, STRBERR, INCERR, OPERR */
#define FLASH_CCR_ALL    0x07EF0000u /* EOP, the errors, RDPERR, RDSERR, both ECC flags */
#define BANK_SIZE        0x100000u

#define ERR_RANGE (-1)
#define ERR_ALIGN (-2)
#define ERR_NOT_BLANK (-3)
#define ERR_HW (-4)
#define ERR_VERIFY (-5)
#define STM32H7_ECC_ERROR (-6)
#define ERR_TIMEOUT (-7)

/* Polls before giving up: well over the 2 s sector erase (DS12923: 128 KiB, x64) at SPB_SYSCLK_HZ. Counted,
 * not timed: while the application calls the update API the SysTick is the application's. */
#define WAIT_POLLS (SPB_SYSCLK_HZ / 2u)

#define SCB_HFSR  SPB_REG32(0xE000ED2Cu)
#define SCB_CFSR  SPB_REG32(0xE000ED28u)

static volatile uint8_t s_ecc_guard;
static volatile uint8_t s_ecc_fault;

/* The copy of guarded_copy(): words while at least 4 bytes remain, then bytes. Its two loads are the only
 * instructions whose bus error the handler recovers from (labels h7_copy_ldr / h7_copy_ldrb, 16-bit
 * encodings: the handler resumes 2 bytes later; the load's destination then holds stale data). */
__asm__(".text\n"
        ".thumb\n"
        ".align 1\n"
        ".global h7_copy\n"
        ".thumb_func\n"
        ".type h7_copy, %function\n"
        "h7_copy:\n"
        "1:  cmp r2, #4\n"
        "    blo 2f\n"
        "    .global h7_copy_ldr\n"
        "h7_copy_ldr:\n"
        "    ldr r3, [r1]\n"
        "    str r3, [r0]\n"
        "    adds r0, r0, #4\n"
        "    adds r1, r1, #4\n"
        "    subs r2, r2, #4\n"
        "    b 1b\n"
        "2:  cbz r2, 3f\n"
        "    .global h7_copy_ldrb\n"
        "h7_copy_ldrb:\n"
        "    ldrb r3, [r1]\n"
        "    strb r3, [r0]\n"
        "    adds r0, r0, #1\n"
        "    adds r1, r1, #1\n"
        "    subs r2, r2, #1\n"
        "    b 2b\n"
        "3:  bx lr\n"
        ".size h7_copy, . - h7_copy\n");
void h7_copy(void *dst, const void *src, uint32_t len);
extern const uint16_t h7_copy_ldr[];
extern const uint16_t h7_copy_ldrb[];

/* Copy len bytes of internal flash; 0, or STM32H7_ECC_ERROR if a flash word of the range read with a double
 * ECC error (dst then holds unspecified bytes for it). */
static int guarded_copy(void *dst, uint32_t addr, uint32_t len)
{
    s_ecc_fault = 0u;
    s_ecc_guard = 1u; /* a load's bus error is precise: taken at the load, before the guard drops */
    h7_copy(dst, (const void *)(uintptr_t)addr, len);
    s_ecc_guard = 0u;
    return s_ecc_fault != 0u ? STM32H7_ECC_ERROR : 0;
}

void Default_Handler(void);
void h7_bus_fault(uint32_t *frame);

/* frame: the exception stack frame (r0-r3, r12, lr, pc, xpsr). The BusFault is not enabled, so the precise bus
 * error escalates to HardFault (HFSR.FORCED) with the stacked PC at the load. Recovers only a bus error raised by
 * one of h7_copy's loads while a guarded copy runs: any other HardFault resets. */
void h7_bus_fault(uint32_t *frame)
{
    uint32_t pc = frame[6];
    if (s_ecc_guard == 0u || (pc != (uint32_t)(uintptr_t)h7_copy_ldr && pc != (uint32_t)(uintptr_t)h7_copy_ldrb)) {
        Default_Handler();
    }
    SCB_CFSR = SCB_CFSR; /* write 1 to clear PRECISERR / BFARVALID */
    SCB_HFSR = SCB_HFSR; /* and FORCED; FLASH_SRx.DBECCERR stays set until the next operation clears the flags */
    s_ecc_fault = 1u;
    frame[6] = pc + 2u;
}

__attribute__((naked)) void HardFault_Handler(void)
{
    __asm volatile("tst lr, #4\n"
                   "ite eq\n"
                   "mrseq r0, msp\n"
                   "mrsne r0, psp\n"
                   "b h7_bus_fault\n");
}

static uint32_t bank_of(uint32_t addr)
{
    return addr - SPB_FLASH_BASE >= BANK_SIZE ? 1u : 0u;
}

static int wait_idle(uint32_t bank)
{
    for (uint32_t n = WAIT_POLLS; (FLASH_SR(bank) & FLASH_SR_BUSY) != 0u;) {
        if (--n == 0u) {
            return ERR_TIMEOUT;
        }
    }
    return 0;
}

/* One operation on a bank: wait until idle, unlock, clear old flags (an error flag left set refuses the
 * next operation), set cr_bits; then either START (erase: word == NULL) or the eight stores of a flash word
 * (PG: the eighth fills the write buffer and starts programming); wait for its end (QW), collect the error
 * flags, clear cr_bits and lock the bank again. */
static int flash_op(uint32_t bank, uint32_t cr_bits, volatile uint32_t *dst, const uint8_t *word)
{
    int rc = wait_idle(bank);
    if (rc == 0) {
        if (FLASH_CR(bank) & FLASH_CR_LOCK) {
            FLASH_KEYR(bank) = 0x45670123u;
            FLASH_KEYR(bank) = 0xCDEF89ABu;
        }
        FLASH_CCR(bank) = FLASH_CCR_ALL;
        FLASH_CR(bank) = (FLASH_CR(bank) & ~(FLASH_CR_SNB | FLASH_CR_PSIZE)) | cr_bits;
        if (word == NULL) {
            FLASH_CR(bank) |= FLASH_CR_START;
        } else {
            for (uint32_t i = 0; i < 8u; i++) {
                uint32_t w;
                memcpy(&w, &word[4u * i], sizeof w); /* the source may be unaligned */
                dst[i] = w;
            }
            cm_dsb();
        }
        rc = wait_idle(bank);
    }
    uint32_t sr = FLASH_SR(bank);
    FLASH_CCR(bank) = FLASH_CCR_ALL;
    FLASH_CR(bank) = (FLASH_CR(bank) & ~cr_bits) | FLASH_CR_LOCK;
    return rc != 0 ? rc : (sr & FLASH_SR_ERRORS) ? ERR_HW : 0;
}

/* True if [addr, addr + len) reads erased; an ECC error counts as not erased. */
static bool blank(uint32_t addr, uint32_t len)
{
    uint32_t chunk[8];
    for (; len > 0u; addr += sizeof chunk, len -= sizeof chunk) {
        if (guarded_copy(chunk, addr, sizeof chunk) != 0) {
            return false;
        }
        for (uint32_t i = 0; i < 8u; i++) {
            if (chunk[i] != 0xFFFFFFFFu) {
                return false;
            }
        }
    }
    return true;
}

static int internal_erase(uint32_t addr)
{
    uint32_t size;
    if (addr < SPB_FLASH_BASE || addr - SPB_FLASH_BASE >= SPB_FLASH_SIZE) {
        return ERR_RANGE;
    }
    if (spb_sector_index(addr, &size) < 0) {
        return ERR_ALIGN;
    }
    uint32_t bank = bank_of(addr);
    uint32_t snb = (addr - SPB_FLASH_BASE - bank * BANK_SIZE) / size;
    /* PSIZE x64 (VDD 2.7-3.6 V) */
    int rc = flash_op(bank, FLASH_CR_SER | FLASH_CR_PSIZE | (snb << 8), NULL, NULL);
    cm_cache_maintain(addr, size); /* an application calling the API may run with the L1 caches on */
    if (rc == 0 && !blank(addr, size)) {
        rc = ERR_VERIFY;
    }
    return rc;
}

static int internal_write(uint32_t addr, const void *data, uint32_t len)
{
    int rc = spb_flash_check_write(addr, len);
    if (rc != 0) {
        return rc;
    }
    const uint8_t *src = (const uint8_t *)data;
    for (uint32_t off = 0; off < len && rc == 0; off += 32u) {
        uint32_t at = addr + off, bank = bank_of(at);
        uint32_t back[8];
        if (!blank(at, 32u)) {
            return ERR_NOT_BLANK; /* a second program of a flash word corrupts its ECC */
        }
        rc = flash_op(bank, FLASH_CR_PG | FLASH_CR_PSIZE, (volatile uint32_t *)(uintptr_t)at, &src[off]);
        cm_cache_maintain(at, 32u);
        if (rc == 0 && (guarded_copy(back, at, sizeof back) != 0 || memcmp(back, &src[off], sizeof back) != 0)) {
            rc = ERR_VERIFY;
        }
    }
    return rc;
}

#include "../common/stm32_protect_h7.h" /* production builds only */

static int internal_read(uint32_t addr, void *dst, uint32_t len)
{
    if (!spb_in_flash(addr, len)) {
        return ERR_RANGE;
    }
    return guarded_copy(dst, addr, len);
}

#define STM32_FLASH_ERASE internal_erase
#define STM32_FLASH_WRITE internal_write
#define STM32_FLASH_READ  internal_read
#include "../common/stm32_flash_port.h"

