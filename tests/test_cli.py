# SPDX-License-Identifier: Apache-2.0
"""The `spb` command line: the same operations as the builders, with clear errors and exit codes."""

import subprocess
import sys

import pytest

from spb import cli, image
from support.scons_project import REPO

BOARD = "NUCLEO-L452RE"


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "spb.cli", *args],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO / "site_scons"), "PATH": "/usr/bin:/bin"},
    )


def test_keygen_sign_inspect_verify(tmp_path, capsys):
    keys = tmp_path / "keys"
    assert cli.main(["keygen", str(keys)]) == 0
    assert (keys / "signing_key.pem").stat().st_mode & 0o077 == 0  # secrets are private to the owner
    assert cli.main(["keygen", str(keys)]) == 2  # never overwrites a key
    plain = tmp_path / "app.bin"
    plain.write_bytes(bytes(range(256)) * 8)
    out = tmp_path / "app.sfb"
    assert (
        cli.main(["sign", str(plain), "--board", BOARD, "--keys", str(keys), "--version", "2.3.4", "-o", str(out)]) == 0
    )
    header = image.Header.unpack(out.read_bytes())
    assert header.version == 0x02000304 and header.size == 2048
    capsys.readouterr()
    assert cli.main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2.3.4 (0x02000304)" in text and "size          2048" in text and header.tag.hex() in text
    assert cli.main(["verify", str(out), "--board", BOARD, "--keys", str(keys)]) == 0
    assert "signature valid" in capsys.readouterr().out
    tampered = bytearray(out.read_bytes())
    tampered[-1] ^= 1
    bad = tmp_path / "bad.sfb"
    bad.write_bytes(bytes(tampered))
    assert cli.main(["verify", str(bad), "--board", BOARD, "--keys", str(keys)]) == 1
    assert "DOES NOT MATCH" in capsys.readouterr().out


def test_errors_name_the_file(tmp_path):
    result = run("inspect", str(tmp_path / "missing.sfb"))
    assert result.returncode == 2 and "missing.sfb: file not found" in result.stderr
    junk = tmp_path / "junk.sfb"
    junk.write_bytes(b"\x00" * 200)
    result = run("inspect", str(junk))
    assert result.returncode == 2 and "junk.sfb" in result.stderr and "magic" in result.stderr
    (tmp_path / "x.bin").write_bytes(bytes(32))
    result = run(
        "sign", str(tmp_path / "x.bin"), "--board", BOARD, "--keys", str(tmp_path / "nokeys"), "--version", "1.0.0"
    )
    assert result.returncode == 2 and "nokeys" in result.stderr
    odd = tmp_path / "odd.bin"
    odd.write_bytes(bytes(20))
    cli.main(["keygen", str(tmp_path / "k")])
    result = run("sign", str(odd), "--board", BOARD, "--keys", str(tmp_path / "k"), "--version", "1.0.0")
    assert result.returncode == 2 and "multiple of 16" in result.stderr
    result = run("sign", str(odd), "--board", BOARD, "--keys", str(tmp_path / "k"), "--version", "1.2")
    assert result.returncode == 2 and "1.2" in result.stderr


def test_linker_and_board_check(tmp_path, capsys):
    assert cli.main(["linker", "--board", BOARD, "-o", str(tmp_path)]) == 0
    app_ld = (tmp_path / "application.ld").read_text()
    assert "ORIGIN = 0x08010200" in app_ld and "INCLUDE spb_api.ld" in app_ld
    assert "SE_API = 0x08000200;" in (tmp_path / "spb_api.ld").read_text()
    boards = sorted(str(p) for p in (REPO / "boards").glob("*.toml"))
    assert cli.main(["board", "check", *boards]) == 0
    assert capsys.readouterr().out.count(": OK") == len(boards)


def test_version_from_git(tmp_path, capsys):
    from support.scons_project import git

    git(tmp_path, "init", "-q")
    (tmp_path / "f").write_text("x")
    git(tmp_path, "add", "f")
    git(tmp_path, "commit", "-qm", "c")
    git(tmp_path, "tag", "v3.1.4")
    assert cli.main(["version", "--repo", str(tmp_path)]) == 0
    assert capsys.readouterr().out.split()[:2] == ["3.1.4", "0x03000104"]


def test_version_option(capsys):
    import spb

    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"spb {spb.__version__}"
