//! `float()` and `repr()` against thousands of values CPython 3.11 printed
//! (tools/gen_float_vectors.py).

use pricer_pycompat::float::{float_repr, parse_float};

fn unescape(s: &str) -> String {
    // The vectors escape non-ASCII as Python's `unicode_escape` does: \xNN, \uNNNN, \t, \n.
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let take = |n: usize, chars: &mut std::str::Chars<'_>| {
            let hex: String = chars.take(n).collect();
            char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap()
        };
        match chars.next().unwrap() {
            'x' => out.push(take(2, &mut chars)),
            'u' => out.push(take(4, &mut chars)),
            'U' => out.push(take(8, &mut chars)),
            't' => out.push('\t'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            '\\' => out.push('\\'),
            other => panic!("unexpected escape \\{other}"),
        }
    }
    out
}

#[test]
fn repr_matches_cpython_on_7000_values() {
    let data = include_str!("data/float_repr.txt");
    let mut n = 0;
    for line in data.lines() {
        let (bits, want) = line.split_once(' ').unwrap();
        let x = f64::from_bits(u64::from_str_radix(bits, 16).unwrap());
        assert_eq!(float_repr(x), want, "repr of bits {bits}");
        n += 1;
    }
    assert!(n > 7000);
}

#[test]
fn parse_matches_cpython_on_2000_strings() {
    let data = include_str!("data/float_parse.txt");
    let mut n = 0;
    for line in data.lines() {
        let (want, escaped) = line.split_once('\t').unwrap();
        let s = unescape(escaped);
        let got = parse_float(&s);
        match (want, got) {
            ("ERR", None) => {}
            ("ERR", Some(v)) => panic!("float({s:?}) should fail, got {v}"),
            (_, None) => panic!("float({s:?}) should parse"),
            (bits, Some(v)) => {
                let want = f64::from_bits(u64::from_str_radix(bits, 16).unwrap());
                if want.is_nan() {
                    assert!(v.is_nan(), "float({s:?})");
                } else {
                    assert_eq!(v.to_bits(), want.to_bits(), "float({s:?})");
                }
            }
        }
        n += 1;
    }
    assert!(n > 2000);
}
