//! `struct`: binary packing with format strings, as the `struct` library
//! Redis bundles (`<` `>` `=` `!n` endianness and alignment, `b B h H l L T
//! i I in In` integers, `f d` floats, `c cn` fixed strings, `s` zero-ended
//! strings, `x` padding).

use mlua::{Lua, MultiValue, Table, Value};

use super::{check_number, lib_error};

/// One item of a format string.
enum Item {
    Int { size: usize, signed: bool },
    Float,
    Double,
    Chars(usize),
    Zstr,
    Pad,
}

struct Format<'a> {
    f: &'a [u8],
    pos: usize,
    little: bool,
    align: usize,
}

const NATIVE_ALIGN: usize = 8;

impl<'a> Format<'a> {
    fn new(f: &'a [u8]) -> Self {
        Format {
            f,
            pos: 0,
            little: true,
            align: 1,
        }
    }

    fn number(&mut self, default: usize) -> usize {
        let start = self.pos;
        while self.pos < self.f.len() && self.f[self.pos].is_ascii_digit() {
            self.pos += 1;
        }
        if start == self.pos {
            return default;
        }
        std::str::from_utf8(&self.f[start..self.pos])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    }

    /// The next item, or None at the end; option errors name the option.
    fn next(&mut self) -> Result<Option<Item>, String> {
        loop {
            let Some(&c) = self.f.get(self.pos) else {
                return Ok(None);
            };
            self.pos += 1;
            let item = match c {
                b' ' => continue,
                b'<' | b'=' => {
                    self.little = true;
                    continue;
                }
                b'>' => {
                    self.little = false;
                    continue;
                }
                b'!' => {
                    self.align = self.number(NATIVE_ALIGN);
                    if !self.align.is_power_of_two() {
                        return Err("alignment must be power of 2".into());
                    }
                    continue;
                }
                b'x' => Item::Pad,
                b'b' => Item::Int {
                    size: 1,
                    signed: true,
                },
                b'B' => Item::Int {
                    size: 1,
                    signed: false,
                },
                b'h' => Item::Int {
                    size: 2,
                    signed: true,
                },
                b'H' => Item::Int {
                    size: 2,
                    signed: false,
                },
                b'l' => Item::Int {
                    size: 8,
                    signed: true,
                },
                b'L' | b'T' => Item::Int {
                    size: 8,
                    signed: false,
                },
                b'i' | b'I' => {
                    let size = self.number(4);
                    if size == 0 || size > 32 {
                        return Err(format!("integral size {size} is larger than limit of 32"));
                    }
                    Item::Int {
                        size,
                        signed: c == b'i',
                    }
                }
                b'f' => Item::Float,
                b'd' => Item::Double,
                b'c' => Item::Chars(self.number(1)),
                b's' => Item::Zstr,
                other => return Err(format!("invalid format option '{}'", other as char)),
            };
            return Ok(Some(item));
        }
    }

    fn size_of(item: &Item) -> usize {
        match item {
            Item::Int { size, .. } => *size,
            Item::Float => 4,
            Item::Double => 8,
            Item::Chars(n) => *n,
            Item::Zstr | Item::Pad => 1,
        }
    }

    /// Padding before an item of `size` at `offset`.
    fn pad(&self, item: &Item, offset: usize) -> usize {
        let size = Self::size_of(item);
        if matches!(item, Item::Chars(_) | Item::Zstr | Item::Pad) || size <= 1 {
            return 0;
        }
        let a = size.min(self.align);
        (a - (offset & (a - 1))) & (a - 1)
    }
}

fn put_int(v: f64, size: usize, little: bool, out: &mut Vec<u8>) {
    let x: u64 = if v < 0.0 { v as i64 as u64 } else { v as u64 };
    let mut bytes = vec![0u8; size];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = if i < 8 {
            (x >> (8 * i)) as u8
        } else if v < 0.0 {
            0xff
        } else {
            0
        };
    }
    if !little {
        bytes.reverse();
    }
    out.extend_from_slice(&bytes);
}

fn get_int(b: &[u8], signed: bool, little: bool) -> f64 {
    let mut bytes = b.to_vec();
    if !little {
        bytes.reverse();
    }
    let mut x: u64 = 0;
    for (i, &byte) in bytes.iter().enumerate().take(8) {
        x |= u64::from(byte) << (8 * i);
    }
    let size = b.len().min(8);
    if signed && size < 8 && size > 0 {
        let shift = 64 - 8 * size;
        ((x << shift) as i64 >> shift) as f64
    } else if signed {
        x as i64 as f64
    } else {
        x as f64
    }
}

/// A format string error, blamed on argument 1 as `luaL_argerror` does.
fn arg_error(lua: &Lua, func: &str, msg: &str) -> mlua::Error {
    lib_error(lua, &format!("bad argument #1 to '{func}' ({msg})"))
}

/// Builds the `struct` table.
pub(crate) fn open(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("pack", lua.create_function(pack)?)?;
    t.raw_set("unpack", lua.create_function(unpack)?)?;
    t.raw_set(
        "size",
        lua.create_function(|lua, fmt: mlua::LuaString| {
            let f = fmt.as_bytes();
            let mut fm = Format::new(&f);
            let mut total = 0usize;
            while let Some(item) = fm.next().map_err(|e| arg_error(lua, "size", &e))? {
                if matches!(item, Item::Zstr | Item::Chars(0)) {
                    return Err(lib_error(lua, "options 'c0' - 's' have undefined sizes"));
                }
                total += fm.pad(&item, total) + Format::size_of(&item);
            }
            Ok(total)
        })?,
    )?;
    Ok(t)
}

fn pack(lua: &Lua, args: MultiValue) -> mlua::Result<mlua::LuaString> {
    let fmt = match args.front() {
        Some(Value::String(s)) => s.as_bytes().to_vec(),
        _ => {
            return Err(lib_error(
                lua,
                "bad argument #1 to 'pack' (string expected)",
            ))
        }
    };
    let mut fm = Format::new(&fmt);
    let mut out = Vec::new();
    let mut arg = 1;
    while let Some(item) = fm.next().map_err(|e| arg_error(lua, "pack", &e))? {
        let pad = fm.pad(&item, out.len());
        out.resize(out.len() + pad, 0);
        match item {
            Item::Pad => out.push(0),
            Item::Int { size, .. } => {
                let v = check_number(lua, args.get(arg), arg + 1, "pack")?;
                arg += 1;
                put_int(v, size, fm.little, &mut out);
            }
            Item::Float | Item::Double => {
                let v = check_number(lua, args.get(arg), arg + 1, "pack")?;
                arg += 1;
                let mut b = if matches!(item, Item::Float) {
                    (v as f32).to_le_bytes().to_vec()
                } else {
                    v.to_le_bytes().to_vec()
                };
                if !fm.little {
                    b.reverse();
                }
                out.extend_from_slice(&b);
            }
            Item::Chars(_) | Item::Zstr => {
                let s = match args.get(arg) {
                    Some(Value::String(s)) => s.as_bytes().to_vec(),
                    Some(v @ (Value::Integer(_) | Value::Number(_))) => lua
                        .coerce_string(v.clone())?
                        .map(|s| s.as_bytes().to_vec())
                        .unwrap_or_default(),
                    other => {
                        return Err(lib_error(
                            lua,
                            &format!(
                                "bad argument #{} to 'pack' (string expected, got {})",
                                arg + 1,
                                other.map_or("no value", |v| v.type_name())
                            ),
                        ))
                    }
                };
                arg += 1;
                if let Item::Chars(n) = item {
                    let n = if n == 0 { s.len() } else { n };
                    if s.len() < n {
                        return Err(lib_error(
                            lua,
                            &format!("bad argument #{arg} to 'pack' (string too short)"),
                        ));
                    }
                    out.extend_from_slice(&s[..n]);
                } else {
                    if s.contains(&0) {
                        return Err(lib_error(
                            lua,
                            &format!("bad argument #{arg} to 'pack' (string contains zeros)"),
                        ));
                    }
                    out.extend_from_slice(&s);
                    out.push(0);
                }
            }
        }
    }
    lua.create_string(out)
}

fn unpack(lua: &Lua, args: MultiValue) -> mlua::Result<MultiValue> {
    let (fmt, data) = match (args.front(), args.get(1)) {
        (Some(Value::String(f)), Some(Value::String(d))) => {
            (f.as_bytes().to_vec(), d.as_bytes().to_vec())
        }
        _ => {
            return Err(lib_error(
                lua,
                "bad argument #2 to 'unpack' (string expected)",
            ))
        }
    };
    let mut pos = match args.get(2) {
        Some(v @ (Value::Integer(_) | Value::Number(_))) => {
            let n = check_number(lua, Some(v), 3, "unpack")? as i64;
            if n < 1 {
                return Err(lib_error(
                    lua,
                    "bad argument #3 to 'unpack' (offset must be 1 or greater)",
                ));
            }
            (n - 1) as usize
        }
        _ => 0,
    };
    let short = || lib_error(lua, "bad argument #2 to 'unpack' (data string too short)");
    let mut fm = Format::new(&fmt);
    let mut out: Vec<Value> = Vec::new();
    while let Some(item) = fm.next().map_err(|e| arg_error(lua, "unpack", &e))? {
        pos += fm.pad(&item, pos);
        match item {
            Item::Pad => pos += 1,
            Item::Int { size, signed } => {
                let b = data.get(pos..pos + size).ok_or_else(short)?;
                out.push(Value::Number(get_int(b, signed, fm.little)));
                pos += size;
            }
            Item::Float | Item::Double => {
                let size = if matches!(item, Item::Float) { 4 } else { 8 };
                let mut b = data.get(pos..pos + size).ok_or_else(short)?.to_vec();
                if !fm.little {
                    b.reverse();
                }
                let v = if size == 4 {
                    f64::from(f32::from_le_bytes(b.try_into().expect("4 bytes")))
                } else {
                    f64::from_le_bytes(b.try_into().expect("8 bytes"))
                };
                out.push(Value::Number(v));
                pos += size;
            }
            Item::Chars(n) => {
                let n = if n == 0 {
                    match out.pop() {
                        Some(Value::Number(len)) => len as usize,
                        Some(Value::Integer(len)) => len as usize,
                        _ => return Err(lib_error(lua, "format 'c0' needs a previous size")),
                    }
                } else {
                    n
                };
                let b = data.get(pos..pos + n).ok_or_else(short)?;
                out.push(Value::String(lua.create_string(b)?));
                pos += n;
            }
            Item::Zstr => {
                let rest = data.get(pos..).unwrap_or(&[]);
                let Some(end) = rest.iter().position(|&b| b == 0) else {
                    return Err(lib_error(lua, "unfinished string in data"));
                };
                out.push(Value::String(lua.create_string(&rest[..end])?));
                pos += end + 1;
            }
        }
    }
    out.push(Value::Number((pos + 1) as f64));
    Ok(MultiValue::from_iter(out))
}
