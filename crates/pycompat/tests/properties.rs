//! Property tests for the Python-semantics modules and the RNG layers. The exact values
//! are pinned by the CPython/numpy vectors in the unit tests and tests/data; these check
//! the laws those values obey over many generated inputs.

use pricer_pycompat::float::{float_repr, parse_float};
use pricer_pycompat::json::{self, dumps};
use pricer_pycompat::numpy::{normalise, RandomState};
use pricer_pycompat::random::PyRandom;
use pricer_pycompat::round::round_half_even;
use pricer_pycompat::unicode::{decimal_value, is_digit, is_space};
use proptest::prelude::*;

fn json_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|i| i.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
        (0xD800u32..0xE000).prop_map(|c| format!("\"\\u{c:04x}\"")),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((any::<String>(), inner), 0..6).prop_map(|v| {
                let fields: Vec<String> = v
                    .into_iter()
                    .map(|(k, x)| format!("{}:{x}", serde_json::to_string(&k).unwrap()))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn float_repr_round_trips(bits in any::<u64>()) {
        let x = f64::from_bits(bits);
        prop_assume!(x.is_finite());
        let text = float_repr(x);
        prop_assert_eq!(parse_float(&text).map(f64::to_bits), Some(bits));
        prop_assert!(text.contains('.') || text.contains('e'), "Python always shows a float as a float: {}", text);
    }

    #[test]
    fn parse_float_never_panics_and_agrees_with_rust_on_plain_decimals(s in "[ -~]{0,30}", d in "[0-9]{1,20}\\.[0-9]{0,20}") {
        let _ = parse_float(&s);
        prop_assert_eq!(parse_float(&d), d.parse::<f64>().ok());
    }

    #[test]
    fn json_dumps_is_a_fixed_point(text in json_value()) {
        let v = json::loads(&text).expect("generated JSON is valid");
        let once = dumps(&v);
        prop_assert!(once.is_ascii(), "ensure_ascii output: {}", once);
        let twice = dumps(&json::loads(&once).expect("dumps output parses"));
        prop_assert_eq!(once, twice);
    }

    #[test]
    fn json_loads_never_panics(s in any::<String>()) {
        let _ = json::loads(&s);
    }

    #[test]
    fn unicode_classes_are_consistent(c in any::<char>()) {
        if decimal_value(c).is_some() { prop_assert!(is_digit(c)); }
        if is_space(c) { prop_assert!(!is_digit(c)); }
        if c.is_ascii() { prop_assert_eq!(is_digit(c), c.is_ascii_digit()); }
    }

    #[test]
    fn round_half_even_laws(x in -1e9f64..1e9) {
        let r = round_half_even(x);
        prop_assert_eq!(r.fract(), 0.0);
        prop_assert!((x - r).abs() <= 0.5);
        if (x - x.trunc()).abs() == 0.5 { prop_assert_eq!(r % 2.0, 0.0); }
    }

    #[test]
    fn python_shuffle_is_a_permutation(seed in any::<u64>(), n in 0usize..300) {
        let mut v: Vec<usize> = (0..n).collect();
        PyRandom::seed(seed).shuffle(&mut v);
        let mut sorted = v.clone();
        sorted.sort_unstable();
        prop_assert_eq!(sorted, (0..n).collect::<Vec<_>>());
    }

    #[test]
    fn randbelow_is_in_range(seed in any::<u64>(), n in 1u64..u64::MAX) {
        let mut r = PyRandom::seed(seed);
        prop_assert!(r.randbelow(n) < n);
    }

    #[test]
    fn numpy_choice_draws_distinct_positive_indices(
        seed in any::<u32>(),
        weights in prop::collection::vec(0u8..6, 1..200),
        frac in 0.0f64..1.0,
    ) {
        let positive = weights.iter().filter(|w| **w > 0).count();
        prop_assume!(positive > 0);
        let size = ((positive as f64 * frac) as usize).max(1).min(positive);
        let w: Vec<f64> = weights.iter().map(|&w| f64::from(w)).collect();
        let picks = RandomState::seed(seed).choice_without_replacement(&normalise(&w), size).unwrap();
        prop_assert_eq!(picks.len(), size);
        let mut uniq = picks.clone();
        uniq.sort_unstable();
        uniq.dedup();
        prop_assert_eq!(uniq.len(), size);
        prop_assert!(picks.iter().all(|&i| i < w.len() && w[i] > 0.0));
    }

    #[test]
    fn random_sample_is_in_unit_interval(seed in any::<u32>()) {
        let mut rs = RandomState::seed(seed);
        for _ in 0..100 {
            let x = rs.random_sample();
            prop_assert!((0.0..1.0).contains(&x));
        }
    }
}

/// Rows as the recipe meets them: an object with the keys it reads (some twice, some
/// escaped) among others, then damaged at random (bytes cut, JSON tokens spliced in), so
/// that most lines are broken somewhere deep inside.
fn row_like() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        Just("\"price\"".to_owned()),
        Just("\"title\"".to_owned()),
        Just("\"details\"".to_owned()),
        Just("\"pr\\u0069ce\"".to_owned()),
        Just("\"images\"".to_owned()),
        Just("\"x\"".to_owned()),
    ];
    let object = prop::collection::vec((key, json_value()), 0..6).prop_map(|v| {
        let fields: Vec<String> = v.into_iter().map(|(k, x)| format!("{k}: {x}")).collect();
        format!("{{{}}}", fields.join(", "))
    });
    let token = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\"",
        "\\",
        "\\u",
        "\\ud800",
        "0",
        "-",
        "1e",
        ".5",
        "NaN",
        "-Infinity",
        "null",
        "tru",
        " ",
        "\n",
        "\u{1}",
        "é",
    ]);
    let edit = (any::<prop::sample::Index>(), 0..3u8, token);
    (
        prop_oneof![object, json_value()],
        prop::collection::vec(edit, 0..3),
    )
        .prop_map(|(mut s, edits)| {
            for (at, op, token) in edits {
                let mut i = at.index(s.len() + 1);
                while !s.is_char_boundary(i) {
                    i -= 1;
                }
                match op {
                    0 => s.insert_str(i, token),
                    1 => s.truncate(i),
                    _ => {
                        let mut j = (i + token.len()).min(s.len());
                        while !s.is_char_boundary(j) {
                            j += 1;
                        }
                        s.replace_range(i..j, token);
                    }
                }
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, .. ProptestConfig::default() })]

    /// scan_fields refuses exactly what loads refuses, with the same message and offset;
    /// on an object each wanted key's range builds the value loads keeps for it.
    #[test]
    fn scan_fields_agrees_with_loads(line in row_like()) {
        const WANTED: [&str; 3] = ["price", "title", "details"];
        let full = json::loads(&line);
        let scanned = json::scan_fields(&line, WANTED);
        match (&full, &scanned) {
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (Ok(json::Value::Object(fields)), Ok(json::Scanned::Object(found))) => {
                for (name, range) in WANTED.iter().zip(found) {
                    let want = fields.iter().find(|(k, _)| k.as_bytes() == name.as_bytes()).map(|(_, v)| v.clone());
                    let got = range.clone().map(|r| json::loads(&line[r]).unwrap());
                    // NaN != NaN: compare what json.dumps prints.
                    prop_assert_eq!(want.map(|v| dumps(&v)), got.map(|v| dumps(&v)), "{}", name);
                }
            }
            (Ok(v), Ok(json::Scanned::NotObject(kind))) => {
                let want = match v {
                    json::Value::Null => "null",
                    json::Value::Bool(_) => "boolean",
                    json::Value::Int(_) | json::Value::Float(_) => "number",
                    json::Value::Str(_) => "string",
                    json::Value::Array(_) => "array",
                    json::Value::Object(_) => "object",
                };
                prop_assert_eq!(want, *kind);
            }
            _ => prop_assert!(false, "loads {:?} but scan_fields {:?} for {:?}", full, scanned, line),
        }
    }
}

/// The byte-at-a-time definitions the word-at-a-time code points functions must equal.
fn count_code_points_naive(b: &[u8]) -> usize {
    b.iter().filter(|&&x| (x & 0xC0) != 0x80).count()
}

fn cut_code_points_naive(b: &[u8], n: usize) -> &[u8] {
    let mut seen = 0;
    for (i, &x) in b.iter().enumerate() {
        if (x & 0xC0) != 0x80 {
            if seen == n {
                return &b[..i];
            }
            seen += 1;
        }
    }
    b
}

/// Bytes biased towards what matters: ASCII, lead and continuation bytes, 0xED 0xA0.
fn utf8ish() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => 0x20u8..0x7F,
        2 => 0x80u8..0xC0,
        2 => 0xC0u8..=0xFF,
        1 => Just(0xEDu8),
        1 => Just(0xA0u8),
    ];
    prop_oneof![
        prop::collection::vec(byte, 0..5000),
        any::<String>().prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, .. ProptestConfig::default() })]

    #[test]
    fn code_points_count_and_cut_a_word_at_a_time(b in utf8ish(), extra in 0usize..40, frac in 0.0f64..1.0) {
        let count = count_code_points_naive(&b);
        prop_assert_eq!(json::count_code_points(&b), count);
        let n = (count as f64 * frac) as usize + extra % 3 * (extra % 2);
        prop_assert_eq!(json::cut_code_points(&b, n), cut_code_points_naive(&b, n));
        prop_assert_eq!(json::cut_code_points(&b, count + extra), &b[..]);
        let surrogate = b.windows(2).any(|w| w[0] == 0xED && w[1] >= 0xA0);
        prop_assert_eq!(json::has_surrogate(&b), surrogate);
    }
}
