//! The one place reports become bytes on stdout: kubectl-style columns, JSON, YAML and names.
//! Commands compute a typed report and never format it themselves.

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
    /// Bytes whose format their consumer fixes (a kubeconfig, a shell script, unit files):
    /// printed exactly, whatever the output flags say. `None` = render by format.
    fn raw(&self) -> Option<String> {
        None
    }
    /// The formats this report supports besides JSON and YAML.
    fn supports(&self, f: Format) -> bool {
        let _ = f;
        true
    }
}

/// A report that is a document of fixed format (see [`Report::raw`]): what `kubeconfig`,
/// `completion` and `schedule` print.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// What the document is, for `-o name` and JSON (`kubeconfig`, `bash completion`, …).
    pub kind: &'static str,
    /// The exact bytes for stdout (empty when the command wrote a file or printed nothing).
    pub text: String,
}

impl Document {
    /// A document of `kind` with `text`.
    pub fn new(kind: &'static str, text: impl Into<String>) -> Self {
        Document {
            kind,
            text: text.into(),
        }
    }
}

impl Report for Document {
    fn headers(&self, _wide: bool) -> Vec<&'static str> {
        Vec::new()
    }
    fn rows(&self, _wide: bool) -> Vec<Vec<String>> {
        Vec::new()
    }
    fn names(&self) -> Vec<String> {
        vec![self.kind.to_string()]
    }
    fn document(&self) -> serde_json::Value {
        serde_json::json!({"kind": self.kind, "text": self.text})
    }
    fn raw(&self) -> Option<String> {
        Some(self.text.clone())
    }
}

/// The one JSON/YAML shape of a token, whichever command prints it (`create`, `list`):
/// kubeadm's `output.kubeadm.k8s.io/v1alpha3` `BootstrapToken` fields (omitempty as kubeadm),
/// usages sorted as kubeadm lists them, plus our `id`. Commands add their own blocks (`join`,
/// `published`, `warnings`) beside these fields.
pub fn bootstrap_token(
    token: String,
    id: Option<&str>,
    description: Option<&str>,
    expires: Option<jiff::Timestamp>,
    usages: &[String],
    groups: &[String],
) -> serde_json::Value {
    let mut o = serde_json::json!({
        "kind": "BootstrapToken",
        "apiVersion": "output.kubeadm.k8s.io/v1alpha3",
        "token": token,
    });
    if let Some(d) = description.filter(|d| !d.is_empty()) {
        o["description"] = serde_json::json!(d);
    }
    if let Some(e) = expires {
        o["expires"] = serde_json::json!(crate::token::format_expiration(e));
    }
    if !usages.is_empty() {
        let mut u = usages.to_vec();
        u.sort();
        o["usages"] = serde_json::json!(u);
    }
    if !groups.is_empty() {
        o["groups"] = serde_json::json!(groups);
    }
    if let Some(id) = id {
        o["id"] = serde_json::json!(id);
    }
    o
}

/// Renders `report` as `out` asks.
pub fn render(report: &dyn Report, out: &OutputArgs) -> Result<String> {
    if let Some(raw) = report.raw() {
        return Ok(raw);
    }
    if !report.supports(out.output.clone()) {
        return Err(Error::usage(format!(
            "-o {} is not supported here: use one of table, json, yaml",
            format_name(&out.output)
        )));
    }
    match &out.output {
        Format::JsonPath(t) => crate::jsonpath::Template::parse(t)
            .and_then(|t| t.render(&report.document()))
            .map_err(|e| Error::usage(format!("-o jsonpath: {e}"))),
        Format::CustomColumns(spec) => {
            let (headers, rows) = crate::jsonpath::custom_columns(spec, &report.document())
                .map_err(|e| Error::usage(format!("-o {e}")))?;
            let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
            let rows = rows
                .into_iter()
                .map(|r| r.into_iter().map(|c| cell(&c, usize::MAX)).collect())
                .collect();
            Ok(columns(&headers, rows, out.no_headers))
        }
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

fn format_name(f: &Format) -> &'static str {
    match f {
        Format::Table => "table",
        Format::Wide => "wide",
        Format::Json => "json",
        Format::Yaml => "yaml",
        Format::Name => "name",
        Format::JsonPath(_) => "jsonpath",
        Format::CustomColumns(_) => "custom-columns",
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

/// YAML as kubectl writes it: long strings (a join command, certificate-authority-data) stay
/// single plain or quoted scalars, never folded into `>-` blocks that tools reading a line at
/// a time would split.
pub fn to_yaml<T: Serialize>(v: &T) -> Result<String> {
    let mut o = serde_saphyr::SerializerOptions::default();
    o.prefer_block_scalars = false;
    serde_saphyr::to_string_with_options(v, o)
        .map_err(|e| Error::runtime(format!("cannot render YAML: {e}")))
}

/// Widest a free-text cell (a description) may be in a table; `-o json|yaml` has the full value.
pub const MAX_CELL: usize = 60;

/// A table cell from text someone else wrote: control characters (newlines that would forge
/// rows, ANSI/OSC escapes that would reach the terminal) shown escaped, and at most `max`
/// characters (`…` marks a cut).
pub fn cell(s: &str, max: usize) -> String {
    let clean = !has_control(s) && width(s) <= max;
    if clean {
        return s.to_string();
    }
    let mut out = String::new();
    let mut n = 0;
    for c in s.chars() {
        let piece: String = if c.is_control() {
            c.escape_default().to_string()
        } else {
            c.to_string()
        };
        let len = piece.chars().count();
        if n + len > max.saturating_sub(1) {
            out.push('…');
            return out;
        }
        out.push_str(&piece);
        n += len;
    }
    out
}

/// Characters in a cell (runes, as kubectl's tabwriter counts); ASCII, the usual case, is its
/// length.
fn width(c: &str) -> usize {
    if c.is_ascii() {
        c.len()
    } else {
        c.chars().count()
    }
}

/// Whether a cell holds a control character (`char::is_control`: C0, DEL, C1).
fn has_control(c: &str) -> bool {
    if c.is_ascii() {
        c.bytes().any(|b| b < 0x20 || b == 0x7f)
    } else {
        c.chars().any(char::is_control)
    }
}

/// kubectl's plain columns: no borders, three spaces between columns, no trailing blanks.
/// Widths count characters, as the tabwriter behind kubectl and kubeadm counts runes. Written
/// by hand rather than with a table crate: a 10,000-token list then costs one pass over the
/// cells and one output buffer, instead of a cell object per value (docs/PERFORMANCE.md).
pub fn columns(headers: &[&str], rows: Vec<Vec<String>>, no_headers: bool) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let n = headers.len();
    let mut widths: Vec<usize> = if no_headers {
        vec![0; n]
    } else {
        headers.iter().map(|h| h.chars().count()).collect()
    };
    // No cell may carry a control character: a newline would forge a row, an escape
    // sequence would reach the terminal.
    let mut rows = rows;
    for r in rows.iter_mut() {
        for c in r.iter_mut() {
            if has_control(c) {
                *c = cell(c, usize::MAX);
            }
        }
    }
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(width(c));
        }
    }
    let line_len: usize = widths.iter().sum::<usize>() + 3 * n + 1;
    let mut out = String::with_capacity(line_len * (rows.len() + 1));
    let mut push_line = |cells: &mut dyn Iterator<Item = &str>| {
        let start = out.len();
        for (i, (c, w)) in cells.zip(&widths).enumerate() {
            out.push_str(c);
            if i + 1 < n {
                let pad = w - width(c) + 3;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        // An empty last cell leaves padding behind: trim it, as kubectl does.
        let end = out[start..].trim_end_matches(' ').len() + start;
        out.truncate(end);
        out.push('\n');
    };
    if !no_headers {
        push_line(&mut headers.iter().copied());
    }
    for r in &rows {
        push_line(&mut r.iter().map(String::as_str));
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
    fn widths_count_characters_and_empty_last_cells_leave_no_blanks() {
        let s = columns(
            &["NAME", "DESCRIPTION", "X"],
            vec![
                vec!["ä".into(), "größer".into(), "".into()],
                vec!["abc".into(), "".into(), "1".into()],
            ],
            false,
        );
        assert_eq!(
            s,
            "NAME   DESCRIPTION   X\nä      größer\nabc                  1\n"
        );
    }

    #[test]
    fn hostile_cells_cannot_forge_rows_or_reach_the_terminal() {
        let s = columns(
            &["A", "B"],
            vec![vec![
                "x\nFAKE   ROW".into(),
                "\u{1b}]0;owned\u{7}\u{1b}[31m".into(),
            ]],
            true,
        );
        assert_eq!(s.lines().count(), 1, "{s:?}");
        assert!(!s.contains('\u{1b}') && !s.contains('\u{7}'), "{s:?}");
        assert!(s.starts_with("x\\nFAKE   ROW"), "{s:?}");
        let long = "d".repeat(100_000);
        let c = cell(&long, MAX_CELL);
        assert_eq!(c.chars().count(), MAX_CELL);
        assert!(c.ends_with('…'));
        assert_eq!(cell("short", MAX_CELL), "short");
    }

    proptest::proptest! {
        #[test]
        fn cells_are_single_line_bounded_and_control_free(s in "\\PC*|[\\x00-\\x1f\\x7f-\\u{9f}a-z]{0,200}") {
            let c = cell(&s, MAX_CELL);
            proptest::prop_assert!(c.chars().count() <= MAX_CELL);
            proptest::prop_assert!(!c.chars().any(char::is_control));
            let t = columns(&["A", "B"], vec![vec![s.clone(), "x".into()]], true);
            proptest::prop_assert_eq!(t.lines().count(), 1);
        }
    }

    proptest::proptest! {
        /// The ASCII fast paths agree with the character-based definitions.
        #[test]
        fn widths_and_control_checks_match_their_definitions(s in "\\PC*|[\\x00-\\x7f]{0,40}|[\\x00-\\u{a0}é]{0,40}") {
            proptest::prop_assert_eq!(width(&s), s.chars().count());
            proptest::prop_assert_eq!(has_control(&s), s.chars().any(char::is_control));
        }
    }

    #[test]
    fn long_strings_are_not_folded_in_yaml() {
        let cmd = format!(
            "kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef {}",
            "--discovery-token-ca-cert-hash sha256:aa ".repeat(4)
        );
        let y =
            to_yaml(&serde_json::json!({"joinCommand": cmd, "ca": "QUJD".repeat(100)})).unwrap();
        assert!(
            !y.contains(">-") && !y.contains(": >") && !y.contains(": |"),
            "{y}"
        );
        assert_eq!(y.lines().count(), 2, "{y}");
        let back: serde_json::Value = serde_saphyr::from_str(&y).unwrap();
        assert_eq!(back["joinCommand"], cmd.as_str());
    }

    #[test]
    fn empty_tables_print_nothing() {
        assert_eq!(columns(&["A"], vec![], false), "");
    }
}
