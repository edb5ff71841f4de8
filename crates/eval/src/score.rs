//! Scores exactly as the course computes them: the answer read as the V2 evaluator's
//! `post_process` reads it, the error and its colour, and every metric to the last bit
//! of the float: Python 3.12's `sum` (compensated), `math.log`, numpy's pairwise sums
//! (scikit-learn's `mean_squared_error` and `r2_score`), `itertools.accumulate`.

use pricer_pycompat::builtins::sum_floats_py312;
use pricer_pycompat::float::parse_float_in;
use pricer_pycompat::numpy::pairwise_sum;
use pricer_pycompat::re::search_number;
use pricer_pycompat::unicode::PY312;
use serde::Serialize;

/// What a predictor gave for an item.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// Text (an LLM's answer, a CSV cell): read by [`post_process`].
    Text(String),
    /// A number (a baseline's, a numeric cell): used as it is.
    Number(f64),
}

impl Answer {
    /// The guess the course takes from it.
    pub fn guess(&self) -> f64 {
        match self {
            Answer::Text(t) => post_process(t),
            Answer::Number(x) => *x,
        }
    }
}

/// The V2 evaluator's `post_process`: `$` and `,` removed, the first number matched by
/// `[-+]?\d*\.\d+|\d+`, as `float()`; 0 when there is none.
pub fn post_process(value: &str) -> f64 {
    let cleaned = value.replace(['$', ','], "");
    search_number(&cleaned, PY312)
        .and_then(|m| parse_float_in(m, PY312))
        .unwrap_or(0.0)
}

/// The course's colour of an error: green when under $40 or 20%, orange under $80 or
/// 40%, else red.
pub fn colour(error: f64, truth: f64) -> &'static str {
    if error < 40.0 || error / truth < 0.2 {
        "green"
    } else if error < 80.0 || error / truth < 0.4 {
        "orange"
    } else {
        "red"
    }
}

/// The figures of one predictor on the first `size` items, as the course prints them
/// (V1's `Tester.report`, V2's `Tester.report` and `error_trend_chart`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub size: usize,
    /// `sum(errors) / size`.
    pub average_error: f64,
    /// V1: `sqrt(sum(sles) / size)` with `sle = (log(truth + 1) - log(guess + 1)) ** 2`;
    /// None where Python's `math.log` raises (a guess of -1 or less).
    pub rmsle: Option<f64>,
    /// V1: `hits / size * 100`, hits being the green items.
    pub hits_pct: f64,
    /// V2: scikit-learn's `mean_squared_error(truths, guesses)`.
    pub mse: f64,
    /// V2: scikit-learn's `r2_score(truths, guesses) * 100`.
    pub r2_pct: f64,
    /// V2: the running mean of the errors after the last item (`accumulate` / n) and its
    /// 95% interval, `1.96 * sd / sqrt(n)`; None where `math.sqrt` raises (a variance
    /// rounded below zero).
    pub running_mean: f64,
    pub ci95: Option<f64>,
}

/// The metrics of `guesses` against `truths` (the first `size` items of each).
pub fn metrics(guesses: &[f64], truths: &[f64]) -> Metrics {
    let n = guesses.len().min(truths.len());
    let (g, t) = (&guesses[..n], &truths[..n]);
    let size = n as f64;
    let errors: Vec<f64> = g.iter().zip(t).map(|(g, t)| (g - t).abs()).collect();
    let average_error = sum_floats_py312(errors.iter().copied()) / size;
    let sles: Option<Vec<f64>> = g
        .iter()
        .zip(t)
        .map(|(&g, &t)| (g + 1.0 > 0.0).then(|| ((t + 1.0).ln() - (g + 1.0).ln()).powi(2)))
        .collect();
    let rmsle = sles.map(|s| (sum_floats_py312(s) / size).sqrt());
    let hits = errors
        .iter()
        .zip(t)
        .filter(|(e, t)| colour(**e, **t) == "green")
        .count();
    let (mse, r2_pct) = sklearn(t, g);
    let (running_mean, ci95) = running(&errors);
    Metrics {
        size: n,
        average_error,
        rmsle,
        hits_pct: hits as f64 / size * 100.0,
        mse,
        r2_pct,
        running_mean,
        ci95,
    }
}

/// scikit-learn's `mean_squared_error` and `r2_score * 100` for one output: numpy's
/// pairwise sums over the squared differences (and over the truths for their mean).
fn sklearn(truths: &[f64], guesses: &[f64]) -> (f64, f64) {
    let n = truths.len() as f64;
    let sq: Vec<f64> = truths
        .iter()
        .zip(guesses)
        .map(|(t, g)| (t - g).powi(2))
        .collect();
    let numerator = pairwise_sum(&sq);
    let mse = numerator / n;
    let mean = pairwise_sum(truths) / n;
    let dev: Vec<f64> = truths.iter().map(|t| (t - mean).powi(2)).collect();
    let denominator = pairwise_sum(&dev);
    // force_finite: a constant truth gives 1 for a perfect fit, else 0.
    let r2 = if denominator != 0.0 {
        1.0 - numerator / denominator
    } else if numerator == 0.0 {
        1.0
    } else {
        0.0
    };
    (mse, r2 * 100.0)
}

/// The V2 evaluator's running mean after each item and its 95% interval there,
/// `1.96 * sd / sqrt(i)` (0 for the first item); None where the running variance rounds
/// below zero and `math.sqrt` raises.
pub fn running_series(errors: &[f64]) -> Vec<(f64, Option<f64>)> {
    let (mut sum, mut squares) = (0.0f64, 0.0f64);
    errors
        .iter()
        .enumerate()
        .map(|(k, e)| {
            let i = (k + 1) as f64;
            sum += e;
            squares += e * e;
            let mean = sum / i;
            let var = squares / i - mean.powi(2);
            let ci = if k == 0 {
                Some(0.0)
            } else {
                (var >= 0.0).then(|| 1.96 * (var.sqrt() / i.sqrt()))
            };
            (mean, ci)
        })
        .collect()
}

/// The running mean and 95% interval after the last item. The course computes every
/// step's interval: one `math.sqrt` of a variance rounded below zero raises, and there
/// is no final figure.
fn running(errors: &[f64]) -> (f64, Option<f64>) {
    let series = running_series(errors);
    let mean = series.last().map_or(0.0, |s| s.0);
    let ci = if series.iter().all(|s| s.1.is_some()) {
        series.last().map_or(Some(0.0), |s| s.1)
    } else {
        None
    };
    (mean, ci)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_read_as_the_course_reads_them() {
        for (answer, want) in [
            ("$1,299.99", 1299.99),
            ("about 45", 45.0),
            ("-3", 3.0),
            ("", 0.0),
            ("no idea", 0.0),
            ("1e3", 1.0),
            ("12.5.3", 12.5),
            ("Price is $-.5", -0.5),
        ] {
            assert_eq!(post_process(answer), want, "{answer:?}");
        }
        assert_eq!(colour(39.9, 1000.0), "green");
        assert_eq!(colour(50.0, 300.0), "green");
        assert_eq!(colour(79.0, 100.0), "orange");
        assert_eq!(colour(200.0, 400.0), "red");
    }

    #[test]
    fn a_guess_below_minus_one_has_no_rmsle() {
        let m = metrics(&[-1.5, 10.0], &[12.0, 10.0]);
        assert_eq!(m.rmsle, None);
        assert_eq!(m.average_error, 6.75);
        assert_eq!(m.hits_pct, 100.0);
    }
}
