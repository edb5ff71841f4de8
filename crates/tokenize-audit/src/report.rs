//! report.html: every chart and table of the audit in one self-contained file.

use std::fmt::Write as _;

use crate::facts::TailView;
use crate::run::Audit;
use crate::svg;

/// Where the dataset card is, from the audit folder of a run (the export stage rewrites
/// it to `README.md` in the copy it puts beside the card).
pub const CARD_HREF: &str = "../export/hub/README.md";

/// The menu's link to the run's evaluation (the export leaves it out of the copy it puts
/// beside the card, where there is no evaluation).
pub const EVAL_LINK: &str = " · <a id=\"eval-link\" href=\"../eval/report.html\">Evaluation</a>";

pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn tail_table(v: &TailView) -> String {
    let mut s = String::from("<table class=\"tail\"><tr><th>id</th>");
    for id in &v.ids {
        let _ = write!(s, "<td>{id}</td>");
    }
    s.push_str("</tr><tr><th>piece</th>");
    for p in &v.pieces {
        let _ = write!(s, "<td><code>{}</code></td>", esc(&format!("{p:?}")));
    }
    s.push_str("</tr></table>");
    s
}

/// The report: every chart and table in one HTML file with no external references.
pub fn render(a: &Audit, points: &[(f32, f32)], eval_link: bool) -> String {
    let s = &a.stats;
    let mut h = String::new();
    h.push_str(&pricer_charts::page_head("pricer audit"));
    let _ = write!(
        h,
        "<h1>pricer audit</h1><nav><a href=\"#summary\">Summary</a> · <a href=\"#balancing\">Balancing</a> · \
         <a href=\"#items\">Items</a> · <a href=\"#tokens\">Prices as tokens</a> · <a href=\"#tails\">Last tokens</a> · \
         <a id=\"card-link\" href=\"{CARD_HREF}\">Dataset card</a> · <a href=\"audit.json\">audit.json</a>{}</nav>",
        if eval_link { EVAL_LINK } else { "" }
    );
    crate::report_summary::summary(&mut h, a);
    if let Some(b) = &a.balance {
        crate::report_summary::balancing(&mut h, b);
    }
    let _ = write!(
        h,
        "<h2 id=\"items\">The items</h2><p>{} items; tokens per prompt mean {:.1}, max {}; price mean ${:.2}, max ${:.2}; \
         prompt length vs price r = {:.3}.</p>",
        s.items, s.token_count_mean, s.token_count_max, s.price_mean, s.price_max, s.chars_price_correlation
    );
    h.push_str("<div class=\"grid\">");
    for c in &charts(a, points) {
        let _ = write!(h, "<figure>{c}</figure>");
    }
    h.push_str("</div>");
    token_tables(&mut h, a);
    tails(&mut h, a);
    h.push_str("</body></html>\n");
    h
}

/// The items' charts, as SVG.
fn charts(a: &Audit, points: &[(f32, f32)]) -> Vec<String> {
    let s = &a.stats;
    let scatter_title = if (points.len() as u64) < s.items {
        format!(
            "Prompt length vs price ({} items, {} of them plotted at random, r = {:.3})",
            s.items,
            points.len(),
            s.chars_price_correlation
        )
    } else {
        format!(
            "Prompt length vs price ({} items, r = {:.3})",
            s.items, s.chars_price_correlation
        )
    };
    let mut charts = vec![
        svg::scatter(
            "chart-scatter",
            &scatter_title,
            "prompt length (characters)",
            "price ($)",
            points,
        ),
        svg::histogram(
            "chart-tokens",
            "Tokens per prompt",
            "tokens (Llama 3.1)",
            "items",
            &s.token_counts.bins,
            svg::PALETTE[0],
        ),
        svg::histogram(
            "chart-prices",
            "Prices",
            "price ($, bins of $10)",
            "items",
            &s.prices.bins,
            svg::PALETTE[1],
        ),
        svg::bars(
            "chart-category-bars",
            "Items per category",
            "items",
            &s.categories,
        ),
        svg::donut(
            "chart-category-donut",
            "Share of items per category",
            &s.categories,
        ),
    ];
    if let Some(t) = &a.test_head {
        charts.push(svg::histogram(
            "chart-test-prices",
            &format!(
                "Prices of the first {} test items (mean ${:.2})",
                t.items, t.mean_price
            ),
            "price ($, bins of $25)",
            "items",
            &t.prices.bins,
            svg::PALETTE[4],
        ));
    }
    charts
}

/// Prices as tokens for every tokenizer, tokens per prompt side by side, items per
/// category.
fn token_tables(h: &mut String, a: &Audit) {
    h.push_str("<h2 id=\"tokens\">Prices as tokens</h2><p>Tokens that a price 1..=999 takes where prompts show it (<code>Price is $N.00</code>).</p>");
    h.push_str("<table><tr><th>tokenizer</th><th>single-token prices</th><th>mean tokens per price</th><th>max</th><th>price stays one token?</th><th>first exceptions</th></tr>");
    for f in &a.price_facts {
        let ex: Vec<String> = f.exceptions.iter().take(10).map(u32::to_string).collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{} of {}</td><td>{:.2}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&f.tokenizer),
            f.single_token,
            f.prices,
            f.mean_tokens_per_price,
            f.max_tokens_per_price,
            if f.exceptions.is_empty() { "yes" } else { "no" },
            ex.join(", ")
        );
    }
    h.push_str("</table><h2>Tokens per prompt, side by side</h2>");
    h.push_str(
        "<table><tr><th>tokenizer</th><th>prompts</th><th>mean tokens</th><th>max tokens</th></tr>",
    );
    for p in &a.prompt_tokens {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td></tr>",
            esc(&p.tokenizer),
            p.prompts,
            p.mean_tokens,
            p.max_tokens
        );
    }
    h.push_str(
        "</table><h2>Items per category</h2><table><tr><th>category</th><th>items</th></tr>",
    );
    for (c, n) in &a.stats.categories {
        let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", esc(c));
    }
    h.push_str("</table>");
}

/// The known answer's last tokens and each item shown with its own.
fn tails(h: &mut String, a: &Audit) {
    h.push_str("<h2 id=\"tails\">The last tokens of a prompt</h2>");
    let _ = write!(
        h,
        "<p>Known answer (SPEC 5): <code>{}</code></p>{}",
        esc(&format!("{:?}", a.known_tail.text)),
        tail_table(&a.known_tail)
    );
    for (pos, v) in &a.item_views {
        let _ = write!(
            h,
            "<h3>Item {pos}</h3><pre>{}</pre>{}",
            esc(&v.text),
            tail_table(v)
        );
    }
}
