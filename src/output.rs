//! The one place reports become bytes on stdout: kubectl-style columns, JSON, YAML and names.
//! Commands compute a typed report and never format it themselves.

use comfy_table::{CellAlignment, ColumnConstraint, ContentArrangement, Table, presets};
use serde::Serialize;

use crate::cli::{Format, OutputArgs};
use crate::{Error, Result};

/// What a command returns: enough to render it in every format it supports.
pub trait Report {
    /// Column headers (table/wide).
    fn headers(&self, wide: bool) -> Vec<&'static str>;
    /// Rows matching the headers.
    fn rows(&self, wide: bool) -> Vec<Vec<String>>;
    /// `kind/name` per object, for `-o name`.
    fn names(&self) -> Vec<String>;
    /// The document for `-o json|yaml`.
    fn document(&self) -> serde_json::Value;
    /// Plain text that replaces the table when the command has a natural one-line form
    /// (create prints the join command); `None` = columns.
    fn plain(&self) -> Option<String> {
        None
    }
    /// The formats this report supports besides JSON and YAML.
    fn supports(&self, f: Format) -> bool {
        let _ = f;
        true
    }
}

/// Renders `report` as `out` asks.
pub fn render(report: &dyn Report, out: &OutputArgs) -> Result<String> {
    if !report.supports(out.output) {
        return Err(Error::usage(format!(
            "-o {} is not supported here: use one of table, json, yaml",
            format_name(out.output)
        )));
    }
    match out.output {
        Format::Json => to_json(&report.document()),
        Format::Yaml => to_yaml(&report.document()),
        Format::Name => Ok(lines(report.names())),
        Format::Table | Format::Wide => {
            if out.output == Format::Table
                && let Some(p) = report.plain()
            {
                return Ok(format!("{p}\n"));
            }
            let wide = out.output == Format::Wide;
            Ok(columns(
                &report.headers(wide),
                report.rows(wide),
                out.no_headers,
            ))
        }
    }
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Table => "table",
        Format::Wide => "wide",
        Format::Json => "json",
        Format::Yaml => "yaml",
        Format::Name => "name",
    }
}

fn lines(items: Vec<String>) -> String {
    items.into_iter().map(|l| l + "\n").collect()
}

/// Pretty JSON with a trailing newline.
pub fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string_pretty(v)
        .map(|s| s + "\n")
        .map_err(|e| Error::runtime(format!("cannot render JSON: {e}")))
}

/// YAML.
pub fn to_yaml<T: Serialize>(v: &T) -> Result<String> {
    serde_saphyr::to_string(v).map_err(|e| Error::runtime(format!("cannot render YAML: {e}")))
}

/// kubectl's plain columns: no borders, three spaces between columns, no trailing blanks.
pub fn columns(headers: &[&str], rows: Vec<Vec<String>>, no_headers: bool) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let mut t = Table::new();
    t.load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    if !no_headers {
        t.set_header(headers.iter().map(|h| h.to_string()));
    }
    for r in rows {
        t.add_row(r);
    }
    let n = headers.len();
    for (i, col) in t.column_iter_mut().enumerate() {
        col.set_padding((0, if i + 1 == n { 0 } else { 3 }));
        col.set_cell_alignment(CellAlignment::Left);
        col.set_constraint(ColumnConstraint::ContentWidth);
    }
    let mut out = String::new();
    for line in t.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_look_like_kubectl() {
        let s = columns(
            &["TOKEN", "TTL"],
            vec![
                vec!["abcdef.****************".into(), "23h".into()],
                vec!["x".into(), "<forever>".into()],
            ],
            false,
        );
        assert_eq!(
            s,
            "TOKEN                     TTL\nabcdef.****************   23h\nx                         <forever>\n"
        );
        let s = columns(&["A", "B"], vec![vec!["1".into(), "2".into()]], true);
        assert_eq!(s, "1   2\n");
    }

    #[test]
    fn empty_tables_print_nothing() {
        assert_eq!(columns(&["A"], vec![], false), "");
    }
}
