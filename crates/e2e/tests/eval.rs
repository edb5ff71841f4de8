//! The eval stage against the course's own scoring (crates/e2e/tests/py/course_eval.py,
//! written from its Tester classes and run under Python 3.12 with numpy and
//! scikit-learn): on the fixtures run's test split, the random and constant baselines
//! and predictions files full of answers an LLM gives ("$1,299.99", "about 45", "no
//! idea", "1e3", Arabic-Indic digits ...) in JSON lines, CSV and Parquet; every guess,
//! colour and figure equal to the last bit; rows that give no answer as rejects with
//! reasons; the same figures from the published split (V1's Hub folder, and a V2-shaped
//! one whose truths are in `completion`).

use std::path::{Path, PathBuf};
use std::process::Command;

use pricer_e2e::{root, run, run_ok};
use serde_json::Value;

/// The Python the course's figures come from (`PRICER_COURSE_PYTHON`, which `cargo xtask
/// ci` points at target/course-venv: Python 3.12 with numpy, scikit-learn and pyarrow).
fn course_python() -> String {
    std::env::var("PRICER_COURSE_PYTHON").unwrap_or_else(|_| "python3.12".into())
}

fn course(args: &[String]) -> Value {
    let o = Command::new(course_python())
        .arg(root().join("crates/e2e/tests/py/course_eval.py"))
        .args(args)
        .output()
        .expect("run the course's scoring");
    assert!(
        o.status.success(),
        "course_eval.py failed (set PRICER_COURSE_PYTHON to a Python 3.12 with numpy, scikit-learn and pyarrow):\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("course_eval.py prints JSON")
}

/// What a chatty model answers, one per item in turn.
const ANSWERS: [&str; 14] = [
    "$1,299.99",
    "about 45",
    "-3",
    "",
    "no idea",
    "1e3",
    "12.5.3",
    "Price is $-.5",
    "٣٤ dollars",
    "+7.25",
    "  42  ",
    "1,000,000",
    "$.99",
    "$ 99.",
];

/// A JSON-lines, a CSV and a Parquet file of the same answers for `size` items, with
/// rows that give none (bad JSON, no item, a repeat, a negative item) and two items
/// missing. Returns the three files.
fn prediction_files(dir: &Path, size: usize) -> [PathBuf; 3] {
    let mut jsonl = String::from(
        "{not json\n{\"prediction\": \"$5\"}\n{\"item\": -1, \"prediction\": \"1\"}\n",
    );
    let mut csv = String::from("item,prediction\n");
    let mut rows = Vec::new();
    for i in (0..size).filter(|i| i % 50 != 7) {
        let answer = ANSWERS[i % ANSWERS.len()];
        if i % 9 == 4 {
            // A number, not text: used as it is.
            jsonl.push_str(&format!("{{\"item\": {i}, \"prediction\": {}}}\n", 10 + i));
        } else {
            jsonl.push_str(&format!(
                "{}\n",
                serde_json::json!({"item": i, "prediction": answer})
            ));
        }
        csv.push_str(&format!("{i},\"{}\"\n", answer.replace('"', "\"\"")));
        rows.push(serde_json::json!({"item": i, "prediction": answer}));
    }
    jsonl.push_str("{\"item\": 0, \"prediction\": \"999\"}\n");
    let files = [
        dir.join("chat.jsonl"),
        dir.join("chat.csv"),
        dir.join("chat.parquet"),
    ];
    std::fs::write(&files[0], jsonl).unwrap();
    std::fs::write(&files[1], csv).unwrap();
    let rows_json = dir.join("rows.json");
    std::fs::write(&rows_json, serde_json::to_vec(&rows).unwrap()).unwrap();
    let o = Command::new(course_python())
        .args(["-c", "import json, sys, pyarrow as pa, pyarrow.parquet as pq; pq.write_table(pa.Table.from_pylist(json.load(open(sys.argv[1]))), sys.argv[2])"])
        .arg(&rows_json)
        .arg(&files[2])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    files
}

fn bits_equal(got: &Value, want: &Value, what: &str) {
    match (got.as_f64(), want.as_f64()) {
        (Some(g), Some(w)) => assert_eq!(
            g.to_bits(),
            w.to_bits(),
            "{what}: pricer {g:?}, the course {w:?}"
        ),
        _ => assert_eq!(got, want, "{what}"),
    }
}

/// Every figure and every item's guess and colour of `eval` equal the course's.
fn same_as_course(eval: &Path, course: &Value, names: &[&str]) {
    let metrics: Value =
        serde_json::from_slice(&std::fs::read(eval.join("metrics.json")).unwrap()).unwrap();
    let predictors = metrics["predictors"].as_array().unwrap();
    assert_eq!(predictors.len(), names.len());
    for (p, name) in predictors.iter().zip(names) {
        assert_eq!(p["name"], *name);
        let want = &course[*name];
        for key in [
            "average_error",
            "rmsle",
            "hits_pct",
            "mse",
            "r2_pct",
            "running_mean",
            "ci95",
        ] {
            bits_equal(&p["metrics"][key], &want[key], &format!("{name} {key}"));
        }
        let lines = std::fs::read_to_string(eval.join(name).join("predictions.jsonl")).unwrap();
        let lines: Vec<Value> = lines
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines.len(),
            want["guesses"].as_array().unwrap().len(),
            "{name}"
        );
        for (k, line) in lines.iter().enumerate() {
            assert_eq!(line["item"], k);
            bits_equal(
                &line["guess"],
                &want["guesses"][k],
                &format!("{name} item {k} guess"),
            );
            assert_eq!(line["colour"], want["colours"][k], "{name} item {k}");
        }
    }
}

/// The predictors on pricer-eval's command line and on course_eval.py's.
const PREDICTORS: [(&str, &str, &str); 7] = [
    ("random", "random", "random:42"),
    ("random-7", "random-7=random:7", "random:7"),
    ("constant", "constant", "constant"),
    (
        "constant-99.5",
        "constant-99.5=constant:99.5",
        "constant:99.5",
    ),
    ("chat", "chat=JSONL", "jsonl:JSONL"),
    ("chat_csv", "chat_csv=CSV", "csv:CSV"),
    ("chat_parquet", "chat_parquet=PARQUET", "parquet:PARQUET"),
];

fn names() -> Vec<&'static str> {
    PREDICTORS.iter().map(|p| p.0).collect()
}

/// `pricer-eval` with every predictor, from the run `from` (or `--from` a folder).
fn eval(args: &[&dyn AsRef<std::ffi::OsStr>], files: &[PathBuf; 3]) -> std::process::Output {
    let fill = |s: &str| {
        s.replace("JSONL", &files[0].display().to_string())
            .replace("CSV", &files[1].display().to_string())
            .replace("PARQUET", &files[2].display().to_string())
    };
    let specs: Vec<String> = PREDICTORS.iter().map(|p| fill(p.1)).collect();
    let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> = args.to_vec();
    for s in &specs {
        all.push(&"--predictor");
        all.push(s);
    }
    run("pricer-eval", &all)
}

fn ok(o: std::process::Output) -> String {
    assert!(
        o.status.success(),
        "pricer-eval failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn scores_equal_the_courses_to_the_last_bit() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("run");
    run_ok("pricer", &[&"run", &"fixtures", &"--out", &runs]);
    let hub = runs.join("export/hub");
    let test = hub.join("data/test-00000-of-00001.parquet");
    let train = hub.join("data/train-00000-of-00001.parquet");
    let size = 200;
    let files = prediction_files(tmp.path(), size);
    let mut args = vec![
        size.to_string(),
        test.display().to_string(),
        train.display().to_string(),
    ];
    for (name, _, spec) in PREDICTORS {
        let spec = spec
            .replace("JSONL", &files[0].display().to_string())
            .replace("CSV", &files[1].display().to_string())
            .replace("PARQUET", &files[2].display().to_string());
        args.push(format!("{name}={spec}"));
    }
    let want = course(&args);

    // From the run.
    let from_run = tmp.path().join("eval");
    let said = ok(eval(&[&runs, &"--out", &from_run], &files));
    assert!(
        said.contains("eval: 200 test items, average error random $"),
        "{said}"
    );
    same_as_course(&from_run, &want, &names());

    // Rows that give no answer, with reasons; the items without one are scored as an
    // answer without a number.
    let rejects = std::fs::read_to_string(from_run.join("chat/rejects.jsonl")).unwrap();
    let reasons: Vec<String> = rejects
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["reason"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for r in [
        "not_json",
        "item_missing",
        "item_negative",
        "item_repeated",
        "missing",
    ] {
        assert!(reasons.iter().any(|x| x == r), "no {r} in {rejects}");
    }
    assert_eq!(
        reasons.iter().filter(|r| *r == "missing").count(),
        4,
        "{rejects}"
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(from_run.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["counts"]["kept"], 200);

    // From the published V1 split: the same figures.
    let from_hub = tmp.path().join("eval-hub");
    ok(eval(&[&"--from", &hub, &"--out", &from_hub], &files));
    same_as_course(&from_hub, &want, &names());

    // A V2-shaped published split: prompt and completion (`str(price)`), the train split's
    // prices; inferred V2, whose default size is the course's 200.
    let v2 = tmp.path().join("v2-hub");
    std::fs::create_dir_all(v2.join("data")).unwrap();
    let o = Command::new(course_python())
        .args(["-c", V2_SHAPED])
        .args([&test, &train, &v2.join("data")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let from_v2 = tmp.path().join("eval-v2");
    ok(eval(&[&"--from", &v2, &"--out", &from_v2], &files));
    same_as_course(&from_v2, &want, &names());
    let metrics = std::fs::read_to_string(from_v2.join("metrics.json")).unwrap();
    assert!(metrics.contains("\"recipe\": \"v2\""), "{metrics}");
}

/// Writes a V2-shaped copy of V1's published test split (argv 1) and training split
/// (argv 2) into argv 3: test rows with `prompt` and `completion = str(price)`.
const V2_SHAPED: &str = r#"
import sys, pyarrow as pa, pyarrow.parquet as pq
test = pq.read_table(sys.argv[1]).to_pylist()
rows = [{"prompt": r["text"], "completion": str(r["price"])} for r in test]
pq.write_table(pa.Table.from_pylist(rows), sys.argv[3] + "/test-00000-of-00001.parquet")
train = pq.read_table(sys.argv[2]).to_pylist()
pq.write_table(pa.Table.from_pylist([{"price": r["price"]} for r in train]), sys.argv[3] + "/train-00000-of-00001.parquet")
"#;

#[test]
fn bad_predictions_and_sizes_get_clear_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = tmp.path().join("run");
    run_ok("pricer", &[&"run", &"fixtures", &"--out", &runs]);
    let out = tmp.path().join("eval");
    let cases: [(&[&str], &str); 4] = [
        (&["--size", "201"], "fewer than the 201 to score"),
        (&["--predictor", "x=nothing.txt"], "nothing.txt"),
        (
            &["--predictor", "random", "--predictor", "random:3"],
            "two predictors are named \"random\"",
        ),
        (&["--predictor", "../x=random"], "predictor name"),
    ];
    for (extra, said) in cases {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&runs, &"--out", &out];
        for e in extra {
            args.push(e);
        }
        let o = run("pricer-eval", &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains(said),
            "{extra:?}: {err}"
        );
    }
    let bad = tmp.path().join("bad.parquet");
    std::fs::write(&bad, b"PAR1 not really").unwrap();
    let spec = format!("bad={}", bad.display());
    let o = run(
        "pricer-eval",
        &[&runs, &"--out", &out, &"--predictor", &spec],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("bad.parquet"), "{err}");
}
