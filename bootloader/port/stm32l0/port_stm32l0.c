/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port for STM32L0 (RM0367 L0x3, RM0376 L0x2, RM0377 L0x1; Cortex-M0+).
 *
 * Clock: HSI16 or HSE -> PLL (PLLMUL / PLLDIV picked for SPB_SYSCLK_HZ, VCO <= 96 MHz), or HSI16 directly
 * when SPB_SYSCLK_HZ is 16 MHz. Voltage range 1 (1.8 V) for more than 16 MHz, flash one wait state above
 * 16 MHz with prefetch. APB1/APB2 undivided. Console: USART1/2/4/5 or LPUART1 on PCLK.
 * Flash (NVM program memory): unlocked with PEKEYR then PRGKEYR, 128-byte page erase (PECR ERASE + PROG,
 * then a write of a word in the page), word programming (write the word). All FLASH_SR error flags
 * (WRPERR PGAERR SIZERR NOTZEROERR FWWERR ...) are reported; PECR.PELOCK is set again after every operation.
 * Hardware fact: erased L0 program memory reads 0x00 (not 0xFF), so the board file must say
 * flash.erased_value = 0x00; the blank checks below use SPB_FLASH_ERASED_VALUE.
 * On port_jump_to_app() the system clock stays at SPB_SYSCLK_HZ; SysTick and the UART are reset.
 */
#include <stdint.h>
#include <string.h>

#include "port.h"
#include "spb_board.h"
#include "../common/cortexm.h"
#include "../common/flash_geom.h"
#include "../common/stm32_common.h"

#if SPB_FLASH_WRITE_SIZE != 4
#error "STM32L0 port programs words: flash.write_size must be 4"
#endif

/* ---- registers ---- */
#define RCC_BASE     0x40021000u
#define RCC_CR       SPB_REG32(RCC_BASE + 0x00u)
#define RCC_CFGR     SPB_REG32(RCC_BASE + 0x0Cu)
#define RCC_APB2RSTR SPB_REG32(RCC_BASE + 0x24u)
#define RCC_APB1RSTR SPB_REG32(RCC_BASE + 0x28u)
#define RCC_IOPENR   SPB_REG32(RCC_BASE + 0x2Cu)
#define RCC_APB2ENR  SPB_REG32(RCC_BASE + 0x34u)
#define RCC_APB1ENR  SPB_REG32(RCC_BASE + 0x38u)
#define RCC_CR_HSI16ON  (1u << 0)
#define RCC_CR_HSI16RDY (1u << 2)
#define RCC_CR_MSION    (1u << 8)
#define RCC_CR_MSIRDY   (1u << 9)
#define RCC_CR_HSEON    (1u << 16)
#define RCC_CR_HSERDY   (1u << 17)
#define RCC_CR_HSEBYP   (1u << 18)
#define RCC_CR_PLLON    (1u << 24)
#define RCC_CR_PLLRDY   (1u << 25)
#define RCC_APB1ENR_PWREN (1u << 28)

#define PWR_CR  SPB_REG32(0x40007000u)
#define PWR_CSR SPB_REG32(0x40007004u)
#define PWR_CSR_VOSF (1u << 4)

#define FLASH_R_BASE 0x40022000u
#define FLASH_ACR     SPB_REG32(FLASH_R_BASE + 0x00u)
#define FLASH_PECR    SPB_REG32(FLASH_R_BASE + 0x04u)
#define FLASH_PEKEYR  SPB_REG32(FLASH_R_BASE + 0x0Cu)
#define FLASH_PRGKEYR SPB_REG32(FLASH_R_BASE + 0x10u)
#define FLASH_SR      SPB_REG32(FLASH_R_BASE + 0x18u)
#define FLASH_ACR_LATENCY (1u << 0)
#define FLASH_ACR_PRFTEN  (1u << 1)
#define FLASH_PECR_PELOCK  (1u << 0)
#define FLASH_PECR_PRGLOCK (1u << 1)
#define FLASH_PECR_PROG    (1u << 3)
#define FLASH_PECR_ERASE   (1u << 9)
#define FLASH_SR_BSY    (1u << 0)
#define FLASH_SR_EOP    (1u << 1)
#define FLASH_SR_ERRORS 0x00032F00u /* WRPERR PGAERR SIZERR OPTVERR RDERR NOTZEROERR FWWERR */

#define GPIO_BASE(port) (0x50000000u + 0x400u * (port))

/* ---- clock plan ---- */
#if defined(SPB_CLOCK_SOURCE_HSI)
#define CLK_SRC_HZ 16000000u
#define PLL_SRC_HSE 0u
#elif defined(SPB_CLOCK_SOURCE_HSE)
#define CLK_SRC_HZ SPB_HSE_HZ
#define PLL_SRC_HSE (1u << 16)
#else
#error "STM32L0 port: clock.source must be HSI or HSE"
#endif
_Static_assert(SPB_SYSCLK_HZ <= 32000000u, "STM32L0 runs at 32 MHz at most");
#define FLASH_WS (SPB_SYSCLK_HZ > 16000000u ? 1u : 0u)
#define USE_PLL (SPB_SYSCLK_HZ != CLK_SRC_HZ)

/* ---- console UART ---- */
#if defined(SPB_UART_IS_LPUART)
#define UART_BASE 0x40004800u
#define UART_EN_REG RCC_APB1ENR
#define UART_RST_REG RCC_APB1RSTR
#define UART_BIT (1u << 18)
#define UART_BRR ((uint32_t)(((uint64_t)SPB_SYSCLK_HZ * 256u + SPB_UART_BAUD / 2u) / SPB_UART_BAUD))
#else
#if SPB_UART_INSTANCE == 1
#define UART_BASE 0x40013800u
#define UART_EN_REG RCC_APB2ENR
#define UART_RST_REG RCC_APB2RSTR
#define UART_BIT (1u << 14)
#elif SPB_UART_INSTANCE == 2
#define UART_BASE 0x40004400u
#define UART_EN_REG RCC_APB1ENR
#define UART_RST_REG RCC_APB1RSTR
#define UART_BIT (1u << 17)
#elif SPB_UART_INSTANCE == 4 || SPB_UART_INSTANCE == 5
#define UART_BASE (SPB_UART_INSTANCE == 4 ? 0x40004C00u : 0x40005000u)
#define UART_EN_REG RCC_APB1ENR
#define UART_RST_REG RCC_APB1RSTR
#define UART_BIT (1u << (15u + SPB_UART_INSTANCE))
#else
#error "STM32L0: console must be USART1/2/4/5 or LPUART1"
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

/* RCC_CFGR PLLMUL / PLLDIV codes giving SPB_SYSCLK_HZ from CLK_SRC_HZ; 0 if none. */
static uint32_t pll_bits(void)
{
    static const uint8_t mul[] = {3, 4, 6, 8, 12, 16, 24, 32, 48};
    for (uint32_t m = 0; m < sizeof mul; m++) {
        uint32_t vco = CLK_SRC_HZ * mul[m];
        for (uint32_t d = 2; d <= 4u; d++) {
            if (vco <= 96000000u && vco / d == SPB_SYSCLK_HZ && vco % d == 0u) {
                return (m << 18) | ((d - 1u) << 22);
            }
        }
    }
    return 0u;
}

static void clock_init(void)
{
    /* Back to MSI while the PLL is (re)configured. */
    RCC_CR |= RCC_CR_MSION;
    stm32_wait_set(&RCC_CR, RCC_CR_MSIRDY);
    RCC_CFGR &= ~3u;
    while ((RCC_CFGR & 0xCu) != 0u) {
    }
    RCC_CR &= ~RCC_CR_PLLON;
    while (RCC_CR & RCC_CR_PLLRDY) {
    }

    RCC_APB1ENR |= RCC_APB1ENR_PWREN;
    (void)RCC_APB1ENR;
    while (PWR_CSR & PWR_CSR_VOSF) {
    }
    PWR_CR = (PWR_CR & ~(3u << 11)) | (1u << 11); /* range 1 */
    while (PWR_CSR & PWR_CSR_VOSF) {
    }

#if defined(SPB_CLOCK_SOURCE_HSI)
    RCC_CR |= RCC_CR_HSI16ON;
    stm32_wait_set(&RCC_CR, RCC_CR_HSI16RDY);
#else
#if defined(SPB_HSE_BYPASS) && SPB_HSE_BYPASS
    RCC_CR |= RCC_CR_HSEBYP;
#endif
    RCC_CR |= RCC_CR_HSEON;
    stm32_wait_set(&RCC_CR, RCC_CR_HSERDY);
#endif

    FLASH_ACR = FLASH_WS | (FLASH_WS ? FLASH_ACR_PRFTEN : 0u);
    while ((FLASH_ACR & FLASH_ACR_LATENCY) != FLASH_WS) {
    }
    uint32_t cfgr = RCC_CFGR & ~((0xFFu << 16) | (0xFu << 4) | (0x3Fu << 8) | 3u); /* PLL, HPRE, PPREx, SW */
    if (USE_PLL) {
        uint32_t pll = pll_bits();
        if (pll == 0u) {
            return; /* unreachable for a valid board file: stay on MSI */
        }
        RCC_CFGR = cfgr | PLL_SRC_HSE | pll;
        RCC_CR |= RCC_CR_PLLON;
        stm32_wait_set(&RCC_CR, RCC_CR_PLLRDY);
        RCC_CFGR = cfgr | PLL_SRC_HSE | pll | 3u;
        while ((RCC_CFGR & 0xCu) != 0xCu) {
        }
    } else {
        uint32_t sw = PLL_SRC_HSE ? 2u : 1u;
        RCC_CFGR = cfgr | sw;
        while ((RCC_CFGR & 0xCu) != (sw << 2)) {
        }
    }
}

void port_init(void)
{
    SCB_VTOR = SPB_BOOT_BASE;
    clock_init();

    RCC_IOPENR |= (1u << SPB_UART_TX_PORT) | (1u << SPB_UART_RX_PORT);
#if defined(SPB_BUTTON_PRESENT) && SPB_BUTTON_PRESENT
    RCC_IOPENR |= 1u << SPB_BUTTON_PORT;
#endif
    (void)RCC_IOPENR;
    UART_EN_REG |= UART_BIT;
    (void)UART_EN_REG;
    stm32_gpio_af(GPIO_BASE(SPB_UART_TX_PORT), SPB_UART_TX_PIN, SPB_UART_TX_AF);
    stm32_gpio_af(GPIO_BASE(SPB_UART_RX_PORT), SPB_UART_RX_PIN, SPB_UART_RX_AF);
    stm32_usartn_init(UART_BASE, UART_BRR);
#if defined(SPB_BUTTON_PRESENT) && SPB_BUTTON_PRESENT
    /* Pulled to its released level (the YMODEM loader reads it at every boot): a board without its own
     * pull resistor does not read a floating pin as pressed. */
    GPIO_PUPDR(GPIO_BASE(SPB_BUTTON_PORT)) =
        (GPIO_PUPDR(GPIO_BASE(SPB_BUTTON_PORT)) & ~(3u << (2u * SPB_BUTTON_PIN))) |
        ((SPB_BUTTON_ACTIVE_LOW ? 1u : 2u) << (2u * SPB_BUTTON_PIN));
    stm32_gpio_input(GPIO_BASE(SPB_BUTTON_PORT), SPB_BUTTON_PIN);
#endif

    s_millis = 0u;
    cm_systick_start(SPB_SYSCLK_HZ / 1000u);
    cm_irq_enable();
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
#define ERR_HW (-4)
#define ERR_VERIFY (-5)
#define ERASED_WORD (0x01010101u * (uint8_t)SPB_FLASH_ERASED_VALUE)

static void flash_unlock(void)
{
    while (FLASH_SR & FLASH_SR_BSY) {
    }
    if (FLASH_PECR & FLASH_PECR_PELOCK) {
        FLASH_PEKEYR = 0x89ABCDEFu;
        FLASH_PEKEYR = 0x02030405u;
    }
    if (FLASH_PECR & FLASH_PECR_PRGLOCK) {
        FLASH_PRGKEYR = 0x8C9DAEBFu;
        FLASH_PRGKEYR = 0x13141516u;
    }
    FLASH_SR = FLASH_SR_ERRORS | FLASH_SR_EOP;
}

static int flash_finish(void)
{
    while (FLASH_SR & FLASH_SR_BSY) {
    }
    uint32_t sr = FLASH_SR;
    FLASH_SR = FLASH_SR_ERRORS | FLASH_SR_EOP;
    return (sr & FLASH_SR_ERRORS) ? ERR_HW : 0;
}

static void flash_lock(void)
{
    FLASH_PECR |= FLASH_PECR_PELOCK; /* also locks program memory */
}

/* The flash routines run from flash: the CPU stalls on the bus while the NVM is busy, which the L0
 * allows for program memory operations (RM0367 3.3.4), so no RAM function is needed. */
int port_flash_erase(uint32_t addr)
{
    uint32_t size;
    if (addr < SPB_FLASH_BASE || addr - SPB_FLASH_BASE >= SPB_FLASH_SIZE) {
        return ERR_RANGE;
    }
    if (spb_sector_index(addr, &size) < 0) {
        return ERR_ALIGN;
    }
    flash_unlock();
    FLASH_PECR |= FLASH_PECR_ERASE | FLASH_PECR_PROG;
    *(volatile uint32_t *)(uintptr_t)addr = 0u; /* any word of the page starts the erase */
    int rc = flash_finish();
    FLASH_PECR &= ~(FLASH_PECR_ERASE | FLASH_PECR_PROG);
    flash_lock();
    if (rc == 0) {
        const volatile uint32_t *p = (const volatile uint32_t *)(uintptr_t)addr;
        for (uint32_t i = 0; i < size / 4u; i++) {
            if (p[i] != ERASED_WORD) {
                return ERR_VERIFY;
            }
        }
    }
    return rc;
}

int port_flash_write(uint32_t addr, const void *data, uint32_t len)
{
    int rc = spb_flash_check_write(addr, len);
    if (rc != 0) {
        return rc;
    }
    const uint8_t *src = (const uint8_t *)data;
    flash_unlock();
    for (uint32_t off = 0; off < len && rc == 0; off += 4u) {
        volatile uint32_t *dst = (volatile uint32_t *)(uintptr_t)(addr + off);
        uint32_t word = (uint32_t)src[off] | (uint32_t)src[off + 1u] << 8 | (uint32_t)src[off + 2u] << 16 |
                        (uint32_t)src[off + 3u] << 24;
        if (*dst != ERASED_WORD) {
            rc = ERR_NOT_BLANK;
            break;
        }
        *dst = word;
        rc = flash_finish();
        if (rc == 0 && *dst != word) {
            rc = ERR_VERIFY;
        }
    }
    flash_lock();
    return rc;
}

#include "../common/stm32_protect_pecr.h" /* production builds only */

int port_flash_read(uint32_t addr, void *dst, uint32_t len)
{
    if (!spb_in_flash(addr, len)) {
        return ERR_RANGE;
    }
    memcpy(dst, (const void *)(uintptr_t)addr, len);
    return 0;
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
#if defined(SPB_FIREWALL) && SPB_FIREWALL
    stm32_firewall_jump(vector_table); /* the Firewall closed behind the bootloader (stm32_firewall.c) */
#else
    cm_jump(vector_table);
#endif
}
