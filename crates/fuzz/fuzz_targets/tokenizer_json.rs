//! `tokenizer.json` files a user points pricer at (a path or a Hub id): any bytes give an
//! encoder or an error saying whether the shape is unsupported (callers fall back to
//! `tokenizers`) or the file is damaged; never a panic or an abort. An encoder that loads
//! encodes every text, and its compiled form (what the cache keeps) encodes it the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pricer_bpe::Bpe;

const TEXTS: [&str; 4] = [
    "Price is $123.00",
    " Hello  world\n\n\ttabs and 12345 digits",
    "日本語のテキスト ÿ émoji 🙂",
    "<|python_tag|> <s> </s> <0x41>",
];

fuzz_target!(|data: &[u8]| {
    let Ok(bpe) = Bpe::from_tokenizer_json(data) else {
        return;
    };
    let compiled = bpe.to_compiled("fuzz");
    let again = Bpe::from_compiled(&compiled, "fuzz").expect("a compiled form loads back");
    for text in TEXTS {
        if !bpe.covers(text) {
            continue;
        }
        let ids = bpe.encode(text);
        assert_eq!(
            again.encode(text),
            ids,
            "the compiled form encodes {text:?} otherwise"
        );
        let _ = bpe.decode(&ids);
    }
});
