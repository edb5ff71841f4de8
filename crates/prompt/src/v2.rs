//! Recipe V2 part 3 (the course's `make_prompts`): each item's summary, cut to 110 Llama
//! tokens, framed as a question, with the price as the completion. Splits train / val /
//! test; the completion is rounded for train and val and `str(price)` for test.
//!
//! Per item: `ids = encode(summary, add_special_tokens=False)` (added-token text such as
//! `<|eot_id|>` is one id); when there are more than `cutoff` ids the text is
//! `decode(ids[:cutoff])` (special tokens kept, lossy UTF-8, transformers' clean-up) with
//! Python's `rstrip()`; otherwise the summary unchanged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Result};
use pricer_core::artifact::{ArtifactReader, ArtifactWriter};
use pricer_core::manifest::{Counts, InputRef, Manifest};
use pricer_core::stage::{Output, Plan, Stage};
use pricer_core::{obs, recipe_v2, window, PromptPair, SummarizedItem};
use pricer_pycompat::float::float_repr;
use pricer_pycompat::round::round_half_even;
use pricer_pycompat::unicode::{Unicode, PY312};
use pricer_tokenizer::{Encoder, EncoderChoice, LoadedTokenizer};

pub const STAGE: &str = "prompts";
/// (input split artifact, output artifact, rounded completion), in split order.
pub const SPLITS: [(&str, &str, bool); 3] = [
    ("train.art", "train.art", true),
    ("validation.art", "val.art", true),
    ("test.art", "test.art", false),
];

/// Python's `s.rstrip()`.
pub fn rstrip<'s>(s: &'s str, py: &Unicode) -> &'s str {
    s.trim_end_matches(|c| py.is_space(c))
}

/// `f"{round(price)}.00"`: Python's round (half to even) to an int, printed whole.
pub fn rounded_completion(price: f64) -> Result<String> {
    if !price.is_finite() {
        bail!("round({price}) raises in Python: not a finite price");
    }
    let r = round_half_even(price);
    // An int has no negative zero.
    let r = if r == 0.0 { 0.0 } else { r };
    Ok(format!("{r:.0}.00"))
}

/// One item's prompt and completion.
pub fn make_pair(
    enc: &Encoder<'_>,
    summary: &str,
    price: f64,
    round: bool,
    cutoff: usize,
) -> Result<PromptPair> {
    let ids = enc.encode(summary)?;
    let cut = ids.len() > cutoff;
    let decoded;
    let text = if cut {
        decoded = enc.decode(&ids[..cutoff])?;
        rstrip(&decoded, PY312)
    } else {
        summary
    };
    let prompt = format!(
        "{}\n\n{text}\n\n{}",
        recipe_v2::QUESTION,
        recipe_v2::PRICE_PREFIX
    );
    let completion = if round {
        rounded_completion(price)?
    } else {
        float_repr(price)
    };
    let prompt_completion_tokens = enc.count(&format!("{prompt}{completion}"))? as u32;
    Ok(PromptPair {
        prompt,
        completion,
        price,
        summary_tokens: ids.len() as u32,
        cut,
        prompt_completion_tokens,
    })
}

/// The V2 prompts stage of a run.
#[derive(Debug, Clone)]
pub struct PromptsStage {
    /// The summarize stage's folder (train.art, validation.art, test.art).
    pub input: PathBuf,
    pub out_dir: PathBuf,
    pub tokenizer: Arc<LoadedTokenizer>,
    /// Summaries with more tokens than this are cut to it.
    pub cutoff: usize,
    pub clean_up_spaces: bool,
    pub encoder: EncoderChoice,
}

impl PromptsStage {
    pub fn new(
        input: impl Into<PathBuf>,
        out_dir: impl Into<PathBuf>,
        tokenizer: Arc<LoadedTokenizer>,
    ) -> Self {
        PromptsStage {
            input: input.into(),
            out_dir: out_dir.into(),
            tokenizer,
            cutoff: recipe_v2::CUTOFF,
            clean_up_spaces: true,
            encoder: EncoderChoice::Fast,
        }
    }
}

impl Stage for PromptsStage {
    fn name(&self) -> &str {
        STAGE
    }

    fn dir(&self) -> &Path {
        &self.out_dir
    }

    fn inputs(&self) -> Result<Vec<InputRef>> {
        let paths: Vec<PathBuf> = SPLITS
            .iter()
            .map(|(src, ..)| self.input.join(src))
            .collect();
        let mut inputs = InputRef::of_some_records(&paths, self.name())?;
        inputs.push(InputRef {
            path: self.tokenizer.path.display().to_string(),
            digest: self.tokenizer.digest.clone(),
            bytes: self.tokenizer.json_bytes(),
        });
        Ok(inputs)
    }

    fn config(&self) -> serde_json::Value {
        serde_json::json!({
            "tokenizer": self.tokenizer.digest,
            "cutoff": self.cutoff,
            "clean_up_tokenization_spaces": self.clean_up_spaces,
            "question": recipe_v2::QUESTION,
            "prefix": recipe_v2::PRICE_PREFIX,
        })
    }

    fn outputs(&self) -> Vec<Output> {
        SPLITS
            .iter()
            .map(|(_, out, _)| Output::File((*out).into()))
            .collect()
    }

    fn run(&self, plan: &Plan) -> Result<Manifest> {
        let enc = Encoder::new(&self.tokenizer, self.encoder, self.clean_up_spaces);
        let mut outputs = BTreeMap::new();
        let (mut counts, mut cut) = (Counts::default(), 0u64);
        let mut tokens: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let window = 256 * rayon::current_num_threads();
        for (src, out, round) in SPLITS {
            let reader = ArtifactReader::<SummarizedItem>::open(self.input.join(src))?;
            let progress = obs::progress(Some(reader.expected_count()), &format!("prompts: {out}"));
            let mut w = ArtifactWriter::<PromptPair>::create(self.out_dir.join(out))?;
            let (mut sum, mut max) = (0u64, 0u64);
            let source = reader.map(|r| r.map_err(anyhow::Error::from));
            let work = |item: &SummarizedItem| {
                make_pair(&enc, &item.summary, item.price, round, self.cutoff)
            };
            window::ordered(source, window, work, |_, pair| {
                counts.keep();
                cut += u64::from(pair.cut);
                sum += u64::from(pair.prompt_completion_tokens);
                max = max.max(u64::from(pair.prompt_completion_tokens));
                progress.inc(1);
                Ok(w.write(&pair)?)
            })?;
            progress.finish_and_clear();
            tokens.insert(out.trim_end_matches(".art").to_owned(), (sum, max));
            outputs.insert(out.to_owned(), w.finish()?);
        }
        let mut manifest = plan.manifest(outputs, counts);
        manifest.summary = serde_json::json!({
            "items": manifest.counts.kept,
            "cut": cut,
            "prompt_completion_tokens": tokens.iter().map(|(s, (sum, max))| (s.clone(), serde_json::json!({"sum": sum, "max": max}))).collect::<serde_json::Map<_, _>>(),
        });
        manifest.write(&self.out_dir)?;
        Ok(manifest)
    }

    fn summary(&self, m: &Manifest) -> String {
        format!(
            "prompts: {} summaries -> prompt/completion pairs ({} cut to {} tokens) in {:.1} s -> {}",
            obs::thousands(m.counts.kept),
            obs::thousands(m.summary["cut"].as_u64().unwrap_or(0)),
            self.cutoff,
            m.wall_seconds,
            self.out_dir.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_follow_python() {
        // f"{round(p)}.00" and str(p), as CPython 3.12 prints them.
        for (p, want) in [
            (0.5, "0.00"),
            (2.5, "2.00"),
            (3.5, "4.00"),
            (999.5, "1000.00"),
            (1e16, "10000000000000000.00"),
            (0.49999999999999994, "0.00"),
            (219.0, "219.00"),
        ] {
            assert_eq!(rounded_completion(p).unwrap(), want, "{p}");
        }
        assert!(rounded_completion(f64::NAN).is_err());
        assert_eq!(float_repr(219.0), "219.0");
        assert_eq!(float_repr(1e16), "1e+16");
    }

    #[test]
    fn rstrip_is_pythons() {
        assert_eq!(rstrip("a \u{202f}\u{a0}\x1c\u{3000}\n", PY312), "a");
        assert_eq!(rstrip("a\u{200b}", PY312), "a\u{200b}");
        assert_eq!(rstrip("a\u{fffd} ", PY312), "a\u{fffd}");
    }
}
