# SPDX-License-Identifier: Apache-2.0
"""One error type for every user-facing failure: it names the file and the problem."""

from __future__ import annotations

import os
from typing import Union

#: A file or directory argument: a string or a path object (pathlib.Path, an SCons node's abspath, ...).
StrPath = Union[str, "os.PathLike[str]"]


class SpbError(Exception):
    """A user-facing error. `path` names the offending file (or None), `problem` says what is wrong."""

    def __init__(self, path: StrPath | None, problem: str) -> None:
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class PatchFormatError(ValueError):
    """A raw patch stream that does not decode to an image (malformed, truncated or for another image)."""
