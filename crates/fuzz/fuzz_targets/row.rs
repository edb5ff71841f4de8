//! Row decoding, the Hub-loader emulation, V1's scrub and prompt assembly and V2's rules on
//! arbitrary bytes:
//! never a panic; json.dumps output always parses back to the same dumps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pricer_pycompat::json;

fuzz_target!(|data: &[u8]| {
    // Recipe V2's rules on the same bytes: a record or a reject, never a panic.
    use pricer_ingest::RowRules;
    let place = pricer_ingest::rules::RowPlace { category: "Toys_and_Games", file: 0, line: 1 };
    if let Ok(item) = pricer_ingest::V2::default().apply(data, place) {
        assert!(item.full.chars().count() >= 600 && item.full.chars().count() <= 4000);
    }
    if let Ok(kept) = pricer_ingest::row::process_line(data) {
        let prompt = pricer_core::recipe::prompt(&kept.text, kept.price);
        assert!(prompt.ends_with(".00"));
        let _ = pricer_core::recipe::test_prompt(&prompt);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = pricer_pycompat::float::parse_float(text);
        if let Ok(value) = json::loads(text) {
            let dumped = json::dumps(&value);
            let again = json::loads(&dumped).expect("json.dumps output parses");
            assert_eq!(json::dumps(&again), dumped, "dumps is stable");
        }
    }
});
