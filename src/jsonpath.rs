//! kubectl's JSONPath template dialect (`-o jsonpath=…`, and the column expressions of
//! `-o custom-columns=…`), over the JSON document a report renders.
//!
//! Why our own: the maintained JSONPath crates implement RFC 9535 queries, not kubectl's
//! *template* language (free text between `{…}` blocks, `{range …}{end}`, string literals such
//! as `{"\n"}`, kubectl's printing of lists separated by spaces). This module implements what
//! kubectl's `k8s.io/client-go/util/jsonpath` documents and its examples use: `$` / `@`,
//! `.field`, `['quoted field']`, `..field` (recursive descent), `[n]` (negative from the end),
//! `[start:end]`, `[*]`, `.*`, filters `[?(@.a == "x")]` with `==`, `!=`, `<`, `<=`, `>`, `>=`
//! and bare existence `[?(@.a)]`, unions `['a','b']` / `[0,2]`, `{range …}…{end}`, and string
//! literals. Tested with the examples of kubectl's JSONPath reference page.

use serde_json::Value;

/// A parsed template.
#[derive(Clone, Debug, PartialEq)]
pub struct Template(Vec<Node>);

#[derive(Clone, Debug, PartialEq)]
enum Node {
    Text(String),
    Expr(Vec<Step>),
    Range(Vec<Step>, Vec<Node>),
}

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Root,
    Current,
    Field(String),
    Recursive(String),
    Wildcard,
    Index(i64),
    Slice(Option<i64>, Option<i64>),
    Union(Vec<Step>),
    Filter(Filter),
    Literal(String),
}

#[derive(Clone, Debug, PartialEq)]
struct Filter {
    left: Vec<Step>,
    op: Option<(String, Operand)>,
}

#[derive(Clone, Debug, PartialEq)]
enum Operand {
    Path(Vec<Step>),
    Str(String),
    Num(f64),
    Bool(bool),
}

impl Template {
    /// Parses a template such as `{range .items[*]}{.token}{"\n"}{end}`. A template without
    /// braces is one expression, as kubectl accepts `-o jsonpath=.items[0].token` too.
    pub fn parse(src: &str) -> Result<Template, String> {
        let src = if src.contains('{') {
            src.to_string()
        } else {
            format!("{{{src}}}")
        };
        let mut nodes_stack: Vec<(Option<Vec<Step>>, Vec<Node>)> = vec![(None, Vec::new())];
        let mut rest = src.as_str();
        while !rest.is_empty() {
            match rest.find('{') {
                Some(0) => {
                    let end = find_close(rest).ok_or("unclosed { in the template")?;
                    let inner = rest[1..end].trim();
                    rest = &rest[end + 1..];
                    if let Some(r) = inner.strip_prefix("range ") {
                        nodes_stack.push((Some(parse_path(r.trim())?), Vec::new()));
                    } else if inner == "end" {
                        let (path, body) = nodes_stack.pop().ok_or("{end} without {range}")?;
                        let path = path.ok_or("{end} without {range}")?;
                        nodes_stack
                            .last_mut()
                            .ok_or("{end} without {range}")?
                            .1
                            .push(Node::Range(path, body));
                    } else {
                        let e = parse_path(inner)?;
                        nodes_stack.last_mut().expect("root").1.push(Node::Expr(e));
                    }
                }
                Some(i) => {
                    nodes_stack
                        .last_mut()
                        .expect("root")
                        .1
                        .push(Node::Text(rest[..i].to_string()));
                    rest = &rest[i..];
                }
                None => {
                    nodes_stack
                        .last_mut()
                        .expect("root")
                        .1
                        .push(Node::Text(rest.to_string()));
                    rest = "";
                }
            }
        }
        if nodes_stack.len() != 1 {
            return Err("{range} without {end}".into());
        }
        Ok(Template(nodes_stack.pop().expect("root").1))
    }

    /// Renders the template over `doc`, as kubectl prints it: strings bare, other values as
    /// JSON, several results of one expression separated by a space.
    pub fn render(&self, doc: &Value) -> Result<String, String> {
        let mut out = String::new();
        render_nodes(&self.0, doc, doc, &mut out)?;
        Ok(out)
    }

    /// The values the template's single expression selects (for custom columns).
    pub fn values(&self, doc: &Value) -> Vec<Value> {
        let mut v = Vec::new();
        for n in &self.0 {
            if let Node::Expr(p) = n {
                v.extend(eval(p, doc, doc).into_iter().cloned());
            }
        }
        v
    }
}

fn find_close(s: &str) -> Option<usize> {
    // The first `}` outside a quoted string.
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '"' | '\'' => quote = Some(c),
                '}' => return Some(i),
                _ => {}
            },
        }
    }
    None
}

fn render_nodes(nodes: &[Node], root: &Value, cur: &Value, out: &mut String) -> Result<(), String> {
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(t),
            Node::Expr(p) if matches!(p.as_slice(), [Step::Literal(_)]) => {
                if let [Step::Literal(l)] = p.as_slice() {
                    out.push_str(l);
                }
            }
            Node::Expr(p) => {
                let vals = eval(p, root, cur);
                let parts: Vec<String> = vals.iter().map(|v| print(v)).collect();
                out.push_str(&parts.join(" "));
            }
            Node::Range(p, body) => {
                for v in eval(p, root, cur) {
                    render_nodes(body, root, v, out)?;
                }
            }
        }
    }
    Ok(())
}

/// How kubectl prints one value: strings bare, everything else as compact JSON.
fn print(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// parsing of one expression

fn parse_path(s: &str) -> Result<Vec<Step>, String> {
    let s = s.trim();
    if s.starts_with('"') || s.starts_with('\'') {
        return Ok(vec![Step::Literal(unquote(s)?)]);
    }
    let b: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut steps = Vec::new();
    if b.first() == Some(&'$') {
        steps.push(Step::Root);
        i = 1;
    } else if b.first() == Some(&'@') {
        steps.push(Step::Current);
        i = 1;
    }
    while i < b.len() {
        match b[i] {
            '.' if b.get(i + 1) == Some(&'.') => {
                i += 2;
                let name = read_name(&b, &mut i);
                if name.is_empty() {
                    return Err(format!("expected a field name after .. in {s:?}"));
                }
                steps.push(Step::Recursive(name));
            }
            '.' => {
                i += 1;
                if b.get(i) == Some(&'*') {
                    steps.push(Step::Wildcard);
                    i += 1;
                    continue;
                }
                let name = read_name(&b, &mut i);
                if !name.is_empty() {
                    steps.push(Step::Field(name));
                }
            }
            '[' => {
                let end = matching_bracket(&b, i).ok_or(format!("unclosed [ in {s:?}"))?;
                let inner: String = b[i + 1..end].iter().collect();
                steps.push(parse_bracket(inner.trim())?);
                i = end + 1;
            }
            c if is_name(c) && steps.is_empty() => {
                // `items[0]` without a leading dot, as kubectl tolerates.
                steps.push(Step::Field(read_name(&b, &mut i)));
            }
            c => return Err(format!("unexpected {c:?} in {s:?}")),
        }
    }
    Ok(steps)
}

fn is_name(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-' || c == '/'
}

/// Reads a field name from `b[*i..]`; `\.` is a literal dot (`kubernetes\.io/hostname`).
fn read_name(b: &[char], i: &mut usize) -> String {
    let mut name = String::new();
    while *i < b.len() {
        if b[*i] == '\\' && b.get(*i + 1) == Some(&'.') {
            name.push('.');
            *i += 2;
        } else if is_name(b[*i]) {
            name.push(b[*i]);
            *i += 1;
        } else {
            break;
        }
    }
    name
}

fn matching_bracket(b: &[char], open: usize) -> Option<usize> {
    let mut depth = 0;
    let mut quote: Option<char> = None;
    for (j, &c) in b.iter().enumerate().skip(open) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                '[' | '(' => depth += 1,
                ']' | ')' => {
                    depth -= 1;
                    if depth == 0 && c == ']' {
                        return Some(j);
                    }
                }
                _ => {}
            },
        }
    }
    None
}

fn unquote(s: &str) -> Result<String, String> {
    let q = s.chars().next().ok_or("empty string")?;
    let inner = s
        .strip_prefix(q)
        .and_then(|x| x.strip_suffix(q))
        .ok_or(format!("unterminated string {s:?}"))?;
    let mut out = String::new();
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

fn parse_bracket(inner: &str) -> Result<Step, String> {
    if inner == "*" {
        return Ok(Step::Wildcard);
    }
    if let Some(f) = inner.strip_prefix("?(").and_then(|x| x.strip_suffix(')')) {
        return Ok(Step::Filter(parse_filter(f.trim())?));
    }
    let parts = split_top(inner, ',');
    if parts.len() > 1 {
        return parts
            .iter()
            .map(|p| parse_bracket(p.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map(Step::Union);
    }
    if inner.starts_with('\'') || inner.starts_with('"') {
        return Ok(Step::Field(unquote(inner)?));
    }
    if let Some((a, b)) = inner.split_once(':') {
        let n = |x: &str| -> Result<Option<i64>, String> {
            let x = x.trim();
            if x.is_empty() {
                Ok(None)
            } else {
                x.parse()
                    .map(Some)
                    .map_err(|_| format!("bad slice bound {x:?}"))
            }
        };
        // A step (`[::2]`) is not supported: say so rather than ignore it.
        if b.contains(':') {
            return Err(format!("slice steps are not supported: [{inner}]"));
        }
        return Ok(Step::Slice(n(a)?, n(b)?));
    }
    inner
        .parse::<i64>()
        .map(Step::Index)
        .map_err(|_| format!("bad subscript [{inner}]"))
}

fn split_top(s: &str, sep: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                cur.push(c);
            }
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                cur.push(c);
            }
            None if c == sep => out.push(std::mem::take(&mut cur)),
            None => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn parse_filter(f: &str) -> Result<Filter, String> {
    for op in ["==", "!=", "<=", ">=", "<", ">"] {
        if let Some(pos) = find_op(f, op) {
            let left = parse_path(f[..pos].trim())?;
            let right = f[pos + op.len()..].trim();
            let operand = if right.starts_with('"') || right.starts_with('\'') {
                Operand::Str(unquote(right)?)
            } else if right == "true" || right == "false" {
                Operand::Bool(right == "true")
            } else if let Ok(n) = right.parse::<f64>() {
                Operand::Num(n)
            } else {
                Operand::Path(parse_path(right)?)
            };
            return Ok(Filter {
                left,
                op: Some((op.to_string(), operand)),
            });
        }
    }
    Ok(Filter {
        left: parse_path(f)?,
        op: None,
    })
}

fn find_op(f: &str, op: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let b = f.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if f[i..].starts_with(op) => {
                // `<` must not be the start of `<=` when looking for `<`.
                let longer = matches!(op, "<" | ">") && f[i + 1..].starts_with('=');
                if !longer {
                    return Some(i);
                }
            }
            None => {}
        }
        i += 1;
    }
    None
}

// ---------------------------------------------------------------------------------------------
// evaluation

fn eval<'a>(steps: &[Step], root: &'a Value, cur: &'a Value) -> Vec<&'a Value> {
    let mut set: Vec<&'a Value> = vec![cur];
    for s in steps {
        let mut next = Vec::new();
        for v in set {
            apply(s, root, v, &mut next);
        }
        set = next;
    }
    set
}

fn apply<'a>(s: &Step, root: &'a Value, v: &'a Value, out: &mut Vec<&'a Value>) {
    match s {
        Step::Root => out.push(root),
        Step::Current => out.push(v),
        Step::Literal(_) => {}
        Step::Field(name) => {
            if let Some(x) = v.get(name.as_str()) {
                out.push(x);
            }
        }
        Step::Recursive(name) => recurse(name, v, out),
        Step::Wildcard => match v {
            Value::Array(a) => out.extend(a.iter()),
            Value::Object(m) => out.extend(m.values()),
            _ => {}
        },
        Step::Index(i) => {
            if let Value::Array(a) = v {
                let idx = if *i < 0 { a.len() as i64 + i } else { *i };
                if idx >= 0
                    && let Some(x) = a.get(idx as usize)
                {
                    out.push(x);
                }
            }
        }
        Step::Slice(a, b) => {
            if let Value::Array(arr) = v {
                let len = arr.len() as i64;
                let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                let start = a.map(norm).unwrap_or(0);
                let end = b.map(norm).unwrap_or(len);
                if start < end {
                    out.extend(arr[start as usize..end as usize].iter());
                }
            }
        }
        Step::Union(parts) => {
            for p in parts {
                apply(p, root, v, out);
            }
        }
        Step::Filter(f) => {
            let items: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                Value::Object(m) => m.values().collect(),
                _ => Vec::new(),
            };
            for it in items {
                if matches(f, root, it) {
                    out.push(it);
                }
            }
        }
    }
}

fn recurse<'a>(name: &str, v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            if let Some(x) = m.get(name) {
                out.push(x);
            }
            for x in m.values() {
                recurse(name, x, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                recurse(name, x, out);
            }
        }
        _ => {}
    }
}

fn matches(f: &Filter, root: &Value, item: &Value) -> bool {
    let left = eval(&f.left, root, item);
    let Some((op, operand)) = &f.op else {
        return !left.is_empty();
    };
    let Some(l) = left.first() else {
        return false;
    };
    let right: Value = match operand {
        Operand::Str(s) => Value::String(s.clone()),
        Operand::Num(n) => serde_json::json!(n),
        Operand::Bool(b) => Value::Bool(*b),
        Operand::Path(p) => match eval(p, root, item).first() {
            Some(v) => (*v).clone(),
            None => return false,
        },
    };
    let ord = match (l, &right) {
        (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (a, b) if *a == b => Some(std::cmp::Ordering::Equal),
        _ => None,
    };
    use std::cmp::Ordering::*;
    match op.as_str() {
        "==" => ord == Some(Equal),
        "!=" => ord != Some(Equal),
        "<" => ord == Some(Less),
        "<=" => matches!(ord, Some(Less | Equal)),
        ">" => ord == Some(Greater),
        ">=" => matches!(ord, Some(Greater | Equal)),
        _ => false,
    }
}

/// Renders `-o custom-columns=HEADER:PATH,…` over a document: one row per item of a List (or
/// the document itself), `<none>` where a path selects nothing.
pub fn custom_columns(spec: &str, doc: &Value) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let mut headers = Vec::new();
    let mut paths = Vec::new();
    for col in spec.split(',') {
        let (h, p) = col.split_once(':').ok_or(format!(
            "custom-columns: expected HEADER:JSONPATH, got {col:?}"
        ))?;
        if h.is_empty() {
            return Err(format!("custom-columns: empty header in {col:?}"));
        }
        let p = p.trim();
        let p = p
            .strip_prefix('{')
            .and_then(|x| x.strip_suffix('}'))
            .unwrap_or(p);
        headers.push(h.to_string());
        paths.push(Template::parse(&format!("{{{p}}}"))?);
    }
    let items: Vec<&Value> = match doc.get("items") {
        Some(Value::Array(a)) if doc.get("kind") == Some(&Value::String("List".into())) => {
            a.iter().collect()
        }
        _ => vec![doc],
    };
    let rows = items
        .into_iter()
        .map(|it| {
            paths
                .iter()
                .map(|t| {
                    let vals = t.values(it);
                    if vals.is_empty() {
                        "<none>".to_string()
                    } else {
                        vals.iter().map(print).collect::<Vec<_>>().join(",")
                    }
                })
                .collect()
        })
        .collect();
    Ok((headers, rows))
}

#[cfg(test)]
#[path = "jsonpath_tests.rs"]
mod tests;
