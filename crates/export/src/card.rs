//! The dataset card (`README.md`): YAML header the Hub reads, and a body that says how
//! the data was made and on what terms.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One split as the card declares it.
#[derive(Debug, Clone)]
pub struct SplitInfo {
    pub name: String,
    pub rows: u64,
    /// Arrow in-memory size, as `datasets` reports `num_bytes`.
    pub num_bytes: u64,
    pub files: Vec<String>,
    pub parquet_bytes: u64,
}

/// What the body reports about the run.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// (category, raw rows read, candidates kept by rules 1-4), in input order.
    pub sources: Vec<(String, u64, u64)>,
    pub items_by_category: BTreeMap<String, u64>,
    pub items: u64,
    pub sample: Option<serde_json::Value>,
    pub split_config: serde_json::Value,
    pub tokenizer: String,
    pub code_version: String,
    /// The audit's report.html is beside the card.
    pub report: bool,
}

pub fn render(splits: &[SplitInfo], p: &Provenance) -> String {
    let mut b = crate::hub::yaml_header(
        "Amazon product prices (pricer recipe v1)",
        &["price-prediction", "amazon", "llama-3.1"],
        &[("text", "string"), ("price", "float64")],
        splits,
    );
    b.push_str("# Amazon product prices for fine-tuning (pricer recipe v1)\n\n");
    b.push_str(
        "Product descriptions from the Amazon Reviews 2023 metadata, each turned into a prompt that asks an \
         LLM for the product's price to the nearest dollar. Built with pricer, \
         which reproduces the well-known \"price is right\" curation recipe byte for byte.\n\n",
    );
    b.push_str("```python\nfrom datasets import load_dataset\nds = load_dataset(\"<user>/<this-dataset>\")\n```\n\n");
    b.push_str("## Fields\n\n- `text`: the prompt. Train rows end with the answer (`Price is $123.00`); test rows end right \
                after `Price is $`, for the model to complete.\n- `price`: the product's price in US dollars (float).\n\n");
    b.push_str("## Splits\n\n| split | rows | files |\n|---|---|---|\n");
    for s in splits {
        let _ = writeln!(b, "| {} | {} | {} |", s.name, s.rows, s.files.join(", "));
    }
    b.push_str("\n## How it was made\n\n");
    b.push_str(
        "1. Rows of the raw metadata files, as the Hub's loading script presented them, kept when the price is \
         between $0.50 and $999.49 and the description, features and details hold more than 300 characters \
         (cut to 1,120), then scrubbed of brackets, extra whitespace and long codes with digits.\n\
         2. Each text encoded with the Llama 3.1 tokenizer; kept when longer than 150 tokens, cut to 160 tokens and \
         decoded (transformers 4.x, `clean_up_tokenization_spaces`), framed as the question, the text and \
         `Price is $N.00` with N the price rounded half to even.\n\
         3. A price-balanced sample: items grouped by rounded price; cheap, crowded price points drawn down with \
         per-category weights (numpy's legacy generator); shuffled with Python's `random`; cut into splits.\n\n",
    );
    if !p.sources.is_empty() {
        b.push_str(
            "| source category | raw rows | rows passing rules 1-4 | items |\n|---|---|---|---|\n",
        );
        for (cat, rows, kept) in &p.sources {
            let items = p.items_by_category.get(cat).copied().unwrap_or(0);
            let _ = writeln!(b, "| {cat} | {rows} | {kept} | {items} |");
        }
        b.push('\n');
    }
    let _ = writeln!(b, "- Items after tokenization: {}", p.items);
    if let Some(sample) = &p.sample {
        let _ = writeln!(b, "- Sample: {}", sample);
    }
    let _ = writeln!(b, "- Sampling and split settings: `{}`", p.split_config);
    let _ = writeln!(
        b,
        "- Tokenizer: Llama 3.1 `tokenizer.json`, BLAKE3 `{}`",
        p.tokenizer
    );
    let _ = writeln!(b, "- pricer version: {}\n", p.code_version);
    if p.report {
        b.push_str(
            "## Curation report\n\n[report.html](report.html), beside this card, shows the run at a glance: \
             rows kept and rejected (with reasons) at each stage, the settings, the prices, category shares and \
             mean prices before and after price balancing, train against test, and how the tokenizer sees \
             prices.\n\n",
        );
    }
    b.push_str(crate::hub::TERMS);
    b.push_str("\nPrompts were cut with the Llama 3.1 tokenizer (Llama 3.1 Community License; Built with Llama).\n");
    b
}
