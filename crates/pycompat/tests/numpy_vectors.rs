//! numpy 2.3.4's float64 sum and legacy `choice(replace=False, p=...)` against values
//! numpy itself printed (tools/gen_numpy_vectors.py): what recipe V2's weighted draw needs.

use pricer_pycompat::numpy::{normalise, pairwise_sum, RandomState};

/// Python's `float.hex()` form, e.g. `0x1.8p+1`, `-0x0.0p+0`.
fn from_hex(s: &str) -> f64 {
    let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let s = s.strip_prefix("0x").unwrap();
    let (mant, exp) = s.split_once('p').unwrap();
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let mut m = u64::from_str_radix(int, 16).unwrap() as f64;
    for (i, c) in frac.chars().enumerate() {
        m += f64::from(c.to_digit(16).unwrap()) * 16f64.powi(-(i as i32 + 1));
    }
    let v = m * 2f64.powi(exp.parse().unwrap());
    if neg {
        -v
    } else {
        v
    }
}

fn uniforms(seed: u32, n: usize) -> Vec<f64> {
    let mut rs = RandomState::seed(seed);
    (0..n).map(|_| rs.random_sample()).collect()
}

#[test]
fn sums_and_draws_match_numpy_2_3() {
    let zst = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/numpy-2.3.jsonl.zst"
    ))
    .unwrap();
    let text = String::from_utf8(zstd::decode_all(&zst[..]).unwrap()).unwrap();
    let (mut sums, mut draws) = (0, 0);
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let seed = v["seed"].as_u64().unwrap() as u32;
        let n = v["n"].as_u64().unwrap() as usize;
        match v["kind"].as_str().unwrap() {
            "sum" => {
                let scale = v["scale"].as_f64().unwrap();
                let values: Vec<f64> = uniforms(seed, n)
                    .iter()
                    .map(|u| u * u * u * scale)
                    .collect();
                let want = from_hex(v["sum"].as_str().unwrap());
                assert_eq!(
                    pairwise_sum(&values).to_bits(),
                    want.to_bits(),
                    "n = {n}, seed {seed}"
                );
                sums += 1;
            }
            _ => {
                let mut w: Vec<f64> = uniforms(seed + 100, n).iter().map(|u| u * u).collect();
                for x in w.iter_mut().step_by(3) {
                    *x *= 0.05;
                }
                w[n / 2] = 0.0;
                let size = v["size"].as_u64().unwrap() as usize;
                let drawn = RandomState::seed(seed)
                    .choice_without_replacement(&normalise(&w), size)
                    .unwrap();
                let want: Vec<usize> = v["drawn"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_u64().unwrap() as usize)
                    .collect();
                assert_eq!(drawn, want, "seed {seed}, n {n}");
                draws += 1;
            }
        }
    }
    assert_eq!((sums, draws), (57, 3));
}
