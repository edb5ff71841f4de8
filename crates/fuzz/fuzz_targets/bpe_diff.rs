//! Differential fuzzing of the prompt's exactness: pricer-bpe against `tokenizers` on the
//! bundled Llama 3.1 tokenizer. Any text pricer-bpe says it covers must get the same ids
//! as `tokenizers` gives (`encode(text, add_special_tokens=False)`), and the same ids when
//! pricer-bpe stops after the first N tokens (the prompt stage needs 160).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pricer_bpe::Bpe;
use tokenizers::Tokenizer;

fn both() -> &'static (Tokenizer, Bpe) {
    static BOTH: OnceLock<(Tokenizer, Bpe)> = OnceLock::new();
    BOTH.get_or_init(|| {
        let zst = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/tokenizers/llama-3.1/tokenizer.json.zst"
        ))
        .expect("the bundled tokenizer");
        let json = zstd::decode_all(&zst[..]).expect("zstd");
        (
            Tokenizer::from_bytes(&json).expect("tokenizers loads it"),
            Bpe::from_tokenizer_json(&json).expect("pricer-bpe loads it"),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    // Arbitrary bytes as text (lossy: every UTF-8 shape, U+FFFD included).
    let text = String::from_utf8_lossy(data);
    let (reference, fast) = both();
    if !fast.covers(&text) {
        return;
    }
    let want = reference
        .encode_fast(text.as_ref(), false)
        .expect("tokenizers encodes")
        .get_ids()
        .to_vec();
    assert_eq!(fast.encode(&text), want, "ids differ for {text:?}");
    let mut head = Vec::new();
    fast.encode_into(&text, 160, &mut head);
    let n = head.len().min(want.len()).min(160);
    assert_eq!(
        &head[..n],
        &want[..n],
        "the first tokens differ for {text:?}"
    );
    if let Some(decoded) = fast.decode(&want) {
        assert_eq!(
            decoded,
            reference.decode(&want, false).expect("decode"),
            "decode differs"
        );
    }
});
