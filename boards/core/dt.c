/*
 * dt.c: the device-tree helpers of board.h on top of libfdt: validating an
 * untrusted DTB, reg with address translation through the parents' ranges,
 * interrupts (interrupt-parent, interrupts-extended, GIC specifiers to
 * INTIDs), memory banks, reserved regions, /chosen, model, paths, status and
 * bootargs words.
 *
 * Assumes: every helper but board_dt_check and board_bootarg is handed a blob
 * that board_dt_check accepted (libfdt trusts totalsize; nothing here knows the
 * buffer's length). Given that, no property content is trusted: every length
 * is checked before a cell is read and strings must end inside their property.
 * libfdt errors become negative errnos here and nowhere else.
 *
 * Leaves out: interrupt-map nexus translation (PCI legacy interrupts),
 * dma-ranges, bus-specific address translation (PCI/ISA flags in the high
 * cell are compared as plain bits), overlays.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <libfdt.h>

#include "board.h"

/* Deeper trees are rejected by board_dt_check (Linux's unflattening limit). */
#define MAX_DEPTH 64
/* Hops when following interrupt-parent links before calling it a loop. */
#define MAX_IRQ_HOPS 64
/* libfdt's limit for #address-cells and #size-cells. */
#define MAX_CELLS 4
#define HEADER_SIZE ((uint32_t)sizeof(struct fdt_header))

/* The one place libfdt's error codes become errnos. */
static int fdt_errno(int err)
{
	switch (-err) {
	case FDT_ERR_NOTFOUND:
	case FDT_ERR_NOPHANDLES:
		return -ENOENT;
	case FDT_ERR_EXISTS:
		return -EEXIST;
	case FDT_ERR_NOSPACE:
		return -ENOSPC;
	case FDT_ERR_TRUNCATED:
	case FDT_ERR_BADSTRUCTURE:
	case FDT_ERR_BADNCELLS:
	case FDT_ERR_BADVALUE:
		return -EBADMSG;
	case FDT_ERR_BADMAGIC:
		return -ENOEXEC;
	case FDT_ERR_BADVERSION:
		return -EPROTONOSUPPORT;
	case FDT_ERR_ALIGNMENT:
		return -EFAULT;
	case FDT_ERR_BADOFFSET:
	case FDT_ERR_BADPATH:
	case FDT_ERR_BADPHANDLE:
	case FDT_ERR_BADSTATE:
	case FDT_ERR_BADLAYOUT:
	case FDT_ERR_BADOVERLAY:
	case FDT_ERR_BADFLAGS:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/* ------------------------------------------------------------------ */
/* Property access that trusts nothing about the content               */

/* A property's value, or NULL (absent or error, *len < 0 then). */
static const void *prop(const void *fdt, int node, const char *name, int *len)
{
	const void *v = fdt_getprop(fdt, node, name, len);

	if (!v && *len >= 0)
		*len = -FDT_ERR_NOTFOUND;
	return v;
}

/* The first string of a string(-list) property, or NULL when absent, empty
 * or not NUL-terminated inside the property. */
static const char *prop_str(const void *fdt, int node, const char *name)
{
	int len;
	const char *v = prop(fdt, node, name, &len);

	if (!v || len <= 0 || !memchr(v, '\0', (size_t)len))
		return NULL;
	return v;
}

/* True when (name) is exactly the string (want) (NUL included). */
static bool prop_is(const void *fdt, int node, const char *name, const char *want)
{
	int len;
	const char *v = prop(fdt, node, name, &len);
	size_t n = strlen(want) + 1;

	return v && len >= 0 && (size_t)len == n && memcmp(v, want, n) == 0;
}

/* A one-cell property: 0, -ENOENT when absent, -EBADMSG when not 4 bytes. */
static int prop_u32(const void *fdt, int node, const char *name, uint32_t *out)
{
	int len;
	const fdt32_t *v = prop(fdt, node, name, &len);

	if (!v)
		return len == -FDT_ERR_NOTFOUND ? -ENOENT : fdt_errno(len);
	if (len != 4)
		return -EBADMSG;
	*out = fdt32_ld(v);
	return 0;
}

/* #address-cells / #size-cells of (bus) with the spec's defaults (2, 1). */
static int bus_cells(const void *fdt, int bus, const char *name, uint32_t def, uint32_t *out)
{
	int err = prop_u32(fdt, bus, name, out);

	if (err == -ENOENT) {
		*out = def;
		return 0;
	}
	if (err)
		return err;
	return *out > MAX_CELLS ? -EBADMSG : 0;
}

/* An address of up to four cells: the low two as a number, the cells above
 * them (PCI's phys.hi, for one) kept apart and compared as bits. */
struct cells {
	uint32_t hi[2];
	uint64_t lo;
};

static struct cells read_cells(const uint8_t *p, uint32_t n)
{
	struct cells c = {{0, 0}, 0};
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint32_t v = fdt32_ld((const fdt32_t *)(const void *)(p + 4 * i));
		uint32_t from_end = n - 1 - i;

		if (from_end >= 2)
			c.hi[from_end == 3 ? 0 : 1] = v;
		else
			c.lo = (c.lo << 32) | v;
	}
	return c;
}

/* A size cell group that must fit 64 bits. */
static int read_size(const uint8_t *p, uint32_t n, uint64_t *out)
{
	struct cells c = read_cells(p, n);

	if (c.hi[0] || c.hi[1])
		return -ERANGE;
	*out = c.lo;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */

static uint32_t hdr(const void *fdt, size_t off)
{
	return fdt32_ld((const fdt32_t *)(const void *)((const uint8_t *)fdt + off));
}

/* Header fields, before anything trusts them. */
static int check_header(const void *fdt, size_t maxlen)
{
	uint32_t total, off, size;

	if (maxlen < 4)
		return -ENODATA;
	if (hdr(fdt, offsetof(struct fdt_header, magic)) != FDT_MAGIC)
		return -ENOEXEC;
	if (maxlen < HEADER_SIZE)
		return -ENODATA;
	if (hdr(fdt, offsetof(struct fdt_header, version)) < 17 ||
	    hdr(fdt, offsetof(struct fdt_header, last_comp_version)) > 17)
		return -EPROTONOSUPPORT;

	total = hdr(fdt, offsetof(struct fdt_header, totalsize));
	if (total > maxlen)
		return -E2BIG;
	if (total < HEADER_SIZE || total > INT_MAX)
		return -EOVERFLOW;

	/* Memory reservation map: 8-aligned, after the header, one entry fits. */
	off = hdr(fdt, offsetof(struct fdt_header, off_mem_rsvmap));
	if (off < HEADER_SIZE || off % 8 || (uint64_t)off + 16 > total)
		return -EOVERFLOW;
	/* Structure block: 4-aligned, room for at least FDT_END. */
	off = hdr(fdt, offsetof(struct fdt_header, off_dt_struct));
	size = hdr(fdt, offsetof(struct fdt_header, size_dt_struct));
	if (off < HEADER_SIZE || off % 4 || size < 4 || size % 4 || (uint64_t)off + size > total)
		return -EOVERFLOW;
	/* Strings block. */
	off = hdr(fdt, offsetof(struct fdt_header, off_dt_strings));
	size = hdr(fdt, offsetof(struct fdt_header, size_dt_strings));
	if (off < HEADER_SIZE || (uint64_t)off + size > total)
		return -EOVERFLOW;
	return 0;
}

/* The reservation map ends with a zero entry inside totalsize. */
static int check_rsvmap(const void *fdt)
{
	uint32_t total = hdr(fdt, offsetof(struct fdt_header, totalsize));
	uint64_t off = hdr(fdt, offsetof(struct fdt_header, off_mem_rsvmap));

	for (; off + 16 <= total; off += 16) {
		const uint8_t *e = (const uint8_t *)fdt + off;
		uint64_t addr = fdt64_ld((const fdt64_t *)(const void *)e);
		uint64_t size = fdt64_ld((const fdt64_t *)(const void *)(e + 8));

		if (!addr && !size)
			return 0;
	}
	return -EBADMSG;
}

/* Tag-level shape: one root at offset 0 (not even a NOP before it: libfdt
 * finds the root there), properties only inside nodes, balanced nesting no
 * deeper than MAX_DEPTH, FDT_END after the root. */
static int check_tags(const void *fdt)
{
	int off = 0, next, depth = 0;
	bool root_done = false;

	for (;;) {
		uint32_t tag = fdt_next_tag(fdt, off, &next);

		if (next < 0)
			return -EBADMSG;
		switch (tag) {
		case FDT_BEGIN_NODE:
			if (root_done || (off != 0 && depth == 0))
				return -EBADMSG;
			if (++depth > MAX_DEPTH + 1)
				return -EBADMSG;
			break;
		case FDT_END_NODE:
			if (depth == 0)
				return -EBADMSG;
			if (--depth == 0)
				root_done = true;
			break;
		case FDT_PROP:
			if (depth == 0)
				return -EBADMSG;
			break;
		case FDT_NOP:
			if (off == 0) /* libfdt takes offset 0 for the root */
				return -EBADMSG;
			break;
		case FDT_END:
			return root_done && depth == 0 ? 0 : -EBADMSG;
		default:
			return -EBADMSG;
		}
		off = next;
	}
}

/* The same tree through libfdt's node and property iterators, every name
 * and value fetched once, so later lookups cannot meet an error first. */
static int check_walk(const void *fdt)
{
	int node, depth = -1, prop_off, len;
	const char *name;

	for (node = fdt_next_node(fdt, -1, &depth); node >= 0 && depth >= 0;
	     node = fdt_next_node(fdt, node, &depth)) {
		if (!fdt_get_name(fdt, node, &len))
			return -EBADMSG;
		fdt_for_each_property_offset(prop_off, fdt, node)
		{
			if (!fdt_getprop_by_offset(fdt, prop_off, &name, &len) || !name)
				return -EBADMSG;
		}
		if (prop_off != -FDT_ERR_NOTFOUND)
			return -EBADMSG;
	}
	if (node >= 0 ? depth != -1 : node != -FDT_ERR_NOTFOUND)
		return -EBADMSG;
	return 0;
}

int board_dt_check(const void *fdt, size_t maxlen)
{
	int err;

	if (!fdt)
		return -EINVAL;
	if ((uintptr_t)fdt % 8)
		return -EFAULT;
	err = check_header(fdt, maxlen);
	if (err)
		return err;
	err = fdt_check_header(fdt);
	if (err)
		return fdt_errno(err);
	err = check_rsvmap(fdt);
	if (err)
		return err;
	err = fdt_num_mem_rsv(fdt);
	if (err < 0)
		return -EBADMSG;
	/* The header is known good: whatever fdt_check_full finds is in the
	 * structure or strings block. */
	if (fdt_check_full(fdt, maxlen))
		return -EBADMSG;
	err = check_tags(fdt);
	if (err)
		return err;
	return check_walk(fdt);
}

const char *board_dt_strerror(int err)
{
	if (err == INT_MIN)
		return "unknown error";
	switch (err < 0 ? -err : err) {
	case 0:
		return "ok";
	case EINVAL:
		return "invalid argument";
	case EFAULT:
		return "DTB not 8-byte aligned in memory";
	case ENODATA:
		return "shorter than a DTB header";
	case ENOEXEC:
		return "bad magic: not a flattened device tree";
	case EPROTONOSUPPORT:
		return "unsupported DTB version (need version 17)";
	case E2BIG:
		return "totalsize exceeds the buffer (truncated DTB?)";
	case EOVERFLOW:
		return "header sizes or offsets point outside the DTB";
	case EBADMSG:
		return "malformed device tree content";
	case ENOENT:
		return "not found";
	case ENOSPC:
		return "buffer too small";
	case ERANGE:
		return "value out of range";
	case ELOOP:
		return "reference loop";
	case ENOTSUP:
		return "not supported";
	case EIO:
		return "libfdt internal error";
	default:
		return "unknown error";
	}
}

/* ------------------------------------------------------------------ */
/* reg and ranges                                                      */

/* The offsets from the root down to (node): chain[0] is the root,
 * chain[depth] the node. One walk of the tree (libfdt's fdt_parent_offset
 * costs two per call). Returns the depth or -errno. */
static int ancestors(const void *fdt, int node, int chain[MAX_DEPTH + 1])
{
	int off, depth = -1;

	for (off = fdt_next_node(fdt, -1, &depth); off >= 0 && depth >= 0 && off <= node;
	     off = fdt_next_node(fdt, off, &depth)) {
		if (depth > MAX_DEPTH)
			return -EBADMSG;
		chain[depth] = off;
		if (off == node)
			return depth;
	}
	return -EINVAL; /* not the offset of a node */
}

/* Translates (a), an address on the bus below node chain[level], to the
 * root's (CPU) address space through each bus's ranges. */
static int translate(const void *fdt, const int *chain, int level, struct cells *a)
{
	for (; level > 0; level--) {
		int bus = chain[level], up = chain[level - 1], len, i, n;
		uint32_t cac, pac, psz, step;
		const uint8_t *r;

		r = prop(fdt, bus, "ranges", &len);
		if (!r) /* not memory-mapped (I2C, SPI, /cpus...) */
			return len == -FDT_ERR_NOTFOUND ? -ENOENT : fdt_errno(len);
		if (len == 0)
			continue; /* identity mapping */
		if (bus_cells(fdt, bus, "#address-cells", 2, &cac) ||
		    bus_cells(fdt, up, "#address-cells", 2, &pac) ||
		    bus_cells(fdt, bus, "#size-cells", 1, &psz) || !cac || !pac)
			return -EBADMSG;
		step = 4 * (cac + pac + psz);
		if (len % step)
			return -EBADMSG;
		n = len / (int)step;
		for (i = 0; i < n; i++, r += step) {
			struct cells child = read_cells(r, cac);
			struct cells parent = read_cells(r + 4 * cac, pac);
			uint64_t size, off;

			if (read_size(r + 4 * (cac + pac), psz, &size))
				size = UINT64_MAX;
			if (child.hi[0] != a->hi[0] || child.hi[1] != a->hi[1] ||
			    a->lo < child.lo || a->lo - child.lo >= size)
				continue;
			off = a->lo - child.lo;
			if (parent.lo > UINT64_MAX - off)
				return -ERANGE;
			a->hi[0] = parent.hi[0];
			a->hi[1] = parent.hi[1];
			a->lo = parent.lo + off;
			break;
		}
		if (i == n)
			return -ENOENT; /* no window of the bus maps it */
	}
	/* At the root: what does not fit 64 bits is no CPU address. */
	return a->hi[0] || a->hi[1] ? -ERANGE : 0;
}

/* (node)'s reg, its parent's #address-cells and #size-cells, and the
 * chain of ancestors; returns the number of entries or -errno. */
static int reg_layout(const void *fdt, int node, const uint8_t **reg, uint32_t *ac, uint32_t *sc,
		      int chain[MAX_DEPTH + 1], int *depth)
{
	int len;

	*reg = prop(fdt, node, "reg", &len);
	if (!*reg) /* the cheap test first: most nodes have no reg */
		return len == -FDT_ERR_NOTFOUND ? 0 : fdt_errno(len);
	*depth = ancestors(fdt, node, chain);
	if (*depth < 0)
		return *depth;
	if (*depth == 0)
		return 0; /* the root: a reg there means nothing */
	if (bus_cells(fdt, chain[*depth - 1], "#address-cells", 2, ac) ||
	    bus_cells(fdt, chain[*depth - 1], "#size-cells", 1, sc) || !*ac ||
	    len % (int)(4 * (*ac + *sc)))
		return -EBADMSG;
	return len / (int)(4 * (*ac + *sc));
}

int board_dt_reg(const void *fdt, int node, int index, uint64_t *addr, uint64_t *size)
{
	int chain[MAX_DEPTH + 1], depth = 0, n, err;
	uint32_t ac = 0, sc = 0;
	const uint8_t *reg;
	struct cells a;
	uint64_t s;

	if (!fdt || node < 0 || index < 0)
		return -EINVAL;
	n = reg_layout(fdt, node, &reg, &ac, &sc, chain, &depth);
	if (n < 0)
		return n;
	if (index >= n)
		return -ENOENT;
	reg += (size_t)index * 4 * (ac + sc);
	a = read_cells(reg, ac);
	err = read_size(reg + 4 * ac, sc, &s);
	if (err)
		return err;
	err = translate(fdt, chain, depth - 1, &a);
	if (err)
		return err;
	if (addr)
		*addr = a.lo;
	if (size)
		*size = s;
	return 0;
}

/* Number of reg entries of (node), or -errno. */
static int reg_count(const void *fdt, int node)
{
	int chain[MAX_DEPTH + 1], depth;
	uint32_t ac, sc;
	const uint8_t *reg;

	return reg_layout(fdt, node, &reg, &ac, &sc, chain, &depth);
}

/* ------------------------------------------------------------------ */
/* Interrupts                                                          */

/* A GIC (v1-v4, or a vendor copy) by compatible: "vendor,...gic..." or the
 * old "arm,pl390". A bare "three cells" rule would take e.g. Allwinner's
 * pinctrl (bank, pin, flags) for a GIC. */
static bool is_gic(const void *fdt, int node)
{
	int len;
	const char *p = prop(fdt, node, "compatible", &len), *end;

	if (!p || len <= 0)
		return false;
	for (end = p + len; p < end;) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		const char *model;

		if (!nul)
			return false;
		if (!strcmp(p, "arm,pl390"))
			return true;
		model = memchr(p, ',', (size_t)(nul - p));
		model = model ? model + 1 : p;
		for (; model + 3 <= nul; model++)
			if (!memcmp(model, "gic", 3))
				return true;
		p = nul + 1;
	}
	return false;
}

static unsigned int trigger(uint32_t type)
{
	if (type & 3) /* rising, falling or both edges */
		return IRQ_EDGE;
	if (type & 12) /* high or low level */
		return IRQ_LEVEL;
	return 0; /* not specified */
}

/* #interrupt-cells of a controller, 1..4. */
static int irq_cells(const void *fdt, int ctrl, uint32_t *cells)
{
	int err = prop_u32(fdt, ctrl, "#interrupt-cells", cells);

	if (err)
		return err == -ENOENT ? -EBADMSG : err;
	return *cells >= 1 && *cells <= 4 ? 0 : -EBADMSG;
}

/* The interrupt parent of (node), the way Linux finds it: the node's own
 * interrupt-parent, else its parent's, until a node with #interrupt-cells. */
static int irq_parent(const void *fdt, int node)
{
	int chain[MAX_DEPTH + 1], depth, cur = node, hops;

	depth = ancestors(fdt, node, chain);
	if (depth < 0)
		return depth;
	for (hops = 0; hops < MAX_IRQ_HOPS; hops++) {
		uint32_t ph;
		int err = prop_u32(fdt, cur, "interrupt-parent", &ph), p;

		if (err == -ENOENT) {
			if (depth == 0)
				return -ENOENT; /* ran out of tree */
			p = chain[--depth];
		} else if (err) {
			return err;
		} else {
			p = fdt_node_offset_by_phandle(fdt, ph);
			if (p < 0) /* dangling reference */
				return -EBADMSG;
			if (!fdt_getprop(fdt, p, "#interrupt-cells", NULL)) {
				depth = ancestors(fdt, p, chain);
				if (depth < 0)
					return depth;
			}
		}
		if (fdt_getprop(fdt, p, "#interrupt-cells", NULL))
			return p;
		cur = p;
	}
	return -ELOOP;
}

static int decode_irq(const void *fdt, int ctrl, const uint8_t *spec, uint32_t cells,
		      struct dt_irq *out)
{
	uint32_t c0 = fdt32_ld((const fdt32_t *)(const void *)spec);
	uint32_t c1 = cells > 1 ? fdt32_ld((const fdt32_t *)(const void *)(spec + 4)) : 0;

	if (!fdt_getprop(fdt, ctrl, "interrupt-controller", NULL))
		return -ENOTSUP; /* an interrupt-map nexus: not translated */
	if (is_gic(fdt, ctrl) && cells >= 3) {
		uint32_t c2 = fdt32_ld((const fdt32_t *)(const void *)(spec + 8));

		switch (c0) {
		case 0: /* SPI: INTIDs 32..1019 */
			if (c1 >= 988)
				return -EBADMSG;
			out->irq = 32 + c1;
			break;
		case 1: /* PPI: INTIDs 16..31 */
			if (c1 >= 16)
				return -EBADMSG;
			out->irq = 16 + c1;
			break;
		case 2: /* GICv3.1 extended SPI: 4096.. */
			if (c1 >= 1024)
				return -EBADMSG;
			out->irq = 4096 + c1;
			break;
		case 3: /* GICv3.1 extended PPI: 1056.. */
			if (c1 >= 64)
				return -EBADMSG;
			out->irq = 1056 + c1;
			break;
		default:
			return -EBADMSG;
		}
		out->flags = trigger(c2 & 0xf);
	} else if (cells == 1) {
		out->irq = c0;
		out->flags = 0;
	} else if (cells == 2) {
		out->irq = c0;
		out->flags = trigger(c1 & 0xf);
	} else {
		return -ENOTSUP; /* a controller-specific specifier */
	}
	out->parent = ctrl;
	return 0;
}

/* The (index)th entry of interrupts-extended: <phandle spec...>... */
static int irq_extended(const void *fdt, const uint8_t *p, int len, int index, struct dt_irq *out)
{
	int i;

	for (i = 0; len > 0; i++) {
		uint32_t cells;
		int ctrl, err;

		if (len < 4)
			return -EBADMSG;
		ctrl = fdt_node_offset_by_phandle(fdt, fdt32_ld((const fdt32_t *)(const void *)p));
		if (ctrl < 0)
			return -EBADMSG;
		err = irq_cells(fdt, ctrl, &cells);
		if (err)
			return err;
		if ((uint32_t)len - 4 < 4 * cells)
			return -EBADMSG;
		if (i == index)
			return decode_irq(fdt, ctrl, p + 4, cells, out);
		p += 4 + 4 * cells;
		len -= (int)(4 + 4 * cells);
	}
	return -ENOENT;
}

int board_dt_irq(const void *fdt, int node, int index, struct dt_irq *out)
{
	const uint8_t *p;
	int len, ctrl, err;
	uint32_t cells;
	struct dt_irq tmp;

	if (!fdt || node < 0 || index < 0)
		return -EINVAL;
	if (!out)
		out = &tmp;
	p = prop(fdt, node, "interrupts-extended", &len);
	if (p)
		return irq_extended(fdt, p, len, index, out);
	if (len != -FDT_ERR_NOTFOUND)
		return fdt_errno(len);
	p = prop(fdt, node, "interrupts", &len);
	if (!p)
		return len == -FDT_ERR_NOTFOUND ? -ENOENT : fdt_errno(len);
	ctrl = irq_parent(fdt, node);
	if (ctrl < 0)
		return ctrl;
	err = irq_cells(fdt, ctrl, &cells);
	if (err)
		return err;
	if (len % (int)(4 * cells))
		return -EBADMSG;
	if (index >= len / (int)(4 * cells))
		return -ENOENT;
	return decode_irq(fdt, ctrl, p + (size_t)index * 4 * cells, cells, out);
}

/* ------------------------------------------------------------------ */
/* Memory                                                              */

/* Appends (node)'s non-empty reg entries to out[*n]. */
static int add_regs(const void *fdt, int node, struct mem_region *out, int max, int *n)
{
	int count = reg_count(fdt, node), i;

	if (count < 0)
		return count;
	for (i = 0; i < count; i++) {
		uint64_t base, size;
		int err = board_dt_reg(fdt, node, i, &base, &size);

		if (err) /* the entry exists: not found means untranslatable */
			return err == -ENOENT ? -EBADMSG : err;
		if (!size)
			continue; /* a placeholder some loaders leave */
		if (*n >= max)
			return -ENOSPC;
		out[*n].base = base;
		out[(*n)++].size = size;
	}
	return 0;
}

int board_dt_memory(const void *fdt, struct mem_region *out, int max)
{
	int node, depth = -1, n = 0, err;

	if (!fdt || max < 0 || (max && !out))
		return -EINVAL;
	for (node = fdt_next_node(fdt, -1, &depth); node >= 0 && depth >= 0;
	     node = fdt_next_node(fdt, node, &depth)) {
		if (!prop_is(fdt, node, "device_type", "memory") || !board_dt_enabled(fdt, node))
			continue;
		err = add_regs(fdt, node, out, max, &n);
		if (err)
			return err;
	}
	if (node < 0 && node != -FDT_ERR_NOTFOUND)
		return fdt_errno(node);
	return n;
}

int board_dt_reserved(const void *fdt, struct mem_region *out, int max)
{
	int i, n = 0, rsv, node, err;

	if (!fdt || max < 0 || (max && !out))
		return -EINVAL;
	rsv = fdt_num_mem_rsv(fdt);
	if (rsv < 0)
		return fdt_errno(rsv);
	for (i = 0; i < rsv; i++) {
		uint64_t base, size;

		err = fdt_get_mem_rsv(fdt, i, &base, &size);
		if (err)
			return fdt_errno(err);
		if (n >= max)
			return -ENOSPC;
		out[n].base = base;
		out[n++].size = size;
	}
	node = fdt_path_offset(fdt, "/reserved-memory");
	if (node == -FDT_ERR_NOTFOUND)
		return n;
	if (node < 0)
		return fdt_errno(node);
	if (!fdt_getprop(fdt, node, "ranges", NULL))
		return -EBADMSG; /* required by the binding; Linux ignores such a node */
	fdt_for_each_subnode(i, fdt, node)
	{
		if (!board_dt_enabled(fdt, i))
			continue;
		err = add_regs(fdt, i, out, max, &n); /* none for dynamic pools */
		if (err)
			return err;
	}
	if (i != -FDT_ERR_NOTFOUND)
		return fdt_errno(i);
	return n;
}

/* ------------------------------------------------------------------ */
/* /chosen, model, paths, status                                       */

const char *board_dt_bootargs(const void *fdt)
{
	int chosen = fdt ? fdt_path_offset(fdt, "/chosen") : -1;
	const char *s = chosen >= 0 ? prop_str(fdt, chosen, "bootargs") : NULL;

	return s ? s : "";
}

/* Node of a full path given as (path, len), no aliases. */
static int path_node(const void *fdt, const char *path, size_t len)
{
	int node;

	if (!len || path[0] != '/' || len > INT_MAX)
		return -ENOENT;
	node = fdt_path_offset_namelen(fdt, path, (int)len);
	return node < 0 ? -ENOENT : node;
}

int board_dt_stdout(const void *fdt)
{
	int chosen, aliases, len;
	const char *s, *alias;
	size_t n;

	if (!fdt)
		return -EINVAL;
	chosen = fdt_path_offset(fdt, "/chosen");
	if (chosen < 0)
		return chosen == -FDT_ERR_NOTFOUND ? -ENOENT : fdt_errno(chosen);
	s = prop_str(fdt, chosen, "stdout-path");
	if (!s)
		s = prop_str(fdt, chosen, "linux,stdout-path");
	if (!s)
		return -ENOENT;
	n = strcspn(s, ":"); /* "serial0:115200n8" */
	if (s[0] == '/')
		return path_node(fdt, s, n);
	/* An alias, whose value must itself be a full path (one level only,
	 * so that aliases naming each other cannot loop). */
	aliases = fdt_path_offset(fdt, "/aliases");
	if (aliases < 0 || !n || n > INT_MAX)
		return -ENOENT;
	alias = fdt_getprop_namelen(fdt, aliases, s, (int)n, &len);
	if (!alias || len <= 0 || !memchr(alias, '\0', (size_t)len))
		return -ENOENT;
	return path_node(fdt, alias, strlen(alias));
}

const char *board_dt_model(const void *fdt)
{
	const char *s;

	if (!fdt)
		return "unknown";
	s = prop_str(fdt, 0, "model");
	if (!s || !*s)
		s = prop_str(fdt, 0, "compatible");
	return s && *s ? s : "unknown";
}

int board_dt_path(const void *fdt, int node, char *buf, size_t len)
{
	int chain[MAX_DEPTH + 1], depth, d;
	size_t pos = 0;

	if (!fdt || node < 0 || !buf || !len)
		return -EINVAL;
	buf[0] = '\0';
	/* One walk (fdt_get_path names every node on its way). */
	depth = ancestors(fdt, node, chain);
	if (depth < 0)
		return depth;
	for (d = 1; d <= depth; d++) {
		int nlen;
		const char *name = fdt_get_name(fdt, chain[d], &nlen);

		if (!name || nlen < 0) {
			buf[0] = '\0';
			return -EBADMSG;
		}
		if (pos + 1 + (size_t)nlen >= len) {
			buf[0] = '\0';
			return -ENOSPC;
		}
		buf[pos++] = '/';
		memcpy(buf + pos, name, (size_t)nlen);
		pos += (size_t)nlen;
	}
	if (depth == 0) {
		if (len < 2)
			return -ENOSPC;
		buf[pos++] = '/';
	}
	buf[pos] = '\0';
	return 0;
}

bool board_dt_enabled(const void *fdt, int node)
{
	int len;

	if (!fdt || node < 0)
		return false;
	if (!fdt_getprop(fdt, node, "status", &len))
		return len == -FDT_ERR_NOTFOUND;
	return prop_is(fdt, node, "status", "okay") || prop_is(fdt, node, "status", "ok");
}

/* ------------------------------------------------------------------ */
/* Kernel-style command lines                                          */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int board_bootarg(const char *bootargs, const char *key, char *buf, size_t len)
{
	size_t klen;
	const char *p, *val = NULL;
	size_t vlen = 0;

	if (!key || !*key || strpbrk(key, "= \t\n\r") || (len && !buf))
		return -EINVAL;
	if (!bootargs)
		return -ENOENT;
	klen = strlen(key);
	/* The last occurrence wins, as on Linux's command line. */
	for (p = bootargs; *p;) {
		const char *w;
		size_t wlen;

		while (is_space(*p))
			p++;
		for (w = p; *p && !is_space(*p); p++)
			;
		wlen = (size_t)(p - w);
		if (wlen < klen || memcmp(w, key, klen))
			continue;
		if (wlen == klen) {
			val = w + wlen;
			vlen = 0;
		} else if (w[klen] == '=') {
			val = w + klen + 1;
			vlen = wlen - klen - 1;
		}
	}
	if (!val)
		return -ENOENT;
	if (vlen > INT_MAX)
		return -ERANGE;
	if (!buf && !len)
		return (int)vlen; /* asking for the length */
	if (vlen >= len) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	memcpy(buf, val, vlen);
	buf[vlen] = '\0';
	return (int)vlen;
}
