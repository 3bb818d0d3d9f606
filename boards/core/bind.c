/*
 * bind.c: which driver gets which device-tree node, decided purely from the
 * tree and a table of drivers (no probing, no I/O), and the one-line-per-node
 * binding table the firmware's boot report and the host tool hearth-dt print
 * identically.
 *
 * Assumes a blob that board_dt_check accepted. A node's earliest compatible
 * string that some driver lists wins (as on Linux); among drivers listing the
 * same string, the first in the table. The core keeps the root, memory nodes,
 * /chosen, /aliases, and the /cpus and /reserved-memory subtrees.
 *
 * Leaves out: probing and its order (driver.c), anything that allocates.
 * board_status_str comes from driver.c (or the host tool's own copy).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libfdt.h>

#include "board.h"

/* Deepest indentation printed; board_dt_check rejects deeper trees anyway. */
#define MAX_INDENT 64

/* The first compatible string, if it is a proper string. */
static const char *first_compat(const void *fdt, int node)
{
	int len;
	const char *s = fdt_getprop(fdt, node, "compatible", &len);

	if (!s || len <= 0 || !memchr(s, '\0', (size_t)len))
		return NULL;
	return s;
}

int board_driver_match(const void *fdt, int node, const struct driver *drv)
{
	int len, i;
	const char *p, *end;

	if (!fdt || node < 0 || !drv || !drv->compat)
		return -1;
	p = fdt_getprop(fdt, node, "compatible", &len);
	if (!p || len <= 0)
		return -1;
	for (i = 0, end = p + len; p < end; i++) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		const char *const *c;

		if (!nul)
			break; /* an unterminated tail is no string */
		for (c = drv->compat; *c; c++)
			if (strlen(*c) == (size_t)(nul - p) && !memcmp(*c, p, (size_t)(nul - p)))
				return i;
		p = nul + 1;
	}
	return -1;
}

static bool name_is(const void *fdt, int node, const char *want)
{
	int len;
	const char *name = fdt_get_name(fdt, node, &len);

	return name && len >= 0 && (size_t)len == strlen(want) && !memcmp(name, want, (size_t)len);
}

static bool is_memory(const void *fdt, int node)
{
	int len;
	const char *t = fdt_getprop(fdt, node, "device_type", &len);

	return t && len == 7 && !memcmp(t, "memory", 7);
}

/* Is (node), at (depth) below the root, whose ancestor at depth 1 is (top),
 * one the core handles itself? */
static bool is_core(const void *fdt, int node, int depth, int top)
{
	if (depth == 0 || is_memory(fdt, node))
		return true;
	if (depth == 1 && (name_is(fdt, node, "chosen") || name_is(fdt, node, "aliases")))
		return true;
	return name_is(fdt, top, "cpus") || name_is(fdt, top, "reserved-memory");
}

static struct binding decide(const void *fdt, int node, bool core, const struct driver *const *drv,
			     size_t ndrv)
{
	struct binding b = {node, BIND_NONE, NULL, -1};
	size_t i;

	if (core) {
		b.state = board_dt_enabled(fdt, node) ? BIND_CORE : BIND_DISABLED;
		return b;
	}
	if (!first_compat(fdt, node))
		return b;
	if (!board_dt_enabled(fdt, node)) {
		b.state = BIND_DISABLED;
		return b;
	}
	b.state = BIND_UNBOUND;
	for (i = 0; drv && i < ndrv; i++) {
		int m = board_driver_match(fdt, node, drv[i]);

		if (m >= 0 && (b.match < 0 || m < b.match)) {
			b.state = BIND_DRIVER;
			b.drv = drv[i];
			b.match = m;
		}
	}
	return b;
}

struct binding board_bind_node(const void *fdt, int node, const struct driver *const *drv,
			       size_t ndrv)
{
	struct binding none = {node, BIND_NONE, NULL, -1};
	int depth, top;

	if (!fdt || node < 0)
		return none;
	depth = fdt_node_depth(fdt, node);
	if (depth < 0)
		return none;
	top = depth >= 1 ? fdt_supernode_atdepth_offset(fdt, node, 1, NULL) : node;
	if (top < 0)
		return none;
	return decide(fdt, node, is_core(fdt, node, depth, top), drv, ndrv);
}

int board_bind_walk(const void *fdt, const struct driver *const *drv, size_t ndrv,
		    void (*fn)(void *arg, const struct binding *b, int depth), void *arg)
{
	int node, depth = -1, top = 0;

	if (!fdt || !fn || (ndrv && !drv))
		return -EINVAL;
	for (node = fdt_next_node(fdt, -1, &depth); node >= 0 && depth >= 0;
	     node = fdt_next_node(fdt, node, &depth)) {
		struct binding b;

		if (depth == 1)
			top = node; /* the depth-1 ancestor of what follows */
		b = decide(fdt, node, is_core(fdt, node, depth, top), drv, ndrv);
		fn(arg, &b, depth);
	}
	if (node < 0 && node != -FDT_ERR_NOTFOUND)
		return -EBADMSG;
	return 0;
}

static const char *state_str(const struct binding *b)
{
	switch (b->state) {
	case BIND_CORE:
		return "core";
	case BIND_DISABLED:
		return "disabled";
	case BIND_UNBOUND:
		return "unbound";
	case BIND_DRIVER:
		return b->drv && b->drv->name ? b->drv->name : "?";
	case BIND_NONE:
	default:
		return "-";
	}
}

void board_print_binding(const void *fdt, const struct binding *b, int depth,
			 const struct device *dev, void (*out)(const char *line))
{
	char path[256], line[512];
	const char *compat;
	char *c;

	if (!fdt || !b || !out)
		return;
	if (board_dt_path(fdt, b->node, path, sizeof(path))) {
		/* Too long (or not a node): the name alone. */
		int len;
		const char *name = fdt_get_name(fdt, b->node, &len);

		snprintf(path, sizeof(path), "%s", name && len >= 0 ? name : "?");
	}
	compat = first_compat(fdt, b->node);
	if (depth < 0)
		depth = 0;
	if (depth > MAX_INDENT)
		depth = MAX_INDENT;
	snprintf(line, sizeof(line), "  %*s%s  %s  -> %s%s%s%s", 2 * depth, "", path,
		 !compat   ? "-"
		 : *compat ? compat
			   : "\"\"",
		 state_str(b), dev ? " [" : "", dev ? board_status_str(dev->status) : "",
		 dev ? "]" : "");
	/* Names come from the blob: no control characters to the console. */
	for (c = line; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	out(line);
}
