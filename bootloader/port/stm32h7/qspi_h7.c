/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The QUADSPI driver of the H7 port: the F469's driver (port/stm32f4/qspi.c) compiled with the STM32H745's
 * addresses (RM0399: QUADSPI registers at 0x5200_5000 on the D1 AHB3 bus, window 0x9000_0000, clock enable
 * RCC_AHB3ENR bit 14, GPIO ports at 0x5802_0000 enabled in RCC_AHB4ENR; stm32-extflash-protection.md A2). The
 * kernel clock is the reset selection D1CCIPR.QSPISEL = 00, HCLK3 (SYSCLK / 2 here). The DISCO-H745I's
 * MT25TL01G is two MT25QL512 dies in dual-flash mode (SPB_EXT_FLASH_DIES, qspi.c): 4-byte-address opcodes,
 * 64 KiB sector erase on both dies at once. Compiles to nothing on a board without the QUADSPI driver data.
 */
#include "spb_board.h"

#define QSPI_BASE            0x52005000u
#define QSPI_RCC_ENR         SPB_REG32(0x580244D4u) /* RCC_AHB3ENR */
#define QSPI_RCC_EN_BIT      (1u << 14)             /* QSPIEN */
#define QSPI_GPIO_ENR        SPB_REG32(0x580244E0u) /* RCC_AHB4ENR: GPIOx enable = bit x */
#define QSPI_GPIO_BASE(port) (0x58020000u + 0x400u * (port))

#include "../stm32f4/qspi.c"
