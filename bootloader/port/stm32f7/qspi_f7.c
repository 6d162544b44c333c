/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The QUADSPI driver of the F7 port: the F469's driver (port/stm32f4/qspi.c) compiled unchanged. The
 * STM32F76x/F77x have the same QUADSPI (RM0410 "Quad-SPI interface (QUADSPI)": registers at 0xA000_1000,
 * window 0x9000_0000, kernel clock HCLK), enabled by RCC_AHB3ENR bit 1, with GPIO ports at the F4's
 * addresses; the chip's opcode set and read command follow from the board header (SPB_EXT_FLASH_ADDR_BYTES).
 * Compiles to nothing on a board without the QUADSPI driver data.
 */
#include "../stm32f4/qspi.c"
