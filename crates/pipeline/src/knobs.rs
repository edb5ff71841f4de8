//! Every key of the run config, once: what it means and, per recipe, its default or an
//! example. `pricer init` writes a starter config from it; tests check it against the
//! config structs (serde's list of fields) and docs/configuration.md, so neither can
//! fall behind the code.

use pricer_core::recipe::Recipe;

use crate::config::RunConfig;

/// A key's value in one recipe's starter config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Val {
    /// Not a key of this recipe.
    No,
    /// The default, as the default config serialises it.
    Default,
    /// The default, stated (for keys whose default the recipe decides).
    Is(&'static str),
    /// Unset by default; this is an example.
    Example(&'static str),
}

/// One key of the run config.
#[derive(Debug, Clone, Copy)]
pub struct Knob {
    /// The table (`""` for the top level).
    pub section: &'static str,
    pub key: &'static str,
    pub v1: Val,
    pub v2: Val,
    pub doc: &'static str,
}

const fn both(section: &'static str, key: &'static str, v: Val, doc: &'static str) -> Knob {
    Knob {
        section,
        key,
        v1: v,
        v2: v,
        doc,
    }
}

const fn v1(section: &'static str, key: &'static str, v: Val, doc: &'static str) -> Knob {
    Knob {
        section,
        key,
        v1: v,
        v2: Val::No,
        doc,
    }
}

const fn v2(section: &'static str, key: &'static str, v: Val, doc: &'static str) -> Knob {
    Knob {
        section,
        key,
        v1: Val::No,
        v2: v,
        doc,
    }
}

use Val::{Default as D, Example as Ex, Is};

/// Every key, in the order a starter config lists them.
pub const KNOBS: &[Knob] = &[
    both("", "recipe", D, "\"v1\" (the 2024 recipe: ingest, prompt, split, audit, export) or \"v2\" (the course's December 2025 edition)"),
    both("input", "paths", Ex("[\"fixtures/data/amazon-2023\"]"), "raw metadata files or folders, read in the order given"),
    both("input", "categories", Ex("[\"Automotive\", \"Electronics\"]"), "categories read from data_dir or hub as meta_<Category>.jsonl[.gz|.zst], after paths"),
    both("input", "data_dir", Ex("\"data/raw\""), "the folder holding the categories' files"),
    both("input", "hub", Ex("\"McAuley-Lab/Amazon-Reviews-2023\""), "a Hub dataset repo holding the categories' files, through the Hugging Face cache"),
    both("input", "revision", Ex("\"main\""), "the hub revision: a branch, tag or commit id"),
    both("input", "pattern", Ex("\"raw/meta_categories/meta_{category}.jsonl\""), "a category's file in the hub repo"),
    both("tokenizer", "path", Ex("\"fixtures/tokenizers/llama-3.1/tokenizer.json\""), "the recipe's tokenizer.json (default: the bundled Llama 3.1)"),
    both("tokenizer", "hub", Ex("\"meta-llama/Meta-Llama-3.1-8B\""), "a Hub model id for the tokenizer, through the Hugging Face cache"),
    both("tokenizer", "clean_up_spaces", D, "transformers' clean_up_tokenization_spaces after decoding"),
    v1("sample", "seed", D, "np.random.seed for the price-balanced sample"),
    v1("sample", "cap", D, "price slots with more items are drawn down to this many"),
    v1("sample", "keep_from", D, "price slots from this rounded price up are taken whole"),
    v1("sample", "weights", D, "draw weight per category"),
    v1("sample", "default_weight", D, "draw weight of every other category"),
    Knob { section: "split", key: "seed", v1: Is("42"), v2: Ex("42"), doc: "random.seed for the shuffle that orders the splits (v2: default [curate] seed)" },
    Knob { section: "split", key: "train", v1: Is("400000"), v2: Is("800000"), doc: "training items" },
    Knob { section: "split", key: "test", v1: Is("2000"), v2: Is("10000"), doc: "test items" },
    Knob { section: "split", key: "validation", v1: Is("0"), v2: Is("10000"), doc: "validation items (v1: 0 for none)" },
    v1("split", "take_available", Is("false"), "when the sample is short, take what there is in the sizes' proportions"),
    v2("split", "lite_train", Is("20000"), "the published lite prefix of train"),
    v2("split", "lite_validation", Is("1000"), "the published lite prefix of validation"),
    v2("split", "lite_test", Is("1000"), "the published lite prefix of test"),
    v2("curate", "seed", D, "random.seed before the first shuffle, np.random.seed before the draw"),
    v2("curate", "sample", D, "items drawn from the deduped pool"),
    v2("curate", "factors", D, "weight factor per category"),
    v2("curate", "default_factor", D, "factor of every other category"),
    v2("curate", "min_chars", D, "keep an item whose text has at least this many characters"),
    v2("curate", "each_chars", D, "each description/features line is cut to this many characters"),
    v2("curate", "total_chars", D, "the whole text is cut to this many characters"),
    v2("curate", "removed_keys", D, "keys deleted from details"),
    v2("curate", "trace", D, "also write curate/trace/ (every decision)"),
    v2("curate", "lite_only", D, "keep and publish only the lite prefixes"),
    v2("summarize", "from", Ex("\"data/items_lite\""), "summaries someone already made (a Hub folder or JSON lines) instead of an LLM"),
    v2("summarize", "mode", D, "\"online\" or \"batch\" (the Batch API)"),
    v2("summarize", "base_url", D, "the OpenAI-compatible API root (Groq's; a local server: http://localhost:8000/v1)"),
    v2("summarize", "model", D, "the model"),
    v2("summarize", "api_key_env", D, "the environment variable holding the API key (\"\" for none)"),
    v2("summarize", "system_prompt", D, "the system prompt (the course's, byte for byte)"),
    v2("summarize", "options", D, "extra fields of every request body ({} for servers that take no reasoning_effort)"),
    v2("summarize", "max_in_flight", D, "online: requests in flight at once"),
    v2("summarize", "max_attempts", D, "online: attempts per request"),
    v2("summarize", "backoff_ms", D, "online: the first retry's wait, doubling per attempt"),
    v2("summarize", "timeout_s", D, "seconds before a request times out"),
    v2("summarize", "batch_size", D, "batch: requests per request file"),
    v2("summarize", "submit", D, "batch: upload and poll (false: write the request files and stop)"),
    v2("summarize", "poll_s", D, "batch: seconds between polls"),
    v2("summarize", "results", D, "batch: result and error files downloaded by hand, to read into the cache"),
    v2("summarize", "input_price_per_million", D, "dollars per million input tokens, for the estimate and the cost lines"),
    v2("summarize", "output_price_per_million", D, "dollars per million output tokens"),
    v2("summarize", "expected_output_tokens", D, "tokens one answer is expected to take, for the estimate"),
    v2("summarize", "max_cost_usd", Ex("5.0"), "refuse to start when the estimate is above this many dollars"),
    v2("summarize", "cache", Ex("\"summaries-cache\""), "where answers are kept (default: PRICER_CACHE_DIR/summaries)"),
    v2("prompts", "cutoff", D, "summaries with more tokens are cut to this many"),
    v1("audit", "compare_bundled", D, "compare the bundled Qwen3, Gemma 3 and Llama 2 tokenizers"),
    v1("audit", "compare", Ex("{ Mine = \"path/to/tokenizer.json\" }"), "more tokenizers to compare, NAME = path"),
    v1("audit", "compare_sample", D, "prompts (the first N items) encoded with every compared tokenizer"),
    v1("audit", "items", D, "items shown with their last 10 tokens"),
    both("export", "max_shard_bytes", D, "datasets' max_shard_size: Parquet shards of at most about this many bytes"),
    v1("export", "pickles", D, "also write items/train.pkl and test.pkl, the seed's pickles of the course's Item objects"),
    Knob { section: "eval", key: "size", v1: Is("250"), v2: Is("200"), doc: "test items scored, the first ones (the course's Tester size; the whole split when smaller)" },
    both("eval", "predictors", Ex("[{ kind = \"random\" }, { kind = \"constant\" }]"), "the predictors scored, in the leaderboard's order (kinds random, constant, file, endpoint; docs/eval.md)"),
];

/// The sections of the run config, in order (`""`: the top level).
pub const SECTIONS: [&str; 11] = [
    "",
    "input",
    "tokenizer",
    "sample",
    "split",
    "curate",
    "summarize",
    "prompts",
    "audit",
    "export",
    "eval",
];

impl Knob {
    /// This knob's value in `recipe`'s starter config.
    pub fn val(&self, recipe: Recipe) -> Val {
        match recipe {
            Recipe::V1 => self.v1,
            Recipe::V2 => self.v2,
        }
    }
}

/// The default config of `recipe`, as TOML (sections that are recipe-wide defaults, with
/// `[summarize]`'s for v2).
fn defaults(recipe: Recipe) -> toml::Table {
    let cfg = RunConfig {
        recipe,
        summarize: (recipe == Recipe::V2).then(Default::default),
        ..RunConfig::default()
    };
    toml::Table::try_from(&cfg).expect("the default config serialises")
}

/// A knob's value as TOML text, and whether it is an example rather than the default.
pub fn value(knob: &Knob, recipe: Recipe) -> Option<(String, bool)> {
    match knob.val(recipe) {
        Val::No => None,
        Val::Is(v) => Some((v.to_owned(), false)),
        Val::Example(v) => Some((v.to_owned(), true)),
        Val::Default => {
            let table = defaults(recipe);
            let v = if knob.section.is_empty() {
                table.get(knob.key)
            } else {
                table.get(knob.section).and_then(|s| s.get(knob.key))
            };
            // A string on one line (`\n` escaped), so that it comments out as one line.
            v.map(|v| match v {
                toml::Value::String(s) => (serde_json::Value::from(s.as_str()).to_string(), false),
                v => (v.to_string(), false),
            })
        }
    }
}

/// The keys a starter config sets, so that it runs as written on the bundled fixture
/// rows (the sizes scaled down to the 1,028 items they give).
fn starter_sets(recipe: Recipe) -> &'static [(&'static str, &'static str, &'static str)] {
    match recipe {
        Recipe::V1 => &[
            ("input", "paths", "[\"fixtures/data/amazon-2023\"]"),
            ("split", "train", "800"),
            ("split", "test", "200"),
        ],
        Recipe::V2 => &[
            ("input", "paths", "[\"fixtures/data/amazon-2023\"]"),
            ("curate", "sample", "600"),
            ("split", "train", "500"),
            ("split", "validation", "50"),
            ("split", "test", "50"),
            ("split", "lite_train", "100"),
            ("split", "lite_validation", "10"),
            ("split", "lite_test", "10"),
        ],
    }
}

/// A starter run config for `recipe`: every key with its default (or an example),
/// commented out, and the few keys that make it run on the bundled fixture rows.
pub fn starter(recipe: Recipe) -> String {
    let name = match recipe {
        Recipe::V1 => "v1",
        Recipe::V2 => "v2",
    };
    let mut out = format!(
        "# A pricer run config (recipe {name}), written by `pricer init`. Every key is listed with\n\
         # its default (or an example, where it has none), commented out: uncomment a line to\n\
         # change it; docs/configuration.md says more. As written it runs on the bundled\n\
         # fixture rows: `pricer run THIS_FILE`. For the full run, set [input] hub and categories\n\
         # (the bundled config `classic` or `v2` shows them) and remove the smaller sizes.\n"
    );
    let sets = starter_sets(recipe);
    for section in &SECTIONS {
        let knobs: Vec<&Knob> = KNOBS
            .iter()
            .filter(|k| k.section == *section && k.val(recipe) != Val::No)
            .collect();
        if knobs.is_empty() {
            continue;
        }
        // [summarize] and [eval] present turn a part on: their headers stay comments too.
        let off = matches!(*section, "summarize" | "eval");
        if !section.is_empty() {
            out.push_str(&format!("\n{}[{section}]\n", if off { "# " } else { "" }));
            if *section == "summarize" {
                out.push_str("# (with this section, recipe v2 also summarizes, writes the prompts and publishes all three parts)\n");
            }
            if *section == "eval" {
                out.push_str("# (with this section, the run scores predictors on its test split: eval/report.html)\n");
            }
        }
        for k in knobs {
            let Some((value, example)) = value(k, recipe) else {
                continue;
            };
            let what = if example { "e.g." } else { "default" };
            out.push_str(&format!("# {} ({what} {value})\n", k.doc));
            match sets
                .iter()
                .find(|(s, key, _)| s == section && key == &k.key)
            {
                Some((_, key, set)) => out.push_str(&format!("{key} = {set}\n")),
                None if k.key == "recipe" => out.push_str(&format!("recipe = \"{name}\"\n")),
                None => out.push_str(&format!("# {} = {value}\n", k.key)),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields serde expects in `section`, from its `deny_unknown_fields` error.
    fn fields(recipe: Recipe, section: &str) -> Vec<String> {
        let r = if recipe == Recipe::V1 { "v1" } else { "v2" };
        let text = if section.is_empty() {
            format!("recipe = \"{r}\"\nzzz = 1\n")
        } else {
            format!("recipe = \"{r}\"\n[{section}]\nzzz = 1\n")
        };
        let e = format!("{:#}", RunConfig::parse(&text, "x").unwrap_err());
        let list = e
            .split("expected one of ")
            .nth(1)
            .or_else(|| e.split(", expected ").nth(1))
            .and_then(|l| l.lines().next())
            .unwrap_or_else(|| panic!("{e}"));
        // serde lists fields as `a`, `b`, `c` (two as `a` or `b`).
        let list = list.replace("` or `", "`, `");
        let mut out: Vec<String> = list
            .split(", ")
            .map(|f| {
                f.trim_matches(|c: char| c == '`' || c.is_whitespace())
                    .to_owned()
            })
            .filter(|f| !f.is_empty())
            .collect();
        out.sort();
        out
    }

    #[test]
    fn every_field_of_every_section_is_a_knob_and_no_knob_is_unknown() {
        for recipe in [Recipe::V1, Recipe::V2] {
            for section in SECTIONS {
                if crate::config::foreign_sections(recipe).contains(&section) {
                    continue;
                }
                let mut knobs: Vec<String> = KNOBS
                    .iter()
                    .filter(|k| k.section == section)
                    .map(|k| k.key.to_owned())
                    .collect();
                knobs.sort();
                let mut serde = fields(recipe, section);
                if section.is_empty() {
                    // The top level's fields are the sections and `recipe`.
                    serde.retain(|f| !SECTIONS.contains(&f.as_str()));
                }
                assert_eq!(knobs, serde, "[{section}] ({recipe:?})");
            }
        }
    }

    #[test]
    fn starter_configs_run_the_fixtures_and_state_the_real_defaults() {
        for recipe in [Recipe::V1, Recipe::V2] {
            let text = starter(recipe);
            let cfg = RunConfig::parse(&text, "starter").unwrap();
            assert_eq!(cfg.recipe, recipe);
            assert_eq!(
                cfg.input.paths,
                [std::path::PathBuf::from("fixtures/data/amazon-2023")]
            );
            assert!(cfg.summarize.is_none(), "part 2 stays off until asked for");
            // Every default stated, uncommented (the sizes set for the fixtures left out),
            // gives the default config.
            let sets = starter_sets(recipe);
            let mut all = String::new();
            let mut section = "";
            for line in text.lines() {
                let body = line.strip_prefix("# ").unwrap_or(line);
                if let Some(s) = body.strip_prefix('[').and_then(|b| b.strip_suffix(']')) {
                    section = KNOBS
                        .iter()
                        .find(|k| k.section == s)
                        .map_or("", |k| k.section);
                    if section != "summarize" {
                        all.push_str(&format!("[{s}]\n"));
                    }
                    continue;
                }
                let Some((key, _)) = body.split_once(" = ") else {
                    continue;
                };
                let knob = KNOBS.iter().find(|k| k.section == section && k.key == key);
                let Some(knob) = knob else { continue };
                let default = matches!(knob.val(recipe), Val::Default | Val::Is(_));
                let set = sets.iter().any(|(s, k, _)| *s == section && *k == key);
                if default && !set && section != "summarize" {
                    all.push_str(body);
                    all.push('\n');
                }
            }
            let stated =
                RunConfig::parse(&all, "stated").unwrap_or_else(|e| panic!("{e:#}\n{all}"));
            let plain = RunConfig::parse(
                &format!(
                    "recipe = \"{}\"\n",
                    if recipe == Recipe::V1 { "v1" } else { "v2" }
                ),
                "plain",
            )
            .unwrap();
            match recipe {
                Recipe::V1 => assert_eq!(stated.split.v1(), plain.split.v1()),
                Recipe::V2 => {
                    assert_eq!(stated.v2_curation(), plain.v2_curation());
                    assert_eq!(stated.split.lite(), plain.split.lite());
                    assert_eq!(stated.v2_rules(), plain.v2_rules());
                }
            }
            assert_eq!(stated.sample, plain.sample);
            assert_eq!(stated.audit, plain.audit);
            assert_eq!(stated.export, plain.export);
            assert_eq!(stated.tokenizer, plain.tokenizer);
            assert_eq!(stated.prompts, plain.prompts);
        }
    }

    #[test]
    fn the_configuration_page_documents_every_knob() {
        let page = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/configuration.md"
        ))
        .unwrap();
        let missing: Vec<String> = KNOBS
            .iter()
            .map(|k| {
                if k.section.is_empty() {
                    format!("`{}`", k.key)
                } else {
                    format!("[{}] {}", k.section, k.key)
                }
            })
            .filter(|name| {
                !page.contains(name.as_str()) && !page.contains(&name.replace(' ', "] `"))
            })
            .collect();
        assert!(
            missing.is_empty(),
            "docs/configuration.md lacks rows for: {missing:?}"
        );
    }
}
