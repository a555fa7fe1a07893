//! The TOML parser: one pass over the bytes of the source, building the
//! value tree directly. Structure rules (no duplicate keys, no table defined
//! twice, no keys added to inline tables or static arrays) are checked as
//! each key lands, using the [`Origin`] of every table.

use super::{Entry, Error, ErrorKind, Origin, Spanned, Table, Value};

/// How deep keys, arrays and inline tables may nest. Bounds the recursion
/// of the parser, of the decoder and of dropping the tree.
pub const MAX_DEPTH: usize = 64;

/// Parses a whole TOML document into its root table.
pub fn parse(src: &str) -> Result<Table, Error> {
    let pos = if src.starts_with('\u{feff}') { 3 } else { 0 };
    Parser { src, pos }.document()
}

/// A key as written: its dotted parts, each with its span.
type Key = Vec<Spanned<String>>;

struct Parser<'a> {
    src: &'a str,
    /// Byte offset of the next character; always on a char boundary.
    pos: usize,
}

fn err<T>(at: usize, kind: ErrorKind) -> Result<T, Error> {
    Err(Error { at, kind })
}

/// TOML forbids these control characters in strings and comments.
fn is_forbidden(c: char) -> bool {
    matches!(c, '\0'..='\x08' | '\x0a'..='\x1f' | '\x7f')
}

fn is_bare_key(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The dotted name of the first `n` parts of a key, for messages.
fn key_name(key: &[Spanned<String>], n: usize) -> String {
    key.iter().take(n).map(|k| k.get_ref().as_str()).collect::<Vec<_>>().join(".")
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }
    fn peek_char(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }
    fn rest(&self) -> &str {
        self.src.get(self.pos..).unwrap_or("")
    }
    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.pos += 1;
        }
        hit
    }
    fn expect(&mut self, b: u8, expected: &'static str) -> Result<(), Error> {
        if self.eat(b) {
            return Ok(());
        }
        self.unexpected(expected)
    }
    /// An error for the character at the cursor (or the end of the file).
    fn unexpected<T>(&self, expected: &'static str) -> Result<T, Error> {
        match self.peek_char() {
            Some(c) if is_forbidden(c) && c != '\n' => err(self.pos, ErrorKind::ControlCharacter { found: c }),
            Some(found) => err(self.pos, ErrorKind::Unexpected { found, expected }),
            None => err(self.pos, ErrorKind::UnexpectedEnd { expected }),
        }
    }
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }
    /// Consumes `\n` or `\r\n`; a lone `\r` is an error.
    fn newline(&mut self) -> Result<(), Error> {
        if self.rest().starts_with("\r\n") {
            self.pos += 2;
            return Ok(());
        }
        self.expect(b'\n', "a line break")
    }
    /// Skips a `#` comment up to (not including) the line break.
    fn comment(&mut self) -> Result<(), Error> {
        self.pos += 1;
        while let Some(c) = self.peek_char() {
            if c == '\n' || self.rest().starts_with("\r\n") {
                break;
            }
            if is_forbidden(c) {
                return err(self.pos, ErrorKind::ControlCharacter { found: c });
            }
            self.pos += c.len_utf8();
        }
        Ok(())
    }
    /// Whitespace, comments and line breaks (inside arrays).
    fn skip_blank(&mut self) -> Result<(), Error> {
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'#') => self.comment()?,
                Some(b'\n' | b'\r') => self.newline()?,
                _ => return Ok(()),
            }
        }
    }
    /// After a key/value pair or a header: an optional comment, then a line break or the end.
    fn line_end(&mut self, expected: &'static str) -> Result<(), Error> {
        self.skip_ws();
        if self.peek() == Some(b'#') {
            self.comment()?;
        }
        match self.peek() {
            None => Ok(()),
            Some(b'\n' | b'\r') => self.newline(),
            Some(_) => self.unexpected(expected),
        }
    }

    fn document(mut self) -> Result<Table, Error> {
        let mut root = Table::with_origin(Origin::Header);
        // The path of the table that key/value lines go into.
        let mut current: Vec<String> = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Ok(root),
                Some(b'#') => self.comment()?,
                Some(b'\n' | b'\r') => self.newline()?,
                Some(b'[') => {
                    current = self.header(&mut root)?;
                    self.line_end("a line break after the table header")?;
                }
                Some(_) => {
                    let table = table_at(&mut root, &current, self.pos)?;
                    self.key_value(table, current.len())?;
                    self.line_end("a line break after the value")?;
                }
            }
        }
    }

    /// `[a.b]` or `[[a.b]]`: defines the table and returns its path.
    fn header(&mut self, root: &mut Table) -> Result<Vec<String>, Error> {
        let start = self.pos;
        self.pos += 1;
        let array = self.eat(b'[');
        self.skip_ws();
        let key = self.key(0)?;
        self.skip_ws();
        self.expect(b']', "']' to close the table header")?;
        if array {
            self.expect(b']', "']]' to close the array-of-tables header")?;
        }
        let span = start..self.pos;
        if array {
            define_array_element(root, &key, span)?;
        } else {
            define_table(root, &key, span)?;
        }
        Ok(key.into_iter().map(Spanned::into_inner).collect())
    }

    /// `key = value` into `table`, which sits `depth` levels below the root.
    fn key_value(&mut self, table: &mut Table, depth: usize) -> Result<(), Error> {
        let key = self.key(depth)?;
        self.skip_ws();
        self.expect(b'=', "'=' after the key")?;
        self.skip_ws();
        let value = self.value(depth + key.len())?;
        insert_dotted(table, key, value)
    }

    /// A possibly dotted key; `depth` is how deep its table already is.
    fn key(&mut self, depth: usize) -> Result<Key, Error> {
        let mut parts = vec![self.simple_key()?];
        loop {
            let save = self.pos;
            self.skip_ws();
            if !self.eat(b'.') {
                self.pos = save;
                return Ok(parts);
            }
            self.skip_ws();
            if depth + parts.len() >= MAX_DEPTH {
                return err(self.pos, ErrorKind::TooDeep);
            }
            parts.push(self.simple_key()?);
        }
    }

    fn simple_key(&mut self) -> Result<Spanned<String>, Error> {
        let start = self.pos;
        let name = match self.peek() {
            Some(b'"') => self.basic_string()?,
            Some(b'\'') => self.literal_string()?,
            Some(b) if is_bare_key(b) => {
                while self.peek().is_some_and(is_bare_key) {
                    self.pos += 1;
                }
                self.src.get(start..self.pos).unwrap_or("").to_string()
            }
            _ => return self.unexpected("a key (letters, digits, '_', '-', or a quoted string)"),
        };
        Ok(Spanned::new(start..self.pos, name))
    }

    /// A value nested `depth` levels below the root.
    fn value(&mut self, depth: usize) -> Result<Spanned<Value>, Error> {
        let start = self.pos;
        let value = match self.peek() {
            Some(b'"' | b'\'') => Value::String(self.string()?),
            Some(b'[' | b'{') if depth >= MAX_DEPTH => return err(start, ErrorKind::TooDeep),
            Some(b'[') => self.array(depth + 1)?,
            Some(b'{') => self.inline_table(depth + 1)?,
            _ => self.scalar()?,
        };
        Ok(Spanned::new(start..self.pos, value))
    }

    fn array(&mut self, depth: usize) -> Result<Value, Error> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_blank()?;
            if self.eat(b']') {
                return Ok(Value::Array(items));
            }
            items.push(self.value(depth)?);
            self.skip_blank()?;
            if self.eat(b']') {
                return Ok(Value::Array(items));
            }
            self.expect(b',', "',' or ']' in the array")?;
        }
    }

    fn inline_table(&mut self, depth: usize) -> Result<Value, Error> {
        self.pos += 1;
        let mut table = Table::with_origin(Origin::Inline);
        self.skip_ws();
        if self.eat(b'}') {
            return Ok(Value::Table(table));
        }
        loop {
            self.skip_ws();
            self.key_value(&mut table, depth)?;
            self.skip_ws();
            if self.eat(b'}') {
                return Ok(Value::Table(table));
            }
            self.expect(b',', "',' or '}' (an inline table stays on one line, without a trailing comma)")?;
        }
    }

    // --- strings --------------------------------------------------------

    fn string(&mut self) -> Result<String, Error> {
        let rest = self.rest();
        if rest.starts_with("\"\"\"") {
            self.multiline_string(b'"')
        } else if rest.starts_with("'''") {
            self.multiline_string(b'\'')
        } else if rest.starts_with('"') {
            self.basic_string()
        } else {
            self.literal_string()
        }
    }

    /// `"..."` with escapes, on one line.
    fn basic_string(&mut self) -> Result<String, Error> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek_char() {
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => self.escape(&mut out)?,
                Some(c) => self.plain_char(c, &mut out, start)?,
                None => return err(start, ErrorKind::UnterminatedString),
            }
        }
    }

    /// `'...'`, taken as written, on one line.
    fn literal_string(&mut self) -> Result<String, Error> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek_char() {
                Some('\'') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(c) => self.plain_char(c, &mut out, start)?,
                None => return err(start, ErrorKind::UnterminatedString),
            }
        }
    }

    /// One character of a single-line string: no line breaks, no control characters.
    fn plain_char(&mut self, c: char, out: &mut String, start: usize) -> Result<(), Error> {
        match c {
            '\n' | '\r' => err(start, ErrorKind::UnterminatedString),
            c if is_forbidden(c) => err(self.pos, ErrorKind::ControlCharacter { found: c }),
            c => {
                out.push(c);
                self.pos += c.len_utf8();
                Ok(())
            }
        }
    }

    /// `"""..."""` (escapes, line-ending backslash) or `'''...'''` (as written).
    fn multiline_string(&mut self, quote: u8) -> Result<String, Error> {
        let start = self.pos;
        self.pos += 3;
        // A line break right after the opening quotes is not part of the string.
        if self.rest().starts_with("\r\n") {
            self.pos += 2;
        } else {
            self.eat(b'\n');
        }
        let mut out = String::new();
        loop {
            let Some(c) = self.peek_char() else { return err(start, ErrorKind::UnterminatedString) };
            if c as u32 == u32::from(quote) && self.rest().as_bytes().starts_with(&[quote; 3]) {
                self.pos += 3;
                // Up to two more quotes belong to the content ("""a"""" is `a"`).
                for _ in 0..2 {
                    if self.eat(quote) {
                        out.push(char::from(quote));
                    }
                }
                return Ok(out);
            }
            match c {
                '\\' if quote == b'"' => self.multiline_escape(&mut out)?,
                '\r' => {
                    self.newline()?;
                    out.push_str("\r\n");
                }
                '\n' => {
                    self.pos += 1;
                    out.push('\n');
                }
                c if is_forbidden(c) => return err(self.pos, ErrorKind::ControlCharacter { found: c }),
                c => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    /// In `"""` strings a backslash at the end of a line (trailing spaces
    /// allowed) removes the line break and the whitespace after it.
    fn multiline_escape(&mut self, out: &mut String) -> Result<(), Error> {
        let at = self.pos;
        let after = self.rest().get(1..).unwrap_or("");
        let ws = after.len() - after.trim_start_matches([' ', '\t']).len();
        let rest = &after[ws..];
        if !(rest.starts_with('\n') || rest.starts_with("\r\n")) {
            if ws > 0 {
                return err(at, ErrorKind::BadEscape { found: "\\ ".into() });
            }
            return self.escape(out);
        }
        self.pos += 1 + ws;
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            if self.peek() == Some(b'\r') {
                self.newline()?;
            } else {
                self.pos += 1;
            }
        }
        Ok(())
    }

    /// A `\` escape in a basic string.
    fn escape(&mut self, out: &mut String) -> Result<(), Error> {
        let at = self.pos;
        self.pos += 1;
        let Some(c) = self.peek_char() else { return err(at, ErrorKind::UnterminatedString) };
        self.pos += c.len_utf8();
        let decoded = match c {
            'b' => '\u{8}',
            't' => '\t',
            'n' => '\n',
            'f' => '\u{c}',
            'r' => '\r',
            '"' => '"',
            '\\' => '\\',
            'u' => self.unicode_escape(at, 4)?,
            'U' => self.unicode_escape(at, 8)?,
            c => return err(at, ErrorKind::BadEscape { found: format!("\\{c}") }),
        };
        out.push(decoded);
        Ok(())
    }

    fn unicode_escape(&mut self, at: usize, len: usize) -> Result<char, Error> {
        let hex = self.rest().get(..len).filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
        let c = hex.and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32);
        match c {
            Some(c) => {
                self.pos += len;
                Ok(c)
            }
            None => {
                let shown: String = self.rest().chars().take(len).collect();
                let u = if len == 4 { 'u' } else { 'U' };
                err(at, ErrorKind::BadEscape { found: format!("\\{u}{shown}") })
            }
        }
    }

    // --- numbers, booleans ----------------------------------------------

    /// A boolean, integer or float (datetimes are rejected).
    fn scalar(&mut self) -> Result<Value, Error> {
        let start = self.pos;
        let b = self.src.as_bytes().get(start..).unwrap_or(&[]);
        let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
        if (digit(0) && digit(1) && digit(2) && digit(3) && b.get(4) == Some(&b'-')) || (digit(0) && digit(1) && b.get(2) == Some(&b':')) {
            return err(start, ErrorKind::Datetime);
        }
        let len = b.iter().take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'+' | b'-' | b'.')).count();
        if len == 0 {
            return self.unexpected("a value (a string, number, boolean, array or inline table)");
        }
        let text = self.src.get(start..start + len).unwrap_or("");
        let value = match text {
            "true" => Value::Boolean(true),
            "false" => Value::Boolean(false),
            _ => number(text).map_err(|kind| Error { at: start, kind })?,
        };
        self.pos += len;
        Ok(value)
    }
}

fn bad(text: &str, reason: &'static str) -> ErrorKind {
    ErrorKind::BadNumber { text: text.to_string(), reason }
}

/// An integer or float token, per TOML's grammar.
fn number(text: &str) -> Result<Value, ErrorKind> {
    let (sign, unsigned) = match text.as_bytes().first() {
        Some(b'+' | b'-') => text.split_at(1),
        _ => ("", text),
    };
    match unsigned {
        "inf" => return Ok(Value::Float(if sign == "-" { f64::NEG_INFINITY } else { f64::INFINITY })),
        "nan" => return Ok(Value::Float(if sign == "-" { -f64::NAN } else { f64::NAN })),
        _ => {}
    }
    if let Some((radix, digits)) = radix_prefix(unsigned) {
        if !sign.is_empty() {
            return Err(bad(text, "hexadecimal, octal and binary integers take no sign"));
        }
        return radix_integer(text, digits, radix);
    }
    if !unsigned.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return Err(match unsigned.bytes().next() {
            Some(b'.') => bad(text, "a float needs digits before the decimal point"),
            _ if sign.is_empty() => ErrorKind::BareWord { text: text.to_string() },
            _ => bad(text, "expected digits after the sign"),
        });
    }
    // `5s`, `1h`: a duration (or other word) that lost its quotes.
    if unsigned.bytes().any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E') {
        return Err(ErrorKind::BareWord { text: text.to_string() });
    }
    if unsigned.contains(['.', 'e', 'E']) {
        return float(text, unsigned);
    }
    decimal_digits(text, unsigned)?;
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    clean.parse::<i64>().map(Value::Integer).map_err(|_| ErrorKind::IntegerOverflow { text: text.to_string() })
}

fn radix_prefix(s: &str) -> Option<(u32, &str)> {
    [("0x", 16), ("0o", 8), ("0b", 2)].iter().find_map(|&(p, r)| s.strip_prefix(p).map(|d| (r, d)))
}

/// Digits separated by single underscores: `1_000`, not `_1`, `1_` or `1__0`.
fn underscores_ok(digits: &str, is_digit: impl Fn(u8) -> bool) -> bool {
    let b = digits.as_bytes();
    !b.is_empty()
        && b.first().is_some_and(|&c| is_digit(c))
        && b.last().is_some_and(|&c| is_digit(c))
        && b.iter().all(|&c| c == b'_' || is_digit(c))
        && !digits.contains("__")
}

/// The integer part of a decimal number: digits, no leading zero.
fn decimal_digits(text: &str, digits: &str) -> Result<(), ErrorKind> {
    if !underscores_ok(digits, |c| c.is_ascii_digit()) {
        return Err(bad(text, "expected digits, with single underscores only between digits"));
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(bad(text, "leading zeros are not allowed"));
    }
    Ok(())
}

fn radix_integer(text: &str, digits: &str, radix: u32) -> Result<Value, ErrorKind> {
    if !underscores_ok(digits, |c| char::from(c).is_digit(radix)) {
        return Err(bad(text, "expected digits of the base, with single underscores only between digits"));
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    i64::from_str_radix(&clean, radix).map(Value::Integer).map_err(|_| ErrorKind::IntegerOverflow { text: text.to_string() })
}

/// `int [. frac] [e exp]` with at least one of the two; parsed by the
/// standard library once the underscores are gone.
fn float(text: &str, unsigned: &str) -> Result<Value, ErrorKind> {
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    decimal_digits(text, int)?;
    if let Some(f) = frac
        && !underscores_ok(f, |c| c.is_ascii_digit())
    {
        return Err(bad(text, "expected digits after the decimal point"));
    }
    if let Some(e) = exponent
        && !underscores_ok(e.strip_prefix(['+', '-']).unwrap_or(e), |c| c.is_ascii_digit())
    {
        return Err(bad(text, "expected digits in the exponent"));
    }
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    crate::float::parse(&clean).map(Value::Float).map_err(|_| bad(text, "not a valid float"))
}

// --- building the tree ---------------------------------------------------------

/// What a value is, for "cannot add keys to" messages.
fn what(v: &Value) -> &'static str {
    match v {
        Value::Table(t) if t.origin == Origin::Inline => "an inline table, which is complete where it is written",
        Value::Table(_) => "a table defined elsewhere (dotted keys cannot extend it)",
        Value::Array(a) if is_array_of_tables(a) => "an array of tables",
        Value::Array(_) => "an array (not an array of tables)",
        v => v.type_name(),
    }
}

/// Arrays of tables always hold at least the table their first header made.
fn is_array_of_tables(items: &[Spanned<Value>]) -> bool {
    matches!(items.first().map(Spanned::get_ref), Some(Value::Table(t)) if t.origin == Origin::Header)
}

/// The table a header path leads to: the last element of arrays of tables.
fn table_at<'t>(root: &'t mut Table, path: &[String], at: usize) -> Result<&'t mut Table, Error> {
    let mut table = root;
    for key in path {
        let value = table.entries.get_mut(key).map(|e| &mut e.value.value);
        table = match value {
            Some(Value::Table(t)) => t,
            Some(Value::Array(items)) => match items.last_mut().map(|v| &mut v.value) {
                Some(Value::Table(t)) => t,
                _ => return err(at, ErrorKind::NotExtendable { key: key.clone(), what: "an array (not an array of tables)" }),
            },
            _ => return err(at, ErrorKind::NotExtendable { key: key.clone(), what: "not a table" }),
        };
    }
    Ok(table)
}

/// Steps into (or creates) the parent table `key[n]` of a header.
fn header_parent<'t>(table: &'t mut Table, key: &Key, n: usize, span: &std::ops::Range<usize>) -> Result<&'t mut Table, Error> {
    let part = &key[n];
    let entry = table.entries.entry(part.get_ref().clone()).or_insert_with(|| Entry {
        key_span: part.span(),
        value: Spanned::new(span.clone(), Value::Table(Table::with_origin(Origin::Implicit))),
    });
    let not_table = what(&entry.value.value);
    match &mut entry.value.value {
        Value::Table(t) if t.origin != Origin::Inline => Ok(t),
        Value::Array(items) if is_array_of_tables(items) => match items.last_mut().map(|v| &mut v.value) {
            Some(Value::Table(t)) => Ok(t),
            _ => err(part.span().start, ErrorKind::NotExtendable { key: key_name(key, n + 1), what: not_table }),
        },
        _ => err(part.span().start, ErrorKind::NotExtendable { key: key_name(key, n + 1), what: not_table }),
    }
}

/// Walks to the table that holds the last part of a header key.
fn header_owner<'t>(root: &'t mut Table, key: &Key, span: &std::ops::Range<usize>) -> Result<&'t mut Table, Error> {
    let mut table = root;
    for n in 0..key.len().saturating_sub(1) {
        table = header_parent(table, key, n, span)?;
    }
    Ok(table)
}

/// `[a.b]`: a new table, or one so far only implied by a deeper header.
fn define_table(root: &mut Table, key: &Key, span: std::ops::Range<usize>) -> Result<(), Error> {
    let owner = header_owner(root, key, &span)?;
    let Some(last) = key.last() else { return Ok(()) };
    let at = last.span().start;
    match owner.entries.get_mut(last.get_ref()) {
        None => {
            let value = Spanned::new(span, Value::Table(Table::with_origin(Origin::Header)));
            owner.entries.insert(last.get_ref().clone(), Entry { key_span: last.span(), value });
            Ok(())
        }
        Some(Entry { value: Spanned { value: Value::Table(t), span: s }, .. }) if t.origin == Origin::Implicit => {
            t.origin = Origin::Header;
            *s = span;
            Ok(())
        }
        Some(Entry { value: Spanned { value: Value::Table(_), .. }, .. }) => err(at, ErrorKind::TableRedefined { key: key_name(key, key.len()) }),
        Some(e) => err(at, ErrorKind::NotExtendable { key: key_name(key, key.len()), what: what(&e.value.value) }),
    }
}

/// `[[a.b]]`: a new table at the end of the array of tables `a.b`.
fn define_array_element(root: &mut Table, key: &Key, span: std::ops::Range<usize>) -> Result<(), Error> {
    let owner = header_owner(root, key, &span)?;
    let Some(last) = key.last() else { return Ok(()) };
    let element = Spanned::new(span.clone(), Value::Table(Table::with_origin(Origin::Header)));
    match owner.entries.get_mut(last.get_ref()) {
        None => {
            let value = Spanned::new(span, Value::Array(vec![element]));
            owner.entries.insert(last.get_ref().clone(), Entry { key_span: last.span(), value });
            Ok(())
        }
        Some(Entry { value: Spanned { value: Value::Array(items), .. }, .. }) if is_array_of_tables(items) => {
            items.push(element);
            Ok(())
        }
        Some(e) => err(last.span().start, ErrorKind::NotExtendable { key: key_name(key, key.len()), what: what(&e.value.value) }),
    }
}

/// `a.b.c = value` into `table`: `a` and `b` are created as dotted tables
/// or must be ones; `c` must be new.
fn insert_dotted(table: &mut Table, key: Key, value: Spanned<Value>) -> Result<(), Error> {
    let mut table = table;
    let Some((last, parents)) = key.split_last() else { return Ok(()) };
    for (n, part) in parents.iter().enumerate() {
        let entry = table.entries.entry(part.get_ref().clone()).or_insert_with(|| Entry {
            key_span: part.span(),
            value: Spanned::new(part.span(), Value::Table(Table::with_origin(Origin::Dotted))),
        });
        let not_table = what(&entry.value.value);
        table = match &mut entry.value.value {
            Value::Table(t) if t.origin == Origin::Dotted => t,
            _ => return err(part.span().start, ErrorKind::NotExtendable { key: key_name(&key, n + 1), what: not_table }),
        };
    }
    if table.entries.contains_key(last.get_ref()) {
        return err(last.span().start, ErrorKind::DuplicateKey { key: key_name(&key, key.len()) });
    }
    table.entries.insert(last.get_ref().clone(), Entry { key_span: last.span(), value });
    Ok(())
}
