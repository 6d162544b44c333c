/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port for STM32L4 / L4+ (RM0394, RM0351, RM0432). Everything board-specific comes from spb_board.h.
 *
 * Clock: MSI (4 MHz after reset), HSI16 or HSE, brought to a 4 MHz PLL input (PLLM), VCO = 2 * SYSCLK
 * (PLLN), SYSCLK = VCO / 2 (PLLR). Flash latency for voltage range 1: 16 MHz per wait state up to 80 MHz;
 * above 80 MHz (L4+ only) range 1 boost mode (PWR_CR5.R1MODE = 0) and 20 MHz per wait state, with the
 * AHB /2 step the reference manual asks for when switching to more than 80 MHz. APB1/APB2 undivided.
 * Console: USARTx/UARTx/LPUART1 on PCLK (RCC_CCIPR reset value), GPIO alternate function from the board;
 * console or button pins on PG2..PG15 (VDDIO2 domain of the L47x/L49x/L4+) get PWR_CR2.IOSV set first.
 * Flash: page erase by page number inside its bank (BKER when SPB_FLASH_BANK2_BASE is defined and the
 * page is at or above it), double-word (8-byte) programming; every error flag of FLASH_SR is reported.
 * The flash is locked again after every operation. Caches are reset after an erase. Every read of the
 * flash, the driver's own blank and verify reads included, is ECC-guarded (stm32_ecc.h): a double word
 * torn by a power cut reads as an error instead of a fatal NMI.
 * On port_jump_to_app() the system clock stays at SPB_SYSCLK_HZ; SysTick, the UART and its pins are reset.
 */
#include <stdint.h>
#include <string.h>

#include "port.h"
#include "spb_board.h"
#include "../common/cortexm.h"
#include "../common/flash_geom.h"
#include "../common/stm32_common.h"
#include "../common/stm32_ecc.h"
#include "ospi.h"

#if SPB_FLASH_WRITE_SIZE != 8
#error "STM32L4 programs double words: flash.write_size must be 8"
#endif

/* ---- registers ---- */
#define RCC_BASE      0x40021000u
#define RCC_CR        SPB_REG32(RCC_BASE + 0x00u)
#define RCC_CFGR      SPB_REG32(RCC_BASE + 0x08u)
#define RCC_PLLCFGR   SPB_REG32(RCC_BASE + 0x0Cu)
#define RCC_APB1RSTR1 SPB_REG32(RCC_BASE + 0x38u)
#define RCC_APB1RSTR2 SPB_REG32(RCC_BASE + 0x3Cu)
#define RCC_APB2RSTR  SPB_REG32(RCC_BASE + 0x40u)
#define RCC_AHB2ENR   SPB_REG32(RCC_BASE + 0x4Cu)
#define RCC_APB1ENR1  SPB_REG32(RCC_BASE + 0x58u)
#define RCC_APB1ENR2  SPB_REG32(RCC_BASE + 0x5Cu)
#define RCC_APB2ENR   SPB_REG32(RCC_BASE + 0x60u)

#define RCC_CR_MSION  (1u << 0)
#define RCC_CR_MSIRDY (1u << 1)
#define RCC_CR_HSION  (1u << 8)
#define RCC_CR_HSIRDY (1u << 10)
#define RCC_CR_HSEON  (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_HSEBYP (1u << 18)
#define RCC_CR_PLLON  (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_APB1ENR1_PWREN (1u << 28)

#define PWR_CR1 SPB_REG32(0x40007000u)
#define PWR_CR2 SPB_REG32(0x40007004u)
#define PWR_SR2 SPB_REG32(0x40007014u)
#define PWR_CR5 SPB_REG32(0x40007080u) /* L4+ */
#define PWR_SR2_VOSF (1u << 10)
#define PWR_CR2_IOSV (1u << 9) /* VDDIO2 valid: PG[15:2] usable */

#define FLASH_BASE_R 0x40022000u
#define FLASH_ACR  SPB_REG32(FLASH_BASE_R + 0x00u)
#define FLASH_KEYR SPB_REG32(FLASH_BASE_R + 0x08u)
#define FLASH_SR   SPB_REG32(FLASH_BASE_R + 0x10u)
#define FLASH_CR   SPB_REG32(FLASH_BASE_R + 0x14u)
#define FLASH_ECCR SPB_REG32(FLASH_BASE_R + 0x18u)
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN   (1u << 9)
#define FLASH_ACR_DCEN   (1u << 10)
#define FLASH_ACR_ICRST  (1u << 11)
#define FLASH_ACR_DCRST  (1u << 12)
#define FLASH_SR_EOP     (1u << 0)
#define FLASH_SR_ERRORS  0xC3FAu /* OPERR PROGERR WRPERR PGAERR SIZERR PGSERR MISERR FASTERR RDERR OPTVERR */
#define FLASH_SR_BSY     (1u << 16)
#define FLASH_CR_PG      (1u << 0)
#define FLASH_CR_PER     (1u << 1)
#define FLASH_CR_PNB_POS 3u
#define FLASH_CR_BKER    (1u << 11)
#define FLASH_CR_STRT    (1u << 16)
#define FLASH_CR_LOCK    (1u << 31)

#define GPIO_BASE(port) (0x48000000u + 0x400u * (port))

/* ---- clock plan (compile time) ---- */
#define PLL_IN_HZ 4000000u
#if defined(SPB_CLOCK_SOURCE_MSI)
#define PLL_SRC 1u
#define PLL_M 1u /* MSI range 6 = 4 MHz, the reset value */
#elif defined(SPB_CLOCK_SOURCE_HSI)
#define PLL_SRC 2u
#define PLL_M 4u
#elif defined(SPB_CLOCK_SOURCE_HSE)
#define PLL_SRC 3u
#define PLL_M (SPB_HSE_HZ / PLL_IN_HZ)
_Static_assert(SPB_HSE_HZ % PLL_IN_HZ == 0u && SPB_HSE_HZ / PLL_IN_HZ <= 8u, "HSE must be 4/8/.../32 MHz");
#else
#error "STM32L4: clock.source must be MSI, HSI or HSE"
#endif
#define PLL_N (2u * SPB_SYSCLK_HZ / PLL_IN_HZ)
_Static_assert(SPB_SYSCLK_HZ % (PLL_IN_HZ / 2u) == 0u, "SYSCLK must be a multiple of 2 MHz");
_Static_assert(PLL_N >= 8u && PLL_N <= 86u && SPB_SYSCLK_HZ >= 16000000u && SPB_SYSCLK_HZ <= 120000000u,
               "SYSCLK out of the PLL range (16..120 MHz)");
#if SPB_SYSCLK_HZ > 80000000u
#define FLASH_WS ((SPB_SYSCLK_HZ - 1u) / 20000000u) /* L4+ range 1 boost */
#else
#define FLASH_WS ((SPB_SYSCLK_HZ - 1u) / 16000000u)
#endif

/* Pins on PG2..PG15 are supplied by VDDIO2 and stay isolated until PWR_CR2.IOSV is set (RM0351 / RM0432
 * "Independent I/O supply rail"); e.g. the NUCLEO-L496ZG console (LPUART1 on PG7/PG8). */
#define ON_VDDIO2(port, pin) ((port) == 6u && (pin) >= 2u)
#if ON_VDDIO2(SPB_UART_TX_PORT, SPB_UART_TX_PIN) || ON_VDDIO2(SPB_UART_RX_PORT, SPB_UART_RX_PIN)
#define PINS_ON_VDDIO2 1
#elif defined(SPB_BUTTON_PRESENT)
#if SPB_BUTTON_PRESENT && ON_VDDIO2(SPB_BUTTON_PORT, SPB_BUTTON_PIN)
#define PINS_ON_VDDIO2 1
#endif
#endif

/* ---- console UART ---- */
#if defined(SPB_UART_IS_LPUART)
#define UART_BASE 0x40008000u
#define UART_EN_REG RCC_APB1ENR2
#define UART_RST_REG RCC_APB1RSTR2
#define UART_BIT (1u << 0)
#define UART_BRR ((uint32_t)(((uint64_t)SPB_SYSCLK_HZ * 256u + SPB_UART_BAUD / 2u) / SPB_UART_BAUD))
#else
#if SPB_UART_INSTANCE == 1
#define UART_BASE 0x40013800u
#define UART_EN_REG RCC_APB2ENR
#define UART_RST_REG RCC_APB2RSTR
#define UART_BIT (1u << 14)
#elif SPB_UART_INSTANCE >= 2 && SPB_UART_INSTANCE <= 5
#define UART_BASE (0x40004400u + 0x400u * (SPB_UART_INSTANCE - 2u))
#define UART_EN_REG RCC_APB1ENR1
#define UART_RST_REG RCC_APB1RSTR1
#define UART_BIT (1u << (15u + SPB_UART_INSTANCE))
#else
#error "STM32L4: console must be USART1..3, UART4/5 or LPUART1"
#endif
#define UART_BRR ((SPB_SYSCLK_HZ + SPB_UART_BAUD / 2u) / SPB_UART_BAUD)
#endif

static volatile uint32_t s_millis;

void SysTick_Handler(void)
{
    s_millis++;
}

uint32_t port_millis(void)
{
    return s_millis;
}

static void clock_init(void)
{
    /* Run from MSI while the PLL is (re)configured: a previous stage may have left the PLL on. */
    RCC_CR |= RCC_CR_MSION;
    stm32_wait_set(&RCC_CR, RCC_CR_MSIRDY);
    RCC_CFGR &= ~3u;
    while ((RCC_CFGR & 0xCu) != 0u) {
    }
    RCC_CR &= ~RCC_CR_PLLON;
    while (RCC_CR & RCC_CR_PLLRDY) {
    }

    RCC_APB1ENR1 |= RCC_APB1ENR1_PWREN;
    (void)RCC_APB1ENR1;
    PWR_CR1 = (PWR_CR1 & ~(3u << 9)) | (1u << 9); /* voltage range 1 */
    while (PWR_SR2 & PWR_SR2_VOSF) {
    }
#if SPB_SYSCLK_HZ > 80000000u
    PWR_CR5 &= ~(1u << 8); /* R1MODE = 0: range 1 boost */
#endif

#if defined(SPB_CLOCK_SOURCE_HSI)
    RCC_CR |= RCC_CR_HSION;
    stm32_wait_set(&RCC_CR, RCC_CR_HSIRDY);
#elif defined(SPB_CLOCK_SOURCE_HSE)
#if defined(SPB_HSE_BYPASS) && SPB_HSE_BYPASS
    RCC_CR |= RCC_CR_HSEBYP;
#endif
    RCC_CR |= RCC_CR_HSEON;
    stm32_wait_set(&RCC_CR, RCC_CR_HSERDY);
#endif

    /* More wait states first, then the faster clock. */
    FLASH_ACR = (FLASH_ACR & ~0xFu) | FLASH_WS | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
    while ((FLASH_ACR & 0xFu) != FLASH_WS) {
    }

    /* PLLR = /2 (00) with PLLREN; P and Q outputs off. */
    RCC_PLLCFGR = PLL_SRC | ((PLL_M - 1u) << 4) | (PLL_N << 8) | (1u << 24);
    RCC_CR |= RCC_CR_PLLON;
    stm32_wait_set(&RCC_CR, RCC_CR_PLLRDY);
#if SPB_SYSCLK_HZ > 80000000u
    RCC_CFGR = (RCC_CFGR & ~(0xFu << 4)) | (0x8u << 4); /* HCLK = SYSCLK / 2 during the switch */
#endif
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 4) | (0x3Fu << 8) | 3u)) | 3u
#if SPB_SYSCLK_HZ > 80000000u
               | (0x8u << 4)
#endif
        ;
    while ((RCC_CFGR & 0xCu) != 0xCu) {
    }
#if SPB_SYSCLK_HZ > 80000000u
    for (volatile uint32_t i = 0; i < 100u; i++) { /* >= 1 us at SYSCLK / 2 */
    }
    RCC_CFGR &= ~(0xFu << 4);
#endif
}

void port_init(void)
{
    SCB_VTOR = SPB_BOOT_BASE;
    clock_init(); /* leaves the PWR bus clock on */
#if defined(PINS_ON_VDDIO2)
    PWR_CR2 |= PWR_CR2_IOSV;
#endif

    RCC_AHB2ENR |= (1u << SPB_UART_TX_PORT) | (1u << SPB_UART_RX_PORT);
#if defined(SPB_BUTTON_PRESENT) && SPB_BUTTON_PRESENT
    RCC_AHB2ENR |= 1u << SPB_BUTTON_PORT;
#endif
    (void)RCC_AHB2ENR;
    UART_EN_REG |= UART_BIT;
    (void)UART_EN_REG;
    stm32_gpio_af(GPIO_BASE(SPB_UART_TX_PORT), SPB_UART_TX_PIN, SPB_UART_TX_AF);
    stm32_gpio_af(GPIO_BASE(SPB_UART_RX_PORT), SPB_UART_RX_PIN, SPB_UART_RX_AF);
    stm32_usartn_init(UART_BASE, UART_BRR);
#if defined(SPB_BUTTON_PRESENT) && SPB_BUTTON_PRESENT
    stm32_gpio_input(GPIO_BASE(SPB_BUTTON_PORT), SPB_BUTTON_PIN);
#endif

    s_millis = 0u;
    cm_systick_start(SPB_SYSCLK_HZ / 1000u);
    cm_irq_enable();
#if defined(SPB_EXT_FLASH_OSPI_INSTANCE)
    ospi_init(); /* its waits need the SysTick */
#endif
}

void port_uart_write(const uint8_t *data, size_t len)
{
    stm32_uart_write(&USARTN_ISR(UART_BASE), USARTN_ISR_TXE, &USARTN_TDR(UART_BASE), data, len);
}

int port_uart_read(uint8_t *byte, uint32_t timeout_ms)
{
    return stm32_uart_read(&USARTN_ISR(UART_BASE), USARTN_ISR_RXNE, &USARTN_RDR(UART_BASE), byte, timeout_ms);
}

bool port_button_pressed(void)
{
#if defined(SPB_BUTTON_PRESENT) && SPB_BUTTON_PRESENT
    return stm32_gpio_active(GPIO_BASE(SPB_BUTTON_PORT), SPB_BUTTON_PIN, SPB_BUTTON_ACTIVE_LOW);
#else
    return false;
#endif
}

/* ---- flash ---- */

#define ERR_RANGE (-1)
#define ERR_ALIGN (-2)
#define ERR_NOT_BLANK (-3)
#define ERR_HW (-4)     /* FLASH_SR error flag */
#define ERR_VERIFY (-5) /* read back differs */
#define ERR_ECC STM32_ECC_ERROR

volatile uint8_t stm32_ecc_guard;
volatile uint8_t stm32_ecc_fault;

void Default_Handler(void);

/* NMI: a flash ECC double error during a guarded read becomes an error result; anything else resets. */
void NMI_Handler(void)
{
    if (!stm32_ecc_nmi(&FLASH_ECCR)) {
        Default_Handler();
    }
}

/* True if [addr, addr + len) reads as erased; an ECC error counts as not erased. */
static bool flash_blank(uint32_t addr, uint32_t len)
{
    uint32_t chunk[8];
    while (len > 0u) {
        uint32_t n = len < sizeof chunk ? len : (uint32_t)sizeof chunk;
        if (stm32_ecc_copy(chunk, addr, n) != 0) {
            return false;
        }
        for (uint32_t i = 0; i < n / 4u; i++) {
            if (chunk[i] != 0xFFFFFFFFu) {
                return false;
            }
        }
        addr += n;
        len -= n;
    }
    return true;
}

static void flash_unlock(void)
{
    while (FLASH_SR & FLASH_SR_BSY) {
    }
    if (FLASH_CR & FLASH_CR_LOCK) {
        FLASH_KEYR = 0x45670123u;
        FLASH_KEYR = 0xCDEF89ABu;
    }
    FLASH_SR = FLASH_SR_ERRORS | FLASH_SR_EOP; /* write 1 to clear */
}

static int flash_finish(uint32_t cr_bits)
{
    while (FLASH_SR & FLASH_SR_BSY) {
    }
    uint32_t sr = FLASH_SR;
    FLASH_SR = FLASH_SR_ERRORS | FLASH_SR_EOP;
    FLASH_CR &= ~cr_bits;
    return (sr & FLASH_SR_ERRORS) ? ERR_HW : 0;
}

static void flash_lock(void)
{
    FLASH_CR |= FLASH_CR_LOCK;
}

int port_flash_erase(uint32_t addr)
{
#if defined(SPB_EXT_FLASH_OSPI_INSTANCE)
    if (ospi_contains(addr)) {
        return ospi_erase(addr);
    }
#endif
    uint32_t size;
    if (addr < SPB_FLASH_BASE || addr - SPB_FLASH_BASE >= SPB_FLASH_SIZE) {
        return ERR_RANGE;
    }
    int32_t index = spb_sector_index(addr, &size);
    if (index < 0) {
        return ERR_ALIGN;
    }
    uint32_t cr = FLASH_CR_PER;
#if defined(SPB_FLASH_BANK2_BASE)
    if (addr >= SPB_FLASH_BANK2_BASE) {
        uint32_t bank2_size;
        index -= spb_sector_index(SPB_FLASH_BANK2_BASE, &bank2_size);
        cr |= FLASH_CR_BKER;
    }
#endif
    cr |= ((uint32_t)index & 0xFFu) << FLASH_CR_PNB_POS;

    flash_unlock();
    FLASH_CR = (FLASH_CR & ~((0xFFu << FLASH_CR_PNB_POS) | FLASH_CR_BKER)) | cr;
    FLASH_CR |= FLASH_CR_STRT;
    int rc = flash_finish(FLASH_CR_PER | FLASH_CR_BKER | (0xFFu << FLASH_CR_PNB_POS));
    flash_lock();

    /* Stale lines of the erased page must not be served from the caches. */
    uint32_t acr = FLASH_ACR;
    FLASH_ACR = acr & ~(FLASH_ACR_ICEN | FLASH_ACR_DCEN);
    FLASH_ACR = (acr & ~(FLASH_ACR_ICEN | FLASH_ACR_DCEN)) | FLASH_ACR_ICRST | FLASH_ACR_DCRST;
    FLASH_ACR = acr;

    if (rc == 0 && !flash_blank(addr, size)) {
        return ERR_VERIFY;
    }
    return rc;
}

int port_flash_write(uint32_t addr, const void *data, uint32_t len)
{
#if defined(SPB_EXT_FLASH_OSPI_INSTANCE)
    if (ospi_contains(addr)) {
        return ospi_write(addr, data, len);
    }
#endif
    int rc = spb_flash_check_write(addr, len);
    if (rc != 0) {
        return rc;
    }
    const uint8_t *src = (const uint8_t *)data;
    flash_unlock();
    for (uint32_t off = 0; off < len && rc == 0; off += 8u) {
        volatile uint32_t *dst = (volatile uint32_t *)(uintptr_t)(addr + off);
        uint32_t word[2];
        memcpy(word, &src[off], sizeof word);
        if (!flash_blank(addr + off, 8u)) {
            rc = ERR_NOT_BLANK;
            break;
        }
        FLASH_CR |= FLASH_CR_PG;
        dst[0] = word[0]; /* the two words of one double word, in order */
        dst[1] = word[1];
        rc = flash_finish(FLASH_CR_PG);
        uint32_t back[2];
        if (rc == 0 && (stm32_ecc_copy(back, addr + off, sizeof back) != 0 || memcmp(back, word, sizeof back) != 0)) {
            rc = ERR_VERIFY;
        }
    }
    flash_lock();
    return rc;
}

int port_flash_read(uint32_t addr, void *dst, uint32_t len)
{
#if defined(SPB_EXT_FLASH_OSPI_INSTANCE)
    if (ospi_contains(addr)) {
        return ospi_read(addr, dst, len);
    }
#endif
    if (!spb_in_flash(addr, len)) {
        return ERR_RANGE;
    }
    return stm32_ecc_copy(dst, addr, len);
}

/* ---- reset / hand-over ---- */

void port_reset(void)
{
    while ((USARTN_ISR(UART_BASE) & USARTN_ISR_TC) == 0u && (USARTN_CR1(UART_BASE) & USARTN_CR1_UE)) {
    }
    cm_system_reset();
}

void port_jump_to_app(uint32_t vector_table)
{
    while ((USARTN_ISR(UART_BASE) & USARTN_ISR_TC) == 0u) {
    }
    cm_quiesce();
    UART_RST_REG |= UART_BIT;
    UART_RST_REG &= ~UART_BIT;
    UART_EN_REG &= ~UART_BIT;
    cm_jump(vector_table);
}
