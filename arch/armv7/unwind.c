/*
 * unwind.c: one step of a backtrace through the ARM EHABI unwind tables
 * (.ARM.exidx, .ARM.extab) the compiler emits with -funwind-tables: from a
 * frame's registers to its caller's. Thumb-2 code keeps no frame chain a
 * walker could follow, so the tables are how the crash report and panic
 * find the callers. The compact models (personality 0, 1 and 2) are
 * interpreted; every load is checked to lie on one of the image's stacks.
 * Assumes the linker inserted EXIDX_CANTUNWIND for code without tables
 * (picolibc, libgcc, the ARM-state assembly). Leaves out: C++ personality
 * routines and the iWMMXt opcodes (neither exists here).
 */
#include <stdint.h>

#include "unwind.h"

extern const uint32_t __exidx_start[], __exidx_end[];
extern char __stack_guard[], __exc_stack_top[];

#define EXIDX_CANTUNWIND 1u

/* GCC's tables name the EHABI personality routines; Hearth has no
 * exceptions to dispatch, so these exist only to keep libgcc's unwinder
 * (and its absolute relocations) out of the image. */
void __aeabi_unwind_cpp_pr0(void);
void __aeabi_unwind_cpp_pr1(void);
void __aeabi_unwind_cpp_pr2(void);
void __aeabi_unwind_cpp_pr0(void) {}
void __aeabi_unwind_cpp_pr1(void) {}
void __aeabi_unwind_cpp_pr2(void) {}

static uint32_t prel31(const uint32_t *p)
{
	return (uint32_t)(uintptr_t)p + (uint32_t)((int32_t)(*p << 1) >> 1);
}

/* The table entry covering (pc): the last one whose function starts at or
 * below it. */
static const uint32_t *find(uint32_t pc)
{
	const uint32_t *lo = __exidx_start, *hi = __exidx_end - 2, *best = 0;
	if (__exidx_end - __exidx_start < 2)
		return 0;
	while (lo <= hi) {
		const uint32_t *mid = lo + (((hi - lo) / 2) & ~1);
		if (prel31(mid) <= pc) {
			best = mid;
			lo = mid + 2;
		} else {
			hi = mid - 2;
		}
	}
	return best;
}

static int on_stack(uint32_t a)
{
	return !(a & 3) && a >= (uintptr_t)__stack_guard && a + 4 <= (uintptr_t)__exc_stack_top;
}

/* The unwind opcodes as a byte stream. */
struct ops {
	const uint32_t *word;
	unsigned int byte; /* next byte in *word, 3 (most significant) down to 0 */
	unsigned int words; /* words left after *word */
};

static int next_op(struct ops *o, uint8_t *b)
{
	if (o->byte > 3) {
		if (!o->words)
			return -1;
		o->word++;
		o->words--;
		o->byte = 3;
	}
	*b = (uint8_t)(*o->word >> (8 * o->byte));
	o->byte = o->byte ? o->byte - 1 : 4;
	return 0;
}

static int pop(struct unwind_regs *s, uint32_t *vsp, unsigned int reg)
{
	if (!on_stack(*vsp))
		return -1;
	s->r[reg] = *(const uint32_t *)(uintptr_t)*vsp;
	*vsp += 4;
	return 0;
}

static int run(struct unwind_regs *s, struct ops *o)
{
	uint32_t vsp = s->r[13];
	int pc_set = 0, sp_popped = 0;
	uint8_t op, b;

	while (!next_op(o, &op)) {
		if ((op & 0xc0) == 0x00) {
			vsp += ((uint32_t)(op & 0x3f) << 2) + 4;
		} else if ((op & 0xc0) == 0x40) {
			vsp -= ((uint32_t)(op & 0x3f) << 2) + 4;
		} else if ((op & 0xf0) == 0x80) {
			if (next_op(o, &b))
				return -1;
			unsigned int mask = ((unsigned int)(op & 0x0f) << 8) | b;
			if (!mask)
				return -1; /* "refuse to unwind" */
			uint32_t sp_val = 0;
			for (unsigned int i = 0; i < 12; i++) {
				if (!(mask & (1u << i)))
					continue;
				if (pop(s, &vsp, 4 + i))
					return -1;
				if (4 + i == 13) {
					sp_val = s->r[13];
					sp_popped = 1;
				}
				if (4 + i == 15)
					pc_set = 1;
			}
			if (sp_popped)
				vsp = sp_val;
		} else if ((op & 0xf0) == 0x90) {
			unsigned int n = op & 0x0f;
			if (n == 13 || n == 15)
				return -1;
			vsp = s->r[n];
		} else if ((op & 0xf0) == 0xa0) {
			for (unsigned int i = 4; i <= 4u + (op & 7); i++)
				if (pop(s, &vsp, i))
					return -1;
			if ((op & 8) && pop(s, &vsp, 14))
				return -1;
		} else if (op == 0xb0) {
			break;
		} else if (op == 0xb1) {
			if (next_op(o, &b) || !b || (b & 0xf0))
				return -1;
			for (unsigned int i = 0; i < 4; i++)
				if ((b & (1u << i)) && pop(s, &vsp, i))
					return -1;
		} else if (op == 0xb2) {
			uint32_t v = 0;
			unsigned int shift = 0;
			do {
				if (next_op(o, &b) || shift > 28)
					return -1;
				v |= (uint32_t)(b & 0x7f) << shift;
				shift += 7;
			} while (b & 0x80);
			vsp += 0x204 + (v << 2);
		} else if (op == 0xb3) { /* VFP d[s]..d[s+c], FSTMFDX */
			if (next_op(o, &b))
				return -1;
			vsp += 8u * ((b & 0x0f) + 1u) + 4;
		} else if ((op & 0xf8) == 0xb8) { /* VFP d8..d[8+n], FSTMFDX */
			vsp += 8u * ((op & 7) + 1u) + 4;
		} else if (op == 0xc8 || op == 0xc9) { /* VFP d[16+s].., d[s].., VPUSH */
			if (next_op(o, &b))
				return -1;
			vsp += 8u * ((b & 0x0f) + 1u);
		} else if ((op & 0xf8) == 0xd0) { /* VFP d8..d[8+n], VPUSH */
			vsp += 8u * ((op & 7) + 1u);
		} else {
			return -1; /* spare or iWMMXt */
		}
	}
	s->r[13] = vsp;
	if (!pc_set)
		s->r[15] = s->r[14];
	return 0;
}

int unwind_step(struct unwind_regs *s)
{
	/* A return address is the instruction after the call: look it up
	 * inside the call, in case the call was the function's last one. */
	uint32_t pc = s->r[15] & ~1u;
	if (s->is_return)
		pc -= 2;
	const uint32_t *e = find(pc);
	if (!e || e[1] == EXIDX_CANTUNWIND)
		return -1;
	struct ops o;
	if (e[1] & 0x80000000u) { /* inline: personality 0, three opcode bytes */
		if ((e[1] >> 24) != 0x80)
			return -1;
		o.word = &e[1];
		o.byte = 2;
		o.words = 0;
	} else {
		const uint32_t *t = (const uint32_t *)(uintptr_t)prel31(&e[1]);
		if (!(*t & 0x80000000u))
			return -1; /* a generic personality routine (C++) */
		unsigned int index = (*t >> 24) & 0x0f;
		o.word = t;
		if (index == 0) {
			o.byte = 2;
			o.words = 0;
		} else if (index == 1 || index == 2) {
			o.byte = 1;
			o.words = (*t >> 16) & 0xff;
		} else {
			return -1;
		}
	}
	uint32_t sp = s->r[13];
	if (run(s, &o) || s->r[13] < sp)
		return -1;
	s->is_return = 1;
	return 0;
}
