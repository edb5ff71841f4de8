#!/usr/bin/env python3
"""Vectors for numpy 2.3's float64 sum (pairwise over the whole contiguous array) and the
legacy RandomState.choice without replacement at recipe V2's scale. The arrays are made
from RandomState(seed).random_sample(n) with plain multiplications, which the Rust test
repeats bit for bit, so only seeds and answers are stored.

    python3.12 -m venv V && V/bin/pip install numpy==2.3.4
    V/bin/python crates/pycompat/tools/gen_numpy_vectors.py | zstd -19 > crates/pycompat/tests/data/numpy-2.3.jsonl.zst

Lines: {"kind": "sum", "seed": s, "n": n, "scale": x, "sum": hex}      values u*u*u*scale
       {"kind": "choice", "seed": s, "n": n, "size": k, "drawn": [...]} weights u*u, every
       third one times 0.05, index n//2 zero; p = w / w.sum(); np.random.seed(s)
"""
import json

import numpy as np

assert np.__version__.startswith("2.3"), "numpy 2.3.x: its sum is what recipe V2 used"
sizes = [1, 3, 7, 8, 9, 16, 100, 127, 128, 129, 255, 256, 1000, 5000, 8192, 8193, 20000, 70001, 1000003]
for i, n in enumerate(sizes * 3):
    seed, scale = 1000 + i, [1.0, 1e-3, 1e6][i // len(sizes)]
    u = np.random.RandomState(seed).random_sample(n)
    v = u * u * u * scale
    print(json.dumps({"kind": "sum", "seed": seed, "n": n, "scale": scale, "sum": float(v.sum()).hex()}))
for seed, n, size in [(42, 30000, 12000), (7, 5000, 4990), (1, 200000, 20000)]:
    u = np.random.RandomState(seed + 100).random_sample(n)
    w = u * u
    w[::3] *= 0.05
    w[n // 2] = 0.0
    p = w / w.sum()
    np.random.seed(seed)
    drawn = np.random.choice(n, size=size, replace=False, p=p)
    print(json.dumps({"kind": "choice", "seed": seed, "n": n, "size": size, "drawn": [int(i) for i in drawn]}))
