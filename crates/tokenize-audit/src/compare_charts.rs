//! Charts that put two sets side by side: two price distributions on the same bins (as
//! shares, so sets of different sizes compare), and grouped bars per category.

use std::fmt::Write as _;

use crate::balance::PriceComparison;
use pricer_charts::{
    esc, fmt_tick, short_name, Frame, BOTTOM, HEIGHT, LEFT, PALETTE, RIGHT, TOP, WIDTH,
};

/// Colours of the two sets: the first as filled bars, the second as a line over them.
pub const SET_COLORS: [&str; 2] = [PALETTE[0], PALETTE[1]];

fn legend(svg: &mut String, names: &[String]) {
    for (i, name) in names.iter().enumerate() {
        let y = TOP + 8.0 + i as f64 * 18.0;
        let x = WIDTH - RIGHT - 250.0;
        let _ = write!(
            svg,
            r##"<rect x="{x}" y="{}" width="14" height="10" fill="{}" fill-opacity="{}"/><text x="{}" y="{y:.1}" font-size="12" font-family="sans-serif">{}</text>"##,
            y - 9.0,
            SET_COLORS[i],
            if i == 0 { "0.6" } else { "1" },
            x + 20.0,
            esc(name)
        );
    }
}

/// Two price distributions on the same bins, each as the percentage of its own set: the
/// first as bars, the second as a step line over them.
pub fn compare_histogram(id: &str, title: &str, x_label: &str, c: &PriceComparison) -> String {
    let pct = |n: u64, set: usize| {
        if c.totals[set] == 0 {
            0.0
        } else {
            100.0 * n as f64 / c.totals[set] as f64
        }
    };
    let x_max = c.bins.last().map_or(c.bin_width, |b| b.high);
    let y_max = c
        .bins
        .iter()
        .map(|b| pct(b.a, 0).max(pct(b.b, 1)))
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.1;
    let mut f = Frame::new(id, title, x_label, "% of the set", 0.0, x_max, y_max).with_axes();
    for b in c.bins.iter().filter(|b| b.a > 0) {
        let (x0, x1, y) = (f.px(b.low), f.px(b.high), f.py(pct(b.a, 0)));
        let _ = write!(
            f.svg,
            r##"<rect class="mark" x="{x0:.1}" y="{y:.1}" width="{:.2}" height="{:.1}" fill="{}" fill-opacity="0.6"><title>${}–${}: {} {} ({:.2}%)</title></rect>"##,
            (x1 - x0 - 0.5).max(0.5),
            HEIGHT - BOTTOM - y,
            SET_COLORS[0],
            fmt_tick(b.low),
            fmt_tick(b.high),
            b.a,
            esc(&c.sets[0]),
            pct(b.a, 0)
        );
    }
    let mut line = String::new();
    for b in &c.bins {
        let y = f.py(pct(b.b, 1));
        let _ = write!(
            line,
            "{:.1},{y:.1} {:.1},{y:.1} ",
            f.px(b.low),
            f.px(b.high)
        );
    }
    if !c.bins.is_empty() && c.totals[1] > 0 {
        let _ = write!(
            f.svg,
            r##"<polyline class="mark" points="{}" fill="none" stroke="{}" stroke-width="2"><title>{}</title></polyline>"##,
            line.trim_end(),
            SET_COLORS[1],
            esc(&c.sets[1])
        );
    }
    let names = [0, 1].map(|i| {
        format!(
            "{} ({} items, mean ${:.2})",
            c.sets[i], c.totals[i], c.mean_price[i]
        )
    });
    legend(&mut f.svg, &names);
    f.finish()
}

/// Per label, one bar for each series (`values[s][label]`), with the label under them.
pub fn grouped_bars(
    id: &str,
    title: &str,
    y_label: &str,
    labels: &[String],
    series: &[String; 2],
    values: &[Vec<f64>; 2],
    value_text: fn(f64) -> String,
) -> String {
    let n = labels.len().max(1) as f64;
    let y_max = values
        .iter()
        .flatten()
        .copied()
        .fold(0.0, f64::max)
        .max(1e-9)
        * 1.15;
    let mut f = Frame::new(id, title, "", y_label, 0.0, n, y_max);
    f.x_ticks = false;
    let mut f = f.with_axes();
    let slot = (WIDTH - LEFT - RIGHT) / n;
    let bar = slot * 0.38;
    for (i, label) in labels.iter().enumerate() {
        let x0 = LEFT + i as f64 * slot + slot * 0.1;
        for (s, vals) in values.iter().enumerate() {
            let v = vals.get(i).copied().unwrap_or(0.0);
            let (x, y) = (x0 + s as f64 * bar, f.py(v));
            let _ = write!(
                f.svg,
                r##"<rect class="mark" x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}, {}: {}</title></rect>"##,
                bar - 1.0,
                HEIGHT - BOTTOM - y,
                SET_COLORS[s],
                esc(label),
                esc(&series[s]),
                value_text(v)
            );
        }
        let cx = x0 + bar;
        let _ = write!(
            f.svg,
            r##"<text x="{cx:.1}" y="{:.1}" font-size="10" font-family="sans-serif" text-anchor="end" transform="rotate(-25 {cx:.1} {:.1})">{}</text>"##,
            HEIGHT - BOTTOM + 14.0,
            HEIGHT - BOTTOM + 14.0,
            esc(&short_name(label))
        );
    }
    legend(&mut f.svg, &series.clone());
    f.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balance::BinPair;

    #[test]
    fn two_sets_on_one_chart() {
        let c = PriceComparison {
            sets: ["items".into(), "dataset".into()],
            totals: [4, 2],
            mean_price: [12.0, 15.0],
            bin_width: 10.0,
            bins: vec![
                BinPair {
                    low: 0.0,
                    high: 10.0,
                    a: 1,
                    b: 0,
                },
                BinPair {
                    low: 10.0,
                    high: 20.0,
                    a: 3,
                    b: 2,
                },
            ],
            off_scale: [0, 0],
        };
        let svg = compare_histogram("p", "Prices", "price ($)", &c);
        assert!(svg.contains(">Prices</text>") && svg.contains("items (4 items, mean $12.00)"));
        assert_eq!(svg.matches("<rect class=\"mark\"").count(), 2);
        assert!(svg.contains("(75.00%)") && svg.contains("<polyline class=\"mark\""));
        let g = grouped_bars(
            "g",
            "Shares",
            "%",
            &["A".into(), "B_c".into()],
            &["items".into(), "dataset".into()],
            &[vec![75.0, 25.0], vec![50.0, 50.0]],
            |v| format!("{v:.1}%"),
        );
        assert_eq!(g.matches("<rect class=\"mark\"").count(), 4);
        assert!(g.contains("B c</text>") && g.contains("A, dataset: 50.0%"));
    }
}
