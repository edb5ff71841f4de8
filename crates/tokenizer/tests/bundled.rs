//! The bundled Llama 3.1 tokenizer is Llama 3.1's: its added tokens carry Llama 3.1's
//! names (Meta's llama-models 0.0.1), so special-token text in a product's title is one
//! token each, as transformers makes of the same file.

use pricer_tokenizer::{load, Encoder, EncoderChoice, TokenizerSource};

#[test]
fn llama_3_1_special_tokens_are_one_token_each() {
    let tok = load(&TokenizerSource::Bundled).unwrap();
    for choice in [EncoderChoice::Fast, EncoderChoice::Reference] {
        let enc = Encoder::new(&tok, choice, true);
        let ids = enc
            .encode("Robot arm <|python_tag|> kit <|eom_id|> with pad <|finetune_right_pad_id|>")
            .unwrap();
        for (name, id) in [
            ("<|python_tag|>", 128010),
            ("<|eom_id|>", 128008),
            ("<|finetune_right_pad_id|>", 128004),
        ] {
            assert_eq!(
                ids.iter().filter(|&&i| i == id).count(),
                1,
                "{name} is id {id}: {ids:?}"
            );
        }
        assert_eq!(
            enc.decode(&[128010, 128008]).unwrap(),
            "<|python_tag|><|eom_id|>"
        );
        // Llama 3.0's names are plain text now: <|reserved_special_token_5|> was id 128010.
        let ids = enc.encode("<|reserved_special_token_5|>").unwrap();
        assert!(!ids.contains(&128010));
    }
    assert_eq!(tok.digest, pricer_core::digest::bytes_digest(&zstd_json()));
}

fn zstd_json() -> Vec<u8> {
    let zst = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/tokenizers/llama-3.1/tokenizer.json.zst"
    ))
    .unwrap();
    zstd::decode_all(&zst[..]).unwrap()
}

#[test]
fn the_bundled_file_has_the_recorded_sha256() {
    use sha2::Digest;
    let sum: String = sha2::Sha256::digest(zstd_json())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        sum, "e872b335fda14d3a4ff0599016a1b32625a0a25325817750cf1e2537149478d5",
        "fixtures/tokenizers/README.md records this sum"
    );
}

/// The prompt stage's decode of a text's first ids (read off the text on the fast path)
/// is `decode` of those ids, with either encoder, cuts inside a character included.
#[test]
fn decode_head_is_decode_of_the_head() {
    let tok = load(&TokenizerSource::Bundled).unwrap();
    let texts = [
        "Plain words , with spaces . And isn't it ?",
        "中文 👍🏽 héllo — “quoted” ½ ٣ 🇺🇸 ö\u{301} end",
        "Robot arm <|python_tag|> kit <|eom_id|> more",
        "",
    ];
    for choice in [EncoderChoice::Fast, EncoderChoice::Reference] {
        let enc = Encoder::new(&tok, choice, true);
        for text in texts {
            let ids = enc.encode(text).unwrap();
            for n in 0..=ids.len() {
                assert_eq!(
                    enc.decode_head(text, &ids[..n]).unwrap(),
                    enc.decode(&ids[..n]).unwrap(),
                    "{choice:?}: first {n} ids of {text:?}"
                );
            }
        }
    }
}
