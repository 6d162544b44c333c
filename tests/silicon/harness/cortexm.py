# SPDX-License-Identifier: Apache-2.0
"""The Cortex-M core around Unicorn: exception entry and return, the System Control Space (SCB, SysTick,
NVIC) and fault escalation.

Unicorn executes Thumb code but implements no NVIC, SCB or SysTick and performs no exception entry:
an exception return (`bx lr` with an EXC_RETURN value) reaches the INTR hook as intno 8 with nothing
unstacked (see ../shared/reference/stm32-extflash-protection.md, Part C). This module does both halves
as the architecture manuals specify them:

- Exception entry (ARMv7-M ARM DDI 0403E, B1.5.6 "Exception entry behavior"; ARMv6-M ARM DDI 0419E,
  B1.5.6): the 8-word basic frame R0-R3, R12, LR, ReturnAddress, xPSR (26 words with the FP state when
  CONTROL.FPCA is set) is pushed on the stack in use, 8-byte aligned with xPSR bit 9 recording the pad;
  LR becomes EXC_RETURN (0xFFFFFFF1 handler/MSP, 0xFFFFFFF9 thread/MSP, 0xFFFFFFFD thread/PSP, bit 4
  clear for an FP frame); IPSR takes the exception number; the handler runs on MSP; PC is the vector
  table entry at VTOR + 4 * number, which must have bit 0 set (else INVSTATE UsageFault -> HardFault).
- Exception return (B1.5.8): the frame is popped from the stack EXC_RETURN names, SP is restored
  including the alignment pad, IPSR is restored from the stacked xPSR.
- Priorities (B1.5.4): NMI (-2) and HardFault (-1) are fixed; the others come from SHPR/NVIC_IPR. A
  pending exception preempts only when its priority is higher (numerically lower) than the current
  execution priority; PRIMASK raises the execution priority to 0, so only NMI and HardFault get through.
  Configurable faults (MemManage, BusFault, UsageFault) escalate to HardFault when disabled in SHCSR or
  not able to preempt (B1.5.15); a fault in NMI or HardFault is a lockup (B1.5.16), which the machine
  reports as such (on silicon the core stops until a reset).
- SysTick (B3.3): CSR/RVR/CVR/CALIB, counting processor clocks (CLKSOURCE = 1) or the STM32 external
  reference HCLK / 8 (CLKSOURCE = 0; RM0394 6.2 "SysTick calibration"), COUNTFLAG cleared on read.
- SCB (B3.2): CPUID, ICSR (PENDSTSET/CLR, PENDSVSET/CLR, NMIPENDSET), VTOR, AIRCR (VECTKEY 0x05FA,
  SYSRESETREQ, VECTCLRACTIVE), SCR, CCR, SHPR1-3, SHCSR, CFSR/HFSR/MMFAR/BFAR, CPACR; the NVIC
  ISER/ICER/ISPR/ICPR/IABR/IPR arrays. ARMv6-M (Cortex-M0+) has a subset; touching the others there is
  reported as a violation.

Time is counted in instructions and taken as processor cycles (one instruction per cycle): SysTick,
UART pacing and timeouts all use that clock. The machine runs the CPU in slices that end at the next
timer event, so SysTick interrupts arrive at the right instruction count.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from unicorn import UC_ARCH_ARM, UC_MODE_MCLASS, UC_MODE_THUMB, Uc
from unicorn import arm_const as A

from .bus import Peripheral

if TYPE_CHECKING:  # pragma: no cover
    pass

RESET, NMI, HARDFAULT, MEMMANAGE, BUSFAULT, USAGEFAULT = 1, 2, 3, 4, 5, 6
SVCALL, DEBUGMON, PENDSV, SYSTICK = 11, 12, 14, 15
EXC_NAMES = {
    NMI: "NMI",
    HARDFAULT: "HardFault",
    MEMMANAGE: "MemManage",
    BUSFAULT: "BusFault",
    USAGEFAULT: "UsageFault",
    SVCALL: "SVCall",
    DEBUGMON: "DebugMonitor",
    PENDSV: "PendSV",
    SYSTICK: "SysTick",
}

CPU_MODELS = {
    # name: (Unicorn model, CPUID, ARMv7-M?)   CPUID values: Cortex-M4 r0p1 TRM 4.3.1,
    # Cortex-M0+ r0p1 TRM 4.2.1, Cortex-M3 r2p1 TRM 4.3.1.
    "cortex-m4": (A.UC_CPU_ARM_CORTEX_M4, 0x410FC241, True),
    # Cortex-M33 r0p2 (TRM 100230 B2.2 CPUID): ARMv8-M Mainline, a superset of what the ARMv7-M model here
    # handles (same frames, EXC_RETURN values of a core without secure state in use: STM32L5, TZEN = 0)
    "cortex-m33": (A.UC_CPU_ARM_CORTEX_M33, 0x410FD212, True),
    "cortex-m3": (A.UC_CPU_ARM_CORTEX_M3, 0x412FC231, True),
    # Cortex-M7 r1p0 (TRM DDI 0489 3.2 CPUID: 0x411FC270, what the original's boot log prints on the
    # DISCO-F769I): ARMv7-M with the L1 caches of SCB_CCR.IC/DC and the cache maintenance registers
    "cortex-m7": (A.UC_CPU_ARM_CORTEX_M7, 0x411FC270, True),
    # Unicorn has no Cortex-M0+ model; the M0 model executes the same ARMv6-M instruction set.
    "cortex-m0plus": (A.UC_CPU_ARM_CORTEX_M0, 0x410CC601, False),
}

# UC_HOOK_INTR numbers (QEMU target/arm EXCP_*) that Unicorn reports for M-profile events.
EXCP_UDEF, EXCP_SWI, EXCP_PREFETCH_ABORT, EXCP_DATA_ABORT, EXCP_BKPT, EXCP_EXCEPTION_EXIT = 1, 2, 3, 4, 7, 8
EXCP_NOCP, EXCP_INVSTATE, EXCP_STKOF, EXCP_UNALIGNED = 17, 18, 19, 22

CFSR_IACCVIOL, CFSR_DACCVIOL = 1 << 0, 1 << 1
CFSR_IBUSERR, CFSR_PRECISERR, CFSR_IMPRECISERR, CFSR_BFARVALID = 1 << 8, 1 << 9, 1 << 10, 1 << 15
CFSR_UNDEFINSTR, CFSR_INVSTATE, CFSR_NOCP, CFSR_UNALIGNED = 1 << 16, 1 << 17, 1 << 19, 1 << 24
HFSR_VECTTBL, HFSR_FORCED = 1 << 1, 1 << 30

_BASIC = (A.UC_ARM_REG_R0, A.UC_ARM_REG_R1, A.UC_ARM_REG_R2, A.UC_ARM_REG_R3, A.UC_ARM_REG_R12, A.UC_ARM_REG_LR)
_FP_REGS = tuple(getattr(A, f"UC_ARM_REG_S{i}") for i in range(16))


class Lockup(Exception):
    """The core locked up (a fault while in NMI or HardFault, or an unusable vector)."""


class CortexM(Peripheral):
    """The core: Unicorn plus what Unicorn lacks. Also the System Control Space register block at
    0xE000E000 (4 KiB)."""

    name = "SCS"

    def __init__(self, cpu: str):
        super().__init__(0xE000E000, 0x1000)
        model, self.cpuid, self.v7m = CPU_MODELS[cpu]
        self.cpu = cpu
        self.uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
        self.uc.ctl_set_cpu_model(model)  # must precede every mem_map (UC_ERR_ARG afterwards)
        self.fpu = cpu in ("cortex-m4", "cortex-m33", "cortex-m7")
        self.reset()

    # -- reset -----------------------------------------------------------------------------------------
    def reset(self) -> None:
        self.pending: set = set()
        self.active: list = []
        self.vtor = 0
        self.aircr_prigroup = 0
        self.scr = 0
        self.ccr = 0x00000200 if self.v7m else 0x00000204  # STKALIGN (v7-M: set on r2p0+; v6-M: RAO)
        self.shpr = bytearray(16)  # priority bytes of exceptions 4..15 (index = exception number)
        self.shcsr = 0
        self.cfsr = self.hfsr = self.mmfar = self.bfar = 0
        self.cpacr = 0
        self.fpccr = 0xC0000000  # ASPEN | LSPEN (ARMv7-M B3.2.22... FP extension: FPCCR reset)
        self.nvic_enabled = [0] * 8
        self.nvic_pending = [0] * 8
        self.nvic_ipr = bytearray(240)
        self.systick_csr = 0
        self.systick_rvr = 0
        self.systick_base = 0  # cycle at which the counter was last reloaded from RVR
        self.countflag = False
        self.reset_request = False
        self.lockup: str | None = None

    # -- registers --------------------------------------------------------------------------------------
    def reg(self, r: int) -> int:
        return self.uc.reg_read(r)

    def set_reg(self, r: int, value: int) -> None:
        self.uc.reg_write(r, value & 0xFFFFFFFF)

    @property
    def pc(self) -> int:
        return self.uc.reg_read(A.UC_ARM_REG_PC)

    @property
    def ipsr(self) -> int:
        return self.uc.reg_read(A.UC_ARM_REG_IPSR) & 0x1FF

    @property
    def primask(self) -> bool:
        return bool(self.uc.reg_read(A.UC_ARM_REG_PRIMASK) & 1)

    def mem32(self, address: int) -> int:
        return struct.unpack("<I", self.uc.mem_read(address, 4))[0]

    # -- priorities ------------------------------------------------------------------------------------
    def priority(self, exc: int) -> int:
        if exc == NMI:
            return -2
        if exc == HARDFAULT:
            return -1
        if exc < 16:
            raw = self.shpr[exc]
        else:
            raw = self.nvic_ipr[exc - 16]
        # Group priority only (PRIGROUP splits the byte; ARMv6-M implements 2 bits, v7-M on STM32 4).
        bits = 4 if self.v7m else 2
        raw &= (0xFF << (8 - bits)) & 0xFF
        group_mask = (0xFF << (self.aircr_prigroup + 1)) & 0xFF if self.v7m else 0xFF
        return raw & group_mask

    def execution_priority(self) -> int:
        prio = 256
        for exc in self.active:
            prio = min(prio, self.priority(exc))
        if self.primask:
            prio = min(prio, 0)
        basepri = self.uc.reg_read(A.UC_ARM_REG_BASEPRI) & 0xFF if self.v7m else 0
        if basepri:
            prio = min(prio, basepri)
        if self.v7m and self.uc.reg_read(A.UC_ARM_REG_FAULTMASK) & 1:
            prio = min(prio, -1)
        return prio

    def next_exception(self) -> int | None:
        """The pending exception that would be taken now, if any (lowest priority value, then lowest
        number; ARMv7-M B1.5.4)."""
        if not self.pending and not any(self.nvic_pending):
            return None
        candidates = set(self.pending)
        for i, word in enumerate(self.nvic_pending):
            if word:
                for bit in range(32):
                    if word & (1 << bit) and self.nvic_enabled[i] & (1 << bit):
                        candidates.add(16 + 32 * i + bit)
        if not candidates:
            return None
        best = min(candidates, key=lambda e: (self.priority(e), e))
        if self.priority(best) < self.execution_priority():
            return best
        return None

    # -- faults ----------------------------------------------------------------------------------------
    def fault(self, kind: int, cfsr_bits: int = 0, address: int | None = None, why: str = "") -> None:
        """A synchronous fault: pend it (escalated to HardFault where the architecture says so)."""
        if self.machine is not None:
            self.machine.event(f"fault: {EXC_NAMES.get(kind, kind)} {why} at pc={self.pc:#010x}")
        if kind in (MEMMANAGE, BUSFAULT, USAGEFAULT):
            enable_bit = {MEMMANAGE: 16, BUSFAULT: 17, USAGEFAULT: 18}[kind]
            self.cfsr |= cfsr_bits
            if address is not None and kind == BUSFAULT:
                self.bfar = address
                self.cfsr |= CFSR_BFARVALID
            if not self.v7m or not (self.shcsr >> enable_bit) & 1 or self.priority(kind) >= self.execution_priority():
                kind = HARDFAULT
                if self.v7m:
                    self.hfsr |= HFSR_FORCED
        if kind == HARDFAULT and any(e in (NMI, HARDFAULT) for e in self.active):
            self.lockup = f"fault while in {EXC_NAMES[self.active[-1]]} ({why}) at pc={self.pc:#010x}"
            raise Lockup(self.lockup)
        self.pending.add(kind)

    # -- exception entry / return ------------------------------------------------------------------------
    def take(self, exc: int, return_address: int) -> None:
        """Exception entry (ARMv7-M B1.5.6, ARMv6-M B1.5.6)."""
        uc = self.uc
        self.pending.discard(exc)
        if exc >= 16:
            i, bit = divmod(exc - 16, 32)
            self.nvic_pending[i] &= ~(1 << bit)
        handler_mode = self.ipsr != 0
        control = uc.reg_read(A.UC_ARM_REG_CONTROL)
        on_psp = not handler_mode and bool(control & 2)
        fp_frame = self.v7m and self.fpu and bool(control & 4)
        sp = uc.reg_read(A.UC_ARM_REG_PSP if on_psp else A.UC_ARM_REG_MSP)
        frame_size = 0x68 if fp_frame else 0x20
        xpsr = uc.reg_read(A.UC_ARM_REG_XPSR)
        new_sp = (sp - frame_size) & 0xFFFFFFFF
        if new_sp & 4:
            new_sp -= 4
            xpsr |= 1 << 9
        else:
            xpsr &= ~(1 << 9)
        words = [uc.reg_read(r) for r in _BASIC] + [return_address & ~1, xpsr]
        if fp_frame:
            words += [uc.reg_read(r) for r in _FP_REGS] + [uc.reg_read(A.UC_ARM_REG_FPSCR), 0]
        try:
            uc.mem_write(new_sp, struct.pack(f"<{len(words)}I", *[w & 0xFFFFFFFF for w in words]))
        except Exception as exc_:  # stacking into unmapped memory: a derived fault -> lockup here
            self.lockup = f"exception stacking at {new_sp:#010x} failed ({exc_})"
            raise Lockup(self.lockup) from None
        if on_psp:
            exc_return = 0xFFFFFFFD
        elif handler_mode:
            exc_return = 0xFFFFFFF1
        else:
            exc_return = 0xFFFFFFF9
        if fp_frame:
            exc_return &= ~0x10
        vector_address = (self.vtor & 0xFFFFFF80) + 4 * exc
        try:
            handler = self.mem32(vector_address)
        except Exception:
            self.lockup = f"vector fetch for exception {exc} at {vector_address:#010x} failed"
            raise Lockup(self.lockup) from None
        # Switch to handler mode on MSP: CONTROL.SPSEL <- 0 (swaps the banked SP while still in thread
        # mode), FPCA <- 0, then IPSR.
        if control & 6:
            uc.reg_write(A.UC_ARM_REG_CONTROL, control & ~6)
        uc.reg_write(A.UC_ARM_REG_MSP, new_sp if not on_psp else uc.reg_read(A.UC_ARM_REG_MSP))
        if on_psp:
            uc.reg_write(A.UC_ARM_REG_PSP, new_sp)
        uc.reg_write(A.UC_ARM_REG_XPSR, (xpsr & ~0x1FF & ~(1 << 9)) | exc)
        uc.reg_write(A.UC_ARM_REG_SP, uc.reg_read(A.UC_ARM_REG_MSP))
        uc.reg_write(A.UC_ARM_REG_LR, exc_return)
        self.active.append(exc)
        if not handler & 1:
            # Vector without the Thumb bit: INVSTATE on the first instruction of the handler.
            self.active.pop()
            self.fault(USAGEFAULT, CFSR_INVSTATE, why=f"vector {exc} = {handler:#010x} has bit 0 clear")
            return
        uc.reg_write(A.UC_ARM_REG_PC, handler | 1)

    def exception_return(self, exc_return: int) -> None:
        """Called from the INTR hook (intno 8) with PC = EXC_RETURN & ~1 (ARMv7-M B1.5.8)."""
        uc = self.uc
        exc_return |= 1
        if (
            not self.active
            or self.ipsr == 0
            or (exc_return & 0xFFFFFF00) != 0xFFFFFF00
            or (exc_return & 0xF) not in (0x1, 0x9, 0xD)
        ):
            self.fault(USAGEFAULT, CFSR_INVSTATE, why=f"bad exception return {exc_return:#010x}")
            return
        returning = self.active.pop()
        to_thread = bool(exc_return & 8)
        use_psp = bool(exc_return & 4)
        fp_frame = not (exc_return & 0x10)
        sp = uc.reg_read(A.UC_ARM_REG_PSP if use_psp else A.UC_ARM_REG_MSP)
        n = 26 if fp_frame else 8
        words = struct.unpack(f"<{n}I", uc.mem_read(sp, 4 * n))
        for r, value in zip(_BASIC, words[:6]):
            uc.reg_write(r, value)
        pc, xpsr = words[6], words[7]
        if fp_frame:
            for r, value in zip(_FP_REGS, words[8:24]):
                uc.reg_write(r, value)
            uc.reg_write(A.UC_ARM_REG_FPSCR, words[24])
        sp = (sp + 4 * n + (4 if xpsr & (1 << 9) else 0)) & 0xFFFFFFFF
        ipsr = xpsr & 0x1FF
        if to_thread and (self.active or ipsr != 0):
            # Returning to thread mode with exceptions still active (no nesting bookkeeping allowed it)
            # or with a non-zero stacked IPSR: INVPC UsageFault.
            self.active.append(returning)
            self.fault(USAGEFAULT, 1 << 18, why="exception return to thread mode with an active exception")
            return
        if use_psp:
            uc.reg_write(A.UC_ARM_REG_PSP, sp)
        else:
            uc.reg_write(A.UC_ARM_REG_MSP, sp)
        uc.reg_write(A.UC_ARM_REG_XPSR, xpsr & ~(1 << 9))
        control = uc.reg_read(A.UC_ARM_REG_CONTROL)
        control = (control & ~2) | (2 if use_psp else 0)
        control = (control & ~4) | (4 if fp_frame else 0)
        if to_thread:
            uc.reg_write(A.UC_ARM_REG_CONTROL, control)
        uc.reg_write(A.UC_ARM_REG_SP, sp)
        uc.reg_write(A.UC_ARM_REG_PC, pc | 1)

    # -- SysTick -----------------------------------------------------------------------------------------
    def systick_period(self) -> int:
        reload = self.systick_rvr & 0xFFFFFF
        cycles_per_count = 1 if self.systick_csr & 4 else 8
        return (reload + 1) * cycles_per_count

    def systick_running(self) -> bool:
        return bool(self.systick_csr & 1) and (self.systick_rvr & 0xFFFFFF) != 0

    def next_systick(self, now: int) -> int | None:
        if not self.systick_running():
            return None
        period = self.systick_period()
        elapsed = now - self.systick_base
        return self.systick_base + (elapsed // period + 1) * period

    def advance(self, now: int) -> None:
        """Account SysTick wraps up to cycle `now`."""
        if not self.systick_running():
            return
        period = self.systick_period()
        wraps = (now - self.systick_base) // period
        if wraps > 0:
            self.systick_base += wraps * period
            self.countflag = True
            if self.systick_csr & 2:
                self.pending.add(SYSTICK)

    # -- SCS register block ----------------------------------------------------------------------------
    def read32(self, offset: int) -> int:
        now = self.machine.cycles if self.machine is not None else 0
        if offset == 0x010:
            value = (self.systick_csr & 7) | (0x10000 if self.countflag else 0)
            self.countflag = False
            return value
        if offset == 0x014:
            return self.systick_rvr & 0xFFFFFF
        if offset == 0x018:
            if not self.systick_running():
                return 0
            per = 1 if self.systick_csr & 4 else 8
            elapsed = ((now - self.systick_base) // per) % ((self.systick_rvr & 0xFFFFFF) + 1)
            return (self.systick_rvr & 0xFFFFFF) - elapsed
        if offset == 0x01C:
            return 0x40000000  # CALIB: SKEW, no reference calibration value (STM32 TENMS = 0)
        if 0x100 <= offset < 0x120:
            return self.nvic_enabled[(offset - 0x100) // 4]
        if 0x180 <= offset < 0x1A0:
            return self.nvic_enabled[(offset - 0x180) // 4]
        if 0x200 <= offset < 0x220:
            return self.nvic_pending[(offset - 0x200) // 4]
        if 0x280 <= offset < 0x2A0:
            return self.nvic_pending[(offset - 0x280) // 4]
        if 0x300 <= offset < 0x320 and self.v7m:
            return 0
        if 0x400 <= offset < 0x4F0:
            return struct.unpack_from("<I", self.nvic_ipr, offset - 0x400)[0]
        if offset == 0xD00:
            return self.cpuid
        if offset == 0xD04:
            value = self.ipsr & 0x1FF
            if SYSTICK in self.pending:
                value |= 1 << 26
            if PENDSV in self.pending:
                value |= 1 << 28
            if NMI in self.pending:
                value |= 1 << 31
            return value
        if offset == 0xD08:
            return self.vtor
        if offset == 0xD0C:
            return 0xFA050000 | (self.aircr_prigroup << 8)
        if offset == 0xD10:
            return self.scr
        if offset == 0xD14:
            return self.ccr
        if offset in (0xD18, 0xD1C, 0xD20):
            if offset == 0xD18 and not self.v7m:
                return super().read32(offset)
            base = 4 + 4 * ((offset - 0xD18) // 4)
            return struct.unpack_from("<I", self.shpr, base)[0]
        if offset == 0xD24:
            return self.shcsr
        if self.v7m:
            if offset == 0xD28:
                return self.cfsr
            if offset == 0xD2C:
                return self.hfsr
            if offset == 0xD34:
                return self.mmfar
            if offset == 0xD38:
                return self.bfar
            if offset == 0xD88 and self.fpu:
                return self.cpacr
            if offset == 0xF34 and self.fpu:
                return self.fpccr
        return super().read32(offset)

    def write32(self, offset: int, value: int) -> None:
        now = self.machine.cycles if self.machine is not None else 0
        if offset == 0x010:
            was_running = self.systick_running()
            self.systick_csr = value & 7
            if self.systick_running() and not was_running:
                self.systick_base = now
            return
        if offset == 0x014:
            self.systick_rvr = value & 0xFFFFFF
            return
        if offset == 0x018:  # any write clears the counter and COUNTFLAG; it reloads on the next clock
            self.systick_base = now
            self.countflag = False
            return
        if 0x100 <= offset < 0x120:
            self.nvic_enabled[(offset - 0x100) // 4] |= value
            return
        if 0x180 <= offset < 0x1A0:
            self.nvic_enabled[(offset - 0x180) // 4] &= ~value
            return
        if 0x200 <= offset < 0x220:
            self.nvic_pending[(offset - 0x200) // 4] |= value
            return
        if 0x280 <= offset < 0x2A0:
            self.nvic_pending[(offset - 0x280) // 4] &= ~value
            return
        if 0x400 <= offset < 0x4F0:
            struct.pack_into("<I", self.nvic_ipr, offset - 0x400, value)
            return
        if offset == 0xD04:
            if value & (1 << 25):
                self.pending.discard(SYSTICK)
            if value & (1 << 26):
                self.pending.add(SYSTICK)
            if value & (1 << 27):
                self.pending.discard(PENDSV)
            if value & (1 << 28):
                self.pending.add(PENDSV)
            if value & (1 << 31):
                self.pending.add(NMI)
            return
        if offset == 0xD08:
            self.vtor = value & 0xFFFFFF80
            return
        if offset == 0xD0C:
            if (value >> 16) != 0x05FA:
                return  # writes without VECTKEY are ignored (B3.2.6)
            if self.v7m:
                self.aircr_prigroup = (value >> 8) & 7
            if value & 4:
                self.reset_request = True
                if self.machine is not None:
                    self.machine.request_stop()
            return
        if offset == 0xD10:
            self.scr = value & 0x16
            return
        if offset == 0xD14:
            if self.v7m:
                # Cortex-M7: also DC b16, IC b17, BP b18 (TRM 4.1 "Configuration and Control Register")
                old, self.ccr = self.ccr, value & (0x7031B if self.cpu == "cortex-m7" else 0x31B)
                if (old ^ self.ccr) >> 16 & 1 and self.machine is not None:
                    self.machine.request_stop()  # the machine re-arms its data-cache check (the write repeats)
            return
        if offset in (0xD18, 0xD1C, 0xD20):
            if offset == 0xD18 and not self.v7m:
                super().write32(offset, value)
                return
            struct.pack_into("<I", self.shpr, 4 + 4 * ((offset - 0xD18) // 4), value)
            return
        if offset == 0xD24:
            if self.v7m:
                self.shcsr = value & 0x70000
            return
        if self.v7m:
            if offset == 0xD28:
                self.cfsr &= ~value  # write 1 to clear
                return
            if offset == 0xD2C:
                self.hfsr &= ~value
                return
            if offset == 0xD88 and self.fpu:
                self.cpacr = value & (0xF << 20)
                return
            if offset == 0xF34 and self.fpu:
                self.fpccr = value & 0xC0000001 | (self.fpccr & 0x3FFFFFFE)
                return
            if 0xF50 <= offset <= 0xF78 and self.cpu == "cortex-m7":
                # cache maintenance (ARMv7-M B3.5.2: ICIALLU 0xF50, ICIMVAU 0xF58, DCIMVAC 0xF5C, DCISW 0xF60,
                # DCCMVAU 0xF64, DCCMVAC 0xF68, DCCSW 0xF6C, DCCIMVAC 0xF70, DCCISW 0xF74, BPIALL 0xF78); the
                # machine keeps no cache contents: by-address data-cache invalidations are handed to its
                # stale-line check (machine.dcache_invalidated)
                if offset in (0xF5C, 0xF70) and self.machine is not None:
                    hook = getattr(self.machine, "dcache_invalidated", None)
                    if hook is not None:
                        hook(value & ~31, 32)
                return
        super().write32(offset, value)
