//! Python built-ins whose float results differ between versions.

/// CPython 3.12's `sum(values)` of floats (start `0`): from 3.12 on, `sum` of floats uses
/// Neumaier's compensated summation, so `sum([0.1] * 10)` is `1.0` (3.11 gave
/// `0.9999999999999999`). The first value starts the float sum (`0 + x` is exact); the
/// compensation is added at the end when it is finite and non-zero.
pub fn sum_floats_py312(values: impl IntoIterator<Item = f64>) -> f64 {
    let mut it = values.into_iter();
    let Some(first) = it.next() else {
        return 0.0;
    };
    let (mut total, mut c) = (0.0 + first, 0.0f64);
    for x in it {
        let t = total + x;
        if total.abs() >= x.abs() {
            c += (total - t) + x;
        } else {
            c += (x - t) + total;
        }
        total = t;
    }
    if c != 0.0 && c.is_finite() {
        total += c;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_cpython_3_12() {
        // Values CPython 3.12.1 printed.
        assert_eq!(sum_floats_py312([0.1; 10]), 1.0);
        assert_eq!(sum_floats_py312([1e100, 1.0, -1e100, 1.0]), 2.0);
        assert_eq!(sum_floats_py312([0.5, 0.25, 1e-20]), 0.75);
        assert_eq!(sum_floats_py312([f64::INFINITY, 1.0]), f64::INFINITY);
        assert_eq!(sum_floats_py312([]), 0.0);
    }
}
