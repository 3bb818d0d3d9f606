#!/usr/bin/python3
"""test_browser.py: the owner's web UI in a real browser against the real
image in QEMU (a fresh disk, user networking, HTTPS forwarded to a free host
port). Boots the hub, reads the claim code from the console, prepares the
reference service's manifest (services/recommender/recommender.py) and runs
tests/browser/ui.test.mjs (Playwright's playwright-core from npm, pinned in
tests/browser/package-lock.json and installed with `npm ci` into
build/browser/, driving Debian's /usr/bin/chromium headless). Screenshots go
to build/browser/screenshots/. Skips (passes with a note) only when node or
chromium is missing and HEARTH_BROWSER_REQUIRED is not set.
"""
import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import ROOT, Boot, Runner, check, free_port, qemu_cmd  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "services", "recommender"))
import recommender  # noqa: E402

SRC = os.path.join(ROOT, "tests", "browser")
PREFIX = os.path.join(ROOT, "build", "browser")
CHROMIUM = "/usr/bin/chromium"
TMP = tempfile.mkdtemp(prefix="hearth-browser-")


def npm_ci():
    """playwright-core into build/browser/node_modules, once per lock file."""
    os.makedirs(PREFIX, exist_ok=True)
    lock = os.path.join(PREFIX, "package-lock.json")
    mod = os.path.join(PREFIX, "node_modules", "playwright-core", "package.json")
    if os.path.exists(mod) and os.path.exists(lock) and \
            filecmp.cmp(lock, os.path.join(SRC, "package-lock.json"), shallow=False):
        return
    for f in ("package.json", "package-lock.json"):
        shutil.copy(os.path.join(SRC, f), os.path.join(PREFIX, f))
    subprocess.run(["npm", "ci", "--prefix", PREFIX, "--no-audit", "--no-fund",
                    "--ignore-scripts"], check=True, stdout=subprocess.DEVNULL)


def test_browser_ui():
    missing = [p for p in ("node", "npm") if not shutil.which(p)]
    if not os.path.exists(CHROMIUM):
        missing.append(CHROMIUM)
    if missing:
        check(not os.environ.get("HEARTH_BROWSER_REQUIRED"), f"missing: {missing}")
        print(f"SKIP browser tests: missing {missing} (scripts/deps.sh installs them)")
        return
    npm_ci()
    disk = os.path.join(TMP, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(64 << 20)
    port = free_port()
    boot = Boot(qemu_cmd(mem="64M", net={443: port}, extra=[
        "-drive", f"file={disk},if=none,format=raw,id=d0",
        "-device", "virtio-blk-device,drive=d0"]), timeout=900)
    try:
        boot.wait_for("hearth: serving https://", timeout=180)
        boot.wait_for("hearth: claim code", timeout=10)
        m = re.search(r"hearth: claim code (\S+)", boot.text())
        check(m is not None, "no claim code on the console", boot)
        manifest = recommender.manifest(os.path.join(TMP, "svc"), "10.0.2.2", free_port())
        mpath = os.path.join(TMP, "manifest.json")
        with open(mpath, "w") as f:
            json.dump(manifest, f, indent=2)
        env = dict(os.environ, HEARTH_URL=f"https://127.0.0.1:{port}",
                   HEARTH_CLAIM_CODE=m.group(1), HEARTH_MANIFEST=mpath,
                   HEARTH_PW_DIR=PREFIX, HEARTH_CHROMIUM=CHROMIUM,
                   HEARTH_SHOTS=os.path.join(PREFIX, "screenshots"))
        r = subprocess.run(["node", os.path.join(SRC, "ui.test.mjs")], env=env, timeout=600)
        while boot._read(0.2):
            pass
        check(r.returncode == 0, f"ui.test.mjs failed ({r.returncode})", boot)
    finally:
        boot.kill()


def main():
    r = Runner()
    r.run(test_browser_ui)
    r.finish()


if __name__ == "__main__":
    main()
