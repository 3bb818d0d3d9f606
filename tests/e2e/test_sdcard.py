#!/usr/bin/python3
"""test_sdcard.py: the Cubieboard2's SD card image, checked from outside.

`make sdcard BOARD=cubieboard2` (scripts/sdcard.sh) builds the card; this
test reads it as a card reader and the A20 would: the MBR (sfdisk --json),
the boot ROM's view (the SPL's "eGON.BT0" header and checksum at 8 KiB),
U-Boot's legacy image after the SPL, the FAT partition (mtools), the boot
script (its legacy header, its text, every address in it against the board's
RAM, U-Boot's own addresses and the other files' real sizes), the DTB and
binaries against Debian's pinned packages, dom0's initramfs (cpio, parsed
here) and the data partition (all zero, so Hearth formats it).

Then it boots a copy of the card as far as emulation allows. QEMU has no A20
with the virtualization extensions, but its 32-bit `virt` machine has the same
RAM base (0x40000000) and, with virtualization=on, HYP mode. Debian's U-Boot
for that machine (u-boot-qemu) finds the card as a virtio disk and runs the
card's own boot.scr, which loads the card's Xen, dom0 kernel and initramfs;
Xen starts dom0, whose /init finds the data partition by the MBR's disk id,
bridges the (virtio) network and starts Hearth's ARMv7 image as the PV domU.
After HTTPS health, the update image is written over the used card and the
card boots again: Hearth's store and TLS identity are still there.
The one file swapped in the copy is the DTB: QEMU's own (dumped for the same
machine), with the A20's `serial0` alias added and its PCIe host removed
(the A20 has none, and dom0 stalls probing QEMU's ECAM above 4 GiB). The
check ends with HTTPS health from Hearth through the forwarded port.

SDCARD_O=DIR builds into DIR instead of build/cubieboard2.
"""
import gzip
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(__file__))
from harness import ROOT, Boot, Runner, check, free_port  # noqa: E402

OUT = os.path.join(ROOT, os.environ.get("SDCARD_O", "build/cubieboard2"))
CARD = os.path.join(OUT, "hearth-cubieboard2.img")
UPDATE = os.path.join(OUT, "hearth-cubieboard2-update.img")
HEARTH = os.path.join(OUT, "hearth.img")
LOCK = os.path.join(ROOT, "third_party.lock")
DEBS = os.path.join(ROOT, "build", "debs")
KVER = "6.1.0-50-armmp-lpae"
DTB = "sun7i-a20-cubieboard2.dtb"
MiB = 1024 * 1024
# The A20's DRAM: 1 GiB at 0x40000000 on the Cubieboard2. The kernel's DTB
# has no /memory node (checked below): U-Boot writes it after sizing DRAM.
RAM = (0x40000000, 0x80000000)
BOOT_FILES = ["boot.scr", "boot.cmd", "xen", DTB, "vmlinuz", "initrd.gz"]
DOM0_MODULES = ["xen-evtchn", "xen-privcmd", "xenfs", "xen-gntdev", "xen-gntalloc", "llc", "stp",
                "bridge", "xen-netback", "xen-blkback", "libphy", "realtek", "stmmac",
                "stmmac-platform", "dwmac-sunxi", "sunxi-mmc", "virtio_mmio", "virtio_net",
                "virtio_blk"]
MTOOLS = dict(os.environ, MTOOLS_SKIP_CHECK="1")

_cache = {}


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw).stdout


def build():
    if "built" not in _cache:
        rel = os.path.relpath(OUT, ROOT)
        r = subprocess.run(["make", "-s", "sdcard", "BOARD=cubieboard2", f"O={rel}"], cwd=ROOT,
                           capture_output=True, text=True)
        check(r.returncode == 0, f"make sdcard failed:\n{r.stdout}\n{r.stderr}")
        _cache["built"] = True
    return CARD


def table():
    if "table" not in _cache:
        _cache["table"] = json.loads(run(["sfdisk", "--json", build()]))["partitiontable"]
    return _cache["table"]


def card_bytes(off, n):
    with open(build(), "rb") as f:
        f.seek(off)
        return f.read(n)


def deb_file(pkg, path):
    """A file from the pinned Debian package (its .deb checked against the lock)."""
    key = ("deb", pkg, path)
    if key in _cache:
        return _cache[key]
    pin = None
    with open(LOCK) as f:
        for line in f:
            w = line.split()
            if len(w) == 5 and w[0] == "deb" and w[2] == pkg:
                pin = w
    check(pin is not None, f"{pkg} is not pinned in third_party.lock")
    deb = run([os.path.join(ROOT, "scripts", "deb-download.sh"), pin[1], pkg], text=True).strip()
    sha = run(["sha256sum", deb], text=True).split()[0]
    check(sha == pin[4], f"{deb}: sha256 {sha}, the lock says {pin[4]}")
    tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], check=True, capture_output=True).stdout
    data = subprocess.run(["tar", "-xO", "-f", "-", "./" + path.lstrip("/")], input=tar,
                          check=True, capture_output=True).stdout
    _cache[key] = data
    return data


def boot_dir():
    """The FAT partition's files, copied out with mtools."""
    if "boot" not in _cache:
        p1 = table()["partitions"][0]
        d = tempfile.mkdtemp(prefix="hearth-sdcard-")
        img = f"{build()}@@{p1['start'] * 512}"
        names = run(["mdir", "-b", "-i", img, "::/"], env=MTOOLS, text=True).split()
        _cache["boot_names"] = sorted(n.lstrip(":/") for n in names)
        for n in BOOT_FILES:
            if n in _cache["boot_names"]:
                run(["mcopy", "-n", "-i", img, f"::/{n}", os.path.join(d, n)], env=MTOOLS)
        _cache["boot"] = d
    return _cache["boot"]


def boot_file(name):
    with open(os.path.join(boot_dir(), name), "rb") as f:
        return f.read()


def legacy_image(data):
    """U-Boot's 64-byte legacy header (image.h), its CRCs checked."""
    check(len(data) >= 64, "short legacy image")
    (magic, hcrc, _time, size, load, ep, dcrc, os_, arch, typ, comp) = struct.unpack(
        ">IIIIIIIBBBB", data[:32])
    name = data[32:64].rstrip(b"\0").decode()
    check(magic == 0x27051956, f"legacy image magic 0x{magic:08x}")
    check(zlib.crc32(data[:4] + b"\0\0\0\0" + data[8:64]) == hcrc, "legacy image header CRC wrong")
    check(len(data) >= 64 + size and zlib.crc32(data[64:64 + size]) == dcrc,
          "legacy image data CRC wrong (or image cut short)")
    return dict(size=size, load=load, ep=ep, os=os_, arch=arch, type=typ, comp=comp, name=name,
                data=data[64:64 + size])


def script():
    """boot.scr's text: a script image holds a list of part lengths, then the parts."""
    img = legacy_image(boot_file("boot.scr"))
    check(img["type"] == 6 and img["arch"] == 2 and img["comp"] == 0,
          f"boot.scr is not an uncompressed ARM script image: {img}")
    data = img["data"]
    lens = []
    off = 0
    while True:
        (n,) = struct.unpack(">I", data[off:off + 4])
        off += 4
        if n == 0:
            break
        lens.append(n)
    check(len(lens) == 1, f"boot.scr has {len(lens)} parts")
    return data[off:off + lens[0]].decode()


def cpio_entries(data):
    """Concatenated newc archives -> {path: (mode, bytes)}; later ones win, as the kernel unpacks."""
    out = {}
    off = 0
    while off < len(data):
        if data[off:off + 6] != b"070701":
            check(data[off:off + 4] == b"\0\0\0\0", f"cpio: junk at {off}")
            off += 4
            continue
        f = [int(data[off + 6 + 8 * i:off + 14 + 8 * i], 16) for i in range(13)]
        mode, size, namesize = f[1], f[6], f[11]
        name = data[off + 110:off + 110 + namesize - 1].decode()
        off += 110 + namesize
        off += -off % 4
        body = data[off:off + size]
        off += size
        off += -off % 4
        if name != "TRAILER!!!":
            out[name] = (mode, body)
    return out


def initramfs():
    if "cpio" not in _cache:
        _cache["cpio"] = cpio_entries(gzip.decompress(boot_file("initrd.gz")))
    return _cache["cpio"]


def uboot_env(binary, var):
    m = re.search(rb"(?:^|\0)" + var.encode() + rb"=(0x[0-9a-fA-F]+)\0", binary)
    check(m is not None, f"no {var} in U-Boot's default environment")
    return int(m.group(1), 16)


# --- the card, statically -----------------------------------------------------


def test_partition_table():
    t = table()
    size = os.path.getsize(build())
    check(t["label"] == "dos", f"not an MBR: {t['label']}")
    check(t["id"] == "0x68747248", f"disk id {t['id']}, want 0x68747248")
    check(card_bytes(440, 4) == b"Hrth", "the disk id's bytes at 440 are not 'Hrth'")
    p = t["partitions"]
    check(len(p) == 2, f"{len(p)} partitions")
    boot, data = p
    check(boot["start"] * 512 >= MiB, f"partition 1 starts at sector {boot['start']}, before 1 MiB")
    check(boot["start"] % 2048 == 0 and data["start"] % 2048 == 0, "partitions not MiB aligned")
    check(boot["type"] in ("b", "c", "e", "6") and boot.get("bootable"),
          f"partition 1 is not a bootable FAT partition: {boot}")
    check(data["type"] == "da", f"partition 2 has type {data['type']}, want da (no filesystem)")
    check(data["start"] >= boot["start"] + boot["size"], "the partitions overlap")
    check((data["start"] + data["size"]) * 512 == size,
          f"partition 2 ends at {(data['start'] + data['size']) * 512}, the image at {size}")
    want = int(os.environ.get("SDCARD_DATA_MB", "256")) * MiB
    check(data["size"] * 512 == want, f"data partition is {data['size'] * 512} bytes, want {want}")


def test_uboot_and_spl():
    spl = card_bytes(8192, 32768)
    check(spl[4:12] == b"eGON.BT0", f"no eGON.BT0 at 8 KiB + 4: {spl[4:12]!r}")
    (stored, length) = struct.unpack("<II", spl[12:20])
    check(0 < length <= 32768 and length % 4 == 0, f"SPL length {length}")
    words = struct.unpack(f"<{length // 4}I", spl[:length])
    total = (sum(words) - stored + 0x5F0A6C39) & 0xFFFFFFFF
    check(total == stored, f"SPL checksum 0x{stored:08x}, computed 0x{total:08x}: the boot ROM would skip it")
    debian = deb_file("u-boot-sunxi", "usr/lib/u-boot/Cubieboard2/u-boot-sunxi-with-spl.bin")
    check(card_bytes(8192, len(debian)) == debian, "the card's U-Boot is not Debian's Cubieboard2 build")
    check(8192 + len(debian) <= table()["partitions"][0]["start"] * 512,
          "U-Boot runs into partition 1")
    # U-Boot proper follows the SPL (padded to 32 KiB) as a legacy image.
    ub = legacy_image(card_bytes(8192 + 32768, len(debian) - 32768))
    check(ub["name"].startswith("U-Boot 2023.01"), f"after the SPL: {ub['name']!r}")
    check(RAM[0] <= ub["load"] < RAM[1], f"U-Boot loads at 0x{ub['load']:x}, outside RAM")
    check(b"run distro_bootcmd" in ub["data"] and b"boot.scr" in ub["data"],
          "U-Boot does not run distro boot (boot.scr)")


def test_boot_partition_files():
    d = boot_dir()
    check(_cache["boot_names"] == sorted(BOOT_FILES), f"boot partition holds {_cache['boot_names']}")
    label = run(["mlabel", "-s", "-i", f"{build()}@@{table()['partitions'][0]['start'] * 512}", "::"],
                env=MTOOLS, text=True)
    check("HEARTH-BOOT" in label, f"volume label: {label}")
    check(boot_file("xen") == deb_file("xen-hypervisor-4.17-armhf", "boot/xen-4.17-armhf"),
          "xen is not Debian's xen-4.17-armhf")
    check(boot_file("vmlinuz") == deb_file(f"linux-image-{KVER}", f"boot/vmlinuz-{KVER}"),
          f"vmlinuz is not Debian's vmlinuz-{KVER}")
    check(boot_file(DTB) == deb_file(f"linux-image-{KVER}", f"usr/lib/linux-image-{KVER}/{DTB}"),
          f"{DTB} is not the one in linux-image-{KVER}")
    for name in ("xen", "vmlinuz"):
        magic = struct.unpack("<I", boot_file(name)[0x24:0x28])[0]
        check(magic == 0x016F2818, f"{name} is not a zImage (bootz and Xen load zImages)")
    r = subprocess.run(["dumpimage", "-l", os.path.join(d, "boot.scr")], capture_output=True, text=True)
    check(r.returncode == 0 and "Script" in r.stdout, f"dumpimage -l boot.scr: {r.stdout}{r.stderr}")


def test_dtb():
    path = os.path.join(boot_dir(), DTB)

    def get(node, prop, t="s"):
        return run(["fdtget", "-t", t, path, node, prop], text=True).strip()

    nodes = run(["fdtget", "-l", path, "/"], text=True).split()
    check(not any(n.startswith("memory") for n in nodes),
          "the DTB has a /memory node: check the RAM assumed here against it")
    check(get("/aliases", "serial0") == "/soc/serial@1c28000", "no serial0 alias (dtuart=serial0)")
    gmac = get("/aliases", "ethernet0")
    check(get(gmac, "compatible").split()[0] == "allwinner,sun7i-a20-gmac" and
          get(gmac, "status") == "okay", f"ethernet0 ({gmac}) is not the enabled A20 GMAC")
    check(get("/soc/ethernet@1c0b000", "status") == "disabled", "the EMAC is enabled too")
    check(get("/soc/mmc@1c0f000", "compatible").split()[0] == "allwinner,sun7i-a20-mmc" and
          get("/soc/mmc@1c0f000", "status") == "okay", "the SD slot's controller is not enabled")
    # What Xen itself drives on the board (it cannot run on an A20 here):
    # Xen's binary knows the GIC, the UART behind serial0, the timer and the
    # SoC, and the /chosen bindings the boot script writes.
    xen = boot_file("xen")
    uart = get("/aliases", "serial0")
    # The root's interrupt-parent is the GIC (a phandle).
    parent = get("/", "interrupt-parent", "x")
    gic = [n for n in run(["fdtget", "-l", path, "/soc"], text=True).split()
           if n.startswith("interrupt-controller@") and
           subprocess.run(["fdtget", "-t", "x", path, f"/soc/{n}", "phandle"],
                          capture_output=True, text=True).stdout.strip() == parent]
    check(len(gic) == 1, f"no GIC: the root's interrupt-parent is {parent}")
    wanted = [get(f"/soc/{gic[0]}", "compatible").split()[0], get(uart, "compatible").split()[0],
              get("/timer", "compatible").split()[0], get("/", "compatible").split()[-1],
              "multiboot,kernel", "multiboot,ramdisk", "xen,xen-bootargs", "xen,dom0-bootargs"]
    for compat in wanted:
        check(compat.encode() + b"\0" in xen, f"Xen 4.17 armhf does not know {compat!r}")


def test_boot_script():
    text = script()
    check(text == boot_file("boot.cmd").decode(), "boot.scr was not compiled from the card's boot.cmd")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    body = "\n".join(lines)
    loads = {}
    sizes = {}
    last = None
    for ln in lines:
        m = re.match(r"load \$\{hearth_src\} (0x[0-9a-f]+) (\S+)", ln)
        if m:
            last = m.group(2)
            loads[last] = int(m.group(1), 16)
        m = re.match(r"setenv (\w+) \$\{filesize\}", ln)
        if m:
            sizes[m.group(1)] = last
    check(sorted(loads) == sorted(["xen", DTB, "vmlinuz", "initrd.gz"]), f"loads: {loads}")
    check('setenv hearth_src "${devtype} ${devnum}:${distro_bootpart}"' in lines,
          "the script does not load from the partition distro boot found it on")
    # What each load occupies: Xen runs in place with its bss (the zImage
    # header's end); the DTB grows by `fdt resize`, rounded to 4 KiB.
    xen = boot_file("xen")
    xen_end = struct.unpack("<I", xen[0x2C:0x30])[0]
    m = re.search(r"^fdt resize (\d+)$", body, re.M)
    check(m is not None, "no fdt resize")
    foot = {"xen": max(len(xen), xen_end),
            DTB: len(boot_file(DTB)) + int(m.group(1)) + 4096,
            "vmlinuz": len(boot_file("vmlinuz")), "initrd.gz": len(boot_file("initrd.gz"))}
    regions = sorted((loads[n], loads[n] + foot[n], n) for n in loads)
    for a, b, n in regions:
        check(RAM[0] <= a and b <= RAM[1], f"{n} at 0x{a:x}-0x{b:x} is outside RAM")
        check(a % (2 * MiB) == 0, f"{n} at 0x{a:x} is not 2 MiB aligned")
    for (a1, b1, n1), (a2, b2, n2) in zip(regions, regions[1:]):
        check(b1 <= a2, f"{n1} (to 0x{b1:x}) overlaps {n2} (from 0x{a2:x})")
    # U-Boot's own: where distro boot reads boot.scr (and runs it from), on
    # the board and in QEMU; and U-Boot's heap and code at the top of RAM.
    sunxi = deb_file("u-boot-sunxi", "usr/lib/u-boot/Cubieboard2/u-boot-sunxi-with-spl.bin")
    qemu = deb_file("u-boot-qemu", "usr/lib/u-boot/qemu_arm/u-boot.bin")
    scr = len(boot_file("boot.scr"))
    for who, binary in (("sunxi", sunxi), ("qemu_arm", qemu)):
        s = uboot_env(binary, "scriptaddr")
        for a, b, n in regions:
            check(b <= s or s + scr <= a, f"{n} overwrites boot.scr at {who}'s scriptaddr 0x{s:x}")
    config = gzip.decompress(deb_file("u-boot-sunxi", "usr/share/doc/u-boot-sunxi/configs/config.Cubieboard2.gz"))
    malloc = int(re.search(rb"^CONFIG_SYS_MALLOC_LEN=(0x[0-9a-f]+)$", config, re.M).group(1), 16)
    top = RAM[1] - malloc - 16 * MiB
    check(regions[-1][1] <= top, f"the loads reach 0x{regions[-1][1]:x}, into U-Boot's heap and code")
    # The device tree Xen reads: its boot modules and command lines.
    fdt = int(re.search(r"^fdt addr (0x[0-9a-f]+)$", body, re.M).group(1), 16)
    check(fdt == loads[DTB], "fdt addr is not where the DTB was loaded")
    for want in ("fdt set /chosen \\#address-cells <1>", "fdt set /chosen \\#size-cells <1>"):
        check(want in lines, f"missing: {want}")
    mods = re.findall(r"^fdt set /chosen/module@([0-9a-f]+) compatible (.*)$", body, re.M)
    regs = dict(re.findall(r"^fdt set /chosen/module@([0-9a-f]+) reg <(0x[0-9a-f]+ 0x\$\{\w+\})>$",
                           body, re.M))
    kinds = {c.split('"')[1]: int(a, 16) for a, c in mods}
    check(sorted(c for _, c in mods) == sorted(['"multiboot,kernel" "multiboot,module"',
                                                 '"multiboot,ramdisk" "multiboot,module"']),
          f"the /chosen modules: {mods}")
    for kind, f in (("multiboot,kernel", "vmlinuz"), ("multiboot,ramdisk", "initrd.gz")):
        a = kinds[kind]
        check(a == loads[f], f"{kind} node at 0x{a:x}, {f} loaded at 0x{loads[f]:x}")
        check(f"fdt mknode /chosen module@{a:x}" in lines, f"module@{a:x} never made")
        reg = regs.get(f"{a:x}", "")
        var = reg.split("${")[-1].rstrip("}")
        check(reg.startswith(f"0x{a:08x} ") and sizes.get(var) == f,
              f"{kind} reg <{reg}> is not {f}'s address and size")
    xa = re.search(r'^fdt set /chosen xen,xen-bootargs "(.*)"$', body, re.M).group(1).split()
    da = re.search(r'^fdt set /chosen xen,dom0-bootargs "(.*)"$', body, re.M).group(1).split()
    for w in ("console=dtuart", "dtuart=serial0", "dom0_mem=256M"):
        check(w in xa, f"Xen's command line {xa} lacks {w}")
    for w in ("console=hvc0", "clk_ignore_unused"):
        check(w in da, f"dom0's command line {da} lacks {w}")
    check(f"bootz 0x{loads['xen']:08x} - 0x{loads[DTB]:08x}" in lines, "bootz does not start Xen with the DTB")


def test_dom0_initramfs():
    fs = initramfs()
    for path in ("init", "bin/busybox", "bin/domu", "usr/lib/xen-4.17/bin/xl",
                 "usr/lib/xen-4.17/bin/xenstored", "usr/lib/xen-4.17/bin/xenconsoled",
                 "usr/bin/xenstore", "lib/ld-linux-armhf.so.3", "etc/xen/scripts/hearth-vif",
                 "etc/xen/scripts/hearth-block", "dev/console"):
        check(path in fs, f"dom0's initramfs lacks /{path}")
    check(fs["init"][0] & 0o111, "/init is not executable")
    xl = fs["usr/lib/xen-4.17/bin/xl"][1]
    check(xl[:5] == b"\x7fELF\x01" and struct.unpack("<H", xl[18:20])[0] == 40,
          "xl is not a 32-bit ARM program")
    order = fs["etc/modules.load"][1].decode().split()
    for m in DOM0_MODULES:
        ko = f"{m}.ko" if f"lib/modules/{m}.ko" in fs else f"{m.replace('-', '_')}.ko"
        check(f"lib/modules/{ko}" in fs and ko in order, f"module {m} missing from dom0")
        check(f"vermagic={KVER} ".encode() in fs[f"lib/modules/{ko}"][1], f"{ko} is not for {KVER}")
    for dep, mod in (("llc.ko", "bridge.ko"), ("stp.ko", "bridge.ko"), ("stmmac.ko", "dwmac-sunxi.ko"),
                     ("stmmac-platform.ko", "dwmac-sunxi.ko"), ("realtek.ko", "dwmac-sunxi.ko")):
        check(order.index(dep) < order.index(mod), f"{dep} loads after {mod}")
    with open(HEARTH, "rb") as f:
        check(fs["etc/hearth/hearth.img"][1] == f.read(), "the initramfs' hearth.img is not the built image")
    cfg = fs["etc/xen/hearth.cfg"][1].decode()
    for want in ('kernel = "/etc/hearth/hearth.img"', "memory = 128", "bridge=xenbr0",
                 "vdev=xvda", "target=/dev/hearth-data"):
        check(want in cfg, f"hearth.cfg lacks {want!r}:\n{cfg}")
    conf = fs["etc/hearth/run.conf"][1].decode()
    check("DATA_DISK=Hrth" in conf.split() and "AUTOSTART=hearth" in conf.split(), f"run.conf:\n{conf}")
    init = fs["init"][1].decode()
    check("/lib/arm-linux-gnueabihf" in init and "ln -sf \"$part\" /dev/hearth-data" in init,
          "/init is not the armhf board's")


def test_data_partition_and_update_image():
    t = table()
    data = t["partitions"][1]
    start, size = data["start"] * 512, data["size"] * 512
    # Hearth formats a disk that is all zero where it looks (docs/storage.md):
    # the first and last MiB and 64 sectors over the rest. All of it, here.
    with open(build(), "rb") as f:
        f.seek(start)
        left = size
        while left:
            chunk = f.read(min(left, 4 * MiB))
            check(chunk and not chunk.strip(b"\0"), f"data partition not zero near +{size - left}")
            left -= len(chunk)
    with open(UPDATE, "rb") as f:
        upd = f.read()
    check(len(upd) == start, f"update image is {len(upd)} bytes, the data partition starts at {start}")
    check(upd == card_bytes(0, start), "update image differs from the card up to the data partition")


# --- the card, booted as far as QEMU allows ----------------------------------------


def test_boots_in_qemu():
    build()
    tmp = tempfile.mkdtemp(prefix="hearth-sdcard-qemu-")
    b = None
    try:
        card = os.path.join(tmp, "card.img")
        subprocess.run(["cp", "--sparse=always", CARD, card], check=True)
        machine = "virt,virtualization=on"
        common = ["-cpu", "cortex-a15", "-m", "1G", "-smp", "1", "-display", "none"]
        dtb = os.path.join(tmp, DTB)
        subprocess.run(["qemu-system-arm", "-M", f"{machine},dumpdtb={dtb}"] + common,
                       check=True, capture_output=True)
        subprocess.run(["fdtput", "-c", dtb, "/aliases"], check=True)
        subprocess.run(["fdtput", "-t", "s", dtb, "/aliases", "serial0", "/pl011@9000000"], check=True)
        subprocess.run(["fdtput", "-r", dtb, "/pcie@10000000"], check=True)
        boot = f"{card}@@{table()['partitions'][0]['start'] * 512}"
        run(["mcopy", "-o", "-i", boot, dtb, f"::/{DTB}"], env=MTOOLS)
        uboot = os.path.join(tmp, "u-boot.bin")
        with open(uboot, "wb") as f:
            f.write(deb_file("u-boot-qemu", "usr/lib/u-boot/qemu_arm/u-boot.bin"))
        port = free_port()
        cmd = (["qemu-system-arm", "-M", machine] + common +
               ["-serial", "stdio", "-monitor", "none", "-no-reboot", "-bios", uboot,
                "-drive", f"file={card},if=none,format=raw,id=d0", "-device", "virtio-blk-device,drive=d0",
                "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-10.0.2.16:443",
                "-device", "virtio-net-device,netdev=n0,mac=02:48:52:0a:0b:0c"])
        b = Boot(cmd, timeout=150)
        text = script()
        kernel = int(re.search(r"^load \S+ (0x[0-9a-f]+) vmlinuz ", text, re.M).group(1), 16)
        initrd = int(re.search(r"^load \S+ (0x[0-9a-f]+) initrd.gz ", text, re.M).group(1), 16)
        b.wait_for("hearth: loading Xen, dom0 and Hearth from virtio 0:1", timeout=30)
        b.wait_for("hearth: starting Xen", timeout=30)
        b.wait_for(f"(XEN) Loading d0 kernel from boot module @ {kernel:016x}", timeout=30)
        b.wait_for(f"(XEN) Loading ramdisk from boot module @ {initrd:016x}", timeout=30)
        b.wait_for("kernel command line: console=hvc0 clk_ignore_unused", timeout=60)
        b.wait_for("data partition: /dev/vda2 (disk id Hrth), the domU's xvda", timeout=60)
        b.wait_for("domU hearth created", timeout=60)
        # The domU's MAC: Xen's prefix and eth0's last three bytes.
        b.wait_for("hearth| netfront: device/vif/0 connected", timeout=30)
        check("mac 00:16:3e:0a:0b:0c" in b.text(), "the domU's MAC is not made from eth0's", b)
        # xvda is the card's 256 MiB data partition, all zero: Hearth formats it.
        b.wait_for("hearth| store: vda: formatted an empty disk", timeout=60)
        sectors = table()["partitions"][1]["size"]
        check(f"{sectors} sectors" in b.text(), "blkfront's disk is not the data partition", b)
        b.wait_for("hearth: claim code", timeout=60)
        t = b.wait_for("hearth: serving https://10.0.2.16/", timeout=60)
        r = subprocess.run(["curl", "-sSk", "--max-time", "30", f"https://127.0.0.1:{port}/api/v1/health"],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"no HTTPS from Hearth: {r.stderr}", b)
        h = json.loads(r.stdout)
        check(h["status"] == "ok" and h["network"]["ipv4"] == "10.0.2.16", f"health: {h}", b)
        for bad in ("Panic on CPU", "HEARTH CRASH", "Kernel panic"):
            check(bad not in b.text(), f"{bad!r} on the console", b)
        for line in b.lines():
            if line.startswith("dom0: ["):
                check(" failed" not in line and ": no " not in line, f"dom0 complains: {line}", b)
        print(f"   card to HTTPS in QEMU: {t:.1f} s (U-Boot, Xen, dom0, Hearth as domU)")
        fp = re.search(r"TLS certificate SHA-256 fingerprint (\S+)", b.text()).group(1)
        b.kill()
        # An upgrade: the update image written over the used card, as
        # docs/flashing.md says. Hearth's store and identity must survive.
        subprocess.run(["dd", f"if={UPDATE}", f"of={card}", "bs=1M", "conv=notrunc,sparse", "status=none"],
                       check=True)
        run(["mcopy", "-o", "-i", boot, dtb, f"::/{DTB}"], env=MTOOLS)
        b = Boot(cmd, timeout=120)
        b.wait_for("hearth| store: vda:", timeout=90)
        store = [ln for ln in b.lines() if "hearth| store: vda:" in ln][0]
        check("formatted" not in store and "integrity ok" in store,
              f"after the update image the store is not the old one: {store}", b)
        b.wait_for("TLS certificate SHA-256 fingerprint", timeout=30)
        check(f"fingerprint {fp}" in b.text(), "the device's TLS identity changed across the update", b)
    finally:
        if b:
            b.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    r = Runner()
    try:
        for name, fn in list(globals().items()):
            if name.startswith("test_") and callable(fn):
                r.run(fn)
    finally:
        if "boot" in _cache:
            shutil.rmtree(_cache["boot"], ignore_errors=True)
    r.finish()
