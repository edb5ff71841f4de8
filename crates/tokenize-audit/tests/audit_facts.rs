//! SPEC section 5 facts against the real tokenizer files.

use std::path::{Path, PathBuf};

use pricer_tokenize_audit::facts::{price_facts, tail};
use pricer_tokenize_audit::BUNDLED_COMPARE;
use pricer_tokenizer::{load, Encoder, EncoderChoice, LoadedTokenizer, TokenizerSource};

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
        &Encoder::new(&llama, EncoderChoice::Fast, false),
        " the manufacturer from\n\nPrice is $765.00",
        10,
    )
    .unwrap();
    assert_eq!(
        t.ids,
        [279, 14290, 505, 271, 7117, 374, 400, 22240, 13, 410]
    );
    assert_eq!(t.pieces[7], "765");
    let f = price_facts(
        "Llama 3.1",
        &Encoder::new(&llama, EncoderChoice::Fast, false),
    )
    .unwrap();
    assert_eq!((f.single_token, f.prices), (999, 999));
    assert!(f.exceptions.is_empty());
}

#[test]
fn other_tokenizers_split_multi_digit_prices() {
    for (name, rel) in BUNDLED_COMPARE {
        let f = price_facts(name, &Encoder::new(&tok(rel), EncoderChoice::Fast, false)).unwrap();
        assert_eq!(f.single_token, 9, "{name}: only 1..=9 stay one token");
        assert_eq!(f.exceptions.first(), Some(&10), "{name}");
        assert_eq!(f.max_tokens_per_price, 3, "{name}: one token per digit");
    }
}

/// The fast encoders give the audit the figures tokenizers gives: price facts, token
/// spans, counts and tails, for the recipe's tokenizer and each compared one.
#[test]
fn fast_and_reference_audit_figures_agree() {
    let mut all = vec![("Llama 3.1", "fixtures/tokenizers/llama-3.1/tokenizer.json")];
    all.extend(BUNDLED_COMPARE);
    let texts = [
        "Price is $765.00",
        "How much does this cost to the nearest dollar?\n\nAcme 12-Pack, 3.5 in\n\nPrice is $42.00",
        " the manufacturer from\n\nPrice is $765.00",
        "a  b\t\tc \x01 ~{}",
    ];
    for (name, rel) in all {
        let t = tok(rel);
        let fast = Encoder::new(&t, EncoderChoice::Fast, false);
        let reference = Encoder::new(&t, EncoderChoice::Reference, false);
        assert!(fast.is_fast(), "{name}: no fast encoder");
        assert_eq!(
            price_facts(name, &fast).unwrap(),
            price_facts(name, &reference).unwrap(),
            "{name}"
        );
        for text in texts {
            assert_eq!(
                fast.encode_with_spans(text).unwrap(),
                reference.encode_with_spans(text).unwrap(),
                "{name}: {text:?}"
            );
        }
        if name.starts_with("Llama 3") {
            for text in texts {
                assert_eq!(
                    tail(&fast, text, 10).unwrap(),
                    tail(&reference, text, 10).unwrap()
                );
            }
        }
    }
}
