"""The Python package as users meet it: installed from the wheel into a fresh virtual
environment (CI: `cargo xtask ci`), run outside the checkout. PRICER_REFERENCE_EXPORT
names the export folder of `cargo xtask pipeline` on the fixtures, to compare bytes with.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import pricer

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "fixtures" / "data" / "amazon-2023"


def files(folder: Path) -> dict:
    """Every file under `folder` but manifests, by relative path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


def reference() -> dict:
    ref = os.environ.get("PRICER_REFERENCE_EXPORT")
    if not ref:
        pytest.skip("PRICER_REFERENCE_EXPORT is not set (cargo xtask ci sets it)")
    return files(Path(ref))


def test_the_installed_command_runs_the_fixtures_from_anywhere(tmp_path):
    env = dict(os.environ, PRICER_USE_CARRIED="1", PRICER_CACHE_DIR=str(tmp_path / "cache"))
    done = subprocess.run(["pricer", "run", "fixtures"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "pipeline: ran ingest, prompt, split, audit, export" in done.stdout
    assert files(tmp_path / "runs" / "fixtures" / "export") == reference()
    usage = subprocess.run(["pricer", "run", "--threads", "0"], cwd=tmp_path, capture_output=True, text=True)
    assert usage.returncode == 2 and "0 threads" in usage.stderr


def test_run_gives_the_same_bytes_stages_report_dataset_and_items(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = pricer.run("fixtures", progress=False)
    assert run.path == Path("runs/fixtures")
    assert [s.stage for s in run.stages] == ["ingest", "prompt", "split", "audit", "export", "eval"]
    assert all(s.outcome == "ran" for s in run.stages)
    board = run.evaluation["predictors"]
    assert [p["name"] for p in board] == ["random", "constant"] and board[0]["metrics"]["size"] == 200
    assert run.stages[0].rows_in == 2000 and run.stages[0].rejected_by_reason["price_missing"] == 927
    assert files(run.path / "export") == reference()
    assert run.report is not None and run.report.name == "report.html"
    html = run._repr_html_()
    assert "<table>" in html and "ingest" in html
    ds = run.dataset()
    assert (len(ds["train"]), len(ds["test"])) == (800, 200)
    assert ds["test"][0]["text"].endswith("Price is $")
    assert run.items().num_rows == 1028
    again = pricer.run("fixtures", progress=False)
    assert all(s.outcome == "skipped" for s in again.stages)
    assert any("up to date" in line for line in pricer.status(run.path))


def test_a_dict_config_and_errors_with_the_commands_message(tmp_path, capsys):
    config = {"input": {"paths": [str(FIXTURES)]}, "split": {"train": 700, "test": 100}, "audit": {"compare_bundled": False}}
    run = pricer.run(config, out=tmp_path / "run")
    assert "split: " in capsys.readouterr().out, "a line per stage on Python's stdout"
    assert run.dataset()["train"].num_rows == 700
    with pytest.raises(pricer.PricerError) as e:
        pricer.run({"split": {"trian": 700}}, out=tmp_path / "bad")
    assert "unknown field `trian`" in str(e.value) and not str(e.value).startswith("error:")
    with pytest.raises(pricer.PricerError) as e:
        pricer.run("no-such-config")
    assert "not a bundled config" in str(e.value)
    v2 = pricer.run({"recipe": "v2", "input": {"paths": [str(FIXTURES)]}, "curate": {"sample": 600},
                     "split": {"train": 500, "validation": 50, "test": 50, "lite_train": 100,
                               "lite_validation": 10, "lite_test": 10}}, out=tmp_path / "v2", progress=False)
    assert len(v2.dataset("items_raw_lite")["validation"]) == 10
    with pytest.raises(pricer.PricerError, match="there are: items_raw_full, items_raw_lite"):
        v2.dataset("items_lite")
    with pytest.raises(pricer.PricerError, match="use Run.dataset"):
        v2.items()


def big_corpus(folder: Path, copies: int) -> Path:
    """The fixture rows, each file repeated `copies` times: a run of a few seconds."""
    folder.mkdir()
    for f in sorted(FIXTURES.glob("*.jsonl")):
        data = f.read_bytes()
        (folder / f.name).write_bytes(data * copies)
    return folder


def test_ctrl_c_stops_a_run_within_a_second_and_the_next_run_resumes_to_the_same_bytes(tmp_path):
    corpus = big_corpus(tmp_path / "corpus", 150)
    config = {"input": {"paths": [str(corpus)]}, "split": {"take_available": True}, "audit": {"compare_bundled": False}}
    script = textwrap.dedent(f"""
        import json, sys, pricer
        try:
            pricer.run(json.loads(sys.argv[1]), out=sys.argv[2], threads=2, progress=False)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(42)
        print("finished", flush=True)
    """)
    out = tmp_path / "run"
    child = subprocess.Popen([sys.executable, "-c", script, json.dumps(config), str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Interrupt once the prompt stage is under way (ingest done).
    deadline = time.time() + 60
    while not (out / "ingest" / "manifest.json").exists() and time.time() < deadline:
        time.sleep(0.02)
    assert child.poll() is None, "the run ended before it could be interrupted: make the corpus bigger"
    child.send_signal(signal.SIGINT)
    sent = time.time()
    stdout, stderr = child.communicate(timeout=30)
    took = time.time() - sent
    assert child.returncode == 42 and "interrupted" in stdout, (child.returncode, stdout, stderr)
    assert took < 1.5, f"stopped {took:.2f} s after the signal"
    assert not (out / "export" / "manifest.json").exists()
    resumed = pricer.run(config, out=out, threads=2, progress=False)
    assert resumed.stages[0].outcome == "skipped", "ingest finished before the signal and is kept"
    whole = pricer.run(config, out=tmp_path / "whole", threads=1, progress=False)
    assert files(out / "export") == files(whole.path / "export")


def test_the_command_is_the_same_command_line():
    done = subprocess.run(["pricer", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "ingest" in done.stdout and "status" in done.stdout
    assert pricer.__version__ and "classic" in pricer.configs()
