# SPDX-License-Identifier: Apache-2.0
"""Alternate-function numbers of the pins the modelled boards use, per part family: which AF routes a
peripheral signal to a pin. A U(S)ART's output reaches the board's virtual COM port only when the pin
wired to it is in alternate-function mode with exactly this AF, so a wrong AF number in a board file
(or a port that forgets to configure the pin) leaves the console silent in the harness as on the board.

Sources (datasheet alternate-function tables): STM32L452xx DS11912 table 17; STM32L476xx DS10198
table 17 (AF7 USART1-3 incl. USART2 on PD5/PD6, AF8 LPUART1/UART4-5); STM32L496xx/L4A6xx DS11585 (AF7
USART2 on PA2/PD6, AF8 LPUART1 on PG7/PG8 - PG2..PG15 are on VDDIO2, see soc.io_supply); STM32L412xx
DS12469 (AF7 USART2_TX on PA2, AF3 USART2_RX on PA15: the Nucleo-32 virtual COM port pins); STM32L4R5xx/
L4S5xx DS12024 (AF7 USART1 on PB6/PB7); STM32L4R9xx/L4S9xx DS12023
table 19 (AF7 U(S)ART1-3, AF8 LPUART1/UART4-5, AF5 OCTOSPIM_P1/P2 on the pins listed); the OCTOSPIM
port 2 pins of the DISCO-L4R9I (CLK PI6, NCS PG12, DQS PG15, IO0-3 PI11/PI10/PI9/PH8, IO4-7
PH9/PH10/PG9/PG10, all AF5) as ST's board support configures them and as OpenOCD's board file
tcl/board/stm32l4r9i-disco.cfg restates them ("PG12: P2_NCS, PI06: P2_CLK, ... all AF05");
STM32F427xx/F429xx DS9405 table 12 (AF7 USART1-3, AF8 UART4-8/USART6); STM32F469xx/F479xx DS11189
alternate functions (the same U(S)ART assignments; QUADSPI_CLK PF10 AF9, QUADSPI_BK1_NCS PB6 AF10,
BK1_IO0/IO1 PF8/PF9 AF10, BK1_IO2/IO3 PF7/PF6 AF9: the DISCO-F469I's N25Q128A wiring, as ST's board
support configures it);
STM32L073xZ DS10685 table 16/17 (AF4 USART1/USART2 on PA9/PA10/PA2/PA3/PA14/PA15, AF6 LPUART1 on
PA2/PA3, AF0 USART1 on PB6/PB7); STM32L072xZ datasheet (DocID027100) port A/B alternate functions: the
same USART1/USART2/LPUART1 assignments on these pins.

The tables are per family: each entry is the AF the datasheets named above give for that pin and
signal, checked for the parts of the boards that use the pin.
"""

from __future__ import annotations

# family -> {(pin, af): signal}
_L4 = {
    ("PA2", 7): "USART2_TX",
    ("PA3", 7): "USART2_RX",
    ("PA15", 3): "USART2_RX",
    ("PD5", 7): "USART2_TX",
    ("PD6", 7): "USART2_RX",
    ("PA9", 7): "USART1_TX",
    ("PA10", 7): "USART1_RX",
    ("PB6", 7): "USART1_TX",
    ("PB7", 7): "USART1_RX",
    ("PG9", 7): "USART1_TX",
    ("PG10", 7): "USART1_RX",
    ("PB10", 7): "USART3_TX",
    ("PB11", 7): "USART3_RX",
    ("PC4", 7): "USART3_TX",
    ("PC5", 7): "USART3_RX",
    ("PC10", 7): "USART3_TX",
    ("PC11", 7): "USART3_RX",
    ("PD8", 7): "USART3_TX",
    ("PD9", 7): "USART3_RX",
    ("PA2", 8): "LPUART1_TX",
    ("PA3", 8): "LPUART1_RX",
    ("PG7", 8): "LPUART1_TX",
    ("PG8", 8): "LPUART1_RX",
    ("PA0", 8): "UART4_TX",
    ("PA1", 8): "UART4_RX",
    ("PC10", 8): "UART4_TX",
    ("PC11", 8): "UART4_RX",
    ("PC12", 8): "UART5_TX",
    ("PD2", 8): "UART5_RX",
    # STM32L4R9xx OCTOSPIM port 2 (AF5), the pins the DISCO-L4R9I wires to its MX25LM51245G
    ("PI6", 5): "OCTOSPIM_P2_CLK",
    ("PG12", 5): "OCTOSPIM_P2_NCS",
    ("PG15", 5): "OCTOSPIM_P2_DQS",
    ("PI11", 5): "OCTOSPIM_P2_IO0",
    ("PI10", 5): "OCTOSPIM_P2_IO1",
    ("PI9", 5): "OCTOSPIM_P2_IO2",
    ("PH8", 5): "OCTOSPIM_P2_IO3",
    ("PH9", 5): "OCTOSPIM_P2_IO4",
    ("PH10", 5): "OCTOSPIM_P2_IO5",
    ("PG9", 5): "OCTOSPIM_P2_IO6",
    ("PG10", 5): "OCTOSPIM_P2_IO7",
}
_F4 = {
    ("PA9", 7): "USART1_TX",
    ("PA10", 7): "USART1_RX",
    ("PB6", 7): "USART1_TX",
    ("PB7", 7): "USART1_RX",
    ("PA2", 7): "USART2_TX",
    ("PA3", 7): "USART2_RX",
    ("PA15", 3): "USART2_RX",
    ("PD5", 7): "USART2_TX",
    ("PD6", 7): "USART2_RX",
    ("PB10", 7): "USART3_TX",
    ("PB11", 7): "USART3_RX",
    ("PC10", 7): "USART3_TX",
    ("PC11", 7): "USART3_RX",
    ("PD8", 7): "USART3_TX",
    ("PD9", 7): "USART3_RX",
    ("PA0", 8): "UART4_TX",
    ("PA1", 8): "UART4_RX",
    ("PC10", 8): "UART4_TX",
    ("PC11", 8): "UART4_RX",
    ("PC12", 8): "UART5_TX",
    ("PD2", 8): "UART5_RX",
    ("PC6", 8): "USART6_TX",
    ("PC7", 8): "USART6_RX",
    ("PG14", 8): "USART6_TX",
    ("PG9", 8): "USART6_RX",
    ("PE8", 8): "UART7_TX",
    ("PE7", 8): "UART7_RX",
    ("PF7", 8): "UART7_TX",
    ("PF6", 8): "UART7_RX",
    ("PE1", 8): "UART8_TX",
    ("PE0", 8): "UART8_RX",
    # STM32F469xx QUADSPI bank 1 (DISCO-F469I)
    ("PF10", 9): "QUADSPI_CLK",
    ("PB6", 10): "QUADSPI_BK1_NCS",
    ("PF8", 10): "QUADSPI_BK1_IO0",
    ("PF9", 10): "QUADSPI_BK1_IO1",
    ("PF7", 9): "QUADSPI_BK1_IO2",
    ("PF6", 9): "QUADSPI_BK1_IO3",
}
_L0 = {
    ("PA2", 4): "USART2_TX",
    ("PA3", 4): "USART2_RX",
    ("PA14", 4): "USART2_TX",
    ("PA15", 4): "USART2_RX",
    ("PA9", 4): "USART1_TX",
    ("PA10", 4): "USART1_RX",
    ("PB6", 0): "USART1_TX",
    ("PB7", 0): "USART1_RX",
    ("PA2", 6): "LPUART1_TX",
    ("PA3", 6): "LPUART1_RX",
    ("PA0", 6): "USART4_TX",
    ("PA1", 6): "USART4_RX",
    ("PC10", 6): "USART4_TX",
    ("PC11", 6): "USART4_RX",
}
# STM32L562xx DS12736 table "Alternate function AF0 to AF7" (port A): AF7 USART1 on PA9/PA10, the ST-LINK
# virtual COM port of the DISCO-L562E (STM32L562E-DK user manual UM2617)
_L5 = {
    ("PA9", 7): "USART1_TX",
    ("PA10", 7): "USART1_RX",
}
# STM32G474xx DS12288 table "Alternate function" (port A/C): AF12 LPUART1 on PA2/PA3 (the NUCLEO-G474RE
# virtual COM port, UM2505), AF7 USART2 on PA2/PA3 and USART1 on PA9/PA10/PC4/PC5
_G4 = {
    ("PA2", 12): "LPUART1_TX",
    ("PA3", 12): "LPUART1_RX",
    ("PA2", 7): "USART2_TX",
    ("PA3", 7): "USART2_RX",
    ("PA9", 7): "USART1_TX",
    ("PA10", 7): "USART1_RX",
    ("PC4", 7): "USART1_TX",
    ("PC5", 7): "USART1_RX",
}
# STM32G0B1xx DS13560 table "Port A alternate function mapping": AF1 USART2 on PA2/PA3 (the NUCLEO-G0B1RE
# virtual COM port) and USART1 on PA9/PA10; port C: AF1 USART1 on PC4/PC5
_G0 = {
    ("PA2", 1): "USART2_TX",
    ("PA3", 1): "USART2_RX",
    ("PA9", 1): "USART1_TX",
    ("PA10", 1): "USART1_RX",
    ("PC4", 1): "USART1_TX",
    ("PC5", 1): "USART1_RX",
}
# STM32WL55xx DS13293 / STM32WLE5xx DS13105 alternate functions: AF7 USART2 and AF8 LPUART1 on PA2/PA3 (the
# NUCLEO-WL55JC virtual COM port, UM2592), AF7 USART1 on PB6/PB7 (the LoRa-E5 Dev Board's USB serial)
_WL = {
    ("PA2", 8): "LPUART1_TX",
    ("PA3", 8): "LPUART1_RX",
    ("PA2", 7): "USART2_TX",
    ("PA3", 7): "USART2_RX",
    ("PB6", 7): "USART1_TX",
    ("PB7", 7): "USART1_RX",
    ("PA9", 7): "USART1_TX",
    ("PA10", 7): "USART1_RX",
}
# STM32F765xx/F767xx/F768Ax/F769xx DS11532 alternate function mapping: AF7 USART1 on PA9/PA10 (the DISCO-F769I
# ST-LINK virtual COM port, UM2033); QUADSPI bank 1 of the DISCO-F769I's MX25L51245G: CLK PB2 AF9, BK1_NCS
# PB6 AF10, BK1_IO0/IO1 PC9/PC10 AF9, BK1_IO2 PE2 AF9, BK1_IO3 PD13 AF9, as ST's STM32F769I-Discovery BSP
# (stm32f769i_discovery_qspi.h) configures them
_F7 = {
    ("PA9", 7): "USART1_TX",
    ("PA10", 7): "USART1_RX",
    ("PB6", 7): "USART1_TX",
    ("PB7", 7): "USART1_RX",
    ("PB2", 9): "QUADSPI_CLK",
    ("PB6", 10): "QUADSPI_BK1_NCS",
    ("PC9", 9): "QUADSPI_BK1_IO0",
    ("PC10", 9): "QUADSPI_BK1_IO1",
    ("PE2", 9): "QUADSPI_BK1_IO2",
    ("PD13", 9): "QUADSPI_BK1_IO3",
}
# STM32H745xI/G DS12923 alternate function mapping: AF7 USART3 on PB10/PB11 (the DISCO-H745I ST-LINK virtual COM
# port: ST's STM32H745I-DISCO BSP COM1) and USART1 on PA9/PA10; QUADSPI of the DISCO-H745I's MT25TL01G in
# dual-flash mode as ST's BSP (stm32h745i_discovery_qspi.h) configures it: CLK PF10 AF9, BK1_NCS PG6 AF10,
# BK1_IO0 PD11 AF9, BK1_IO1 PF9 AF10, BK1_IO2 PF7 AF9, BK1_IO3 PF6 AF9, BK2_IO0/IO1 PH2/PH3 AF9, BK2_IO2 PG9
# AF9, BK2_IO3 PG14 AF9
_H7 = {
    ("PB10", 7): "USART3_TX",
    ("PB11", 7): "USART3_RX",
    ("PA9", 7): "USART1_TX",
    ("PA10", 7): "USART1_RX",
    ("PF10", 9): "QUADSPI_CLK",
    ("PG6", 10): "QUADSPI_BK1_NCS",
    ("PD11", 9): "QUADSPI_BK1_IO0",
    ("PF9", 10): "QUADSPI_BK1_IO1",
    ("PF7", 9): "QUADSPI_BK1_IO2",
    ("PF6", 9): "QUADSPI_BK1_IO3",
    ("PH2", 9): "QUADSPI_BK2_IO0",
    ("PH3", 9): "QUADSPI_BK2_IO1",
    ("PG9", 9): "QUADSPI_BK2_IO2",
    ("PG14", 9): "QUADSPI_BK2_IO3",
}
TABLES = {
    "stm32l4": _L4,
    "stm32f7": _F7,
    "stm32f4": _F4,
    "stm32l0": _L0,
    "stm32l5": _L5,
    "stm32g4": _G4,
    "stm32g0": _G0,
    "stm32wl": _WL,
    "stm32h7": _H7,
}


def signal(family: str, pin: str, af: int):
    """The peripheral signal `af` selects on `pin`, or None if the datasheet table has none."""
    return TABLES[family].get((pin, af))


def pin_name(port: int, pin: int) -> str:
    return f"P{chr(65 + port)}{pin}"


def parse_pin(name: str) -> tuple:
    return ord(name[1]) - 65, int(name[2:])
