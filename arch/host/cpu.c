/*
 * cpu.c: the host "CPU": no interrupts to mask (the loop idles in ppoll),
 * no exception levels, no image range. Enough of arch/cpu.h for the code
 * above arch/ to run unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <arch/cpu.h>

unsigned long arch_irq_save(void)
{
	return 0;
}

void arch_irq_restore(unsigned long f)
{
	(void)f;
}

void arch_irq_enable(void)
{
}

void arch_irq_disable(void)
{
}

void arch_wfi(void)
{
	usleep(1000);
}

void arch_cpu_describe(char *buf, size_t len)
{
	struct utsname u;
	if (uname(&u) == 0)
		snprintf(buf, len, "host %s (%s %s)", u.machine, u.sysname, u.release);
	else
		snprintf(buf, len, "host");
}

int arch_current_el(void)
{
	return 0;
}

int arch_entry_el(void)
{
	return 0;
}

void arch_image_range(uintptr_t *start, uintptr_t *end)
{
	*start = *end = 0;
}

void arch_halt(void)
{
	exit(70);
}

void arch_backtrace(uintptr_t fp, void (*out)(const char *line))
{
	(void)fp;
	out("  (backtrace: run the host build under gdb)\n");
}
