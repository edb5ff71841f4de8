//! Artifacts as JSON lines, for people and for diffs against the golden files.
//!
//! Items come out exactly as the recipe's reference wrote them: Python's
//! `json.dumps(item, ensure_ascii=False)` with keys category, title, price, prompt,
//! token_count, so a plain `diff` compares a run with ../shared/golden/items.

use pricer_pycompat::float::float_repr;
use pricer_pycompat::json::{float_json, write_str_unicode};

use crate::records::{Candidate, Item, PromptPair, RawItem, SummarizedItem};

fn key(out: &mut String, first: bool, name: &str) {
    out.push_str(if first { "{\"" } else { ", \"" });
    out.push_str(name);
    out.push_str("\": ");
}

/// One item as a JSON line (no trailing newline), byte-compatible with the golden files.
pub fn item_json(item: &Item) -> String {
    let mut out = String::with_capacity(item.prompt.len() + item.title.len() + 96);
    key(&mut out, true, "category");
    write_str_unicode(&item.category, &mut out);
    key(&mut out, false, "title");
    write_str_unicode(&item.title, &mut out);
    key(&mut out, false, "price");
    out.push_str(&float_repr(item.price));
    key(&mut out, false, "prompt");
    write_str_unicode(&item.prompt, &mut out);
    key(&mut out, false, "token_count");
    out.push_str(&item.token_count.to_string());
    out.push('}');
    out
}

/// A train or test row, `{"text": ..., "price": ...}`, as the reference's split wrote it.
pub fn split_row_json(text: &str, price: f64) -> String {
    let mut out = String::with_capacity(text.len() + 40);
    key(&mut out, true, "text");
    write_str_unicode(text, &mut out);
    key(&mut out, false, "price");
    out.push_str(&float_repr(price));
    out.push('}');
    out
}

/// A V2 item as the course's `items_raw` JSON line: `json.dumps(item,
/// ensure_ascii=False)` with keys title, category, price, full, weight (golden/v2).
pub fn raw_item_json(item: &RawItem) -> String {
    let mut out = String::with_capacity(item.full.len() + item.title.len() + 96);
    key(&mut out, true, "title");
    write_str_unicode(&item.title, &mut out);
    key(&mut out, false, "category");
    write_str_unicode(&item.category, &mut out);
    key(&mut out, false, "price");
    out.push_str(&float_json(item.price));
    key(&mut out, false, "full");
    write_str_unicode(&item.full, &mut out);
    key(&mut out, false, "weight");
    out.push_str(&float_json(item.weight));
    out.push('}');
    out
}

/// A V2 item with its summary: the items_raw keys, then `summary`.
pub fn summarized_item_json(item: &SummarizedItem) -> String {
    let mut out = String::with_capacity(item.full.len() + item.summary.len() + 128);
    key(&mut out, true, "title");
    write_str_unicode(&item.title, &mut out);
    key(&mut out, false, "category");
    write_str_unicode(&item.category, &mut out);
    key(&mut out, false, "price");
    out.push_str(&float_json(item.price));
    key(&mut out, false, "full");
    write_str_unicode(&item.full, &mut out);
    key(&mut out, false, "weight");
    out.push_str(&float_json(item.weight));
    key(&mut out, false, "summary");
    write_str_unicode(&item.summary, &mut out);
    out.push('}');
    out
}

/// A V2 prompt/completion pair as the golden files hold it: `{"prompt": ..., "completion": ...}`.
pub fn prompt_pair_json(p: &PromptPair) -> String {
    let mut out = String::with_capacity(p.prompt.len() + 64);
    key(&mut out, true, "prompt");
    write_str_unicode(&p.prompt, &mut out);
    key(&mut out, false, "completion");
    write_str_unicode(&p.completion, &mut out);
    out.push('}');
    out
}

/// One candidate as a JSON line.
pub fn candidate_json(c: &Candidate) -> String {
    let mut out = String::with_capacity(c.text.len() + c.title.len() + 96);
    key(&mut out, true, "category");
    write_str_unicode(&c.category, &mut out);
    key(&mut out, false, "title");
    write_str_unicode(&c.title, &mut out);
    key(&mut out, false, "price");
    out.push_str(&float_repr(c.price));
    key(&mut out, false, "text");
    write_str_unicode(&c.text, &mut out);
    key(&mut out, false, "file");
    out.push_str(&c.file.to_string());
    key(&mut out, false, "line");
    out.push_str(&c.line.to_string());
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_line_matches_python_json_dumps() {
        let item = Item {
            category: "Automotive".into(),
            title: "Café \"x\"\t½".into(),
            price: 100.0,
            prompt: "a\nb".into(),
            token_count: 177,
            details: None,
        };
        assert_eq!(
            item_json(&item),
            r#"{"category": "Automotive", "title": "Café \"x\"\t½", "price": 100.0, "prompt": "a\nb", "token_count": 177}"#
        );
    }
}
