# SPDX-License-Identifier: Apache-2.0
"""Application versions from git tags (rules: docs/versioning.md).

    encoded = major << 24 | minor << 8 | patch     major 0..255, minor 0..65535, patch 0..255

The version of a build is the nearest tag vMAJOR.MINOR.PATCH reachable from HEAD, with PATCH increased
by the number of commits since that tag, so every commit gets a higher number. Values that do not fit
are refused (never wrapped). VERSION=x.y.z overrides git entirely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import SpbError, StrPath

if TYPE_CHECKING:
    import git

MAJOR_MAX = 0xFF
MINOR_MAX = 0xFFFF
PATCH_MAX = 0xFF

# Canonical numbers only (as semver): 0, or decimal ASCII digits without a leading zero. "01.2.3" and
# "1.02.3" are refused, not read as 1.2.3: two spellings of one version would name two release tags.
_NUMBER = r"(0|[1-9][0-9]*)"
_PARSE_RE = re.compile(rf"v?{_NUMBER}\.{_NUMBER}\.{_NUMBER}")
_TAG_RE = re.compile(rf"v{_NUMBER}\.{_NUMBER}\.{_NUMBER}")
# What looks like a release tag but is not canonical (v01.2.3): an error, never silently skipped.
_LOOSE_TAG_RE = re.compile(r"v[0-9]+\.[0-9]+\.[0-9]+")
_DESCRIBE_RE = re.compile(r"(?P<tag>.+)-(?P<commits>[0-9]+)-g(?P<sha>[0-9a-f]+)")
_SHA_LEN = 12


def _range_problem(major: int, minor: int, patch: int) -> str | None:
    for name, value, limit in (("major", major, MAJOR_MAX), ("minor", minor, MINOR_MAX), ("patch", patch, PATCH_MAX)):
        if not 0 <= value <= limit:
            return f"{name} {value} is out of range 0..{limit}"
    return None


@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    label: str = ""  # human string for logs and file names: "1.2.7", "1.2.7-dirty", "0.0.0-untagged-<sha>"
    commits: int = 0  # commits since the tag (already added to patch)
    dirty: bool = False  # tracked files differ from HEAD
    untagged: bool = False  # no vX.Y.Z tag reachable: version 0.0.0, callers should warn

    def __post_init__(self) -> None:
        problem = _range_problem(self.major, self.minor, self.patch)
        if problem:
            raise SpbError(None, f"version {self.major}.{self.minor}.{self.patch}: {problem}")
        if not self.label:
            object.__setattr__(self, "label", f"{self}{'-dirty' if self.dirty else ''}")

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def encoded(self) -> int:
        return self.major << 24 | self.minor << 8 | self.patch

    # Versions order by their encoded number (what the bootloader compares); == compares every field.
    def __lt__(self, other: Version) -> bool:
        return self.encoded < other.encoded

    def __le__(self, other: Version) -> bool:
        return self.encoded <= other.encoded

    def __gt__(self, other: Version) -> bool:
        return self.encoded > other.encoded

    def __ge__(self, other: Version) -> bool:
        return self.encoded >= other.encoded

    @classmethod
    def parse(cls, text: str) -> Version:
        """Strict "x.y.z" or "vx.y.z" (decimal without leading zeros, each field in range); anything else
        (01.2.3, 1.2, 1.2.3-rc1, " 1.2.3") is an SpbError."""
        match = _PARSE_RE.fullmatch(text) if isinstance(text, str) else None
        if not match:
            raise SpbError(
                None,
                f"invalid version {text!r}: expected MAJOR.MINOR.PATCH such as 1.2.3 or v1.2.3 "
                "(decimal numbers without leading zeros)",
            )
        major, minor, patch = (int(g) for g in match.groups())
        problem = _range_problem(major, minor, patch)
        if problem:
            raise SpbError(None, f"invalid version {text!r}: {problem}")
        return cls(major, minor, patch)

    @classmethod
    def decode(cls, value: int) -> Version:
        """The version of an encoded u32 (as stored in image headers)."""
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
            raise SpbError(None, f"invalid encoded version {value!r}: expected an unsigned 32-bit integer")
        return cls(value >> 24, (value >> 8) & 0xFFFF, value & 0xFF)


def _not_a_repo(path: StrPath | None, why: str) -> SpbError:
    return SpbError(
        path, f"{why}: cannot take the version from git tags; pass VERSION=x.y.z (scons) or --version x.y.z (spb)"
    )


def _open_repo(path: StrPath) -> git.Repo:
    import git

    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise _not_a_repo(path, "not a git repository") from None
    if repo.bare:
        raise _not_a_repo(path, "bare git repository (no work tree)")
    if not repo.head.is_valid():
        raise _not_a_repo(repo.working_tree_dir, "git repository has no commits yet")
    return repo


def _tag_numbers(tag: str) -> tuple[int, int, int]:
    """(major, minor, patch) of a release tag vX.Y.Z (the caller has matched it against _TAG_RE)."""
    match = _TAG_RE.fullmatch(tag)
    assert match is not None, f"{tag!r} is not a release tag"
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def _describe(repo: git.Repo, excludes: set[str]) -> tuple[str | None, int, str, bool]:
    """(tag, commits, sha, dirty) of `git describe`, or (None, 0, sha, dirty) when no tag matches."""
    args = ["--tags", "--long", "--dirty", "--always", f"--abbrev={_SHA_LEN}", "--match", "v[0-9]*"]
    for tag in sorted(excludes):
        args += ["--exclude", tag]
    out = repo.git.describe(*args).strip()
    dirty = out.endswith("-dirty")
    if dirty:
        out = out[: -len("-dirty")]
    match = _DESCRIBE_RE.fullmatch(out)
    if match:
        return match["tag"], int(match["commits"]), match["sha"], dirty
    return None, 0, out, dirty


def version_from_git(path: StrPath) -> Version:
    """The version of the commit checked out in the git work tree at (or above) `path`."""
    import git

    repo = _open_repo(path)
    where = repo.working_tree_dir
    try:
        excludes: set[str] = set()
        while True:
            tag, commits, sha, dirty = _describe(repo, excludes)
            if tag is None or _TAG_RE.fullmatch(tag):
                break
            if _LOOSE_TAG_RE.fullmatch(tag):
                raise SpbError(
                    where,
                    f"tag {tag}: not a canonical version (a number with a leading zero): tag the release "
                    f"v{'.'.join(str(int(n)) for n in tag[1:].split('.'))} instead, or pass VERSION=x.y.z",
                )
            excludes.add(tag)  # v-something that is not exactly vX.Y.Z: look further back
        if tag is not None:
            # Several release tags on the same commit: the highest wins (git describe picks any).
            tagged = repo.git.rev_parse(f"{tag}^{{commit}}").strip()
            at_commit = [t for t in repo.git.tag("--points-at", tagged).split() if _TAG_RE.fullmatch(t)]
            tag = max(at_commit, key=_tag_numbers, default=tag)
    except git.GitCommandError as error:
        detail = (error.stderr or "").strip().strip("'").strip() or str(error)
        raise SpbError(where, f"git describe failed: {detail}") from None

    if tag is None:
        label = f"0.0.0-untagged-{sha}" + ("-dirty" if dirty else "")
        return Version(0, 0, 0, label=label, commits=0, dirty=dirty, untagged=True)

    major, minor, patch = _tag_numbers(tag)
    problem = _range_problem(major, minor, patch)
    if problem:
        raise SpbError(
            where,
            f"tag {tag}: {problem} (limits: major 0..{MAJOR_MAX}, minor 0..{MINOR_MAX}, "
            f"patch 0..{PATCH_MAX}); tag a release that fits or pass VERSION=x.y.z",
        )
    if patch + commits > PATCH_MAX:
        raise SpbError(
            where,
            f"tag {tag} + {commits} commits gives patch {patch + commits}, above the limit "
            f"{PATCH_MAX}: tag a new release (e.g. v{major}.{minor + 1}.0 if it fits) or "
            f"pass VERSION=x.y.z",
        )
    version = Version(major, minor, patch + commits, commits=commits, dirty=dirty)
    return version


def resolve_version(path: StrPath, override: str | None = None) -> Version:
    """`override` (strict "x.y.z"/"vx.y.z") when given, else the version from git at `path`."""
    if override is not None:
        return Version.parse(override)
    return version_from_git(path)
