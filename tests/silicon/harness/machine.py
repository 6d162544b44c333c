# SPDX-License-Identifier: Apache-2.0
"""The machine: a board's part (soc.py) around the Cortex-M core (cortexm.py), running the real firmware.

Memory: the internal flash array (flashcells.py) is mapped read/execute at its base and at the boot
alias 0x0000_0000 (BOOT0 = 0: "main flash memory is aliased in the boot memory space", RM0394 2.6,
RM0090 2.4, RM0367 2.4; on the F7 at 0x0020_0000, its flash on the ITCM interface, where BOOT_ADD0 points:
RM0410 2.4, soc.Part.boot_alias); stores into it are caught (UC_HOOK_MEM_WRITE_PROT) and handed to the flash
controller, which decides what, if anything, the cells do. SRAM is mapped as the board file says; every
peripheral block is an MMIO window answered by its model; everything else is unmapped and faults, as a
bus access to nothing does on silicon.

Reset: `power_on()` is a power-on reset (SRAM filled with random bytes, every register at its reset
value), `system_reset()` the reset SYSRESETREQ triggers (SRAM keeps its contents, as on silicon;
registers reset). Both fetch SP and PC from the vector table at 0x0000_0000.

Running: `run()` executes in slices that end at the next SysTick event, delivers pending exceptions
between slices, restarts the binary on a SYSRESETREQ, and stops when the code under test reaches the
application (the first instruction executed inside SLOT0), when the console shows a text, at a power
cut, at a lockup, after too many resets without reaching the application (a boot loop), or after a
cycle budget.
"""

from __future__ import annotations

import ctypes
import random
import re
import struct
from dataclasses import dataclass

from unicorn import (
    UC_HOOK_BLOCK,
    UC_HOOK_CODE,
    UC_HOOK_INTR,
    UC_HOOK_MEM_READ,
    UC_HOOK_MEM_UNMAPPED,
    UC_HOOK_MEM_WRITE,
    UC_HOOK_MEM_WRITE_PROT,
    UC_PROT_EXEC,
    UC_PROT_READ,
    UcError,
)
from unicorn import arm_const as A
from unicorn import unicorn_const as U

from . import cortexm
from .cortexm import BUSFAULT, HARDFAULT, MEMMANAGE, SVCALL, USAGEFAULT, CortexM, Lockup
from .power import Power
from .soc import build

SLICE = 200_000  # longest slice without a timer event (instructions)
PAGE = 0x400  # Unicorn's page size on ARM


def _page_up(n: int) -> int:
    return (n + PAGE - 1) & ~(PAGE - 1)


@dataclass
class AppEntry:
    pc: int
    msp: int
    vtor: int
    cycles: int


@dataclass
class RunResult:
    reason: str  # app / console / cut / lockup / loop / timeout / stuck
    cycles: int
    resets: int
    app: AppEntry | None = None
    detail: str = ""
    instructions: int | None = None

    def __bool__(self) -> bool:  # pragma: no cover - guard against `assert m.run()`
        raise TypeError("test RunResult.reason, not the result itself")


@dataclass
class _Pending:
    error: BaseException | None = None
    unmapped: tuple | None = None


class Machine:
    def __init__(self, board, *, seed: int = 0):
        self.board = board
        self.soc = build(board)
        self.core = CortexM(self.soc.cpu)
        self.uc = self.core.uc
        self.rcc = self.soc.rcc
        self.power = Power(on_cut=self.request_stop)
        self.seed = seed
        self.boots = 0
        self.cycles = 0
        self.hclk_hz = 4e6
        self.console = bytearray()
        self.violations: list = []
        self.events: list = []
        self.app_entry: AppEntry | None = None
        self.count_instructions = False
        self.instructions = 0
        self._stop = False
        self._idle = False
        self._ecc_hit: int | None = None
        self._ecc_address = 0  # the address of the load that hit it (a precise bus error reports it in BFAR)
        self._ecc_stepping = False
        self._pending = _Pending()
        self._callbacks: list = []
        self._hooks: dict = {}
        self._ecc_dirty = True
        self._tb_dirty: dict = {}
        self._block_sizes: dict = {}
        self._fw = None  # the Firewall model once software enabled it (firewall.py)
        self._fw_flush = False
        self.firewall_resets = 0
        # Cortex-M7 L1 data cache: a stale-line check, not a cache (see _dcache_arm)
        self.dcache_lines: set = set()  # 32-byte lines of flash a load brought into the cache
        self.dcache_stale: set = set()  # of those, lines the flash changed under since
        self.dcache_checks = 0  # by-address invalidations the firmware performed while the cache was on
        self._map_memory()
        for p in [self.core, *self.soc.peripherals]:
            p.attach(self)
            self._map_mmio(p)
        for ext in self.soc.externals:
            ext.attach(self)
        self.soc.cells.on_poison_change = self._poison_changed
        self._install_hooks()

    # -- construction --------------------------------------------------------------------------------------
    def _map_memory(self) -> None:
        cells = self.soc.cells
        ptr = ctypes.addressof(cells.buffer)
        size = _page_up(cells.size)
        self.boot_alias = self.soc.part.boot_alias  # 0, or 0x0020_0000 on the F7 (ITCM flash, BOOT_ADD0)
        self.uc.mem_map_ptr(cells.base, size, UC_PROT_READ | UC_PROT_EXEC, ptr)
        if self.boot_alias != cells.base:
            self.uc.mem_map_ptr(self.boot_alias, size, UC_PROT_READ | UC_PROT_EXEC, ptr)
        # Unicorn 2.1 quirk: the first CPU store into a page of mem_map_ptr memory that Unicorn itself
        # never wrote lands in memory even when the WRITE_PROT hook handles it (QEMU's dirty-page path
        # performs it). Writing every page once through Unicorn makes the hook authoritative
        # (test_models.py::test_cpu_stores_into_flash_only_go_through_the_controller checks it).
        contents = bytes(cells.mem)
        self.uc.mem_write(cells.base, contents)
        if self.boot_alias != cells.base:
            self.uc.mem_write(self.boot_alias, contents)
        base, size = self.soc.ram
        self.uc.mem_map(base, _page_up(size))
        self.ram = (base, size)

    def _map_mmio(self, p) -> None:
        mask = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFFFFFF}

        def read(uc, offset, size, _):
            try:
                if self.power.dead:
                    return 0
                return p.bus_read(offset, size) & mask.get(size, 0xFFFFFFFF)
            except Lockup:
                self.request_stop()
            except Exception as exc:  # keep Unicorn out of Python errors; re-raised by run()
                self._fail(exc)
            return 0

        def write(uc, offset, size, value, _):
            try:
                if self.power.dead:
                    return
                p.bus_write(offset, size, value & mask.get(size, 0xFFFFFFFF))
            except Lockup:
                self.request_stop()
            except Exception as exc:
                self._fail(exc)

        self._callbacks += [read, write]
        self.uc.mmio_map(p.base, p.size, read, None, write, None)

    def _install_hooks(self) -> None:
        cells = self.soc.cells
        self.uc.hook_add(UC_HOOK_MEM_WRITE_PROT, self._flash_store, begin=cells.base, end=cells.base + cells.size - 1)
        if self.boot_alias != cells.base:
            alias = self.boot_alias
            self.uc.hook_add(UC_HOOK_MEM_WRITE_PROT, self._alias_store, begin=alias, end=alias + cells.size - 1)
        self.uc.hook_add(UC_HOOK_INTR, self._intr)
        self.uc.hook_add(UC_HOOK_MEM_UNMAPPED, self._unmapped)

    # -- model services ---------------------------------------------------------------------------------------
    def violation(self, text: str) -> None:
        entry = f"[{self.cycles}] {text}"
        self.violations.append(entry)
        self.events.append("VIOLATION " + entry)

    def event(self, text: str) -> None:
        self.events.append(f"[{self.cycles}] {text}")
        if len(self.events) > 5000:
            del self.events[:1000]

    def request_stop(self) -> None:
        """Stop at the next opportunity. Called inside a memory access callback (an MMIO model, a flash
        store), Unicorn abandons that access and executes it again when the run resumes, so models that
        stop the run make such accesses idempotent: the reasons they stop are final (a power cut, a
        reset request) or repeat harmlessly (an idle status poll, a bus error on a locked register).
        ECC errors use a step instead (_ecc_read)."""
        self._stop = True
        self.uc.emu_stop()

    def _fail(self, exc: BaseException) -> None:
        if self._pending.error is None:
            self._pending.error = exc
        self.request_stop()

    def idle(self) -> None:
        """A model saw software spin waiting for input: skip to the next timer event (run loop)."""
        self._idle = True
        self.request_stop()

    def stall(self, seconds: float) -> None:
        """The CPU waits for the flash: time passes without instructions."""
        self.cycles += int(seconds * self.hclk_hz)

    def clock_changed(self) -> None:
        self.hclk_hz = self.rcc.hclk_hz() or 1.0

    def console_out(self, byte: int) -> None:
        self.console.append(byte)

    def flash_changed(self, address: int, length: int) -> None:
        """Code translated from [address, address + length) is stale: dropped before the next slice.
        Ranges are merged per 1 MiB region only, so internal and external flash stay apart."""
        region = address >> 20
        lo, hi = self._tb_dirty.get(region, (address, address + length))
        self._tb_dirty[region] = (min(lo, address), max(hi, address + length))
        if self.dcache_lines:
            first, last = address & ~31, address + length
            self.dcache_stale.update(line for line in self.dcache_lines if first <= line < last)

    # -- Cortex-M7 data cache: stale lines ------------------------------------------------------------------
    # With SCB_CCR.DC set, loads from internal flash (write-through) and the external flash windows (write-back
    # in the default memory map) allocate cache lines. The machine keeps no cache contents (loads always see
    # the memory) but remembers which 32-byte lines were loaded; a flash operation under such a line makes it
    # stale, a by-address clean/invalidate (DCIMVAC, DCCIMVAC: cortexm.py) drops it, and a load of a stale
    # line is a violation: on silicon it returns the old contents. A store that programs internal flash
    # counts as a change too (the write-through update of a cached line is not modelled: conservative).
    def dcache_invalidated(self, line: int, length: int) -> None:
        self.dcache_checks += 1
        self.dcache_lines.discard(line)
        self.dcache_stale.discard(line)

    def _dcache_arm(self) -> None:
        on = self.core.cpu == "cortex-m7" and bool(self.core.ccr >> 16 & 1)
        if on == ("dcache" in self._hooks):
            return
        self._drop_hook("dcache")
        self.dcache_lines.clear()
        self.dcache_stale.clear()
        if on:
            cells = self.soc.cells
            ranges = [(cells.base, cells.size)] + [(ext.base, ext.size) for ext in self.soc.externals]
            self._hooks["dcache"] = [
                self.uc.hook_add(UC_HOOK_MEM_READ, self._dcache_read, begin=lo, end=lo + n - 1) for lo, n in ranges
            ]

    def _dcache_read(self, uc, access, address, size, value, _):
        for line in {address & ~31, (address + size - 1) & ~31}:
            if line in self.dcache_stale and not self.power.dead:
                self.violation(
                    f"load from {address:#010x}: its data cache line was loaded before the flash changed under "
                    f"it and never cleaned/invalidated (DCCIMVAC): the CPU reads the old contents"
                )
                self.dcache_stale.discard(line)
            self.dcache_lines.add(line)

    def _poison_changed(self) -> None:
        self._ecc_dirty = True

    # -- programmer / probes -----------------------------------------------------------------------------------
    def load(self, address: int, data: bytes) -> None:
        """Write memory as a programmer (ST-LINK) would, outside the flash rules."""
        cells = self.soc.cells
        if cells.contains(address, len(data)):
            cells.load(address, data)
            return
        for ext in self.soc.externals:
            if ext.contains(address, len(data)):
                ext.load(address, data)
                return
        raise ValueError(f"{address:#x}+{len(data):#x} is in no flash of {self.board.name}")

    def load_hex(self, path) -> None:
        from intelhex import IntelHex

        ih = IntelHex(str(path))
        for start, end in ih.segments():
            self.load(start, ih.tobinstr(start=start, end=end - 1))

    def read(self, address: int, length: int) -> bytes:
        cells = self.soc.cells
        if cells.contains(address, length):
            return cells.read(address, length)
        for ext in self.soc.externals:
            if ext.contains(address, length):
                return ext.read(address, length)
        return bytes(self.uc.mem_read(address, length))

    def feed(self, data: bytes) -> None:
        """Bytes the host sends to the console UART."""
        self.soc.uart.feed(bytes(data))

    def set_pin(self, name: str, level: int | None) -> None:
        """Drive a pin from the board (a button); None releases it."""
        gpio = self.soc.gpios[name[1]]
        pin = int(name[2:])
        if level is None:
            gpio.external.pop(pin, None)
        else:
            gpio.external[pin] = int(level)

    def press_button(self, pressed: bool = True) -> None:
        b = self.board.button
        if b is None:
            raise ValueError(f"{self.board.name} has no button")
        self.set_pin(b.pin, (0 if b.active == "low" else 1) if pressed else None)

    def console_text(self) -> str:
        return self.console.decode("latin-1")

    def snapshot(self) -> tuple:
        """Non-volatile state: what survives a power cut (flash cells, external chips, option bytes)."""
        options = getattr(self.soc.flash, "options", None)
        return (
            self.soc.cells.snapshot(),
            tuple(ext.snapshot() for ext in self.soc.externals),
            None if options is None else options.snapshot(),
        )

    def restore(self, state: tuple) -> None:
        cells, exts, *rest = state
        self.soc.cells.restore(cells)
        for ext, s in zip(self.soc.externals, exts):
            ext.restore(s)
        if rest and rest[0] is not None:
            self.soc.flash.options.restore(rest[0])

    # -- option bytes ---------------------------------------------------------------------------------------
    def option_bytes(self) -> dict:
        """The option bytes as stored (register name -> 32-bit value; flash_common.OptionStore): the values the
        next reset loads. Factory state: each reference manual's reset values."""
        return dict(self._options().values)

    def set_option_bytes(self, **values: int) -> None:
        """Write option bytes as a programmer would (STM32CubeProgrammer over SWD), outside the option-byte
        sequence; like any option change they take effect at the next reset (power_on / system_reset)."""
        store = self._options()
        unknown = set(values) - set(store.values)
        if unknown:
            raise ValueError(f"{self.board.name}: no option register {sorted(unknown)} (have {list(store.values)})")
        store.values.update({name: value & 0xFFFFFFFF for name, value in values.items()})
        store.torn = False

    def _options(self):
        options = getattr(self.soc.flash, "options", None)
        if options is None:
            raise ValueError(f"{self.board.name}: option bytes are not modelled for {self.soc.part.family}")
        return options

    # -- reset ----------------------------------------------------------------------------------------------
    def power_on(self) -> None:
        """Power-on reset: SRAM holds random bits, every peripheral at its reset value."""
        self.power.dead = False
        self.power.disarm()
        rng = random.Random((self.seed << 16) ^ self.boots)
        base, size = self.ram
        self.uc.mem_write(base, rng.randbytes(size))
        for p in self.soc.peripherals:
            p.power_on()
        for ext in self.soc.externals:
            ext.power_on()
        self._reset_core()

    def system_reset(self) -> None:
        """SYSRESETREQ: registers reset, SRAM and flash kept."""
        for p in self.soc.peripherals:
            p.reset()
        for ext in self.soc.externals:
            ext.reset()
        self._reset_core()

    def _reset_core(self) -> None:
        self.boots += 1
        core, uc = self.core, self.uc
        core.reset()
        # The Cortex-M7 of the F7/H7 starts with VTOR at its boot address (ST drives the core's INITVTOR with
        # BOOT_ADD0 / BOOT_CM7_ADD0: RM0410 2.4, RM0399 "Boot configuration"); 0 on the parts booting at 0.
        core.vtor = self.boot_alias
        self.hclk_hz = self.rcc.hclk_hz()
        uc.ctl_flush_tb()
        uc.reg_write(A.UC_ARM_REG_XPSR, 0x01000000)
        uc.reg_write(A.UC_ARM_REG_PRIMASK, 0)
        uc.reg_write(A.UC_ARM_REG_CONTROL, 0)
        if core.v7m:
            uc.reg_write(A.UC_ARM_REG_BASEPRI, 0)
            uc.reg_write(A.UC_ARM_REG_FAULTMASK, 0)
        sp, pc = struct.unpack("<II", bytes(uc.mem_read(self.boot_alias, 8)))
        uc.reg_write(A.UC_ARM_REG_MSP, sp & ~3)
        uc.reg_write(A.UC_ARM_REG_SP, sp & ~3)
        uc.reg_write(A.UC_ARM_REG_PSP, 0)
        uc.reg_write(A.UC_ARM_REG_LR, 0xFFFFFFFF)
        uc.reg_write(A.UC_ARM_REG_PC, pc | 1)
        if not pc & 1:
            core.lockup = f"reset vector {pc:#010x} has bit 0 clear"
        self.app_entry = None
        self._drop_hook("firewall")
        self._arm_app_hook()
        self._ecc_dirty = True
        self._tb_dirty = {}

    # -- hooks ------------------------------------------------------------------------------------------------
    def _arm_app_hook(self) -> None:
        self._drop_hook("app")
        b = self.board
        ranges = [(b.slot0.address, b.slot0.address + b.slot0.size)]
        if b.slot0.external is not None:
            ranges.append((b.slot0.external.address, b.slot0.external.address + b.slot0.external.size))
        self._hooks["app"] = [self.uc.hook_add(UC_HOOK_CODE, self._app_code, begin=lo, end=hi - 1) for lo, hi in ranges]

    # -- the L4 Firewall (firewall.py) -------------------------------------------------------------------
    def firewall_enabled(self, fw) -> None:
        """SYSCFG_CFGR1.FWDIS cleared: watch every block start and every access to the protected segments
        until the next reset. Translated blocks are flushed at the end of the current slice so every block
        start reaches the hook."""
        self._drop_hook("firewall")
        self._fw = fw
        hooks = [self.uc.hook_add(UC_HOOK_BLOCK, self._fw_block)]
        for lo, hi in fw.protected_ranges():
            hooks.append(self.uc.hook_add(UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, self._fw_access, begin=lo, end=hi - 1))
        self._hooks["firewall"] = hooks
        self._fw_flush = True
        self.request_stop()

    def _fw_violation(self, why: str) -> None:
        self.event(f"FIREWALL: {why}: system reset")
        self.firewall_resets += 1
        self.core.reset_request = True
        self.request_stop()

    def _fw_block(self, uc, address, size, _):
        try:
            fw = self._fw
            lo, hi = fw.code_segment()
            inside = lo <= address < hi
            if fw.open and not inside:
                if fw.cr & 1:  # FPA
                    fw.open = False
                else:
                    self._fw_violation(f"left the code segment for {address:#010x} with FW_CR.FPA clear")
            elif not fw.open and inside:
                if address == lo + 4:
                    fw.open = True
                else:
                    self._fw_violation(f"fetch at {address:#010x} inside the code segment, not through the call gate")
        except Exception as exc:
            self._fail(exc)

    def _fw_access(self, uc, access, address, size, value, _):
        try:
            if not self._fw.open and not self.core.reset_request:
                kind = "write" if access == U.UC_MEM_WRITE else "read"
                self._fw_violation(f"{kind} of {address:#010x} in a protected segment while the firewall is closed")
        except Exception as exc:
            self._fail(exc)

    def _drop_hook(self, name: str) -> None:
        for h in self._hooks.pop(name, []):
            self.uc.hook_del(h)

    def _app_code(self, uc, address, size, _):
        if self.app_entry is None:
            self.app_entry = AppEntry(address, uc.reg_read(A.UC_ARM_REG_MSP), self.core.vtor, self.cycles)
            self.event(f"application entered at {address:#010x}, MSP {self.app_entry.msp:#010x}")
            self.request_stop()

    def _arm_ecc_hook(self) -> None:
        self._ecc_dirty = False
        self._drop_hook("ecc")
        cells = self.soc.cells
        if not cells.poisoned:
            return
        lo, hi = min(cells.poisoned), max(cells.poisoned) + cells.unit
        self._hooks["ecc"] = [self.uc.hook_add(UC_HOOK_MEM_READ, self._ecc_read, begin=lo, end=hi - 1)]

    def _ecc_read(self, uc, access, address, size, value, _):
        """A load touches a unit with a double ECC error. Stopping inside a memory hook abandons the
        load (Unicorn re-executes it on the next start), so the run loop first completes it with a
        one-instruction step and only then raises the error: the NMI arrives after the read, as on
        silicon (its return address is the next instruction)."""
        try:
            if self.power.dead or self._ecc_stepping:
                return
            unit = self.soc.cells.poisoned_in(address, size)
            if unit is not None:
                self._ecc_hit = unit
                self._ecc_address = address
                self.request_stop()
        except Exception as exc:
            self._fail(exc)

    def _complete_ecc_read(self) -> None:
        unit, self._ecc_hit = self._ecc_hit, None
        if getattr(self.soc.flash, "precise_ecc_fault", False):
            # STM32H7: the read itself returns a bus error (flash_h7.py): the load does not complete, the
            # fault is taken with the load's address as its return address
            self.soc.flash.ecc_read(unit, self._ecc_address)
            return
        self._ecc_stepping = True
        try:
            self.uc.emu_start(self.uc.reg_read(A.UC_ARM_REG_PC) | 1, 0xFFFFFFFF, count=1)
        except UcError as exc:
            self._cpu_error(exc)
        finally:
            self._ecc_stepping = False
        self.cycles += 1
        self.soc.flash.ecc_read(unit)

    def _flash_store(self, uc, access, address, size, value, _):
        try:
            if not self.power.dead:
                self.soc.flash.flash_write(address, size, value & ((1 << (8 * size)) - 1))
        except Lockup:
            self.request_stop()
        except Exception as exc:
            self._fail(exc)
        return True

    def _alias_store(self, uc, access, address, size, value, _):
        self.violation(f"store to the boot alias {address:#010x}: program the flash at its real address")
        return True

    def _unmapped(self, uc, access, address, size, value, _):
        self._pending.unmapped = (access, address, size)
        return False

    def _intr(self, uc, intno, _):
        try:
            pc = uc.reg_read(A.UC_ARM_REG_PC)
            if intno == cortexm.EXCP_EXCEPTION_EXIT:
                self.core.exception_return(pc)
            elif intno == cortexm.EXCP_SWI:
                self.core.take(SVCALL, pc)
            elif intno in (cortexm.EXCP_UDEF, cortexm.EXCP_NOCP, cortexm.EXCP_INVSTATE, cortexm.EXCP_UNALIGNED):
                bits = {
                    cortexm.EXCP_UDEF: cortexm.CFSR_UNDEFINSTR,
                    cortexm.EXCP_NOCP: cortexm.CFSR_NOCP,
                    cortexm.EXCP_INVSTATE: cortexm.CFSR_INVSTATE,
                    cortexm.EXCP_UNALIGNED: cortexm.CFSR_UNALIGNED,
                }[intno]
                self.core.fault(USAGEFAULT, bits, why=f"CPU exception {intno}")
            elif intno == cortexm.EXCP_BKPT:
                self.core.fault(HARDFAULT, why="BKPT without a debugger")
            else:
                self.core.fault(HARDFAULT, why=f"unexpected CPU exception {intno}")
            if self.core.pending & {HARDFAULT, USAGEFAULT, BUSFAULT, MEMMANAGE}:
                self.request_stop()
        except Lockup:
            self.request_stop()
        except Exception as exc:
            self._fail(exc)

    def _block(self, uc, address, size, _):
        n = self._block_sizes.get((address, size))
        if n is None:
            code = bytes(uc.mem_read(address, size))
            n = i = 0
            while i < size:
                hw = code[i] | code[i + 1] << 8 if i + 1 < size else 0
                i += 4 if hw >> 11 in (0x1D, 0x1E, 0x1F) else 2
                n += 1
            self._block_sizes[(address, size)] = n
        self.instructions += n

    # -- running ----------------------------------------------------------------------------------------------
    def run(
        self, *, until=None, stop_at_app: bool = True, max_cycles: int = 2_000_000_000, max_resets: int = 6
    ) -> RunResult:
        """Run until an event (see the module docstring). `until`: text (or compiled regex) to wait for
        on the console. Returns why it stopped."""
        start = self.cycles
        resets = 0
        search_from = len(self.console)
        pattern = until.encode("latin-1") if isinstance(until, str) else until
        block_hook = None
        stalled = 0
        if self.count_instructions:
            block_hook = self.uc.hook_add(UC_HOOK_BLOCK, self._block)
            self.uc.ctl_flush_tb()  # blocks translated before the hook existed would not be counted
        try:
            while True:
                if self.core.lockup:
                    return self._result("lockup", start, resets, self.core.lockup)
                try:
                    self._deliver()
                except Lockup as exc:
                    return self._result("lockup", start, resets, str(exc))
                if self._ecc_dirty:
                    self._arm_ecc_hook()
                if self.core.cpu == "cortex-m7":
                    self._dcache_arm()
                if self._fw_flush:
                    self._fw_flush = False
                    self.uc.ctl_flush_tb()
                if self._tb_dirty:
                    for lo, hi in self._tb_dirty.values():
                        self.uc.ctl_remove_cache(lo, hi)
                    self._tb_dirty = {}
                nxt = self.core.next_systick(self.cycles)
                limit = SLICE if nxt is None else max(1, min(SLICE, nxt - self.cycles))
                self._stop = False
                pc = self.uc.reg_read(A.UC_ARM_REG_PC)
                executed = limit
                try:
                    self.uc.emu_start(pc | 1, 0xFFFFFFFF, count=limit)
                except UcError as exc:
                    executed = 0
                    self._cpu_error(exc)
                if self._stop:
                    executed = 0
                self.cycles += executed
                if self._ecc_hit is not None and not self.power.dead:
                    self._complete_ecc_read()
                if self._idle:
                    self._idle = False
                    nxt = self.core.next_systick(self.cycles)
                    if nxt is not None:
                        self.cycles = max(self.cycles, nxt)
                if self._pending.error is not None:
                    error, self._pending.error = self._pending.error, None
                    raise error
                if self.power.dead:
                    return self._result("cut", start, resets)
                if self.core.reset_request:
                    resets += 1
                    self.event("system reset (SYSRESETREQ)")
                    if resets > max_resets:
                        return self._result("loop", start, resets, f"{resets} resets without reaching the application")
                    self.system_reset()
                    continue
                if self.app_entry is not None and "app" in self._hooks:
                    self._drop_hook("app")
                    if stop_at_app:
                        return self._result("app", start, resets)
                if pattern is not None:
                    window = bytes(self.console[max(0, search_from - 256) :])
                    hit = pattern.search(window) if isinstance(pattern, re.Pattern) else pattern in window
                    if hit:
                        return self._result("console", start, resets)
                if self.cycles - start >= max_cycles:
                    return self._result("timeout", start, resets)
                stalled = stalled + 1 if executed == 0 else 0
                if stalled > 100_000:
                    return self._result("stuck", start, resets, f"no progress at pc={pc:#010x}")
                if not self._stop and executed == limit:
                    self._maybe_sleep()
                self.core.advance(self.cycles)
        finally:
            if block_hook is not None:
                self.uc.hook_del(block_hook)

    def _maybe_sleep(self) -> None:
        """WFI/WFE: Unicorn returns early at the next instruction; time passes until the next event."""
        pc = self.uc.reg_read(A.UC_ARM_REG_PC)
        try:
            prev = struct.unpack("<H", bytes(self.uc.mem_read(pc - 2, 2)))[0]
        except UcError:
            return
        if prev in (0xBF30, 0xBF20) and self.core.next_exception() is None:
            nxt = self.core.next_systick(self.cycles)
            if nxt is not None:
                self.cycles = nxt

    def _deliver(self) -> None:
        for _ in range(4):
            exc = self.core.next_exception()
            if exc is None:
                return
            self.core.take(exc, self.uc.reg_read(A.UC_ARM_REG_PC))

    def _cpu_error(self, exc: UcError) -> None:
        errno = exc.errno
        pending, self._pending.unmapped = self._pending.unmapped, None
        where = f"{pending[1]:#010x}" if pending else "?"
        if errno in (U.UC_ERR_READ_UNMAPPED, U.UC_ERR_WRITE_UNMAPPED, U.UC_ERR_READ_PROT, U.UC_ERR_WRITE_PROT):
            self.core.fault(
                BUSFAULT,
                cortexm.CFSR_PRECISERR,
                address=pending[1] if pending else None,
                why=f"bus error: data access to unmapped {where}",
            )
        elif errno in (U.UC_ERR_FETCH_UNMAPPED, U.UC_ERR_FETCH_PROT):
            self.core.fault(BUSFAULT, cortexm.CFSR_IBUSERR, why=f"instruction fetch from {where}")
        elif errno == U.UC_ERR_INSN_INVALID:
            self.core.fault(USAGEFAULT, cortexm.CFSR_UNDEFINSTR, why="undefined instruction")
        elif errno in (U.UC_ERR_READ_UNALIGNED, U.UC_ERR_WRITE_UNALIGNED, U.UC_ERR_FETCH_UNALIGNED):
            self.core.fault(USAGEFAULT, cortexm.CFSR_UNALIGNED, why="unaligned access")
        else:
            self.core.fault(HARDFAULT, why=f"CPU stopped: {exc}")

    def _result(self, reason: str, start: int, resets: int, detail: str = "") -> RunResult:
        return RunResult(
            reason,
            self.cycles - start,
            resets,
            self.app_entry,
            detail,
            self.instructions if self.count_instructions else None,
        )
