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
pub fn clean_up_tokenization(text: &str) -> String {
    let mut out = text.to_owned();
    for (from, to) in CLEANUP_REPLACEMENTS {
        if out.contains(from) {
            out = out.replace(from, to);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
