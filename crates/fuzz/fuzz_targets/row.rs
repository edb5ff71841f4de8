//! Row decoding, the Hub-loader emulation, V1's scrub and prompt assembly and V2's rules on
//! arbitrary bytes:
//! never a panic; json.dumps output always parses back to the same dumps; the ingest's
//! field scanner gives the verdict and the values `json.loads` gives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pricer_pycompat::json;

fuzz_target!(|data: &[u8]| {
    // Recipe V2's rules on the same bytes: a record or a reject, never a panic.
    use pricer_ingest::RowRules;
    let place = pricer_ingest::rules::RowPlace {
        category: "Toys_and_Games",
        file: 0,
        line: 1,
    };
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
        scan_agrees_with_loads(text);
    }
});

/// `scan_fields` (what ingest reads rows with) refuses exactly what `loads` refuses, with
/// the same error, and each wanted key's range holds the value `loads` keeps for it (the
/// last duplicate), compared through `json.dumps` because NaN != NaN.
fn scan_agrees_with_loads(text: &str) {
    const WANTED: [&str; 5] = ["title", "description", "features", "details", "price"];
    let full = json::loads(text);
    let scanned = json::scan_fields(text, WANTED);
    match (&full, &scanned) {
        (Err(a), Err(b)) => assert_eq!(a, b),
        (Ok(json::Value::Object(fields)), Ok(json::Scanned::Object(found))) => {
            for (name, range) in WANTED.iter().zip(found) {
                let want = fields
                    .iter()
                    .rev()
                    .find(|(k, _)| k.as_bytes() == name.as_bytes())
                    .map(|(_, v)| json::dumps(v));
                let got = range
                    .clone()
                    .map(|r| json::dumps(&json::loads(&text[r]).expect("a scanned value parses")));
                assert_eq!(want, got, "{name}");
            }
        }
        (Ok(v), Ok(json::Scanned::NotObject(kind))) => {
            assert!(
                !matches!(v, json::Value::Object(_)),
                "an object scanned as {kind}"
            );
        }
        _ => panic!("loads {full:?} but scan_fields {scanned:?}"),
    }
}
