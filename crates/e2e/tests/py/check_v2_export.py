#!/usr/bin/env python3
"""Reads recipe V2's exported Hub folders with the real readers (datasets, pyarrow) and
compares every value with the stages' artifacts, dumped as JSON lines by the test.

usage: check_v2_export.py EXPORT_DIR EXPECTED_DIR LITE_TRAIN LITE_VALIDATION LITE_TEST
EXPECTED_DIR holds <part>/<split>.jsonl for each part present (items_raw, items,
items_prompts), dumped by `cargo xtask dump` from the curate, summarize and prompts stages.
The cards' sizes and the shards are checked against what `datasets.push_to_hub` would
write with its default shard size, which the export's matches (hub_layout.py).
"""
import json
import os
import sys

import datasets
import pyarrow.parquet as pq

from hub_layout import check_split

export_dir, expected_dir = sys.argv[1], sys.argv[2]
lite_sizes = list(map(int, sys.argv[3:6]))
S = datasets.Value("string")
F = datasets.Value("float64")
PARTS = {
    "items_raw": (["train", "validation", "test"], {"title": S, "category": S, "price": F, "full": S, "weight": F}),
    "items": (["train", "validation", "test"], {"title": S, "category": S, "price": F, "full": S, "weight": F, "summary": S}),
    "items_prompts": (["train", "val", "test"], {"prompt": S, "completion": S}),
}
failures = []
checked = []
for part, (splits, feats) in PARTS.items():
    if not os.path.isdir(os.path.join(expected_dir, part)):
        continue
    features = datasets.Features(feats)
    for suffix, lite in [("full", False), ("lite", True)]:
        folder = f"{part}_{suffix}"
        ds = datasets.load_dataset(os.path.join(export_dir, folder))
        if sorted(ds.keys()) != sorted(splits):
            failures.append(f"{folder}: splits {sorted(ds.keys())}")
            continue
        for k, split in enumerate(splits):
            with open(os.path.join(expected_dir, part, f"{split}.jsonl"), encoding="utf-8") as f:
                want = [json.loads(line) for line in f]
            want = [{c: row[c] for c in feats} for row in want]
            if lite:
                want = want[: lite_sizes[k]]
            check_split(os.path.join(export_dir, folder), split, features, want, 500_000_000, failures)
            d = ds[split]
            if d.features != features:
                failures.append(f"{folder}/{split}: features {d.features}")
            if d.to_list() != want:
                failures.append(f"{folder}/{split}: {d.num_rows} rows, expected {len(want)}; values differ")
        for f in os.listdir(os.path.join(export_dir, folder, "data")):
            meta = pq.read_schema(os.path.join(export_dir, folder, "data", f)).metadata or {}
            hf = json.loads(meta.get(b"huggingface", b"{}"))
            if datasets.Features.from_dict(hf["info"]["features"]) != features:
                failures.append(f"{f}: huggingface metadata {hf}")
        checked.append(folder)

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("ok: " + ", ".join(checked))
