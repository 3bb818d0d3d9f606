/*
 * traps.c: what happens when the CPU takes an exception it cannot handle:
 * a readable crash report (which exception, the mode and state it hit, the
 * fault status register decoded, DFSR/DFAR or IFSR/IFAR, every register, a
 * backtrace with image offsets to feed to addr2line) and a clean stop
 * through board_halt.
 * Thumb-2 code built by GCC keeps no frame chain a walker could follow, so
 * the backtrace follows the EHABI unwind tables (unwind.c). Where a frame
 * has none (picolibc, libgcc) it goes on as a stack scan: the words on the
 * stack that are return addresses (odd, inside text, right after a BL or
 * BLX), where a stale word left by an earlier, deeper call can show up too,
 * which the report then says.
 * Assumes the console can be written by polling with interrupts off, and
 * that our code and the libraries are Thumb (head.S and vectors.S, in ARM
 * state, make no calls worth listing). Leaves out: recovery.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <arch/cpu.h>
#include <board.h>

#include "unwind.h"

struct trap_frame {
	uint32_t r[13];
	uint32_t sp, lr; /* the interrupted mode's */
	uint32_t elr;    /* the exception mode's lr */
	uint32_t spsr;
	uint32_t pad;
};

/* vectors.S */
enum { KIND_UNDEF, KIND_SVC, KIND_PABT, KIND_DABT, KIND_IRQ, KIND_FIQ, KIND_RESET, KIND_HYP };

extern char __image_start[], __text_end[];
extern char __stack_guard[], __stack_bottom[], __stack_top[];
extern char __irq_stack_bottom[], __irq_stack_top[], __exc_stack_top[];

void arch_trap_fatal(struct trap_frame *f, unsigned long kind);

static void out(const char *s)
{
	console_write(s, strlen(s));
}

static void outf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void outf(const char *fmt, ...)
{
	char buf[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	out(buf);
}

static const char *mode_name(uint32_t psr)
{
	switch (psr & 0x1f) {
	case 0x10: return "USR";
	case 0x11: return "FIQ";
	case 0x12: return "IRQ";
	case 0x13: return "SVC";
	case 0x16: return "MON";
	case 0x17: return "ABT";
	case 0x1a: return "HYP";
	case 0x1b: return "UND";
	case 0x1f: return "SYS";
	default: return "invalid";
	}
}

/* The fault status of DFSR/IFSR: the long-descriptor format (LPAE, bit 9
 * set: the MMU runs with TTBCR.EAE) or the short one. */
static const char *fault_name(uint32_t fsr, unsigned int *level)
{
	*level = 0;
	if (fsr & (1u << 9)) {
		unsigned int st = fsr & 0x3f;
		*level = st & 3;
		switch (st & 0x3c) {
		case 0x04: return "translation fault (unmapped)";
		case 0x08: return "access flag fault";
		case 0x0c: return "permission fault";
		}
		switch (st) {
		case 0x10: return "synchronous external abort";
		case 0x11: return "asynchronous external abort";
		case 0x21: return "alignment fault";
		case 0x22: return "debug event";
		default: return "other fault";
		}
	}
	switch ((fsr & 0xf) | ((fsr >> 6) & 0x10)) {
	case 0x01: return "alignment fault";
	case 0x02: return "debug event";
	case 0x05: *level = 1; return "translation fault (unmapped)";
	case 0x07: *level = 2; return "translation fault (unmapped)";
	case 0x03: *level = 1; return "access flag fault";
	case 0x06: *level = 2; return "access flag fault";
	case 0x0d: *level = 1; return "permission fault";
	case 0x0f: *level = 2; return "permission fault";
	case 0x08: return "synchronous external abort";
	case 0x16: return "asynchronous external abort";
	default: return "other fault";
	}
}

static int in_text(uintptr_t a)
{
	return a >= (uintptr_t)__image_start + 4 && a < (uintptr_t)__text_end;
}

/* The call site of a Thumb return address, or 0 if (w) is not one: odd,
 * inside text, after a 32-bit BL/BLX (imm) or a 16-bit BLX (register). */
static uintptr_t call_site(uintptr_t w)
{
	uintptr_t a = w & ~(uintptr_t)1;
	if (!(w & 1) || !in_text(a))
		return 0;
	uint16_t h1 = *(const uint16_t *)(a - 4), h2 = *(const uint16_t *)(a - 2);
	if ((h1 & 0xf800) == 0xf000 && (h2 & 0xc000) == 0xc000)
		return a - 4;
	if ((h2 & 0xff87) == 0x4780)
		return a - 2;
	return 0;
}

/* Scans [from, top of the stack holding it) for return addresses; a run of
 * the same one (recursion) is one line with a count, (last) the line
 * printed before the scan; (head) goes before the first line printed. */
static void scan(uintptr_t from, int idx, uintptr_t last, const char *head,
		 void (*line)(const char *))
{
	static const struct {
		char *lo, *hi;
	} stacks[] = {
		{__stack_guard, __stack_top},
		{__irq_stack_bottom, __irq_stack_top},
		{__irq_stack_top, __exc_stack_top},
	};
	uintptr_t base = (uintptr_t)__image_start, top = 0;
	char buf[112];

	for (size_t i = 0; i < sizeof(stacks) / sizeof(stacks[0]); i++)
		if (from >= (uintptr_t)stacks[i].lo && from < (uintptr_t)stacks[i].hi)
			top = (uintptr_t)stacks[i].hi;
	if (!top) {
		snprintf(buf, sizeof(buf), "  (stack pointer %#" PRIxPTR " is off the stacks)\n", from);
		line(buf);
		return;
	}
	if (from < (uintptr_t)__stack_bottom && top == (uintptr_t)__stack_top)
		from = (uintptr_t)__stack_bottom; /* in the guard page: overflowed */
	from = (from + 3) & ~(uintptr_t)3;
	unsigned long repeats = 0;
	for (uintptr_t p = from; p + 4 <= top && idx < 24; p += 4) {
		uintptr_t site = call_site(*(const uint32_t *)p);
		if (!site)
			continue;
		if (site == last) {
			repeats++;
			continue;
		}
		if (repeats) {
			snprintf(buf, sizeof(buf), "      (the line above %lu more times)\n", repeats);
			line(buf);
			repeats = 0;
		}
		if (head) {
			line(head);
			head = NULL;
		}
		snprintf(buf, sizeof(buf), "  #%-2d %#" PRIxPTR "  (image +%#" PRIxPTR ")\n", idx++, site,
			 site - base);
		line(buf);
		last = site;
	}
	if (repeats) {
		snprintf(buf, sizeof(buf), "      (the line above %lu more times)\n", repeats);
		line(buf);
	}
}

static void repeated(unsigned long n, void (*line)(const char *))
{
	char buf[64];
	if (n) {
		snprintf(buf, sizeof(buf), "      (the line above %lu more times)\n", n);
		line(buf);
	}
}

/* Prints the callers of the frame in (s) as lines #idx on, through the
 * unwind tables; frames whose caller's sp is at or below (skip_sp) are not
 * printed. (leaf): the first frame may be a function with no tables that
 * has not saved lr (a library routine). */
static void unwind(struct unwind_regs *s, int idx, uintptr_t skip_sp, int leaf,
		   void (*line)(const char *))
{
	uintptr_t base = (uintptr_t)__image_start, last = 0;
	unsigned long repeats = 0;
	char buf[112];

	for (int steps = 0; steps < 4096 && idx < 32; steps++) {
		struct unwind_regs prev = *s;
		if (unwind_step(s)) {
			*s = prev;
			if (steps == 0 && leaf && call_site(s->r[14])) {
				s->r[15] = s->r[14];
				s->is_return = 1;
			} else {
				repeated(repeats, line);
				scan(s->r[13], idx, last,
				     "  (no unwind tables from here on: return addresses found on the"
				     " stack, one may be stale)\n",
				     line);
				return;
			}
		}
		uintptr_t site = call_site(s->r[15]);
		if (!site) {
			repeated(repeats, line);
			return;
		}
		if (s->r[13] <= skip_sp)
			continue;
		if (site == last) {
			repeats++;
			continue;
		}
		repeated(repeats, line);
		repeats = 0;
		snprintf(buf, sizeof(buf), "  #%-2d %#" PRIxPTR "  (image +%#" PRIxPTR ")\n", idx++, site,
			 site - base);
		line(buf);
		last = site;
	}
	repeated(repeats, line);
}

/* Starts from here: this function's own frame is skipped, and the frames
 * up to (fp) (the caller's frame address, as on aarch64) with it. */
__attribute__((noinline)) void arch_backtrace(uintptr_t fp, void (*line)(const char *))
{
	struct unwind_regs s = {0};
	uint32_t sp;
	__asm__ volatile("mov %0, sp" : "=r"(sp));
	s.r[7] = (uint32_t)(uintptr_t)__builtin_frame_address(0);
	s.r[13] = sp;
	s.r[14] = (uint32_t)(uintptr_t)__builtin_return_address(0);
	s.r[15] = (uint32_t)(uintptr_t)arch_backtrace;
	unwind(&s, 0, fp, 0, line);
}

static uint32_t cp15_dfsr(void)
{
	uint32_t v;
	__asm__ volatile("mrc p15, 0, %0, c5, c0, 0" : "=r"(v));
	return v;
}
static uint32_t cp15_dfar(void)
{
	uint32_t v;
	__asm__ volatile("mrc p15, 0, %0, c6, c0, 0" : "=r"(v));
	return v;
}
static uint32_t cp15_ifsr(void)
{
	uint32_t v;
	__asm__ volatile("mrc p15, 0, %0, c5, c0, 1" : "=r"(v));
	return v;
}
static uint32_t cp15_ifar(void)
{
	uint32_t v;
	__asm__ volatile("mrc p15, 0, %0, c6, c0, 2" : "=r"(v));
	return v;
}

static int in_progress;

void arch_trap_fatal(struct trap_frame *f, unsigned long kind)
{
	static const char *const kinds[] = {"undefined instruction", "SVC", "prefetch abort",
					    "data abort", "IRQ", "FIQ", "reset vector", "HYP trap"};
	uintptr_t base = (uintptr_t)__image_start;
	int thumb = (f->spsr >> 5) & 1;
	uint32_t pc;

	if (in_progress++) { /* a fault while reporting: stop without more words */
		out("\n*** HEARTH CRASH: fault inside the crash report ***\n");
		board_halt(70);
	}
	switch (kind) {
	case KIND_UNDEF:
	case KIND_SVC: pc = f->elr - (thumb ? 2 : 4); break;
	case KIND_PABT:
	case KIND_FIQ: pc = f->elr - 4; break;
	case KIND_DABT: pc = f->elr - 8; break;
	default: pc = f->elr; break;
	}
	outf("\n*** HEARTH CRASH: %s ***\n", kind < 8 ? kinds[kind] : "unknown exception");
	outf("in %s mode, %s state%s\n", mode_name(f->spsr), thumb ? "Thumb" : "ARM",
	     (f->spsr & 0x1f) == 0x12 ? " (inside an interrupt handler)" : "");
	if (kind == KIND_DABT || kind == KIND_PABT) {
		uint32_t fsr = kind == KIND_DABT ? cp15_dfsr() : cp15_ifsr();
		uint32_t far = kind == KIND_DABT ? cp15_dfar() : cp15_ifar();
		unsigned int level;
		const char *what = fault_name(fsr, &level);
		char lv[16] = "";
		if (level)
			snprintf(lv, sizeof(lv), " at level %u", level);
		outf("  %s%s%s\n", what, lv,
		     kind == KIND_DABT ? ((fsr & (1u << 11)) ? ", on a write" : ", on a read")
				       : ", fetching an instruction");
		if (far >= (uintptr_t)__stack_guard && far < (uintptr_t)__stack_bottom)
			out("  the address is the stack's guard page: STACK OVERFLOW\n");
		else if (far < 4096)
			out("  the address is in the first page: a NULL pointer\n");
		outf("%s %#010" PRIx32 "  %s %#010" PRIx32 "\n", kind == KIND_DABT ? "DFSR" : "IFSR",
		     fsr, kind == KIND_DABT ? "DFAR" : "IFAR", far);
	} else if (kind == KIND_UNDEF && in_text(pc)) {
		if (thumb) {
			uint16_t h1 = *(const uint16_t *)pc;
			if ((h1 & 0xe000) == 0xe000 && (h1 & 0x1800))
				outf("  instruction %04x %04x (Thumb-2)\n", h1,
				     *(const uint16_t *)(pc + 2));
			else
				outf("  instruction %04x (Thumb)\n", h1);
		} else {
			outf("  instruction %08" PRIx32 " (ARM)\n", *(const uint32_t *)pc);
		}
	}
	outf("PC   %#010" PRIx32 "  (image +%#" PRIxPTR ")  CPSR %#010" PRIx32 "\n", pc,
	     (uintptr_t)pc - base, f->spsr);
	for (int i = 0; i < 12; i += 2)
		outf("r%-2d %08" PRIx32 "  r%-2d %08" PRIx32 "\n", i, f->r[i], i + 1, f->r[i + 1]);
	outf("r12 %08" PRIx32 "  sp  %08" PRIx32 "\n", f->r[12], f->sp);
	outf("lr  %08" PRIx32 "\n", f->lr);
	out("backtrace (arm-none-eabi-addr2line -f -e build/<board>/hearth.elf <image offset>):\n");
	outf("  #0  %#010" PRIx32 "  (image +%#" PRIxPTR ")\n", pc, (uintptr_t)pc - base);
	struct unwind_regs s = {0};
	memcpy(s.r, f->r, sizeof(f->r));
	s.r[13] = f->sp;
	s.r[14] = f->lr;
	s.r[15] = pc | (uint32_t)thumb;
	unwind(&s, 1, 0, 1, out);
	out("*** end of crash report ***\n");
	board_halt(70);
}

void arch_halt(void)
{
	__asm__ volatile("cpsid aif" ::: "memory");
	for (;;)
		__asm__ volatile("wfi");
}
