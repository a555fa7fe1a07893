//! The `| json` and `| logfmt` parsers as Loki runs them: JSON objects are
//! flattened with `_` between nested keys (arrays are skipped unless a
//! path asks for an element), logfmt reads `key=value` and `key="quoted"`
//! pairs; keys are sanitised to label names. A line that cannot be read
//! yields an error (`JSONParserErr`, `LogfmtParserErr`), not a panic.

/// Deepest JSON nesting read; deeper lines are a parser error.
const MAX_JSON_DEPTH: usize = 64;

/// A label name from a key: characters outside `[a-zA-Z0-9_]` become `_`.
pub(crate) fn sanitize_key(k: &str, out: &mut String) {
    if k.as_bytes().first().is_some_and(|b| b.is_ascii_digit()) {
        out.push('_');
    }
    for c in k.chars() {
        out.push(if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' });
    }
}

struct Json<'a> {
    b: &'a [u8],
    s: &'a str,
    i: usize,
}

#[derive(Debug)]
pub(crate) struct ParseErr;

impl<'a> Json<'a> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> Result<(), ParseErr> {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(ParseErr)
        }
    }
    fn string(&mut self) -> Result<String, ParseErr> {
        self.eat(b'"')?;
        let mut out = String::new();
        let start = self.i;
        // Fast path: no escapes.
        while self.i < self.b.len() {
            match self.b[self.i] {
                b'"' => {
                    out.push_str(&self.s[start..self.i]);
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => break,
                c if c < 0x20 => return Err(ParseErr),
                _ => self.i += 1,
            }
        }
        out.push_str(self.s.get(start..self.i).ok_or(ParseErr)?);
        while self.i < self.b.len() {
            let c = self.b[self.i];
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => {
                    let e = *self.b.get(self.i + 1).ok_or(ParseErr)?;
                    self.i += 2;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\x08'),
                        b'f' => out.push('\x0c'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hex = self.s.get(self.i..self.i + 4).ok_or(ParseErr)?;
                            let v = u32::from_str_radix(hex, 16).map_err(|_| ParseErr)?;
                            self.i += 4;
                            out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                        }
                        _ => return Err(ParseErr),
                    }
                }
                _ => {
                    let ch = self.s.get(self.i..).and_then(|r| r.chars().next()).ok_or(ParseErr)?;
                    out.push(ch);
                    self.i += ch.len_utf8();
                }
            }
        }
        Err(ParseErr)
    }
    /// Skips a value, returning its raw text.
    fn skip(&mut self, depth: usize) -> Result<&'a str, ParseErr> {
        if depth > MAX_JSON_DEPTH {
            return Err(ParseErr);
        }
        self.ws();
        let start = self.i;
        match self.b.get(self.i) {
            Some(b'"') => {
                self.string()?;
            }
            Some(b'{') | Some(b'[') => {
                let close = if self.b[self.i] == b'{' { b'}' } else { b']' };
                let obj = close == b'}';
                self.i += 1;
                self.ws();
                if self.b.get(self.i) == Some(&close) {
                    self.i += 1;
                } else {
                    loop {
                        if obj {
                            self.string()?;
                            self.eat(b':')?;
                        }
                        self.skip(depth + 1)?;
                        self.ws();
                        match self.b.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(&c) if c == close => {
                                self.i += 1;
                                break;
                            }
                            _ => return Err(ParseErr),
                        }
                    }
                }
            }
            Some(_) => {
                while self.i < self.b.len() && !matches!(self.b[self.i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    self.i += 1;
                }
                let t = &self.s[start..self.i];
                if !(t == "true" || t == "false" || t == "null" || crate::float::parse(t).is_ok()) {
                    return Err(ParseErr);
                }
            }
            None => return Err(ParseErr),
        }
        Ok(&self.s[start..self.i])
    }
    /// Reads an object, emitting flattened `prefix_key` → value pairs.
    fn object(&mut self, prefix: &str, depth: usize, emit: &mut dyn FnMut(String, String)) -> Result<(), ParseErr> {
        if depth > MAX_JSON_DEPTH {
            return Err(ParseErr);
        }
        self.eat(b'{')?;
        self.ws();
        if self.b.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            let k = self.string()?;
            self.eat(b':')?;
            self.ws();
            let mut name = String::with_capacity(prefix.len() + k.len() + 1);
            if !prefix.is_empty() {
                name.push_str(prefix);
                name.push('_');
            }
            sanitize_key(&k, &mut name);
            match self.b.get(self.i) {
                Some(b'{') => self.object(&name, depth + 1, emit)?,
                Some(b'"') => {
                    let v = self.string()?;
                    emit(name, v);
                }
                Some(b'[') => {
                    self.skip(depth + 1)?;
                }
                _ => {
                    let raw = self.skip(depth + 1)?;
                    if raw != "null" {
                        emit(name, raw.to_string());
                    }
                }
            }
            self.ws();
            match self.b.get(self.i) {
                Some(b',') => {
                    self.i += 1;
                    self.ws();
                }
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(ParseErr),
            }
        }
    }
}

/// Parses a JSON object line, calling `emit(label, value)` per leaf.
pub(crate) fn json_all(line: &str, emit: &mut dyn FnMut(String, String)) -> Result<(), ParseErr> {
    let mut p = Json { b: line.as_bytes(), s: line, i: 0 };
    p.object("", 0, emit)?;
    p.ws();
    if p.i != p.b.len() {
        return Err(ParseErr);
    }
    Ok(())
}

/// The value at `path` (object keys or array indexes): strings unquoted,
/// other values as their JSON text. `Ok(None)` when absent.
pub(crate) fn json_path(line: &str, path: &[String]) -> Result<Option<String>, ParseErr> {
    let mut p = Json { b: line.as_bytes(), s: line, i: 0 };
    for (depth, seg) in path.iter().enumerate() {
        p.ws();
        match p.b.get(p.i) {
            Some(b'{') => {
                p.i += 1;
                p.ws();
                if p.b.get(p.i) == Some(&b'}') {
                    return Ok(None);
                }
                let mut found = false;
                loop {
                    let k = p.string()?;
                    p.eat(b':')?;
                    if &k == seg {
                        found = true;
                        break;
                    }
                    p.skip(depth + 1)?;
                    p.ws();
                    match p.b.get(p.i) {
                        Some(b',') => p.i += 1,
                        Some(b'}') => break,
                        _ => return Err(ParseErr),
                    }
                }
                if !found {
                    return Ok(None);
                }
            }
            Some(b'[') => {
                let Ok(want) = seg.parse::<usize>() else { return Ok(None) };
                p.i += 1;
                p.ws();
                if p.b.get(p.i) == Some(&b']') {
                    return Ok(None);
                }
                let mut k = 0;
                while k < want {
                    p.skip(depth + 1)?;
                    p.ws();
                    match p.b.get(p.i) {
                        Some(b',') => p.i += 1,
                        _ => return Ok(None),
                    }
                    k += 1;
                }
            }
            _ => return Ok(None),
        }
    }
    p.ws();
    if p.b.get(p.i) == Some(&b'"') {
        return Ok(Some(p.string()?));
    }
    let raw = p.skip(path.len())?;
    Ok(if raw == "null" { None } else { Some(raw.to_string()) })
}

/// The fields a log line carries, as `| json` (a line that starts with
/// `{`) or `| logfmt` (any other) would extract them, in the line's order;
/// empty when the line is neither. What a log view lists when a line is
/// opened (Grafana's "detected fields").
pub fn detected_fields(line: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut emit = |k: String, v: String| out.push((k, v));
    let ok = if line.trim_start().starts_with('{') { json_all(line, &mut emit) } else { logfmt(line, &mut emit) };
    if ok.is_err() {
        out.clear();
    }
    out
}

/// Parses a logfmt line (go-logfmt rules), calling `emit` per `key=value`.
/// Bare keys carry no value and are skipped.
pub(crate) fn logfmt(line: &str, emit: &mut dyn FnMut(String, String)) -> Result<(), ParseErr> {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i] <= b' ' {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let ks = i;
        while i < b.len() && b[i] > b' ' && b[i] != b'=' {
            if b[i] == b'"' {
                return Err(ParseErr);
            }
            i += 1;
        }
        if i == ks {
            return Err(ParseErr);
        }
        let key = &line[ks..i];
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        i += 1;
        let value = if i < b.len() && b[i] == b'"' {
            let mut j = i + 1;
            let mut out = String::new();
            let mut closed = false;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        closed = true;
                        j += 1;
                        break;
                    }
                    b'\\' if j + 1 < b.len() => {
                        match b[j + 1] {
                            b'n' => out.push('\n'),
                            b't' => out.push('\t'),
                            b'r' => out.push('\r'),
                            b'"' => out.push('"'),
                            b'\\' => out.push('\\'),
                            other => {
                                out.push('\\');
                                out.push(other as char);
                            }
                        }
                        j += 2;
                    }
                    _ => {
                        let ch = line[j..].chars().next().ok_or(ParseErr)?;
                        out.push(ch);
                        j += ch.len_utf8();
                    }
                }
            }
            if !closed {
                return Err(ParseErr);
            }
            i = j;
            out
        } else {
            let vs = i;
            while i < b.len() && b[i] > b' ' {
                if b[i] == b'"' || b[i] == b'=' {
                    return Err(ParseErr);
                }
                i += 1;
            }
            line[vs..i].to_string()
        };
        let mut name = String::with_capacity(key.len());
        sanitize_key(key, &mut name);
        emit(name, value);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(f: fn(&str, &mut dyn FnMut(String, String)) -> Result<(), ParseErr>, s: &str) -> Option<Vec<(String, String)>> {
        let mut v = Vec::new();
        f(s, &mut |k, x| v.push((k, x))).ok()?;
        Some(v)
    }

    #[test]
    fn json_flattens_and_rejects() {
        let v = all(json_all, r#"{"a":"x\"y","b":{"c.d":2,"e":[1,2]},"f":true,"g":null,"h":-1.5e3}"#).unwrap();
        assert_eq!(v, vec![("a".into(), "x\"y".into()), ("b_c_d".into(), "2".into()), ("f".into(), "true".into()), ("h".into(), "-1.5e3".into())]);
        assert!(all(json_all, "GET / 200").is_none());
        assert!(all(json_all, r#"{"a":1"#).is_none());
        assert!(all(json_all, &"{\"a\":".repeat(100)).is_none());
        assert_eq!(json_path(r#"{"a":{"b":[5,{"c":"z"}]}}"#, &["a".into(), "b".into(), "1".into(), "c".into()]).unwrap(), Some("z".into()));
        assert_eq!(json_path(r#"{"a":{"b":[5]}}"#, &["a".into(), "b".into()]).unwrap(), Some("[5]".into()));
        assert_eq!(json_path(r#"{"a":1}"#, &["q".into()]).unwrap(), None);
    }

    #[test]
    fn logfmt_reads_pairs() {
        let v = all(logfmt, r#"2026-03-02T09:00:00Z WARN [pool] waited 5 ms pool=db msg="a b" x=1.5"#).unwrap();
        assert_eq!(v, vec![("pool".into(), "db".into()), ("msg".into(), "a b".into()), ("x".into(), "1.5".into())]);
        assert!(all(logfmt, r#"{"ts":"x"}"#).is_none());
        assert!(all(logfmt, r#"a="unclosed"#).is_none());
    }
    #[test]
    fn detected_fields_pick_the_parser_by_the_line() {
        assert_eq!(detected_fields(r#"{"level":"warn","msg":"slow","duration_ms":12.5}"#), vec![("level".into(), "warn".into()), ("msg".into(), "slow".into()), ("duration_ms".into(), "12.5".into())]);
        assert_eq!(detected_fields(r#"WARN pool=db msg="a b""#), vec![("pool".into(), "db".into()), ("msg".into(), "a b".into())]);
        assert!(detected_fields(r#"{"broken":"#).is_empty());
        assert!(detected_fields("plain words only").is_empty());
    }
}
