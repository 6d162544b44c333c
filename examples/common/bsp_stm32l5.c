/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Example BSP for STM32L5 with TrustZone disabled (RM0438): the L4 BSP with the L5's differences - GPIO at
 * the non-secure AHB2 alias 0x4202_0000, voltage range 0 above 80 MHz (range 1 below), 20 MHz per flash
 * wait state, no cache bits in FLASH_ACR, the ICACHE on (as CubeMX-generated applications have it). The
 * RCC, PWR_CR1/SR2, U(S)ART and GPIO registers it uses are the L4's, at the same addresses.
 */
#define BSP_STM32L5 1
#include "bsp_stm32l4.c"
