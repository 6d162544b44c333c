# SPDX-License-Identifier: Apache-2.0
"""Getting files onto a device: the YMODEM sender (ymodem) over a serial port or a socket (serial_link)."""
