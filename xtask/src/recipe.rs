//! The recipes' stage lists: the one place that says which stages a run has, in which
//! order, and how each is configured from the run config. Adding a stage is one line here
//! (and its crate).

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use pricer_core::stage::Stage;
use pricer_export::ExportStage;
use pricer_ingest::{IngestStage, V1};
use pricer_prompt::PromptStage;
use pricer_split::SplitStage;
use pricer_tokenize_audit::AuditStage;

use crate::config::RunConfig;

/// The stages of `cfg`'s recipe, writing into the run folder `run`.
pub fn stages(cfg: &RunConfig, run: &Path) -> Result<Vec<Box<dyn Stage>>> {
    let tok = Arc::new(pricer_tokenizer::load(&cfg.tokenizer.source())?);
    let mut prompt = PromptStage::new(run.join("ingest"), run.join("prompt"), tok.clone());
    prompt.clean_up_spaces = cfg.tokenizer.clean_up_spaces;
    let mut export = ExportStage::for_run(run);
    export.max_shard_bytes = cfg.export.max_shard_bytes;
    Ok(vec![
        Box::new(IngestStage::new(V1, cfg.input.files()?, run.join("ingest"))),
        Box::new(prompt),
        Box::new(SplitStage {
            input: run.join("prompt"),
            out_dir: run.join("split"),
            sample: cfg.sample.clone(),
            sizes: cfg.split.clone(),
        }),
        // After split, so that the report includes the first test items.
        Box::new(cfg.audit.stage(run, tok)),
        Box::new(export),
    ])
}

impl crate::config::AuditConfig {
    /// The audit stage these settings describe.
    pub fn stage(&self, run: &Path, recipe: Arc<pricer_tokenizer::LoadedTokenizer>) -> AuditStage {
        AuditStage {
            items_dir: run.join("prompt"),
            split_dir: Some(run.join("split")),
            out_dir: run.join("audit"),
            recipe_name: "Llama 3.1".into(),
            recipe,
            compare: if self.compare_bundled {
                pricer_tokenize_audit::bundled_compare()
            } else {
                Vec::new()
            },
            compare_sample: self.compare_sample,
            views: self.items.clone(),
        }
    }
}
