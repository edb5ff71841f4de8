//! The `pricer` command as a user runs it: from an empty folder, with the bundled files
//! the program carries (unpacked into the user's cache), giving the same export bytes
//! as `cargo xtask pipeline`; `init`, `status`, `dump` and the stage subcommands.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pricer_e2e::{bin, run_ok};

/// `pricer ARGS` in `cwd`, with the carried files unpacked into `cache`.
fn pricer(cwd: &Path, cache: &Path, args: &[&str]) -> Output {
    Command::new(bin("pricer"))
        .args(args)
        .current_dir(cwd)
        .env("PRICER_USE_CARRIED", "1")
        .env("PRICER_CACHE_DIR", cache)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every file under `dir` but manifests, by relative path.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n != "manifest.json") {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_owned(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn pricer_run_from_an_empty_folder_exports_what_the_pipeline_exports() {
    let dir = tempfile::tempdir().unwrap();
    let (work, cache) = (dir.path().join("work"), dir.path().join("cache"));
    std::fs::create_dir(&work).unwrap();
    let out = ok(pricer(&work, &cache, &["run"]));
    assert!(
        out.contains("pipeline: ran ingest, prompt, split, audit, export, eval in runs/fixtures"),
        "{out}"
    );
    let unpacked: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("bundle-"))
        .collect();
    assert_eq!(unpacked.len(), 1, "the carried files are unpacked once");
    let reference = dir.path().join("reference");
    run_ok("xtask", &[&"pipeline", &"--out", &reference]);
    for stage in ["export", "eval"] {
        let (want, got) = (
            files(&reference.join(stage)),
            files(&work.join("runs/fixtures").join(stage)),
        );
        assert!(want.len() >= 5, "{stage}: {:?}", want.keys());
        assert_eq!(
            want.keys().collect::<Vec<_>>(),
            got.keys().collect::<Vec<_>>()
        );
        for (name, bytes) in &want {
            assert!(got[name] == *bytes, "{stage}/{} differs", name.display());
        }
    }
    let status = ok(pricer(&work, &cache, &["status", "runs/fixtures"]));
    assert_eq!(
        status
            .lines()
            .filter(|l| l.contains(": up to date;"))
            .count(),
        6,
        "{status}"
    );
    let again = ok(pricer(&work, &cache, &["run"]));
    assert!(again.contains("nothing to do"), "{again}");
    // A changed knob: status says which stages the next run redoes.
    std::fs::write(
        work.join("small.toml"),
        "[input]\npaths = [\"fixtures/data/amazon-2023\"]\n[split]\ntrain = 700\ntest = 100\n",
    )
    .unwrap();
    ok(pricer(
        &work,
        &cache,
        &["run", "small.toml", "--out", "runs/fixtures"],
    ));
    std::fs::write(
        work.join("small.toml"),
        "[input]\npaths = [\"fixtures/data/amazon-2023\"]\n[split]\ntrain = 600\ntest = 100\n",
    )
    .unwrap();
    let copy = std::fs::read_to_string(work.join("runs/fixtures/run.toml")).unwrap();
    std::fs::write(
        work.join("runs/fixtures/run.toml"),
        copy.replace("train = 700", "train = 600"),
    )
    .unwrap();
    let status = ok(pricer(&work, &cache, &["status", "runs/fixtures"]));
    assert!(
        status.contains("prompt: up to date") && status.contains("split: out of date"),
        "{status}"
    );
}

#[test]
fn init_writes_a_config_that_runs_and_stage_subcommands_take_their_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (work, cache) = (dir.path().join("work"), dir.path().join("cache"));
    std::fs::create_dir(&work).unwrap();
    let said = ok(pricer(
        &work,
        &cache,
        &["init", "--recipe", "v2", "v2.toml"],
    ));
    assert!(said.contains("pricer run v2.toml"), "{said}");
    let text = std::fs::read_to_string(work.join("v2.toml")).unwrap();
    assert!(
        text.contains("# max_in_flight = 8") && text.contains("# [summarize]"),
        "{text}"
    );
    let o = pricer(&work, &cache, &["init", "--recipe", "v2", "v2.toml"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("--force"));
    let out = ok(pricer(&work, &cache, &["run", "v2.toml"]));
    assert!(
        out.contains("items_raw_lite (train 100, validation 10, test 10)"),
        "{out}"
    );
    let help = ok(pricer(&work, &cache, &["split", "--help"]));
    assert!(
        help.contains("--take-available") && help.contains("Items in train"),
        "{help}"
    );
    let o = pricer(&work, &cache, &["dump", "runs/v2/curate"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("holds test.art, train.art, validation.art; dump one at a time"),
        "{err}"
    );
    let lines = ok(pricer(&work, &cache, &["dump", "runs/v2/curate/test.art"]));
    assert_eq!(lines.lines().count(), 50);
    let o = pricer(&work, &cache, &["dump", "runs/v2/export"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrote no records to dump"));
    let configs = ok(pricer(&work, &cache, &["configs"]));
    assert!(
        configs.contains("classic") && configs.contains("v2-lite"),
        "{configs}"
    );
}
