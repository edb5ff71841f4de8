//! `eval/report.html`: the leaderboard of every predictor, then per predictor the
//! course's two charts (truth against guess coloured by error, the running mean error
//! with its 95% interval) and its worst items. One self-contained page, the audit
//! report's style.

use std::fmt::Write as _;

use pricer_charts::{band_line, dots, esc, page_head};
use pricer_core::recipe::Recipe;

use crate::run::Scored;

/// The worst items shown per predictor.
const WORST: usize = 10;

fn opt(x: Option<f64>, f: impl Fn(f64) -> String) -> String {
    x.map_or_else(|| "—".into(), f)
}

/// The page for `scored` predictors of a `recipe` run.
pub fn render(recipe: Recipe, scored: &[Scored]) -> String {
    let mut h = page_head("pricer evaluation");
    h.push_str(
        "<h1>pricer evaluation</h1><nav><a href=\"#leaderboard\">Leaderboard</a> · \
         <a href=\"metrics.json\">metrics.json</a> · <a href=\"../audit/report.html\">Audit report</a></nav>",
    );
    leaderboard(&mut h, recipe, scored);
    for s in scored {
        predictor(&mut h, s);
    }
    h.push_str("</body></html>\n");
    h
}

fn leaderboard(h: &mut String, recipe: Recipe, scored: &[Scored]) {
    let v1 = recipe == Recipe::V1;
    let _ = write!(
        h,
        "<h2 id=\"leaderboard\">Leaderboard</h2><p>Each predictor on the first test items, scored as the course's \
         {} does; best average error first.</p><table id=\"leaderboard-table\"><tr><th class=\"l\">predictor</th>\
         <th class=\"l\">kind</th><th>items</th><th>average error</th>{}<th>running mean ± 95%</th><th>calls</th><th>cost</th></tr>",
        if v1 { "V1 <code>Tester</code>" } else { "V2 <code>evaluate</code>" },
        if v1 { "<th>RMSLE</th><th>hits</th><th>MSE</th><th>r²</th>" } else { "<th>MSE</th><th>r²</th><th>RMSLE</th><th>hits</th>" }
    );
    let mut order: Vec<&Scored> = scored.iter().collect();
    order.sort_by(|a, b| a.metrics.average_error.total_cmp(&b.metrics.average_error));
    for s in order {
        let m = &s.metrics;
        let (rmsle, hits) = (
            opt(m.rmsle, |x| format!("{x:.2}")),
            format!("{:.1}%", m.hits_pct),
        );
        let (mse, r2) = (format!("{:.0}", m.mse), format!("{:.1}%", m.r2_pct));
        let cells = if v1 {
            [rmsle, hits, mse, r2]
        } else {
            [mse, r2, rmsle, hits]
        };
        let _ = write!(
            h,
            "<tr><td class=\"l\"><a href=\"#p-{n}\">{n}</a></td><td class=\"l\">{}</td><td>{}</td><td>${:.2}</td>{}\
             <td>${:.2} ± {}</td><td>{}</td><td>${:.4}</td></tr>",
            s.kind,
            m.size,
            m.average_error,
            cells.iter().map(|c| format!("<td>{c}</td>")).collect::<String>(),
            m.running_mean,
            opt(m.ci95, |x| format!("${x:.2}")),
            s.calls,
            s.cost,
            n = esc(&s.name),
        );
    }
    h.push_str("</table>");
}

fn predictor(h: &mut String, s: &Scored) {
    let m = &s.metrics;
    let _ = write!(
        h,
        "<h2 id=\"p-{n}\">{n}</h2><p>Average error ${:.2}, RMSLE {}, hits {:.1}%, MSE {:.0}, r² {:.1}%{}.</p><div class=\"grid\">",
        m.average_error,
        opt(m.rmsle, |x| format!("{x:.2}")),
        m.hits_pct,
        m.mse,
        m.r2_pct,
        if s.rejects > 0 { format!("; {} rows of its file gave no answer (rejects.jsonl)", s.rejects) } else { String::new() },
        n = esc(&s.name)
    );
    let points: Vec<(f64, f64, &str, String)> = s
        .rows
        .iter()
        .map(|r| {
            (
                r.truth,
                r.guess,
                r.colour,
                format!("{}: guess ${:.2}, truth ${:.2}", r.title, r.guess, r.truth),
            )
        })
        .collect();
    let id = |what: &str| format!("{what}-{}", s.name);
    let _ = write!(
        h,
        "<figure>{}</figure>",
        dots(
            &id("chart-truth-guess"),
            &format!("{}: guess against truth", s.name),
            "truth ($)",
            "guess ($)",
            &points
        )
    );
    let (line, band) = running_band(s);
    let _ = write!(
        h,
        "<figure>{}</figure></div>",
        band_line(
            &id("chart-running-error"),
            &format!(
                "{}: error ${:.2} ± {}",
                s.name,
                m.running_mean,
                opt(m.ci95, |x| format!("${x:.2}"))
            ),
            "items",
            "average absolute error ($)",
            &line,
            &band
        )
    );
    worst_items(h, s);
}

/// The predictor's worst items, by error.
fn worst_items(h: &mut String, s: &Scored) {
    let mut worst: Vec<&crate::run::Row> = s.rows.iter().collect();
    worst.sort_by(|a, b| b.error.total_cmp(&a.error));
    h.push_str("<table class=\"worst\"><tr><th>item</th><th class=\"l\">title</th><th>truth</th><th>guess</th><th>error</th><th class=\"l\">answer</th></tr>");
    for r in worst.into_iter().take(WORST) {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"l\">{}</td><td>${:.2}</td><td>${:.2}</td><td>${:.2}</td><td class=\"l\"><code>{}</code></td></tr>",
            r.item,
            esc(&r.title),
            r.truth,
            r.guess,
            r.error,
            esc(r.answer.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</table>");
}

/// The running mean error after each item and its 95% band, as the V2 evaluator's chart
/// draws them (an interval the course cannot compute drawn as none).
fn running_band(s: &Scored) -> (Vec<f64>, Vec<(f64, f64)>) {
    let errors: Vec<f64> = s.rows.iter().map(|r| r.error).collect();
    crate::score::running_series(&errors)
        .into_iter()
        .map(|(mean, ci)| {
            let ci = ci.unwrap_or(0.0);
            (mean, (mean - ci, mean + ci))
        })
        .unzip()
}
