//! SPEC section 5 facts against the real tokenizer files.

use std::path::{Path, PathBuf};

use pricer_tokenize_audit::facts::{price_facts, tail};
use pricer_tokenize_audit::BUNDLED_COMPARE;
use pricer_tokenizer::{load, LoadedTokenizer, TokenizerSource};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tok(rel: &str) -> LoadedTokenizer {
    load(&TokenizerSource::Path(root().join(rel))).unwrap()
}

#[test]
fn llama_3_1_known_tail_and_single_token_prices() {
    let llama = tok("fixtures/tokenizers/llama-3.1/tokenizer.json");
    let t = tail(
        llama.reference().unwrap(),
        " the manufacturer from\n\nPrice is $765.00",
        10,
    )
    .unwrap();
    assert_eq!(
        t.ids,
        [279, 14290, 505, 271, 7117, 374, 400, 22240, 13, 410]
    );
    assert_eq!(t.pieces[7], "765");
    let f = price_facts("Llama 3.1", llama.reference().unwrap()).unwrap();
    assert_eq!((f.single_token, f.prices), (999, 999));
    assert!(f.exceptions.is_empty());
}

#[test]
fn other_tokenizers_split_multi_digit_prices() {
    for (name, rel) in BUNDLED_COMPARE {
        let f = price_facts(name, tok(rel).reference().unwrap()).unwrap();
        assert_eq!(f.single_token, 9, "{name}: only 1..=9 stay one token");
        assert_eq!(f.exceptions.first(), Some(&10), "{name}");
        assert_eq!(f.max_tokens_per_price, 3, "{name}: one token per digit");
    }
}
