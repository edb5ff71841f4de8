#!/usr/bin/env python3
# Provenance: copied from the project's shared material (shared/bench/make_corpus.py); only
# these three comment lines were added. The V2 golden pool was made from its output
# (fixtures/golden/v2/README.md).
"""Deterministic benchmark corpus in the raw Amazon Reviews 2023 metadata format.

It recombines fragments of real rows (titles, descriptions, features, details)
from the JSONL files in SOURCE_DIR into ROWS new rows per category, with the
mix that real category files show: about half the rows carry no price, some
have too little text to be kept, a few lines are malformed.

usage: make_corpus.py SOURCE_DIR OUT_DIR --rows N [--seed S] [--gzip]
"""
import argparse, glob, gzip, json, os, random

CATEGORIES = ["Automotive", "Electronics", "Office_Products", "Tools_and_Home_Improvement",
              "Cell_Phones_and_Accessories", "Toys_and_Games", "Appliances", "Musical_Instruments"]


def load_pool(src):
    pool = {"title": [], "description": [], "features": [], "details": []}
    for path in sorted(glob.glob(os.path.join(src, "*.jsonl"))):
        for line in open(path, encoding="utf-8"):
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if not isinstance(r, dict):
                continue
            if isinstance(r.get("title"), str):
                pool["title"].append(r["title"])
            if r.get("description"):
                pool["description"].append(r["description"])
            if r.get("features"):
                pool["features"].append(r["features"])
            if isinstance(r.get("details"), dict) and r["details"]:
                pool["details"].append(r["details"])
    pool["words"] = sorted({w for t in pool["title"] for w in t.split(" ") if w})
    return pool


def price(rng):
    u = rng.random()
    if u < 0.50:
        return None
    if u < 0.51:
        return rng.choice(["", "None", "from 9.99", "$12.00", " 19.99 "])
    p = round(min(max(rng.lognormvariate(3.4, 1.3), 0.01), 4000.0), 2)
    return p if rng.random() < 0.98 else float(int(p)) + 0.5


def remix(rng, pool, texts):
    """A new text from the sentences of a few real ones, with some words swapped for
    others from the whole pool, so that no two rows repeat the same text."""
    sentences = []
    for t in texts:
        sentences.extend(s for s in t.replace("\n", " ").split(". ") if s)
    rng.shuffle(sentences)
    out = []
    for s in sentences[: rng.randint(2, 12)]:
        words = s.split(" ")
        for i in range(len(words)):
            u = rng.random()
            if u < 0.08:
                words[i] = rng.choice(pool["words"])
            elif u < 0.10:
                words[i] = str(rng.randint(1, 5000)) + rng.choice(["", "mm", " inch", "W", "V", "-Pack"])
        out.append(" ".join(words))
    return ". ".join(out)


def row(rng, pool, category):
    title = rng.choice(pool["title"])
    words = title.split(" ")
    rng.shuffle(words)
    if rng.random() < 0.5:
        words.insert(rng.randrange(len(words) + 1), rng.choice(pool["words"]))
    r = {"main_category": category.replace("_", " "), "title": " ".join(words),
         "average_rating": round(rng.uniform(1, 5), 1), "rating_number": rng.randint(0, 5000),
         "features": [], "description": [], "price": price(rng), "images": [], "videos": [],
         "store": rng.choice(["Acme", "Generic", "OEM", None]), "categories": [category],
         "details": {}, "parent_asin": "B%09d" % rng.randrange(10**9), "bought_together": None}
    kind = rng.random()
    if kind < 0.15:  # too little text to be kept
        if pool["features"]:
            r["features"] = rng.choice(pool["features"])[:1]
    else:
        if rng.random() < 0.8:
            r["description"] = [remix(rng, pool, [" ".join(rng.choice(pool["description"])) for _ in range(3)])]
        if rng.random() < 0.7 and pool["features"]:
            r["features"] = [remix(rng, pool, [f]) for f in rng.choice(pool["features"])]
        d = dict(rng.choice(pool["details"]))
        for k in list(d)[:2]:
            if isinstance(d[k], str) and rng.random() < 0.5:
                d[k] = remix(rng, pool, [d[k]]) or d[k]
        r["details"] = d
    return r


def main():
    a = argparse.ArgumentParser()
    a.add_argument("source")
    a.add_argument("out")
    a.add_argument("--rows", type=int, required=True, help="rows per category")
    a.add_argument("--seed", type=int, default=2024)
    a.add_argument("--gzip", action="store_true")
    args = a.parse_args()
    pool = load_pool(args.source)
    os.makedirs(args.out, exist_ok=True)
    for i, cat in enumerate(CATEGORIES):
        rng = random.Random(args.seed * 1000 + i)
        path = os.path.join(args.out, f"meta_{cat}.jsonl" + (".gz" if args.gzip else ""))
        opener = gzip.open if args.gzip else open
        with opener(path, "wt", encoding="utf-8") as f:
            for n in range(args.rows):
                if rng.random() < 0.001:
                    f.write('{"title": "broken line", "price": 1' + "\n")
                    continue
                f.write(json.dumps(row(rng, pool, cat), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
