//! V1's last step: `train.pkl` and `test.pkl` as the seed's `pickle.dump` wrote them, byte
//! for byte (the golden pair, and a synthetic corpus with another seed and sizes made by
//! the independent implementation), opened by Python's own `pickle` with a stand-in
//! `items` module: every object's `__dict__` and `test_prompt()` as the course's code
//! has them, and CPython's re-pickling of what it loaded giving the same bytes.

use std::path::Path;
use std::process::Command;

use pricer_e2e::{fixture, golden, py, root, run_ok};

/// Python that loads `sys.argv[1]` (a pickle) with a stand-in `items.Item`, checks every
/// object against the export's Hub rows of the same split (`sys.argv[2]`, a Parquet
/// file; test rows hold the test prompt) and the items table (`sys.argv[3]`), and checks
/// that CPython re-pickles what it loaded to the same bytes.
const CHECK: &str = r#"
import pickle, sys, types
import pyarrow.parquet as pq
mod = types.ModuleType("items")
class Item:
    PREFIX = "Price is $"
    def test_prompt(self):
        return self.prompt.split(self.PREFIX)[0] + self.PREFIX
Item.__module__ = "items"
mod.Item = Item
sys.modules["items"] = mod
data = open(sys.argv[1], "rb").read()
items = pickle.loads(data)
assert pickle.dumps(items, protocol=4) == data, "CPython re-pickles it to other bytes"
hub = pq.read_table(sys.argv[2]).to_pylist()
table = {(r["prompt"]): r for r in pq.read_table(sys.argv[3]).to_pylist()}
assert len(items) == len(hub), (len(items), len(hub))
test = "test" in sys.argv[1]
for it, row in zip(items, hub):
    d = it.__dict__
    assert list(d) == ["title", "price", "details", "prompt", "token_count", "include", "category"], list(d)
    assert d["include"] is True and d["price"] == row["price"]
    assert (it.test_prompt() if test else d["prompt"]) == row["text"]
    full = table[d["prompt"]]
    for k in ("title", "details", "token_count", "category"):
        assert d[k] == full[k], (k, d[k], full[k])
cats = {}
for it in items:
    assert cats.setdefault(it.category, it.category) is it.category, "one category string per category"
print(len(items))
"#;

fn check(run: &Path, split: &str) {
    let export = run.join("export");
    let n = py(
        CHECK,
        &[
            &export.join(format!("items/{split}.pkl")),
            &export.join(format!("hub/data/{split}-00000-of-00001.parquet")),
            &export.join("items/items.parquet"),
        ],
    );
    assert!(n.trim().parse::<usize>().unwrap() > 0);
}

#[test]
fn the_fixture_runs_pickles_equal_the_golden_pair_and_python_opens_them() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    run_ok("xtask", &[&"pipeline", &"--out", &run]);
    for split in ["train", "test"] {
        let got = std::fs::read(run.join(format!("export/items/{split}.pkl"))).unwrap();
        assert!(
            got == golden(&format!("pickles/{split}.pkl")),
            "{split}.pkl differs from the golden"
        );
        check(&run, split);
    }
}

#[test]
fn pickles_of_another_corpus_seed_and_sizes_equal_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    let made = Command::new(pricer_e2e::python())
        .arg(root().join("xtask/tools/make_corpus.py"))
        .arg(fixture("data/amazon-2023"))
        .arg(&corpus)
        .args(["--rows", "700", "--seed", "17"])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let config = dir.path().join("synth.toml");
    std::fs::write(
        &config,
        format!(
            "[input]\npaths = [{corpus:?}]\n[split]\nseed = 7\ntrain = 1500\ntest = 300\n[audit]\ncompare_bundled = false\n"
        ),
    )
    .unwrap();
    let run = dir.path().join("run");
    run_ok(
        "xtask",
        &[&"pipeline", &"--config", &config, &"--out", &run],
    );
    for split in ["train", "test"] {
        let got = std::fs::read(run.join(format!("export/items/{split}.pkl"))).unwrap();
        assert!(
            got == golden(&format!("pickles/synth-{split}.pkl")),
            "{split}.pkl differs from the reference's"
        );
        check(&run, split);
    }
    // The knob turns them off.
    std::fs::write(
        &config,
        std::fs::read_to_string(&config).unwrap() + "[export]\npickles = false\n",
    )
    .unwrap();
    run_ok(
        "xtask",
        &[&"pipeline", &"--config", &config, &"--out", &run],
    );
    assert!(!run.join("export/items/train.pkl").exists());
}
