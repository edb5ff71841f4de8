#!/usr/bin/env python3
"""Run a pricer pipeline on a Ray cluster.

The sharded stages (ingest, then prompt on each ingest shard) run as one Ray task per
shard (`--shard i/N`); `pricer-merge` joins each stage's shards into the folder a
one-machine run writes, byte for byte; then the global stages (split, audit, export) run
as one task through `xtask pipeline --start-at split` with the same config file.

    python xtask/ray/driver.py --config crates/pipeline/configs/classic.toml --out runs/classic \\
        --shards 16 [--address auto] [--threads-per-task 2]

Every node must see the repository (binaries in target/release, the config's inputs and
tokenizer) and the run folder at the same paths: a shared file system. See
docs/scale-out.md. Only Ray's public API is used (ray.init, ray.remote, ray.get, ray.wait).
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time
import tomllib

import ray


def sh(argv, cwd):
    """Runs one pricer binary; its stderr becomes the error if it fails."""
    p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed ({p.returncode}):\n{p.stderr.strip()}")
    return p.stdout.strip()


def read_manifest(folder):
    with open(os.path.join(folder, "manifest.json")) as f:
        return json.load(f)


def refuse_what_it_cannot_run(cfg):
    """This driver knows recipe v1 on local files only: anything else stops here, before
    any work, naming what to do instead."""
    recipe = cfg.get("recipe", "v1")
    if recipe != "v1":
        raise SystemExit(
            f"config: recipe {recipe!r}: this Ray driver runs recipe v1 only; run recipe v2 on one "
            "machine (pricer run CONFIG, or cargo xtask pipeline --config CONFIG)"
        )
    if cfg.get("input", {}).get("hub"):
        raise SystemExit(
            "config: [input] hub: this Ray driver reads local files only; fetch the files once "
            "(pricer run CONFIG downloads them into the Hugging Face cache, or the McAuley Lab "
            "site's copies) and name their folder in [input] data_dir"
        )


def ingest_inputs(cfg):
    """The config's [input] as pricer-ingest arguments, in the pipeline's order."""
    refuse_what_it_cannot_run(cfg)
    inp = cfg.get("input", {})
    args = [str(p) for p in inp.get("paths", [])]
    if inp.get("data_dir"):
        args += ["--data-dir", str(inp["data_dir"]), "--categories", ",".join(inp.get("categories", []))]
    if not args:
        raise SystemExit("config: no inputs ([input] paths or categories + data_dir)")
    return args


def tokenizer_args(cfg):
    tok = cfg.get("tokenizer", {})
    args = []
    if tok.get("path"):
        args += ["--tokenizer", str(tok["path"])]
    elif tok.get("hub"):
        args += ["--tokenizer-hub", tok["hub"]]
    if tok.get("clean_up_spaces") is False:
        args.append("--no-clean-up-spaces")
    return args


# A shard task that fails (its process killed mid-write, a lost node, an error) is run
# again: the binaries write by rename and remove what a killed run left, so a retry starts
# clean and ends with the same bytes.
@ray.remote(max_retries=3, retry_exceptions=True)
def shard_task(repo, bins, run, index, count, inputs, tok_args, threads):
    """Ingest shard `index` of `count`, then prompt on it. Returns both manifests."""
    ingest = os.path.join(run, "shards", f"ingest-{index:05d}")
    prompt = os.path.join(run, "shards", f"prompt-{index:05d}")
    t = time.time()
    sh([os.path.join(bins, "pricer-ingest"), *inputs, "--shard", f"{index}/{count}",
        "--threads", str(threads), "--out", ingest], repo)
    sh([os.path.join(bins, "pricer-prompt"), ingest, "--out", prompt, "--threads", str(threads),
        *tok_args], repo)
    return {
        "index": index,
        "host": socket.gethostname(),
        "wall_seconds": time.time() - t,
        "ingest": read_manifest(ingest),
        "prompt": read_manifest(prompt),
    }


@ray.remote
def global_task(repo, bins, argv):
    """A step that needs every shard: a merge, or the rest of the pipeline."""
    return {"host": socket.gethostname(), "stdout": sh([os.path.join(bins, argv[0]), *argv[1:]], repo)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", required=True, help="the run config (as for cargo xtask pipeline)")
    ap.add_argument("--out", required=True, help="the run folder, on storage every node sees")
    ap.add_argument("--shards", type=int, required=True, help="shard tasks for ingest and prompt")
    ap.add_argument("--address", default=None, help="Ray cluster address (default: start a local one)")
    ap.add_argument("--threads-per-task", type=int, default=1, help="threads (and Ray CPUs) per shard task")
    ap.add_argument("--global-threads", type=int, default=None, help="threads for split/audit/export")
    ap.add_argument("--repo", default=os.getcwd(), help="the pricer checkout (default: here)")
    ap.add_argument("--bin-dir", default=None, help="the binaries (default: REPO/target/release)")
    args = ap.parse_args()

    repo = os.path.abspath(args.repo)
    bins = os.path.abspath(args.bin_dir or os.path.join(repo, "target", "release"))
    run = os.path.abspath(args.out)
    config = args.config
    if not os.path.exists(config):
        # A bundled config by name (classic), as pricer run takes it.
        bundled = os.path.join(args.repo, "crates", "pipeline", "configs", f"{config}.toml")
        config = bundled if os.path.exists(bundled) else config
    with open(config, "rb") as f:
        cfg = tomllib.load(f)
    inputs, tok_args = ingest_inputs(cfg), tokenizer_args(cfg)
    os.makedirs(os.path.join(run, "shards"), exist_ok=True)
    global_threads = args.global_threads or args.threads_per_task

    ray.init(address=args.address, log_to_driver=False)
    started = time.time()
    task = shard_task.options(num_cpus=args.threads_per_task)
    pending = [task.remote(repo, bins, run, i, args.shards, inputs, tok_args, args.threads_per_task)
               for i in range(args.shards)]
    shards = []
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        s = ray.get(done[0])
        shards.append(s)
        print(f"shard {s['index']}/{args.shards} done on {s['host']} in {s['wall_seconds']:.1f} s: "
              f"{s['ingest']['counts']['rows_in']:,} rows, {s['prompt']['counts']['kept']:,} items "
              f"({len(shards)}/{args.shards})", flush=True)
    shards.sort(key=lambda s: s["index"])

    def step(argv, threads=1):
        return ray.get(global_task.options(num_cpus=threads).remote(repo, bins, argv))

    folders = lambda stage: [os.path.join(run, "shards", f"{stage}-{i:05d}") for i in range(args.shards)]
    print(step(["pricer-merge", *folders("ingest"), "--out", os.path.join(run, "ingest")])["stdout"], flush=True)
    print(step(["pricer-merge", *folders("prompt"), "--out", os.path.join(run, "prompt"),
                "--upstream", os.path.join(run, "ingest")])["stdout"], flush=True)
    rest = step(["xtask", "pipeline", "--config", os.path.abspath(args.config), "--out", run,
                 "--start-at", "split", "--threads", str(global_threads)], global_threads)
    print(rest["stdout"], flush=True)

    summary = {
        "config": os.path.abspath(args.config),
        "shards": args.shards,
        "wall_seconds": time.time() - started,
        "shard_tasks": [{k: s[k] for k in ("index", "host", "wall_seconds")} |
                        {"rows_in": s["ingest"]["counts"]["rows_in"], "items": s["prompt"]["counts"]["kept"],
                         "ingest_peak_rss_bytes": s["ingest"].get("peak_rss_bytes"),
                         "prompt_peak_rss_bytes": s["prompt"].get("peak_rss_bytes")} for s in shards],
        "stages": {stage: {k: m.get(k) for k in ("fingerprint", "counts", "wall_seconds", "peak_rss_bytes")}
                   for stage in ("ingest", "prompt", "split", "audit", "export")
                   for m in [read_manifest(os.path.join(run, stage))]},
    }
    with open(os.path.join(run, "run-summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    print(f"ray: {args.shards} shards, run folder {run}, {summary['wall_seconds']:.1f} s; "
          f"summary in {os.path.join(run, 'run-summary.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
