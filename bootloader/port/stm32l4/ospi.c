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
 * Every wait ends: by port_millis() against its timeout, and by a loop count that takes at least as long
 * (while the application calls the API, SysTick is the application's and port_millis() stands still).
 * Timeouts: 10 ms for the controller, 500 ms per 4 KiB erase (datasheet maximum 400 ms), 10 ms per page
 * program, 100 ms for the chip to answer after its reset.
 */
#include "ospi.h"

#if defined(SPB_EXT_FLASH_OSPI_INSTANCE)

#include <string.h>

#include "port.h"
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

#define CMD_WREN    0x06u
#define CMD_RDSR    0x05u
#define CMD_RDID    0x9Fu
#define CMD_RSTEN   0x66u
#define CMD_RST     0x99u
#define CMD_PP4B    0x12u
#define CMD_SE4B    0x21u
#define CMD_FREAD4B 0x0Cu
#define SR_WIP      0x01u
#define PAGE        256u
#define SECTOR      0x1000u

/* OCTOSPIM port value routing every signal of OCTOSPI n (1/2): enables, CLK/DQS/NCS source n - 1,
 * IO[3:0] <- OCTOSPI n IO[3:0], IO[7:4] <- its IO[7:4] (the reset values of P1CR and P2CR) */
#define OSPIM_ROUTE(n) ((n) == 1u ? 0x03010111u : 0x07050333u)

#define RCC_AHB2ENR SPB_REG32(0x4002104Cu)
#define RCC_AHB3ENR SPB_REG32(0x40021050u)
#define RCC_AHB2ENR_OSPIMEN (1u << 20)
#define PWR_CR2 SPB_REG32(0x40007004u)
#define PWR_CR2_IOSV (1u << 9) /* PG[15:2] are supplied by VDDIO2 */

#define ERR_RANGE (-1)
#define ERR_ALIGN (-2)
#define ERR_NOT_BLANK (-3)
#define ERR_HW (-4)
#define ERR_VERIFY (-5)

#define MS_BUS 10u
#define MS_ERASE 500u
#define MS_PROGRAM 10u
#define MS_RESET 100u
/* Loop bounds that last at least the timeout: a register poll takes >= 4 CPU cycles, a status frame
 * >= 16 flash clocks. */
#define SPINS_PER_MS (SPB_SYSCLK_HZ / 4000u)
#define FRAMES_PER_MS (SPB_SYSCLK_HZ / SPB_EXT_FLASH_CLOCK_DIV / 16000u + 1u)

static const uint8_t s_pins[SPB_EXT_FLASH_PIN_COUNT][3] = SPB_EXT_FLASH_PINS;
static bool s_ready;

static bool expired(uint32_t start, uint32_t ms, uint32_t n, uint32_t per_ms)
{
    return port_millis() - start > ms || n > ms * per_ms;
}

/* Wait until one of mask's SR bits is set (set = true) or all of them are clear. */
static int wait_sr(uint32_t mask, bool set)
{
    uint32_t start = port_millis();
    for (uint32_t n = 0; ((OSPI_SR & mask) != 0u) != set; n++) {
        if (expired(start, MS_BUS, n, SPINS_PER_MS)) {
            return OSPI_ERR_TIMEOUT;
        }
    }
    return 0;
}

/* One indirect frame. The register order makes the last write start it (RM0432: IR without address,
 * AR with an address, DR when software supplies data). len bytes are written from / read into buf. */
static int frame(uint32_t fmode, uint32_t ccr, uint32_t instruction, uint32_t address, uint8_t *buf, uint32_t len)
{
    if (wait_sr(SR_BUSY, false) != 0) {
        return OSPI_ERR_TIMEOUT;
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
        } else if (wait_sr(SR_FLEVEL, true) == 0) {
            buf[i] = OSPI_DR8;
        } else {
            return OSPI_ERR_TIMEOUT;
        }
    }
    int rc = wait_sr(SR_TCF, true);
    OSPI_FCR = SR_TCF;
    return rc;
}

/* WREN, then one program or erase frame, then poll the status register until WIP clears. */
static int program_erase(uint32_t instruction, uint32_t at, const uint8_t *src, uint32_t len, uint32_t ms)
{
    int rc = frame(FMODE_WRITE, CCR_I1, CMD_WREN, 0u, NULL, 0u);
    if (rc == 0) {
        rc = frame(FMODE_WRITE, CCR_I1 | CCR_A1_32, instruction, at, (uint8_t *)(uintptr_t)src, len);
    }
    uint32_t start = port_millis();
    for (uint32_t n = 0; rc == 0; n++) {
        uint8_t status;
        rc = frame(FMODE_READ, CCR_I1, CMD_RDSR, 0u, &status, 1u);
        if (rc != 0 || (status & SR_WIP) == 0u) {
            break;
        }
        if (expired(start, ms, n, FRAMES_PER_MS)) {
            rc = OSPI_ERR_TIMEOUT;
        }
    }
    return rc;
}

static void mm_on(void)
{
    OSPI_CR &= ~CR_FMODE;
    OSPI_CCR = CCR_I1 | CCR_A1_32 | CCR_D1;
    OSPI_TCR = 8u | TCR_SSHIFT;
    OSPI_IR = CMD_FREAD4B; /* FMODE 00 with a data phase: nothing starts */
    OSPI_CR |= FMODE_MM;
}

/* The window holds expect[0..len) (0xFF everywhere when expect is NULL). */
static bool window_is(uint32_t addr, const uint8_t *expect, uint32_t len)
{
    const volatile uint8_t *w = (const volatile uint8_t *)(uintptr_t)addr;
    for (uint32_t i = 0; i < len; i++) {
        if (w[i] != (expect != NULL ? expect[i] : 0xFFu)) {
            return false;
        }
    }
    return true;
}

/* [addr, addr + len) ends inside the external flash (the port checked that addr lies in it). */
static bool fits(uint32_t addr, uint32_t len)
{
    return len <= SPB_EXT_FLASH_BASE + SPB_EXT_FLASH_SIZE - addr;
}

void ospi_init(void)
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

    static const uint16_t resets[][2] = {
#if defined(SPB_EXT_FLASH_OCTAL_LINES)
        {CCR_I8_16 | CCR_IDTR, 0x6699u}, {CCR_I8_16 | CCR_IDTR, 0x9966u}, /* octal DTR */
        {CCR_I8_16, 0x6699u}, {CCR_I8_16, 0x9966u},                       /* octal STR */
#endif
        {CCR_I1, CMD_RSTEN}, {CCR_I1, CMD_RST},                             /* SPI */
    };
    for (uint32_t i = 0; i < sizeof resets / sizeof resets[0]; i++) {
        if (frame(FMODE_WRITE, resets[i][0], resets[i][1], 0u, NULL, 0u) != 0) {
            return;
        }
    }
    uint32_t start = port_millis();
    for (uint32_t n = 0;; n++) {
        uint8_t id[3];
        if (frame(FMODE_READ, CCR_I1, CMD_RDID, 0u, id, 3u) != 0 || expired(start, MS_RESET, n, FRAMES_PER_MS)) {
            return;
        }
        if (((uint32_t)id[0] << 16 | (uint32_t)id[1] << 8 | id[2]) == SPB_EXT_FLASH_JEDEC_ID) {
            break;
        }
    }
    mm_on();
    s_ready = true;
}

int ospi_erase(uint32_t addr)
{
    if (!s_ready) {
        return ERR_HW;
    }
    if ((addr - SPB_EXT_FLASH_BASE) % SECTOR != 0u) {
        return ERR_ALIGN;
    }
    OSPI_CR |= CR_ABORT; /* leave memory-mapped mode; frame() waits for BUSY to clear */
    int rc = program_erase(CMD_SE4B, addr - SPB_EXT_FLASH_BASE, NULL, 0u, MS_ERASE);
    mm_on();
    if (rc == 0 && !window_is(addr, NULL, SECTOR)) {
        rc = ERR_VERIFY;
    }
    return rc;
}

int ospi_write(uint32_t addr, const void *data, uint32_t len)
{
    const uint8_t *src = data;
    if (!s_ready) {
        return ERR_HW;
    }
    if (!fits(addr, len) || ospi_contains((uint32_t)(uintptr_t)data)) {
        return ERR_RANGE; /* the source must stay readable while memory-mapped mode is off */
    }
    if ((addr | len) % SPB_EXT_FLASH_WRITE_SIZE != 0u) {
        return ERR_ALIGN;
    }
    if (!window_is(addr, NULL, len)) {
        return ERR_NOT_BLANK;
    }
    OSPI_CR |= CR_ABORT;
    int rc = 0;
    for (uint32_t done = 0, n; rc == 0 && done < len; done += n) {
        n = PAGE - (addr + done) % PAGE; /* a page program wraps inside its page */
        if (n > len - done) {
            n = len - done;
        }
        rc = program_erase(CMD_PP4B, addr + done - SPB_EXT_FLASH_BASE, &src[done], n, MS_PROGRAM);
    }
    mm_on();
    if (rc == 0 && !window_is(addr, src, len)) {
        rc = ERR_VERIFY;
    }
    return rc;
}

int ospi_read(uint32_t addr, void *dst, uint32_t len)
{
    if (!s_ready) {
        return ERR_HW;
    }
    if (!fits(addr, len)) {
        return ERR_RANGE;
    }
    memcpy(dst, (const void *)(uintptr_t)addr, len);
    return 0;
}

#elif defined(SPB_EXT_FLASH_KIND_OSPI)
#warning "external_flash: kind = \"ospi\" without instance/port/pins: the bootloader cannot reach that flash"
#endif
