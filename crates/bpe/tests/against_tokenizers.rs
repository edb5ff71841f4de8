//! The fast encoder against `tokenizers` itself (the reference), on the real Llama 3.1
//! tokenizer: every Unicode code point in many contexts, every fixture row, and random
//! texts. Any difference is a bug in pricer-bpe.

use std::sync::OnceLock;

use pricer_bpe::{pretok, Bpe};
use proptest::prelude::*;
use tokenizers::{OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer, Tokenizer};

mod common;
use common::root;

fn both() -> &'static (Tokenizer, Bpe) {
    static BOTH: OnceLock<(Tokenizer, Bpe)> = OnceLock::new();
    BOTH.get_or_init(|| {
        let zst = std::fs::read(root().join("fixtures/tokenizers/llama-3.1/tokenizer.json.zst"))
            .expect("bundled tokenizer");
        let json = zstd::decode_all(&zst[..]).expect("zstd");
        let reference = Tokenizer::from_bytes(&json).expect("tokenizers loads it");
        let fast = Bpe::from_tokenizer_json(&json).expect("pricer-bpe loads it");
        (reference, fast)
    })
}

fn reference_ids(text: &str) -> Vec<u32> {
    both()
        .0
        .encode_fast(text, false)
        .expect("encode")
        .get_ids()
        .to_vec()
}

fn reference_pieces(text: &str) -> Vec<(usize, usize)> {
    let mut pts = PreTokenizedString::from(text);
    both()
        .0
        .get_pre_tokenizer()
        .expect("has one")
        .pre_tokenize(&mut pts)
        .expect("pre-tokenize");
    pts.get_splits(OffsetReferential::Original, OffsetType::Byte)
        .into_iter()
        .map(|(_, offsets, _)| offsets)
        .collect()
}

fn our_pieces(text: &str) -> Vec<(usize, usize)> {
    let base = text.as_ptr() as usize;
    pretok::pieces(text)
        .map(|p| {
            let start = p.as_ptr() as usize - base;
            (start, start + p.len())
        })
        .collect()
}

fn assert_same(text: &str) {
    let fast = &both().1;
    assert!(fast.covers(text), "{text:?} is not covered");
    if !text.contains("<|") {
        assert_eq!(
            our_pieces(text),
            reference_pieces(text),
            "pieces of {text:?}"
        );
    }
    let ids = reference_ids(text);
    assert_eq!(fast.encode(text), ids, "ids of {text:?}");
    for limit in [1, 7, 160] {
        let mut head = Vec::new();
        fast.encode_into(text, limit, &mut head);
        assert!(head.len() >= limit.min(ids.len()), "limit {limit}");
        assert_eq!(head[..], ids[..head.len()], "first {limit} ids of {text:?}");
    }
    let decoded = both().0.decode(&ids, false).expect("decode");
    match fast.decode(&ids) {
        Some(ours) => assert_eq!(ours, decoded),
        // Added tokens are decoded by tokenizers.
        None => assert!(ids.iter().any(|&id| id >= 128_000), "{text:?}"),
    }
    for k in [0, 1, ids.len() / 3, ids.len() / 2, ids.len()] {
        let head = &ids[..k.min(ids.len())];
        match fast.head_len(head) {
            Some(n) => assert_eq!(
                spelled(text, n),
                both().0.decode(head, false).expect("decode"),
                "the text the first {k} ids of {text:?} spell"
            ),
            None => assert!(head.iter().any(|&id| id >= 128_000), "{text:?}"),
        }
    }
}

/// What the prompt stage decodes for a head of `text`'s ids that spells `n` bytes.
fn spelled(text: &str, n: usize) -> String {
    let bytes = text.as_bytes().get(..n).expect("a head of the text");
    String::from_utf8_lossy(bytes).into_owned()
}

/// Each code point of the BMP and the SMP, and every 61st beyond (CJK extensions,
/// unassigned and private-use code points, each class alike), next to letters, digits,
/// spaces, newlines, punctuation, apostrophes and the end of the text, in blocks of 64
/// code points per text.
#[test]
fn every_code_point_in_context() {
    let chars: Vec<char> = (0..=0x10FFFFu32)
        .filter(|&c| c < 0x20000 || c % 61 == 0)
        .filter_map(char::from_u32)
        .collect();
    for block in chars.chunks(64) {
        let mut text = String::new();
        for &c in block {
            for pat in [
                "a{}b", "{}1", "7{}", " {}x", "\n{}", "{}\n\n", "'{}{} ", "x'{}", ", {}  ",
                "\t{}\r\n", "{}{}{}",
            ] {
                text.push_str(&pat.replace("{}", &c.to_string()));
            }
        }
        text.push(*block.last().expect("non-empty"));
        assert_eq!(
            our_pieces(&text),
            reference_pieces(&text),
            "block from U+{:04X}",
            block[0] as u32
        );
        assert_eq!(
            both().1.encode(&text),
            reference_ids(&text),
            "block from U+{:04X}",
            block[0] as u32
        );
    }
}

#[test]
fn whitespace_runs_and_contractions() {
    for text in [
        "",
        " ",
        "  ",
        "\n",
        "a \n\n b",
        "a  b",
        "a \t b",
        "x\u{3000}\u{3000}y",
        "end  ",
        "it's I'M we'Re they'VE she'll I'D don'T 'ſ '",
        "\r\n\r\n x",
        "a\u{a0}\u{a0}b",
        "1234567 12 1",
        "½²³ ٣٤٥",
        "héllo wörld — “quoted” ‘single’",
        "emoji 👍🏽 ok",
        "x \n",
        " \u{85}\u{2028} a",
        "''''",
        "a'sb'tc",
        ",,,...!!!?",
        "中文字符 テスト",
    ] {
        assert_same(text);
    }
}

#[test]
fn every_fixture_row() {
    let mut n = 0;
    for s in common::fixture_texts()
        .iter()
        .filter(|s| both().1.covers(s))
    {
        assert_same(s);
        n += 1;
    }
    assert!(n > 1000, "only {n} fixture texts");
}

/// Added tokens are cut out of the text as tokenizers cuts them, leftmost-longest, with
/// the text between them encoded on its own.
#[test]
fn texts_with_added_tokens() {
    for text in [
        "a <|begin_of_text|> b",
        "<|",
        "<|eot_id|><|eot_id|>x",
        "title <|python_tag|>code<|eom_id|>",
        "<|reserved_special_token_10|>0<|reserved_special_token_1|>",
        "a < | b <|not_a_token|>",
    ] {
        assert_same(text);
    }
}

fn alphabet() -> impl Strategy<Value = char> {
    common::alphabet(vec![
        '\n', '\r', '\t', '\'', 'ſ', 'S', '.', ',', '!', '-', '$', '"', '\u{a0}', '\u{3000}',
        '\u{2028}', '\u{85}', '\u{1c}', '\u{200b}', '\u{301}', 'é', 'ß', 'Ω', '中', '½', '²', '٣',
        '👍', '™', '®', '°', '×',
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    #[test]
    fn random_texts(chars in prop::collection::vec(alphabet(), 0..200)) {
        let text: String = chars.into_iter().collect();
        assert_same(&text);
    }
}

#[test]
fn the_compiled_form_encodes_the_same_and_refuses_damage() {
    let fast = &both().1;
    let bytes = fast.to_compiled("digest-of-the-file");
    let again = Bpe::from_compiled(&bytes, "digest-of-the-file").expect("loads");
    for text in [
        "Hello world's 12345 items!!\n\n  ok",
        "héllo wörld — “quoted” 👍🏽",
        "x'ſ ½²³ ٣٤٥ 中文",
    ] {
        assert_eq!(again.encode(text), fast.encode(text));
        assert_eq!(again.covers(text), fast.covers(text));
    }
    assert_eq!(again.decode(&[9906, 1917]), fast.decode(&[9906, 1917]));
    assert!(Bpe::from_compiled(&bytes, "another-file").is_err());
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 2] ^= 1;
    assert!(Bpe::from_compiled(&flipped, "digest-of-the-file").is_err());
    assert!(Bpe::from_compiled(&bytes[..bytes.len() - 1], "digest-of-the-file").is_err());
    assert!(Bpe::from_compiled(b"", "digest-of-the-file").is_err());

    // Read in pieces from a file, as the cache does: the same model; a file that is
    // longer or shorter than its stated length, or damaged in its last piece, refused.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("compiled.bin");
    std::fs::write(&path, &bytes).unwrap();
    let from_file = |len: usize| {
        Bpe::from_compiled_reader(
            std::fs::File::open(&path).unwrap(),
            len,
            "digest-of-the-file",
        )
    };
    let read = from_file(bytes.len()).expect("loads from a file");
    assert_eq!(
        read.encode("Hello world's 12345"),
        fast.encode("Hello world's 12345")
    );
    assert!(from_file(bytes.len() + 1).is_err());
    assert!(from_file(bytes.len() - 1).is_err());
    let mut longer = bytes.clone();
    longer.push(0);
    std::fs::write(&path, &longer).unwrap();
    assert!(from_file(bytes.len()).is_err(), "a byte after the digest");
    let mut tail = bytes.clone();
    let at = bytes.len() - 40;
    tail[at] ^= 0x80;
    std::fs::write(&path, &tail).unwrap();
    assert!(
        from_file(bytes.len()).is_err(),
        "damage just before the digest"
    );
}

/// Long pieces (a hostile row's title) merge by heap: the same ids as the scan and as
/// `tokenizers`, for pieces of letters, CJK, emoji and mixed scripts.
#[test]
fn long_pieces_merge_by_heap_exactly() {
    let (_, fast) = both();
    let model = fast.model();
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let alphabets: [&[&str]; 4] = [
        &["a", "b", "e", "r", "t", "x", "Z", "ing", "tion", "qu"],
        &["\u{4e00}", "\u{4e8c}", "\u{6587}", "\u{5b57}", "\u{3042}"],
        &["\u{1F600}", "\u{1F6DC}", "\u{2764}", "!", "#", "~"],
        &["\u{e9}", "\u{df}", "\u{430}", "\u{3b1}", "k", "\u{5d0}"],
    ];
    for alphabet in alphabets {
        for len in [49, 50, 64, 100, 333, 1000, 5000] {
            let text: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let (mut scan, mut heap) = (Vec::new(), Vec::new());
            model.merge_by_scan(text.as_bytes(), &mut scan);
            model.merge_with_heap(text.as_bytes(), &mut heap);
            assert_eq!(scan, heap, "{len} of {alphabet:?}");
        }
    }
    // Whole texts made of one long piece each, against tokenizers.
    for text in [
        "a".repeat(20_000),
        "\u{4e00}\u{6587}".repeat(5_000),
        "\u{1F600}".repeat(5_000),
        "ab".repeat(10_000),
    ] {
        assert_eq!(fast.encode(&text), reference_ids(&text));
    }
}

/// The first k ids of a text, for every k: a cut inside a character leaves invalid
/// UTF-8, which both decode to U+FFFD the same way (the prompt stage decodes such cuts).
#[test]
fn decoding_every_cut_of_the_ids() {
    let (reference, fast) = both();
    let texts: Vec<String> = ["中文 👍🏽 héllo — “quoted” ½ ٣ 🇺🇸 ö\u{301}".to_owned()]
        .into_iter()
        .chain(
            common::fixture_texts()
                .into_iter()
                .filter(|t| !t.is_ascii())
                .take(40),
        )
        .collect();
    let mut lossy = 0;
    for text in &texts {
        let ids = reference_ids(text);
        for k in 0..=ids.len().min(400) {
            let want = reference.decode(&ids[..k], false).expect("decode");
            lossy += usize::from(want.contains('\u{fffd}') && !text.contains('\u{fffd}'));
            let n = fast.head_len(&ids[..k]).expect("no added token here");
            assert_eq!(
                spelled(text, n),
                want,
                "the text the first {k} ids of {text:?} spell"
            );
            assert_eq!(
                fast.decode(&ids[..k]),
                Some(want),
                "first {k} ids of {text:?}"
            );
        }
    }
    assert!(lossy > 10, "only {lossy} cuts inside a character");
}

/// `count_reusing` for `prefix + (what the first k ids of text spell) + suffix`, checked
/// against `tokenizers`' count of that whole; whether the shortcut applied.
fn check_count_reusing(prefix: &str, text: &str, k: usize, suffix: &str) -> bool {
    let fast = &both().1;
    let ids = reference_ids(text);
    let head = &ids[..k.min(ids.len())];
    let Some(n) = fast.head_len(head) else {
        return false;
    };
    let whole = format!("{prefix}{}{suffix}", spelled(text, n));
    let want = reference_ids(&whole).len();
    match fast.count_reusing(&whole, prefix.len(), text, head) {
        Some(got) => {
            assert_eq!(
                got, want,
                "{prefix:?} + first {k} ids of {text:?} + {suffix:?}"
            );
            true
        }
        None => false,
    }
}

/// The prompt stage's case: every fixture row as the recipe builds its prompt.
#[test]
fn counting_a_prompt_around_the_ids_it_reuses() {
    let mut reused = 0;
    let texts = common::fixture_texts();
    for text in &texts {
        for k in [1, 5, 160] {
            let applied = check_count_reusing(
                "How much does this cost to the nearest dollar?\n\n",
                text,
                k,
                "\n\nPrice is $42.00",
            );
            reused += usize::from(applied);
        }
    }
    // One id spells no place where a letter meets a space: k = 1 never reuses; nor does
    // a raw JSON line, which starts with "{" (no boundary after the prefix's newline).
    assert!(
        reused * 3 > texts.len() * 2,
        "reused ids for only {reused} of {} prompts",
        2 * texts.len()
    );
}

fn boundary_alphabet() -> impl Strategy<Value = char> {
    common::alphabet(vec![
        '\n', '\n', '\r', '\t', '\'', 's', ' ', '.', '?', ',', '$', '\u{a0}', '\u{3000}', 'é', 'Ω',
        '中', '٣', '½', '👍', '\u{301}', '\u{85}',
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    /// Random texts, heads and surroundings rich in spaces, newlines, apostrophes,
    /// digits and letters of every kind, where pieces could cross the seams.
    #[test]
    fn count_reusing_random(
        prefix in prop::collection::vec(boundary_alphabet(), 0..12),
        text in prop::collection::vec(boundary_alphabet(), 1..120),
        k in 0usize..60,
        suffix in prop::collection::vec(boundary_alphabet(), 0..12),
    ) {
        let prefix: String = prefix.into_iter().collect();
        let text: String = text.into_iter().collect();
        let suffix: String = suffix.into_iter().collect();
        check_count_reusing(&prefix, &text, k, &suffix);
    }
}
