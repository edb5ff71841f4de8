"""The course's scoring, as its code computes it, for pricer's eval to be checked against.

Written from ed-donner/llm_engineering: week6/pricer/evaluator.py (V2's Tester:
post_process, color_for, report, error_trend_chart) and week6's testing.py (V1's Tester:
RMSLE and hits), with the baselines of the course's notebooks (random.seed(42) then
random.randrange(1, 1000) per item; the training prices' mean). Needs Python 3.12 (its
`sum`), numpy and scikit-learn, pyarrow to read the splits.

usage: course_eval.py SIZE TEST.parquet TRAIN.parquet NAME=KIND[:ARG] ...
  KIND: random (ARG: seed), constant (ARG: value, else the training mean),
  jsonl / csv / parquet (ARG: the predictions file).
Prints JSON: per predictor its guesses, colours and figures (None where the course's
code raises).
"""

import csv
import json
import math
import random
import re
import sys
from itertools import accumulate

import pyarrow.parquet as pq
from sklearn.metrics import mean_squared_error, r2_score


def post_process(value):
    if isinstance(value, str):
        value = value.replace("$", "").replace(",", "")
        match = re.search(r"[-+]?\d*\.\d+|\d+", value)
        return float(match.group()) if match else 0
    else:
        return value


def color_for(error, truth):
    if error < 40 or error / truth < 0.2:
        return "green"
    elif error < 80 or error / truth < 0.4:
        return "orange"
    else:
        return "red"


def answers_of(kind, arg, size, train):
    if kind == "random":
        random.seed(int(arg or 42))
        return [random.randrange(1, 1000) for _ in range(size)]
    if kind == "constant":
        return [float(arg) if arg else sum(train) / len(train)] * size
    found = {}
    if kind == "jsonl":
        for line in open(arg, encoding="utf-8"):
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row.get("item"), int) and isinstance(row.get("prediction"), (str, int, float)):
                found.setdefault(row["item"], row["prediction"])
    elif kind == "csv":
        for row in csv.DictReader(open(arg, newline="", encoding="utf-8")):
            try:
                found.setdefault(int(row["item"]), row["prediction"])
            except (TypeError, ValueError):
                continue
    elif kind == "parquet":
        for row in pq.read_table(arg).to_pylist():
            if row["item"] is not None and row["prediction"] is not None:
                found.setdefault(row["item"], row["prediction"])
    # An item without a prediction is scored as an answer without a number.
    return [found.get(i, "") for i in range(size)]


def v1_figures(guesses, truths, errors, colors, size):
    try:
        sles = [(math.log(t + 1) - math.log(g + 1)) ** 2 for g, t in zip(guesses, truths)]
        rmsle = math.sqrt(sum(sles) / size)
    except ValueError:
        rmsle = None
    hits = sum(1 for color in colors if color == "green")
    return rmsle, hits / size * 100


def trend(errors):
    n = len(errors)
    running_sums = list(accumulate(errors))
    x = list(range(1, n + 1))
    running_means = [s / i for s, i in zip(running_sums, x)]
    running_squares = list(accumulate(e * e for e in errors))
    try:
        running_stds = [
            math.sqrt((sq_sum / i) - (mean**2)) if i > 1 else 0
            for i, sq_sum, mean in zip(x, running_squares, running_means)
        ]
    except ValueError:
        return running_means[-1], None
    ci = [1.96 * (sd / math.sqrt(i)) if i > 1 else 0 for i, sd in zip(x, running_stds)]
    return running_means[-1], ci[-1]


def score(answers, truths, size):
    guesses = [post_process(a) for a in answers[:size]]
    truths = truths[:size]
    errors = [abs(g - t) for g, t in zip(guesses, truths)]
    colors = [color_for(e, t) for e, t in zip(errors, truths)]
    rmsle, hits_pct = v1_figures(guesses, truths, errors, colors, size)
    running_mean, ci95 = trend(errors)
    return {
        "guesses": [float(g) for g in guesses],
        "colours": colors,
        "average_error": sum(errors) / size,
        "rmsle": rmsle,
        "hits_pct": hits_pct,
        "mse": float(mean_squared_error(truths, guesses)),
        "r2_pct": float(r2_score(truths, guesses) * 100),
        "running_mean": running_mean,
        "ci95": ci95,
    }


def main():
    assert sys.version_info >= (3, 12), "the course's figures need Python 3.12's sum"
    size = int(sys.argv[1])
    truths = pq.read_table(sys.argv[2], columns=["price"]).column("price").to_pylist()
    train = pq.read_table(sys.argv[3], columns=["price"]).column("price").to_pylist()
    out = {}
    for spec in sys.argv[4:]:
        name, rest = spec.split("=", 1)
        kind, _, arg = rest.partition(":")
        out[name] = score(answers_of(kind, arg, size, train), truths, size)
    print(json.dumps(out))


main()
