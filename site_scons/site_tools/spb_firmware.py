# SPDX-License-Identifier: Apache-2.0
"""SCons tool `spb_firmware`: the secure patching bootloader's builders (see spb/sconstool.py).

Not named `spb` on purpose: SCons registers a tool module under its own name in sys.modules, which
would shadow the `spb` package this tool is built from."""

from spb import sconstool


def generate(env):
    sconstool.generate(env)


def exists(env):
    return sconstool.exists(env)
