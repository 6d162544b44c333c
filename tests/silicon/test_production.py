# SPDX-License-Identifier: Apache-2.0
"""Production mode (`scons PRODUCTION=1`, bootloader/src/protect.c, port/common/stm32_protect_*.h) on the
register-level models: the first boot programs the option bytes through each flash controller's sequence
and reloads them; afterwards the application - driving the flash registers as its code would - can neither
erase nor program the bootloader's code or its install journal, lifting the protection in the option bytes
gets it back at the next reset before the application runs again, an update still installs (the journal's
protection lifted and set again around it), and a power cut at any flash or option-byte operation of those
boots ends protected with an authentic image running. One board per flash controller variant.
"""

from __future__ import annotations

import functools

import pytest
from unicorn.arm_const import UC_ARM_REG_PC, UC_ARM_REG_R1

from spb import image, journal
from spb.keys import generate_keys, load_keys
from support.cutcounts import record as record_cuts
from support.scons_project import REPO, scons

from . import powercut
from .harness.machine import Machine
from .support import (
    OUT,
    V1,
    V2,
    Firmware,
    _build_lock,
    expect_app,
    firmware,
    installed_ok,
    no_violations,
    send_update,
    tail,
    version_word,
    wait_app,
)
from .test_models_optionbytes import (
    KEYS,
    PEKEYS,
    PRGKEYS,
    Bus,
    f4_sector_op,
    l0_op,
    l0_unlock,
    l4_erase,
    l4_obl_launch,
    l4_options,
    l4_unlock,
)

#: board -> flash controller variant (which register sequences the "application" below uses)
PRODUCTION_BOARDS = {
    "NUCLEO-L452RE": "dw",  # L4
    "DISCO-L4R9I": "dw",  # L4+, dual bank
    "NUCLEO-G0B1RE": "dw",  # G0, dual bank
    "NUCLEO-G474RE": "dw",  # G4, dual bank
    "NUCLEO-WL55JC": "dw",  # WL
    "DISCO-L562E": "l5",  # L5, TrustZone disabled: non-secure registers
    "NUCLEO-F429ZI": "sector",  # F4, dual bank
    "DISCO-F769I": "sector",  # F7
    "NUCLEO-L073RZ": "pecr",  # L0: 4 KiB write-protection sectors, 128-byte pages
    "DISCO-H745I": "h7",  # H7: two banks of 128 KiB sectors, the journal in bank 2
}
WRPERR = 1 << 4  # FLASH_SR.WRPERR (NSWRPERR on the L5) on all but the L0
WRPERR_L0 = 1 << 8
SETTING = "Production: option bytes: WRP"


@functools.cache
def production_keys():
    directory = OUT / "production-keys"
    with _build_lock():
        if not (directory / "signing_key.pem").exists():
            generate_keys(directory, development=False)
    return load_keys(directory)


@functools.cache
def production(board_name: str, rdp: int = 1, trial: bool = False) -> Firmware:
    """The 1.0.0 manufacturing image with a PRODUCTION=1 bootloader and production keys; the overwrite
    install (TRIAL=0) unless `trial` (the board's default on boards with a [trial] table)."""
    dev = firmware(board_name)
    ks = production_keys()
    build = OUT / board_name / f"production-rdp{rdp}{'-trial' if trial else ''}"
    with _build_lock():
        scons(
            REPO,
            f"BOARD={board_name}",
            f"BUILD_DIR={build}",
            f"KEYS={ks.directory}",
            f"VERSION={V1}",
            f"RELEASES_DIR={build / 'releases'}",
            "RELEASE_REPLACE=1",
            "PRODUCTION=1",
            f"PRODUCTION_RDP={rdp}",
            f"TRIAL={'auto' if trial else '0'}",
            "-Q",
        )
    return Firmware(dev.board, ks, {V1: build, V2: dev.builds[V2]})


def first_boot(fw: Firmware, seed: int = 0) -> tuple[Machine, object]:
    m = Machine(fw.board, seed=seed)
    m.load_hex(fw.combined(V1))
    m.power_on()
    return m, m.run()


# -- the application's side: flash register accesses as its code would make them ------------------------------
def app_erase(m: Machine, variant: str, address: int) -> tuple[bool, bool]:
    """Erase the page/sector at `address` from the application: (WRPERR raised, content unchanged)."""
    before = m.read(address, 64)
    b = Bus(m)
    board = m.board
    index = next(i for i, s in enumerate(board.flash.sectors) if s.start == address)
    if variant == "h7":
        bank = 0 if address - board.flash.base < 0x100000 else 1
        for k in KEYS:
            b.w(0x04 + 0x100 * bank, k)
        cr = 0x0C + 0x100 * bank
        snb = (address - board.flash.base) % 0x100000 // 0x20000
        b.w(cr, 4 | 3 << 4 | snb << 8)  # SER, PSIZE x64, SNB
        b.w(cr, 4 | 3 << 4 | snb << 8 | 1 << 7)  # START
        sr = b.wait(0x10 + 0x100 * bank, 7)
        b.w(cr, 0)
        b.w(0x14 + 0x100 * bank, 0x07EF0000)
        return bool(sr & 1 << 17), m.read(address, 64) == before
    if variant == "pecr":
        l0_unlock(b, PEKEYS, 0x0C)
        l0_unlock(b, PRGKEYS, 0x10)
        sr = l0_op(b, address, erase=True)
        return bool(sr & WRPERR_L0), m.read(address, 64) == before
    if variant == "sector":
        for k in KEYS:
            b.w(0x04, k)
        sr = f4_sector_op(b, index)
    elif variant == "l5":
        for k in KEYS:
            b.w(0x08, k)
        b.w(0x20, 0xA0FB)
        bank2 = board.flash.bank2_base is not None and address >= board.flash.bank2_base
        page = index - (
            next(i for i, s in enumerate(board.flash.sectors) if s.start == board.flash.bank2_base) if bank2 else 0
        )
        cr = 2 | (1 << 11 if bank2 else 0) | page << 3
        b.w(0x28, cr)
        b.w(0x28, cr | 1 << 16)
        sr = b.wait(0x20, 1 << 16)
        b.w(0x28, 0)
    else:
        l4_unlock(b, options=False)
        bank2 = board.flash.bank2_base is not None and address >= board.flash.bank2_base
        first2 = next((i for i, s in enumerate(board.flash.sectors) if s.start == board.flash.bank2_base), 0)
        sr = l4_erase(b, 2 if bank2 else 1, index - first2 if bank2 else index)
    return bool(sr & WRPERR), m.read(address, 64) == before


def assert_protected(m: Machine, variant: str, context: str) -> None:
    """Read-out protection level 1 or more; the code's first page and the journal refuse erasure with
    WRPERR and keep their bytes; SLOT1 (not protected) still erases."""
    board = m.board
    assert m.soc.flash.rdp_level() >= 1, f"{context}: RDP level {m.soc.flash.rdp_level()}"
    for what, address in (("code", board.flash.base), ("journal", board.bootloader.journal_address)):
        refused, kept = app_erase(m, variant, address)
        assert refused and kept, f"{context}: the application erased the bootloader's {what} at {address:#x}"
    internal = [s.start for s in board.flash.sectors]
    other = board.slot1.address if board.slot1.address in internal else board.slot0.address  # SLOT1 if internal
    refused, _ = app_erase(m, variant, other)
    assert not refused, f"{context}: {other:#x} is write-protected: updates would fail"


@pytest.mark.parametrize("board_name", list(PRODUCTION_BOARDS))
def test_first_boot_protects_and_the_application_cannot_undo_it(board_name):
    variant = PRODUCTION_BOARDS[board_name]
    fw = production(board_name)
    m, r = first_boot(fw)
    expect_app(m, r, fw.plain(V1), "production first boot")
    log = m.console_text()
    assert log.count(SETTING) == 1 and r.resets == 1, f"one programming, one reload expected\n{tail(m)}"
    assert "DEVELOPMENT KEYS" not in log
    journal_bytes = m.read(fw.board.bootloader.journal_address, 64)
    no_violations(m, "first boot")

    # The next boot finds them in place: no programming, no reset, nothing written.
    m.power_on()
    m.power.arm(None)
    mark = len(m.console)
    r = m.run(max_resets=0)
    expect_app(m, r, fw.plain(V1), "second boot")
    assert SETTING not in m.console[mark:].decode("latin-1") and m.power.ops == 0

    # The application, running, tries to erase the bootloader's code and its journal: refused.
    assert_protected(m, variant, "application after the production boot")
    assert m.read(fw.board.bootloader.journal_address, 64) == journal_bytes
    no_violations(m, "application's attempts")


def test_a_device_that_stays_in_the_loader_is_protected_too():
    """Only the bootloader programmed (no application yet): it protects the chip, then waits in its loader."""
    fw = production("NUCLEO-L452RE")
    m = Machine(fw.board)
    m.load_hex(fw.path(V1, "bootloader.hex"))
    m.power_on()
    r = m.run(until="YMODEM loader ready", stop_at_app=False, max_resets=2)
    assert r.reason == "console" and r.resets == 1, f"{r.reason} {r.resets}\n{tail(m)}"
    assert m.console_text().count(SETTING) == 1
    assert_protected(m, "dw", "loader")
    no_violations(m, "loader")


def _symbols(elf_path) -> dict:
    from elftools.elf.elffile import ELFFile

    with open(elf_path, "rb") as handle:
        table = ELFFile(handle).get_section_by_name(".symtab")
        return {sym.name: sym["st_value"] for sym in table.iter_symbols() if sym.name}


#: Thumb snippets the "application" runs from its RAM: r1 = the address under test
LOAD, STORE, BRANCH = b"\x08\x68\xfe\xe7", b"\x08\x60\xfe\xe7", b"\x08\x47\xfe\xe7"  # ldr/str r0,[r1]; bx r1


@pytest.mark.parametrize("board_name", ["NUCLEO-L452RE", "DISCO-L4R9I", "NUCLEO-L073RZ"])
def test_firewall_keeps_the_keys_and_the_engine_state_from_the_application(board_name):
    """L4 / L4+ / L0 production builds: code running outside the Firewall (the application) that reads the AES
    key, reads or writes the bootloader's RAM or jumps into its code resets the chip; reading the API table
    and the status texts does not; the API itself works through the call gate (the example application's
    update in test_update_installs... and its version query at every start)."""
    fw = production(board_name)
    sym = _symbols(fw.bootloader_elf())
    code_start, ram = sym["__fw_code_start"], fw.board.ram.base
    assert sym["spb_aes_key"] > code_start and sym["spb_fw_gate"] & ~1 == code_start + 4
    m, r = first_boot(fw)
    expect_app(m, r, fw.plain(V1), "firewall first boot")
    snippet_at = fw.board.app_ram_base + 0x800

    def attempt(code: bytes, target: int, budget: int = 100_000_000):
        """Run `code` as the application with r1 = target; the firewall resets it counted."""
        before = m.firewall_resets
        m.uc.mem_write(snippet_at, code)
        m.uc.reg_write(UC_ARM_REG_R1, target)
        m.uc.reg_write(UC_ARM_REG_PC, snippet_at | 1)
        m.uc.ctl_remove_cache(snippet_at, snippet_at + len(code))
        result = m.run(max_cycles=budget, max_resets=2)
        return m.firewall_resets - before, result

    for what, code, target in (
        ("reads the AES key", LOAD, sym["spb_aes_key"]),
        ("reads the public key", LOAD, sym["spb_public_key"]),
        ("reads the bootloader's RAM", LOAD, ram + 0x10),
        ("writes the bootloader's RAM", STORE, ram + 0x10),
        ("jumps into the bootloader's code", BRANCH, sym["spb_aes128_init"] | 1),
    ):
        resets, result = attempt(code, target)
        assert resets == 1 and result.reason == "app", f"the application {what}: {resets} firewall resets\n{tail(m)}"
        expect_app(m, result, fw.plain(V1), f"after the application {what}")  # back in the application
    for what, target in (("the API table", sym["spb_api_table"]), ("a status text", sym["status_texts"])):
        resets, result = attempt(LOAD, target, budget=200_000)
        assert resets == 0 and result.reason == "timeout", f"reading {what}: {result.reason}\n{tail(m)}"
    no_violations(m, "firewall")


@pytest.mark.parametrize("board_name", ["NUCLEO-L452RE", "NUCLEO-G474RE"])
def test_option_bytes_the_application_clears_come_back_before_it_runs_again(board_name):
    """The application clears both WRP areas in the option bytes and reloads them (a reset): the bootloader,
    which runs first after every reset, sets them again and resets before handing over."""
    fw = production(board_name)
    m, r = first_boot(fw)
    assert r.reason == "app"
    journal_bytes = m.read(fw.board.bootloader.journal_address, 64)
    b = Bus(m)
    l4_unlock(b, options=True)
    sr = l4_options(b, WRP1AR=0xFF, WRP1BR=0xFF)  # STRT > END: both areas empty
    assert not sr & WRPERR
    l4_obl_launch(b)  # the application's reset: option bytes loaded unprotected...
    mark = len(m.console)
    r = m.run()
    expect_app(m, r, fw.plain(V1), "after the application cleared the WRP areas")
    assert SETTING in m.console[mark:].decode("latin-1")  # ...and the bootloader put them back
    assert_protected(m, "dw", "after the bootloader restored them")
    assert m.read(fw.board.bootloader.journal_address, 64) == journal_bytes
    no_violations(m, "cleared WRP")


@pytest.mark.parametrize("board_name", ["NUCLEO-L452RE", "NUCLEO-F429ZI", "NUCLEO-L073RZ", "DISCO-H745I"])
def test_update_installs_with_the_journal_lifted_and_protected_again(board_name):
    """Production builds as users get them: on a board with a [trial] table (NUCLEO-L452RE) with trial boot,
    whose install appends two journal entries (CONFIRM of the running image, INSTALL) in one lifting."""
    variant = PRODUCTION_BOARDS[board_name]
    fw = production(board_name, trial=firmware(board_name).board.trial is not None)
    m, r = first_boot(fw)
    wait_app(m, V1)
    sfb = image.build_sfb(fw.plain(V2), version_word(V2), fw.keys, fw.board.vector_size)
    r = send_update(m, sfb, "APP: update verified, installing at reset")
    assert r.reason == "console", tail(m)
    mark = len(m.console)
    r = m.run(max_resets=6)  # lift the journal's WRP (reset), install, protect again (reset), hand over
    expect_app(m, r, fw.plain(V2), "production install")
    log = m.console[mark:].decode("latin-1")
    assert "lifting the journal's WRP" in log and log.count(SETTING) == 2, log
    assert installed_ok(m, fw, fw.plain(V2), V2)
    b = fw.board.bootloader
    entries = journal.parse_entries(m.read(b.journal_address, b.journal_size))
    installed = image.Header.unpack(m.read(fw.board.slot0.address, 128))
    assert entries[-1] == ("install", installed.version, installed.signature[: journal.ID_SIZE])
    if fw.board.trial is not None:  # trial boot (TRIAL=auto): the running image confirmed before the exchange
        assert entries[-2] == ("confirm", version_word(V1), entries[0][2]), entries
    assert_protected(m, variant, "after the install")
    no_violations(m, "production install")


def test_rdp_level_2_is_set_with_the_code_protection_and_freezes_the_option_bytes():
    """PRODUCTION_RDP=2: level 2 and the code's WRP in one programming; the journal stays writable (the
    option bytes are frozen, so its protection could never be lifted for an install) - docs/security.md."""
    fw = production("NUCLEO-L452RE", rdp=2)
    m, r = first_boot(fw)
    expect_app(m, r, fw.plain(V1), "RDP 2 first boot")
    assert m.soc.flash.rdp_level() == 2 and m.console_text().count(SETTING) == 1
    refused, kept = app_erase(m, "dw", fw.board.flash.base)
    assert refused and kept
    before = m.option_bytes()
    b = Bus(m)
    l4_unlock(b, options=True)
    sr = l4_options(b, busy=False, WRP1AR=0xFF)
    assert sr & WRPERR and m.option_bytes() == before, "option bytes changed at RDP level 2"
    no_violations(m, "RDP 2")


#: boards whose install cuts ./test samples (the Cortex-M0+ runs slowly under the harness; all with
#: --silicon-exhaustive: NUCLEO-L073RZ 10 + 198 points, all passed)
SAMPLED = ("NUCLEO-L073RZ",)


def _boot_from(fw: Firmware, state: tuple, variant: str, images: powercut.Images, context: str) -> str:
    """Boot from a cut state: an authentic image exactly installed runs, with the protections in place."""
    m = Machine(fw.board, seed=len(context))
    m.restore(state)
    m.power_on()
    r = m.run(max_resets=4)
    assert r.reason == "app", f"{context}: {r.reason} {r.detail}\n{tail(m)}"
    which = next(
        (
            name
            for name, plain, version in (
                ("new", images.new, images.new_version),
                ("old", images.old, images.old_version),
            )
            if installed_ok(m, fw, plain, version)
        ),
        None,
    )
    assert which is not None, f"{context}: SLOT0 holds neither image exactly\n{tail(m)}"
    no_violations(m, context)
    assert_protected(m, variant, context)
    return which


@pytest.mark.parametrize("board_name", ["NUCLEO-L452RE", "NUCLEO-F429ZI", "NUCLEO-L073RZ", "DISCO-H745I"])
def test_power_cut_at_every_operation_of_the_production_boots(board_name, exhaustive):
    """Each flash and option-byte operation of the first production boot, and of the boots that install an
    update (the journal's protection lifted, the install, the protection set again), cut before it and
    torn: the next boots end with the protections in place and an authentic image exactly installed."""
    variant = PRODUCTION_BOARDS[board_name]
    fw = production(board_name)
    images = powercut.tiny(fw)
    m = Machine(fw.board)
    m.load_hex(fw.combined(V1))
    first = powercut.record_boot(fw, m.snapshot())
    download = powercut.record_download(fw, powercut.sfb_for(fw, images))
    install = powercut.record_boot(fw, download.end)
    per_programming = sum(op[0] == "option" for op in first.trace)  # 1; 5 option words on the L0
    assert per_programming >= 1 and sum(op[0] == "option" for op in install.trace) == 2 * per_programming
    new_seen = False
    for name, phase in (("first boot", first), ("install", install)):
        points = range(1, len(phase.trace) + 1)
        if board_name in SAMPLED and not exhaustive:  # every option-byte operation and every 4th of the others
            points = [k for k in points if phase.trace[k - 1][0] == "option" or k % 4 == 1 or k == len(phase.trace)]
        for k in points:
            for mode in ("before", "torn"):
                state = powercut.cut_state(fw, phase, k, mode, seed=k)
                context = f"{name}, cut {mode} operation {k} of {len(phase.trace)} ({phase.trace[k - 1][0]})"
                which = _boot_from(fw, state, variant, images, context)
                assert name == "install" or which == "old", context
                new_seen = new_seen or which == "new"
        record_cuts(f"{board_name} production {name}", 2 * len(points))
    assert new_seen


def test_production_build_refuses_development_keys_and_unsupported_options(tmp_path):
    dev = firmware("NUCLEO-L452RE")
    result = scons(
        REPO, "BOARD=NUCLEO-L452RE", f"BUILD_DIR={tmp_path}", f"KEYS={dev.keys.directory}", "PRODUCTION=1", check=False
    )
    assert result.returncode != 0 and "refuses development keys" in result.stderr, result.stderr[-500:]
    result = scons(REPO, "BOARD=NUCLEO-L452RE", f"BUILD_DIR={tmp_path}", "PRODUCTION=1", check=False)
    assert result.returncode != 0 and "refuses development keys" in result.stderr
    ks = production_keys()
    result = scons(
        REPO, "BOARD=EMU-MPS2-AN385", f"BUILD_DIR={tmp_path}", f"KEYS={ks.directory}", "PRODUCTION=1", check=False
    )
    assert result.returncode != 0 and "not implemented for family mps2" in result.stderr, result.stderr[-300:]
    result = scons(
        REPO,
        "BOARD=NUCLEO-L073RZ",
        f"BUILD_DIR={tmp_path}",
        f"KEYS={ks.directory}",
        "PRODUCTION=1",
        "PRODUCTION_RDP=2",
        check=False,
    )
    assert result.returncode != 0 and "PRODUCTION_RDP=2 is refused on the L0" in result.stderr
    result = scons(REPO, "BOARD=NUCLEO-L452RE", f"BUILD_DIR={tmp_path}", "PRODUCTION_RDP=2", check=False)
    assert result.returncode != 0 and "PRODUCTION_RDP=2 needs PRODUCTION=1" in result.stderr
