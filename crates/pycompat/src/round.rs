//! Python's built-in `round(x)` for floats: round half to even on the exact binary value.

/// `round(x)` as Python 3 computes it for a float: ties go to the even integer
/// (`round(2.5) == 2`, `round(3.5) == 4`, `round(0.5) == 0`). Ties are decided on the
/// exact double, so `round(2.675)` rounds the stored 2.67499999... down.
pub fn round_half_even(x: f64) -> f64 {
    x.round_ties_even()
}

/// `round(x)` as an integer, for finite `x` within `i64`; `None` otherwise (Python would
/// raise `OverflowError` or `ValueError`).
pub fn round_to_i64(x: f64) -> Option<i64> {
    let r = round_half_even(x);
    // 2^63 is exactly representable; anything at or beyond it does not fit.
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&r) {
        Some(r as i64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_go_to_even() {
        let cases = [
            (0.5, 0),
            (1.5, 2),
            (2.5, 2),
            (3.5, 4),
            (12.5, 12),
            (13.5, 14),
            (239.5, 240),
            (240.5, 240),
            (-0.5, 0),
            (-1.5, -2),
            (998.5, 998),
            (999.49, 999),
        ];
        for (x, want) in cases {
            assert_eq!(round_to_i64(x), Some(want), "round({x})");
        }
    }

    #[test]
    fn ties_are_decided_on_the_exact_double() {
        // Values printed by CPython: only an exact .5 is a tie.
        assert_eq!(round_to_i64(0.5000000000000001), Some(1));
        assert_eq!(round_to_i64(2.5000000000000004), Some(3));
        assert_eq!(round_to_i64(2.4999999999999996), Some(2));
        assert_eq!(
            round_to_i64(2.675 * 100.0),
            Some(268),
            "2.675 * 100.0 is exactly 267.5"
        );
        assert_eq!(round_to_i64(0.49999999999999994), Some(0));
        assert_eq!(round_to_i64(4503599627370497.0), Some(4503599627370497));
    }

    #[test]
    fn non_finite_has_no_integer() {
        assert_eq!(round_to_i64(f64::NAN), None);
        assert_eq!(round_to_i64(f64::INFINITY), None);
        assert_eq!(round_to_i64(1e300), None);
    }
}
