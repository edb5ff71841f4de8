//! The command line of `pricer-eval`, which the `pricer` command also carries as a
//! subcommand: a run's (or a published) test split -> predictions, metrics and a report.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Parser;
use pricer_core::recipe::Recipe;
use pricer_core::stage::{self, Stage};

use crate::{EvalConfig, EvalStage, Predictor, Source};

/// Score price predictors on the first test items as the course's Tester does: the
/// random and constant baselines and predictions made elsewhere (JSON lines, CSV or
/// Parquet matched by item index). Writes per predictor predictions.jsonl and
/// rejects.jsonl, then metrics.json and report.html.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
pub struct Args {
    /// The run folder (recipe v1: split/; v2: prompts/ and summarize/).
    #[arg(required_unless_present = "from")]
    run: Option<PathBuf>,
    /// The run's recipe, v1 or v2 [default: the one whose test split the run holds].
    #[arg(long)]
    recipe: Option<Recipe>,
    /// A published test split instead of a run: a Hub dataset folder
    /// (data/test-*.parquet; data/train-*.parquet for the constant baseline).
    #[arg(long, conflicts_with = "run")]
    from: Option<PathBuf>,
    /// Output folder [default: RUN/eval].
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Test items scored [default: the course's, 250 for v1 and 200 for v2].
    #[arg(long)]
    size: Option<usize>,
    /// Predictors, in the leaderboard's order (repeatable): random[:SEED],
    /// constant[:VALUE] (default: the training mean), or NAME=PATH for a predictions file;
    /// NAME= also names a baseline [default: random and constant].
    #[arg(long = "predictor", value_parser = parse_predictor)]
    predictors: Vec<Predictor>,
    /// More predictors from a TOML file of `[[predictors]]` tables, with the keys of
    /// `[[eval.predictors]]` (an endpoint's `base_url`, `model`, `api` ...), after
    /// --predictor's.
    #[arg(long)]
    predictors_file: Option<PathBuf>,
}

/// The `[[predictors]]` of a TOML file.
fn predictors_file(path: &std::path::Path) -> Result<Vec<Predictor>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        predictors: Vec<Predictor>,
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let f: File = toml::from_str(&text).with_context(|| {
        format!(
            "{}: not a TOML file of [[predictors]] tables",
            path.display()
        )
    })?;
    Ok(f.predictors)
}

/// `[NAME=]random[:SEED]`, `[NAME=]constant[:VALUE]` or `NAME=PATH` (a file, which
/// needs a name; write `./random` for a file of that name).
fn parse_predictor(s: &str) -> Result<Predictor, String> {
    let (name, spec) = match s.split_once('=') {
        Some((n, spec)) if !n.is_empty() => (Some(n.to_owned()), spec),
        _ => (None, s),
    };
    let (kind, arg) = spec.split_once(':').unwrap_or((spec, ""));
    let bad = |what: &str| format!("{s:?}: {what}");
    match (kind, arg) {
        ("random", "") => Ok(Predictor::Random { name, seed: 42 }),
        ("random", seed) => Ok(Predictor::Random {
            name,
            seed: seed
                .parse()
                .map_err(|_| bad("the seed is a whole number"))?,
        }),
        ("constant", "") => Ok(Predictor::Constant { name, value: None }),
        ("constant", v) => Ok(Predictor::Constant {
            name,
            value: Some(v.parse().map_err(|_| bad("the value is a number"))?),
        }),
        _ if name.is_some() && !spec.is_empty() => Ok(Predictor::File {
            name,
            path: PathBuf::from(spec),
        }),
        _ => Err(bad(
            "expected [NAME=]random[:SEED], [NAME=]constant[:VALUE] or NAME=PATH",
        )),
    }
}

/// The recipe of a run folder: v1 when it has split/test.art, v2 when prompts/test.art.
fn recipe_of(run: &std::path::Path) -> Result<Recipe> {
    match (run.join("split/test.art").is_file(), run.join("prompts/test.art").is_file()) {
        (true, false) => Ok(Recipe::V1),
        (false, true) => Ok(Recipe::V2),
        (true, true) => bail!("{}: holds both split/test.art (v1) and prompts/test.art (v2): say which with --recipe", run.display()),
        (false, false) => bail!(
            "{}: no test split (split/test.art for recipe v1, prompts/test.art for v2): is it a run folder, and did its split (v1) or prompts (v2) stage run?",
            run.display()
        ),
    }
}

/// Runs the command as parsed.
pub fn run(args: Args) -> Result<()> {
    let (source, out) = match (args.run, args.from) {
        (Some(run), None) => {
            let out = args.out.unwrap_or_else(|| run.join("eval"));
            let recipe = match args.recipe {
                Some(r) => r,
                None => recipe_of(&run)?,
            };
            (Source::Run { recipe, dir: run }, out)
        }
        (None, Some(dir)) => {
            let out = args
                .out
                .context("--from needs --out: where to write the evaluation")?;
            (Source::Published { dir }, out)
        }
        _ => bail!("give a run folder or --from FOLDER"),
    };
    let mut predictors = args.predictors;
    if let Some(f) = &args.predictors_file {
        predictors.extend(predictors_file(f)?);
    }
    let predictors = if predictors.is_empty() {
        vec![
            Predictor::Random {
                name: None,
                seed: 42,
            },
            Predictor::Constant {
                name: None,
                value: None,
            },
        ]
    } else {
        predictors
    };
    let eval = EvalStage {
        source,
        out_dir: out,
        config: EvalConfig {
            size: args.size,
            predictors,
        },
    };
    let manifest = stage::run_now(&eval)?;
    println!("{}", eval.summary(&manifest));
    Ok(())
}

/// The binary's main: logging, the command line, the run; errors as `pricer_core::cli`
/// prints them.
pub fn main() -> std::process::ExitCode {
    pricer_core::obs::init_tracing();
    pricer_core::cli::exit(run(Args::parse()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predictors_parse_from_the_command_line() {
        assert_eq!(
            parse_predictor("random:7"),
            Ok(Predictor::Random {
                name: None,
                seed: 7
            })
        );
        assert_eq!(
            parse_predictor("constant:12.5"),
            Ok(Predictor::Constant {
                name: None,
                value: Some(12.5)
            })
        );
        assert_eq!(
            parse_predictor("gpt=preds.csv"),
            Ok(Predictor::File {
                name: Some("gpt".into()),
                path: "preds.csv".into()
            })
        );
        assert_eq!(
            parse_predictor("r7=random:7"),
            Ok(Predictor::Random {
                name: Some("r7".into()),
                seed: 7
            })
        );
        assert!(parse_predictor("random:x").is_err());
        assert!(parse_predictor("=x").is_err());
        assert!(parse_predictor("nothing").is_err());
    }
}
