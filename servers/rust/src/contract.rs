//! Routing, validation and response shapes: servers/core/contract.py, in Rust.
//! The checks run in the same order, so every request gets the same status.
use crate::json::{self, Field, Parsed};

pub const MAX_BODY: usize = 64 * 1024;
const MIN_AMOUNT: i64 = 1;
const MAX_AMOUNT: i64 = 1000;
const MAX_KEY_DIGITS: usize = 12;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    Get(usize),
    Incr(usize, i64),
    Transfer(usize, usize, i64),
    Health,
    Stats,
}

/// A client error: a JSON `{"error": ...}` answer, never a 5xx.
#[derive(Debug)]
pub struct HttpError {
    pub status: u16,
    pub message: String,
    pub allow: &'static str,
}

fn error(status: u16, message: String) -> HttpError {
    HttpError { status, message, allow: "" }
}

/// Bytes as Python shows a latin-1-decoded str in an f-string: one char per byte.
pub fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

fn key(text: &[u8], keys: usize) -> Result<usize, HttpError> {
    if text.is_empty() || text.len() > MAX_KEY_DIGITS || !text.iter().all(u8::is_ascii_digit) {
        let shown = latin1(&text[..text.len().min(40)]);
        return Err(error(404, format!("no such key: '{}'", shown)));
    }
    let key: u64 = latin1(text).parse().unwrap_or(u64::MAX);
    if key >= keys as u64 {
        return Err(error(404, format!("key {} out of range 0..{}", key, keys - 1)));
    }
    Ok(key as usize)
}

fn method(method: &[u8], wanted: &'static str) -> Result<(), HttpError> {
    if method != wanted.as_bytes() {
        let shown = latin1(&method[..method.len().min(16)]);
        return Err(HttpError {
            status: 405,
            message: format!("method {} not allowed; use {}", shown, wanted),
            allow: wanted,
        });
    }
    Ok(())
}

type Fields = Vec<(Vec<u8>, Field)>;

fn json_object(body: &[u8]) -> Result<Fields, HttpError> {
    match json::parse(body) {
        Err(()) => Err(error(400, "body is not valid UTF-8 JSON".into())),
        Ok(Parsed::NotObject) => Err(error(400, "body must be a JSON object".into())),
        Ok(Parsed::Object(fields)) => Ok(fields),
    }
}

/// An integer field; `None` for a BigInt (out of every range), `Err` if not an integer.
fn int_field(fields: &Fields, name: &str) -> Result<Option<i64>, HttpError> {
    match json::field(fields, name) {
        Some(Field::Int(value)) => Ok(Some(value)),
        Some(Field::BigInt) => Ok(None),
        _ => Err(error(400, format!("field '{}' must be an integer", name))),
    }
}

fn amount(fields: &Fields, name: &str) -> Result<i64, HttpError> {
    match int_field(fields, name)? {
        Some(value) if (MIN_AMOUNT..=MAX_AMOUNT).contains(&value) => Ok(value),
        _ => Err(error(400, format!("field '{}' must be in {}..{}", name, MIN_AMOUNT, MAX_AMOUNT))),
    }
}

fn body_key(fields: &Fields, name: &str, keys: usize) -> Result<usize, HttpError> {
    match int_field(fields, name)? {
        Some(value) if value >= 0 && (value as u64) < keys as u64 => Ok(value as usize),
        value => {
            let shown = value.map_or_else(|| "(huge)".to_string(), |v| v.to_string());
            Err(error(404, format!("key {} out of range 0..{}", shown, keys - 1)))
        }
    }
}

/// Turn one request into a Call, or an HttpError (404/405/400/413).
pub fn parse(verb: &[u8], target: &[u8], body: &[u8], keys: usize) -> Result<Call, HttpError> {
    if body.len() > MAX_BODY {
        return Err(error(413, format!("body over {} bytes", MAX_BODY)));
    }
    let path = target.split(|&b| b == b'?').next().unwrap_or(b"");
    let parts: Vec<&[u8]> = path.split(|&b| b == b'/').collect();
    if parts.len() == 3 && parts[1] == b"kv" {
        method(verb, "GET")?;
        return Ok(Call::Get(key(parts[2], keys)?));
    }
    if parts.len() == 4 && parts[1] == b"kv" && parts[3] == b"incr" {
        let k = key(parts[2], keys)?;
        method(verb, "POST")?;
        return Ok(Call::Incr(k, amount(&json_object(body)?, "by")?));
    }
    if path == b"/transfer" {
        method(verb, "POST")?;
        let fields = json_object(body)?;
        let src = body_key(&fields, "from", keys)?;
        let dst = body_key(&fields, "to", keys)?;
        let n = amount(&fields, "amount")?;
        if src == dst {
            return Err(error(400, "'from' and 'to' must differ".into()));
        }
        return Ok(Call::Transfer(src, dst, n));
    }
    if path == b"/health" || path == b"/stats" {
        method(verb, "GET")?;
        return Ok(if path == b"/health" { Call::Health } else { Call::Stats });
    }
    let shown = latin1(&path[..path.len().min(80)]);
    Err(error(404, format!("no route for '{}'", shown)))
}

/// A JSON string literal, escaped as Python's json.dumps does (ensure_ascii).
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{:04x}", unit));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn error_body(err: &HttpError) -> Vec<u8> {
    format!("{{\"error\":{}}}", quote(&err.message)).into_bytes()
}

/// The 200 body of a state operation.
pub fn result_body(call: Call, value: i64, other: i64) -> Vec<u8> {
    match call {
        Call::Transfer(src, dst, amount) => format!(
            "{{\"from\":{},\"to\":{},\"amount\":{},\"from_value\":{},\"to_value\":{}}}",
            src, dst, amount, value, other
        ),
        Call::Get(key) | Call::Incr(key, _) => format!("{{\"key\":{},\"value\":{}}}", key, value),
        Call::Health | Call::Stats => unreachable!("not a state operation"),
    }
    .into_bytes()
}
