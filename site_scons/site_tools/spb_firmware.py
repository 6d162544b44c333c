# SPDX-License-Identifier: Apache-2.0
"""SCons tool `spb_firmware`: the secure patching bootloader's builders (see spb/sconstool.py).

Not named `spb` on purpose: SCons registers a tool module under its own name in sys.modules, which
would shadow the `spb` package this tool is built from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from spb import sconstool

if TYPE_CHECKING:
    from SCons.Environment import Base as Environment  # Any to mypy: SCons has no type information


def generate(env: Environment) -> None:
    sconstool.generate(env)


def exists(env: Environment) -> str | None:
    return sconstool.exists(env)
