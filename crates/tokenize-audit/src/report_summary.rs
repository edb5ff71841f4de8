//! The report's header (the run at a glance) and its balancing section: each chart with
//! its numbers in a table under it.

use std::fmt::Write as _;

use crate::balance::{Balance, PriceComparison};
use crate::report::esc;
use crate::run::Audit;
use crate::svg;

fn pct(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        100.0 * n as f64 / of as f64
    }
}

/// Counts at each stage, rejects by reason and stage, the settings.
pub fn summary(h: &mut String, a: &Audit) {
    let r = &a.run;
    h.push_str("<section id=\"summary\" class=\"summary\"><div><h2>Counts at each stage</h2><table><tr><th class=\"l\">stage</th><th>rows in</th><th>kept</th><th>rejected</th></tr>");
    for s in &r.stages {
        let _ = write!(
            h,
            "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&s.stage),
            s.rows_in,
            s.kept,
            s.rejected
        );
    }
    h.push_str("</table>");
    if let Some(sample) = r.sample {
        let _ = write!(
            h,
            "<p>Balanced sample: {sample} items; dataset: {} train + {} test.</p>",
            r.train.unwrap_or(0),
            r.test.unwrap_or(0)
        );
    }
    h.push_str("</div><div><h2>Rejects by reason</h2><table><tr><th class=\"l\">stage</th><th class=\"l\">reason</th><th>rows</th></tr>");
    for x in &r.rejects {
        let _ = write!(
            h,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td></tr>",
            esc(&x.stage),
            esc(&x.reason),
            x.rows
        );
    }
    if r.rejects.is_empty() {
        h.push_str("<tr><td class=\"l\" colspan=\"3\">none</td></tr>");
    }
    h.push_str("</table><p>Each stage writes its rejected rows, with the reason, to <code>rejects.jsonl</code> in its folder.</p></div><div><h2>Settings</h2>");
    for (stage, cfg) in &r.settings {
        let text = serde_json::to_string_pretty(cfg).unwrap_or_default();
        let _ = write!(h, "<h3>{}</h3><pre>{}</pre>", esc(stage), esc(&text));
    }
    h.push_str("</div></section>");
}

fn bins_table(h: &mut String, c: &PriceComparison) {
    let _ = write!(
        h,
        "<div class=\"scroll\"><table><tr><th>price ($)</th><th>{0}</th><th>% of {0}</th><th>{1}</th><th>% of {1}</th></tr>",
        esc(&c.sets[0]),
        esc(&c.sets[1])
    );
    for b in c.bins.iter().filter(|b| b.a + b.b > 0) {
        let _ = write!(
            h,
            "<tr><td>{:.0}–{:.0}</td><td>{}</td><td>{:.2}</td><td>{}</td><td>{:.2}</td></tr>",
            b.low,
            b.high,
            b.a,
            pct(b.a, c.totals[0]),
            b.b,
            pct(b.b, c.totals[1])
        );
    }
    let _ = write!(
        h,
        "<tr><th>all</th><th>{}</th><th>mean ${:.2}</th><th>{}</th><th>mean ${:.2}</th></tr></table></div>",
        c.totals[0], c.mean_price[0], c.totals[1], c.mean_price[1]
    );
    if c.off_scale.iter().any(|n| *n > 0) {
        let _ = write!(
            h,
            "<p>Off the scale (not finite, or beyond the last bin): {} {}, {} {}.</p>",
            c.off_scale[0],
            esc(&c.sets[0]),
            c.off_scale[1],
            esc(&c.sets[1])
        );
    }
}

/// The sample against the items it was drawn from, and train against test.
pub fn balancing(h: &mut String, b: &Balance) {
    h.push_str(
        "<h2 id=\"balancing\">What balancing did</h2><p><b>items</b>: everything the prompt stage kept, \
         which the price-balanced sample is drawn from; <b>dataset</b>: train + test, a seeded shuffle-cut of \
         that sample. Shares are of each set's own total, so sets of different sizes compare.</p><div class=\"grid\">",
    );
    h.push_str("<figure>");
    h.push_str(&svg::compare_histogram(
        "chart-balance-prices",
        "Prices before and after balancing",
        "price ($, bins of $10)",
        &b.prices,
    ));
    bins_table(h, &b.prices);
    h.push_str("</figure><figure>");
    let labels: Vec<String> = b.categories.iter().map(|c| c.category.clone()).collect();
    let sets = ["items".to_owned(), "dataset".to_owned()];
    h.push_str(&svg::grouped_bars(
        "chart-balance-shares",
        "Category shares before and after balancing",
        "% of the set",
        &labels,
        &sets,
        &[
            b.categories.iter().map(|c| 100.0 * c.items_share).collect(),
            b.categories
                .iter()
                .map(|c| 100.0 * c.dataset_share)
                .collect(),
        ],
        |v| format!("{v:.1}%"),
    ));
    h.push_str("<table><tr><th class=\"l\">category</th><th>items</th><th>share</th><th>dataset</th><th>share</th><th>change (points)</th></tr>");
    for c in &b.categories {
        let _ = write!(
            h,
            "<tr><td class=\"l\">{}</td><td>{}</td><td>{:.2}%</td><td>{}</td><td>{:.2}%</td><td>{:+.2}</td></tr>",
            esc(&c.category),
            c.items,
            100.0 * c.items_share,
            c.dataset,
            100.0 * c.dataset_share,
            100.0 * (c.dataset_share - c.items_share)
        );
    }
    h.push_str("</table></figure><figure>");
    h.push_str(&svg::grouped_bars(
        "chart-balance-means",
        "Mean price per category before and after balancing",
        "mean price ($)",
        &labels,
        &sets,
        &[
            b.categories.iter().map(|c| c.items_mean_price).collect(),
            b.categories.iter().map(|c| c.dataset_mean_price).collect(),
        ],
        |v| format!("${v:.2}"),
    ));
    h.push_str("<table><tr><th class=\"l\">category</th><th>items mean</th><th>dataset mean</th><th>change</th></tr>");
    for c in &b.categories {
        let _ = write!(
            h,
            "<tr><td class=\"l\">{}</td><td>${:.2}</td><td>${:.2}</td><td>{:+.2}</td></tr>",
            esc(&c.category),
            c.items_mean_price,
            c.dataset_mean_price,
            c.dataset_mean_price - c.items_mean_price
        );
    }
    h.push_str("</table></figure><figure>");
    h.push_str(&svg::compare_histogram(
        "chart-train-test",
        "Train and test prices",
        "price ($, bins of $10)",
        &b.train_test,
    ));
    bins_table(h, &b.train_test);
    h.push_str("</figure></div>");
}
