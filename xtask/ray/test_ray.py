#!/usr/bin/env python3
"""The Ray driver against `xtask pipeline`: starts a local Ray cluster, runs the fixtures
and a generated corpus through driver.py with 4 (and 5) shards, and checks that every
exported file, and every ingest/prompt/split artifact, equals the one-machine run's. Then
the same with faults: one shard task is SIGKILLed while it writes and another fails once;
Ray retries them and the merged output is still byte-identical. Last, pricer-merge must
refuse a shard folder whose outputs do not verify.

    python xtask/ray/test_ray.py   # needs: pip install ray; cargo build --release --workspace --bins
    (PRICER_BIN_DIR=target/debug to use debug binaries, as CI does)

Run from the repository root (cargo xtask ci runs it). Exits non-zero on any difference.
"""
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINS = os.path.abspath(os.path.join(REPO, os.environ.get("PRICER_BIN_DIR", "target/release")))
PY = sys.executable


def sh(*argv, **kw):
    p = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"FAILED: {' '.join(argv)}\n{p.stdout}\n{p.stderr}")
    return p.stdout


def files_under(root):
    out = []
    for d, _, names in os.walk(root):
        out += [os.path.relpath(os.path.join(d, n), root) for n in names]
    return sorted(out)


def compare(one, many, label):
    checked = 0
    for stage, names in [("ingest", ["candidates.art", "rejects.jsonl"]),
                         ("prompt", ["items.art", "rejects.jsonl"]),
                         ("split", ["train.art", "test.art"])]:
        for n in names:
            a, b = os.path.join(one, stage, n), os.path.join(many, stage, n)
            assert filecmp.cmp(a, b, shallow=False), f"{label}: {stage}/{n} differs"
            checked += 1
    exported = [f for f in files_under(os.path.join(one, "export")) if f != "manifest.json"]
    assert exported == [f for f in files_under(os.path.join(many, "export")) if f != "manifest.json"], \
        f"{label}: exported file lists differ"
    for f in exported:
        assert filecmp.cmp(os.path.join(one, "export", f), os.path.join(many, "export", f), shallow=False), \
            f"{label}: export/{f} differs"
        checked += 1
    for stage in ["ingest", "prompt", "split", "export"]:
        fa = json.load(open(os.path.join(one, stage, "manifest.json")))["fingerprint"]
        fb = json.load(open(os.path.join(many, stage, "manifest.json")))["fingerprint"]
        assert fa == fb, f"{label}: {stage} fingerprint differs"
    return checked, exported


WRAPPER = """#!/usr/bin/env bash
# pricer-ingest with faults, once each: shard 1/N is SIGKILLed while it writes, shard 2/N
# fails. Markers in the faults folder record that a fault happened.
real="$REAL_BINS/pricer-ingest"
shard=""; out=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --shard) shard="${args[i+1]}" ;;
    --out) out="${args[i+1]}" ;;
  esac
done
if [[ "$shard" == 1/* && ! -e "$FAULTS/killed" ]]; then
  touch "$FAULTS/killed"
  "$real" "$@" & pid=$!
  for _ in $(seq 1 2000); do
    if ls "$out" 2>/dev/null | grep -q '.tmp-'; then break; fi
    kill -0 $pid 2>/dev/null || break
    sleep 0.005
  done
  kill -9 $pid 2>/dev/null; wait $pid
  exit 137
fi
if [[ "$shard" == 2/* && ! -e "$FAULTS/failed" ]]; then
  touch "$FAULTS/failed"
  echo "injected failure" >&2
  exit 3
fi
exec "$real" "$@"
"""


def fault_bins(tmp):
    """A bin folder whose pricer-ingest injects faults; the other binaries are the real ones."""
    d = os.path.join(tmp, "fault-bins")
    os.makedirs(d)
    for b in ["pricer-prompt", "pricer-merge", "xtask"]:
        os.symlink(os.path.join(BINS, b), os.path.join(d, b))
    w = os.path.join(d, "pricer-ingest")
    faults = os.path.join(tmp, "faults")
    os.makedirs(faults)
    # Ray workers do not inherit this process's environment: the paths go in the script.
    with open(w, "w") as f:
        f.write(WRAPPER.replace("$REAL_BINS", BINS).replace("$FAULTS", faults))
    os.chmod(w, 0o755)
    return d, faults


def refuses_what_it_cannot_run(tmp):
    """A v2 config, or one whose files are on the Hub, stops before any work, saying why."""
    for name, why in [("v2-fixtures", "runs recipe v1 only"), ("classic", "[input] hub: this Ray driver reads local files only")]:
        out = os.path.join(tmp, f"refused-{name}")
        p = subprocess.run([PY, "xtask/ray/driver.py", "--config", name, "--out", out, "--shards", "2",
                            "--bin-dir", BINS], cwd=REPO, capture_output=True, text=True)
        assert p.returncode != 0 and why in p.stderr and "Traceback" not in p.stderr, p.stderr
        assert not os.path.exists(out), "no work, no run folder"
    print("driver: refuses recipe v2 and Hub inputs before any work")


def main():
    for b in ["pricer-ingest", "pricer-prompt", "pricer-merge", "xtask"]:
        if not os.path.exists(os.path.join(BINS, b)):
            sys.exit(f"{BINS}/{b} is missing: cargo build --release --workspace --bins")
    tmp = tempfile.mkdtemp(prefix="pricer-ray-")
    ray_tmp = os.path.join(tmp, "ray")
    try:
        refuses_what_it_cannot_run(tmp)
        corpus = os.path.join(tmp, "corpus")
        sh(os.path.join(BINS, "xtask"), "synth", corpus, "--rows", "1500")
        synth_cfg = os.path.join(tmp, "synth.toml")
        with open(synth_cfg, "w") as f:
            f.write(f'[input]\npaths = ["{corpus}"]\n\n[tokenizer]\n'
                    'path = "fixtures/tokenizers/llama-3.1/tokenizer.json"\n\n'
                    '[split]\ntrain = 2000\ntest = 300\n')
        # A local cluster with more logical CPUs than cores, so shard tasks overlap.
        sh("ray", "start", "--head", "--num-cpus", "4", "--include-dashboard=false",
           "--temp-dir", ray_tmp, "--disable-usage-stats",
           env={**os.environ, "PATH": os.path.dirname(PY) + os.pathsep + os.environ["PATH"]})
        try:
            for label, cfg, shards in [("fixtures", "crates/pipeline/configs/fixtures.toml", 4),
                                       ("synthetic corpus", synth_cfg, 5)]:
                one, many = os.path.join(tmp, label, "one"), os.path.join(tmp, label, "ray")
                sh(os.path.join(BINS, "xtask"), "pipeline", "--config", cfg, "--out", one)
                out = sh(PY, "xtask/ray/driver.py", "--config", cfg, "--out", many,
                         "--shards", str(shards), "--address", "auto", "--bin-dir", BINS)
                print(out.strip().splitlines()[-1])
                checked, exported = compare(one, many, label)
                summary = json.load(open(os.path.join(many, "run-summary.json")))
                assert len(summary["shard_tasks"]) == shards
                print(f"{label}: {shards} shards on Ray == one machine: {checked} files identical "
                      f"({', '.join(exported)})")
            # Faults: a shard task killed mid-write, another failing once; both retried.
            bins, faults = fault_bins(tmp)
            one, many = os.path.join(tmp, "synthetic corpus", "one"), os.path.join(tmp, "faults", "ray")
            sh(PY, "xtask/ray/driver.py", "--config", synth_cfg, "--out", many,
               "--shards", "5", "--address", "auto", "--bin-dir", bins)
            assert os.path.exists(os.path.join(faults, "killed")) and os.path.exists(os.path.join(faults, "failed")), \
                "both faults happened"
            checked, _ = compare(one, many, "faults")
            print(f"faults: a shard SIGKILLed mid-write and a shard failing once were retried by Ray; "
                  f"{checked} files identical to the one-machine run")
            # A shard folder whose outputs do not verify is refused by the merge.
            rejects = os.path.join(many, "shards", "ingest-00000", "rejects.jsonl")
            with open(rejects, "a") as f:
                f.write('{"tampered": true}\n')
            shards = [os.path.join(many, "shards", f"ingest-{i:05d}") for i in range(5)]
            p = subprocess.run([os.path.join(BINS, "pricer-merge"), *shards, "--out", os.path.join(tmp, "merged")],
                               cwd=REPO, capture_output=True, text=True)
            assert p.returncode != 0 and "rejects.jsonl" in p.stderr and "do not verify" in p.stderr, p.stderr
            print("merge: refuses a shard whose outputs do not verify, naming the file")
        finally:
            subprocess.run(["ray", "stop", "--force"], cwd=REPO, capture_output=True,
                           env={**os.environ, "PATH": os.path.dirname(PY) + os.pathsep + os.environ["PATH"]})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ray: ok")


if __name__ == "__main__":
    main()
