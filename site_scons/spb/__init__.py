# SPDX-License-Identifier: Apache-2.0
"""spb: host side of the secure patching bootloader.

Modules mirror the bootloader's C modules: image (header and .sfb container), keys (signers and
the AES key), version (git-tag semantic versions), board (board files), linker (generated linker
scripts), manufacturing (combined hex/bin), elfimage (plaintext image from an ELF).
"""

import os

__version__ = "0.1.0"

#: Directory holding the SCons tool, for `toolpath=[spb.TOOLPATH]` in a user's SConstruct.
TOOLPATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "site_tools")
#: Root of the repository (bootloader sources, boards/), when spb runs from a checkout.
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
