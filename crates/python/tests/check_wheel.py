"""Checks a built wheel as CI promises it: one abi3 wheel for CPython 3.9 and later, a
manylinux tag of glibc 2.28 or older (Colab runs 2.35), at most 40 MB, its native module
stripped. Usage: check_wheel.py WHEEL."""

import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

wheel = Path(sys.argv[1])
name = wheel.name
size = wheel.stat().st_size
problems = []
if "-cp39-abi3-" not in name:
    problems.append(f"{name}: not a cp39-abi3 wheel")
tags = re.findall(r"manylinux_2_(\d+)_x86_64", name)
if not tags or min(int(t) for t in tags) > 28:
    problems.append(f"{name}: platform tag is not manylinux_2_28 or older")
if size > 40 * 1000 * 1000:
    problems.append(f"{name}: {size / 1e6:.1f} MB, over 40 MB")
shown = subprocess.run([sys.executable, "-m", "auditwheel", "show", str(wheel)], capture_output=True, text=True)
if shown.returncode != 0 or "manylinux_2_28_x86_64" not in shown.stdout.replace("\n", " "):
    problems.append(f"auditwheel show: {shown.stdout}{shown.stderr}")
with zipfile.ZipFile(wheel) as z, tempfile.TemporaryDirectory() as d:
    so = [n for n in z.namelist() if n.endswith(".so")]
    if len(so) != 1:
        problems.append(f"native modules: {so}")
    else:
        path = z.extract(so[0], d)
        sections = subprocess.run(["readelf", "-S", "-W", path], capture_output=True, text=True).stdout
        if ".debug_info" in sections or ".symtab" in sections:
            problems.append(f"{so[0]}: not stripped")
if problems:
    sys.exit("\n".join(problems))
print(f"wheel: {name}, {size / 1e6:.1f} MB, manylinux_2_28, abi3 (CPython 3.9+), stripped")
