//! SVG figures of a sweep: the report's panels against lambda, the accuracy frontier, and for
//! channel reduction the kept units per layer and accuracy against multiply-adds.

use super::{Cell, Summary};
use crate::{Error, Result};
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use std::path::Path;

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn plot_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(path, std::io::Error::other(e.to_string()))
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// How a cost axis is drawn: linear, or logarithmic for costs that span decades (multiply-adds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Linear,
    Log,
}

/// `v` with a `k` or `M` suffix and at most two decimals: 600000 -> `600k`, 1500 -> `1.5k`,
/// 2500000 -> `2.5M`, 12 -> `12`.
pub fn short_number(v: f64) -> String {
    let (x, suffix) = match v.abs() {
        a if a >= 1e6 => (v / 1e6, "M"),
        a if a >= 1e3 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    let digits = format!("{x:.2}");
    let digits = digits.trim_end_matches('0').trim_end_matches('.');
    format!("{digits}{suffix}")
}

/// The ticks of a logarithmic axis over `lo..hi`: 1, 2 and 5 times the powers of ten in it, or
/// every multiple 1 to 9 when that gives fewer than three (a range within one decade).
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let decades = lo.log10().floor() as i32..=hi.log10().ceil() as i32;
    let within = |mantissas: &[f64]| -> Vec<f64> {
        decades
            .clone()
            .flat_map(|k| mantissas.iter().map(move |m| m * 10f64.powi(k)))
            .filter(|v| (lo..=hi).contains(v))
            .collect()
    };
    let ticks = within(&[1.0, 2.0, 5.0]);
    if ticks.len() >= 3 {
        ticks
    } else {
        within(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    }
}

/// Height of the legend strip under a figure `width` pixels wide for `labels`.
fn legend_height(labels: &[String], width: u32) -> u32 {
    10 + 22 * legend_rows(labels, width).len() as u32
}

/// Pixel width of a legend entry: the line sample, the label (about 8 px a character at 14 px),
/// and the gap to the next entry.
fn entry_width(label: &str) -> i32 {
    30 + 8 * label.chars().count() as i32 + 24
}

/// The entries of each row of a legend `width` pixels wide, in order.
fn legend_rows(labels: &[String], width: u32) -> Vec<Vec<usize>> {
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut x = 10;
    for (i, label) in labels.iter().enumerate() {
        let w = entry_width(label);
        match rows.last_mut() {
            Some(row) if x + w <= width as i32 - 10 => row.push(i),
            _ => {
                rows.push(vec![i]);
                x = 10;
            }
        }
        x += w;
    }
    rows
}

/// One legend for a whole figure, in a strip under its panels (a legend inside a panel hides
/// curves): a coloured line sample and the label of each gate, in rows.
fn draw_legend(area: &Area, labels: &[String], path: &Path) -> Result<()> {
    let (width, _) = area.dim_in_pixel();
    for (r, row) in legend_rows(labels, width).iter().enumerate() {
        let y = 16 + 22 * r as i32;
        let mut x = 10;
        for &i in row {
            let color = PALETTE[i % PALETTE.len()];
            area.draw(&PathElement::new(
                vec![(x, y), (x + 24, y)],
                color.stroke_width(3),
            ))
            .map_err(|e| plot_err(path, e))?;
            area.draw(&Text::new(
                labels[i].clone(),
                (x + 30, y - 8),
                ("sans-serif", 14).into_font(),
            ))
            .map_err(|e| plot_err(path, e))?;
            x += entry_width(&labels[i]);
        }
    }
    Ok(())
}

/// Labels at most this many lambdas per panel: more run into each other.
const MAX_LAMBDA_LABELS: usize = 7;

/// One panel: for each gate a line of `value(cell)` (mean, with a +- std band) against the lambda
/// index; x labels are the lambdas (every k-th when there are many). The legend is the figure's.
fn lambda_panel(
    area: &Area,
    title: &str,
    gates: &[String],
    lambdas: &[f64],
    cells: &[Cell],
    value: &dyn Fn(&Cell) -> (f64, f64),
    path: &Path,
) -> Result<()> {
    let points: Vec<(f64, f64)> = cells.iter().map(value).collect();
    let lo = points
        .iter()
        .map(|(m, s)| m - s)
        .fold(f64::INFINITY, f64::min);
    let hi = points
        .iter()
        .map(|(m, s)| m + s)
        .fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.05).max(1e-6);
    let n = lambdas.len();
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(-0.2f64..(n as f64 - 0.8), (lo - pad)..(hi + pad))
        .map_err(|e| plot_err(path, e))?;
    let every = n.div_ceil(MAX_LAMBDA_LABELS).max(1);
    let fmt = |x: &f64| {
        let i = x.round();
        let on_lambda = (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n;
        if on_lambda && (i as usize).is_multiple_of(every) {
            format!("{}", lambdas[i as usize])
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .x_labels(n)
        .x_label_formatter(&fmt)
        .x_desc("lambda")
        .draw()
        .map_err(|e| plot_err(path, e))?;
    for (g, gate) in gates.iter().enumerate() {
        let color = PALETTE[g % PALETTE.len()];
        let series: Vec<(f64, f64, f64)> = lambdas
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                cells
                    .iter()
                    .find(|c| &c.gate == gate && c.lambda == *l)
                    .map(|c| (i as f64, value(c).0, value(c).1))
            })
            .collect();
        let band: Vec<(f64, f64)> = series
            .iter()
            .map(|(x, m, s)| (*x, m + s))
            .chain(series.iter().rev().map(|(x, m, s)| (*x, m - s)))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, color.mix(0.15))))
            .map_err(|e| plot_err(path, e))?;
        chart
            .draw_series(LineSeries::new(
                series.iter().map(|(x, m, _)| (*x, *m)),
                color.stroke_width(2),
            ))
            .map_err(|e| plot_err(path, e))?;
    }
    Ok(())
}

fn gates_and_lambdas(summary: &Summary) -> (Vec<String>, Vec<f64>) {
    let mut gates: Vec<String> = Vec::new();
    let mut lambdas: Vec<f64> = Vec::new();
    for c in &summary.cells {
        if !gates.contains(&c.gate) {
            gates.push(c.gate.clone());
        }
        if !lambdas.contains(&c.lambda) {
            lambdas.push(c.lambda);
        }
    }
    lambdas.sort_by(f64::total_cmp);
    (gates, lambdas)
}

/// The report's three panels against lambda: test loss, validation score, selected features.
pub fn plot_lambda_panels(path: &Path, summary: &Summary, score_name: &str) -> Result<()> {
    let (gates, lambdas) = gates_and_lambdas(summary);
    let legend = legend_height(&gates, 1500);
    let root = SVGBackend::new(path, (1500, 450 + legend)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let (panels, strip) = root.split_vertically(450);
    draw_legend(&strip, &gates, path)?;
    let areas = panels.split_evenly((1, 3));
    lambda_panel(
        &areas[0],
        "test loss",
        &gates,
        &lambdas,
        &summary.cells,
        &|c| (c.test_loss.mean, c.test_loss.std),
        path,
    )?;
    lambda_panel(
        &areas[1],
        &format!("validation {score_name}"),
        &gates,
        &lambdas,
        &summary.cells,
        &|c| (c.val_score.mean, c.val_score.std),
        path,
    )?;
    lambda_panel(
        &areas[2],
        "selected features",
        &gates,
        &lambdas,
        &summary.cells,
        &|c| (c.n_selected.mean, c.n_selected.std),
        path,
    )?;
    root.present().map_err(|e| plot_err(path, e))
}

/// Kept units of each gate layer against lambda, one panel per layer.
pub fn plot_units_per_layer(path: &Path, summary: &Summary, layer_names: &[String]) -> Result<()> {
    let (gates, lambdas) = gates_and_lambdas(summary);
    let width = 500 * layer_names.len().max(1) as u32;
    let legend = legend_height(&gates, width);
    let root = SVGBackend::new(path, (width, 450 + legend)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let (panels, strip) = root.split_vertically(450);
    draw_legend(&strip, &gates, path)?;
    let areas = panels.split_evenly((1, layer_names.len().max(1)));
    for (l, name) in layer_names.iter().enumerate() {
        lambda_panel(
            &areas[l],
            &format!("kept units: {name}"),
            &gates,
            &lambdas,
            &summary.cells,
            &|c| (c.units_kept.get(l).copied().unwrap_or(0.0), 0.0),
            path,
        )?;
    }
    root.present().map_err(|e| plot_err(path, e))
}

/// Test score against a cost (features, or multiply-adds) on a `scale` axis: one line per gate
/// through its lambdas. Cost labels read `60k`, `1.2M`.
pub fn plot_score_against(
    path: &Path,
    summary: &Summary,
    x_name: &str,
    x: &dyn Fn(&Cell) -> f64,
    score_name: &str,
    scale: Scale,
) -> Result<()> {
    let (gates, lambdas) = gates_and_lambdas(summary);
    let lines: Vec<Vec<(f64, f64)>> = gates
        .iter()
        .map(|gate| {
            let mut pts: Vec<(f64, f64)> = lambdas
                .iter()
                .filter_map(|l| {
                    summary
                        .cells
                        .iter()
                        .find(|c| &c.gate == gate && c.lambda == *l)
                })
                .map(|c| (x(c), c.test_score.mean))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            pts
        })
        .collect();
    let xs: Vec<f64> = summary.cells.iter().map(x).collect();
    let ys: Vec<f64> = summary.cells.iter().map(|c| c.test_score.mean).collect();
    let y = (ys.iter().cloned().fold(1.0, f64::min) - 0.01)
        ..(ys.iter().cloned().fold(0.0, f64::max) + 0.01);
    let x_hi = xs.iter().cloned().fold(1.0, f64::max);
    let legend = legend_height(&gates, 700);
    let root = SVGBackend::new(path, (700, 500 + legend)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let (plot, strip) = root.split_vertically(500);
    draw_legend(&strip, &gates, path)?;
    let labels = Labels {
        caption: format!("test {score_name} against {x_name}"),
        x: x_name,
        y: format!("test {score_name}"),
    };
    match scale {
        Scale::Linear => score_chart(&plot, 0f64..x_hi * 1.05, y, &labels, &lines, None, path),
        Scale::Log => {
            let x_lo = xs.iter().cloned().filter(|v| *v > 0.0).fold(x_hi, f64::min);
            let (lo, hi) = (x_lo / 1.25, x_hi * 1.25);
            let ticks = log_ticks(lo, hi);
            score_chart(
                &plot,
                (lo..hi).log_scale(),
                y,
                &labels,
                &lines,
                Some(&ticks),
                path,
            )
        }
    }?;
    root.present().map_err(|e| plot_err(path, e))
}

/// The caption and axis names of a chart.
struct Labels<'a> {
    caption: String,
    x: &'a str,
    y: String,
}

/// One line (with its points) per gate on axes `x` (linear or logarithmic) and `y`. Cost labels
/// are at `x_ticks` when given (plotters finds none on a logarithmic axis within one decade),
/// else where plotters puts them.
fn score_chart<X>(
    area: &Area,
    x: X,
    y: std::ops::Range<f64>,
    labels: &Labels,
    lines: &[Vec<(f64, f64)>],
    x_ticks: Option<&[f64]>,
    path: &Path,
) -> Result<()>
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(&labels.caption, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(x, y.clone())
        .map_err(|e| plot_err(path, e))?;
    // With `x_ticks` the labels are drawn below; plotters still labels a decade's gridline on
    // a logarithmic axis, so its labels are left empty then.
    let fmt = |v: &f64| match x_ticks {
        Some(_) => String::new(),
        None => short_number(*v),
    };
    chart
        .configure_mesh()
        .x_labels(if x_ticks.is_some() { 0 } else { 12 })
        .x_label_formatter(&fmt)
        .x_desc(labels.x)
        .y_desc(&labels.y)
        .draw()
        .map_err(|e| plot_err(path, e))?;
    // Without `x_ticks` plotters drew the labels (above); with them, each is drawn here.
    for &t in x_ticks.into_iter().flatten() {
        chart
            .draw_series(LineSeries::new([(t, y.start), (t, y.end)], BLACK.mix(0.1)))
            .map_err(|e| plot_err(path, e))?;
        let (px, py) = chart.backend_coord(&(t, y.start));
        let label = short_number(t);
        area.draw(&PathElement::new(vec![(px, py), (px, py + 5)], BLACK))
            .map_err(|e| plot_err(path, e))?;
        area.draw(&Text::new(
            label.clone(),
            (px - 4 * label.len() as i32, py + 8),
            ("sans-serif", 13).into_font(),
        ))
        .map_err(|e| plot_err(path, e))?;
    }
    for (g, pts) in lines.iter().enumerate() {
        let color = PALETTE[g % PALETTE.len()];
        chart
            .draw_series(PointSeries::of_element(
                pts.clone(),
                3,
                color.filled(),
                &|c, s, st| Circle::new(c, s, st),
            ))
            .map_err(|e| plot_err(path, e))?;
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
            .map_err(|e| plot_err(path, e))?;
    }
    Ok(())
}
