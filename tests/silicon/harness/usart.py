# SPDX-License-Identifier: Apache-2.0
"""U(S)ART models: the console the boot log is read from and updates are fed into.

Two register generations:
- `UsartV2`: USART and LPUART of the L0/L4 (RM0394 section 38 USART / 39 LPUART, RM0367 sections
  24/25): CR1 0x00 (UE b0, RE b2, TE b3, M0 b12, OVER8 b15, M1 b28), CR2 0x04, CR3 0x08 (OVRDIS b12), BRR
  0x0C, GTPR 0x10, RTOR 0x14, RQR 0x18, ISR 0x1C (RXNE b5, TC b6, TXE b7, TEACK b21, REACK b22; reset
  0x0200_00C0 on USART), ICR 0x20, RDR 0x24, TDR 0x28. BRR, and CR1 M/OVER8, "can only be written when
  the USART is disabled (UE = 0)". Baud: fck / BRR (OVER8 = 0), 2 * fck / BRR' with OVER8 = 1, and
  256 * fck / BRR for the LPUART.
- `UsartV1`: USART/UART of the F4 (RM0090 section 30): SR 0x00 (RXNE b5, TC b6, TXE b7; reset 0x0000_00C0),
  DR 0x04, BRR 0x08 (mantissa[15:4].fraction[3:0] = fck / (16 * baud) with OVER8 = 0), CR1 0x0C (RE b2,
  TE b3, UE b13, OVER8 b15), CR2 0x10, CR3 0x14, GTPR 0x18.

Line model (simplifications, stated): transmission is instantaneous - a data register write clears TXE
and the next status read sees TXE and TC set again (so a driver that writes without checking TXE
overwrites a byte, which the model reports), and received bytes are handed over as fast as software
reads them (no overrun). Software that keeps polling the status register with nothing to receive is
idle: after IDLE_POLLS such reads in a row the machine skips ahead to the next timer event instead of
executing the rest of the spin (time, SysTick and timeouts stay exact; only the spin's instructions
are not executed one by one). A byte goes out only with UE and TE set, and reaches the host only if the
board's TX pin is routed to this U(S)ART (GPIO alternate function, pinmux.py) and its I/O supply is on
(PG2..PG15 of the L47x/L49x/L4+ are on VDDIO2: PWR_CR2.IOSV must be set, soc.io_supply). Every transmitted byte
checks the baud rate the current kernel clock gives against the board's (more than 2.5 % off: the host
would read garbage - a violation).
"""

from __future__ import annotations

from collections import deque

from .bus import Peripheral

IDLE_POLLS = 64


class _Line(Peripheral):
    def __init__(self, base: int, name: str, kind: str):
        super().__init__(base, 0x400, name=name)
        self.kind = kind  # "USART" / "UART" / "LPUART"
        self.rx: deque = deque()
        self.tx_pin = None  # (gpio, pin, af) wired to the host, set by the machine
        self.tx_supply = None  # callable: why the TX pin's I/O supply is off (VDDIO2), or None if it is on
        self.rx_pin = None
        self.board_baud = 115200
        self.seen_bauds: set = set()
        self.reset()

    def reset(self) -> None:
        self.txe = True
        self.routing_reported = False
        self.idle_polls = 0

    def _polled(self, value: int, rxne: int) -> int:
        """Count status reads that find nothing to receive; a run of them is an idle wait."""
        if value & rxne or not self.enabled_rx():
            self.idle_polls = 0
        else:
            self.idle_polls += 1
            if self.idle_polls >= IDLE_POLLS:
                self.idle_polls = 0
                self.machine.idle()
        return value

    # -- host side -------------------------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        self.rx.extend(data)

    def _transmit(self, byte: int) -> None:
        if not self.enabled_tx():
            self.violation(f"data register written with UE/TE off: byte {byte:#04x} not sent")
            return
        if not self.txe:
            self.violation(f"data register written while TXE is clear: byte {byte:#04x} overwrote the previous one")
        self.txe = False
        self.idle_polls = 0  # a status poll between two transmitted bytes is not an idle wait
        self._check_baud()
        if self.tx_pin is not None:
            gpio, pin, af = self.tx_pin
            if not gpio.routed(pin, af):
                if not self.routing_reported:
                    self.routing_reported = True
                    self.violation(
                        f"{self.name}_TX is not routed to {gpio.pin(pin)} (MODER/AFR): the host sees nothing"
                    )
                return
            unpowered = self.tx_supply() if self.tx_supply is not None else None
            if unpowered:
                if not self.routing_reported:
                    self.routing_reported = True
                    self.violation(f"{self.name}_TX: {unpowered}: the host sees nothing")
                return
        self.machine.console_out(byte)

    def _check_baud(self) -> None:
        clock = self.machine.rcc.uart_clock_hz(self.name)
        baud = self.baud(clock)
        key = round(baud)
        if key in self.seen_bauds:
            return
        self.seen_bauds.add(key)
        if baud <= 0 or abs(baud - self.board_baud) / self.board_baud > 0.025:
            self.violation(
                f"baud rate {baud:.0f} (kernel clock {clock / 1e6:.3f} MHz, BRR {self.brr:#x}) differs "
                f"from the board's {self.board_baud} by more than 2.5 %"
            )

    def _receive(self) -> int:
        self.idle_polls = 0
        if self.rx and self.enabled_rx():
            return self.rx.popleft()
        return 0

    def rx_ready(self) -> bool:
        return bool(self.rx) and self.enabled_rx()


class UsartV2(_Line):
    """USART / LPUART of STM32L0 and STM32L4."""

    def reset(self) -> None:
        super().reset()
        self.cr1 = self.cr2 = self.cr3 = 0
        self.brr = 0
        self.gtpr = self.rtor = 0

    def enabled_tx(self) -> bool:
        return bool(self.cr1 & 1 and self.cr1 & 8)

    def enabled_rx(self) -> bool:
        return bool(self.cr1 & 1 and self.cr1 & 4)

    def baud(self, clock: float) -> float:
        if not self.brr:
            return 0.0
        if self.kind == "LPUART":
            return 256.0 * clock / self.brr
        if self.cr1 & (1 << 15):  # OVER8: BRR[3] must be 0, BRR[2:0] = USARTDIV[3:0] >> 1
            div = (self.brr & ~0xF) | ((self.brr & 7) << 1)
            return 2.0 * clock / div if div else 0.0
        return clock / self.brr

    def isr(self) -> int:
        self.txe = True
        value = (1 << 7) | (1 << 6)  # TXE, TC
        if self.rx_ready():
            value |= 1 << 5
        if self.cr1 & 1:
            value |= (1 << 21 if self.cr1 & 8 else 0) | (1 << 22 if self.cr1 & 4 else 0)
        return self._polled(value, 1 << 5)

    def read32(self, offset: int) -> int:
        if offset == 0x00:
            return self.cr1
        if offset == 0x04:
            return self.cr2
        if offset == 0x08:
            return self.cr3
        if offset == 0x0C:
            return self.brr
        if offset == 0x10 and self.kind != "LPUART":
            return self.gtpr
        if offset == 0x14 and self.kind != "LPUART":
            return self.rtor
        if offset == 0x1C:
            return self.isr()
        if offset == 0x24:
            return self._receive()
        if offset in (0x18, 0x20, 0x28):
            return 0
        return super().read32(offset)

    def write32(self, offset: int, value: int) -> None:
        if offset == 0x00:
            if self.cr1 & 1 and (self.cr1 ^ value) & ((1 << 12) | (1 << 15) | (1 << 28)) and value & 1:
                self.violation("CR1.M/OVER8 changed while UE is set")
            self.cr1 = value
        elif offset == 0x04:
            self.cr2 = value
        elif offset == 0x08:
            self.cr3 = value
        elif offset == 0x0C:
            if self.cr1 & 1:
                self.violation("BRR written while UE is set: ignored")
                return
            self.brr = value & (0xFFFFF if self.kind == "LPUART" else 0xFFFF)
        elif offset == 0x10 and self.kind != "LPUART":
            self.gtpr = value
        elif offset == 0x14 and self.kind != "LPUART":
            self.rtor = value
        elif offset in (0x18, 0x20):
            pass  # request / clear registers: nothing latched in this model
        elif offset == 0x28:
            self._transmit(value & 0xFF)
        else:
            super().write32(offset, value)

    def write(self, offset: int, size: int, value: int) -> None:
        if offset == 0x28:  # TDR takes byte and half-word writes as data
            self._transmit(value & 0xFF)
            return
        super().write(offset, size, value)


class UsartV1(_Line):
    """USART / UART of STM32F4."""

    def reset(self) -> None:
        super().reset()
        self.cr1 = self.cr2 = self.cr3 = 0
        self.brr = 0
        self.gtpr = 0

    def enabled_tx(self) -> bool:
        return bool(self.cr1 & (1 << 13) and self.cr1 & 8)

    def enabled_rx(self) -> bool:
        return bool(self.cr1 & (1 << 13) and self.cr1 & 4)

    def baud(self, clock: float) -> float:
        if not self.brr:
            return 0.0
        if self.cr1 & (1 << 15):
            div = ((self.brr >> 4) << 4) | ((self.brr & 7) << 1)
            return 2.0 * clock / div if div else 0.0
        return clock / self.brr

    def sr(self) -> int:
        self.txe = True
        value = (1 << 7) | (1 << 6)
        if self.rx_ready():
            value |= 1 << 5
        return self._polled(value, 1 << 5)

    def read32(self, offset: int) -> int:
        if offset == 0x00:
            return self.sr()
        if offset == 0x04:
            return self._receive()
        if offset == 0x08:
            return self.brr
        if offset == 0x0C:
            return self.cr1
        if offset == 0x10:
            return self.cr2
        if offset == 0x14:
            return self.cr3
        if offset == 0x18:
            return self.gtpr
        return super().read32(offset)

    def write32(self, offset: int, value: int) -> None:
        if offset == 0x00:
            pass  # SR: only RXNE/TC are clearable by writing 0; nothing latched here
        elif offset == 0x04:
            self._transmit(value & 0xFF)
        elif offset == 0x08:
            self.brr = value & 0xFFFF
        elif offset == 0x0C:
            self.cr1 = value & 0xBFFF
        elif offset == 0x10:
            self.cr2 = value
        elif offset == 0x14:
            self.cr3 = value
        elif offset == 0x18:
            self.gtpr = value
        else:
            super().write32(offset, value)

    def write(self, offset: int, size: int, value: int) -> None:
        if offset == 0x04:
            self._transmit(value & 0xFF)
            return
        super().write(offset, size, value)
