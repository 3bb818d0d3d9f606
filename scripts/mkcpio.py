#!/usr/bin/python3
"""mkcpio.py OUT DIR [--dev PATH:c|b:MAJOR:MINOR]...: writes DIR's tree as an
uncompressed "newc" cpio archive (the format the Linux kernel unpacks as an
initramfs), every entry owned by root, with mtime 0 so that the same tree gives
the same bytes. --dev adds a device node that DIR cannot hold without root
(e.g. /dev/console:c:5:1). Regular files, directories and symbolic links only;
hard links are stored as separate copies. Standard library only.
"""
import os
import stat
import sys


def header(out, name, mode, size, nlink=1, rdev=(0, 0), ino=0):
    data = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev[0], rdev[1], len(data), 0]
    h = b"070701" + b"".join(b"%08x" % f for f in fields)
    out.write(h + data)
    out.write(b"\0" * (-(len(h) + len(data)) % 4))


def body(out, data):
    out.write(data)
    out.write(b"\0" * (-len(data) % 4))


def main(argv):
    if len(argv) < 3:
        sys.exit("usage: mkcpio.py OUT DIR [--dev PATH:c|b:MAJOR:MINOR]...")
    out_path, root = argv[1], argv[2]
    devs = []
    rest = argv[3:]
    while rest:
        if rest[0] != "--dev" or len(rest) < 2:
            sys.exit(f"mkcpio: unexpected {rest[0]!r}")
        path, kind, major, minor = rest[1].split(":")
        devs.append((path.lstrip("/"), stat.S_IFCHR if kind == "c" else stat.S_IFBLK,
                     int(major), int(minor)))
        rest = rest[2:]
    ino = 1
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as out:
        for top, dirs, files in os.walk(root):
            dirs.sort()
            rel = os.path.relpath(top, root)
            if rel != ".":
                header(out, rel, stat.S_IFDIR | 0o755, 0, nlink=2, ino=ino)
                ino += 1
            # os.walk lists symbolic links to directories under dirs: store
            # them as links, not followed.
            for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(top, d))]):
                path = os.path.join(top, name)
                arc = os.path.normpath(os.path.join(rel, name))
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    target = os.readlink(path).encode()
                    header(out, arc, stat.S_IFLNK | 0o777, len(target), ino=ino)
                    body(out, target)
                elif stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as f:
                        data = f.read()
                    perm = 0o755 if st.st_mode & 0o111 else 0o644
                    header(out, arc, stat.S_IFREG | perm, len(data), ino=ino)
                    body(out, data)
                else:
                    sys.exit(f"mkcpio: {path}: not a file, directory or link")
                ino += 1
            dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(top, d))]
        for path, kind, major, minor in devs:
            header(out, path, kind | 0o600, 0, rdev=(major, minor), ino=ino)
            ino += 1
        header(out, "TRAILER!!!", 0, 0, nlink=1)
        out.write(b"\0" * (-out.tell() % 512))
    os.replace(tmp, out_path)


if __name__ == "__main__":
    main(sys.argv)
