# SPDX-License-Identifier: Apache-2.0
"""SCons behaviour on real builds with the real cross compiler: the repository's default build and a
temporary user project (its own git repository, SConstruct and board file)."""

import re
import struct
import subprocess

import pytest
from intelhex import IntelHex
from test_image_format import independent_verify

from spb import image, journal
from spb.board import load_board
from support.scons_project import REPO, changed, git, make_keys, scons, snapshot, user_project

DEFAULT_BOARD = REPO / "boards" / "NUCLEO-L452RE.toml"


@pytest.fixture(scope="module")
def default_build(tmp_path_factory):
    """`scons` of the repository for the default board, into a temporary build dir with temporary keys."""
    tmp = tmp_path_factory.mktemp("repo-build")
    keys = make_keys(tmp / "keys")
    out = tmp / "out"
    result = scons(REPO, f"BUILD_DIR={out}", f"KEYS={keys.directory}", "VERSION=1.2.3")
    return out, keys, result


def test_default_build_outputs(default_build):
    out, _keys, result = default_build
    for name in (
        "bootloader.elf",
        "bootloader.bin",
        "bootloader.hex",
        "bootloader.map",
        "hello.elf",
        "hello.bin",
        "hello.map",
        "hello.sfb",
        "hello_combined.hex",
        "hello_combined.bin",
        "bootloader.size.txt",
        "hello.size.txt",
    ):
        assert (out / name).is_file(), name
    # The size report is printed with bars for both images.
    assert re.search(r"BOOT_FLASH\s+\[=* *\]", result.stdout)
    assert re.search(r"SLOT0\s+\[=* *\]", result.stdout)


def test_built_sfb_verifies_independently(default_build):
    out, keys, _ = default_build
    board = load_board(DEFAULT_BOARD)
    sfb = (out / "hello.sfb").read_bytes()
    fields = independent_verify(sfb, keys.public_key, keys.aes_key, board.vector_size)
    plain = (out / "hello.bin").read_bytes()
    assert fields["plaintext"] == plain
    assert fields["version"] == (1 << 24) | (2 << 8) | 3
    assert fields["size"] == len(plain) and len(plain) % 16 == 0
    assert fields["segoff"] == 0
    # The plaintext starts with the app's vector table: initial SP inside app RAM, reset handler in SLOT0.
    sp, reset = struct.unpack_from("<II", plain, 0)
    assert board.app_ram_base < sp <= board.ram.base + board.ram.size
    assert board.app_vector_address < reset < board.slot0.address + board.slot0.size and reset & 1


def test_combined_image(default_build):
    out, keys, _ = default_build
    board = load_board(DEFAULT_BOARD)
    ih = IntelHex(str(out / "hello_combined.hex"))
    boot = (out / "bootloader.bin").read_bytes()
    assert ih.tobinstr(start=board.flash.base, size=len(boot)) == boot
    header_block = ih.tobinstr(start=board.slot0.address, size=board.vector_size)
    header = image.Header.unpack(header_block)
    assert header.signature_valid(keys.public_key)
    assert header_block == image.installed_header(header, board.vector_size)
    plain = (out / "hello.bin").read_bytes()
    assert ih.tobinstr(start=board.app_vector_address, size=len(plain)) == plain
    assert header.size == len(plain) and header.version == 0x01000203
    binary = (out / "hello_combined.bin").read_bytes()
    assert binary[: len(boot)] == boot
    # Between the bootloader and SLOT0 only the install journal's factory entries (the image's version and
    # signature: nothing older is installed afterwards; on a board with trial boot it is also confirmed,
    # docs/trial-boot.md) are programmed.
    journal_at = board.bootloader.journal_address - board.flash.base
    ident = header.signature[: journal.ID_SIZE]
    factory = [("install", header.version, ident)] + ([("confirm", header.version, ident)] if board.trial else [])
    assert journal.parse_entries(binary[journal_at : journal_at + board.bootloader.journal_size]) == factory
    gap = (
        binary[len(boot) : journal_at]
        + binary[journal_at + len(factory) * journal.ENTRY_SIZE : board.slot0.address - board.flash.base]
    )
    assert gap and set(gap) == {0xFF}
    assert len(binary) == board.app_vector_address - board.flash.base + len(plain)


def test_combine_refuses_a_bootloader_of_other_keys_or_board(default_build, tmp_path, capsys):
    """The bootloader records its board (name and digest) next to its public key; `spb combine` (and the
    combined-image build, same code) refuses another key or board with one line naming the files, and
    writes nothing."""
    from spb import buildinfo
    from spb.cli import main

    out, keys, _ = default_build
    boot, app = str(out / "bootloader.elf"), str(out / "hello.elf")
    info = buildinfo.read(boot)
    board = load_board(DEFAULT_BOARD)
    assert (info.board, info.public_key) == ("NUCLEO-L452RE", keys.public_key)
    assert info.board_digest == bytes.fromhex(board.digest())[:16]
    common = ["combine", "--version", "1.2.3", boot, app, "-o", str(tmp_path / "factory")]
    other = make_keys(tmp_path / "other-keys")
    assert main([*common, "--board", "NUCLEO-L452RE", "--keys", str(other.directory)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and boot in err and str(other.directory) in err, err
    assert buildinfo.key_fingerprint(keys.public_key) in err and buildinfo.key_fingerprint(other.public_key) in err
    assert main([*common, "--board", "NUCLEO-L476RG", "--keys", str(keys.directory)]) == 2
    err = capsys.readouterr().err
    assert "built for board NUCLEO-L452RE, not NUCLEO-L476RG" in err and "NUCLEO-L476RG.toml" in err, err
    # Same name, other content: the board file changed since the bootloader was built.
    edited = tmp_path / "NUCLEO-L452RE.toml"
    edited.write_text(
        DEFAULT_BOARD.read_text()
        .replace("address = 0x08030000", "address = 0x08040000")
        .replace("area = 0x08050000", "area = 0x08060000")  # the trial area follows SLOT1
    )
    assert main([*common, "--board", str(edited), "--keys", str(keys.directory)]) == 2
    assert f"another version of {edited}" in capsys.readouterr().err
    # Not a bootloader at all (the application ELF).
    assert (
        main(
            [
                *common[:3],
                app,
                app,
                "-o",
                str(tmp_path / "factory"),
                "--board",
                "NUCLEO-L452RE",
                "--keys",
                str(keys.directory),
            ]
        )
        == 2
    )
    assert "no spb_public_key" in capsys.readouterr().err
    assert not list(tmp_path.glob("factory*"))
    assert main([*common, "--board", "NUCLEO-L452RE", "--keys", str(keys.directory)]) == 0
    assert (tmp_path / "factory.hex").is_file()


def test_bootloader_fits_budget(default_build):
    out, _, _ = default_build
    from spb import sizereport

    board = load_board(DEFAULT_BOARD)
    usage = {
        u.region.name: u.used for u in sizereport.measure(out / "bootloader.elf", sizereport.bootloader_regions(board))
    }
    assert usage["BOOT_FLASH"] <= 32 * 1024
    assert usage["BOOT_RAM"] <= 5 * 1024


def test_help_lists_every_option():
    result = scons(REPO, "--help", "-Q")
    for option in (
        "BOARD",
        "BOARDS_DIR",
        "VERSION",
        "KEYS",
        "BUILD_DIR",
        "CROSS_PREFIX",
        "OPT",
        "RELEASES_DIR",
        "RELEASE_REPLACE",
    ):
        assert re.search(rf"^{option}:", result.stdout, re.M), option


def test_unknown_board_names_the_choices(tmp_path):
    result = scons(REPO, "BOARD=NO-SUCH-BOARD", f"BUILD_DIR={tmp_path}", check=False)
    assert result.returncode != 0
    assert "NO-SUCH-BOARD" in result.stderr and "NUCLEO-L452RE" in result.stderr


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = user_project(tmp_path_factory.mktemp("user") / "proj", DEFAULT_BOARD)
    keys = make_keys(root.parent / "keys")
    args = [f"BOARD={DEFAULT_BOARD.name}", f"KEYS={keys.directory}"]
    scons(root, *args)
    return root, keys, args


def test_noop_rebuild_runs_nothing(project):
    root, _keys, args = project
    before = snapshot(root / "build")
    result = scons(root, *args, "--question", check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    result = scons(root, *args)
    assert snapshot(root / "build") == before
    assert re.search(r"is up to date", result.stdout)
    assert not re.search(r"^(CC|LINK|SIGN|GEN|COMBINE)\s", result.stdout, re.M), result.stdout


def test_new_tag_resigns_only_what_depends_on_the_version(project):
    root, keys, args = project
    sfb_before = image.Header.unpack((root / "build/NUCLEO-L452RE/app.sfb").read_bytes())
    assert sfb_before.version == 0x01000000
    (root / "NOTES.txt").write_text("release notes\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "notes")
    git(root, "tag", "v1.1.0")
    before = snapshot(root / "build")
    scons(root, *args)
    touched = changed(before, snapshot(root / "build"))
    build = "NUCLEO-L452RE/"
    must = {
        build + p
        for p in (
            "gen/spb_version.h",
            "app/main.o",
            "app.elf",
            "app.bin",
            "app.sfb",
            "app_combined.hex",
            "app_combined.bin",
        )
    }
    assert must <= set(touched), touched
    # Nothing of the bootloader, nor objects that do not include the version header.
    assert not [t for t in touched if t.startswith(build + "bootloader")], touched
    assert not [t for t in touched if t.endswith(".o") and not t.endswith("main.o")], touched
    sfb = (root / "build/NUCLEO-L452RE/app.sfb").read_bytes()
    assert image.Header.unpack(sfb).version == 0x01000100
    assert image.verify_sfb(sfb, keys, 0x200).ok


def test_release_store_and_patch_targets(project):
    """The v1.0.0 build stored its plaintext image in the project's release store (releases/<BOARD>/, not
    under build/); the v1.1.0 build stored its own and emitted a patch from v1.0.0 that regenerates exactly
    its image. The store survives `scons -c`."""
    from spb import patch

    root, keys, args = project
    # The v1.1.0 release test_new_tag_resigns_only_what_depends_on_the_version makes, made here when this
    # test runs first or in another worker (xdist gives each worker its own module fixture).
    tags = subprocess.run(["git", "tag", "-l", "v1.1.0"], cwd=root, capture_output=True, text=True, check=True)
    if not tags.stdout.strip():
        (root / "NOTES.txt").write_text("release notes\n")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "notes")
        git(root, "tag", "v1.1.0")
        scons(root, *args)
    build = root / "build/NUCLEO-L452RE"
    store = root / "releases/NUCLEO-L452RE"
    old = (store / "app_1.0.0.bin").read_bytes()
    new = (build / "app.bin").read_bytes()
    assert (store / "app_1.1.0.bin").read_bytes() == new
    assert not (build / "releases").exists()
    sfbp = (build / "app_1.0.0_to_1.1.0.sfbp").read_bytes()
    report = patch.verify_sfbp(sfbp, keys, old)
    assert report.ok and report.new_image == new and report.encoding == "compact"
    assert report.to_header.pack() == (build / "app.sfb").read_bytes()[:128]
    # Nothing to do on a second run; the compat encoding is an option that rebuilds only the patch.
    result = scons(root, *args, "PATCH_ENCODING=compat")
    assert re.findall(r"^(PATCH|SIGN|LINK|CC)\s+\S+", result.stdout, re.M) == ["PATCH"], result.stdout
    assert patch.verify_sfbp((build / "app_1.0.0_to_1.1.0.sfbp").read_bytes(), keys, old).encoding == "compat"
    # PATCH_FROM errors name the missing reference; 'none' emits no patch.
    result = scons(root, *args, "PATCH_FROM=0.9.0", check=False)
    assert result.returncode != 0 and "releases/NUCLEO-L452RE/app_0.9.0.bin" in result.stderr, result.stderr
    scons(root, "-c", *args)
    assert not (build / "app_1.0.0_to_1.1.0.sfbp").exists()
    assert (store / "app_1.0.0.bin").read_bytes() == old and (store / "app_1.0.0.json").is_file()
    result = scons(root, *args, "PATCH_FROM=none")
    assert not (build / "app_1.0.0_to_1.1.0.sfbp").exists()
    scons(root, *args)
    assert (build / "app_1.0.0_to_1.1.0.sfbp").exists()


def test_release_store_is_immutable(project):
    """Each release has a manifest (version, board, git commit, SHA-256). Building a stored version again
    with other bytes fails naming both hashes and leaves the store alone; RELEASE_REPLACE=1 replaces it. A
    stored image that no longer matches its manifest is refused as a patch reference."""
    import hashlib
    import json

    root, _keys, args = project
    build, store = root / "build/NUCLEO-L452RE", root / "releases/NUCLEO-L452RE"
    old = (store / "app_1.0.0.bin").read_bytes()
    manifest = json.loads((store / "app_1.0.0.json").read_text())
    tagged = subprocess.run(["git", "rev-parse", "v1.0.0^{commit}"], cwd=root, capture_output=True, text=True)
    assert manifest == {
        "format": 1,
        "app": "app",
        "version": "1.0.0",
        "board": "NUCLEO-L452RE",
        "git_commit": tagged.stdout.strip(),
        "sha256": hashlib.sha256(old).hexdigest(),
        "size": len(old),
        "segoff": 0,  # one segment (NUCLEO-L452RE has no external flash)
    }
    main_c = root / "main.c"
    source = main_c.read_text()
    main_c.write_text(source.replace("user app ", "user app, rebuilt "))
    try:
        result = scons(root, *args, "VERSION=1.0.0", check=False)
        assert result.returncode != 0
        new_hash = hashlib.sha256((build / "app.bin").read_bytes()).hexdigest()
        line = next(x for x in result.stderr.splitlines() if "already stored" in x)
        assert "app_1.0.0.bin" in line and hashlib.sha256(old).hexdigest() in line and new_hash in line, line
        assert "RELEASE_REPLACE=1" in line
        assert (store / "app_1.0.0.bin").read_bytes() == old
        result = scons(root, *args, "VERSION=1.0.0", "RELEASE_REPLACE=1")
        assert "replaced release 1.0.0" in result.stdout
        assert json.loads((store / "app_1.0.0.json").read_text())["sha256"] == new_hash
    finally:
        main_c.write_text(source)
        scons(root, *args, "VERSION=1.0.0", "RELEASE_REPLACE=1")
    assert (store / "app_1.0.0.bin").read_bytes() == old
    # A tampered reference: the patch from it is refused (the manifest names the stored hash). VERSION= so
    # the test does not depend on the v1.1.0 tag of test_new_tag_resigns_only_what_depends_on_the_version.
    (store / "app_1.0.0.bin").write_bytes(old[:-1] + bytes([old[-1] ^ 1]))
    try:
        result = scons(root, *args, "VERSION=1.1.0", "PATCH_FROM=1.0.0", check=False)
        assert result.returncode != 0 and "does not match its manifest app_1.0.0.json" in result.stderr, result.stderr
    finally:
        (store / "app_1.0.0.bin").write_bytes(old)
    scons(root, *args)


def test_board_edit_relinks(project):
    root, _keys, args = project
    board_file = root / DEFAULT_BOARD.name
    text = board_file.read_text()
    # Move SLOT1 and shrink nothing the app uses: the app linker script keeps its content.
    board_file.write_text(
        text.replace(
            "[slot1]\naddress = 0x08030000\nsize = 0x20000", "[slot1]\naddress = 0x08040000\nsize = 0x20000"
        ).replace("area = 0x08050000", "area = 0x08060000")  # the trial area follows SLOT1
    )
    before = snapshot(root / "build")
    scons(root, *args)
    touched = changed(before, snapshot(root / "build"))
    assert "NUCLEO-L452RE/gen/spb_board.h" in touched
    # SLOT0 change: the application relinks, its own objects that do not include spb_board.h stay.
    board_file.write_text(
        board_file.read_text().replace(
            "[slot0]\naddress = 0x08010000\nsize = 0x20000", "[slot0]\naddress = 0x08010000\nsize = 0x18000"
        )
    )
    before = snapshot(root / "build")
    scons(root, *args)
    touched = changed(before, snapshot(root / "build"))
    assert "NUCLEO-L452RE/gen/application.ld" in touched and "NUCLEO-L452RE/app.elf" in touched
    assert "NUCLEO-L452RE/app/main.o" not in touched
    board_file.write_text(text)
    scons(root, *args)


def test_overflow_names_region_and_excess(project, tmp_path):
    root, _keys, args = project
    big = root / "big.c"
    big.write_text(
        "const unsigned char big_table[200000] = {1};\nconst unsigned char *keep_big(void) { return big_table; }\n"
    )
    sconstruct = (root / "SConstruct").read_text()
    (root / "SConstruct").write_text(sconstruct.replace('["main.c", ', '["main.c", "big.c", '))
    (root / "main.c").write_text(
        (root / "main.c")
        .read_text()
        .replace(
            "bsp_init();", "extern const unsigned char *keep_big(void); bsp_init(); bsp_putc((char)keep_big()[7]);"
        )
    )
    try:
        result = scons(root, *args, check=False)
        assert result.returncode != 0
        out = result.stdout + result.stderr
        assert re.search(r"APP_FLASH.*overflowed by \d+ bytes", out), out
    finally:
        (root / "SConstruct").write_text(sconstruct)
        git(root, "checkout", "main.c")
        big.unlink()


def test_clean_removes_outputs_keeps_keys(tmp_path):
    root = user_project(tmp_path / "proj", DEFAULT_BOARD)
    args = [f"BOARD={DEFAULT_BOARD.name}"]
    result = scons(root, *args)
    assert "DEVELOPMENT keys" in result.stdout
    assert (root / "keys" / "signing_key.pem").is_file()
    assert (root / "build/NUCLEO-L452RE/app.sfb").is_file()
    scons(root, "-c", *args)
    assert not (root / "build/NUCLEO-L452RE/app.sfb").exists()
    assert not (root / "build/NUCLEO-L452RE/bootloader.elf").exists()
    assert (root / "keys" / "signing_key.pem").is_file() and (root / "keys" / "aes128_key.bin").is_file()


def test_cachedir_gives_identical_sfb(tmp_path):
    root = user_project(tmp_path / "proj", DEFAULT_BOARD)
    keys = make_keys(tmp_path / "keys")
    sconstruct = root / "SConstruct"
    sconstruct.write_text(f"CacheDir({str(tmp_path / 'cache')!r})\n" + sconstruct.read_text())
    args = [f"BOARD={DEFAULT_BOARD.name}", f"KEYS={keys.directory}"]
    scons(root, *args)
    first = (root / "build/NUCLEO-L452RE/app.sfb").read_bytes()
    scons(root, "-c", *args)
    result = scons(root, *args)
    assert "Retrieved" in result.stdout
    assert (root / "build/NUCLEO-L452RE/app.sfb").read_bytes() == first
    # Secrets never enter the cache: no cached file contains the AES key.
    for cached in (tmp_path / "cache").rglob("*"):
        if cached.is_file():
            assert keys.aes_key not in cached.read_bytes(), cached


@pytest.mark.parametrize("board_file", sorted((REPO / "boards").glob("*.toml")), ids=lambda p: p.stem)
def test_every_shipped_board_builds_within_budget(board_file, tmp_path):
    """Each board in boards/ is data only: the same sources build for it, the bootloader stays within
    32 KiB flash / 5 KiB RAM, and the .sfb verifies against the board's own vector offset."""
    from spb import sizereport

    board = load_board(board_file)
    keys = make_keys(tmp_path / "keys")
    out = tmp_path / "out"
    scons(REPO, f"BOARD={board_file.stem}", f"BUILD_DIR={out}", f"KEYS={keys.directory}", "VERSION=2.0.1")
    usage = {
        u.region.name: u.used for u in sizereport.measure(out / "bootloader.elf", sizereport.bootloader_regions(board))
    }
    assert 0 < usage["BOOT_FLASH"] <= 32 * 1024
    assert usage["BOOT_RAM"] <= 5 * 1024
    report = image.verify_sfb((out / "hello.sfb").read_bytes(), keys, board.vector_size)
    assert report.ok and report.header.version == 0x02000001
    assert report.plaintext == (out / "hello.bin").read_bytes()
