/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port for STM32F4 (RM0090 F405/7/15/17/27/29/37/39; RM0368/RM0383/RM0390 parts share these registers).
 *
 * Clock: HSI (16 MHz) or HSE (crystal, or external clock with SPB_HSE_BYPASS such as the ST-LINK MCO)
 * -> PLL with a 2 MHz input (PLLM), VCO = 2 * SYSCLK (PLLN), SYSCLK = VCO / 2 (PLLP), 48 MHz domain
 * (PLLQ) as close to 48 MHz from below as possible. APB1 <= 42 MHz, APB2 <= 84 MHz (45 / 90 MHz above
 * 168 MHz). Flash latency for 2.7-3.6 V: one wait state per 30 MHz. Voltage scale 1 is the reset value of
 * PWR_CR.VOS on the F42x/F43x/F469/F479; up to 168 MHz no over-drive is needed. Above it (up to 180 MHz on
 * those parts) the over-drive is switched on while the system still runs from HSI/HSE, as RM0090 5.1.4 /
 * RM0386 "Entering Over-drive mode" order it: PLL configured and on, ODEN and ODRDY, ODSWEN and ODSWRDY,
 * then wait states, prescalers and the switch to the PLL.
 * Console: USART1..3/6, UART4/5/7/8 with GPIO alternate function from the board.
 * Flash: the F4/F7 sector controller driver of port/common/stm32_flash_sector.h (sector erase with SNB
 * computed from SPB_FLASH_SECTOR_GROUPS; on dual-bank parts the sectors from SPB_FLASH_BANK2_BASE on are
 * numbered 12.. and encoded SNB = 0b1xxxx, RM0090 FLASH_CR.SNB; word programming with PSIZE = x32). Errors
 * of FLASH_SR are reported; the flash is locked after every operation, caches are reset after an erase.
 * External flash: boards with a QUADSPI driver (qspi.c, shared NOR code in port/common/xspi_nor.c) get
 * port_flash_* calls in [SPB_EXT_FLASH_BASE, + SPB_EXT_FLASH_SIZE) dispatched to it; memory-mapped mode is
 * its resting state, so the hand-over to a MultiSegment application needs nothing more.
 * On port_jump_to_app() the system clock stays at SPB_SYSCLK_HZ; SysTick and the UART are reset.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

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
#define RCC_CR_HSION  (1u << 0)
#define RCC_CR_HSIRDY (1u << 1)
#define RCC_CR_HSEON  (1u << 16)
#define RCC_CR_HSERDY (1u << 17)
#define RCC_CR_HSEBYP (1u << 18)
#define RCC_CR_PLLON  (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_APB1ENR_PWREN (1u << 28)

#define PWR_CR  SPB_REG32(0x40007000u)
#define PWR_CSR SPB_REG32(0x40007004u)
#define PWR_CR_ODEN     (1u << 16)
#define PWR_CR_ODSWEN   (1u << 17)
#define PWR_CSR_ODRDY   (1u << 16)
#define PWR_CSR_ODSWRDY (1u << 17)

#define FLASH_ACR  SPB_REG32(0x40023C00u)
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN   (1u << 9)
#define FLASH_ACR_DCEN   (1u << 10)
#define FLASH_ACR_ICRST  (1u << 11)
#define FLASH_ACR_DCRST  (1u << 12)
#define STM32_SECTOR_SR_ERRORS 0x000001F2u /* OPERR WRPERR PGAERR PGPERR PGSERR RDERR */

#define GPIO_BASE(port) (0x40020000u + 0x400u * (port))

/* ---- clock plan ---- */
#define PLL_IN_HZ 2000000u
#if defined(SPB_CLOCK_SOURCE_HSE)
#define PLL_SRC_HSE (1u << 22)
#define PLL_M (SPB_HSE_HZ / PLL_IN_HZ)
_Static_assert(SPB_HSE_HZ % PLL_IN_HZ == 0u && SPB_HSE_HZ >= 4000000u && SPB_HSE_HZ <= 26000000u,
               "HSE must be an even number of MHz, 4..26");
#elif defined(SPB_CLOCK_SOURCE_HSI)
#define PLL_SRC_HSE 0u
#define PLL_M 8u
#else
#error "STM32F4: clock.source must be HSI or HSE"
#endif
#define PLL_VCO (2u * SPB_SYSCLK_HZ)
#define PLL_N (PLL_VCO / PLL_IN_HZ)
#define PLL_Q ((PLL_VCO + 47999999u) / 48000000u)
_Static_assert(SPB_SYSCLK_HZ % 1000000u == 0u && SPB_SYSCLK_HZ >= 50000000u && SPB_SYSCLK_HZ <= 180000000u,
               "SYSCLK must be whole MHz, 50..180 MHz (above 168 MHz: F42x/F43x/F469/F479 with over-drive)");
#define OVERDRIVE (SPB_SYSCLK_HZ > 168000000u)
#define FLASH_WS ((SPB_SYSCLK_HZ - 1u) / 30000000u)
#define APB_DIV_CODE(limit) \
    (SPB_SYSCLK_HZ <= (limit) ? 0u : SPB_SYSCLK_HZ <= 2u * (limit) ? 4u : SPB_SYSCLK_HZ <= 4u * (limit) ? 5u : 6u)
#define APB_DIV(code) ((code) == 0u ? 1u : 1u << ((code) - 3u))
#define PPRE1 APB_DIV_CODE(OVERDRIVE ? 45000000u : 42000000u)
#define PPRE2 APB_DIV_CODE(OVERDRIVE ? 90000000u : 84000000u)

/* ---- console UART ---- */
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
#error "STM32F4: console must be USART1/2/3/6 or UART4/5/7/8"
#endif
#define UART_SR  SPB_REG32(UART_BASE + 0x00u)
#define UART_DR  SPB_REG32(UART_BASE + 0x04u)
#define UART_BRR SPB_REG32(UART_BASE + 0x08u)
#define UART_CR1 SPB_REG32(UART_BASE + 0x0Cu)
#define UART_SR_RXNE (1u << 5)
#define UART_SR_TC   (1u << 6)
#define UART_SR_TXE  (1u << 7)
#define UART_CR1_RE  (1u << 2)
#define UART_CR1_TE  (1u << 3)
#define UART_CR1_UE  (1u << 13)

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
    /* Back to HSI while the PLL is (re)configured. */
    RCC_CR |= RCC_CR_HSION;
    stm32_wait_set(&RCC_CR, RCC_CR_HSIRDY);
    RCC_CFGR &= ~3u;
    while ((RCC_CFGR & 0xCu) != 0u) {
    }
    RCC_CR &= ~RCC_CR_PLLON;
    while (RCC_CR & RCC_CR_PLLRDY) {
    }
#if defined(SPB_CLOCK_SOURCE_HSE)
#if defined(SPB_HSE_BYPASS) && SPB_HSE_BYPASS
    RCC_CR |= RCC_CR_HSEBYP;
#endif
    RCC_CR |= RCC_CR_HSEON;
    stm32_wait_set(&RCC_CR, RCC_CR_HSERDY);
#endif
    /* M, N, P = 2 (00), source, Q; the other bits keep their reset values. */
    RCC_PLLCFGR = (RCC_PLLCFGR & ~0x0F437FFFu) | PLL_M | (PLL_N << 6) | PLL_SRC_HSE | (PLL_Q << 24);
    RCC_CR |= RCC_CR_PLLON;
#if OVERDRIVE
    RCC_APB1ENR |= RCC_APB1ENR_PWREN;
    (void)RCC_APB1ENR;
    PWR_CR |= PWR_CR_ODEN;
    stm32_wait_set(&PWR_CSR, PWR_CSR_ODRDY);
    PWR_CR |= PWR_CR_ODSWEN;
    stm32_wait_set(&PWR_CSR, PWR_CSR_ODSWRDY);
#endif

    FLASH_ACR = FLASH_WS | FLASH_ACR_PRFTEN | FLASH_ACR_ICEN | FLASH_ACR_DCEN;
    while ((FLASH_ACR & 0xFu) != FLASH_WS) {
    }
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 4) | (0x3Fu << 10))) | (PPRE1 << 10) | (PPRE2 << 13);
    stm32_wait_set(&RCC_CR, RCC_CR_PLLRDY);
    RCC_CFGR = (RCC_CFGR & ~3u) | 2u;
    while ((RCC_CFGR & 0xCu) != 0x8u) {
    }
}

void port_init(void)
{
    SCB_VTOR = SPB_BOOT_BASE;
    clock_init();

    RCC_AHB1ENR |= (1u << SPB_UART_TX_PORT) | (1u << SPB_UART_RX_PORT);
#if defined(SPB_BUTTON_PRESENT) && SPB_BUTTON_PRESENT
    RCC_AHB1ENR |= 1u << SPB_BUTTON_PORT;
#endif
    (void)RCC_AHB1ENR;
    UART_EN_REG |= UART_BIT;
    (void)UART_EN_REG;
    stm32_gpio_af(GPIO_BASE(SPB_UART_TX_PORT), SPB_UART_TX_PIN, SPB_UART_TX_AF);
    stm32_gpio_af(GPIO_BASE(SPB_UART_RX_PORT), SPB_UART_RX_PIN, SPB_UART_RX_AF);
    UART_CR1 = 0u;
    UART_BRR = (UART_PCLK + SPB_UART_BAUD / 2u) / SPB_UART_BAUD; /* OVER8 = 0: mantissa.fraction / 16 */
    UART_CR1 = UART_CR1_UE | UART_CR1_TE | UART_CR1_RE;
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
#if defined(SPB_EXT_FLASH_DRIVER)
    xspi_init(); /* the QUADSPI driver (qspi.c); its waits need the SysTick */
#endif
}

void port_uart_write(const uint8_t *data, size_t len)
{
    stm32_uart_write(&UART_SR, UART_SR_TXE, &UART_DR, data, len);
}

int port_uart_read(uint8_t *byte, uint32_t timeout_ms)
{
    /* Reading SR then DR also clears an overrun (ORE). */
    return stm32_uart_read(&UART_SR, UART_SR_RXNE, &UART_DR, byte, timeout_ms);
}

bool port_button_pressed(void)
{
#if defined(SPB_BUTTON_PRESENT) && SPB_BUTTON_PRESENT
    return stm32_gpio_active(GPIO_BASE(SPB_BUTTON_PORT), SPB_BUTTON_PIN, SPB_BUTTON_ACTIVE_LOW);
#else
    return false;
#endif
}

/* ---- flash: the F4/F7 sector controller (port/common/stm32_flash_sector.h) ---- */

/* After an erase: instruction and data caches of FLASH_ACR reset (RM0090 3.5.2: "the data and instruction
 * caches ... must be flushed", only while they are disabled). */
static void stm32_sector_flushed(uint32_t addr, uint32_t len, bool erased)
{
    (void)addr;
    (void)len;
    if (!erased) {
        return;
    }
    uint32_t acr = FLASH_ACR;
    FLASH_ACR = acr & ~(FLASH_ACR_ICEN | FLASH_ACR_DCEN);
    FLASH_ACR = (acr & ~(FLASH_ACR_ICEN | FLASH_ACR_DCEN)) | FLASH_ACR_ICRST | FLASH_ACR_DCRST;
    FLASH_ACR = acr;
}

#include "../common/stm32_flash_sector.h"
#define STM32_SECTOR_HAS_SPRMOD /* F42x/F43x/F469: OPTCR.SPRMOD b31 (RM0090 3.7.5) */
/* OPTCR BFB2 b4 = 0 (boot from bank 1), DB1M b30 = 0 (the 2-Mbyte organisation) - RM0090 3.9.10 */
#define STM32_SECTOR_OPTCR_OWNED_MASK  ((1u << 4) | (1u << 30))
#define STM32_SECTOR_OPTCR_OWNED_VALUE 0u
#include "../common/stm32_protect_sector.h" /* production builds only */

#define STM32_FLASH_ERASE stm32_sector_erase
#define STM32_FLASH_WRITE stm32_sector_write
#define STM32_FLASH_READ  stm32_sector_read
#include "../common/stm32_flash_port.h"

/* ---- reset / hand-over ---- */

void port_reset(void)
{
    while ((UART_SR & UART_SR_TC) == 0u && (UART_CR1 & UART_CR1_UE)) {
    }
    cm_system_reset();
}

void port_jump_to_app(uint32_t vector_table)
{
    while ((UART_SR & UART_SR_TC) == 0u) {
    }
    cm_quiesce();
    UART_RST_REG |= UART_BIT;
    UART_RST_REG &= ~UART_BIT;
    UART_EN_REG &= ~UART_BIT;
    cm_jump(vector_table);
}
