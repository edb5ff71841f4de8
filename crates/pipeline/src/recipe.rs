//! The recipes' stage lists: the one place that says which stages a run has, in which
//! order, and how each is configured from the run config. Adding a stage is one line here
//! (and its crate).

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use pricer_core::knobs::Knobs;
use pricer_core::recipe::Recipe;
use pricer_core::stage::Stage;
use pricer_curate::CurateStage;
use pricer_eval::{EvalStage, Source};
use pricer_export::v2::CardFacts;
use pricer_export::{ExportStage, Part, V2Export};
use pricer_ingest::{IngestStage, V1};
use pricer_prompt::{PromptStage, PromptsStage};
use pricer_split::SplitStage;
use pricer_summarize::SummarizeStage;
use pricer_tokenize_audit::{AuditStage, V2AuditStage};

use crate::config::RunConfig;

/// The stages of `cfg`'s recipe, writing into the run folder `run`.
pub fn stages(cfg: &RunConfig, run: &Path) -> Result<Vec<Box<dyn Stage>>> {
    match cfg.recipe {
        Recipe::V1 => v1(cfg, run),
        Recipe::V2 => v2(cfg, run),
    }
    .and_then(|mut stages| {
        stages.extend(eval(cfg, run)?);
        Ok(stages)
    })
}

/// With `[eval]`: the predictors scored on the run's test split, after export.
fn eval(cfg: &RunConfig, run: &Path) -> Result<Option<Box<dyn Stage>>> {
    let Some(config) = &cfg.eval else {
        return Ok(None);
    };
    anyhow::ensure!(
        cfg.recipe == Recipe::V1 || cfg.summarize.is_some(),
        "[eval] scores the prompts' test split, which recipe v2 makes only with [summarize]: add it, or leave [eval] out"
    );
    let stage = EvalStage {
        source: Source::Run {
            recipe: cfg.recipe,
            dir: run.to_owned(),
        },
        out_dir: run.join("eval"),
        config: config.clone(),
    };
    // Before the first stage, not after them.
    stage.check()?;
    Ok(Some(Box::new(stage)))
}

/// Recipe v2 (SPEC-V2.md): parse and curate (part 1), then with `[summarize]` the LLM
/// summaries (part 2) and the prompts (part 3), then publish every part. With
/// `[summarize] from`, part 1 is someone else's and only parts 2-3 run.
fn v2(cfg: &RunConfig, run: &Path) -> Result<Vec<Box<dyn Stage>>> {
    let mut stages: Vec<Box<dyn Stage>> = Vec::new();
    let mut parts = Vec::new();
    let from = cfg.summarize.as_ref().and_then(|s| s.from.clone());
    if from.is_none() {
        stages.push(Box::new(IngestStage::new(
            cfg.v2_rules(),
            cfg.input.files()?,
            run.join("ingest"),
        )));
        stages.push(Box::new(CurateStage {
            input: run.join("ingest"),
            out_dir: run.join("curate"),
            config: cfg.v2_curation(),
            trace: cfg.curate.trace,
            knobs: Knobs::Config,
        }));
        parts.push((Part::Raw, run.join("curate")));
    }
    if let Some(summarize) = &cfg.summarize {
        stages.push(Box::new(SummarizeStage::new(
            run.join("curate"),
            run.join("summarize"),
            summarize.clone(),
        )));
        let tok = Arc::new(pricer_tokenizer::load(&cfg.tokenizer.source())?);
        let mut prompts = PromptsStage::new(run.join("summarize"), run.join("prompts"), tok);
        prompts.cutoff = cfg.prompts.cutoff;
        prompts.clean_up_spaces = cfg.tokenizer.clean_up_spaces;
        stages.push(Box::new(prompts));
        stages.push(Box::new(V2AuditStage {
            prompts_dir: run.join("prompts"),
            out_dir: run.join("audit"),
            eval_link: cfg.eval.is_some(),
        }));
        parts.push((Part::Summarized, run.join("summarize")));
        parts.push((Part::Prompts, run.join("prompts")));
    }
    stages.push(Box::new(V2Export {
        parts,
        out_dir: run.join("export"),
        max_shard_bytes: cfg.export.max_shard_bytes,
        lite: cfg.split.lite(),
        lite_only: cfg.curate.lite_only,
        facts: CardFacts {
            min_chars: cfg.curate.min_chars,
            total_chars: cfg.curate.total_chars,
            cutoff: cfg.prompts.cutoff,
        },
    }));
    Ok(stages)
}

/// Recipe v1: ingest, prompt, split, audit, export (SPEC.md).
fn v1(cfg: &RunConfig, run: &Path) -> Result<Vec<Box<dyn Stage>>> {
    let tok = Arc::new(pricer_tokenizer::load(&cfg.tokenizer.source())?);
    let mut prompt = PromptStage::new(run.join("ingest"), run.join("prompt"), tok.clone());
    prompt.clean_up_spaces = cfg.tokenizer.clean_up_spaces;
    let mut export = ExportStage::for_run(run);
    export.max_shard_bytes = cfg.export.max_shard_bytes;
    export.pickles = cfg.export.pickles;
    Ok(vec![
        Box::new(IngestStage::new(V1, cfg.input.files()?, run.join("ingest"))),
        Box::new(prompt),
        Box::new(SplitStage {
            input: run.join("prompt"),
            out_dir: run.join("split"),
            sample: cfg.sample.clone(),
            sizes: cfg.split.v1(),
            knobs: Knobs::Config,
        }),
        // After split, so that the report includes the first test items.
        Box::new(AuditStage {
            eval_link: cfg.eval.is_some(),
            ..cfg.audit.stage(run, tok)
        }),
        Box::new(export),
    ])
}

impl crate::config::AuditConfig {
    /// The audit stage these settings describe.
    pub fn stage(&self, run: &Path, recipe: Arc<pricer_tokenizer::LoadedTokenizer>) -> AuditStage {
        AuditStage {
            items_dir: run.join("prompt"),
            split_dir: Some(run.join("split")),
            ingest_dir: Some(run.join("ingest")),
            out_dir: run.join("audit"),
            recipe_name: "Llama 3.1".into(),
            recipe,
            compare: if self.compare_bundled {
                pricer_tokenize_audit::bundled_compare()
            } else {
                Vec::new()
            }
            .into_iter()
            .chain(self.compare.iter().map(|(n, p)| (n.clone(), p.clone())))
            .collect(),
            compare_sample: self.compare_sample,
            views: self.items.clone(),
            compared: Default::default(),
            eval_link: false,
        }
    }
}
