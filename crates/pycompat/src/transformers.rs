//! transformers 4.x `PreTrainedTokenizerBase.clean_up_tokenization`.
//!
//! Llama 3.1's `tokenizer_config.json` sets `clean_up_tokenization_spaces: true`, so every
//! `tokenizer.decode(...)` in transformers 4.x applied these replacements after the plain
//! decode (transformers 5 stopped doing it for this tokenizer; the recipe predates that).

/// The replacements, in the order transformers applies them.
pub const CLEANUP_REPLACEMENTS: [(&str, &str); 10] = [
    (" .", "."),
    (" ?", "?"),
    (" !", "!"),
    (" ,", ","),
    (" ' ", "'"),
    (" n't", "n't"),
    (" 'm", "'m"),
    (" 's", "'s"),
    (" 've", "'ve"),
    (" 're", "'re"),
];

/// `clean_up_tokenization(text)`: each replacement over the whole string, left to right,
/// non-overlapping, in order (Python `str.replace` semantics, which `str::replace` shares).
///
/// Every pattern is a space and then one of `. ? ! , ' n`, so one pass over the text
/// first notes which characters follow a space, and only the patterns whose second
/// character does are searched for (most texts need one or two searches instead of
/// ten). A replacement only removes spaces right before (and, for `" ' "`, after) a
/// pattern's second character, so after it a space is followed only by characters that
/// already followed one: `" ' s"` -> `"'s"` can make `" 's"`, but only where `" '"` was.
pub fn clean_up_tokenization(text: &str) -> String {
    let after_space = seconds_after_space(text.as_bytes());
    let mut out = std::borrow::Cow::Borrowed(text);
    for (from, to) in CLEANUP_REPLACEMENTS {
        if after_space & second_bit(from.as_bytes()[1]) != 0 && out.contains(from) {
            out = std::borrow::Cow::Owned(out.replace(from, to));
        }
    }
    out.into_owned()
}

/// A bit per character that a pattern has after its space.
const fn second_bit(b: u8) -> u8 {
    match b {
        b'.' => 1,
        b'?' => 2,
        b'!' => 4,
        b',' => 8,
        b'\'' => 16,
        b'n' => 32,
        _ => 0,
    }
}

static SECOND_BITS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = second_bit(b as u8);
        b += 1;
    }
    t
};

/// The [`second_bit`]s of every byte that follows a space in `bytes`, without a branch
/// per byte (a space is every sixth byte of a product text, at random).
fn seconds_after_space(bytes: &[u8]) -> u8 {
    bytes.windows(2).fold(0u8, |acc, w| {
        let space = u8::from(w[0] == b' ').wrapping_neg();
        acc | (SECOND_BITS[w[1] as usize] & space)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The replacements as transformers writes them: ten `str.replace` calls.
    fn ten_replaces(text: &str) -> String {
        let mut out = text.to_owned();
        for (from, to) in CLEANUP_REPLACEMENTS {
            out = out.replace(from, to);
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        /// Texts made of the patterns' own characters, where replacements make and
        /// break each other's matches.
        #[test]
        fn same_as_ten_replaces(chars in prop::collection::vec(
            prop::sample::select(vec![' ', ' ', ' ', '.', '?', '!', ',', '\'', '\'', 'n', 't', 'm', 's', 'v', 'e', 'r', 'x', 'é']),
            0..40,
        )) {
            let text: String = chars.into_iter().collect();
            prop_assert_eq!(clean_up_tokenization(&text), ten_replaces(&text), "{:?}", text);
        }
    }

    #[test]
    fn a_quote_replacement_makes_later_patterns() {
        for text in ["x  ' s", "a n ' t", "a  ' ve  ' re  ' m", "  ' 's"] {
            assert_eq!(clean_up_tokenization(text), ten_replaces(text), "{text:?}");
        }
        assert_eq!(clean_up_tokenization("do n ' t"), "don't");
    }

    #[test]
    fn matches_transformers_outputs() {
        // Outputs printed by transformers 4.46.3 `clean_up_tokenization`.
        let cases = [
            ("Hello , world .", "Hello, world."),
            (
                "isn't it ? it 's fine ! we 've they 're I 'm",
                "isn't it? it's fine! we've they're I'm",
            ),
            ("do n't", "don't"),
            ("a ' b", "a'b"),
            ("a  .", "a ."),
            (" ..", ".."),
            ("x ' 's", "x''s"),
            ("a ,, b", "a,, b"),
            ("no change here", "no change here"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(clean_up_tokenization(input), want, "input {input:?}");
        }
    }

    #[test]
    fn order_matters() {
        // " ' " goes before " 's", so " ' " eats the space that " 's" would have needed.
        assert_eq!(clean_up_tokenization("a ' s"), "a's");
        assert_eq!(clean_up_tokenization("a ' 's"), "a''s");
        // " ," is applied after " ." so " .," keeps its comma spacing: " .," -> ".,".
        assert_eq!(clean_up_tokenization("x .,"), "x.,");
    }
}
