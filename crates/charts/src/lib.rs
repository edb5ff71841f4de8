//! Charts as self-contained SVG: titles, labelled axes, ticks. No fonts, scripts or
//! network needed to view them. The scatter rasterises its points into an embedded PNG,
//! so hundreds of thousands of points render at once.

use std::fmt::Write as _;

use base64::Engine as _;

pub const WIDTH: f64 = 720.0;
pub const HEIGHT: f64 = 420.0;
pub const LEFT: f64 = 70.0;
pub const RIGHT: f64 = 20.0;
pub const TOP: f64 = 40.0;
pub const BOTTOM: f64 = 60.0;
pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The start of every report page (up to and including `<body>`): the head with its
/// title and the one style the reports share.
pub fn page_head(title: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body>",
        esc(title)
    )
}

/// The reports' style sheet.
const STYLE: &str = "\
    body{font-family:sans-serif;max-width:1800px;margin:24px auto;padding:0 16px;color:#222}\
    nav{margin-bottom:12px}nav a{margin:0 2px}\
    table{border-collapse:collapse;margin:8px 0 12px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
    th{background:#f4f4f4}td.l,th.l{text-align:left}.tail td{font-size:12px}\
    .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:16px;align-items:start}\
    figure{margin:0;border:1px solid #ddd;padding:8px;break-inside:avoid}\
    .chart{width:100%;height:auto;display:block}.scroll{max-height:240px;overflow:auto}\
    .summary{display:grid;grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:16px;align-items:start}\
    pre{background:#f7f7f7;padding:8px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:12px}\
    @media print{body{max-width:none}.grid{grid-template-columns:1fr 1fr}.scroll{max-height:none;overflow:visible}nav{display:none}}\
    ";

/// About `n` round tick values covering 0..=max.
pub fn ticks(max: f64, n: usize) -> Vec<f64> {
    if max <= 0.0 || !max.is_finite() {
        return vec![0.0];
    }
    let raw = max / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    (0..)
        .map(|i| i as f64 * step)
        .take_while(|t| *t <= max * 1.0001)
        .collect()
}

pub fn fmt_tick(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{}k", (v / 1000.0).round())
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A chart's frame: its SVG so far, the axes' ranges and how values map to pixels.
pub struct Frame {
    pub svg: String,
    pub x_max: f64,
    pub y_max: f64,
    pub x_min: f64,
    /// Numeric x ticks (off for category axes, which label their own bars).
    pub x_ticks: bool,
}

impl Frame {
    pub fn new(
        id: &str,
        title: &str,
        x_label: &str,
        y_label: &str,
        x_min: f64,
        x_max: f64,
        y_max: f64,
    ) -> Frame {
        let mut svg = String::new();
        let _ = write!(
            svg,
            r##"<svg id="{id}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{t}"><rect width="100%" height="100%" fill="#fff"/><text x="{cx}" y="24" text-anchor="middle" font-size="16" font-weight="bold" font-family="sans-serif">{t}</text><text x="{cx}" y="{xl}" text-anchor="middle" font-size="13" font-family="sans-serif">{xlab}</text><text transform="translate(16 {cy}) rotate(-90)" text-anchor="middle" font-size="13" font-family="sans-serif">{ylab}</text>"##,
            t = esc(title),
            cx = LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
            cy = TOP + (HEIGHT - TOP - BOTTOM) / 2.0,
            xl = HEIGHT - 14.0,
            xlab = esc(x_label),
            ylab = esc(y_label),
        );
        Frame {
            svg,
            x_max: x_max.max(x_min + 1e-9),
            y_max: y_max.max(1e-9),
            x_min,
            x_ticks: true,
        }
    }

    pub fn with_axes(mut self) -> Frame {
        self.axes();
        self
    }

    pub fn px(&self, x: f64) -> f64 {
        LEFT + (x - self.x_min) / (self.x_max - self.x_min) * (WIDTH - LEFT - RIGHT)
    }

    pub fn py(&self, y: f64) -> f64 {
        HEIGHT - BOTTOM - y / self.y_max * (HEIGHT - TOP - BOTTOM)
    }

    pub fn axes(&mut self) {
        let (x0, y0, x1, y1) = (LEFT, HEIGHT - BOTTOM, WIDTH - RIGHT, TOP);
        let _ = write!(
            self.svg,
            r##"<g font-family="sans-serif" font-size="11" fill="#333">"##
        );
        for t in ticks(self.y_max, 5) {
            let y = self.py(t);
            let _ = write!(
                self.svg,
                r##"<line x1="{x0}" x2="{x1}" y1="{y:.1}" y2="{y:.1}" stroke="#e5e5e5"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                x0 - 6.0,
                y + 4.0,
                fmt_tick(t)
            );
        }
        let x_ticks = if self.x_ticks {
            ticks(self.x_max - self.x_min, 8)
        } else {
            Vec::new()
        };
        for t in x_ticks {
            let x = self.px(self.x_min + t);
            let _ = write!(
                self.svg,
                r##"<line x1="{x:.1}" x2="{x:.1}" y1="{y0}" y2="{}" stroke="#333"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
                y0 + 5.0,
                y0 + 18.0,
                fmt_tick(self.x_min + t)
            );
        }
        let _ = write!(
            self.svg,
            r##"<line x1="{x0}" x2="{x1}" y1="{y0}" y2="{y0}" stroke="#333"/><line x1="{x0}" x2="{x0}" y1="{y0}" y2="{y1}" stroke="#333"/></g>"##
        );
    }

    pub fn finish(mut self) -> String {
        self.svg.push_str("</svg>");
        self.svg
    }
}

/// One bar per bin `(lo, hi, count)`.
pub fn histogram(
    id: &str,
    title: &str,
    x_label: &str,
    y_label: &str,
    bins: &[(f64, f64, u64)],
    color: &str,
) -> String {
    let x_min = bins.first().map_or(0.0, |b| b.0);
    let x_max = bins.last().map_or(1.0, |b| b.1);
    let y_max = bins.iter().map(|b| b.2).max().unwrap_or(1) as f64 * 1.05;
    let mut f = Frame::new(id, title, x_label, y_label, x_min, x_max, y_max).with_axes();
    for &(lo, hi, n) in bins.iter().filter(|b| b.2 > 0) {
        let (x0, x1, y) = (f.px(lo), f.px(hi), f.py(n as f64));
        let _ = write!(
            f.svg,
            r##"<rect class="mark" x="{x0:.1}" y="{y:.1}" width="{:.2}" height="{:.1}" fill="{color}"><title>{}–{}: {n}</title></rect>"##,
            (x1 - x0 - 0.5).max(0.5),
            HEIGHT - BOTTOM - y,
            fmt_tick(lo),
            fmt_tick(hi)
        );
    }
    f.finish()
}

/// Vertical bars with category labels.
pub fn bars(id: &str, title: &str, y_label: &str, items: &[(String, u64)]) -> String {
    let n = items.len().max(1) as f64;
    let y_max = items.iter().map(|i| i.1).max().unwrap_or(1) as f64 * 1.1;
    let mut f = Frame::new(id, title, "", y_label, 0.0, n, y_max);
    f.x_ticks = false;
    let mut f = f.with_axes();
    let slot = (WIDTH - LEFT - RIGHT) / n;
    for (i, (name, count)) in items.iter().enumerate() {
        let x = LEFT + i as f64 * slot + slot * 0.15;
        let y = f.py(*count as f64);
        let _ = write!(
            f.svg,
            r##"<rect class="mark" x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{}: {count}</title></rect><text x="{:.1}" y="{:.1}" font-size="10" font-family="sans-serif" text-anchor="end" transform="rotate(-25 {:.1} {:.1})">{}</text><text x="{:.1}" y="{:.1}" font-size="10" font-family="sans-serif" text-anchor="middle">{count}</text>"##,
            slot * 0.7,
            HEIGHT - BOTTOM - y,
            PALETTE[i % PALETTE.len()],
            esc(name),
            x + slot * 0.35,
            HEIGHT - BOTTOM + 14.0,
            x + slot * 0.35,
            HEIGHT - BOTTOM + 14.0,
            esc(&short_name(name)),
            x + slot * 0.35,
            y - 3.0
        );
    }
    // Axis label placement leaves no room for an x label under rotated names.
    f.finish()
}

pub fn short_name(name: &str) -> String {
    let s = name.replace('_', " ");
    if s.chars().count() > 18 {
        format!("{}…", s.chars().take(17).collect::<String>())
    } else {
        s
    }
}

/// A donut of shares with a legend.
pub fn donut(id: &str, title: &str, items: &[(String, u64)]) -> String {
    let total: u64 = items.iter().map(|i| i.1).sum::<u64>().max(1);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg id="{id}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{t}"><rect width="100%" height="100%" fill="#fff"/><text x="{}" y="24" text-anchor="middle" font-size="16" font-weight="bold" font-family="sans-serif">{t}</text>"##,
        WIDTH / 2.0,
        t = esc(title)
    );
    let (cx, cy, r, inner) = (220.0, 225.0, 160.0, 90.0);
    let mut angle = -std::f64::consts::FRAC_PI_2;
    for (i, (name, count)) in items.iter().enumerate() {
        let share = *count as f64 / total as f64;
        let sweep = share * std::f64::consts::TAU;
        let color = PALETTE[i % PALETTE.len()];
        if share >= 0.9999 {
            let _ = write!(
                svg,
                r##"<circle class="mark" cx="{cx}" cy="{cy}" r="{}" fill="none" stroke="{color}" stroke-width="{}"/>"##,
                (r + inner) / 2.0,
                r - inner
            );
        } else if share > 0.0 {
            let (a0, a1) = (angle, angle + sweep);
            let p = |a: f64, rad: f64| (cx + rad * a.cos(), cy + rad * a.sin());
            let (o0, o1, i1, i0) = (p(a0, r), p(a1, r), p(a1, inner), p(a0, inner));
            let large = i32::from(sweep > std::f64::consts::PI);
            let _ = write!(
                svg,
                r##"<path class="mark" d="M{:.2} {:.2} A{r} {r} 0 {large} 1 {:.2} {:.2} L{:.2} {:.2} A{inner} {inner} 0 {large} 0 {:.2} {:.2} Z" fill="{color}" stroke="#fff"><title>{}: {count} ({:.1}%)</title></path>"##,
                o0.0,
                o0.1,
                o1.0,
                o1.1,
                i1.0,
                i1.1,
                i0.0,
                i0.1,
                esc(name),
                share * 100.0
            );
        }
        angle += sweep;
        let ly = 70.0 + i as f64 * 24.0;
        let _ = write!(
            svg,
            r##"<rect x="420" y="{:.1}" width="14" height="14" fill="{color}"/><text x="442" y="{:.1}" font-size="12" font-family="sans-serif">{} — {count} ({:.1}%)</text>"##,
            ly - 11.0,
            ly,
            esc(&name.replace('_', " ")),
            share * 100.0
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{cx}" y="{}" text-anchor="middle" font-size="14" font-family="sans-serif">{total} items</text></svg>"##,
        cy + 5.0
    );
    svg
}

/// Points `(x, y)` rasterised by density into an embedded PNG inside an SVG frame.
pub fn scatter(
    id: &str,
    title: &str,
    x_label: &str,
    y_label: &str,
    points: &[(f32, f32)],
) -> String {
    let x_max = points.iter().map(|p| p.0).fold(0.0f32, f32::max) as f64 * 1.02;
    let y_max = points.iter().map(|p| p.1).fold(0.0f32, f32::max) as f64 * 1.02;
    let mut f = Frame::new(
        id,
        title,
        x_label,
        y_label,
        0.0,
        x_max.max(1.0),
        y_max.max(1.0),
    )
    .with_axes();
    let (w, h) = (
        (WIDTH - LEFT - RIGHT) as usize,
        (HEIGHT - TOP - BOTTOM) as usize,
    );
    let mut counts = vec![0u32; w * h];
    for &(x, y) in points {
        let px = ((x as f64 / f.x_max) * (w as f64 - 1.0)).round() as usize;
        let py = ((1.0 - y as f64 / f.y_max) * (h as f64 - 1.0)).round() as usize;
        if px < w && py < h {
            counts[py * w + px] += 1;
        }
    }
    let max = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let mut rgba = Vec::with_capacity(w * h * 4);
    for &c in &counts {
        if c == 0 {
            rgba.extend_from_slice(&[0, 0, 0, 0]);
        } else {
            // Log density: single points stay visible, dense regions darken.
            let t = ((c as f64).ln_1p() / max.ln_1p()).clamp(0.0, 1.0);
            let alpha = (90.0 + 165.0 * t) as u8;
            rgba.extend_from_slice(&[
                (78.0 * (1.0 - t)) as u8,
                (121.0 * (1.0 - t * 0.6)) as u8,
                (167.0 + 60.0 * t) as u8,
                alpha,
            ]);
        }
    }
    let png = encode_png(w as u32, h as u32, &rgba);
    let _ = write!(
        f.svg,
        r##"<image class="mark" x="{LEFT}" y="{TOP}" width="{w}" height="{h}" preserveAspectRatio="none" href="data:image/png;base64,{}"/>"##,
        base64::engine::general_purpose::STANDARD.encode(png)
    );
    f.finish()
}

/// A few hundred points `(x, y, colour, tooltip)` as circles, each with its tooltip, on
/// square axes from 0 with the line y = x (the evaluation's truth against guess).
pub fn dots(
    id: &str,
    title: &str,
    x_label: &str,
    y_label: &str,
    points: &[(f64, f64, &str, String)],
) -> String {
    let max = points
        .iter()
        .map(|p| p.0.max(p.1))
        .filter(|v| v.is_finite())
        .fold(1.0f64, f64::max)
        * 1.02;
    let mut f = Frame::new(id, title, x_label, y_label, 0.0, max, max).with_axes();
    let _ = write!(
        f.svg,
        r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="deepskyblue" stroke-width="2" stroke-dasharray="6 4"/>"##,
        f.px(0.0),
        f.py(0.0),
        f.px(max),
        f.py(max)
    );
    for (x, y, colour, tip) in points {
        if !(x.is_finite() && y.is_finite()) {
            continue;
        }
        let _ = write!(
            f.svg,
            r##"<circle class="mark" cx="{:.1}" cy="{:.1}" r="3" fill="{colour}" fill-opacity="0.8"><title>{}</title></circle>"##,
            f.px(x.clamp(0.0, max)),
            f.py(y.clamp(0.0, max)),
            esc(tip)
        );
    }
    f.finish()
}

/// A line over x = 1..=n with a shaded band `(low, high)` around it (the evaluation's
/// running mean error and its 95% interval).
pub fn band_line(
    id: &str,
    title: &str,
    x_label: &str,
    y_label: &str,
    line: &[f64],
    band: &[(f64, f64)],
) -> String {
    let n = line.len().max(1) as f64;
    let y_max = band
        .iter()
        .map(|b| b.1)
        .chain(line.iter().copied())
        .filter(|v| v.is_finite())
        .fold(1.0f64, f64::max)
        * 1.05;
    let mut f = Frame::new(id, title, x_label, y_label, 1.0, n.max(2.0), y_max).with_axes();
    let pts = |ys: &mut dyn Iterator<Item = (usize, f64)>, f: &Frame| -> String {
        ys.map(|(i, y)| {
            format!(
                "{:.1},{:.1}",
                f.px(i as f64 + 1.0),
                f.py(y.clamp(0.0, y_max))
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
    };
    if !band.is_empty() {
        let upper = pts(&mut band.iter().map(|b| b.1).enumerate(), &f);
        let lower = pts(&mut band.iter().map(|b| b.0).enumerate().rev(), &f);
        let _ = write!(
            f.svg,
            r##"<polygon class="band" points="{upper} {lower}" fill="rgba(128,128,128,0.2)" stroke="none"/>"##
        );
    }
    let path = pts(&mut line.iter().copied().enumerate(), &f);
    let _ = write!(
        f.svg,
        r##"<polyline class="mark" points="{path}" fill="none" stroke="firebrick" stroke-width="2.5"/>"##
    );
    f.finish()
}

fn encode_png(w: u32, h: u32, rgba: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    // Writing to a Vec cannot fail; a failure here is a bug, reported as an empty image.
    if let Ok(mut writer) = enc.write_header() {
        let _ = writer.write_image_data(rgba);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(
            ticks(1000.0, 5),
            vec![0.0, 200.0, 400.0, 600.0, 800.0, 1000.0]
        );
        assert_eq!(ticks(7.0, 5), vec![0.0, 2.0, 4.0, 6.0]);
    }

    #[test]
    fn charts_have_titles_and_axis_labels() {
        let h = histogram(
            "h",
            "Token counts",
            "tokens",
            "items",
            &[(150.0, 151.0, 3), (151.0, 152.0, 5)],
            "#000",
        );
        assert!(
            h.contains(">Token counts</text>")
                && h.contains(">tokens</text>")
                && h.contains(">items</text>")
        );
        let s = scatter(
            "s",
            "Length vs price",
            "characters",
            "price ($)",
            &[(100.0, 5.0), (900.0, 999.0)],
        );
        assert!(s.contains("data:image/png;base64,"));
        let d = donut("d", "Share", &[("A".into(), 3), ("B".into(), 1)]);
        assert!(d.contains("75.0%"));
    }
}
