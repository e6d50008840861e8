//! SVG figures of a sweep: the report's panels against lambda, the accuracy frontier, and for
//! channel reduction the kept units per layer and accuracy against multiply-adds.

use super::{Cell, Summary};
use crate::{Error, Result};
use plotters::coord::types::RangedCoordf64;
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

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A line with a legend entry.
fn labelled_line(
    chart: &mut Chart,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    label: &str,
    path: &Path,
) -> Result<()> {
    chart
        .draw_series(LineSeries::new(points, color.stroke_width(2)))
        .map_err(|e| plot_err(path, e))?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
    Ok(())
}

/// One panel: for each gate a line of `value(cell)` (mean, with a +- std band) against the lambda
/// index; x labels are the lambdas.
fn lambda_panel(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
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
    let fmt = |x: &f64| {
        let i = x.round();
        if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
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
        labelled_line(
            &mut chart,
            series.iter().map(|(x, m, _)| (*x, *m)).collect(),
            color,
            gate,
            path,
        )?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| plot_err(path, e))?;
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
    let root = SVGBackend::new(path, (1500, 450)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let areas = root.split_evenly((1, 3));
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
    let root =
        SVGBackend::new(path, (500 * layer_names.len().max(1) as u32, 450)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let areas = root.split_evenly((1, layer_names.len().max(1)));
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

/// Test score against a cost (features, or multiply-adds): one line per gate through its lambdas.
pub fn plot_score_against(
    path: &Path,
    summary: &Summary,
    x_name: &str,
    x: &dyn Fn(&Cell) -> f64,
    score_name: &str,
) -> Result<()> {
    let (gates, lambdas) = gates_and_lambdas(summary);
    let xs: Vec<f64> = summary.cells.iter().map(x).collect();
    let ys: Vec<f64> = summary.cells.iter().map(|c| c.test_score.mean).collect();
    let (x_hi, y_lo, y_hi) = (
        xs.iter().cloned().fold(1.0, f64::max),
        ys.iter().cloned().fold(1.0, f64::min),
        ys.iter().cloned().fold(0.0, f64::max),
    );
    let root = SVGBackend::new(path, (700, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(path, e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("test {score_name} against {x_name}"),
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(0f64..x_hi * 1.05, (y_lo - 0.01)..(y_hi + 0.01))
        .map_err(|e| plot_err(path, e))?;
    chart
        .configure_mesh()
        .x_desc(x_name)
        .y_desc(format!("test {score_name}"))
        .draw()
        .map_err(|e| plot_err(path, e))?;
    for (g, gate) in gates.iter().enumerate() {
        let color = PALETTE[g % PALETTE.len()];
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
        chart
            .draw_series(PointSeries::of_element(
                pts.clone(),
                3,
                color.filled(),
                &|c, s, st| Circle::new(c, s, st),
            ))
            .map_err(|e| plot_err(path, e))?;
        labelled_line(&mut chart, pts, color, gate, path)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| plot_err(path, e))?;
    root.present().map_err(|e| plot_err(path, e))
}
