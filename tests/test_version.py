# SPDX-License-Identifier: Apache-2.0
"""Git-tag semantic versioning (docs/versioning.md) on real temporary git repositories."""

import subprocess

import pytest

from spb.errors import SpbError
from spb.version import Version, resolve_version, version_from_git


def run_git(repo, *args):
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


@pytest.fixture
def repo(tmp_path):
    path = tmp_path / "proj"
    path.mkdir()
    run_git(path, "init", "-q")
    run_git(path, "config", "user.name", "Test")
    run_git(path, "config", "user.email", "test@example.invalid")
    run_git(path, "config", "commit.gpgsign", "false")
    run_git(path, "config", "tag.gpgsign", "false")
    return path


_counter = [0]


def commit(repo, n=1):
    for _ in range(n):
        _counter[0] += 1
        (repo / "main.c").write_text(f"int version_marker = {_counter[0]};\n")
        run_git(repo, "add", "main.c")
        run_git(repo, "commit", "-q", "-m", f"change {_counter[0]}")
    return run_git(repo, "rev-parse", "HEAD")


def tag(repo, name, annotated=False, rev="HEAD"):
    if annotated:
        run_git(repo, "tag", "-a", "-m", f"release {name}", name, rev)
    else:
        run_git(repo, "tag", name, rev)


# ---- encoding, parsing


def test_encode_decode_round_trip():
    for text, encoded in (
        ("1.2.3", 0x01000203),
        ("0.0.0", 0),
        ("255.65535.255", 0xFFFFFFFF),
        ("1.300.2", 0x01012C02),
        ("0.1.196", 0x000001C4),
    ):
        v = Version.parse(text)
        assert v.encoded == encoded
        assert str(v) == text
        assert Version.decode(encoded) == v
        assert Version.decode(v.encoded).encoded == encoded
    assert str(Version.decode(0x0A0B0C0D)) == "10.2828.13"


def test_decode_rejects_non_u32():
    for bad in (-1, 1 << 32, "1.2.3", True):
        with pytest.raises(SpbError, match="encoded version"):
            Version.decode(bad)


def test_ordering_is_u32_ordering():
    assert Version.parse("v1.12.0") > Version.parse("v0.15.1")
    assert Version.parse("1.12.0").encoded > Version.parse("0.15.1").encoded
    assert Version.parse("1.2.10") > Version.parse("1.2.9")
    assert Version.parse("1.3.0") > Version.parse("1.2.255")
    assert Version.parse("2.0.0") > Version.parse("1.65535.255")
    assert sorted([Version.parse(t) for t in ("1.0.0", "0.15.1", "1.12.0", "0.2.0")]) == [
        Version.parse(t) for t in ("0.2.0", "0.15.1", "1.0.0", "1.12.0")
    ]


@pytest.mark.parametrize(
    "good, expected",
    [("1.2.3", (1, 2, 3)), ("v1.2.3", (1, 2, 3)), ("0.0.0", (0, 0, 0)), ("v255.65535.255", (255, 65535, 255))],
)
def test_parse_accepts(good, expected):
    v = Version.parse(good)
    assert (v.major, v.minor, v.patch) == expected
    assert v.label == ".".join(map(str, expected))
    assert (v.commits, v.dirty, v.untagged) == (0, False, False)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "1.2",
        "1.2.3.4",
        "vv1.2.3",
        "V1.2.3",
        " 1.2.3",
        "1.2.3 ",
        "1.2.3-rc1",
        "1.2.x",
        "-1.2.3",
        "1.-2.3",
        "+1.2.3",
        "1..3",
        "v",
        "1.2.3-dirty",
        "١.٢.٣",
    ],
)
def test_parse_is_strict(bad):
    with pytest.raises(SpbError) as info:
        Version.parse(bad)
    assert repr(bad) in str(info.value)


@pytest.mark.parametrize("bad, field", [("256.0.0", "major"), ("1.65536.0", "minor"), ("1.2.256", "patch")])
def test_parse_rejects_out_of_range(bad, field):
    with pytest.raises(SpbError, match=rf"'{bad}'.*{field} \d+ is out of range"):
        Version.parse(bad)


def test_override_wins_and_is_strict(repo, tmp_path):
    commit(repo)
    tag(repo, "v3.4.5")
    assert resolve_version(repo).encoded == 0x03000405
    v = resolve_version(repo, "v1.2.3")
    assert (str(v), v.label, v.dirty, v.untagged) == ("1.2.3", "1.2.3", False, False)
    # The override needs no git repository at all.
    assert str(resolve_version(tmp_path / "nowhere", "7.8.9")) == "7.8.9"
    for bad in ("1.2", "v1.2.3-4-gabc", "1.2.256", ""):
        with pytest.raises(SpbError, match="invalid version"):
            resolve_version(repo, bad)


# ---- from git


def test_tag_at_head(repo):
    commit(repo)
    tag(repo, "v1.2.3")
    v = version_from_git(repo)
    assert (v.major, v.minor, v.patch, v.commits, v.dirty, v.untagged) == (1, 2, 3, 0, False, False)
    assert v.label == "1.2.3"
    assert v.encoded == 0x01000203


def test_annotated_tag_and_subdirectory(repo):
    commit(repo)
    tag(repo, "v2.0.1", annotated=True)
    sub = repo / "src" / "deep"
    sub.mkdir(parents=True)
    assert str(version_from_git(sub)) == "2.0.1"


def test_commits_after_tag_add_to_patch(repo):
    commit(repo)
    tag(repo, "v1.2.3")
    commit(repo, 4)
    v = version_from_git(repo)
    assert (str(v), v.commits, v.label, v.dirty) == ("1.2.7", 4, "1.2.7", False)
    # Documented example: v1.3.1 + 7 commits -> 1.3.8.
    tag(repo, "v1.3.1", rev="HEAD")
    commit(repo, 7)
    assert str(version_from_git(repo)) == "1.3.8"


def test_dirty_tracked_modification(repo):
    commit(repo)
    tag(repo, "v1.2.3")
    commit(repo, 4)
    (repo / "main.c").write_text("int modified;\n")
    v = version_from_git(repo)
    assert (str(v), v.dirty, v.label) == ("1.2.7", True, "1.2.7-dirty")
    assert v.encoded == Version.parse("1.2.7").encoded


def test_dirty_staged_change(repo):
    commit(repo)
    tag(repo, "v0.1.0")
    (repo / "new.c").write_text("int added;\n")
    run_git(repo, "add", "new.c")
    v = version_from_git(repo)
    assert (str(v), v.dirty, v.label) == ("0.1.0", True, "0.1.0-dirty")


def test_untracked_file_is_not_dirty(repo):
    commit(repo)
    tag(repo, "v1.0.0")
    (repo / "notes.txt").write_text("scratch\n")
    (repo / "build").mkdir()
    (repo / "build" / "out.o").write_bytes(b"\0")
    v = version_from_git(repo)
    assert (str(v), v.dirty, v.label) == ("1.0.0", False, "1.0.0")
    # Same rule as git describe --dirty.
    assert not run_git(repo, "describe", "--tags", "--dirty").endswith("-dirty")


def test_no_tag_is_untagged_zero(repo):
    sha = commit(repo)
    v = version_from_git(repo)
    assert (v.major, v.minor, v.patch, v.encoded) == (0, 0, 0, 0)
    assert v.untagged and not v.dirty
    assert v.label.startswith("0.0.0-untagged-") and sha.startswith(v.label.rsplit("-", 1)[1])
    (repo / "main.c").write_text("int dirty;\n")
    v = version_from_git(repo)
    assert v.untagged and v.dirty and v.label.endswith("-dirty") and v.label.startswith("0.0.0-untagged-")
    # Any tagged release is newer.
    assert Version.parse("0.0.1") > v


@pytest.mark.parametrize(
    "name", ["v1.2", "v1.2.3.4", "v1.2.3-rc1", "release-2.0.0", "2.0.0", "vv2.3.4", "v1.x.0", "V9.9.9"]
)
def test_non_semver_tags_are_ignored(repo, name):
    commit(repo)
    tag(repo, "v1.0.0")
    commit(repo, 2)
    tag(repo, name)  # nearer, but not a release tag
    v = version_from_git(repo)
    assert (str(v), v.commits) == ("1.0.2", 2)


def test_only_non_semver_tags_is_untagged(repo):
    commit(repo)
    tag(repo, "v1.2")
    tag(repo, "beta")
    v = version_from_git(repo)
    assert v.untagged and str(v) == "0.0.0"


def test_nearest_tag_wins(repo):
    commit(repo)
    tag(repo, "v5.0.0")  # older but higher number: the nearest tag counts, not the highest
    commit(repo, 3)
    tag(repo, "v1.1.0")
    commit(repo, 2)
    v = version_from_git(repo)
    assert (str(v), v.commits) == ("1.1.2", 2)


def test_nearest_tag_on_another_branch_is_ignored(repo):
    commit(repo)
    tag(repo, "v1.0.0")
    main = run_git(repo, "rev-parse", "--abbrev-ref", "HEAD")
    run_git(repo, "checkout", "-q", "-b", "other")
    commit(repo)
    tag(repo, "v9.0.0")
    run_git(repo, "checkout", "-q", main)
    commit(repo)
    assert str(version_from_git(repo)) == "1.0.1"


def test_two_release_tags_on_one_commit_highest_wins(repo):
    commit(repo)
    tag(repo, "v1.4.0")
    tag(repo, "v1.10.0")
    tag(repo, "v1.9.0", annotated=True)
    commit(repo)
    assert str(version_from_git(repo)) == "1.10.1"


def test_overflow_by_commit_count_is_refused(repo):
    commit(repo)
    tag(repo, "v1.2.250")
    commit(repo, 5)
    assert str(version_from_git(repo)) == "1.2.255"
    commit(repo, 5)  # 250 + 10: the original would silently wrap to 1.2.4
    with pytest.raises(SpbError) as info:
        version_from_git(repo)
    message = str(info.value)
    assert str(repo) in message and "v1.2.250" in message and "255" in message and "260" in message


@pytest.mark.parametrize("name, field", [("v256.0.0", "major"), ("v1.65536.0", "minor"), ("v1.2.256", "patch")])
def test_overflow_in_tag_is_refused(repo, name, field):
    commit(repo)
    tag(repo, name)
    with pytest.raises(SpbError) as info:
        version_from_git(repo)
    message = str(info.value)
    assert str(repo) in message and name in message and f"{field} " in message and "out of range" in message


def test_not_a_repository(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(SpbError) as info:
        version_from_git(plain)
    assert "not a git repository" in str(info.value) and "VERSION=x.y.z" in str(info.value)
    assert str(plain) in str(info.value)
    with pytest.raises(SpbError, match=r"VERSION=x\.y\.z"):
        resolve_version(tmp_path / "missing")


def test_empty_repository(repo):
    with pytest.raises(SpbError) as info:
        version_from_git(repo)
    assert "no commits" in str(info.value) and "VERSION=x.y.z" in str(info.value)


@pytest.mark.parametrize(
    "text",
    ["01.2.3", "1.02.3", "1.2.03", "v01.0.0", "00.0.0", "1.2.3 ", " 1.2.3", "+1.2.3", "1.2.3+b", "1.2.-3", "١.2.3"],
)
def test_non_canonical_versions_are_refused(text):
    """Semver's canonical form only: no leading zeros, signs, spaces, build metadata or non-ASCII digits.
    "01.2.3" is not read as 1.2.3 (two spellings would name two releases of one version)."""
    with pytest.raises(SpbError, match="invalid version"):
        Version.parse(text)
    assert str(Version.parse("0.10.0")) == "0.10.0" and str(Version.parse("v10.0.100")) == "10.0.100"


def test_non_canonical_release_tag_is_an_error(repo):
    """A tag that looks like a release but is not canonical is refused, naming it, rather than skipped."""
    commit(repo)
    tag(repo, "v1.0.0")
    commit(repo)
    tag(repo, "v01.2.0")
    with pytest.raises(SpbError, match=r"tag v01\.2\.0: not a canonical version .* tag the release v1\.2\.0"):
        version_from_git(repo)
