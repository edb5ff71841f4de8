//! `repr()` and the product-code regex against values CPython 3.12 printed
//! (tools/gen_v2_vectors.py): recipe V2's Python semantics.

use pricer_pycompat::code_runs::delete_code_runs;
use pricer_pycompat::json::{loads, Value};
use pricer_pycompat::repr::repr_value;
use pricer_pycompat::unicode::PY312;

/// The generalised UTF-8 of a JSON string value (lone surrogates kept).
fn string_bytes(v: &Value<'_>) -> Vec<u8> {
    match v {
        Value::Str(s) => s.as_bytes().to_vec(),
        other => panic!("not a string: {other:?}"),
    }
}

#[test]
fn repr_and_code_runs_match_cpython_3_12() {
    let zst = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/py312-v2.jsonl.zst"
    ))
    .unwrap();
    let text = String::from_utf8(zstd::decode_all(&zst[..]).unwrap()).unwrap();
    let (mut reprs, mut runs) = (0, 0);
    for line in text.lines() {
        let Value::Object(fields) = loads(line).unwrap() else {
            panic!("{line}")
        };
        let get = |k: &str| {
            fields
                .iter()
                .find(|(n, _)| n.as_bytes() == k.as_bytes())
                .map(|(_, v)| v)
                .unwrap()
        };
        let want = string_bytes(get("output"));
        let input = string_bytes(get("input"));
        let got = match get("kind") {
            Value::Str(k) if k.as_bytes() == b"repr" => {
                reprs += 1;
                let value = loads(std::str::from_utf8(&input).unwrap()).unwrap();
                let mut out = Vec::new();
                repr_value(&value, PY312, &mut out);
                out
            }
            _ => {
                runs += 1;
                delete_code_runs(&input, PY312)
            }
        };
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "input {}",
            String::from_utf8_lossy(&input)
        );
        assert_eq!(got, want);
    }
    assert_eq!((reprs, runs), (2000, 15000));
}
