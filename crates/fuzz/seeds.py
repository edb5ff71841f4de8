"""Seed corpora for the fuzz targets, from the bundled fixtures (run from crates/fuzz).

corpus/row: one file per raw line of every fixture folder. corpus/tokenizer_json: each
bundled tokenizer.json cut to its first 2,000 tokens (and the merges and added tokens
among them), small enough for a thousand executions a second and still in its shape (the
`compiled` target edits the compiled forms of two of them).
corpus/artifact: the artifacts of the fixture runs, when `cargo xtask pipeline` (and its
v2-fixtures config) have run at the top of the checkout. corpus/summaries: the V2 golden
prompts' inputs as JSON lines with a split, and (with pyarrow, e.g. the CI venv's python)
the same rows as a Parquet file in the published items_lite columns.
"""
import json
import pathlib
import shutil
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
KEEP = 2000


def rows():
    out = HERE / "corpus/row"
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for f in sorted((ROOT / "fixtures/data").glob("*/*.jsonl")):
        for line in f.read_bytes().splitlines():
            n += 1
            (out / f"seed-{n}").write_bytes(line)
    return n


def small_tokenizer(path):
    data = json.loads(subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout)
    vocab = {k: v for k, v in data["model"]["vocab"].items() if v < KEEP}
    data["model"]["vocab"] = vocab

    def kept(m):
        a, b = m.split(" ", 1) if isinstance(m, str) else m
        return a in vocab and b in vocab and a + b in vocab

    data["model"]["merges"] = [m for m in data["model"]["merges"] if kept(m)]
    data["added_tokens"] = [t for t in data["added_tokens"] if t["id"] < KEEP]
    return json.dumps(data, ensure_ascii=False).encode()


def tokenizers():
    out = HERE / "corpus/tokenizer_json"
    out.mkdir(parents=True, exist_ok=True)
    names = []
    for f in sorted((ROOT / "fixtures/tokenizers").glob("*/tokenizer.json.zst")):
        name = f.parent.name
        (out / f"{name}.json").write_bytes(small_tokenizer(f))
        names.append(name)
    return names


def artifacts():
    out = HERE / "corpus/artifact"
    out.mkdir(parents=True, exist_ok=True)
    runs = ROOT / "runs"
    wanted = {
        "default/ingest/candidates.art": "candidates.art",
        "default/split/test.art": "test.art",
        "v2-fixtures/ingest/items_raw.art": "items_raw.art",
        "v2-fixtures/ingest/manifest.json": "manifest.json",
        "v2-fixtures/curate/validation.art": "v2-validation.art",
    }
    copied = 0
    for src, name in wanted.items():
        if (runs / src).is_file():
            shutil.copy(runs / src, out / name)
            copied += 1
    return copied


def summaries():
    out = HERE / "corpus/summaries"
    out.mkdir(parents=True, exist_ok=True)
    golden = ROOT / "fixtures/golden/v2/prompts/prompts-input.jsonl.zst"
    lines = subprocess.run(["zstd", "-dc", golden], check=True, capture_output=True).stdout
    rows = [json.loads(line) for line in lines.splitlines()][:40]
    splits = ["train", "validation", "test"]
    text = "".join(
        json.dumps({"split": splits[i % 3], "price": r["price"], "summary": r["summary"]}) + "\n"
        for i, r in enumerate(rows)
    )
    (out / "rows.jsonl").write_text(text)
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return "rows.jsonl (no pyarrow: no Parquet seed)"
    table = pa.table({
        "title": [f"Item {i}" for i in range(len(rows))],
        "category": pa.array(["Electronics", "Appliances"] * (len(rows) // 2)).dictionary_encode(),
        "price": [r["price"] for r in rows],
        "full": [r["summary"][:50] for r in rows],
        "weight": [1.0] * len(rows),
        "summary": [r["summary"] for r in rows],
    })
    pq.write_table(table, out / "items.parquet", row_group_size=16)
    return "rows.jsonl, items.parquet"


if __name__ == "__main__":
    (HERE / "corpus/compiled").mkdir(parents=True, exist_ok=True)  # grown from no seeds
    print(f"row: {rows()} lines")
    print(f"tokenizer_json: {', '.join(tokenizers())}")
    n = artifacts()
    print(f"artifact: {n} of 5 files" + ("" if n == 5 else " (run the fixture pipelines first)"))
    print(f"summaries: {summaries()}")
