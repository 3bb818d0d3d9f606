/*
 * traps.c: what happens when the CPU takes an exception it cannot handle:
 * a readable crash report (what kind of exception, the exception class
 * decoded, ESR/FAR/ELR/SPSR, every register, a frame-pointer backtrace with
 * image offsets to feed to addr2line) and a clean stop through board_halt.
 * Assumes frame pointers (-fno-omit-frame-pointer) and that the console can
 * be written by polling with interrupts off. Leaves out: recovery.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <arch/cpu.h>
#include <board.h>

struct trap_frame {
	uint64_t x[31];
	uint64_t sp;
	uint64_t elr, spsr;
	uint64_t esr, far;
};

extern char __image_start[], __stack_guard[], __stack_bottom[], __stack_top[];
extern char __exc_stack_top[];

void arch_trap_fatal(struct trap_frame *f, unsigned long kind);

static const char *ec_name(unsigned int ec)
{
	switch (ec) {
	case 0x00: return "unknown reason (undefined instruction)";
	case 0x01: return "trapped WFI/WFE";
	case 0x07: return "FP/SIMD access trapped";
	case 0x0e: return "illegal execution state";
	case 0x15: return "SVC";
	case 0x16: return "HVC";
	case 0x17: return "SMC";
	case 0x18: return "trapped MSR/MRS/system instruction";
	case 0x20: return "instruction abort from a lower EL";
	case 0x21: return "instruction abort";
	case 0x22: return "PC alignment fault";
	case 0x24: return "data abort from a lower EL";
	case 0x25: return "data abort";
	case 0x26: return "SP alignment fault";
	case 0x2c: return "floating-point exception";
	case 0x2f: return "SError";
	case 0x30: case 0x31: return "breakpoint";
	case 0x32: case 0x33: return "software step";
	case 0x34: case 0x35: return "watchpoint";
	case 0x3c: return "BRK instruction";
	default: return "unlisted exception class";
	}
}

static const char *fsc_name(unsigned int fsc)
{
	switch (fsc & 0x3c) {
	case 0x00: return "address size fault";
	case 0x04: return "translation fault (unmapped)";
	case 0x08: return "access flag fault";
	case 0x0c: return "permission fault";
	}
	switch (fsc) {
	case 0x10: return "synchronous external abort";
	case 0x21: return "alignment fault";
	case 0x30: return "TLB conflict";
	default: return "other fault";
	}
}

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

static int on_a_stack(uintptr_t p, size_t len)
{
	uintptr_t lo = (uintptr_t)__stack_bottom, hi = (uintptr_t)__exc_stack_top;
	return p >= lo && p + len <= hi && p + len > p;
}

void arch_backtrace(uintptr_t fp, void (*line)(const char *))
{
	uintptr_t base = (uintptr_t)__image_start;
	char buf[96];
	for (int i = 0; i < 32 && fp; i++) {
		if ((fp & 15) || !on_a_stack(fp, 16)) {
			snprintf(buf, sizeof(buf), "  (frame pointer %#" PRIxPTR " is off the stacks)\n", fp);
			line(buf);
			return;
		}
		uintptr_t next = ((uintptr_t *)fp)[0];
		uintptr_t lr = ((uintptr_t *)fp)[1];
		if (!lr)
			return;
		snprintf(buf, sizeof(buf), "  #%-2d %#" PRIxPTR "  (image +%#" PRIxPTR ")\n", i, lr - 4,
			 lr - 4 - base);
		line(buf);
		if (next <= fp)
			return;
		fp = next;
	}
}

static int in_progress;

void arch_trap_fatal(struct trap_frame *f, unsigned long kind)
{
	static const char *const kinds[] = {"synchronous exception", "IRQ", "FIQ", "SError"};
	unsigned int ec = (f->esr >> 26) & 0x3f;
	unsigned int iss = f->esr & 0x1ffffff;
	uintptr_t base = (uintptr_t)__image_start;

	if (in_progress++) { /* a fault while reporting: stop without more words */
		out("\n*** HEARTH CRASH: fault inside the crash report ***\n");
		board_halt(70);
	}
	outf("\n*** HEARTH CRASH: %s%s%s ***\n", kinds[kind & 3],
	     (kind & 4) ? " inside an exception handler" : "", (kind & 8) ? " from a lower EL" : "");
	if ((kind & 3) == 0 || (kind & 3) == 3)
		outf("exception class 0x%02x: %s\n", ec, ec_name(ec));
	if (ec == 0x24 || ec == 0x25 || ec == 0x20 || ec == 0x21) {
		outf("  %s at level %u%s\n", fsc_name(iss & 0x3f), iss & 3,
		     (ec >= 0x24 && (iss & (1u << 6))) ? ", on a write" : (ec >= 0x24 ? ", on a read" : ""));
		if (f->far >= (uintptr_t)__stack_guard && f->far < (uintptr_t)__stack_bottom)
			out("  the address is the stack's guard page: STACK OVERFLOW\n");
		else if (f->far < 4096)
			out("  the address is in the first page: a NULL pointer\n");
	}
	outf("ESR_EL1  %#018" PRIx64 "  FAR_EL1  %#018" PRIx64 "\n", f->esr, f->far);
	outf("ELR_EL1  %#018" PRIx64 "  (image +%#" PRIx64 ")  SPSR %#" PRIx64 "\n", f->elr,
	     f->elr - base, f->spsr);
	for (int i = 0; i < 31; i += 2) {
		if (i == 30)
			outf("x30 %016" PRIx64 "  sp  %016" PRIx64 "\n", f->x[30], f->sp);
		else
			outf("x%-2d %016" PRIx64 "  x%-2d %016" PRIx64 "\n", i, f->x[i], i + 1, f->x[i + 1]);
	}
	out("backtrace (addr2line -e build/<board>/hearth.elf <image offset>):\n");
	outf("  #0  %#" PRIx64 "  (image +%#" PRIx64 ")\n", f->elr, f->elr - base);
	arch_backtrace(f->x[29], out);
	out("*** end of crash report ***\n");
	board_halt(70);
}

void arch_halt(void)
{
	__asm__ volatile("msr daifset, #0xf" ::: "memory");
	for (;;)
		__asm__ volatile("wfi");
}
