#!/usr/bin/env python3
"""Reference vectors for float repr and float() parsing, printed by CPython itself.

    python3 crates/pycompat/tools/gen_float_vectors.py crates/pycompat/tests/data
"""
import os, random, struct, sys

out = sys.argv[1]
rng = random.Random(20241125)


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


values = [0.0, -0.0, 1e16, 1e15, 9999999999999998.0, 1e-4, 1e-5, 0.1, 5e-324, 1.7976931348623157e308,
          12.99, 999.49, 0.5, 100.0, 1e22, 1e23, 123456789012345678.0, 2.675]
for _ in range(3000):
    values.append(struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0])
for _ in range(3000):
    values.append(round(rng.uniform(0, 1000), rng.randint(0, 4)))
for _ in range(1000):
    values.append(rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30))
with open(os.path.join(out, "float_repr.txt"), "w") as f:
    for v in values:
        if v != v or v in (float("inf"), float("-inf")):
            continue
        f.write(f"{bits(v):016x} {v!r}\n")

strings = ["12.99", " 12.99 ", "\u00a012.99\u3000", "1_000.5", "1__0", "_1", "1_", "1._5", "1_.5", "1e1_0",
           "0x10", "1e", ".", "+.5", "-.5e-3", "infinity", "-INF", "nAn", "+nan", "1.5f", "", " ",
           "None", "$12.99", "from 9.99", "12,99", "1e2", "١٢.٥", "１２", "²", "12.5.1", "--1", "+-1",
           "1e-400", "1e400", "0.1e-320", "9007199254740993", "1.00000000000000011102230246251565404236316680908203125",
           "1\u20282", "12\x1c", "\x1f12", "inf inity", "1 2", "0.49999999999999994", "999.490000000000000001",
           "2.5", "0002.50", "1E5", "1e+5", "1.e5", ".e5", "e5", "5.", "nan(1)", "in", "infinit", "1_e5"]
for _ in range(2000):
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 25)))
    cut = rng.randint(0, len(digits))
    s = digits[:cut] + "." + digits[cut:]
    if rng.random() < 0.3:
        s += "e" + str(rng.randint(-330, 310))
    strings.append(s)
with open(os.path.join(out, "float_parse.txt"), "w", encoding="utf-8") as f:
    for s in strings:
        try:
            r = f"{bits(float(s)):016x}"
        except ValueError:
            r = "ERR"
        f.write(f"{r}\t{s.encode('unicode_escape').decode('ascii')}\n")
