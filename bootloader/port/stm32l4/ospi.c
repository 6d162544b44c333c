/* SPDX-License-Identifier: Apache-2.0 */
/*
 * External NOR flash on an STM32L4+ OCTOSPI (RM0432 "Octo-SPI interface" and "OCTOSPI I/O manager"), for
 * boards whose [external_flash] has kind = "ospi" with the driver data (instance, port, pins,
 * clock_divider; docs/boards.md). On every other L4 board this file compiles to nothing.
 *
 * Protocol: SPI 1-1-1 with the dedicated 4-byte-address opcodes (12 PP4B, 21 SE4B, 0C FAST_READ4B with
 * 8 dummy cycles, 05 RDSR, 06 WREN, 9F RDID, 66/99 reset). Why not octal: the chip powers up in SPI;
 * SPI needs no dummy-cycle setting in the chip's CR2 to match the clock, no DQS and no delay-block
 * tuning (octal DTR), and it is the smallest code; the bootloader moves an image once, so octal speed
 * buys little. An application wanting faster execute-in-place may switch the chip to octal itself, but
 * must put it back in SPI with the bootloader's memory-mapped setup before calling the update API.
 *
 * Known mode: an MCU system reset does not reset the chip, so a previous run may have left it in octal
 * STR or DTR. Init sends reset-enable + reset framed for each protocol (8-line DTR, 8-line STR when all
 * eight IO lines are wired, then 1-line): a chip in another protocol ignores a frame that is not its own.
 * It then reads the JEDEC ID until the chip answers (reset recovery) or 100 ms pass. If the MCU was
 * reset in the middle of a program or erase, the chip reset interrupts it and leaves the cells as a power
 * cut there would, which the update logic tolerates.
 *
 * Resting state: memory-mapped mode (FAST_READ4B). Reads are a memcpy from the window, MultiSegment
 * applications execute from it (the hand-over needs nothing), and the update API called by the
 * application leaves it on. Erase and program abort it, run indirect frames, poll WIP, turn it back on,
 * then verify through the window. Interrupts stay enabled: an application whose interrupt handlers run
 * from the window must mask them around update API calls that write the external flash.
 *
 * This file is the controller part (the xspi_hw_* functions of port/common/xspi_nor.h): clocks, pins,
 * OCTOSPIM, the framing of one command, memory-mapped mode. The NOR command sequences, the waits and
 * their timeouts (500 ms per 4 KiB erase: datasheet maximum 400 ms; 10 ms per page program; 100 ms for
 * the chip to answer after its reset), the page split and the verification are shared with the F469's
 * QUADSPI driver in port/common/xspi_nor.c.
 */
#include "../common/xspi_nor.h"

#if defined(SPB_EXT_FLASH_OSPI_INSTANCE)

#include <stddef.h>

#include "../common/cortexm.h"
#include "../common/stm32_common.h"

#define OSPI_BASE (0xA0001000u + 0x400u * (SPB_EXT_FLASH_OSPI_INSTANCE - 1u))
#define OSPI_CR   SPB_REG32(OSPI_BASE + 0x000u)
#define OSPI_DCR1 SPB_REG32(OSPI_BASE + 0x008u)
#define OSPI_DCR2 SPB_REG32(OSPI_BASE + 0x00Cu)
#define OSPI_SR   SPB_REG32(OSPI_BASE + 0x020u)
#define OSPI_FCR  SPB_REG32(OSPI_BASE + 0x024u)
#define OSPI_DLR  SPB_REG32(OSPI_BASE + 0x040u)
#define OSPI_AR   SPB_REG32(OSPI_BASE + 0x048u)
#define OSPI_DR8  (*(volatile uint8_t *)(uintptr_t)(OSPI_BASE + 0x050u))
#define OSPI_CCR  SPB_REG32(OSPI_BASE + 0x100u)
#define OSPI_TCR  SPB_REG32(OSPI_BASE + 0x108u)
#define OSPI_IR   SPB_REG32(OSPI_BASE + 0x110u)
#define OSPIM_PCR(port) SPB_REG32(0x50061C00u + 4u * (port))

#define CR_EN       (1u << 0)
#define CR_ABORT    (1u << 1)
#define CR_FMODE    (3u << 28)
#define FMODE_WRITE (0u << 28)
#define FMODE_READ  (1u << 28)
#define FMODE_MM    (3u << 28)
#define SR_TCF      (1u << 1)
#define SR_BUSY     (1u << 5)
#define SR_FLEVEL   (0x3Fu << 8)
#define DCR1_DLYBYP (1u << 3)
#define TCR_SSHIFT  (1u << 30) /* sample half a clock later (STR) */

/* CCR: instruction 1 line / 8 lines x 16 bit (+DTR), address 1 line x 32 bit, data 1 line */
#define CCR_I1     (1u << 0)
#define CCR_I8_16  ((4u << 0) | (1u << 4))
#define CCR_IDTR   (1u << 3)
#define CCR_A1_32  ((1u << 8) | (3u << 12))
#define CCR_ADMODE (7u << 8)
#define CCR_D1     (1u << 24)

#define CMD_FREAD4B 0x0Cu

/* OCTOSPIM port value routing every signal of OCTOSPI n (1/2): enables, CLK/DQS/NCS source n - 1,
 * IO[3:0] <- OCTOSPI n IO[3:0], IO[7:4] <- its IO[7:4] (the reset values of P1CR and P2CR) */
#define OSPIM_ROUTE(n) ((n) == 1u ? 0x03010111u : 0x07050333u)

#define RCC_AHB2ENR SPB_REG32(0x4002104Cu)
#define RCC_AHB3ENR SPB_REG32(0x40021050u)
#define RCC_AHB2ENR_OSPIMEN (1u << 20)
#define PWR_CR2 SPB_REG32(0x40007004u)
#define PWR_CR2_IOSV (1u << 9) /* PG[15:2] are supplied by VDDIO2 */

_Static_assert(SPB_EXT_FLASH_ADDR_BYTES == 4, "the OCTOSPI driver uses the 4-byte address opcodes");

static const uint8_t s_pins[SPB_EXT_FLASH_PIN_COUNT][3] = SPB_EXT_FLASH_PINS;

/* One indirect frame. The register order makes the last write start it (RM0432: IR without address,
 * AR with an address, DR when software supplies data). len bytes are written from / read into buf. */
static int frame(uint32_t fmode, uint32_t ccr, uint32_t instruction, uint32_t address, uint8_t *buf, uint32_t len)
{
    if (xspi_wait_reg(&OSPI_SR, SR_BUSY, false) != 0) {
        return XSPI_ERR_TIMEOUT;
    }
    OSPI_CR = (OSPI_CR & ~CR_FMODE) | fmode;
    OSPI_FCR = SR_TCF; /* an ABORT sets it too */
    OSPI_DLR = len - 1u;
    OSPI_CCR = ccr | (len != 0u ? CCR_D1 : 0u);
    OSPI_TCR = TCR_SSHIFT;
    OSPI_IR = instruction;
    if (ccr & CCR_ADMODE) {
        OSPI_AR = address;
    }
    for (uint32_t i = 0; i < len; i++) {
        if (fmode == FMODE_WRITE) {
            OSPI_DR8 = buf[i];
        } else if (xspi_wait_reg(&OSPI_SR, SR_FLEVEL, true) == 0) {
            buf[i] = OSPI_DR8;
        } else {
            return XSPI_ERR_TIMEOUT;
        }
    }
    int rc = xspi_wait_reg(&OSPI_SR, SR_TCF, true);
    OSPI_FCR = SR_TCF;
    return rc;
}

int xspi_hw_frame(uint32_t shape, uint32_t instruction, uint32_t address, uint8_t *buf, uint32_t len)
{
    return frame((shape & XSPI_READ) ? FMODE_READ : FMODE_WRITE, CCR_I1 | ((shape & XSPI_ADDR) ? CCR_A1_32 : 0u),
                 instruction, address, buf, len);
}

void xspi_hw_mm_on(void)
{
    OSPI_CR &= ~CR_FMODE;
    OSPI_CCR = CCR_I1 | CCR_A1_32 | CCR_D1;
    OSPI_TCR = 8u | TCR_SSHIFT;
    OSPI_IR = CMD_FREAD4B; /* FMODE 00 with a data phase: nothing starts */
    OSPI_CR |= FMODE_MM;
}

void xspi_hw_mm_off(void)
{
    OSPI_CR |= CR_ABORT; /* the next frame waits for BUSY to clear and selects its mode */
}

bool xspi_hw_init(void)
{
    RCC_AHB2ENR |= RCC_AHB2ENR_OSPIMEN;
    RCC_AHB3ENR |= 1u << (7u + SPB_EXT_FLASH_OSPI_INSTANCE);
    for (uint32_t i = 0; i < SPB_EXT_FLASH_PIN_COUNT; i++) {
        uint32_t port = s_pins[i][0], pin = s_pins[i][1];
        uint32_t base = 0x48000000u + 0x400u * port;
        RCC_AHB2ENR |= 1u << port;
        (void)RCC_AHB2ENR;
        if (port == 6u && pin >= 2u) {
            PWR_CR2 |= PWR_CR2_IOSV;
        }
        /* push-pull, no pull (reset values); very high speed; alternate function */
        GPIO_OSPEEDR(base) |= 3u << (2u * pin);
        GPIO_AFR(base, pin / 8u) = (GPIO_AFR(base, pin / 8u) & ~(0xFu << (4u * (pin % 8u)))) |
                                   ((uint32_t)s_pins[i][2] << (4u * (pin % 8u)));
        GPIO_MODER(base) = (GPIO_MODER(base) & ~(3u << (2u * pin))) | (2u << (2u * pin));
    }

    OSPI_CR = 0u; /* the I/O manager is set up with the controllers disabled */
    OSPIM_PCR(SPB_EXT_FLASH_OSPIM_PORT) = OSPIM_ROUTE(SPB_EXT_FLASH_OSPI_INSTANCE);
    OSPIM_PCR(3u - SPB_EXT_FLASH_OSPIM_PORT) = OSPIM_ROUTE(3u - SPB_EXT_FLASH_OSPI_INSTANCE);
    OSPI_DCR1 = (SPB_EXT_FLASH_DEVSIZE << 16) | (3u << 8) | DCR1_DLYBYP; /* CS high >= 4 clocks */
    OSPI_DCR2 = SPB_EXT_FLASH_CLOCK_DIV - 1u;
    OSPI_CR = CR_EN; /* FIFO threshold 1 byte */

#if defined(SPB_EXT_FLASH_OCTAL_LINES)
    /* reset enable + reset in octal DTR, then octal STR (the SPI pair follows in xspi_init) */
    static const uint16_t resets[][2] = {
        {CCR_I8_16 | CCR_IDTR, 0x6699u}, {CCR_I8_16 | CCR_IDTR, 0x9966u},
        {CCR_I8_16, 0x6699u}, {CCR_I8_16, 0x9966u},
    };
    for (uint32_t i = 0; i < sizeof resets / sizeof resets[0]; i++) {
        if (frame(FMODE_WRITE, resets[i][0], resets[i][1], 0u, NULL, 0u) != 0) {
            return false;
        }
    }
#endif
    return true;
}

#endif
