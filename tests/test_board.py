# SPDX-License-Identifier: Apache-2.0
"""Board files (docs/boards.md) and the generated header spb_board.h (docs/porting.md)."""

import copy
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from spb.board import FAMILIES, Sector, find_board, list_boards, load_board
from spb.board_header import render
from spb.errors import SpbError

REPO = Path(__file__).resolve().parents[1]
BOARDS = REPO / "boards"
SHIPPED = [
    "B-L072Z-LRWAN1",
    "B-L4S5I-IOT01A",
    "DISCO-F469I",
    "DISCO-F769I",
    "DISCO-H745I",
    "DISCO-L476G",
    "DISCO-L496G",
    "DISCO-L4R9I",
    "DISCO-L562E",
    "EMU-MPS2-AN385",
    "LORA-E5-DEV",
    "NUCLEO-F429ZI",
    "NUCLEO-G0B1RE",
    "NUCLEO-G474RE",
    "NUCLEO-L073RZ",
    "NUCLEO-L412KB",
    "NUCLEO-L452RE",
    "NUCLEO-L476RG",
    "NUCLEO-L496ZG",
    "NUCLEO-WL55JC",
]


# --------------------------------------------------------------------------------------------------
# A minimal TOML writer for test boards built as dicts


def _value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return hex(v) if v >= 0 else str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def to_toml(data):
    lines = [f"{k} = {_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for key, table in data.items():
        if isinstance(table, dict):
            lines.append(f"\n[{key}]")
            lines += [f"{k} = {_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


BASE = {
    "name": "TEST-BOARD",
    "family": "stm32l4",
    "cpu": "cortex-m4",
    "fpu": "fpv4-sp-d16",
    "vector_size": 0x200,
    "flash": {
        "base": 0x08000000,
        "size": 0x80000,
        "write_size": 8,
        "erased_value": 0xFF,
        "sectors": [{"size": 0x800, "count": 256}],
    },
    "ram": {"base": 0x20000000, "size": 0x28000},
    "bootloader": {"size": 0x10000, "ram_reserved": 0x1400},
    "slot0": {"address": 0x08010000, "size": 0x20000},
    "slot1": {"address": 0x08030000, "size": 0x20000},
    "clock": {"source": "MSI", "sysclk_hz": 80_000_000},
    "uart": {"instance": "USART2", "tx": {"pin": "PA2", "af": 7}, "rx": {"pin": "PA3", "af": 7}, "baud": 115200},
    "button": {"pin": "PC13", "active": "low"},
}

MULTISEG = {
    **copy.deepcopy(BASE),
    "flash": {
        "base": 0x08000000,
        "size": 0x200000,
        "write_size": 8,
        "erased_value": 0xFF,
        "sectors": [{"size": 0x1000, "count": 512}],
    },
    "bootloader": {"size": 0x15000, "ram_reserved": 0x1400},
    "slot0": {"address": 0x08015000, "size": 0x1EB000, "external": {"address": 0x90000000, "size": 0x400000}},
    "slot1": {"address": 0x90400000, "size": 0x5EB000},
    "external_flash": {
        "base": 0x90000000,
        "size": 0x4000000,
        "sector_size": 0x1000,
        "write_size": 2,
        "kind": "ospi",
        "chip": "MX25LM51245G",
    },
}

OSPI = copy.deepcopy(MULTISEG)
OSPI["external_flash"].update(
    {
        "instance": "OCTOSPI1",
        "port": 2,
        "clock_divider": 2,
        "pins": {
            "clk": {"pin": "PI6", "af": 5},
            "ncs": {"pin": "PG12", "af": 5},
            "io0": {"pin": "PI11", "af": 5},
            "io1": {"pin": "PI10", "af": 5},
            "io2": {"pin": "PI9", "af": 5},
            "io3": {"pin": "PH8", "af": 5},
        },
    }
)


def write_board(tmp_path, data, name=None):
    name = name or data.get("name", "TEST-BOARD")
    path = tmp_path / f"{name}.toml"
    path.write_text(to_toml(data))
    return path


DELETE = object()


def mutate(base, changes):
    """changes: {"a.b": value} sets, {"a.b": DELETE} removes."""
    data = copy.deepcopy(base)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        table = data
        for p in parents:
            table = table[p]
        if value is DELETE:
            del table[last]
        else:
            table[last] = value
    return data


# --------------------------------------------------------------------------------------------------
# Shipped boards


def test_shipped_boards_are_listed():
    assert list_boards(BOARDS) == SHIPPED


def test_board_table_in_the_docs_is_up_to_date():
    """docs/boards.md's table is rendered from boards/ (`spb board table --write docs/boards.md`)."""
    from spb.boardtable import END, START, render

    doc = (REPO / "docs" / "boards.md").read_text()
    table = doc[doc.index(START) : doc.index(END) + len(END)]
    assert table == render(BOARDS), "docs/boards.md: board table out of date: spb board table --write docs/boards.md"
    for name in SHIPPED:
        assert f"| {name} |" in table


def test_every_stm32_board_runs_under_the_silicon_harness():
    """The table says "silicon harness" for every STM32 board: each one must be in the silicon suite."""
    from silicon.support import ALL_BOARDS

    stm32 = [n for n in list_boards(BOARDS) if load_board(BOARDS / f"{n}.toml").family != "mps2"]
    assert sorted(stm32) == sorted(ALL_BOARDS)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_board_loads(name):
    board = load_board(find_board(name, BOARDS))
    assert board.name == name and board.family in FAMILIES
    assert board.path.name == f"{name}.toml"
    assert sum(s.size for s in board.flash.sectors) == board.flash.size
    assert board.flash.sectors[0].start == board.flash.base == board.bootloader.base
    assert all(a.end == b.start for a, b in zip(board.flash.sectors, board.flash.sectors[1:]))
    # The original's application RAM starts 0x1400..0x2700 bytes in (its reservation per board; the
    # bootloader's real use is checked against it in tests/silicon/test_boot.py).
    assert 0x1400 <= board.bootloader.ram_reserved <= 0x2700
    assert board.app_ram_base == board.ram.base + board.bootloader.ram_reserved
    assert board.app_vector_address == board.slot0.address + board.vector_size
    assert board.is_sector_start(board.slot0.address)
    assert board.digest() == load_board(board.path).digest()


@pytest.fixture(scope="module")
def f429():
    return load_board(BOARDS / "NUCLEO-F429ZI.toml")


def test_f429_geometry_and_helpers(f429):
    assert f429.flash.sector_groups == (
        (0x08000000, 0x4000, 4),
        (0x08010000, 0x10000, 1),
        (0x08020000, 0x20000, 7),
        (0x08100000, 0x4000, 4),
        (0x08110000, 0x10000, 1),
        (0x08120000, 0x20000, 7),
    )
    assert len(f429.flash.sectors) == 24 and f429.flash.bank2_base == 0x08100000
    assert f429.sector_at(0x08000000) == Sector(0x08000000, 0x4000)
    assert f429.sector_at(0x0801FFFF) == Sector(0x08010000, 0x10000)
    assert f429.sector_at(0x081FFFFF) == Sector(0x081E0000, 0x20000)
    assert f429.sector_at(0x08200000) is None and f429.sector_at(0x07FFFFFF) is None
    assert f429.is_sector_start(0x08020000) and not f429.is_sector_start(0x08021000)
    assert f429.sectors_in(0x08020000, 0x40000) == (Sector(0x08020000, 0x20000), Sector(0x08040000, 0x20000))
    assert f429.sectors_in(0x0800C000, 0x8000) == (Sector(0x0800C000, 0x4000), Sector(0x08010000, 0x10000))
    assert f429.sectors_in(0x08000000, 0) == ()
    assert (f429.slot0.address, f429.slot0.size, f429.slot1.address, f429.slot1.size) == (
        0x08020000,
        0x40000,
        0x08060000,
        0x40000,
    )
    assert not f429.single_slot and f429.slot0.external is None
    assert (f429.clock.source, f429.clock.hse_hz, f429.clock.hse_bypass, f429.clock.sysclk_hz) == (
        "HSE",
        8_000_000,
        True,
        168_000_000,
    )
    assert (f429.uart.instance, f429.uart.tx_pin, f429.uart.tx_af, f429.uart.rx_pin) == ("USART3", "PD8", 7, "PD9")
    assert f429.button.active == "high"
    assert f429.flags() == ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]
    assert f429.boot_flags() == ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft"]
    assert (f429.app_ram_base, f429.app_ram_size) == (0x20001400, 0x30000 - 0x1400)


def test_other_shipped_board_facts():
    l073 = load_board(BOARDS / "NUCLEO-L073RZ.toml")
    assert l073.flags() == ["-mcpu=cortex-m0plus", "-mthumb", "-mfloat-abi=soft"] and l073.fpu is None
    assert len(l073.flash.sectors) == 1536 and l073.flash.erased_value == 0x00
    assert l073.slot1.end == l073.flash.end == 0x08030000
    emu = load_board(BOARDS / "EMU-MPS2-AN385.toml")
    assert emu.family == "mps2" and emu.button is None and emu.uart.tx_pin is None and emu.uart.instance == "UART0"
    assert emu.bootloader.base == 0x21000000 and emu.flags()[0] == "-mcpu=cortex-m3"
    disco = load_board(BOARDS / "DISCO-L4R9I.toml")
    assert disco.slot0.external.address == 0x90000000 and disco.slot0.total_size == 0x5EB000
    assert disco.slot1.address == 0x90400000 and disco.external_flash.chip == "MX25LM51245G"


def test_single_slot_board(tmp_path):
    board = load_board(write_board(tmp_path, mutate(BASE, {"slot1": DELETE})))
    assert board.single_slot and board.slot1 is None
    header = render(board)
    assert re.search(r"#define SPB_SLOT1_SIZE\s+0u", header) and "#define SPB_SINGLE_SLOT" in header


def test_digest_and_to_dict(tmp_path):
    a = load_board(write_board(tmp_path, BASE))
    other_dir = tmp_path / "elsewhere"
    other_dir.mkdir()
    b = load_board(write_board(other_dir, BASE))
    assert a.digest() == b.digest() and a.to_dict() == b.to_dict()
    assert a.to_dict()["flash"]["sectors"] == [{"start": 0x08000000, "size": 0x800, "count": 256}]
    c = load_board(write_board(tmp_path / "elsewhere", mutate(BASE, {"uart.baud": 9600})))
    assert c.digest() != a.digest()


def test_find_board(tmp_path):
    assert find_board("NUCLEO-L452RE", BOARDS) == BOARDS / "NUCLEO-L452RE.toml"
    assert find_board("nucleo-l452re", BOARDS) == BOARDS / "NUCLEO-L452RE.toml"
    with pytest.raises(SpbError) as info:
        find_board("NUCLEO-L999", BOARDS)
    message = str(info.value)
    assert "NUCLEO-L999" in message and str(BOARDS) in message
    assert all(name in message for name in SHIPPED)
    with pytest.raises(SpbError, match="boards directory not found"):
        find_board("X", tmp_path / "missing")


# --------------------------------------------------------------------------------------------------
# The generated header


def _gcc(args, cwd):
    result = subprocess.run(["gcc", *args], cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result


CHECK_C = """\
#include <stdint.h>
#include "spb_board.h"
#include "spb_board.h" /* include guard */
struct group {{ uint32_t start, size, count; }};
static const struct group groups[] = SPB_FLASH_SECTOR_GROUPS;
_Static_assert(sizeof groups / sizeof groups[0] == SPB_FLASH_SECTOR_GROUP_COUNT, "group count");
static const char name[] = SPB_BOARD_NAME;
static const char family[] = SPB_FAMILY;
static const char uart[] = SPB_UART_NAME;
{asserts}
int check(void);
int check(void)
{{
    uint32_t addr = SPB_FLASH_BASE, sectors = 0;
    for (unsigned i = 0; i < SPB_FLASH_SECTOR_GROUP_COUNT; i++) {{
        if (groups[i].start != addr) return 1;
        addr += groups[i].size * groups[i].count;
        sectors += groups[i].count;
    }}
    return (addr != SPB_FLASH_BASE + SPB_FLASH_SIZE) + (sectors != SPB_FLASH_SECTOR_COUNT) +
           (name[0] == 0) + (family[0] == 0) + (uart[0] == 0);
}}
"""


def _static_asserts(board):
    """Static assertions tying the header's macros to the loaded board (all in C)."""
    checks = {
        "SPB_FLASH_BASE": board.flash.base,
        "SPB_FLASH_SIZE": board.flash.size,
        "SPB_FLASH_WRITE_SIZE": board.flash.write_size,
        "SPB_FLASH_ERASED_VALUE": board.flash.erased_value,
        "SPB_BOOT_BASE": board.bootloader.base,
        "SPB_BOOT_SIZE": board.bootloader.size,
        "SPB_VECTOR_SIZE": board.vector_size,
        "SPB_SLOT0_ADDR": board.slot0.address,
        "SPB_SLOT0_SIZE": board.slot0.size,
        "SPB_SLOT1_SIZE": board.slot1.size if board.slot1 else 0,
        "SPB_RAM_BASE": board.ram.base,
        "SPB_RAM_SIZE": board.ram.size,
        "SPB_BOOT_RAM_SIZE": board.bootloader.ram_reserved,
        "SPB_APP_RAM_BASE": board.app_ram_base,
        "SPB_SYSCLK_HZ": board.clock.sysclk_hz,
        "SPB_UART_BAUD": board.uart.baud,
        "SPB_UART_INSTANCE": int(re.search(r"\d+$", board.uart.instance).group()),
    }
    out = [f'_Static_assert({macro} == {value:#x}u, "{macro}");' for macro, value in checks.items()]
    out.append('_Static_assert(SPB_APP_RAM_BASE == SPB_RAM_BASE + SPB_BOOT_RAM_SIZE, "app ram");')
    out.append(
        f"#if !defined(SPB_FAMILY_{board.family.upper()}) || !SPB_FAMILY_{board.family.upper()}\n"
        f"#error family flag\n#endif"
    )
    cpu = board.cpu.upper().replace("-", "_")
    out.append(f"#if !defined(SPB_CPU_{cpu})\n#error cpu flag\n#endif")
    out.append(f"#if !defined(SPB_CLOCK_SOURCE_{board.clock.source})\n#error clock flag\n#endif")
    if board.button:
        out.append("#if !SPB_BUTTON_PRESENT\n#error button\n#endif")
        out.append(f'_Static_assert(SPB_BUTTON_ACTIVE_LOW == {int(board.button.active == "low")}, "polarity");')
    else:
        out.append("#ifdef SPB_BUTTON_PRESENT\n#error no button\n#endif")
    if board.external_flash:
        out.append(f'_Static_assert(SPB_EXT_FLASH_BASE == {board.external_flash.base:#x}u, "ext");')
    if board.slot0.external:
        out.append(f'_Static_assert(SPB_SLOT0_EXT_ADDR == {board.slot0.external.address:#x}u, "seg");')
    else:
        out.append("#ifdef SPB_SLOT0_EXT_ADDR\n#error no external segment\n#endif")
    return "\n".join(out)


@pytest.mark.parametrize("name", SHIPPED)
def test_header_compiles(name, tmp_path):
    board = load_board(BOARDS / f"{name}.toml")
    (tmp_path / "spb_board.h").write_text(render(board))
    (tmp_path / "check.c").write_text(CHECK_C.format(asserts=_static_asserts(board)))
    _gcc(["-std=c11", "-fsyntax-only", "-Wall", "-Wextra", "-Wundef", "-Werror", "-pedantic", "check.c"], tmp_path)


def test_header_is_deterministic_and_names_its_source(tmp_path):
    path = BOARDS / "NUCLEO-L452RE.toml"
    first = render(load_board(path))
    assert first == render(load_board(path))
    copy_dir = tmp_path / "copy"
    copy_dir.mkdir()
    shutil.copy(path, copy_dir / path.name)
    assert render(load_board(copy_dir / path.name)) == first  # no absolute paths in the output
    head = first.splitlines()[:4]
    assert "NUCLEO-L452RE.toml" in head[0] and "do not edit" in head[0]
    assert "#ifndef SPB_BOARD_H" in head and "#define SPB_BOARD_H" in head
    assert first.rstrip().endswith("#endif /* SPB_BOARD_H */")


PRINT_C = """\
#include <stdio.h>
#include "spb_board.h"
#define P(m) printf(#m "=%lu\\n", (unsigned long)(m))
int main(void)
{
    P(SPB_FLASH_BASE); P(SPB_FLASH_SIZE); P(SPB_FLASH_WRITE_SIZE); P(SPB_FLASH_ERASED_VALUE);
    P(SPB_FLASH_SECTOR_GROUP_COUNT); P(SPB_FLASH_SECTOR_COUNT); P(SPB_FLASH_BANK2_BASE);
    P(SPB_BOOT_BASE); P(SPB_BOOT_SIZE); P(SPB_VECTOR_SIZE); P(SPB_SLOT0_ADDR); P(SPB_SLOT0_SIZE);
    P(SPB_SLOT1_ADDR); P(SPB_SLOT1_SIZE); P(SPB_RAM_BASE); P(SPB_RAM_SIZE); P(SPB_BOOT_RAM_SIZE);
    P(SPB_APP_RAM_BASE); P(SPB_SYSCLK_HZ); P(SPB_HSE_HZ); P(SPB_HSE_BYPASS); P(SPB_CLOCK_SOURCE_HSE);
    P(SPB_FAMILY_STM32F4); P(SPB_CPU_CORTEX_M4); P(SPB_FPU_PRESENT);
    P(SPB_UART_INSTANCE); P(SPB_UART_BAUD); P(SPB_UART_TX_PORT); P(SPB_UART_TX_PIN); P(SPB_UART_TX_AF);
    P(SPB_UART_RX_PORT); P(SPB_UART_RX_PIN); P(SPB_UART_RX_AF);
    P(SPB_BUTTON_PRESENT); P(SPB_BUTTON_PORT); P(SPB_BUTTON_PIN); P(SPB_BUTTON_ACTIVE_LOW);
    static const struct { unsigned long start, size, count; } g[] = SPB_FLASH_SECTOR_GROUPS;
    for (unsigned i = 0; i < SPB_FLASH_SECTOR_GROUP_COUNT; i++)
        printf("group=%lx,%lx,%lu\\n", g[i].start, g[i].size, g[i].count);
    printf("name=%s family=%s uart=%s\\n", SPB_BOARD_NAME, SPB_FAMILY, SPB_UART_NAME);
#if defined(SPB_UART_IS_LPUART) || defined(SPB_UART_IS_UART) || defined(SPB_EXT_FLASH_PRESENT) || \\
    defined(SPB_SLOT0_EXT_ADDR) || defined(SPB_CLOCK_SOURCE_MSI) || defined(SPB_FAMILY_STM32L4) || \\
    defined(SPB_SINGLE_SLOT)
    puts("unexpected flag");
#endif
    return 0;
}
"""


def test_header_values_nucleo_f429zi(tmp_path, f429):
    """Compile and run a host program printing every macro of the F429ZI header; compare with the spec."""
    (tmp_path / "spb_board.h").write_text(render(f429))
    (tmp_path / "print.c").write_text(PRINT_C)
    _gcc(["-std=c11", "-Wall", "-Wextra", "-Werror", "-o", "print", "print.c"], tmp_path)
    out = subprocess.run([str(tmp_path / "print")], capture_output=True, text=True, check=True).stdout
    values = dict(line.split("=", 1) for line in out.splitlines() if line.startswith("SPB_"))
    expected = {
        "SPB_FLASH_BASE": 0x08000000,
        "SPB_FLASH_SIZE": 0x200000,
        "SPB_FLASH_WRITE_SIZE": 4,
        "SPB_FLASH_ERASED_VALUE": 0xFF,
        "SPB_FLASH_SECTOR_GROUP_COUNT": 6,
        "SPB_FLASH_SECTOR_COUNT": 24,
        "SPB_FLASH_BANK2_BASE": 0x08100000,
        "SPB_BOOT_BASE": 0x08000000,
        "SPB_BOOT_SIZE": 0x20000,
        "SPB_VECTOR_SIZE": 0x200,
        "SPB_SLOT0_ADDR": 0x08020000,
        "SPB_SLOT0_SIZE": 0x40000,
        "SPB_SLOT1_ADDR": 0x08060000,
        "SPB_SLOT1_SIZE": 0x40000,
        "SPB_RAM_BASE": 0x20000000,
        "SPB_RAM_SIZE": 0x30000,
        "SPB_BOOT_RAM_SIZE": 0x1400,
        "SPB_APP_RAM_BASE": 0x20001400,
        "SPB_SYSCLK_HZ": 168_000_000,
        "SPB_HSE_HZ": 8_000_000,
        "SPB_HSE_BYPASS": 1,
        "SPB_CLOCK_SOURCE_HSE": 1,
        "SPB_FAMILY_STM32F4": 1,
        "SPB_CPU_CORTEX_M4": 1,
        "SPB_FPU_PRESENT": 1,
        "SPB_UART_INSTANCE": 3,
        "SPB_UART_BAUD": 115200,
        "SPB_UART_TX_PORT": 3,
        "SPB_UART_TX_PIN": 8,
        "SPB_UART_TX_AF": 7,
        "SPB_UART_RX_PORT": 3,
        "SPB_UART_RX_PIN": 9,
        "SPB_UART_RX_AF": 7,
        "SPB_BUTTON_PRESENT": 1,
        "SPB_BUTTON_PORT": 2,
        "SPB_BUTTON_PIN": 13,
        "SPB_BUTTON_ACTIVE_LOW": 0,
    }
    assert {k: int(v) for k, v in values.items()} == expected
    assert re.findall(r"group=(.*)", out) == [
        "8000000,4000,4",
        "8010000,10000,1",
        "8020000,20000,7",
        "8100000,4000,4",
        "8110000,10000,1",
        "8120000,20000,7",
    ]
    assert "name=NUCLEO-F429ZI family=stm32f4 uart=USART3" in out
    assert "unexpected flag" not in out


def test_header_uart_kinds_and_literal_style(tmp_path):
    header = render(load_board(write_board(tmp_path, mutate(BASE, {"uart.instance": "LPUART1"}))))
    assert re.search(r"#define SPB_UART_IS_LPUART\s+1\b", header)
    assert re.search(r"#define SPB_UART_INSTANCE\s+1u\b", header) and "SPB_UART_IS_UART" not in header
    assert re.search(r"#define SPB_FLASH_BASE\s+0x08000000u\b", header)
    emu = render(load_board(BOARDS / "EMU-MPS2-AN385.toml"))
    assert re.search(r"#define SPB_UART_IS_UART\s+1\b", emu) and "SPB_UART_TX_PORT" not in emu
    disco = render(load_board(BOARDS / "DISCO-L4R9I.toml"))
    assert re.search(r"#define SPB_SLOT0_EXT_SIZE\s+0x00400000u", disco)
    assert re.search(r"#define SPB_EXT_FLASH_SECTOR_SIZE\s+0x00001000u", disco)


# --------------------------------------------------------------------------------------------------
# Bad board files: one specific error each, naming the file and the key


BAD = [
    # (id, base, changes, key, message regex)
    ("typo-top", BASE, {"vector_sise": 0x200}, "vector_sise", r"unknown key; did you mean 'vector_size'"),
    ("typo-table", BASE, {"flash.write_sze": 8}, "flash.write_sze", r"unknown key; did you mean 'write_size'"),
    ("typo-inline", BASE, {"uart.tx": {"pin": "PA2", "alt": 7}}, "uart.tx.alt", r"unknown key"),
    ("unknown-table", BASE, {"usb": {"enabled": True}}, "usb", r"unknown key"),
    ("missing-key", BASE, {"ram.size": DELETE}, "ram.size", r"missing \(required key\)"),
    ("missing-table", BASE, {"clock": DELETE}, "clock", r"missing \(required table\)"),
    ("missing-top", BASE, {"vector_size": DELETE}, "vector_size", r"missing"),
    ("type-str-for-int", BASE, {"flash.size": "0x80000"}, "flash.size", r"must be an integer, not a string"),
    ("type-bool-for-int", BASE, {"uart.baud": True}, "uart.baud", r"must be an integer, not a boolean"),
    ("type-float", BASE, {"clock.sysclk_hz": 80e6}, "clock.sysclk_hz", r"must be an integer, not a float"),
    ("type-int-for-str", BASE, {"family": 4}, "family", r"must be a string"),
    ("type-table", BASE, {"ram": 5}, "ram", r"must be a table"),
    (
        "type-bool",
        BASE,
        {"clock.source": "HSE", "clock.hse_hz": 8_000_000, "clock.hse_bypass": 1},
        "clock.hse_bypass",
        r"must be true or false",
    ),
    ("negative", BASE, {"ram.base": -8}, "ram.base", r"out of range"),
    ("unknown-family", BASE, {"family": "stm32h5"}, "family", r"unknown family 'stm32h5' \(allowed: .*stm32l4"),
    ("unknown-cpu", BASE, {"cpu": "cortex-m85"}, "cpu", r"unknown cpu 'cortex-m85'"),
    (
        "cpu-not-in-family",
        BASE,
        {"cpu": "cortex-m0plus", "fpu": DELETE},
        "cpu",
        r"'cortex-m0plus' does not belong to family stm32l4",
    ),
    (
        "fpu-on-m0",
        mutate(BASE, {"family": "stm32l0", "cpu": "cortex-m0plus", "fpu": DELETE}),
        {"fpu": "fpv4-sp-d16"},
        "fpu",
        r"'fpv4-sp-d16' is not available on cortex-m0plus",
    ),
    (
        "sectors-sum",
        BASE,
        {"flash.sectors": [{"size": 0x800, "count": 255}]},
        "flash.sectors",
        r"add up to 0x7f800 bytes but flash.size is 0x80000",
    ),
    ("sectors-empty", BASE, {"flash.sectors": []}, "flash.sectors", r"non-empty array"),
    ("sector-typo", BASE, {"flash.sectors": [{"size": 0x800, "cnt": 256}]}, "flash.sectors[0].cnt", r"unknown key"),
    (
        "sector-count-zero",
        BASE,
        {"flash.sectors": [{"size": 0x800, "count": 0}]},
        "flash.sectors[0].count",
        r"out of range",
    ),
    (
        "boot-overlaps-slot0",
        BASE,
        {"slot0.address": 0x08008000, "slot0.size": 0x28000},
        "slot0.address",
        r"SLOT0 \[0x08008000, 0x08030000\) overlaps bootloader \[0x08000000, 0x08010000\)",
    ),
    ("slot1-overlaps-slot0", BASE, {"slot1.address": 0x08020000}, "slot1.address", r"SLOT1 .* overlaps SLOT0"),
    ("slot-past-end", BASE, {"slot1.address": 0x08070000}, "slot1.size", r"runs past the end of flash at 0x08080000"),
    ("slot-before-base", BASE, {"slot0.address": 0x07FF0000}, "slot0.address", r"SLOT0 at 0x07FF0000 is outside flash"),
    ("slot-outside", BASE, {"slot1.address": 0x09000000}, "slot1.address", r"is outside flash"),
    ("boot-past-end", BASE, {"bootloader.size": 0x100000}, "bootloader.size", r"runs past the end of flash"),
    ("boot-unaligned", BASE, {"bootloader.size": 0x10400}, "bootloader.size", r"must end on a sector boundary"),
    (
        "slot-start-unaligned",
        BASE,
        {"slot1.address": 0x08030400, "slot1.size": 0x20000 - 0x400},
        "slot1.address",
        r"inside the erase sector \[0x08030000, 0x08030800\): a slot must start at a sector start",
    ),
    ("slot-end-unaligned", BASE, {"slot1.size": 0x20400}, "slot1.size", r"a slot must end at a sector end"),
    (
        "slot0-vector-align",
        BASE,
        {"vector_size": 0x1000, "slot0.address": 0x08010800, "slot0.size": 0x1F800},
        "slot0.address",
        r"multiple of vector_size",
    ),
    ("slot1-too-small", BASE, {"slot1.size": 0x10000}, "slot1.size", r"smaller than SLOT0"),
    ("vector-not-pow2", BASE, {"vector_size": 0x300}, "vector_size", r"power of two >= 0x200"),
    ("vector-too-small", BASE, {"vector_size": 0x100}, "vector_size", r"power of two >= 0x200"),
    ("write-size", BASE, {"flash.write_size": 2}, "flash.write_size", r"2 is not a supported programming unit"),
    ("write-size-64", BASE, {"flash.write_size": 64}, "flash.write_size", r"allowed: 4, 8, 16, 32"),
    ("erased-value", BASE, {"flash.erased_value": 0x7F}, "flash.erased_value", r"0xFF or 0x00"),
    (
        "ram-reserved-too-big",
        BASE,
        {"bootloader.ram_reserved": 0x30000},
        "bootloader.ram_reserved",
        r"smaller than RAM",
    ),
    ("ram-reserved-unaligned", BASE, {"bootloader.ram_reserved": 0x1404}, "bootloader.ram_reserved", r"multiple of 8"),
    (
        "ext-segment-outside",
        MULTISEG,
        {"slot0.external.size": 0x5000000},
        "slot0.external",
        r"segment \[0x90000000, 0x95000000\) is outside external_flash",
    ),
    (
        "ext-segment-no-ext-flash",
        BASE,
        {"slot0.external": {"address": 0x90000000, "size": 0x1000}},
        "slot0.external",
        r"needs an \[external_flash\] table",
    ),
    (
        "ext-segment-unaligned",
        MULTISEG,
        {"slot0.external.size": 0x3FF800},
        "slot0.external.size",
        r"not a multiple of the external flash sector size",
    ),
    (
        "ext-slot1-past-end",
        MULTISEG,
        {"slot1.address": 0x93C00000},
        "slot1.size",
        r"runs past the end of external flash",
    ),
    (
        "ext-overlap",
        MULTISEG,
        {"slot1.address": 0x90200000},
        "slot1.address",
        r"SLOT1 .* overlaps SLOT0 external segment",
    ),
    ("ext-kind", MULTISEG, {"external_flash.kind": "emmc"}, "external_flash.kind", r"unknown external flash kind"),
    ("uart-pin", BASE, {"uart.tx": {"pin": "A2", "af": 7}}, "uart.tx.pin", r"'A2' is not a GPIO pin like \"PA2\""),
    ("uart-pin-16", BASE, {"uart.rx": {"pin": "PA16", "af": 7}}, "uart.rx.pin", r"not a GPIO pin"),
    ("uart-af", BASE, {"uart.rx": {"pin": "PA3", "af": 16}}, "uart.rx.af", r"out of range"),
    ("uart-instance", BASE, {"uart.instance": "SPI1"}, "uart.instance", r"'SPI1' is not a UART instance"),
    (
        "uart-kind-family",
        mutate(BASE, {"family": "stm32f4", "clock.source": "HSI"}),
        {"uart.instance": "LPUART1"},
        "uart.instance",
        r"LPUART peripherals are not supported on family stm32f4",
    ),
    ("uart-missing-pins", BASE, {"uart.tx": DELETE}, "uart.tx", r"missing"),
    ("button-pin", BASE, {"button.pin": "PC99"}, "button.pin", r"not a GPIO pin"),
    (
        "button-polarity",
        BASE,
        {"button.active": "falling"},
        "button.active",
        r"unknown button polarity 'falling' \(allowed: low, high\)",
    ),
    ("clock-source", BASE, {"clock.source": "PLL"}, "clock.source", r"unknown clock source 'PLL'"),
    ("clock-source-family", BASE, {"clock.source": "EXT"}, "clock.source", r"not supported on family stm32l4"),
    ("hse-without-hz", BASE, {"clock.source": "HSE"}, "clock.hse_hz", r"required when source = \"HSE\""),
    ("hse-hz-with-msi", BASE, {"clock.hse_hz": 8_000_000}, "clock.hse_hz", r"only allowed with source = \"HSE\""),
    ("bank2", BASE, {"flash.bank2_base": 0x08040400}, "flash.bank2_base", r"start of a sector"),
    ("bad-name", BASE, {"name": "my board"}, "name", r"not a valid board name"),
    ("mcu-family", BASE, {"mcu": "STM32F429ZIT6"}, "mcu", r"not a stm32l4 part"),
    ("mcu-bad", BASE, {"mcu": "L452 RE"}, "mcu", r"not a part number"),
    (
        "ospi-window",
        OSPI,
        {"external_flash.instance": "OCTOSPI2"},
        "external_flash.base",
        r"not the memory-mapped window of OCTOSPI2",
    ),
    ("ospi-pins-missing", OSPI, {"external_flash.pins": DELETE}, "external_flash.pins", r"missing"),
    ("ospi-pin-missing", OSPI, {"external_flash.pins.clk": DELETE}, "external_flash.pins.clk", r"missing"),
    ("ospi-port", OSPI, {"external_flash.port": 3}, "external_flash.port", r"out of range"),
    ("ospi-kind", OSPI, {"external_flash.kind": "qspi"}, "external_flash.port", r'only with kind = "ospi"'),
    (
        "qspi-family",
        OSPI,
        {"external_flash.kind": "qspi", "external_flash.port": DELETE},
        "external_flash.instance",
        r"QUADSPI driver exists for families .*stm32f4",
    ),
    ("spi-driver", OSPI, {"external_flash.kind": "spi"}, "external_flash.instance", r'"ospi" or "qspi"'),
    (
        "ospi-pin-af",
        OSPI,
        {"external_flash.pins.ncs": {"pin": "PG12", "af": 16}},
        "external_flash.pins.ncs.af",
        r"out of range",
    ),
]


@pytest.mark.parametrize("base, changes, key, pattern", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_board(tmp_path, base, changes, key, pattern):
    # The base itself is valid: the error comes from the change alone.
    (tmp_path / "ok").mkdir()
    load_board(write_board(tmp_path / "ok", base))
    path = write_board(tmp_path, mutate(base, changes), name=base["name"])
    with pytest.raises(SpbError) as info:
        load_board(path)
    error = info.value
    assert error.path == str(path)
    assert error.problem.startswith(f"{key}: "), error.problem
    assert re.search(pattern, error.problem), error.problem
    assert str(path) in str(error)


def test_name_must_match_file_name(tmp_path):
    path = write_board(tmp_path, BASE, name="OTHER-BOARD")
    with pytest.raises(SpbError) as info:
        load_board(path)
    assert info.value.path == str(path)
    assert info.value.problem.startswith("name: ")
    assert "'TEST-BOARD'" in info.value.problem and 'name = "OTHER-BOARD"' in info.value.problem


def test_mps2_uart_pins_optional_but_stm32_requires_them(tmp_path):
    emu = load_board(BOARDS / "EMU-MPS2-AN385.toml")
    assert not emu.uart.has_pins
    with pytest.raises(SpbError, match=r"uart.tx: missing"):
        load_board(write_board(tmp_path, mutate(BASE, {"uart.rx": DELETE, "uart.tx": DELETE})))


def test_invalid_toml_and_missing_file(tmp_path):
    path = tmp_path / "BROKEN.toml"
    path.write_text('name = "BROKEN"\n[flash\n')
    with pytest.raises(SpbError) as info:
        load_board(path)
    assert info.value.path == str(path) and "invalid TOML" in info.value.problem
    with pytest.raises(SpbError, match="board file not found"):
        load_board(tmp_path / "NOPE.toml")


def test_duplicate_names_by_case(tmp_path):
    write_board(tmp_path, BASE)
    write_board(tmp_path, mutate(BASE, {"name": "test-board"}))
    if len(list(tmp_path.glob("*.toml"))) < 2:
        pytest.skip("case-insensitive file system")
    with pytest.raises(SpbError, match="differ only in case"):
        list_boards(tmp_path)


def test_board_table_command_rewrites_only_the_table(tmp_path, capsys):
    from spb.boardtable import END, START
    from spb.cli import main

    doc = tmp_path / "boards.md"
    doc.write_text(f"# Title\n\n{START}\nstale\n{END}\n\nkept\n")
    assert main(["board", "table", "--write", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("# Title\n\n") and text.endswith("\n\nkept\n") and "stale" not in text
    assert "| NUCLEO-L452RE | STM32L452RET6 |" in text
    assert main(["board", "table", "--write", str(doc)]) == 0
    assert "up to date" in capsys.readouterr().out


def test_journal_outside_a_single_unit_bootloader(tmp_path):
    """bootloader.journal: a bootloader of one erase unit (DISCO-H745I: one 128 KiB sector) keeps its install
    journal in an internal sector outside its region; the key is refused where it cannot hold the journal."""
    one_unit = mutate(BASE, {"bootloader.size": 0x800, "slot0.address": 0x08010000, "slot0.size": 0x20000})
    with pytest.raises(SpbError, match="single erase unit"):
        load_board(write_board(tmp_path, one_unit))
    good = mutate(one_unit, {"bootloader.journal": 0x0807F800})
    board = load_board(write_board(tmp_path, good))
    assert (board.bootloader.journal_address, board.bootloader.journal_size) == (0x0807F800, 0x800)
    assert board.bootloader.code_size == 0x800  # the whole region holds code
    bad = [
        (mutate(good, {"bootloader.journal": 0x08000000}), "outside the bootloader"),
        (mutate(good, {"bootloader.journal": 0x0807F900}), "must start an internal flash sector"),
        (mutate(good, {"bootloader.journal": 0x08031000}), "SLOT1 .* overlaps install journal"),
        (mutate(BASE, {"bootloader.journal": 0x0807F800}), "only for a bootloader of one erase unit"),
    ]
    for data, pattern in bad:
        with pytest.raises(SpbError, match=pattern):
            load_board(write_board(tmp_path, data))
