#!/usr/bin/python3
"""Kconfig front end for the Makefile, on Debian's kconfiglib.

usage: kconfig.py defconfig FILE | olddefconfig | savedefconfig OUT | genconfig HEADER
KCONFIG_CONFIG names the .config; srctree the source tree.
"""
import os
import sys

import kconfiglib


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd = sys.argv[1]
    config = os.environ.get("KCONFIG_CONFIG", ".config")
    kconf = kconfiglib.Kconfig("Kconfig", warn_to_stderr=False)
    if cmd == "defconfig":
        kconf.load_config(sys.argv[2])
        kconf.write_config(config, save_old=False)
        print(f"  CONFIG  {config} from {sys.argv[2]}")
    elif cmd == "olddefconfig":
        kconf.load_config(config)
        kconf.write_config(config, save_old=False)
    elif cmd == "savedefconfig":
        kconf.load_config(config)
        kconf.write_min_config(sys.argv[2])
    elif cmd == "genconfig":
        kconf.load_config(config)
        out = sys.argv[2]
        os.makedirs(os.path.dirname(out), exist_ok=True)
        tmp = out + ".tmp"
        kconf.write_autoconf(tmp)
        os.replace(tmp, out)
    else:
        sys.exit(__doc__)
    for w in kconf.warnings:
        # An unknown symbol in a defconfig is a typo that silently drops an option.
        print("kconfig: " + w, file=sys.stderr)
        if "undefined symbol" in w or "unknown" in w:
            sys.exit(1)


if __name__ == "__main__":
    main()
