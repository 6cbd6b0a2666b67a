//! Plain-text tables, number formatting and the CSV of losses.

use std::fmt;
use std::io::{self, BufWriter, Write};
use std::time::Duration;

/// A table printed with aligned columns: text columns left-aligned, the others (numbers)
/// right-aligned.
pub struct Table {
    header: Vec<&'static str>,
    text_columns: Vec<usize>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names; the columns at the indices `text_columns` are
    /// left-aligned.
    pub fn new(header: &[&'static str], text_columns: &[usize]) -> Table {
        Table {
            header: header.to_vec(),
            text_columns: text_columns.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.header.len());
        self.rows.push(cells);
    }

    fn line<'a>(&self, widths: &[usize], cells: impl Iterator<Item = &'a str>) -> String {
        let mut line = String::new();
        for (i, (cell, &width)) in cells.zip(widths).enumerate() {
            let gap = if i == 0 { "" } else { "  " };
            if self.text_columns.contains(&i) {
                line += &format!("{gap}{cell:<width$}");
            } else {
                line += &format!("{gap}{cell:>width$}");
            }
        }
        line.trim_end().to_string()
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
        writeln!(f, "{}", self.line(&widths, self.header.iter().copied()))?;
        writeln!(f, "{}", self.line(&widths, rule.iter().map(String::as_str)))?;
        for row in &self.rows {
            writeln!(f, "{}", self.line(&widths, row.iter().map(String::as_str)))?;
        }
        Ok(())
    }
}

/// A number in scientific notation with three significant digits: `1.23e-4`.
pub fn sci(x: f64) -> String {
    format!("{x:.2e}")
}

/// A number with `digits` decimals.
pub fn fixed(x: f64, digits: usize) -> String {
    format!("{x:.digits$}")
}

/// A step or epoch count, or `-` if never reached.
pub fn count(n: Option<usize>) -> String {
    n.map_or_else(|| "-".into(), |n| n.to_string())
}

/// A short duration: `85 us`, `1.2 ms`, `3.40 s`.
pub fn duration(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1e3 {
        format!("{us:.0} us")
    } else if us < 1e6 {
        format!("{:.1} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// One run's losses for the CSV.
pub struct Series {
    pub problem: &'static str,
    /// The run's name; no commas.
    pub label: String,
    /// The loss at the start and after each step.
    pub losses: Vec<f64>,
}

/// Writes `problem,optimizer,step,loss`, one line per step of every series.
pub fn write_csv(out: impl Write, series: &[Series]) -> io::Result<()> {
    let mut out = BufWriter::new(out);
    writeln!(out, "problem,optimizer,step,loss")?;
    for s in series {
        for (step, loss) in s.losses.iter().enumerate() {
            writeln!(out, "{},{},{step},{loss:e}", s.problem, s.label)?;
        }
    }
    out.flush()
}
