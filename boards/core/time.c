/*
 * time.c: wall-clock time. The monotonic clock is the bound clock device;
 * the wall clock is an offset to it, set from the RTC at boot and later by
 * SNTP. Leaves out: time zones (the UI shows local time), leap seconds.
 */
#include <board.h>

static int64_t wall_offset; /* unix ns at monotonic 0 */
static bool wall_valid;

uint64_t time_now_ms(void)
{
	return time_now_ns() / 1000000u;
}

void time_wall_set(int64_t unix_ns)
{
	wall_offset = unix_ns - (int64_t)time_now_ns();
	wall_valid = true;
}

bool time_wall_valid(void)
{
	return wall_valid;
}

int64_t time_wall_ns(void)
{
	return wall_valid ? wall_offset + (int64_t)time_now_ns() : 0;
}
