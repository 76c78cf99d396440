//! `cjson`: JSON encoding and decoding with the behaviour of the
//! lua-cjson build Redis ships (number format `%.14g`, sparse array rules,
//! depth limits, error texts).

use std::sync::Arc;

use mlua::{LightUserData, Lua, MultiValue, Table, Value};
use parking_lot::Mutex;

use super::{fmt_g, lib_error};

/// Settings the configuration functions change; they last for the life
/// of the Lua state, as in Redis.
#[derive(Debug, Clone)]
struct Config {
    encode_max_depth: u32,
    decode_max_depth: u32,
    precision: usize,
    sparse_convert: bool,
    sparse_ratio: u32,
    sparse_safe: u32,
    encode_invalid: Invalid,
    decode_invalid: bool,
    keep_buffer: bool,
    array_mt: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Invalid {
    Refuse,
    Allow,
    Null,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            precision: 14,
            sparse_convert: false,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_invalid: Invalid::Refuse,
            decode_invalid: true,
            keep_buffer: true,
            array_mt: false,
        }
    }
}

/// Builds the `cjson` table.
pub(crate) fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let cfg = Arc::new(Mutex::new(Config::default()));
    let array_mt = lua.create_table()?;
    let null = Value::LightUserData(LightUserData(std::ptr::null_mut()));

    let (c, mt) = (cfg.clone(), array_mt.clone());
    t.raw_set(
        "encode",
        lua.create_function(move |lua, args: MultiValue| {
            if args.len() != 1 {
                return Err(lib_error(
                    lua,
                    "bad argument #1 to 'encode' (expected 1 argument)",
                ));
            }
            let cfg = c.lock().clone();
            let mut out = Vec::new();
            encode(lua, &cfg, &mt, &args[0], 0, &mut out)?;
            lua.create_string(out)
        })?,
    )?;
    let (c, mt) = (cfg.clone(), array_mt.clone());
    t.raw_set(
        "decode",
        lua.create_function(move |lua, args: MultiValue| {
            let s = match args.iter().collect::<Vec<_>>().as_slice() {
                [Value::String(s)] => s.as_bytes().to_vec(),
                [v @ (Value::Integer(_) | Value::Number(_))] => lua
                    .coerce_string((*v).clone())?
                    .map(|s| s.as_bytes().to_vec())
                    .unwrap_or_default(),
                [_] => {
                    return Err(lib_error(
                        lua,
                        "bad argument #1 to 'decode' (string expected)",
                    ))
                }
                _ => {
                    return Err(lib_error(
                        lua,
                        "bad argument #1 to 'decode' (expected 1 argument)",
                    ))
                }
            };
            let cfg = c.lock().clone();
            let mut p = Parser {
                s: &s,
                pos: 0,
                cfg: &cfg,
                lua,
                mt: &mt,
                depth: 0,
            };
            let v = p.value().map_err(|e| lib_error(lua, &e))?;
            p.skip_ws();
            if p.pos < s.len() {
                let tok = p.describe_here();
                return Err(lib_error(
                    lua,
                    &format!(
                        "Expected the end but found {tok} at character {}",
                        p.pos + 1
                    ),
                ));
            }
            Ok(v)
        })?,
    )?;
    t.raw_set("null", null)?;
    t.raw_set("array_mt", array_mt)?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;

    let c = cfg.clone();
    t.raw_set(
        "encode_max_depth",
        lua.create_function(move |_, n: Option<u32>| {
            let mut g = c.lock();
            if let Some(n) = n {
                g.encode_max_depth = n.max(1);
            }
            Ok(g.encode_max_depth)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "decode_max_depth",
        lua.create_function(move |_, n: Option<u32>| {
            let mut g = c.lock();
            if let Some(n) = n {
                g.decode_max_depth = n.max(1);
            }
            Ok(g.decode_max_depth)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "encode_number_precision",
        lua.create_function(move |lua, n: Option<u32>| {
            let mut g = c.lock();
            if let Some(n) = n {
                if !(1..=14).contains(&n) {
                    return Err(lib_error(
                        lua,
                        "bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)",
                    ));
                }
                g.precision = n as usize;
            }
            Ok(g.precision)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "encode_keep_buffer",
        lua.create_function(move |_, b: Option<bool>| {
            let mut g = c.lock();
            if let Some(b) = b {
                g.keep_buffer = b;
            }
            Ok(g.keep_buffer)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "encode_sparse_array",
        lua.create_function(
            move |_, (convert, ratio, safe): (Option<bool>, Option<u32>, Option<u32>)| {
                let mut g = c.lock();
                if let Some(v) = convert {
                    g.sparse_convert = v;
                }
                if let Some(v) = ratio {
                    g.sparse_ratio = v;
                }
                if let Some(v) = safe {
                    g.sparse_safe = v;
                }
                Ok((g.sparse_convert, g.sparse_ratio, g.sparse_safe))
            },
        )?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "encode_invalid_numbers",
        lua.create_function(move |lua, v: Value| {
            let mut g = c.lock();
            match v {
                Value::Nil => {}
                Value::Boolean(b) => {
                    g.encode_invalid = if b { Invalid::Allow } else { Invalid::Refuse }
                }
                Value::String(s) if &*s.as_bytes() == b"null" => g.encode_invalid = Invalid::Null,
                _ => {
                    return Err(lib_error(
                        lua,
                        "bad argument #1 to 'encode_invalid_numbers' (invalid option)",
                    ))
                }
            }
            Ok(match g.encode_invalid {
                Invalid::Refuse => Value::Boolean(false),
                Invalid::Allow => Value::Boolean(true),
                Invalid::Null => Value::String(lua.create_string("null")?),
            })
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "decode_invalid_numbers",
        lua.create_function(move |_, b: Option<bool>| {
            let mut g = c.lock();
            if let Some(b) = b {
                g.decode_invalid = b;
            }
            Ok(g.decode_invalid)
        })?,
    )?;
    let c = cfg;
    t.raw_set(
        "decode_array_with_array_mt",
        lua.create_function(move |_, b: Option<bool>| {
            let mut g = c.lock();
            if let Some(b) = b {
                g.array_mt = b;
            }
            Ok(g.array_mt)
        })?,
    )?;
    Ok(t)
}

fn encode_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

fn encode_number(lua: &Lua, cfg: &Config, n: f64, out: &mut Vec<u8>) -> mlua::Result<()> {
    if !n.is_finite() {
        match cfg.encode_invalid {
            Invalid::Refuse => {
                return Err(lib_error(
                    lua,
                    "Cannot serialise number: must not be NaN or Inf",
                ))
            }
            Invalid::Null => {
                out.extend_from_slice(b"null");
                return Ok(());
            }
            Invalid::Allow => {
                out.extend_from_slice(if n.is_nan() {
                    b"nan"
                } else if n > 0.0 {
                    b"inf"
                } else {
                    b"-inf"
                });
                return Ok(());
            }
        }
    }
    out.extend_from_slice(fmt_g(n, cfg.precision).as_bytes());
    Ok(())
}

/// The largest key when `t` is an array (every key a positive integer),
/// `None` otherwise.
fn array_length(t: &Table) -> mlua::Result<Option<(usize, usize)>> {
    let mut max = 0usize;
    let mut items = 0usize;
    for pair in t.pairs::<Value, Value>() {
        let (k, _) = pair?;
        let n = match k {
            Value::Integer(i) if i >= 1 => i as usize,
            Value::Number(f) if f >= 1.0 && f.fract() == 0.0 => f as usize,
            _ => return Ok(None),
        };
        max = max.max(n);
        items += 1;
    }
    Ok(Some((max, items)))
}

fn encode(
    lua: &Lua,
    cfg: &Config,
    mt: &Table,
    v: &Value,
    depth: u32,
    out: &mut Vec<u8>,
) -> mlua::Result<()> {
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(i) => encode_number(lua, cfg, *i as f64, out)?,
        Value::Number(n) => encode_number(lua, cfg, *n, out)?,
        Value::String(s) => encode_string(&s.as_bytes(), out),
        Value::Table(t) => {
            let depth = depth + 1;
            if depth > cfg.encode_max_depth {
                return Err(lib_error(
                    lua,
                    &format!("Cannot serialise, excessive nesting ({depth})"),
                ));
            }
            let is_mt_array = t.metatable().is_some_and(|m| &m == mt);
            let shape = array_length(t)?;
            match shape {
                Some((max, items)) if max > 0 || is_mt_array => {
                    let as_array = if max > items * cfg.sparse_ratio as usize
                        && max > cfg.sparse_safe as usize
                        && cfg.sparse_ratio > 0
                    {
                        if !cfg.sparse_convert {
                            return Err(lib_error(
                                lua,
                                "Cannot serialise table: excessively sparse array",
                            ));
                        }
                        false
                    } else {
                        true
                    };
                    if as_array {
                        out.push(b'[');
                        for i in 1..=max {
                            if i > 1 {
                                out.push(b',');
                            }
                            let item: Value = t.raw_get(i)?;
                            encode(lua, cfg, mt, &item, depth, out)?;
                        }
                        out.push(b']');
                    } else {
                        encode_object(lua, cfg, mt, t, depth, out)?;
                    }
                }
                _ => encode_object(lua, cfg, mt, t, depth, out)?,
            }
        }
        other => {
            return Err(lib_error(
                lua,
                &format!("Cannot serialise {}: type not supported", other.type_name()),
            ))
        }
    }
    Ok(())
}

fn encode_object(
    lua: &Lua,
    cfg: &Config,
    mt: &Table,
    t: &Table,
    depth: u32,
    out: &mut Vec<u8>,
) -> mlua::Result<()> {
    out.push(b'{');
    let mut first = true;
    for pair in t.pairs::<Value, Value>() {
        let (k, v) = pair?;
        if !first {
            out.push(b',');
        }
        first = false;
        match &k {
            Value::String(s) => encode_string(&s.as_bytes(), out),
            Value::Integer(i) => {
                out.push(b'"');
                encode_number(lua, cfg, *i as f64, out)?;
                out.push(b'"');
            }
            Value::Number(n) => {
                out.push(b'"');
                encode_number(lua, cfg, *n, out)?;
                out.push(b'"');
            }
            other => {
                return Err(lib_error(
                    lua,
                    &format!(
                        "Cannot serialise {}: table key must be a number or string",
                        other.type_name()
                    ),
                ))
            }
        }
        out.push(b':');
        encode(lua, cfg, mt, &v, depth, out)?;
    }
    out.push(b'}');
    Ok(())
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    cfg: &'a Config,
    lua: &'a Lua,
    mt: &'a Table,
    depth: u32,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    /// How lua-cjson names the token at the current position.
    fn describe_here(&self) -> &'static str {
        match self.s.get(self.pos) {
            None => "T_END",
            Some(b'{') => "T_OBJ_BEGIN",
            Some(b'}') => "T_OBJ_END",
            Some(b'[') => "T_ARR_BEGIN",
            Some(b']') => "T_ARR_END",
            Some(b',') => "T_COMMA",
            Some(b':') => "T_COLON",
            Some(b'"') => "T_STRING",
            Some(b'-' | b'0'..=b'9') => "T_NUMBER",
            Some(b't' | b'f') if self.peek_word(b"true") || self.peek_word(b"false") => "T_BOOLEAN",
            Some(b'n') if self.peek_word(b"null") => "T_NULL",
            Some(b'n' | b'i' | b'N' | b'I') if self.cfg.decode_invalid => "T_NUMBER",
            _ => "invalid token",
        }
    }

    fn peek_word(&self, w: &[u8]) -> bool {
        self.s[self.pos..].starts_with(w)
    }

    fn expected(&self, what: &str) -> String {
        format!(
            "Expected {what} but found {} at character {}",
            self.describe_here(),
            self.pos + 1
        )
    }

    fn value(&mut self) -> Result<Value, String> {
        self.skip_ws();
        let lua = self.lua;
        let lerr = |e: mlua::Error| e.to_string();
        match self.s.get(self.pos) {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => {
                let s = self.string()?;
                Ok(Value::String(lua.create_string(s).map_err(lerr)?))
            }
            Some(b't') if self.peek_word(b"true") => {
                self.pos += 4;
                Ok(Value::Boolean(true))
            }
            Some(b'f') if self.peek_word(b"false") => {
                self.pos += 5;
                Ok(Value::Boolean(false))
            }
            Some(b'n') if self.peek_word(b"null") => {
                self.pos += 4;
                Ok(Value::LightUserData(LightUserData(std::ptr::null_mut())))
            }
            Some(b'-' | b'0'..=b'9' | b'i' | b'I' | b'n' | b'N') => self.number(),
            None => Err(format!(
                "Expected value but found T_END at character {}",
                self.pos + 1
            )),
            _ => Err(self.expected("value")),
        }
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.pos;
        let rest = &self.s[start..];
        let r = crate::cfloat::strtod(rest);
        let (v, used) = (r.value, r.end);
        let invalid = !v.is_finite() && !rest.iter().take(used).any(|c| c.is_ascii_digit());
        if used == 0 || (invalid && !self.cfg.decode_invalid) {
            return Err(format!(
                "Expected value but found invalid number at character {}",
                self.pos + 1
            ));
        }
        self.pos += used;
        Ok(Value::Number(v))
    }

    fn string(&mut self) -> Result<Vec<u8>, String> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.pos) else {
                return Err(format!(
                    "Expected value but found unexpected end of string at character {}",
                    self.pos + 1
                ));
            };
            match c {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    let Some(&e) = self.s.get(self.pos + 1) else {
                        return Err(format!(
                            "Expected value but found unexpected end of string at character {}",
                            start + 1
                        ));
                    };
                    self.pos += 2;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let cp = self.unicode_escape().ok_or_else(|| {
                                format!(
                                    "Expected value but found invalid unicode escape code at character {}",
                                    start + 1
                                )
                            })?;
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(cp.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => {
                            return Err(format!(
                                "Expected value but found invalid escape code at character {}",
                                start + 1
                            ))
                        }
                    }
                }
                _ => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.s.get(self.pos..self.pos + 4)?;
        let v = u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()?;
        self.pos += 4;
        Some(v)
    }

    fn unicode_escape(&mut self) -> Option<char> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) {
            if self.s.get(self.pos..self.pos + 2)? != b"\\u" {
                return None;
            }
            self.pos += 2;
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return None;
            }
            return char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
        }
        if (0xDC00..0xE000).contains(&hi) {
            return None;
        }
        char::from_u32(hi)
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > self.cfg.decode_max_depth {
            return Err(format!(
                "Found too many nested data structures ({}) at character {}",
                self.depth,
                self.pos + 1
            ));
        }
        Ok(())
    }

    fn array(&mut self) -> Result<Value, String> {
        self.enter()?;
        let lerr = |e: mlua::Error| e.to_string();
        let t = self.lua.create_table().map_err(lerr)?;
        if self.cfg.array_mt {
            t.set_metatable(Some(self.mt.clone())).map_err(lerr)?;
        }
        self.pos += 1;
        self.skip_ws();
        if self.s.get(self.pos) == Some(&b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Table(t));
        }
        let mut i = 1;
        loop {
            let v = self.value()?;
            t.raw_set(i, v).map_err(lerr)?;
            i += 1;
            self.skip_ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(Value::Table(t));
                }
                _ => return Err(self.expected("comma or array end")),
            }
        }
    }

    fn object(&mut self) -> Result<Value, String> {
        self.enter()?;
        let lerr = |e: mlua::Error| e.to_string();
        let t = self.lua.create_table().map_err(lerr)?;
        self.pos += 1;
        self.skip_ws();
        if self.s.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Value::Table(t));
        }
        loop {
            self.skip_ws();
            if self.s.get(self.pos) != Some(&b'"') {
                return Err(self.expected("object key string"));
            }
            let k = self.string()?;
            self.skip_ws();
            if self.s.get(self.pos) != Some(&b':') {
                return Err(self.expected("colon"));
            }
            self.pos += 1;
            let v = self.value()?;
            t.raw_set(self.lua.create_string(k).map_err(lerr)?, v)
                .map_err(lerr)?;
            self.skip_ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(Value::Table(t));
                }
                _ => return Err(self.expected("comma or object end")),
            }
        }
    }
}
