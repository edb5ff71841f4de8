#!/usr/bin/env python3
"""Reads recipe V2's exported items_raw folders with the real readers (datasets, pyarrow)
and compares every value with the curate stage's splits.

usage: check_items_raw.py EXPORT_DIR EXPECTED_DIR LITE_TRAIN LITE_VALIDATION LITE_TEST
EXPECTED_DIR holds train.jsonl, validation.jsonl, test.jsonl (items_raw JSON lines dumped
by `cargo xtask dump` from the curate artifacts).
"""
import json
import os
import sys

import datasets
import pyarrow.parquet as pq

export_dir, expected_dir = sys.argv[1], sys.argv[2]
lite = dict(zip(["train", "validation", "test"], map(int, sys.argv[3:6])))
features = datasets.Features({
    "title": datasets.Value("string"), "category": datasets.Value("string"),
    "price": datasets.Value("float64"), "full": datasets.Value("string"),
    "weight": datasets.Value("float64"),
})
failures = []


def expected(split):
    with open(os.path.join(expected_dir, f"{split}.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


for folder, limit in [("items_raw_full", None), ("items_raw_lite", lite)]:
    ds = datasets.load_dataset(os.path.join(export_dir, folder))
    if sorted(ds.keys()) != ["test", "train", "validation"]:
        failures.append(f"{folder}: splits {sorted(ds.keys())}")
        continue
    for split in ["train", "validation", "test"]:
        want = expected(split)
        if limit:
            want = want[: limit[split]]
        d = ds[split]
        if d.features != features:
            failures.append(f"{folder}/{split}: features {d.features}")
        got = d.to_list()
        if got != want:
            bad = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
            failures.append(f"{folder}/{split}: {len(got)} rows vs {len(want)}; first difference at row {bad}")
        for f in os.listdir(os.path.join(export_dir, folder, "data")):
            meta = pq.read_schema(os.path.join(export_dir, folder, "data", f)).metadata or {}
            hf = json.loads(meta.get(b"huggingface", b"{}"))
            if datasets.Features.from_dict(hf["info"]["features"]) != features:
                failures.append(f"{f}: huggingface metadata {hf}")
    card = open(os.path.join(export_dir, folder, "README.md"), encoding="utf-8").read()
    if "configs:" not in card or "dataset_info:" not in card:
        failures.append(f"{folder}: the card lacks its YAML header")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("ok: items_raw_full and items_raw_lite read back by datasets, every value equal")
