//! The fast encoder against `tokenizers` on the other bundled tokenizers, one per shape
//! it implements besides Llama 3's: Qwen3 (byte-level, single digits, NFC), Gemma 3 and
//! Llama 2 (SentencePiece-style with byte fallback, with and without a prepended "▁").
//! Every fixture row, every price the audit asks about, every code point in context,
//! the added tokens in text, and random texts. Any difference is a bug in pricer-bpe.

use std::sync::OnceLock;

use pricer_bpe::{Bpe, Shape};
use proptest::prelude::*;
use tokenizers::Tokenizer;

mod common;
use common::root;

struct Pair {
    name: &'static str,
    reference: Tokenizer,
    fast: Bpe,
    added: Vec<String>,
}

fn load(name: &'static str, folder: &str) -> Pair {
    let zst =
        std::fs::read(root().join(format!("fixtures/tokenizers/{folder}/tokenizer.json.zst")))
            .expect("bundled tokenizer");
    let json = zstd::decode_all(&zst[..]).expect("zstd");
    let reference = Tokenizer::from_bytes(&json).expect("tokenizers loads it");
    let fast = Bpe::from_tokenizer_json(&json).expect("pricer-bpe loads it");
    let file: serde_json::Value = serde_json::from_slice(&json).expect("json");
    let added = file["added_tokens"]
        .as_array()
        .expect("added tokens")
        .iter()
        .map(|t| t["content"].as_str().expect("content").to_owned())
        .collect();
    Pair {
        name,
        reference,
        fast,
        added,
    }
}

fn pairs() -> &'static [Pair; 3] {
    static PAIRS: OnceLock<[Pair; 3]> = OnceLock::new();
    PAIRS.get_or_init(|| {
        [
            load("Qwen3", "qwen3"),
            load("Gemma 3", "gemma3"),
            load("Llama 2", "llama-2"),
        ]
    })
}

fn reference_ids(p: &Pair, text: &str) -> Vec<u32> {
    p.reference
        .encode_fast(text, false)
        .expect("encode")
        .get_ids()
        .to_vec()
}

/// Same ids (and the same first ids under a limit) for a text the encoder covers;
/// whether it did.
fn check(p: &Pair, text: &str) -> bool {
    if !p.fast.covers(text) {
        return false;
    }
    let ids = reference_ids(p, text);
    assert_eq!(p.fast.encode(text), ids, "{}: ids of {text:?}", p.name);
    for limit in [1, 7, 160] {
        let mut head = Vec::new();
        p.fast.encode_into(text, limit, &mut head);
        assert!(head.len() >= limit.min(ids.len()), "limit {limit}");
        assert_eq!(
            head[..],
            ids[..head.len()],
            "{}: first {limit} of {text:?}",
            p.name
        );
    }
    true
}

#[test]
fn the_shapes_are_recognised() {
    let [qwen, gemma, llama2] = pairs();
    assert_eq!(
        qwen.fast.shape(),
        Shape::ByteLevel {
            max_digits: 1,
            nfc: true
        }
    );
    assert_eq!(gemma.fast.shape(), Shape::SentencePiece { prepend: false });
    assert_eq!(llama2.fast.shape(), Shape::SentencePiece { prepend: true });
}

#[test]
fn known_texts_and_every_price() {
    let mut texts: Vec<String> = [
        "",
        " ",
        "  ",
        "\n",
        "a \n\n b",
        "a  b",
        " leading and trailing ",
        "x\u{3000}\u{3000}y",
        "it's I'M we'Re they'VE she'll I'D don'T",
        "\r\n\r\n x",
        "1234567 12 1 3.14 $1,299.99",
        "½²³ ٣٤٥",
        "héllo wörld — “quoted” ‘single’",
        "emoji 👍🏽 ok 🇩🇪",
        "中文字符 テスト 한국어",
        "\u{2581}already metaspace\u{2581}\u{2581}",
        "tabs\tand\t\ttabs",
        "How much does this cost to the nearest dollar?\n\nA title\n\nPrice is $42.00",
        "nul \u{0} and \u{7f} and \u{fffd}",
        // Gemma has one token across a word start, ">▁</": words are not cut there.
        "<div> </div> a> </b>  </c>> </",
        "> </",
        "\n> </p>",
    ]
    .map(String::from)
    .to_vec();
    for n in 1..=999 {
        texts.push(format!("Price is ${n}.00"));
    }
    for p in pairs() {
        for t in &texts {
            assert!(check(p, t), "{}: {t:?} not covered", p.name);
        }
    }
}

#[test]
fn added_tokens_in_text() {
    for p in pairs() {
        let step = (p.added.len() / 200).max(1);
        for (i, tok) in p.added.iter().enumerate().step_by(step) {
            for text in [
                tok.clone(),
                format!("a {tok} b"),
                format!("x{tok}{tok}y\n\n"),
                format!("Price {tok}$12.00 {}", p.added[(i * 7) % p.added.len()]),
            ] {
                assert!(check(p, &text), "{}: {text:?} not covered", p.name);
            }
        }
    }
}

#[test]
fn every_fixture_row() {
    let texts = common::fixture_texts();
    for p in pairs() {
        let n = texts.iter().filter(|s| check(p, s)).count();
        assert!(n > 1000, "{}: only {n} fixture texts", p.name);
    }
}

/// Each code point of the BMP and the SMP (every assigned script and symbol), and every
/// 61st beyond (ideographs, unassigned and private-use code points all take the byte
/// fallback alike) next to letters, digits, spaces, newlines and punctuation, 64 code
/// points per text. Qwen's NFC-changing texts are left to tokenizers and counted.
#[test]
fn every_code_point_in_context() {
    let chars: Vec<char> = (0..=0x10FFFFu32)
        .filter(|&c| c < 0x20000 || c % 61 == 0)
        .filter_map(char::from_u32)
        .collect();
    for p in pairs() {
        let mut skipped = 0;
        for block in chars.chunks(64) {
            let mut text = String::new();
            for &c in block {
                for pat in ["a{}b", "{}1", "7{}", " {}x", "\n{}", "{}  ", "'{}{} "] {
                    text.push_str(&pat.replace("{}", &c.to_string()));
                }
            }
            if !check(p, &text) {
                skipped += 1;
            }
        }
        assert!(
            skipped * 20 < chars.len() / 64,
            "{}: {skipped} blocks not covered",
            p.name
        );
    }
}

fn alphabet() -> impl Strategy<Value = char> {
    common::alphabet(vec![
        '\n', '\r', '\t', '\'', '<', '>', '|', '[', ']', '\u{2581}', 'ſ', '.', ',', '!', '$', '"',
        '\u{a0}', '\u{3000}', '\u{200b}', '\u{301}', 'é', 'ß', '中', '½', '٣', '👍', '™', '°',
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    #[test]
    fn random_texts(chars in prop::collection::vec(alphabet(), 0..200)) {
        let text: String = chars.into_iter().collect();
        for p in pairs() {
            check(p, &text);
        }
    }
}

#[test]
fn the_compiled_form_encodes_the_same() {
    for p in pairs() {
        let bytes = p.fast.to_compiled("digest");
        let again = Bpe::from_compiled(&bytes, "digest").expect("loads");
        assert_eq!(again.shape(), p.fast.shape());
        for text in [
            "Hello world's 12345 items!!\n\n  ok",
            "héllo wörld — “quoted” 👍🏽 <|im_start|> <start_of_turn> </s>",
        ] {
            assert_eq!(again.encode(text), p.fast.encode(text), "{}", p.name);
        }
    }
}

/// Each thread keeps the word caches of the last few models it used: alternating
/// between more models than it keeps (so caches are evicted and rebuilt) never gives one
/// model's words to another.
#[test]
fn alternating_models_on_one_thread() {
    let [qwen, gemma, llama2] = pairs();
    let copies = [qwen, gemma].map(|p| {
        let bytes = p.fast.to_compiled("digest");
        (p, Bpe::from_compiled(&bytes, "digest").expect("loads"))
    });
    let encoders: Vec<(&Pair, &Bpe)> = [qwen, gemma, llama2]
        .into_iter()
        .map(|p| (p, &p.fast))
        .chain(copies.iter().map(|(p, b)| (*p, b)))
        .collect();
    let texts = common::fixture_texts();
    for round in 0..2 {
        for text in texts.iter().take(200) {
            for (p, bpe) in &encoders {
                if bpe.covers(text) {
                    assert_eq!(
                        bpe.encode(text),
                        reference_ids(p, text),
                        "{} round {round}",
                        p.name
                    );
                }
            }
        }
    }
}
