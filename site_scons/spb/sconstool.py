# SPDX-License-Identifier: Apache-2.0
"""The SCons side of spb: options, builders and pseudo-builders (loaded by site_tools/spb_firmware.py).

A user's SConstruct needs three lines:

    import spb
    env = Environment(tools=["default", "spb_firmware"], toolpath=[spb.TOOLPATH])
    env.SpbFirmware("myapp", Glob("src/*.c"))

Every generated file is a real target of a builder whose action is a Python function with a `varlist`
(or reads everything it needs from its sources), so SCons's signatures decide what to rebuild:
- the board file is a source of the linker scripts and of the generated board header: editing it
  relinks, and recompiles only what includes a header whose content changed;
- the version enters as a Value node: a new git tag regenerates the version header and re-signs the
  .sfb, and nothing that does not depend on it;
- keys are sources of the signing and key-embedding steps, and are never pushed to a CacheDir.
Signatures from a key file are deterministic (RFC 6979, derived IV), so a cached .sfb equals a rebuilt one;
a PKCS#11 token (SIGNER=) picks its own nonces: a cached .sfb is then valid but not byte-identical.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypedDict

import SCons.Script
from SCons.Script import Builder, Variables

from . import REPO_ROOT
from .errors import SpbError, StrPath

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeAlias

    # SCons has no type information mypy reads (no py.typed marker, see [tool.mypy] in pyproject.toml):
    # to mypy these two are Any, named for the reader.
    from SCons.Environment import Base as Environment
    from SCons.Node import Node

    from .board import Board
    from .keys import KeySet, KeySource
    from .version import Version

    #: A Python action: called with the target and source node lists and the environment; a non-zero
    #: result fails the build.
    ActionFunction: TypeAlias = Callable[[list[Node], list[Node], Environment], int | None]
    #: An emitter: (targets, sources, env) -> (targets, sources).
    Emitter: TypeAlias = Callable[[list[Node], list[Node], Environment], tuple[list[Node], list[Node]]]
    #: Source files: a path, a node, or a (nested) list of them (whatever env.Flatten accepts).
    Sources: TypeAlias = str | Node | Iterable[Any]

DEFAULT_BOARD = "NUCLEO-L452RE"
BOOTLOADER_DIR = Path(REPO_ROOT) / "bootloader"
_help_added = False
_stack_help_added = False


class GeneratedFiles(TypedDict):
    """The per-board generated files (nodes)."""

    board_h: Node
    boot_ld: Node
    app_ld: Node
    api_ld: Node
    version_h: Node
    crt_c: Node


class BootloaderOutputs(TypedDict):
    """What env.SpbBootloader() returns (nodes)."""

    elf: Node
    map: Node
    bin: Node
    hex: Node
    size: Node


class ApplicationOutputs(TypedDict):
    """What env.SpbApplication() returns (nodes; `release` is None unless this is a release build)."""

    elf: Node
    map: Node
    bin: Node
    sfb: Node
    sfbp: list[Node]
    release: Node | None
    size: Node


class FirmwareOutputs(ApplicationOutputs):
    """What env.SpbFirmware() returns: the application's outputs, the combined image and the bootloader's."""

    combined: list[Node]
    bootloader: BootloaderOutputs


def _fail(error: Exception) -> NoReturn:
    """Stop the SConscript read with a one-line, file-naming error (no Python traceback)."""
    sys.stderr.write(f"scons: *** {error}\n")
    SCons.Script.Exit(2)
    raise AssertionError("not reached: SCons.Script.Exit raises SystemExit")


# --------------------------------------------------------------------------------------------------
# Actions (Python functions: SCons hashes their code, and varlist adds the env values they read)


def _board(source_node: Node) -> Board:
    from .board import load_board

    return load_board(str(source_node))


def _write(target: Node, text: str) -> None:
    Path(str(target)).write_text(text)


def _act_board_header(target: list[Node], source: list[Node], env: Environment) -> None:
    from .board_header import render

    _write(target[0], render(_board(source[0]), trial=source[1].read() == "trial"))


def _act_boot_ld(target: list[Node], source: list[Node], env: Environment) -> None:
    from .linker import bootloader_script

    _write(target[0], bootloader_script(_board(source[0]), firewall=source[1].read() == "firewall"))


def _act_app_ld(target: list[Node], source: list[Node], env: Environment) -> None:
    from .linker import application_script

    _write(target[0], application_script(_board(source[0]), env["SPB_STACK_SIZE"], env["SPB_HEAP_SIZE"]))


#: gen/spb_crt.c, compiled into every application: what crti.o/crtn.o give a program linked without
#: -nostartfiles. newlib's __libc_init_array (called by STM32CubeMX startup files) calls _init, and
#: __libc_fini_array _fini; with nothing to do in .init/.fini they are empty. Weak: a definition of the
#: application's own wins. ld keeps both through --gc-sections (its -init/-fini defaults): 4 bytes.
_CRT_SOURCE = """/* Generated by spb; do not edit. */
void _init(void) __attribute__((weak));
void _fini(void) __attribute__((weak));
void _init(void)
{
}
void _fini(void)
{
}
"""


def _act_app_crt(target: list[Node], source: list[Node], env: Environment) -> None:
    _write(target[0], source[0].read())  # a Value of _CRT_SOURCE: a change to the text regenerates


def _act_api_ld(target: list[Node], source: list[Node], env: Environment) -> None:
    from .linker import api_include

    _write(target[0], api_include(_board(source[0])))


def _version_of(node: Node) -> tuple[str, int]:
    label, encoded = node.read().rsplit("|", 1)
    return label, int(encoded, 16)


def _act_version_header(target: list[Node], source: list[Node], env: Environment) -> None:
    label, encoded = _version_of(source[0])
    guard = "SPB_APP_VERSION_H"
    _write(
        target[0],
        f"/* Generated by spb from the git tag or VERSION=; do not edit. */\n"
        f"#ifndef {guard}\n#define {guard}\n"
        f"#define APP_VERSION 0x{encoded:08X}u\n"
        f'#define APP_VERSION_STR "{encoded >> 24}.{(encoded >> 8) & 0xFFFF}.{encoded & 0xFF}"\n'
        f'#define APP_VERSION_LABEL "{label}"\n#endif\n',
    )


def _keys_from(env: Environment) -> KeySet:
    """The key set the configuration chose (KEYS=, SIGNING_KEY=, AES_KEY=, SIGNER=; see _configure_keys).
    A PKCS#11 signer is opened once per process and shared by the actions."""
    source: KeySource = env["SPB_KEY_SOURCE"]
    return source.load()


def _act_keys_source(target: list[Node], source: list[Node], env: Environment) -> None:
    from .keys import c_source

    _write(target[0], c_source(_keys_from(env)))


def _act_dev_keys(target: list[Node], source: list[Node], env: Environment) -> None:
    import warnings

    from .keys import DevKeyWarning, generate_keys

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DevKeyWarning)
        generate_keys(Path(str(target[0])).parent, development=True)
    bar = "!" * 78
    print(
        f"{bar}\n!! spb: generated DEVELOPMENT keys in {Path(str(target[0])).parent}\n"
        f"!! Anyone holding them can sign and decrypt your firmware. For development only:\n"
        f"!! create production keys with `spb keygen DIR` and build with KEYS=DIR.\n{bar}"
    )


def _act_plain_image(target: list[Node], source: list[Node], env: Environment) -> None:
    from .elfimage import plain_image

    Path(str(target[0])).write_bytes(plain_image(str(source[0]), _board(source[1])).data)


def _act_sfb(target: list[Node], source: list[Node], env: Environment) -> None:
    from .elfimage import plain_image
    from .image import build_sfb

    elf, board_file, version = source[0], source[1], source[2]
    board = _board(board_file)
    image = plain_image(str(elf), board)
    _label, encoded = _version_of(version)
    data = build_sfb(image.data, encoded, _keys_from(env), board.vector_size, image.segoff)
    Path(str(target[0])).write_bytes(data)


def _act_sfbp(target: list[Node], source: list[Node], env: Environment) -> None:
    from .elfimage import plain_image
    from .patch import build_sfbp

    elf, reference, board_file, version, from_version = source[:5]
    board = _board(board_file)
    image = plain_image(str(elf), board)
    _label, encoded = _version_of(version)
    _from_label, from_encoded = _version_of(from_version)
    from .releases import load_reference

    old = load_reference(str(reference), board.name)  # checked against its manifest
    data = build_sfbp(old, from_encoded, image.data, encoded, _keys_from(env), image.segoff, env["PATCH_ENCODING"])
    Path(str(target[0])).write_bytes(data)


def _act_release_copy(target: list[Node], source: list[Node], env: Environment) -> None:
    from .elfimage import plain_image
    from .releases import Manifest, git_commit, sha256, store_release

    image = Path(str(source[0])).read_bytes()
    board = _board(source[1])
    app, version = env["SPB_RELEASE_APP"], str(env["SPB_VERSION"])
    # A MultiSegment image's .sfb/.sfbp need its segment offset: kept in the manifest (spb repo publish).
    segoff = plain_image(str(source[2]), board).segoff if board.slot0.external is not None else 0
    commit = git_commit(env.Dir("#").abspath)
    manifest = Manifest(app, version, board.name, commit, sha256(image), len(image), segoff)
    outcome = store_release(image, str(target[0]), manifest, replace=bool(env["RELEASE_REPLACE"]))
    if outcome == "replaced":
        print(f"spb: warning: RELEASE_REPLACE=1: replaced release {version} in {target[0]}")


def _act_build_info(target: list[Node], source: list[Node], env: Environment) -> None:
    from .buildinfo import c_source

    _write(target[0], c_source(_board(source[0])))


def _act_combined(target: list[Node], source: list[Node], env: Environment) -> None:
    from .manufacturing import combined_image, write_combined

    boot_elf, app_elf, board_file, version = source[:4]
    board = _board(board_file)
    _label, encoded = _version_of(version)
    ihex = combined_image(str(boot_elf), str(app_elf), board, encoded, _keys_from(env))
    write_combined(ihex, board, str(target[0]), str(target[1]))


def _act_size_report(target: list[Node], source: list[Node], env: Environment) -> None:
    from . import sizereport

    board = _board(source[1])
    kind = env["SPB_SIZE_KIND"]
    regions = sizereport.bootloader_regions(board) if kind == "bootloader" else sizereport.application_regions(board)
    usages = sizereport.measure(str(source[0]), regions)
    if kind == "application":
        from .linker import api_stack_need

        sizereport.add_stack_and_heap(str(source[0]), usages, api_stack_need(board))
    text = sizereport.render(f"{Path(str(source[0])).name} ({board.name})", usages)
    print(text)
    sizereport.check(str(source[0]), usages)
    _write(target[0], text + "\n")


# The construction variables an action reads besides its sources (SCons hashes their values into the
# action's signature, so changing one rebuilds).
_VARLISTS: dict[ActionFunction, tuple[str, ...]] = {
    _act_app_ld: ("SPB_STACK_SIZE", "SPB_HEAP_SIZE"),
    _act_sfbp: ("PATCH_ENCODING",),
    _act_size_report: ("SPB_SIZE_KIND",),
}


def _wrap(function: ActionFunction) -> Any:
    """Turn SpbError into a clean build error instead of a traceback. Returns an SCons Action."""

    def action(target: list[Node], source: list[Node], env: Environment) -> int | None:
        try:
            return function(target, source, env)
        except SpbError as error:
            sys.stderr.write(f"spb: error: {error}\n")
            return 1

    action.__name__ = function.__name__
    return SCons.Script.Action(
        action, f"$SPB_{function.__name__[5:].upper()}COMSTR", varlist=_VARLISTS.get(function, ())
    )


# The modules each action's output depends on. SCons hashes an action function's own code only, so
# these files become sources: editing the plugin's linker script generator relinks, and so on.
_MODULES: dict[ActionFunction, tuple[str, ...]] = {
    _act_board_header: ("board", "board_header"),
    _act_boot_ld: ("board", "linker"),
    _act_app_ld: ("board", "linker", "apistack"),
    _act_api_ld: ("board", "linker"),
    _act_version_header: ("version",),
    _act_keys_source: ("keys",),
    _act_plain_image: ("board", "elfimage"),
    _act_sfb: ("board", "elfimage", "image", "keys"),
    _act_sfbp: ("board", "elfimage", "image", "keys", "patch", "diffmatch", "jojo", "compact"),
    _act_combined: ("board", "elfimage", "image", "keys", "manufacturing", "buildinfo"),
    _act_release_copy: ("board", "releases"),
    _act_build_info: ("board", "buildinfo"),
    _act_size_report: ("board", "sizereport", "linker", "apistack"),
}
_PACKAGE_DIR = Path(__file__).resolve().parent


def _code_emitter(function: ActionFunction, inner: Emitter | None = None) -> Emitter:
    modules = [str(_PACKAGE_DIR / f"{name}.py") for name in _MODULES.get(function, ())]

    def emitter(target: list[Node], source: list[Node], env: Environment) -> tuple[list[Node], list[Node]]:
        if inner is not None:
            target, source = inner(target, source, env)
        return target, list(source) + [env.File(m) for m in modules]

    return emitter


def _map_emitter(target: list[Node], source: list[Node], env: Environment) -> tuple[list[Node], list[Node]]:
    elf = target[0]
    return [elf, env.File(os.path.splitext(elf.abspath)[0] + ".map")], source


# --------------------------------------------------------------------------------------------------
# Options and environment


def _options(env: Environment) -> Variables:
    global _help_added
    opts = Variables(None, SCons.Script.ARGUMENTS)
    opts.Add(
        "BOARD",
        "board name (a file <BOARD>.toml in the project's boards/ or spb's shipped boards) or path to a board file",
        env.get("SPB_DEFAULT_BOARD") or DEFAULT_BOARD,  # SPB_DEFAULT_BOARD: a project's own default (spb init)
    )
    opts.Add(
        "BOARDS_DIR",
        "directory searched for board files instead of the project's boards/ and then spb's shipped boards "
        f"({Path(REPO_ROOT) / 'boards'})",
        "",
    )
    opts.Add("VERSION", "application version x.y.z; default: from the nearest vX.Y.Z git tag", "")
    opts.Add(
        "KEYS",
        "keys directory: spb's (signing_key.pem, aes128_key.bin) or the original's folder as it is "
        "(Signing_PrivKey_ECC.txt, Cipher_Key_AES_CBC.bin, machine.txt); default: development keys generated "
        "on first build in #keys",
        "",
    )
    opts.Add("SIGNING_KEY", "private key file (PEM), instead of the one in KEYS", "")
    opts.Add("AES_KEY", "AES-128 key file (16 raw bytes), instead of the one in KEYS", "")
    opts.Add(
        "SIGNER",
        "sign with a PKCS#11 token instead of a key file: pkcs11:token=LABEL;object=KEY (RFC 7512; module and PIN "
        "from the environment, SPB_PKCS11_MODULE and SPB_PKCS11_PIN; docs/keys.md)",
        "",
    )
    opts.Add(
        SCons.Script.BoolVariable(
            "PRODUCTION",
            "production bootloader: at its first boot it write-protects its code and install journal and sets "
            "read-out protection level 1 through the option bytes, and keeps them so at every boot; refuses "
            "development keys (docs/security.md, 'Production mode')",
            False,
        )
    )
    opts.Add(
        SCons.Script.EnumVariable(
            "PRODUCTION_RDP",
            "with PRODUCTION=1: read-out protection level. 2 is IRREVERSIBLE: no debugger ever again, option "
            "bytes frozen (the journal then stays writable)",
            "1",
            allowed_values=("1", "2"),
        )
    )
    opts.Add(
        SCons.Script.EnumVariable(
            "TRIAL",
            "trial boot with automatic revert (docs/trial-boot.md): updates are installed by exchanging the slots, "
            "the new image must call SE_APP_Confirm() or the previous one returns. auto: on where the board file "
            "has a [trial] table; 1: required (an error where it has none); 0: off (SLOT1 is overwritten)",
            "auto",
            allowed_values=("auto", "0", "1"),
        )
    )
    opts.Add("BUILD_DIR", "output directory", "#build/${BOARD}")
    opts.Add("CROSS_PREFIX", "cross toolchain prefix", "arm-none-eabi-")
    opts.Add("OPT", "optimisation flags for C", "-Os")
    opts.Add(
        "STACK_SIZE",
        "application stack guard in bytes, the top of RAM: the link fails when .data + .bss + HEAP_SIZE + this "
        "do not fit. Default: the bootloader API's worst-case stack on BOARD (bench/stack_usage.py) + 256, "
        "rounded up to 256 (the value for BOARD is listed at the end of this help); smaller than the API's "
        "need is refused",
        "",
    )
    opts.Add(
        "HEAP_SIZE",
        "least heap in bytes the application script reserves between .bss and the stack guard (symbol `end`; "
        "malloc may grow up to the guard)",
        "0x200",
    )
    opts.Add(
        "RELEASES_DIR",
        "release store, the references of every future patch: each release built (clean tree at a tag, or "
        "VERSION=) keeps <app>_<version>.bin and its manifest <app>_<version>.json here; commit or archive it "
        "(docs/versioning.md)",
        "#releases/${BOARD}",
    )
    opts.Add(
        SCons.Script.BoolVariable(
            "RELEASE_REPLACE",
            "replace a stored release whose image differs from this build (otherwise an error naming both hashes)",
            False,
        )
    )
    opts.Add(
        "PATCH_FROM",
        "versions to emit <app>_<from>_to_<to>.sfbp patches from: 'all' stored releases "
        "older than this one, a comma-separated list (1.0.0,1.1.0), or 'none'",
        "all",
    )
    opts.Add(
        SCons.Script.EnumVariable(
            "PATCH_ENCODING",
            "patch encoding: compact (smallest, needs this "
            "bootloader) or compat (JojoDiff, also applied by the original v1.x "
            "bootloader)",
            "compact",
            allowed_values=("compact", "compat"),
        )
    )
    opts.Add("SPB_VERBOSE", "1 prints full command lines", "0")
    opts.Add(
        "CACHE_DIR",
        "shared build cache (SCons CacheDir) for CI jobs and developers; keys and everything that embeds them "
        "never enter it; empty: no cache",
        "",
    )
    opts.Add(
        "FLASH_TOOL",
        "scons flash: pyocd, openocd, stflash or gdb; default: the board's first in its [debug] table (pyocd; gdb "
        "on the emulator board, QEMU's GDB stub); docs/flashing.md",
        "",
    )
    opts.Add("GDB", "scons flash FLASH_TOOL=gdb: the GDB stub, host:port (default: the board's [debug] gdb)", "")
    opts.Add("PORT", "scons monitor: the console, a serial device or pyserial URL (/dev/ttyACM0, socket://...)", "")
    opts.Update(env)
    if not _help_added:
        SCons.Script.Help("\nspb options (NAME=value on the command line):\n" + opts.GenerateHelpText(env), append=True)
        SCons.Script.Help(_TARGETS_HELP, append=True)
        _help_added = True
    return opts


def _configure(env: Environment) -> None:
    from .board import load_board
    from .project import board_dirs, find_project_board
    from .version import resolve_version

    board_arg = env["BOARD"]
    try:
        if board_arg.endswith(".toml") or os.sep in board_arg:
            board_path = Path(env.File(board_arg).abspath)
        else:
            boards_dir = env["BOARDS_DIR"].strip()
            dirs = board_dirs(env.Dir("#").abspath, env.Dir(boards_dir).abspath if boards_dir else None)
            board_path = find_project_board(board_arg, dirs)
        board = load_board(board_path)
    except SpbError as error:
        _fail(error)
    env["BOARD"] = board.name
    env["SPB_BOARD"] = board
    env["SPB_BOARD_FILE"] = env.File(str(board_path))
    env["SPB_BUILD"] = env.Dir(env.subst("$BUILD_DIR"))
    env["SPB_GEN"] = env["SPB_BUILD"].Dir("gen")
    # Resolved here, at the top level: relative paths are relative to the project, not to a SConscript.
    env["SPB_RELEASES"] = env.Dir(env.subst("$RELEASES_DIR"))

    try:
        version = resolve_version(env.Dir("#").abspath, env["VERSION"] or None)
    except SpbError as error:
        _fail(error)
    if getattr(version, "untagged", False):
        print(f"spb: warning: no vX.Y.Z git tag; building version {version} (any tagged release is newer)")
    env["SPB_VERSION"] = version
    env["SPB_VERSION_NODE"] = env.Value(f"{version.label}|{version.encoded:08X}")

    prefix = env["CROSS_PREFIX"]
    env.Replace(
        CC=prefix + "gcc",
        CXX=prefix + "g++",
        AS=prefix + "gcc",
        AR=prefix + "ar",
        RANLIB=prefix + "ranlib",
        LINK=prefix + "gcc",
        OBJCOPY=prefix + "objcopy",
        PROGSUFFIX=".elf",
        OBJSUFFIX=".o",
        LIBPREFIX="lib",
        LIBSUFFIX=".a",
        SHLIBSUFFIX=".so",
        # GCC as the assembler: .s (CubeMX startup files) assembled as it is, .S through the C preprocessor
        # (ASPPCOM: $CC ... -c, with CPPDEFINES and CPPPATH). -c: compile only, never link.
        ASCOM="$AS $ASFLAGS -c -o $TARGET $SOURCES",
    )
    _configure_stack(env, board)
    if env["SPB_VERBOSE"] != "1":
        for var, word in (
            ("CCCOMSTR", "CC"),
            ("ASCOMSTR", "AS"),
            ("ASPPCOMSTR", "AS"),
            ("LINKCOMSTR", "LINK"),
            ("ARCOMSTR", "AR"),
            ("RANLIBCOMSTR", "RANLIB"),
            ("SPB_OBJCOPYCOMSTR", "OBJCOPY"),
        ):
            env[var] = f"{word:<7} $TARGET"
    # Python actions have no command line: always name what they make.
    for name, word in (
        ("BOARD_HEADER", "GEN"),
        ("BOOT_LD", "GEN"),
        ("APP_LD", "GEN"),
        ("API_LD", "GEN"),
        ("VERSION_HEADER", "GEN"),
        ("KEYS_SOURCE", "GEN"),
        ("DEV_KEYS", "KEYGEN"),
        ("PLAIN_IMAGE", "IMAGE"),
        ("SFB", "SIGN"),
        ("SFBP", "PATCH"),
        ("RELEASE_COPY", "RELEASE"),
        ("BUILD_INFO", "GEN"),
        ("COMBINED", "COMBINE"),
        ("SIZE_REPORT", "SIZE"),
        ("APP_CRT", "GEN"),
    ):
        env[f"SPB_{name}COMSTR"] = f"{word:<7} $TARGET"

    _configure_keys(env)
    _configure_production(env)
    _configure_trial(env)


#: families whose flash controller has a production-mode implementation (bootloader/port/common/stm32_protect_*.h)
PRODUCTION_FAMILIES = (
    "stm32f4",
    "stm32f7",
    "stm32g0",
    "stm32g4",
    "stm32h7",
    "stm32l0",
    "stm32l4",
    "stm32l5",
    "stm32wl",
)


#: families whose production builds put the bootloader behind the Firewall (its call gate for the API)
FIREWALL_FAMILIES = ("stm32l0", "stm32l4")


def _configure_trial(env: Environment) -> None:
    """TRIAL=: SPB_TRIAL (the bootloader's board header gets the trial defines)."""
    board = env["SPB_BOARD"]
    if env["TRIAL"] == "1" and board.trial is None:
        _fail(
            SpbError(
                board.path,
                "TRIAL=1: this board has no [trial] table (swap area, docs/trial-boot.md): add one or use TRIAL=0",
            )
        )
    env["SPB_TRIAL"] = board.trial is not None and env["TRIAL"] != "0"


def _configure_production(env: Environment) -> None:
    """PRODUCTION=, PRODUCTION_RDP=: SPB_PRODUCTION_DEFINES for the bootloader; development keys refused."""
    env["SPB_PRODUCTION_DEFINES"] = []
    env["SPB_FIREWALL"] = False
    rdp = env["PRODUCTION_RDP"]
    if not env["PRODUCTION"]:
        if rdp != "1":
            _fail(SpbError(None, "PRODUCTION_RDP=2 needs PRODUCTION=1"))
        return
    board: Board = env["SPB_BOARD"]
    if board.family not in PRODUCTION_FAMILIES:
        _fail(
            SpbError(
                env["SPB_BOARD_FILE"].abspath,
                f"PRODUCTION=1 is not implemented for family {board.family} yet (it is for "
                f"{', '.join(PRODUCTION_FAMILIES)}; docs/security.md)",
            )
        )
    if rdp == "2" and board.family == "stm32l0":
        _fail(
            SpbError(
                env["SPB_BOARD_FILE"].abspath,
                "PRODUCTION_RDP=2 is refused on the L0: write protection is per 4 KiB sector, the install journal "
                "shares its sector with bootloader code, and level 2 would freeze that sector writable for good",
            )
        )
    source = env["SPB_KEY_SOURCE"]
    default_keys = not any(env[n].strip() for n in ("KEYS", "SIGNING_KEY", "AES_KEY", "SIGNER"))
    if not (SCons.Script.GetOption("help") or SCons.Script.GetOption("clean")):
        try:
            development = default_keys or source.load().is_development
        except SpbError as error:
            _fail(error)
        if development:
            where = source.keys or "#keys"
            _fail(
                SpbError(
                    str(where),
                    "PRODUCTION=1 refuses development keys: create production keys with `spb keygen DIR` on a "
                    "secure machine and build with KEYS=DIR (or SIGNER=pkcs11:...)",
                )
            )
    if rdp == "2":
        bar = "!" * 100
        print(
            f"{bar}\n!! spb: PRODUCTION_RDP=2: this bootloader sets read-out protection LEVEL 2 at its first boot.\n"
            "!! That is IRREVERSIBLE: the debug port is disabled for good, the option bytes are frozen, and the\n"
            f"!! chip can never be reprogrammed except by this bootloader's own updates.\n{bar}",
            file=sys.stderr,
        )
    env["SPB_PRODUCTION_DEFINES"] = [("SPB_PRODUCTION", "1"), ("SPB_PRODUCTION_RDP", rdp)]
    if board.family in FIREWALL_FAMILIES:
        # The keys and the code that uses them behind the Firewall's call gate (port/common/stm32_firewall.c)
        env["SPB_FIREWALL"] = True
        env["SPB_PRODUCTION_DEFINES"].append(("SPB_FIREWALL", "1"))


def _size_option(env: Environment, name: str) -> int:
    text = env[name].strip()
    try:
        value = int(text, 0)
    except ValueError:
        _fail(SpbError(None, f"{name}={text}: not a number of bytes (decimal or 0x...)"))
    if value < 0 or value % 8:
        _fail(SpbError(None, f"{name}={text}: must be a non-negative multiple of 8 bytes (stack alignment)"))
    return value


def _configure_stack(env: Environment, board: Board) -> None:
    """STACK_SIZE= and HEAP_SIZE=: SPB_STACK_SIZE and SPB_HEAP_SIZE (ints) for the application script."""
    from .linker import api_stack_need, default_stack_size

    global _stack_help_added
    need = api_stack_need(board)
    default = default_stack_size(board)
    stack = _size_option(env, "STACK_SIZE") if env["STACK_SIZE"].strip() else default
    if stack < need:
        _fail(
            SpbError(
                None,
                f"STACK_SIZE={env['STACK_SIZE'].strip()}: below the {need} bytes the bootloader API needs on "
                f"{board.name} (SE_PATCH_Data, docs/api.md); the default is {default}",
            )
        )
    env["SPB_STACK_SIZE"] = stack
    env["SPB_HEAP_SIZE"] = _size_option(env, "HEAP_SIZE")
    if not _stack_help_added:
        SCons.Script.Help(
            f"\nstack guard for BOARD={board.name}: STACK_SIZE default {default} bytes (the bootloader API needs "
            f"{need}, bench/stack_usage.py); this build: STACK_SIZE {stack}, HEAP_SIZE {env['SPB_HEAP_SIZE']}\n",
            append=True,
        )
        _stack_help_added = True


def _configure_keys(env: Environment) -> None:
    """KEYS=, SIGNING_KEY=, AES_KEY=, SIGNER=: the key source the signing actions load (SPB_KEY_SOURCE) and
    the two nodes whatever embeds or signs with the keys depends on (SPB_KEY_FILES: the signing key file, or
    for a token a Value of its name and public key; the AES key file). Every key is read and the token
    reached here, so a bad key stops the build before anything is made."""
    from .keys import KeySource

    keys_arg, signing_arg, aes_arg, signer_arg = (env[n].strip() for n in ("KEYS", "SIGNING_KEY", "AES_KEY", "SIGNER"))
    if not (keys_arg or signing_arg or aes_arg or signer_arg):
        keys_dir = env.Dir("#keys")
        key_files = [keys_dir.File("signing_key.pem"), keys_dir.File("aes128_key.bin")]
        if not all(os.path.exists(n.abspath) for n in key_files):
            env.Command(key_files, [], env["BUILDERS"]["SpbDevKeys"].action)
        env.NoClean(key_files)
        env.Precious(key_files)
        env.NoCache(key_files)
        env["SPB_KEY_SOURCE"] = KeySource(keys=keys_dir.abspath)
        env["SPB_KEY_FILES"] = key_files
        return
    if signer_arg == "detached":
        _fail(
            SpbError(
                None,
                "SIGNER=detached: the detached flow is two runs of the spb command (spb sign --signer detached); "
                "the build signs with a key file or a PKCS#11 token",
            )
        )
    source = KeySource(
        keys=env.Dir(keys_arg).abspath if keys_arg else None,
        signing_key=env.File(signing_arg).abspath if signing_arg else None,
        aes_key=env.File(aes_arg).abspath if aes_arg else None,
        signer=signer_arg or None,
    )
    try:
        keys = source.load()
        aes_path = source.aes_path()
        if source.signer and not (SCons.Script.GetOption("help") or SCons.Script.GetOption("clean")):
            keys.sign(b"spb: signer check")  # logs in and signs once: a wrong PIN or key stops the build here
    except SpbError as error:
        hint = " (create keys with `spb keygen DIR`, docs/keys.md)" if error.problem.endswith("not found") else ""
        _fail(SpbError(error.path, error.problem + hint))
    signing_path = source.signing_path()
    signing_node = (
        env.File(str(signing_path))
        if signing_path is not None
        else env.Value(f"{keys.signer.name}|{keys.public_key.hex()}")
    )
    aes_node = env.File(str(aes_path))
    env.NoCache(aes_node)
    if signing_path is not None:
        env.NoCache(signing_node)
    env["SPB_KEY_SOURCE"] = source
    env["SPB_KEY_FILES"] = [signing_node, aes_node]


def _builders(env: Environment) -> None:
    simple: dict[str, ActionFunction] = {
        "SpbBoardHeader": _act_board_header,
        "SpbBootLinkerScript": _act_boot_ld,
        "SpbAppLinkerScript": _act_app_ld,
        "SpbApiInclude": _act_api_ld,
        "SpbVersionHeader": _act_version_header,
        "SpbKeysSource": _act_keys_source,
        "SpbDevKeys": _act_dev_keys,
        "SpbPlainImage": _act_plain_image,
        "SpbReleaseCopy": _act_release_copy,
        "SpbBuildInfo": _act_build_info,
        "SpbSizeReport": _act_size_report,
        "SpbAppCrt": _act_app_crt,
    }
    for name, function in simple.items():
        env["BUILDERS"][name] = Builder(action=_wrap(function), emitter=_code_emitter(function))

    def sfb_emitter(target: list[Node], source: list[Node], env: Environment) -> tuple[list[Node], list[Node]]:
        return target, source[:1] + [
            env["SPB_BOARD_FILE"],
            env["SPB_VERSION_NODE"],
            env["SPB_KEY_FILES"][0],
            env["SPB_KEY_FILES"][1],
        ]

    def combined_emitter(target: list[Node], source: list[Node], env: Environment) -> tuple[list[Node], list[Node]]:
        base = os.path.splitext(str(target[0]))[0]
        return (
            [env.File(base + ".hex"), env.File(base + ".bin")],
            source[:2]
            + [env["SPB_BOARD_FILE"], env["SPB_VERSION_NODE"], env["SPB_KEY_FILES"][0], env["SPB_KEY_FILES"][1]],
        )

    env["BUILDERS"]["SpbSfb"] = Builder(
        action=_wrap(_act_sfb), suffix=".sfb", src_suffix=".elf", emitter=_code_emitter(_act_sfb, sfb_emitter)
    )

    def sfbp_emitter(target: list[Node], source: list[Node], env: Environment) -> tuple[list[Node], list[Node]]:
        # source: [elf, reference .bin]; the FROM version arrives as SPB_PATCH_FROM_NODE.
        return target, source[:2] + [
            env["SPB_BOARD_FILE"],
            env["SPB_VERSION_NODE"],
            env["SPB_PATCH_FROM_NODE"],
            env["SPB_KEY_FILES"][0],
            env["SPB_KEY_FILES"][1],
        ]

    env["BUILDERS"]["SpbSfbp"] = Builder(
        action=_wrap(_act_sfbp), suffix=".sfbp", emitter=_code_emitter(_act_sfbp, sfbp_emitter)
    )
    env["BUILDERS"]["SpbCombined"] = Builder(
        action=_wrap(_act_combined), suffix=".hex", emitter=_code_emitter(_act_combined, combined_emitter)
    )
    env["BUILDERS"]["SpbObjcopyBin"] = Builder(
        action=SCons.Script.Action("$OBJCOPY -O binary $SOURCE $TARGET", "$SPB_OBJCOPYCOMSTR"),
        suffix=".bin",
        src_suffix=".elf",
    )
    env["BUILDERS"]["SpbObjcopyHex"] = Builder(
        action=SCons.Script.Action("$OBJCOPY -O ihex $SOURCE $TARGET", "$SPB_OBJCOPYCOMSTR"),
        suffix=".hex",
        src_suffix=".elf",
    )


# --------------------------------------------------------------------------------------------------
# Pseudo-builders


def _generated(env: Environment) -> GeneratedFiles:
    """The per-board generated files, created once per build directory."""
    cache: GeneratedFiles | None = env.get("_SPB_GENERATED")
    if cache is not None:
        return cache
    gen, board_file = env["SPB_GEN"], env["SPB_BOARD_FILE"]
    result: GeneratedFiles = {
        "board_h": env.SpbBoardHeader(
            gen.File("spb_board.h"), [board_file, env.Value("trial" if env["SPB_TRIAL"] else "plain")]
        )[0],
        "boot_ld": env.SpbBootLinkerScript(
            gen.File("bootloader.ld"), [board_file, env.Value("firewall" if env["SPB_FIREWALL"] else "plain")]
        )[0],
        "app_ld": env.SpbAppLinkerScript(gen.File("application.ld"), board_file)[0],
        "api_ld": env.SpbApiInclude(gen.File("spb_api.ld"), board_file)[0],
        "version_h": env.SpbVersionHeader(gen.File("spb_version.h"), env["SPB_VERSION_NODE"])[0],
        "crt_c": env.SpbAppCrt(gen.File("spb_crt.c"), env.Value(_CRT_SOURCE))[0],
    }
    env["_SPB_GENERATED"] = result
    return result


def _objects(env: Environment, sources: Sources, obj_dir: Node, src_root: Path) -> list[Node]:
    objs: list[Node] = []
    for src in env.Flatten(sources):
        node = env.File(src) if isinstance(src, str) else src
        path = Path(node.srcnode().abspath)
        try:
            rel = path.relative_to(src_root)
        except ValueError:
            rel = Path(path.name)
        objs += env.Object(obj_dir.File(str(rel.with_suffix(".o"))), node)
    return objs


def _common_flags(env: Environment, cpu_flags: list[str]) -> None:
    env.Append(
        CCFLAGS=cpu_flags
        + env.Split("$OPT")
        + ["-g", "-ffunction-sections", "-fdata-sections", "-Wall", "-Wextra", "-std=gnu11"],
        ASFLAGS=cpu_flags,
        LINKFLAGS=cpu_flags
        + ["-nostartfiles", "--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections", "-Wl,-Map=${TARGETS[1]}"],
    )


def SpbBootloader(env: Environment, bootloader_dir: StrPath | None = None) -> BootloaderOutputs:
    """Build the bootloader for the board: returns {'elf', 'bin', 'hex', 'map', 'size'}."""
    if "_SPB_BOOTLOADER" in env:
        built: BootloaderOutputs = env["_SPB_BOOTLOADER"]
        return built
    board = env["SPB_BOARD"]
    gen = _generated(env)
    root = Path(bootloader_dir) if bootloader_dir else BOOTLOADER_DIR
    out = env["SPB_BUILD"].Dir("bootloader")
    # From the environment as the tool left it: flags a SConstruct adds to `env` afterwards are for its
    # applications and never reach the bootloader.
    base: _Snapshot | None = env.get("_SPB_BASE")
    benv = (base.env if base is not None else env).Clone()
    _common_flags(benv, board.boot_flags())
    family = board.family
    benv.Append(
        CPPPATH=[
            env["SPB_GEN"],
            str(root / "include"),
            str(root / "src"),
            str(root / "src" / "crypto"),
            str(root / "port"),
            str(root / "port" / "common"),
            str(root / "port" / family),
        ],
        CPPDEFINES=["SPB_BOOTLOADER_BUILD", ("SPB_BOOT_VERSION_STR", f'\\"v{_boot_version()}\\"')]
        + env["SPB_PRODUCTION_DEFINES"],
        CCFLAGS=["-Werror"],
        # The generated script fills the vector area below the API table with code (spb.linker).
        LINKFLAGS=["-T", gen["boot_ld"].abspath, "-Wl,--enable-non-contiguous-regions"],
    )
    sources: list[str] = []
    for sub in ("src", "src/crypto", "port/common", f"port/{family}"):
        sources += sorted(str(p) for p in (root / sub).glob("*.c"))
    if not sources:
        _fail(SpbError(root, "no bootloader sources found"))
    keys_c = benv.SpbKeysSource(env["SPB_GEN"].File("spb_keys.c"), env["SPB_KEY_FILES"])
    benv.NoCache(keys_c)
    objs = _objects(benv, sources, out, root) + benv.Object(out.File("spb_keys.o"), keys_c)
    benv.NoCache(objs[-1])
    # What the bootloader was built for (board name and digest), checked before a manufacturing image is
    # written (spb.buildinfo); --undefined keeps the unreferenced record through --gc-sections.
    info_c = benv.SpbBuildInfo(env["SPB_GEN"].File("spb_build_info.c"), env["SPB_BOARD_FILE"])
    objs += benv.Object(out.File("spb_build_info.o"), info_c)
    benv.Append(LINKFLAGS=["-Wl,--undefined=spb_build_info"])
    elf, map_file = benv.Program(env["SPB_BUILD"].File("bootloader.elf"), objs, PROGEMITTER=[_map_emitter])
    benv.Depends(elf, gen["boot_ld"])
    result: BootloaderOutputs = {
        "elf": elf,
        "map": map_file,
        "bin": benv.SpbObjcopyBin(env["SPB_BUILD"].File("bootloader.bin"), elf)[0],
        "hex": benv.SpbObjcopyHex(env["SPB_BUILD"].File("bootloader.hex"), elf)[0],
        "size": benv.SpbSizeReport(
            env["SPB_BUILD"].File("bootloader.size.txt"), [elf, env["SPB_BOARD_FILE"]], SPB_SIZE_KIND="bootloader"
        )[0],
    }
    benv.NoCache([elf, result["bin"], result["hex"]])  # they embed the AES key
    env["_SPB_BOOTLOADER"] = result
    return result


def _stored_releases(env: Environment, name: str) -> dict[Version, Node]:
    """{Version: File} of the reference images in the releases store for application `name`."""
    from .version import Version

    store = Path(env["SPB_RELEASES"].abspath)
    found: dict[Version, Node] = {}
    for path in sorted(store.glob(f"{name}_*.bin")):
        try:
            found[Version.parse(path.stem[len(name) + 1 :])] = env.File(str(path))
        except (SpbError, ValueError):
            continue  # not a release reference (a stray file): ignored
    return found


def _patch_sources(env: Environment, name: str) -> dict[Version, Node]:
    """The FROM versions to make patches from, with their reference images."""
    from .version import Version

    current: Version = env["SPB_VERSION"]
    wanted: str = env["PATCH_FROM"].strip()
    stored = _stored_releases(env, name)
    if wanted in ("", "none"):
        return {}
    if wanted == "all":
        return {v: f for v, f in stored.items() if v < current}
    chosen: dict[Version, Node] = {}
    for text in wanted.split(","):
        try:
            version = Version.parse(text.strip())
        except SpbError as error:
            _fail(SpbError(None, f"PATCH_FROM: {error.problem}"))
        if version not in stored:
            _fail(
                SpbError(
                    env["SPB_RELEASES"].File(f"{name}_{version}.bin").abspath,
                    f"PATCH_FROM={version}: no reference image of that release (build it once, or copy "
                    "its plaintext .bin there)",
                )
            )
        if not version < current:
            _fail(SpbError(None, f"PATCH_FROM={version} is not older than the version being built ({current})"))
        chosen[version] = stored[version]
    return chosen


class _Snapshot:
    """The environment as generate() left it (SpbBootloader builds from a clone of it). A plain holder:
    env.Clone() copies the reference, not the environment."""

    def __init__(self, env: Environment) -> None:
        self.env = env


def SpbApplication(env: Environment, name: str, sources: Sources, **variables: Any) -> ApplicationOutputs:
    """Build an application for SLOT0: returns {'elf', 'bin', 'sfb', 'sfbp': [...], 'release', 'map',
    'size'}. A release build (clean tree or VERSION=) stores its plaintext image and manifest in the release
    store (RELEASES_DIR, spb.releases); every PATCH_FROM release found there gets a <name>_<from>_to_<to>.sfbp.

    variables: construction variables for this application only, appended after spb's own (CPPPATH,
    CPPDEFINES, CCFLAGS, CFLAGS, ASFLAGS, LINKFLAGS, LIBS, LIBPATH, ...): CCFLAGS=["-O2"] overrides OPT,
    LINKFLAGS=["-u", "_printf_float"] adds to the link. They never reach the bootloader or other
    applications."""
    board = env["SPB_BOARD"]
    gen = _generated(env)
    for key in variables:
        if not key.isupper():
            _fail(SpbError(None, f"{name}: {key}=: not a construction variable (CPPPATH, CCFLAGS, LINKFLAGS, ...)"))
    aenv = env.Clone()
    _common_flags(aenv, board.flags())
    aenv.Append(
        CPPPATH=[env["SPB_GEN"], str(BOOTLOADER_DIR / "include")],
        LIBPATH=[env["SPB_GEN"]],
        LINKFLAGS=["-T", gen["app_ld"].abspath],
    )
    aenv.Append(**variables)
    out = env["SPB_BUILD"].Dir(name)
    objs = _objects(aenv, sources, out, Path(env.Dir("#").abspath))
    objs += aenv.Object(out.File("spb_crt.o"), gen["crt_c"])
    elf, map_file = aenv.Program(env["SPB_BUILD"].File(f"{name}.elf"), objs, PROGEMITTER=[_map_emitter])
    aenv.Depends(elf, [gen["app_ld"], gen["api_ld"]])
    build = env["SPB_BUILD"]
    plain = aenv.SpbPlainImage(build.File(f"{name}.bin"), [elf, env["SPB_BOARD_FILE"]])[0]
    version: Version = env["SPB_VERSION"]
    release: Node | None = None
    if not version.dirty and not version.untagged:
        # The store (spb.releases): the image and its manifest; storing other bytes under a stored version
        # fails unless RELEASE_REPLACE=1.
        stored = aenv.SpbReleaseCopy(
            [env["SPB_RELEASES"].File(f"{name}_{version}.bin"), env["SPB_RELEASES"].File(f"{name}_{version}.json")],
            [plain, env["SPB_BOARD_FILE"], elf],
            SPB_RELEASE_APP=name,
        )
        release = stored[0]
        aenv.NoClean(stored)  # the store outlives `scons -c`: later releases patch from it
        aenv.Precious(stored)
        aenv.NoCache(stored)
    patches: list[Node] = []
    for from_version, reference in sorted(_patch_sources(env, name).items()):
        penv = aenv.Clone(SPB_PATCH_FROM_NODE=env.Value(f"{from_version.label}|{from_version.encoded:08X}"))
        patches += penv.SpbSfbp(build.File(f"{name}_{from_version}_to_{version}.sfbp"), [elf, reference])
    return {
        "elf": elf,
        "map": map_file,
        "bin": plain,
        "sfb": aenv.SpbSfb(build.File(f"{name}.sfb"), elf)[0],
        "sfbp": patches,
        "release": release,
        "size": aenv.SpbSizeReport(
            build.File(f"{name}.size.txt"), [elf, env["SPB_BOARD_FILE"]], SPB_SIZE_KIND="application"
        )[0],
    }


def SpbManufacturingImage(env: Environment, bootloader_elf: Node, app_elf: Node, name: str) -> list[Node]:
    """Bootloader + installed header + application: returns [<name>_combined.hex, <name>_combined.bin]."""
    targets: list[Node] = env.SpbCombined(env["SPB_BUILD"].File(f"{name}_combined.hex"), [bootloader_elf, app_elf])
    env.NoCache(targets)
    return targets


_TARGETS_HELP = """
spb targets (never built by a plain `scons`; docs/flashing.md):
flash: build, then program the manufacturing image <app>_combined.hex (FLASH_TOOL=, GDB=)
run: the emulator board (BOARD=EMU-MPS2-AN385) under QEMU, its console on this terminal (Ctrl-A x quits)
monitor: the board's console (PORT=; Ctrl-] quits)
repo: the update repository of this board's release store in BUILD_DIR/repo (docs/ota.md)
"""


def _act_flash(target: list[Node], source: list[Node], env: Environment) -> None:
    from .transport.flash import Options, plan

    board: Board = env["SPB_BOARD"]
    job = plan(board, str(source[0]), env["FLASH_TOOL"].strip() or None, Options(gdb=env["GDB"].strip() or None))
    print(f"spb: {board.name}: {job.describe()}")
    job.run()


def _act_run(target: list[Node], source: list[Node], env: Environment) -> None:
    import shlex
    import subprocess

    from .transport.flash import check_qemu, run_command

    board: Board = env["SPB_BOARD"]
    argv = run_command(board, str(source[0]) if source else "", str(source[1]) if len(source) > 1 else "")
    check_qemu(argv[0])
    print(f"spb: {shlex.join(argv)}   (Ctrl-A x quits)")
    status = subprocess.run(argv, check=False).returncode
    if status != 0:
        raise SpbError(argv[0], f"exited with status {status}")


def _act_monitor(target: list[Node], source: list[Node], env: Environment) -> None:
    import contextlib

    from .transport.monitor import monitor

    port = env["PORT"].strip()
    if not port:
        raise SpbError(None, "scons monitor needs PORT=: the board's console (/dev/ttyACM0, socket://localhost:4321)")
    with contextlib.suppress(KeyboardInterrupt):
        monitor(port, env["SPB_BOARD"].uart.baud, None)


def _device_targets(env: Environment, combined_hex: Node, boot_bin: Node) -> None:
    """`scons flash`, `scons run`, `scons monitor` for the first application of the build: aliases, so a plain
    `scons` (which builds ".") never runs them; AlwaysBuild, so naming one always does."""
    from .transport.flash import TOOLS

    if env.get("_SPB_DEVICE_TARGETS"):
        return
    env["_SPB_DEVICE_TARGETS"] = True
    tool = env["FLASH_TOOL"].strip()
    if tool and tool not in TOOLS:
        _fail(SpbError(None, f"FLASH_TOOL={tool}: unknown flash tool (known: {', '.join(TOOLS)})"))
    board: Board = env["SPB_BOARD"]
    emulated = board.debug is not None and board.debug.qemu is not None
    env.SetDefault(
        SPB_FLASHCOMSTR="FLASH   $SOURCE", SPB_RUNCOMSTR="RUN     $SOURCES", SPB_MONITORCOMSTR="MONITOR $PORT"
    )
    targets = [
        env.Alias("flash", [combined_hex], _wrap(_act_flash)),
        env.Alias("run", [combined_hex, boot_bin] if emulated else [], _wrap(_act_run)),
        env.Alias("monitor", [], _wrap(_act_monitor)),
    ]
    env.AlwaysBuild(targets)


def _act_repo(target: list[Node], source: list[Node], env: Environment) -> None:
    from .ota.repo import publish

    board: Board = env["SPB_BOARD"]
    out = env["SPB_BUILD"].Dir("repo").abspath
    store = env["SPB_RELEASES"].abspath
    report = publish(out, [(board, store)], _keys_from(env), encoding=env["PATCH_ENCODING"])
    files = len(report.manifest.files())
    print(f"spb: {board.name}: update repository {out}: {files} files, {len(report.written)} made (docs/ota.md)")


def _repo_target(env: Environment, release: Node | None) -> None:
    """`scons repo` (docs/ota.md): an alias, so a plain `scons` never publishes; after this build's release."""
    if env.get("_SPB_REPO_TARGET"):
        return
    env["_SPB_REPO_TARGET"] = True
    env.SetDefault(SPB_REPOCOMSTR="REPO    $SPB_BUILD/repo")
    env.AlwaysBuild(env.Alias("repo", [release] if release is not None else [], _wrap(_act_repo)))


def SpbFirmware(env: Environment, name: str, sources: Sources, **kwargs: Any) -> FirmwareOutputs:
    """Everything for one application: bootloader, app, .sfb and the combined manufacturing image.
    kwargs: construction variables for the application only (SpbApplication), never for the bootloader."""
    boot: BootloaderOutputs = env.SpbBootloader()
    app: FirmwareOutputs = env.SpbApplication(name, sources, **kwargs)  # "combined" and "bootloader" follow
    app["combined"] = env.SpbManufacturingImage(boot["elf"], app["elf"], name)
    app["bootloader"] = boot
    outputs = [
        app["sfb"],
        *app["sfbp"],
        app["bin"],
        app["size"],
        *app["combined"],
        boot["bin"],
        boot["hex"],
        boot["size"],
    ]
    if app["release"] is not None:
        outputs.append(app["release"])
    env.Alias(name, outputs)
    # `scons` builds "." by default: outputs outside the project (a BUILD_DIR or a RELEASES_DIR elsewhere,
    # e.g. a store shared by CI runs) would not be built. Name them, and "." so the rest still is.
    top = env.Dir("#").abspath
    outside = [node for node in outputs if os.path.relpath(node.abspath, top).startswith("..")]
    if outside:
        env.Default(".", outside)
    _device_targets(env, app["combined"][0], boot["bin"])
    _repo_target(env, app["release"])
    return app


def _boot_version() -> str:
    from . import __version__

    return __version__


def generate(env: Environment) -> None:
    _options(env)
    if env["CACHE_DIR"]:
        env.CacheDir(env.Dir(env["CACHE_DIR"]).abspath)
    _builders(env)
    _configure(env)
    # The signature database in the build directory (once the configuration is accepted: a refused build
    # leaves no BUILD_DIR): builds of different BUILD_DIRs of one project (boards, CI jobs, tests running in
    # parallel) never overwrite each other's signatures.
    SCons.Script.SConsignFile(os.path.join(env["SPB_BUILD"].abspath, ".sconsign"))
    env.AddMethod(SpbBootloader)
    env.AddMethod(SpbApplication)
    env.AddMethod(SpbManufacturingImage)
    env.AddMethod(SpbFirmware)
    env["_SPB_BASE"] = _Snapshot(env.Clone())


def exists(env: Environment) -> str | None:
    """The cross compiler's name when it is on the PATH (true), else None."""
    compiler: str | None = env.Detect(env.get("CROSS_PREFIX", "arm-none-eabi-") + "gcc")
    return compiler
