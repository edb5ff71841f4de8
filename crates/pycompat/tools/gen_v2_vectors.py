#!/usr/bin/env python3
"""Vectors for recipe V2's Python semantics, printed by CPython 3.12 (Unicode 15.0):
repr() of lists of strings and of mixed JSON values, and the product-code regex.

    python3.12 crates/pycompat/tools/gen_v2_vectors.py | zstd -19 > crates/pycompat/tests/data/py312-v2.jsonl.zst

Each line: {"kind": "repr"|"code_runs", "input": <JSON text or string>, "output": <string>},
written with json.dumps defaults (ensure_ascii), so lone surrogates survive the trip.
"""
import json
import random
import re
import sys

assert sys.version_info[:2] == (3, 12), "the V2 recipe ran on CPython 3.12"
CODE_RUN = re.compile(r"\b(?=[A-Z0-9]{7,}\b)(?=.*[A-Z])(?=.*\d)[A-Z0-9]+\b")
rng = random.Random(20251201)
# Interesting characters: quotes and escapes, controls, unprintables by category, new in
# Unicode 15 (U+1F6DC, Kawi digits U+11F50.., Nag Mundari U+1E4F0..), surrogates, astral.
SPECIAL = ["'", '"', "\\", "\t", "\n", "\r", "\x00", "\x1c", "\x1f", "\x7f", "\x85", "\xa0",
           "\xad", "\u200b", "\u2011", "\u2028", "\u202f", "\u3000", "\ue000", "\ufeff", "\ufffd",
           "\U0001f6dc", "\U00011f57", "\U0001e4f3", "\U0001f600", "\U0010ffff", "\ud800",
           "\udfff", "\u0378", "\u0301", "é", "ß", "Ä", "٣", "１", "½", "²", "Ⅻ", "①", "ǅ", "Ａ"]
ASCII = list("ABCDEFGXYZ") * 4 + list("0123456789") * 3 + list("abcxyz_ .,-:{}[]") * 2


def rand_str(n):
    return "".join(rng.choice(SPECIAL) if rng.random() < 0.25 else rng.choice(ASCII)
                   for _ in range(rng.randint(0, n)))


def rand_value(depth=0):
    r = rng.random()
    if depth > 2 or r < 0.55:
        return rand_str(12)
    if r < 0.65:
        return rng.choice([0, -1, 10**20, 3, True, False, None])
    if r < 0.75:
        return rng.choice([0.0, -0.0, 1e-07, 1e16, 2.5, 0.1, 123456.789])
    if r < 0.9:
        return [rand_value(depth + 1) for _ in range(rng.randint(0, 3))]
    return {rand_str(5): rand_value(depth + 1) for _ in range(rng.randint(0, 3))}


def emit(kind, inp, out):
    print(json.dumps({"kind": kind, "input": inp, "output": out}))


for _ in range(2000):
    v = [rand_str(20) for _ in range(rng.randint(0, 4))] if rng.random() < 0.7 else rand_value()
    text = json.dumps(v)
    emit("repr", text, repr(json.loads(text)))
for _ in range(15000):
    s = rand_str(60)
    emit("code_runs", s, CODE_RUN.sub("", s))
