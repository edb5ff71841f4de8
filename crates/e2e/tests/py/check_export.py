#!/usr/bin/env python3
"""Reads an exported folder with the real readers and compares every value.

usage: check_export.py EXPORT_DIR EXPECTED_DIR MAX_SHARD_BYTES
EXPECTED_DIR holds <split>.jsonl ({"text", "price"} rows) and items.jsonl (full items),
dumped by the Rust test from the split and prompt artifacts. The card's sizes and the
shards are checked against what `datasets.push_to_hub` would write (hub_layout.py).
"""
import json
import os
import sys

import datasets
import pyarrow.parquet as pq

from hub_layout import check_split

export_dir, expected_dir, max_shard_bytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
hub = os.path.join(export_dir, "hub")


def rows(name):
    with open(os.path.join(expected_dir, name), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


ds = datasets.load_dataset(hub)
splits = sorted(n[: -len(".jsonl")] for n in os.listdir(expected_dir) if n != "items.jsonl")
check(sorted(ds.keys()) == splits, f"splits {sorted(ds.keys())} != {splits}")
want_features = datasets.Features({"text": datasets.Value("string"), "price": datasets.Value("float64")})
for name in splits:
    d = ds[name]
    expected = rows(f"{name}.jsonl")
    check(d.features == want_features, f"{name}: features {d.features}")
    check(d.num_rows == len(expected), f"{name}: {d.num_rows} rows, expected {len(expected)}")
    check_split(hub, name, want_features, expected, max_shard_bytes, failures)
    got = d.to_list()
    for i, (g, w) in enumerate(zip(got, expected)):
        if g != w:
            failures.append(f"{name} row {i}: {str(g)[:200]} != {str(w)[:200]}")
            break
    # The schema carries the features datasets itself writes.
    for f in sorted(os.listdir(os.path.join(hub, "data"))):
        if f.startswith(name + "-"):
            meta = pq.read_schema(os.path.join(hub, "data", f)).metadata or {}
            hf = json.loads(meta.get(b"huggingface", b"{}"))
            check(datasets.Features.from_dict(hf["info"]["features"]) == want_features, f"{f}: huggingface metadata {hf}")

items = pq.read_table(os.path.join(export_dir, "items", "items.parquet")).to_pylist()
expected_items = rows("items.jsonl")
check(len(items) == len(expected_items), f"items: {len(items)} rows, expected {len(expected_items)}")
check(items == expected_items, "items.parquet values differ from items.art")

import pandas as pd  # noqa: E402  (pandas reads the same table)
frame = pd.read_parquet(os.path.join(export_dir, "items", "items.parquet"))
check(list(frame.columns) == ["category", "title", "price", "prompt", "token_count", "details"], f"columns {list(frame.columns)}")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"ok: {', '.join(f'{n} {ds[n].num_rows}' for n in splits)}; items {len(items)}")
