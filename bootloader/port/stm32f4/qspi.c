/* SPDX-License-Identifier: Apache-2.0 */
/*
 * External NOR flash on the QUADSPI of the STM32F469/F479 (RM0386 "Quad-SPI interface (QUADSPI)"), bank 1,
 * for boards whose [external_flash] has kind = "qspi" with the driver data (instance, pins, clock_divider;
 * docs/boards.md): the DISCO-F469I and its Micron N25Q128A. The STM32F76x/F77x have the same QUADSPI at the
 * same addresses, with the same RCC (AHB3ENR.QSPIEN bit 1) and GPIO blocks (RM0410 memory map, "Quad-SPI
 * interface"): the F7 port compiles this file too (port/stm32f7/qspi_f7.c; DISCO-F769I, Macronix
 * MX25L51245G, 4-byte-address opcodes). On every other board this file compiles to nothing.
 *
 * This file is the controller part (the xspi_hw_* functions of port/common/xspi_nor.h); the NOR command
 * sequences (reset, JEDEC ID, WREN + page program / sector erase + WIP polling, page split, blank check,
 * verification, timeouts) are shared with the L4+ OCTOSPI driver in port/common/xspi_nor.c.
 *
 * Registers: CR 0x00 (EN, ABORT, SSHIFT, FTHRES, PRESCALER 31:24), DCR 0x04 (CSHT 10:8, FSIZE 20:16),
 * SR 0x08 (TCF, BUSY, FLEVEL), FCR 0x0C, DLR 0x10, CCR 0x14 (INSTRUCTION 7:0, IMODE 9:8, ADMODE 11:10,
 * ADSIZE 13:12, DCYC 22:18, DMODE 25:24, FMODE 27:26), AR 0x18, DR 0x20; memory window 0x9000_0000.
 * A command starts on the last register write it needs: CCR when it has no address and software supplies
 * no data, AR when it has an address and no software data, DR when software supplies the data.
 *
 * Protocol: commands in SPI 1-1-1 (the chip's power-on protocol) with the address width of the chip's opcode
 * set, SPB_EXT_FLASH_ADDR_BYTES: 3 on the 16 MiB N25Q128A, 4 on the 64 MiB MX25L51245G (its dedicated
 * 4-byte-address opcodes work whatever 3/4-byte mode the chip is in). Memory-mapped mode, the resting state, reads with 6B "quad output fast read" (1-1-4,
 * 8 dummy cycles, the chip's default): four times the 1-line speed for code executing from SLOT0's second
 * segment, without touching the chip's configuration registers (the MX25L51245G: 0C, see MM_CCR). An
 * application that changes the chip's
 * protocol or dummy cycles (volatile configuration registers) must restore them before calling the update
 * API; a system reset does not reset the chip, so init sends reset-enable + reset framed for quad I/O,
 * dual I/O and then (xspi_nor.c) extended SPI: a chip in another protocol ignores a frame not its own.
 *
 * Clock: the QUADSPI kernel clock is HCLK (= SYSCLK here) / clock_divider (DISCO-F469I: 180 / 2 = 90 MHz,
 * N25Q128A limit 108 MHz). Chip select stays high 5 clocks between commands (tSHSL 50 ns after a write),
 * data sampled half a clock late (SSHIFT) for the round trip at 90 MHz.
 */
#include "../common/xspi_nor.h"

#if defined(SPB_EXT_FLASH_QSPI)

#include <stddef.h>

#include "../common/cortexm.h"
#include "../common/stm32_common.h"

/* The controller's place in the part: the F4/F7 values unless the including port gives its own (the STM32H745:
 * port/stm32h7/qspi_h7.c, RM0399 memory map and RCC). */
#ifndef QSPI_BASE
#define QSPI_BASE           0xA0001000u
#define QSPI_RCC_ENR        SPB_REG32(0x40023838u) /* RCC_AHB3ENR */
#define QSPI_RCC_EN_BIT     (1u << 1)              /* QSPIEN */
#define QSPI_GPIO_ENR       SPB_REG32(0x40023830u) /* RCC_AHB1ENR: GPIOx enable = bit x */
#define QSPI_GPIO_BASE(port) (0x40020000u + 0x400u * (port))
#endif
#define QSPI_CR   SPB_REG32(QSPI_BASE + 0x00u)
#define QSPI_DCR  SPB_REG32(QSPI_BASE + 0x04u)
#define QSPI_SR   SPB_REG32(QSPI_BASE + 0x08u)
#define QSPI_FCR  SPB_REG32(QSPI_BASE + 0x0Cu)
#define QSPI_DLR  SPB_REG32(QSPI_BASE + 0x10u)
#define QSPI_CCR  SPB_REG32(QSPI_BASE + 0x14u)
#define QSPI_AR   SPB_REG32(QSPI_BASE + 0x18u)
#define QSPI_DR8  (*(volatile uint8_t *)(uintptr_t)(QSPI_BASE + 0x20u))

#define CR_EN     (1u << 0)
#define CR_ABORT  (1u << 1)
#define CR_SSHIFT (1u << 4)
#define SR_TCF    (1u << 1)
#define SR_BUSY   (1u << 5)
#define SR_FLEVEL (0x3Fu << 8)

#define CCR_I1      (1u << 8)
#define CCR_I2      (2u << 8)
#define CCR_I4      (3u << 8)
#define CCR_A1      ((1u << 10) | ((SPB_EXT_FLASH_ADDR_BYTES - 1u) << 12)) /* 1 line, ADSIZE 24 / 32 bits */
#define CCR_ADMODE  (3u << 10)
#define CCR_DCYC(n) ((uint32_t)(n) << 18)
#define CCR_D1      (1u << 24)
#define CCR_D4      (3u << 24)
#define CCR_READ    (1u << 26)
#define CCR_MM      (3u << 26)

/* Memory-mapped read, by the chip's opcode set (SPB_EXT_FLASH_ADDR_BYTES):
 * 3 (N25Q128A): 6B quad output fast read, 1-1-4, 8 dummy cycles (the chip's default; no configuration);
 * 4 (MX25L51245G): 0C FAST_READ4B, 1-1-1, 8 dummy cycles (DC = 00 default, 133 MHz): Macronix accepts 1-1-4
 *   and 1-4-4 reads only with the non-volatile QE bit set (ST's mx25l512 driver notes), which the bootloader
 *   never writes; the single-line read works on a chip in any state after its reset. */
#if SPB_EXT_FLASH_ADDR_BYTES == 3
#define MM_CCR (0x6Bu | CCR_I1 | CCR_A1 | CCR_DCYC(8u) | CCR_D4 | CCR_MM)
#else
#define MM_CCR (0x0Cu | CCR_I1 | CCR_A1 | CCR_DCYC(8u) | CCR_D1 | CCR_MM)
#endif
#define CMD_RSTEN 0x66u
#define CMD_RST   0x99u

/* Dual-flash mode (CR.DFM, SPB_EXT_FLASH_DIES 2: two identical dies on banks 1 and 2, e.g. the MT25TL01G of the
 * DISCO-H745I; RM0399 "Dual-flash mode"): every phase goes to both dies, the address sent is AR / 2, even bytes
 * are die 1's and odd bytes die 2's, DL[0] is forced to 1. The shared code (xspi_nor.c) then sees one memory of
 * twice the size: programs and erases are even-sized by construction; a register read returns each byte of
 * the two dies, and frame_dual() hands back die 1's byte when the dies agree, else that byte with bit 0 set
 * (WIP: "still busy" for a status, a mismatch for the JEDEC ID, whose bytes have bit 0 clear). */
#if defined(SPB_EXT_FLASH_DIES) && SPB_EXT_FLASH_DIES == 2
#define CR_DFM (1u << 6)
#define DUAL 1
#else
#define CR_DFM 0u
#define DUAL 0
#endif

_Static_assert(SPB_EXT_FLASH_ADDR_BYTES == 3 || SPB_EXT_FLASH_ADDR_BYTES == 4, "3- or 4-byte addresses");

static const uint8_t s_pins[SPB_EXT_FLASH_PIN_COUNT][3] = SPB_EXT_FLASH_PINS;

/* One indirect frame; ccr holds the instruction, its line modes and FMODE. len bytes are written from /
 * read into buf on one line. */
static int frame(uint32_t ccr, uint32_t address, uint8_t *buf, uint32_t len)
{
    if (xspi_wait_reg(&QSPI_SR, SR_BUSY, false) != 0) {
        return XSPI_ERR_TIMEOUT;
    }
    QSPI_FCR = SR_TCF; /* an ABORT sets it too */
    QSPI_DLR = len - 1u;
    QSPI_CCR = ccr | (len != 0u ? CCR_D1 : 0u);
    if (ccr & CCR_ADMODE) {
        QSPI_AR = address;
    }
    for (uint32_t i = 0; i < len; i++) {
        if ((ccr & CCR_READ) == 0u) {
            QSPI_DR8 = buf[i];
        } else if (xspi_wait_reg(&QSPI_SR, SR_FLEVEL, true) == 0) {
            buf[i] = QSPI_DR8;
        } else {
            return XSPI_ERR_TIMEOUT;
        }
    }
    int rc = xspi_wait_reg(&QSPI_SR, SR_TCF, true);
    QSPI_FCR = SR_TCF;
    return rc;
}

int xspi_hw_frame(uint32_t shape, uint32_t instruction, uint32_t address, uint8_t *buf, uint32_t len)
{
    uint32_t ccr = instruction | CCR_I1 | ((shape & XSPI_ADDR) ? CCR_A1 : 0u) | ((shape & XSPI_READ) ? CCR_READ : 0u);
#if DUAL
    if (shape == XSPI_READ && len != 0u) { /* a register of each die */
        static uint8_t both[8]; /* static: no stack, and never read before a frame filled it */
        if (len > sizeof both / 2u) {
            return XSPI_ERR_TIMEOUT;
        }
        int rc = frame(ccr, address, both, 2u * len);
        for (uint32_t i = 0; i < len && rc == 0; i++) {
            buf[i] = both[2u * i] == both[2u * i + 1u] ? both[2u * i] : (uint8_t)(both[2u * i] | 1u);
        }
        return rc;
    }
#endif
    return frame(ccr, address, buf, len);
}

void xspi_hw_mm_on(void)
{
    QSPI_CCR = MM_CCR;
}

void xspi_hw_mm_off(void)
{
    QSPI_CR |= CR_ABORT; /* the next frame waits for BUSY to clear and writes CCR with its mode */
}

bool xspi_hw_init(void)
{
    QSPI_RCC_ENR |= QSPI_RCC_EN_BIT;
    for (uint32_t i = 0; i < SPB_EXT_FLASH_PIN_COUNT; i++) {
        uint32_t port = s_pins[i][0], pin = s_pins[i][1];
        uint32_t base = QSPI_GPIO_BASE(port);
        QSPI_GPIO_ENR |= 1u << port;
        (void)QSPI_GPIO_ENR;
        /* push-pull, no pull (reset values); very high speed; alternate function */
        GPIO_OSPEEDR(base) |= 3u << (2u * pin);
        GPIO_AFR(base, pin / 8u) = (GPIO_AFR(base, pin / 8u) & ~(0xFu << (4u * (pin % 8u)))) |
                                   ((uint32_t)s_pins[i][2] << (4u * (pin % 8u)));
        GPIO_MODER(base) = (GPIO_MODER(base) & ~(3u << (2u * pin))) | (2u << (2u * pin));
    }
    (void)QSPI_RCC_ENR;
    /* every reset resets the QUADSPI (CR = 0, idle): the prescaler and DCR may be written */
    QSPI_DCR = (SPB_EXT_FLASH_DEVSIZE << 16) | (4u << 8); /* FSIZE; CS high >= 5 clocks */
    QSPI_CR = ((SPB_EXT_FLASH_CLOCK_DIV - 1u) << 24) | CR_SSHIFT | CR_DFM | CR_EN; /* FIFO threshold 1 byte */

    /* reset enable + reset framed for quad I/O, then dual I/O (the SPI pair follows in xspi_init) */
    static const uint16_t resets[] = {CCR_I4 | CMD_RSTEN, CCR_I4 | CMD_RST, CCR_I2 | CMD_RSTEN, CCR_I2 | CMD_RST};
    for (uint32_t i = 0; i < sizeof resets / sizeof resets[0]; i++) {
        if (frame(resets[i], 0u, NULL, 0u) != 0) {
            return false;
        }
    }
    return true;
}

#endif
