//! Just enough JSON for the contract's bodies, accepting exactly what Python's
//! `json.loads(body.decode("utf-8"))` accepts (servers/core/contract.py), so a
//! body gets the same answer from a Rust and a Python server: NaN and Infinity
//! are numbers, duplicate keys keep the last value, integers have no size limit
//! up to CPython's 4300 digits, nesting too deep to parse is an error.
//! Only the top-level object's fields are kept, and of each only whether it is
//! an integer (and which).

/// A top-level field's value, as far as the contract cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Int(i64), // an integer that fits i64
    BigInt,   // an integer beyond i64: out of every range the contract has
    Other,    // not an integer (true, 1.0, "1", null, [..], {..}, NaN, ...)
}

pub enum Parsed {
    Object(Vec<(Vec<u8>, Field)>),
    NotObject,
}

const MAX_DEPTH: usize = 1000; // about where CPython's decoder hits its recursion limit
const MAX_INT_DIGITS: usize = 4300; // CPython's int() limit: beyond it json.loads raises

struct Bad;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

/// Parse a body; `Err` means "not valid UTF-8 JSON".
pub fn parse(body: &[u8]) -> Result<Parsed, ()> {
    if std::str::from_utf8(body).is_err() {
        return Err(());
    }
    let mut p = Parser { s: body, i: 0 };
    p.ws();
    let top = if p.peek() == Some(b'{') { p.object(0, true) } else { p.value(0).map(|_| None) };
    let top = top.map_err(|_| ())?;
    p.ws();
    if p.i != p.s.len() {
        return Err(()); // "Extra data"
    }
    Ok(match top {
        Some(fields) => Parsed::Object(fields),
        None => Parsed::NotObject,
    })
}

/// The last value of `name` in an object (Python's dict keeps the last duplicate).
pub fn field(fields: &[(Vec<u8>, Field)], name: &str) -> Option<Field> {
    fields.iter().rev().find(|(key, _)| key == name.as_bytes()).map(|(_, value)| *value)
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, word: &[u8]) -> Result<(), Bad> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Bad)
        }
    }

    fn value(&mut self, depth: usize) -> Result<Field, Bad> {
        match self.peek().ok_or(Bad)? {
            b'{' => self.object(depth, false).map(|_| Field::Other),
            b'[' => self.array(depth).map(|_| Field::Other),
            b'"' => self.string(None).map(|_| Field::Other),
            b't' => self.eat(b"true").map(|_| Field::Other),
            b'f' => self.eat(b"false").map(|_| Field::Other),
            b'n' => self.eat(b"null").map(|_| Field::Other),
            b'N' => self.eat(b"NaN").map(|_| Field::Other),
            b'I' => self.eat(b"Infinity").map(|_| Field::Other),
            b'-' if self.s[self.i..].starts_with(b"-Infinity") => {
                self.i += 9;
                Ok(Field::Other)
            }
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(Bad),
        }
    }

    /// An object; its fields are kept only if `keep` (the top level).
    fn object(&mut self, depth: usize, keep: bool) -> Result<Option<Vec<(Vec<u8>, Field)>>, Bad> {
        if depth >= MAX_DEPTH {
            return Err(Bad);
        }
        self.i += 1; // '{'
        let mut fields = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Some(fields));
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(Bad);
            }
            let mut key = Vec::new();
            self.string(if keep { Some(&mut key) } else { None })?;
            self.ws();
            self.eat(b":")?;
            self.ws();
            let value = self.value(depth + 1)?;
            if keep {
                fields.push((key, value));
            }
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.ws();
                }
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Some(fields));
                }
                _ => return Err(Bad),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<(), Bad> {
        if depth >= MAX_DEPTH {
            return Err(Bad);
        }
        self.i += 1; // '['
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.value(depth + 1)?;
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.ws();
                }
                Some(b']') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(Bad),
            }
        }
    }

    /// A string (strict: no raw control characters); decoded into `out` if given.
    /// Escapes outside ASCII decode to a byte no field name contains: only ASCII
    /// names are ever looked up.
    fn string(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<(), Bad> {
        self.i += 1; // '"'
        loop {
            let byte = self.peek().ok_or(Bad)?;
            self.i += 1;
            let decoded = match byte {
                b'"' => return Ok(()),
                0..=0x1f => return Err(Bad),
                b'\\' => {
                    let escape = self.peek().ok_or(Bad)?;
                    self.i += 1;
                    match escape {
                        b'"' | b'\\' | b'/' => escape,
                        b'b' => 8,
                        b'f' => 12,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            let hex = self.s.get(self.i..self.i + 4).ok_or(Bad)?;
                            let text = std::str::from_utf8(hex).map_err(|_| Bad)?;
                            if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
                                return Err(Bad);
                            }
                            let code = u32::from_str_radix(text, 16).map_err(|_| Bad)?;
                            self.i += 4;
                            if code < 0x80 {
                                code as u8
                            } else {
                                0xff
                            }
                        }
                        _ => return Err(Bad),
                    }
                }
                other => other,
            };
            if let Some(out) = out.as_mut() {
                out.push(decoded);
            }
        }
    }

    /// Python's NUMBER_RE: -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?; an integer
    /// unless it has a fraction or an exponent.
    fn number(&mut self) -> Result<Field, Bad> {
        let negative = self.peek() == Some(b'-');
        if negative {
            self.i += 1;
        }
        let digits_start = self.i;
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                while matches!(self.peek(), Some(b'0'..=b'9')) {
                    self.i += 1;
                }
            }
            _ => return Err(Bad),
        }
        let digits_end = self.i;
        let mut float = false;
        if self.peek() == Some(b'.') && matches!(self.s.get(self.i + 1), Some(b'0'..=b'9')) {
            self.i += 1;
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1;
            }
            float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let mut at = self.i + 1;
            if matches!(self.s.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            if matches!(self.s.get(at), Some(b'0'..=b'9')) {
                self.i = at;
                while matches!(self.peek(), Some(b'0'..=b'9')) {
                    self.i += 1;
                }
                float = true;
            }
        }
        if float {
            return Ok(Field::Other);
        }
        let digits = &self.s[digits_start..digits_end];
        if digits.len() > MAX_INT_DIGITS {
            return Err(Bad);
        }
        let mut value: i64 = 0;
        for &d in digits {
            let next = value.checked_mul(10).and_then(|v| {
                if negative {
                    v.checked_sub((d - b'0') as i64)
                } else {
                    v.checked_add((d - b'0') as i64)
                }
            });
            match next {
                Some(v) => value = v,
                None => return Ok(Field::BigInt),
            }
        }
        Ok(Field::Int(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by(body: &str) -> Result<Option<Field>, ()> {
        match parse(body.as_bytes())? {
            Parsed::Object(fields) => Ok(field(&fields, "by")),
            Parsed::NotObject => Ok(None),
        }
    }

    #[test]
    fn like_python() {
        assert_eq!(by(r#"{"by": 5}"#), Ok(Some(Field::Int(5))));
        assert_eq!(by(r#" {"by": -0} "#), Ok(Some(Field::Int(0))));
        assert_eq!(by(r#"{"by": 1.0}"#), Ok(Some(Field::Other)));
        assert_eq!(by(r#"{"by": 1e3}"#), Ok(Some(Field::Other)));
        assert_eq!(by(r#"{"by": NaN}"#), Ok(Some(Field::Other)));
        assert_eq!(by(r#"{"by": true}"#), Ok(Some(Field::Other)));
        assert_eq!(by(r#"{"b\u0079": 7, "by": 8}"#), Ok(Some(Field::Int(8))));
        assert_eq!(by(r#"{"by": 7, "b\u0079": 9}"#), Ok(Some(Field::Int(9))));
        assert_eq!(by(r#"{"by": 100000000000000000000000000000}"#), Ok(Some(Field::BigInt)));
        assert_eq!(by(r#"{"by": -9223372036854775808}"#), Ok(Some(Field::Int(i64::MIN))));
        assert_eq!(by("[1]"), Ok(None));
        for bad in ["", "{", "{\"by\": 01}", "{\"by\": 1.}", "{\"by\":1,}", "\u{feff}{}",
                    "{\"by\": \"a\nb\"}", "{} x", "{\"by\": -}", "{'by': 1}", "{\"a\": \"\\x\"}"] {
            assert_eq!(by(bad), Err(()), "{:?}", bad);
        }
        let deep = "[".repeat(5000) + &"]".repeat(5000);
        assert_eq!(by(&deep), Err(()));
        let huge = format!("{{\"by\": {}}}", "9".repeat(4301));
        assert_eq!(by(&huge), Err(()));
        assert!(parse(b"\xff{}").is_err());
    }
}
