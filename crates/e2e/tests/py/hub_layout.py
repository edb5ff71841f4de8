"""What `datasets.push_to_hub` would write for a split, checked against an exported Hub
folder: the card's `num_bytes` (`Dataset._estimate_nbytes()` of the same rows) and the
shards (`int(nbytes / max_shard_size) + 1` files, cut by `Dataset.shard(contiguous=True)`).
"""
import os

import datasets
import pyarrow.parquet as pq
import yaml


def card_splits(folder):
    """The card's `dataset_info.splits`, by name."""
    with open(os.path.join(folder, "README.md"), encoding="utf-8") as f:
        header = f.read().split("---\n")[1]
    info = yaml.safe_load(header)["dataset_info"]
    return {s["name"]: s for s in info["splits"]}


def check_split(folder, split, features, rows, max_shard_bytes, failures):
    """`rows`: the split's rows as dicts, in order."""
    d = datasets.Dataset.from_list(rows, features=features)
    nbytes = d._estimate_nbytes()
    card = card_splits(folder).get(split, {})
    if card.get("num_bytes") != nbytes or card.get("num_examples") != len(rows):
        failures.append(
            f"{folder}/{split}: card says {card.get('num_bytes')} bytes, {card.get('num_examples')} rows; "
            f"datasets would write {nbytes}, {len(rows)}"
        )
    n = max(int(nbytes / max_shard_bytes) + 1, 1)
    want = [(f"{split}-{i:05d}-of-{n:05d}.parquet", len(d.shard(num_shards=n, index=i, contiguous=True))) for i in range(n)]
    data = os.path.join(folder, "data")
    got = [
        (f, pq.read_metadata(os.path.join(data, f)).num_rows)
        for f in sorted(os.listdir(data))
        if f.startswith(split + "-")
    ]
    if got != want:
        failures.append(f"{folder}/{split}: shards {got}, datasets would write {want}")
