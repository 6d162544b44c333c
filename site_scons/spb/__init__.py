# SPDX-License-Identifier: Apache-2.0
"""spb: host side of the secure patching bootloader.

Modules mirror the bootloader's C modules: image (header and .sfb container), keys (signers and
the AES key), version (git-tag semantic versions), board (board files), linker (generated linker
scripts), manufacturing (combined hex/bin), elfimage (plaintext image from an ELF).
"""

import os

__version__ = "0.1.0"

_HERE = os.path.dirname(os.path.abspath(__file__))
#: Set when spb runs from an installed distribution (wheel or `pip install <checkout>`): its package data,
#: laid out like the repository (bootloader/, boards/, examples/common/, site_tools/; setup.py copies them).
_DATA = os.path.join(_HERE, "_data")
INSTALLED = os.path.isdir(os.path.join(_DATA, "bootloader"))
#: Where spb's shipped files are: bootloader/ (C sources), boards/ (shipped board files) and
#: examples/common/ (the example applications' startup and BSP pieces). The checkout's root when spb runs
#: from one (editable install, ./setup), else the installed package's data directory.
REPO_ROOT = _DATA if INSTALLED else os.path.dirname(os.path.dirname(_HERE))
#: Directory holding the SCons tool, for `toolpath=[spb.TOOLPATH]` in a user's SConstruct.
TOOLPATH = os.path.join(_DATA, "site_tools") if INSTALLED else os.path.join(os.path.dirname(_HERE), "site_tools")
#: The shipped board files (a project's own boards/ directory is searched first, see sconstool).
BOARDS_DIR = os.path.join(REPO_ROOT, "boards")
