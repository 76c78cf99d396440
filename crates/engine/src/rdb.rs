//! Redis's RDB serialization: single values (DUMP / RESTORE payloads) and
//! whole snapshots (SAVE, DEBUG RELOAD, loading at startup).
//!
//! Ferrokey writes every value in the plain encodings every Redis since
//! 2.x reads (string, list, set, sorted set with binary scores, hash), and
//! streams as Redis 7.0 does (listpack nodes, type 19), under RDB version
//! 10 so that Redis 7.0 and later load the files and payloads; with
//! [`Writer::with_compression`] long strings are LZF-compressed as under
//! `rdbcompression yes`. It reads every encoding Redis 7.2 loads: integer
//! and LZF-compressed strings, intsets, listpacks, quicklist 2 lists, the
//! three stream types, and the older zipmaps, ziplists and quicklist 1
//! lists. Module values cannot be loaded (an error naming the module);
//! module aux data is skipped with a warning ([`LoadReport::warnings`]).
//! Every length read is checked, so corrupt input is an [`RdbError`] that
//! carries the byte offset where parsing failed, never a panic.

use ferrokey_resp::Frame;

use crate::types::hash::Hash;
use crate::types::list::List;
use crate::types::set::Set;
use crate::types::stream::{Consumer, Group, Nack, Stream, StreamId};
use crate::types::zset::ZSet;
use crate::types::Limits;
use crate::value::{Str, Value};

/// The RDB version Ferrokey writes.
pub const RDB_VERSION: u16 = 10;
/// The newest RDB version Ferrokey reads (Redis 7.2 writes 11).
pub const RDB_VERSION_MAX: u16 = 11;

const T_STRING: u8 = 0;
const T_LIST: u8 = 1;
const T_SET: u8 = 2;
const T_ZSET: u8 = 3;
const T_HASH: u8 = 4;
const T_ZSET_2: u8 = 5;
const T_MODULE_PRE_GA: u8 = 6;
const T_MODULE_2: u8 = 7;
const T_HASH_ZIPMAP: u8 = 9;
const T_LIST_ZIPLIST: u8 = 10;
const T_SET_INTSET: u8 = 11;
const T_ZSET_ZIPLIST: u8 = 12;
const T_HASH_ZIPLIST: u8 = 13;
const T_LIST_QUICKLIST: u8 = 14;
const T_HASH_LISTPACK: u8 = 16;
const T_ZSET_LISTPACK: u8 = 17;
const T_LIST_QUICKLIST_2: u8 = 18;
const T_SET_LISTPACK: u8 = 20;
const T_STREAM_LISTPACKS: u8 = 15;
const T_STREAM_LISTPACKS_2: u8 = 19;
const T_STREAM_LISTPACKS_3: u8 = 21;

/// The special string encoding of LZF-compressed bytes (RDB_ENC_LZF).
const ENC_LZF: u8 = 3;
const ENC_LZF_U64: u64 = ENC_LZF as u64;

const OP_FUNCTION_PRE_GA: u8 = 246;
const OP_FUNCTION2: u8 = 245;
const OP_MODULE_AUX: u8 = 247;
const OP_IDLE: u8 = 248;
const OP_FREQ: u8 = 249;
const OP_AUX: u8 = 250;
const OP_RESIZEDB: u8 = 251;
const OP_EXPIRETIME_MS: u8 = 252;
const OP_EXPIRETIME: u8 = 253;
const OP_SELECTDB: u8 = 254;
const OP_EOF: u8 = 255;

// The opcodes tagging each value a module writes (RDB_MODULE_OPCODE_*).
const MODULE_OP_EOF: u64 = 0;
const MODULE_OP_SINT: u64 = 1;
const MODULE_OP_UINT: u64 = 2;
const MODULE_OP_FLOAT: u64 = 3;
const MODULE_OP_DOUBLE: u64 = 4;
const MODULE_OP_STRING: u64 = 5;

/// Why a payload or file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRdb(pub String);

type R<T> = Result<T, BadRdb>;

/// Why the reader stopped, and where: `offset` is the byte position in the
/// file or payload at which parsing failed (for a value packed in a blob,
/// such as a ziplist, the start of that blob), when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdbError {
    /// What was wrong.
    pub why: String,
    /// Byte offset of the failure.
    pub offset: Option<usize>,
}

impl RdbError {
    fn new(why: impl Into<String>) -> RdbError {
        RdbError {
            why: why.into(),
            offset: None,
        }
    }

    /// Places the error at `pos` unless a more precise place is known.
    fn at(mut self, pos: usize) -> RdbError {
        self.offset.get_or_insert(pos);
        self
    }
}

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.offset {
            Some(at) => write!(f, "{} at byte offset {at}", self.why),
            None => f.write_str(&self.why),
        }
    }
}

impl From<RdbError> for BadRdb {
    fn from(e: RdbError) -> BadRdb {
        BadRdb(e.to_string())
    }
}

type Rd<T> = Result<T, RdbError>;

fn bad<T>(why: impl Into<String>) -> Rd<T> {
    Err(RdbError::new(why))
}

// ---------------------------------------------------------------- CRC-64

/// CRC-64 with the Jones polynomial, reflected, as Redis checksums RDB
/// files and DUMP payloads.
pub fn crc64(mut crc: u64, data: &[u8]) -> u64 {
    static TABLE: std::sync::OnceLock<[u64; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        // The Jones polynomial 0xad93d23594c935a9, bit-reversed.
        const POLY: u64 = 0x95ac_9329_ac4b_c9b5;
        let mut t = [0u64; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = i as u64;
            for _ in 0..8 {
                c = if c & 1 == 1 { (c >> 1) ^ POLY } else { c >> 1 };
            }
            *slot = c;
        }
        t
    });
    for &b in data {
        crc = table[((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

// ---------------------------------------------------------------- writing

fn put_len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u64::from(u32::MAX) {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// A string, as an integer encoding when it is the canonical text of a
/// 32-bit integer (as Redis writes short numeric strings), raw otherwise.
fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    put_str_z(out, s, false);
}

/// Strings longer than this many bytes are LZF-compressed when
/// compression is on, as in Redis: shorter ones rarely shrink.
const LZF_STR_LEN_MIN: usize = 21;
/// Compression must save at least this many bytes to be used, as in Redis
/// (the compressed form also spends a byte or more on the extra length).
const LZF_SAVING_MIN: usize = 4;

/// [`put_str`], LZF-compressing long strings when `compress` is set.
fn put_str_z(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= 11 {
        if let Some(v) = ferrokey_resp::parse_i64(s) {
            if v.to_string().as_bytes() == s {
                if let Ok(v) = i8::try_from(v) {
                    out.push(0xc0);
                    out.push(v as u8);
                    return;
                }
                if let Ok(v) = i16::try_from(v) {
                    out.push(0xc1);
                    out.extend_from_slice(&v.to_le_bytes());
                    return;
                }
                if let Ok(v) = i32::try_from(v) {
                    out.push(0xc2);
                    out.extend_from_slice(&v.to_le_bytes());
                    return;
                }
            }
        }
    }
    put_bytes(out, s, compress);
}

/// A string as raw bytes, or LZF-compressed when `compress` is set, it is
/// long enough and compression saves enough.
fn put_bytes(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if compress && s.len() >= LZF_STR_LEN_MIN {
        let z = lzf_compress(s);
        if z.len() + LZF_SAVING_MIN <= s.len() {
            out.push(0xc0 | ENC_LZF);
            put_len(out, z.len() as u64);
            put_len(out, s.len() as u64);
            out.extend_from_slice(&z);
            return;
        }
    }
    put_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Appends a value's type byte and body.
pub fn put_value(out: &mut Vec<u8>, v: &Value) {
    put_value_z(out, v, false);
}

/// [`put_value`], LZF-compressing long strings when `compress` is set.
fn put_value_z(out: &mut Vec<u8>, v: &Value, compress: bool) {
    let put_str = |out: &mut Vec<u8>, s: &[u8]| put_str_z(out, s, compress);
    match v {
        Value::Str(s) => {
            out.push(T_STRING);
            put_str(out, &s.to_vec());
        }
        Value::List(l) => {
            out.push(T_LIST);
            put_len(out, l.len() as u64);
            for e in l.iter() {
                put_str(out, e);
            }
        }
        Value::Set(s) => {
            out.push(T_SET);
            put_len(out, s.len() as u64);
            for m in s.iter() {
                put_str(out, &m);
            }
        }
        Value::ZSet(z) => {
            out.push(T_ZSET_2);
            put_len(out, z.len() as u64);
            // Highest first, as Redis writes skiplists, so loading inserts
            // at the head.
            for (score, m) in z.range(0, z.len()).into_iter().rev() {
                put_str(out, m);
                out.extend_from_slice(&score.to_le_bytes());
            }
        }
        Value::Hash(h) => {
            out.push(T_HASH);
            put_len(out, h.len() as u64);
            for (f, val) in h.iter() {
                put_str(out, f);
                put_str(out, val);
            }
        }
        Value::Stream(st) => {
            out.push(T_STREAM_LISTPACKS_2);
            put_stream(out, st, compress);
        }
    }
}

/// One listpack element to encode.
enum LpItem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

/// Encodes a listpack (header, elements with back-lengths, end byte).
fn listpack(items: &[LpItem<'_>]) -> Vec<u8> {
    let mut out = vec![0u8; 6];
    for it in items {
        let start = out.len();
        let int = match it {
            LpItem::Int(v) => Some(*v),
            LpItem::Str(b) => ferrokey_resp::parse_i64(b).filter(|_| b.len() <= 20),
        };
        match (int, it) {
            (Some(v), _) if (0..=127).contains(&v) => out.push(v as u8),
            (Some(v), _) if (-4096..=4095).contains(&v) => {
                let u = (v as u16) & 0x1fff;
                out.push(0xc0 | (u >> 8) as u8);
                out.push(u as u8);
            }
            (Some(v), _) if i16::try_from(v).is_ok() => {
                out.push(0xf1);
                out.extend_from_slice(&(v as i16).to_le_bytes());
            }
            (Some(v), _) if (-(1 << 23)..(1 << 23)).contains(&v) => {
                out.push(0xf2);
                out.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            (Some(v), _) if i32::try_from(v).is_ok() => {
                out.push(0xf3);
                out.extend_from_slice(&(v as i32).to_le_bytes());
            }
            (Some(v), _) => {
                out.push(0xf4);
                out.extend_from_slice(&v.to_le_bytes());
            }
            (None, LpItem::Str(b)) => {
                let n = b.len();
                if n < 64 {
                    out.push(0x80 | n as u8);
                } else if n < 4096 {
                    out.push(0xe0 | (n >> 8) as u8);
                    out.push(n as u8);
                } else {
                    out.push(0xf0);
                    out.extend_from_slice(&(n as u32).to_le_bytes());
                }
                out.extend_from_slice(b);
            }
            (None, LpItem::Int(_)) => unreachable!("integers always encode as integers"),
        }
        let l = out.len() - start;
        let back: Vec<u8> = if l <= 127 {
            vec![l as u8]
        } else if l < 16383 {
            vec![(l >> 7) as u8, (l & 127) as u8 | 128]
        } else if l < 2_097_151 {
            vec![
                (l >> 14) as u8,
                ((l >> 7) & 127) as u8 | 128,
                (l & 127) as u8 | 128,
            ]
        } else if l < 268_435_455 {
            vec![
                (l >> 21) as u8,
                ((l >> 14) & 127) as u8 | 128,
                ((l >> 7) & 127) as u8 | 128,
                (l & 127) as u8 | 128,
            ]
        } else {
            vec![
                (l >> 28) as u8,
                ((l >> 21) & 127) as u8 | 128,
                ((l >> 14) & 127) as u8 | 128,
                ((l >> 7) & 127) as u8 | 128,
                (l & 127) as u8 | 128,
            ]
        };
        out.extend_from_slice(&back);
    }
    out.push(0xff);
    let total = out.len() as u32;
    out[..4].copy_from_slice(&total.to_le_bytes());
    let count = u16::try_from(items.len()).unwrap_or(u16::MAX);
    out[4..6].copy_from_slice(&count.to_le_bytes());
    out
}

/// A stream as RDB_TYPE_STREAM_LISTPACKS_2 (what Redis 7.0 writes): one
/// listpack per node with its master entry, then the metadata and the
/// consumer groups.
fn put_stream(out: &mut Vec<u8>, st: &Stream, compress: bool) {
    let nodes = st.nodes_for_rdb();
    put_len(out, nodes.len() as u64);
    for (master_id, master, entries) in &nodes {
        let mut items: Vec<LpItem<'_>> = vec![
            LpItem::Int(entries.len() as i64),
            LpItem::Int(0),
            LpItem::Int(master.len() as i64),
        ];
        items.extend(master.iter().map(|f| LpItem::Str(f)));
        items.push(LpItem::Int(0));
        for e in entries {
            let fields: Vec<(&[u8], &[u8])> = e.fields().collect();
            let same = fields.len() == master.len()
                && fields
                    .iter()
                    .zip(master.iter())
                    .all(|((f, _), m)| *f == &**m);
            items.push(LpItem::Int(if same { 2 } else { 0 }));
            items.push(LpItem::Int(e.id.ms.wrapping_sub(master_id.ms) as i64));
            items.push(LpItem::Int(e.id.seq.wrapping_sub(master_id.seq) as i64));
            if same {
                items.extend(fields.iter().map(|(_, v)| LpItem::Str(v)));
                items.push(LpItem::Int(fields.len() as i64 + 3));
            } else {
                items.push(LpItem::Int(fields.len() as i64));
                for (f, v) in &fields {
                    items.push(LpItem::Str(f));
                    items.push(LpItem::Str(v));
                }
                items.push(LpItem::Int(fields.len() as i64 * 2 + 4));
            }
        }
        put_len(out, 16);
        out.extend_from_slice(&master_id.to_be_bytes());
        put_bytes(out, &listpack(&items), compress);
    }
    put_len(out, st.length);
    put_len(out, st.last_id.ms);
    put_len(out, st.last_id.seq);
    put_len(out, st.first_id.ms);
    put_len(out, st.first_id.seq);
    put_len(out, st.max_deleted_id.ms);
    put_len(out, st.max_deleted_id.seq);
    put_len(out, st.entries_added);
    put_len(out, st.groups.len() as u64);
    for (name, g) in &st.groups {
        put_len(out, name.len() as u64);
        out.extend_from_slice(name);
        put_len(out, g.last_id.ms);
        put_len(out, g.last_id.seq);
        put_len(out, g.entries_read as u64);
        put_len(out, g.pel.len() as u64);
        for (id, n) in &g.pel {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&n.delivery_time.to_le_bytes());
            put_len(out, n.delivery_count);
        }
        put_len(out, g.consumers.len() as u64);
        for c in g.consumers.values() {
            put_len(out, c.name.len() as u64);
            out.extend_from_slice(&c.name);
            out.extend_from_slice(&c.seen_time.to_le_bytes());
            put_len(out, c.pel.len() as u64);
            for id in &c.pel {
                out.extend_from_slice(&id.to_be_bytes());
            }
        }
    }
}

/// Reads a stream of any of the three listpack stream types.
fn read_stream(c: &mut Cursor<'_>, t: u8, lim: &Limits) -> Rd<Value> {
    let int = |b: &[u8]| -> Rd<i64> {
        ferrokey_resp::parse_i64(b).ok_or(RdbError::new("stream listpack integer expected"))
    };
    let mut st = Stream::default();
    let node_lim = crate::types::stream::NodeLimits {
        // Loading keeps the file's nodes apart by starting a new node
        // whenever the file does; sizes within a node are not limited.
        max_bytes: 0,
        max_entries: 0,
    };
    let nodes = c.len()?;
    for _ in 0..nodes {
        let key = c.string()?;
        let master_id = StreamId::from_be_bytes(&key).ok_or(RdbError::new("stream node key"))?;
        let lp = listpack_entries(&c.string()?)?;
        let get = |i: usize| lp.get(i).ok_or(RdbError::new("truncated stream node"));
        let nfields = usize::try_from(int(get(2)?)?).or_else(|_| bad("stream master fields"))?;
        let master: Vec<&[u8]> = (0..nfields)
            .map(|j| get(3 + j).map(|v| &v[..]))
            .collect::<Rd<_>>()?;
        let mut i = 3 + nfields + 1;
        let mut first_in_node = true;
        while i < lp.len() {
            let flags = int(get(i)?)?;
            let ms = master_id.ms.wrapping_add(int(get(i + 1)?)? as u64);
            let seq = master_id.seq.wrapping_add(int(get(i + 2)?)? as u64);
            i += 3;
            let mut fields: Vec<(&[u8], &[u8])> = Vec::new();
            if flags & 2 != 0 {
                for f in &master {
                    fields.push((f, get(i)?));
                    i += 1;
                }
            } else {
                let n = usize::try_from(int(get(i)?)?).or_else(|_| bad("stream entry fields"))?;
                i += 1;
                for _ in 0..n {
                    fields.push((get(i)?, get(i + 1)?));
                    i += 2;
                }
            }
            i += 1; // lp-count
            if flags & 1 != 0 {
                continue;
            }
            let id = StreamId::new(ms, seq);
            if first_in_node {
                st.start_node(master_id, &master);
                first_in_node = false;
            }
            st.append(id, &fields, node_lim);
        }
    }
    let length = c.len()? as u64;
    if length != st.length {
        return bad("stream length mismatch");
    }
    st.last_id = StreamId::new(c.len()? as u64, c.len()? as u64);
    if t >= T_STREAM_LISTPACKS_2 {
        st.first_id = StreamId::new(c.len()? as u64, c.len()? as u64);
        st.max_deleted_id = StreamId::new(c.len()? as u64, c.len()? as u64);
        st.entries_added = c.len()? as u64;
    } else {
        st.entries_added = st.length;
        st.first_id = st.edge(false).map_or(StreamId::MIN, |e| e.id);
        st.max_deleted_id = StreamId::MIN;
    }
    let groups = c.len()?;
    for _ in 0..groups {
        let name = c.string()?;
        let last = StreamId::new(c.len()? as u64, c.len()? as u64);
        let entries_read = if t >= T_STREAM_LISTPACKS_2 {
            c.len_or_enc()?.0 as i64
        } else {
            st.distance_from_first_ever(last)
        };
        let mut g = Group::new(last, entries_read);
        let pel = c.len()?;
        let mut orphans = std::collections::BTreeMap::new();
        for _ in 0..pel {
            let id = StreamId::from_be_bytes(c.take(16)?).ok_or(RdbError::new("pel id"))?;
            let time = c.u64_le()?;
            let count = c.len()? as u64;
            orphans.insert(id, (time, count));
        }
        let consumers = c.len()?;
        for _ in 0..consumers {
            let cname = c.string()?;
            let seen = c.u64_le()?;
            let active = if t >= T_STREAM_LISTPACKS_3 {
                c.u64_le()? as i64
            } else {
                seen as i64
            };
            let mut cons = Consumer::new(&cname, seen);
            cons.active_time = active;
            let n = c.len()?;
            for _ in 0..n {
                let id = StreamId::from_be_bytes(c.take(16)?).ok_or(RdbError::new("pel id"))?;
                let Some((time, count)) = orphans.remove(&id) else {
                    return bad("consumer pending entry not in the group");
                };
                g.pel.insert(
                    id,
                    Nack {
                        consumer: cons.name.clone(),
                        delivery_time: time,
                        delivery_count: count,
                    },
                );
                cons.pel.insert(id);
            }
            g.consumers.insert(cons.name.clone(), cons);
        }
        if !orphans.is_empty() {
            return bad("group pending entry without a consumer");
        }
        st.groups.insert(name.into_boxed_slice(), g);
    }
    let _ = lim;
    Ok(Value::Stream(Box::new(st)))
}

/// A DUMP payload: the value, the RDB version, and a CRC-64 of both.
pub fn dump(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    put_value(&mut out, v);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// FUNCTION DUMP's payload: each library's code after the FUNCTION2
/// opcode, then the RDB version and a CRC-64, as DUMP's.
pub fn function_payload(codes: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        out.push(OP_FUNCTION2);
        put_str(&mut out, code);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Reads FUNCTION RESTORE's payload into library codes, with Redis's
/// errors.
pub fn read_function_payload(payload: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let wrong = || "ERR DUMP payload version or checksum are wrong".to_string();
    if payload.len() < 10 {
        return Err(wrong());
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let ver = u16::from_le_bytes([footer[0], footer[1]]);
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&footer[2..]);
    if ver > RDB_VERSION_MAX || crc64(0, &payload[..payload.len() - 8]) != u64::from_le_bytes(crc) {
        return Err(wrong());
    }
    let mut c = Cursor { b: body, pos: 0 };
    let mut codes = Vec::new();
    while c.pos < body.len() {
        match c.byte() {
            Ok(OP_FUNCTION2) => {}
            Ok(OP_FUNCTION_PRE_GA) => return Err("ERR Pre-GA function format not supported".into()),
            Ok(_) => return Err("ERR given type is not a function".into()),
            Err(_) => return Err("ERR can not read data type".into()),
        }
        codes.push(
            c.string()
                .map_err(|_| "ERR failed loading the given functions payload".to_string())?,
        );
    }
    Ok(codes)
}

/// One key of a snapshot.
pub struct Item<'a> {
    /// The key.
    pub key: &'a [u8],
    /// Its value.
    pub value: &'a Value,
    /// Absolute expiry in Unix ms, if any.
    pub expire_ms: Option<u64>,
}

/// Writes a snapshot: header and aux fields, then each database's keys
/// (`dbs` yields (index, key count, volatile count, keys)), then the EOF
/// marker and checksum.
#[derive(Debug)]
pub struct Writer {
    out: Vec<u8>,
    /// Whether long strings are LZF-compressed (`rdbcompression`).
    compress: bool,
    /// Whether the trailing CRC-64 is computed (`rdbchecksum`); when not,
    /// zero is written, which loaders take as "not checked".
    checksum: bool,
}

impl Writer {
    /// Starts a snapshot.
    pub fn new(now_ms: u64, used_mem: u64) -> Writer {
        let mut out = format!("REDIS{RDB_VERSION:04}").into_bytes();
        for (k, v) in [
            ("redis-ver", "7.2.6".to_string()),
            ("redis-bits", "64".to_string()),
            ("ctime", (now_ms / 1000).to_string()),
            ("used-mem", used_mem.to_string()),
            ("aof-base", "0".to_string()),
        ] {
            out.push(OP_AUX);
            put_str(&mut out, k.as_bytes());
            put_str(&mut out, v.as_bytes());
        }
        Writer {
            out,
            compress: false,
            checksum: true,
        }
    }

    /// Leaves the checksum out (`rdbchecksum no`): zero is written.
    pub fn without_checksum(mut self) -> Writer {
        self.checksum = false;
        self
    }

    /// Starts a snapshot that LZF-compresses strings longer than 20 bytes
    /// when that makes them shorter, as Redis does under `rdbcompression
    /// yes`.
    pub fn with_compression(now_ms: u64, used_mem: u64, compress: bool) -> Writer {
        Writer {
            compress,
            ..Writer::new(now_ms, used_mem)
        }
    }

    /// Adds a function library's code.
    pub fn function(&mut self, code: &[u8]) {
        self.out.push(OP_FUNCTION2);
        put_str_z(&mut self.out, code, self.compress);
    }

    /// Starts database `db` holding `keys` keys, `volatile` with a TTL.
    pub fn select(&mut self, db: usize, keys: usize, volatile: usize) {
        self.out.push(OP_SELECTDB);
        put_len(&mut self.out, db as u64);
        self.out.push(OP_RESIZEDB);
        put_len(&mut self.out, keys as u64);
        put_len(&mut self.out, volatile as u64);
    }

    /// Adds one key.
    pub fn item(&mut self, it: &Item<'_>) {
        if let Some(ms) = it.expire_ms {
            self.out.push(OP_EXPIRETIME_MS);
            self.out.extend_from_slice(&ms.to_le_bytes());
        }
        let mut v = Vec::new();
        put_value_z(&mut v, it.value, self.compress);
        // put_value starts with the type byte; the key goes between.
        self.out.push(v[0]);
        put_str_z(&mut self.out, it.key, self.compress);
        self.out.extend_from_slice(&v[1..]);
    }

    /// Bytes written so far and not yet drained.
    pub fn buffered(&self) -> usize {
        self.out.len()
    }

    /// Hands the bytes written so far to `sink`, folding them into the
    /// running checksum `crc` (for snapshots streamed to a file).
    pub fn drain_to(
        &mut self,
        sink: &mut dyn std::io::Write,
        crc: &mut u64,
    ) -> std::io::Result<()> {
        *crc = crc64(*crc, &self.out);
        sink.write_all(&self.out)?;
        self.out.clear();
        Ok(())
    }

    /// Ends a streamed snapshot: the rest, EOF and the checksum of
    /// everything, to `sink`.
    pub fn finish_to(mut self, sink: &mut dyn std::io::Write, mut crc: u64) -> std::io::Result<()> {
        self.out.push(OP_EOF);
        crc = if self.checksum {
            crc64(crc, &self.out)
        } else {
            0
        };
        self.out.extend_from_slice(&crc.to_le_bytes());
        sink.write_all(&self.out)
    }

    /// Ends the snapshot and returns its bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.out.push(OP_EOF);
        let crc = if self.checksum {
            crc64(0, &self.out)
        } else {
            0
        };
        self.out.extend_from_slice(&crc.to_le_bytes());
        self.out
    }
}

// ---------------------------------------------------------------- reading

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Rd<&'a [u8]> {
        if self.remaining() < n {
            return Err(RdbError::new("unexpected end of data").at(self.pos));
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn byte(&mut self) -> Rd<u8> {
        Ok(self.take(1)?[0])
    }

    /// A length, or an encoded-string marker (`Err`-free: `(value, special)`).
    fn len_or_enc(&mut self) -> Rd<(u64, bool)> {
        let first = self.byte()?;
        match first >> 6 {
            0 => Ok((u64::from(first & 0x3f), false)),
            1 => Ok((
                (u64::from(first & 0x3f) << 8) | u64::from(self.byte()?),
                false,
            )),
            2 => match first {
                0x80 => {
                    let b = self.take(4)?;
                    Ok((
                        u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
                        false,
                    ))
                }
                0x81 => {
                    let b = self.take(8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    Ok((u64::from_be_bytes(a), false))
                }
                _ => bad("unknown length encoding"),
            },
            _ => Ok((u64::from(first & 0x3f), true)),
        }
    }

    fn remaining(&self) -> usize {
        self.b.len() - self.pos
    }

    /// A string holding a packed encoding (ziplist, listpack, ...), decoded
    /// by `decode`; its errors are placed at the string's start.
    fn blob<T>(&mut self, decode: impl FnOnce(&[u8]) -> Rd<T>) -> Rd<T> {
        let start = self.pos;
        let b = self.string()?;
        decode(&b).map_err(|e| e.at(start))
    }

    /// A length that may use all 64 bits (module ids and values).
    fn len_u64(&mut self) -> Rd<u64> {
        match self.len_or_enc()? {
            (n, false) => Ok(n),
            _ => bad("encoded value where a length was expected"),
        }
    }

    fn len(&mut self) -> Rd<usize> {
        match self.len_or_enc()? {
            (n, false) => usize::try_from(n).or_else(|_| bad("length too large")),
            _ => bad("encoded value where a length was expected"),
        }
    }

    fn string(&mut self) -> Rd<Vec<u8>> {
        match self.len_or_enc()? {
            (n, false) => {
                let n = usize::try_from(n).or_else(|_| bad("length too large"))?;
                Ok(self.take(n)?.to_vec())
            }
            (0, true) => Ok((self.byte()? as i8).to_string().into_bytes()),
            (1, true) => {
                let b = self.take(2)?;
                Ok(i16::from_le_bytes([b[0], b[1]]).to_string().into_bytes())
            }
            (2, true) => {
                let b = self.take(4)?;
                Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]])
                    .to_string()
                    .into_bytes())
            }
            (ENC_LZF_U64, true) => {
                let clen = self.len()?;
                let len = self.len()?;
                let data = self.take(clen)?;
                lzf_decompress(data, len)
            }
            _ => bad("unknown string encoding"),
        }
    }

    fn f64_le(&mut self) -> Rd<f64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_le_bytes(a))
    }

    fn u64_le(&mut self) -> Rd<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
}

/// The most bytes one LZF literal run holds.
const LZF_LITERAL_MAX: usize = 32;
/// The farthest back an LZF back reference reaches.
const LZF_DISTANCE_MAX: usize = 1 << 13;
/// The longest LZF back reference: 2 + 7 in the control byte + 255.
const LZF_MATCH_MAX: usize = 264;
/// Bits of the compressor's 3-byte-sequence hash.
const LZF_HASH_BITS: u32 = 14;

/// LZF compression, producing what [`lzf_decompress`] (and Redis) reads: a
/// greedy match finder that remembers, per hash of three bytes, the last
/// position they were seen at. Output may be longer than the input.
fn lzf_compress(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + input.len() / LZF_LITERAL_MAX + 1);
    let mut seen = vec![usize::MAX; 1 << LZF_HASH_BITS];
    let hash = |i: usize| {
        let v = u32::from_le_bytes([input[i], input[i + 1], input[i + 2], 0]);
        (v.wrapping_mul(0x9e37_79b1) >> (32 - LZF_HASH_BITS)) as usize
    };
    // Where the literal bytes not yet written start.
    let mut literal = 0;
    let mut i = 0;
    while i + 3 <= input.len() {
        let h = hash(i);
        let cand = std::mem::replace(&mut seen[h], i);
        let found = cand != usize::MAX
            && i - cand <= LZF_DISTANCE_MAX
            && input[cand..cand + 3] == input[i..i + 3];
        if !found {
            i += 1;
            continue;
        }
        let max = LZF_MATCH_MAX.min(input.len() - i);
        let mut len = 3;
        while len < max && input[cand + len] == input[i + len] {
            len += 1;
        }
        lzf_literals(&mut out, &input[literal..i]);
        let distance = i - cand - 1;
        let n = len - 2;
        if n < 7 {
            out.push(((n << 5) | (distance >> 8)) as u8);
        } else {
            out.push(((7 << 5) | (distance >> 8)) as u8);
            out.push((n - 7) as u8);
        }
        out.push(distance as u8);
        // Remember the sequences inside the match too: repetitive data
        // finds longer matches.
        for j in i + 1..(i + len).min(input.len().saturating_sub(2)) {
            seen[hash(j)] = j;
        }
        i += len;
        literal = i;
    }
    lzf_literals(&mut out, &input[literal..]);
    out
}

/// Literal runs of at most [`LZF_LITERAL_MAX`] bytes, each after a
/// control byte holding its length minus one.
fn lzf_literals(out: &mut Vec<u8>, bytes: &[u8]) {
    for run in bytes.chunks(LZF_LITERAL_MAX) {
        out.push((run.len() - 1) as u8);
        out.extend_from_slice(run);
    }
}

/// LZF decompression (the format Redis compresses RDB strings with).
fn lzf_decompress(input: &[u8], out_len: usize) -> Rd<Vec<u8>> {
    // The stated length comes from the file: reserve no more than the
    // input can expand to (a 3-byte back reference yields at most 264).
    let mut out: Vec<u8> = Vec::with_capacity(out_len.min(input.len().saturating_mul(88)));
    let mut i = 0;
    while i < input.len() {
        let ctrl = usize::from(input[i]);
        i += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            if i + n > input.len() || out.len() + n > out_len {
                return bad("corrupt LZF literal");
            }
            out.extend_from_slice(&input[i..i + n]);
            i += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(i).ok_or(RdbError::new("corrupt LZF"))?);
                i += 1;
            }
            len += 2;
            let back = ((ctrl & 0x1f) << 8)
                + usize::from(*input.get(i).ok_or(RdbError::new("corrupt LZF"))?)
                + 1;
            i += 1;
            if back > out.len() || out.len() + len > out_len {
                return bad("corrupt LZF back reference");
            }
            let start = out.len() - back;
            for k in 0..len {
                out.push(out[start + k]);
            }
        }
    }
    if out.len() != out_len {
        return bad("LZF length mismatch");
    }
    Ok(out)
}

/// The entries of a listpack, as byte strings (integers in decimal).
fn listpack_entries(lp: &[u8]) -> Rd<Vec<Vec<u8>>> {
    if lp.len() < 7 || lp[lp.len() - 1] != 0xff {
        return bad("corrupt listpack");
    }
    let mut out = Vec::new();
    let mut i = 6;
    let int = |v: i64| v.to_string().into_bytes();
    while i < lp.len() - 1 {
        let b = lp[i];
        let get = |from: usize, n: usize| -> Rd<&[u8]> {
            lp.get(from..from + n)
                .ok_or(RdbError::new("corrupt listpack entry"))
        };
        let (entry, size) = if b & 0x80 == 0 {
            (int(i64::from(b & 0x7f)), 1)
        } else if b & 0xc0 == 0x80 {
            let n = usize::from(b & 0x3f);
            (get(i + 1, n)?.to_vec(), 1 + n)
        } else if b & 0xe0 == 0xc0 {
            let raw = (u16::from(b & 0x1f) << 8) | u16::from(*get(i + 1, 1)?.first().unwrap_or(&0));
            // 13-bit two's complement.
            let v = if raw & 0x1000 != 0 {
                i64::from(raw) - 0x2000
            } else {
                i64::from(raw)
            };
            (int(v), 2)
        } else if b & 0xf0 == 0xe0 {
            let n = (usize::from(b & 0x0f) << 8) | usize::from(get(i + 1, 1)?[0]);
            (get(i + 2, n)?.to_vec(), 2 + n)
        } else {
            match b {
                0xf0 => {
                    let l = get(i + 1, 4)?;
                    let n = u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize;
                    (get(i + 5, n)?.to_vec(), 5 + n)
                }
                0xf1 => {
                    let d = get(i + 1, 2)?;
                    (int(i64::from(i16::from_le_bytes([d[0], d[1]]))), 3)
                }
                0xf2 => {
                    let d = get(i + 1, 3)?;
                    let v = i32::from_le_bytes([0, d[0], d[1], d[2]]) >> 8;
                    (int(i64::from(v)), 4)
                }
                0xf3 => {
                    let d = get(i + 1, 4)?;
                    (
                        int(i64::from(i32::from_le_bytes([d[0], d[1], d[2], d[3]]))),
                        5,
                    )
                }
                0xf4 => {
                    let d = get(i + 1, 8)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(d);
                    (int(i64::from_le_bytes(a)), 9)
                }
                _ => return bad("corrupt listpack encoding"),
            }
        };
        let backlen = match size {
            0..=127 => 1,
            128..=16383 => 2,
            16384..=2_097_151 => 3,
            2_097_152..=268_435_455 => 4,
            _ => 5,
        };
        i += size + backlen;
        out.push(entry);
    }
    if i != lp.len() - 1 {
        return bad("corrupt listpack end");
    }
    Ok(out)
}

/// A ziplist's header: total bytes (u32), offset of the last entry (u32)
/// and entry count (u16, saturated), all little-endian.
const ZIPLIST_HEADER_LEN: usize = 10;
/// The byte that ends a ziplist or a zipmap.
const PACKED_END: u8 = 0xff;

/// The entries of a ziplist (the packed encoding of small lists, hashes
/// and sorted sets in RDB 9 and earlier), as byte strings with integers in
/// decimal. Every length in the blob is checked against its size and the
/// header against the entries, so a corrupt ziplist is an error.
fn ziplist_entries(zl: &[u8]) -> Rd<Vec<Vec<u8>>> {
    if zl.len() < ZIPLIST_HEADER_LEN + 1 {
        return bad("ziplist shorter than its header");
    }
    let le32 = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    if le32(&zl[0..4]) != zl.len() {
        return bad("ziplist size does not match its header");
    }
    let tail = le32(&zl[4..8]);
    let count = u16::from_le_bytes([zl[8], zl[9]]);
    if zl[zl.len() - 1] != PACKED_END {
        return bad("ziplist without its end byte");
    }
    // The entries, without the end byte: no entry may reach into it.
    let body = &zl[..zl.len() - 1];
    let get = |from: usize, n: usize| -> Rd<&[u8]> {
        from.checked_add(n)
            .and_then(|to| body.get(from..to))
            .ok_or_else(|| RdbError::new("ziplist entry runs past the end"))
    };
    let mut out = Vec::new();
    let mut i = ZIPLIST_HEADER_LEN;
    let mut last = ZIPLIST_HEADER_LEN;
    let mut prev_size = 0;
    while i < body.len() {
        let start = i;
        // The previous entry's size: one byte, or 0xfe and four bytes.
        let prev = match body[i] {
            PACKED_END => return bad("ziplist end byte before the end"),
            0xfe => {
                i += 5;
                le32(get(start + 1, 4)?)
            }
            b => {
                i += 1;
                usize::from(b)
            }
        };
        if prev != prev_size {
            return bad("ziplist entry with a wrong previous-entry size");
        }
        let enc = get(i, 1)?[0];
        let int = |v: i64| v.to_string().into_bytes();
        let (entry, size) = match enc >> 6 {
            0 => {
                let n = usize::from(enc & 0x3f);
                (get(i + 1, n)?.to_vec(), 1 + n)
            }
            1 => {
                let n = (usize::from(enc & 0x3f) << 8) | usize::from(get(i + 1, 1)?[0]);
                (get(i + 2, n)?.to_vec(), 2 + n)
            }
            2 if enc == 0x80 => {
                let n = get(i + 1, 4)?;
                let n = u32::from_be_bytes([n[0], n[1], n[2], n[3]]) as usize;
                (get(i + 5, n)?.to_vec(), 5 + n)
            }
            2 => return bad("unknown ziplist string encoding"),
            _ => match enc {
                0xc0 => {
                    let d = get(i + 1, 2)?;
                    (int(i64::from(i16::from_le_bytes([d[0], d[1]]))), 3)
                }
                0xd0 => {
                    let d = get(i + 1, 4)?;
                    (
                        int(i64::from(i32::from_le_bytes([d[0], d[1], d[2], d[3]]))),
                        5,
                    )
                }
                0xe0 => {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(get(i + 1, 8)?);
                    (int(i64::from_le_bytes(a)), 9)
                }
                0xf0 => {
                    // 24 bits, sign-extended by shifting them to the top.
                    let d = get(i + 1, 3)?;
                    let v = i32::from_le_bytes([0, d[0], d[1], d[2]]) >> 8;
                    (int(i64::from(v)), 4)
                }
                0xfe => (int(i64::from(get(i + 1, 1)?[0] as i8)), 2),
                // 4-bit immediates 1..=13 stand for 0..=12.
                0xf1..=0xfd => (int(i64::from(enc & 0x0f) - 1), 1),
                _ => return bad("unknown ziplist integer encoding"),
            },
        };
        i += size;
        prev_size = i - start;
        last = start;
        out.push(entry);
    }
    if tail != last {
        return bad("ziplist tail offset does not match its last entry");
    }
    if count != u16::MAX && usize::from(count) != out.len() {
        return bad("ziplist entry count does not match its header");
    }
    Ok(out)
}

/// The field-value pairs of a zipmap (the packed encoding of small hashes
/// before Redis 2.6). Lengths are one byte, or 0xfe and four little-endian
/// bytes; each value is followed by a count of unused bytes to skip.
fn zipmap_pairs(zm: &[u8]) -> Rd<Vec<(Vec<u8>, Vec<u8>)>> {
    let Some((&count, _)) = zm.split_first() else {
        return bad("empty zipmap");
    };
    let get = |from: usize, n: usize| -> Rd<&[u8]> {
        from.checked_add(n)
            .and_then(|to| zm.get(from..to))
            .ok_or_else(|| RdbError::new("zipmap entry runs past the end"))
    };
    let len_at = |i: usize| -> Rd<(usize, usize)> {
        match get(i, 1)?[0] {
            PACKED_END => bad("zipmap end byte where a length was expected"),
            0xfe => {
                let b = get(i + 1, 4)?;
                Ok((u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 5))
            }
            b => Ok((usize::from(b), 1)),
        }
    };
    let mut pairs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut i = 1;
    while get(i, 1)?[0] != PACKED_END {
        let (n, h) = len_at(i)?;
        let field = get(i + h, n)?.to_vec();
        i += h + n;
        let (n, h) = len_at(i)?;
        let free = usize::from(get(i + h, 1)?[0]);
        let value = get(i + h + 1, n)?.to_vec();
        i += h + 1 + n;
        get(i, free)?;
        i += free;
        if !seen.insert(field.clone()) {
            return bad("zipmap with a repeated field");
        }
        pairs.push((field, value));
    }
    if i + 1 != zm.len() {
        return bad("bytes after the zipmap end byte");
    }
    // 254 and 255 mean the count did not fit.
    if count < 0xfe && usize::from(count) != pairs.len() {
        return bad("zipmap entry count does not match its header");
    }
    Ok(pairs)
}

/// A module type's name from its 64-bit id: nine 6-bit characters, most
/// significant first, above a 10-bit encoding version.
fn module_name(id: u64) -> String {
    const CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..9)
        .map(|j| char::from(CHARSET[((id >> (10 + 6 * (8 - j))) & 63) as usize]))
        .collect()
}

/// Skips a module's opcode-tagged values up to its EOF opcode, as a loader
/// without the module can. Returns how many values there were.
fn skip_module_values(c: &mut Cursor<'_>) -> Rd<usize> {
    let mut n = 0;
    loop {
        match c.len_u64()? {
            MODULE_OP_EOF => return Ok(n),
            MODULE_OP_SINT | MODULE_OP_UINT => {
                c.len_u64()?;
            }
            MODULE_OP_FLOAT => {
                c.take(4)?;
            }
            MODULE_OP_DOUBLE => {
                c.take(8)?;
            }
            MODULE_OP_STRING => {
                c.string()?;
            }
            op => return bad(format!("unknown module value opcode {op}")),
        }
        n += 1;
    }
}

/// Skips an OP_MODULE_AUX record (module id, when it is loaded, then the
/// module's values); returns the module's name and encoding version.
fn skip_module_aux(c: &mut Cursor<'_>) -> Rd<(String, u64)> {
    let id = c.len_u64()?;
    let name = module_name(id);
    if c.len_u64()? != MODULE_OP_UINT {
        return bad(format!(
            "auxiliary data of module '{name}' without its 'when' field"
        ));
    }
    c.len_u64()?;
    skip_module_values(c)?;
    Ok((name, id & 1023))
}

/// The members of an intset, in decimal.
fn intset_entries(is: &[u8]) -> Rd<Vec<Vec<u8>>> {
    if is.len() < 8 {
        return bad("corrupt intset");
    }
    let enc = u32::from_le_bytes([is[0], is[1], is[2], is[3]]) as usize;
    let n = u32::from_le_bytes([is[4], is[5], is[6], is[7]]) as usize;
    if !matches!(enc, 2 | 4 | 8) || is.len() != 8 + enc * n {
        return bad("corrupt intset");
    }
    Ok(is[8..]
        .chunks(enc)
        .map(|c| {
            let v = match enc {
                2 => i64::from(i16::from_le_bytes([c[0], c[1]])),
                4 => i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
                _ => {
                    let mut a = [0u8; 8];
                    a.copy_from_slice(c);
                    i64::from_le_bytes(a)
                }
            };
            v.to_string().into_bytes()
        })
        .collect())
}

fn build_list(items: Vec<Vec<u8>>, lim: &Limits) -> Value {
    let mut l = List::new();
    let fill = lim.list_max_listpack_size;
    let bytes = items.iter().map(Vec::len).sum();
    l.grow(fill, bytes, items.len());
    for e in &items {
        l.push(fill, e, false);
    }
    Value::List(Box::new(l))
}

/// A set of `items`; `None` when there are none.
fn build_set(items: Vec<Vec<u8>>, lim: &Limits) -> Option<Value> {
    let first = items.first()?;
    let mut s = Set::for_first(first, items.len(), lim);
    for m in &items {
        s.add(m, lim);
    }
    Some(Value::Set(Box::new(s)))
}

fn build_hash(pairs: Vec<(Vec<u8>, Vec<u8>)>, lim: &Limits) -> Value {
    let mut h = Hash::default();
    let args: Vec<&[u8]> = pairs
        .iter()
        .flat_map(|(f, v)| [f.as_slice(), v.as_slice()])
        .collect();
    h.prepare(&args, lim);
    for (f, v) in &pairs {
        h.set(f, v, lim);
    }
    Value::Hash(h)
}

fn parse_score(b: &[u8]) -> Rd<f64> {
    crate::cmd::parse_float(b).ok_or(RdbError::new("bad score"))
}

/// Splits a packed encoding's flat entries into (field, value) or
/// (member, score) pairs, rejecting an odd count and repeated fields as
/// Redis does (a repeat would silently shrink the loaded value).
fn pairs_of(entries: Vec<Vec<u8>>, what: &str) -> Rd<Vec<(Vec<u8>, Vec<u8>)>> {
    if entries.len() & 1 == 1 {
        return bad(format!("{what} with an odd number of entries"));
    }
    let mut seen = std::collections::HashSet::with_capacity(entries.len() / 2);
    let mut it = entries.into_iter();
    let mut pairs = Vec::new();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        if !seen.insert(a.clone()) {
            return bad(format!("{what} with a repeated element"));
        }
        pairs.push((a, b));
    }
    Ok(pairs)
}

fn build_zset(pairs: Vec<(Vec<u8>, Vec<u8>)>, lim: &Limits) -> Rd<Value> {
    let mut v = Vec::with_capacity(pairs.len());
    for (m, s) in pairs {
        let s = parse_score(&s)?;
        if s.is_nan() {
            return bad("NaN score");
        }
        v.push((s, m));
    }
    Ok(Value::ZSet(ZSet::from_entries(v, lim)))
}

/// Whether `v` is a collection with no elements, which Redis never writes
/// on purpose: loading skips such keys and RESTORE refuses them.
fn is_empty_collection(v: &Value) -> bool {
    match v {
        Value::List(l) => l.is_empty(),
        Value::Hash(h) => h.is_empty(),
        Value::Set(s) => s.is_empty(),
        Value::ZSet(z) => z.is_empty(),
        Value::Str(_) | Value::Stream(_) => false,
    }
}

/// A value type byte's name, for errors.
fn type_name(t: u8) -> &'static str {
    match t {
        T_STRING => "string",
        T_LIST => "list",
        T_SET => "set",
        T_ZSET => "zset",
        T_HASH => "hash",
        T_ZSET_2 => "zset-2",
        T_MODULE_PRE_GA => "module-pre-ga",
        T_MODULE_2 => "module-2",
        T_HASH_ZIPMAP => "hash-zipmap",
        T_LIST_ZIPLIST => "list-ziplist",
        T_SET_INTSET => "set-intset",
        T_ZSET_ZIPLIST => "zset-ziplist",
        T_HASH_ZIPLIST => "hash-ziplist",
        T_LIST_QUICKLIST => "list-quicklist",
        T_STREAM_LISTPACKS => "stream-listpacks",
        T_HASH_LISTPACK => "hash-listpack",
        T_ZSET_LISTPACK => "zset-listpack",
        T_LIST_QUICKLIST_2 => "list-quicklist-2",
        T_STREAM_LISTPACKS_2 => "stream-listpacks-2",
        T_SET_LISTPACK => "set-listpack",
        T_STREAM_LISTPACKS_3 => "stream-listpacks-3",
        _ => "unknown",
    }
}

/// Reads one value of type `t`; `None` for a collection with no elements.
fn read_value(c: &mut Cursor<'_>, t: u8, lim: &Limits) -> Rd<Option<Value>> {
    let v = match t {
        T_STRING => Value::Str(Str::from_vec(c.string()?)),
        T_LIST => {
            let n = c.len()?;
            let items = (0..n).map(|_| c.string()).collect::<Rd<Vec<_>>>()?;
            build_list(items, lim)
        }
        T_SET => {
            let n = c.len()?;
            let items = (0..n).map(|_| c.string()).collect::<Rd<Vec<_>>>()?;
            match build_set(items, lim) {
                Some(v) => v,
                None => return Ok(None),
            }
        }
        T_ZSET | T_ZSET_2 => {
            let n = c.len()?;
            let mut v = Vec::with_capacity(n.min(c.remaining()));
            for _ in 0..n {
                let m = c.string()?;
                let s = if t == T_ZSET_2 {
                    c.f64_le()?
                } else {
                    let l = usize::from(c.byte()?);
                    match l {
                        253 => f64::NAN,
                        254 => f64::INFINITY,
                        255 => f64::NEG_INFINITY,
                        _ => parse_score(c.take(l)?)?,
                    }
                };
                if s.is_nan() {
                    return bad("NaN score");
                }
                v.push((s, m));
            }
            Value::ZSet(ZSet::from_entries(v, lim))
        }
        T_HASH => {
            let n = c.len()?;
            let mut pairs = Vec::with_capacity(n.min(c.remaining()));
            for _ in 0..n {
                pairs.push((c.string()?, c.string()?));
            }
            build_hash(pairs, lim)
        }
        T_MODULE_PRE_GA => {
            return bad(
                "cannot load a module value in the pre-release module format (type 6): \
                 Ferrokey does not support modules",
            )
        }
        T_MODULE_2 => {
            let id = c.len_u64()?;
            return bad(format!(
                "cannot load a value of module type '{}': Ferrokey does not support modules",
                module_name(id)
            ));
        }
        T_HASH_ZIPMAP => build_hash(c.blob(zipmap_pairs)?, lim),
        T_LIST_ZIPLIST => build_list(c.blob(ziplist_entries)?, lim),
        T_ZSET_ZIPLIST => {
            let pairs = c.blob(|b| pairs_of(ziplist_entries(b)?, "zset ziplist"))?;
            build_zset(pairs, lim)?
        }
        T_HASH_ZIPLIST => {
            let pairs = c.blob(|b| pairs_of(ziplist_entries(b)?, "hash ziplist"))?;
            build_hash(pairs, lim)
        }
        T_LIST_QUICKLIST => {
            // Quicklist version 1: a ziplist per node. Redis skips empty
            // nodes, so they are not an error.
            let nodes = c.len()?;
            let mut items = Vec::new();
            for _ in 0..nodes {
                items.extend(c.blob(ziplist_entries)?);
            }
            build_list(items, lim)
        }
        T_SET_INTSET => match build_set(c.blob(intset_entries)?, lim) {
            Some(v) => v,
            None => return Ok(None),
        },
        T_SET_LISTPACK => match build_set(c.blob(listpack_entries)?, lim) {
            Some(v) => v,
            None => return Ok(None),
        },
        T_HASH_LISTPACK => {
            let pairs = c.blob(|b| pairs_of(listpack_entries(b)?, "hash listpack"))?;
            build_hash(pairs, lim)
        }
        T_ZSET_LISTPACK => {
            let pairs = c.blob(|b| pairs_of(listpack_entries(b)?, "zset listpack"))?;
            build_zset(pairs, lim)?
        }
        T_LIST_QUICKLIST_2 => {
            let nodes = c.len()?;
            let mut items = Vec::new();
            for _ in 0..nodes {
                let container = c.len()?;
                match container {
                    1 => items.push(c.string()?),
                    2 => items.extend(c.blob(listpack_entries)?),
                    _ => return bad("unknown quicklist container"),
                }
            }
            build_list(items, lim)
        }
        T_STREAM_LISTPACKS | T_STREAM_LISTPACKS_2 | T_STREAM_LISTPACKS_3 => read_stream(c, t, lim)?,
        _ => return bad(format!("unknown value type {t}")),
    };
    Ok(Some(v).filter(|v| !is_empty_collection(v)))
}

/// Checks and reads a DUMP payload.
pub fn restore(payload: &[u8], lim: &Limits) -> R<Value> {
    Ok(restore_value(payload, lim)?)
}

fn restore_value(payload: &[u8], lim: &Limits) -> Rd<Value> {
    if payload.len() < 10 {
        return bad("payload too short");
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let ver = u16::from_le_bytes([footer[0], footer[1]]);
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&footer[2..]);
    if ver > RDB_VERSION_MAX || crc64(0, &payload[..payload.len() - 8]) != u64::from_le_bytes(crc) {
        return bad("version or checksum");
    }
    let mut c = Cursor { b: body, pos: 0 };
    let t = c.byte()?;
    let Some(v) = read_value(&mut c, t, lim).map_err(|e| e.at(c.pos))? else {
        return bad("empty collection");
    };
    if c.pos != body.len() {
        return Err(RdbError::new("trailing bytes").at(c.pos));
    }
    Ok(v)
}

/// One key read from a snapshot.
#[derive(Debug)]
pub struct Loaded {
    /// Database index.
    pub db: usize,
    /// The key.
    pub key: Vec<u8>,
    /// The value.
    pub value: Value,
    /// Absolute expiry in Unix ms (0: none).
    pub expire_ms: u64,
    /// Seconds the key had been idle when saved (OP_IDLE, written under
    /// an LRU maxmemory policy).
    pub idle_s: Option<u64>,
    /// The key's LFU access frequency counter when saved (OP_FREQ,
    /// written under an LFU maxmemory policy).
    pub freq: Option<u8>,
}

/// What a snapshot held besides its keys, filled in by [`load_with`].
#[derive(Debug, Default)]
pub struct LoadReport {
    /// The file's RDB version.
    pub version: u16,
    /// The aux fields (`redis-ver`, `ctime`, ...), in file order.
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    /// Each function library's code.
    pub functions: Vec<Vec<u8>>,
    /// What was skipped rather than loaded (module aux data, empty keys),
    /// one sentence each, for the caller to log as warnings.
    pub warnings: Vec<String>,
    /// The CRC-64 at the end of the file, when the writer computed one (a
    /// wrong one fails the load).
    pub checksum: Option<u64>,
    /// Bytes parsed, up to the end of the checksum.
    pub len: usize,
}

/// Reads a whole snapshot file, calling `each` for every key; function
/// libraries are skipped.
pub fn load(data: &[u8], lim: &Limits, each: impl FnMut(Loaded)) -> R<()> {
    load_full(data, lim, each, &mut Vec::new())
}

/// [`load`], also collecting the code of every function library.
pub fn load_full(
    data: &[u8],
    lim: &Limits,
    each: impl FnMut(Loaded),
    functions: &mut Vec<Vec<u8>>,
) -> R<()> {
    let mut report = LoadReport::default();
    let r = load_with(data, lim, each, &mut report);
    functions.append(&mut report.functions);
    Ok(r?)
}

/// Reads a whole snapshot file, calling `each` for every key and filling
/// `report` with everything else, including warnings about what was
/// skipped. An error carries the byte offset at which parsing failed.
pub fn load_with(
    data: &[u8],
    lim: &Limits,
    mut each: impl FnMut(Loaded),
    report: &mut LoadReport,
) -> Result<(), RdbError> {
    if data.len() < 9 || &data[..5] != b"REDIS" {
        return Err(RdbError::new("not an RDB file: no REDIS signature").at(0));
    }
    let ver: u16 = std::str::from_utf8(&data[5..9])
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&v| v >= 1)
        .ok_or_else(|| RdbError::new("bad RDB version").at(5))?;
    if ver > RDB_VERSION_MAX {
        return Err(RdbError::new(format!("RDB version {ver} is too new")).at(5));
    }
    report.version = ver;
    let mut c = Cursor { b: data, pos: 9 };
    let mut key = Pending::default();
    loop {
        match load_step(&mut c, ver, lim, &mut key, report, &mut each) {
            Ok(true) => {}
            Ok(false) => {
                report.len = c.pos;
                return Ok(());
            }
            Err(e) => return Err(e.at(c.pos)),
        }
    }
}

/// The opcodes that apply to the next key.
#[derive(Default)]
struct Pending {
    db: usize,
    expire_ms: u64,
    idle_s: Option<u64>,
    freq: Option<u8>,
}

/// Reads one opcode and what follows it; `false` after the EOF opcode.
fn load_step(
    c: &mut Cursor<'_>,
    ver: u16,
    lim: &Limits,
    key: &mut Pending,
    report: &mut LoadReport,
    each: &mut impl FnMut(Loaded),
) -> Rd<bool> {
    let start = c.pos;
    let op = c.byte()?;
    match op {
        OP_EOF => {
            // Version 5 added the checksum; a file cut before its end is
            // as short as any other cut file.
            if ver >= 5 {
                let end = c.pos;
                let want = c.u64_le()?;
                // A zero checksum means the writer did not compute one.
                if want != 0 {
                    let got = crc64(0, &c.b[..end]);
                    if got != want {
                        return Err(RdbError::new(format!(
                            "RDB checksum mismatch: the file says {want:#018x}, \
                             the data hashes to {got:#018x}"
                        ))
                        .at(end));
                    }
                    report.checksum = Some(want);
                }
            }
            return Ok(false);
        }
        OP_SELECTDB => key.db = c.len()?,
        OP_RESIZEDB => {
            c.len()?;
            c.len()?;
        }
        OP_AUX => {
            let k = c.string()?;
            let v = c.string()?;
            report.aux.push((k, v));
        }
        OP_EXPIRETIME_MS => key.expire_ms = c.u64_le()?,
        OP_EXPIRETIME => {
            let b = c.take(4)?;
            key.expire_ms = u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])) * 1000;
        }
        OP_IDLE => key.idle_s = Some(c.len_u64()?),
        OP_FREQ => key.freq = Some(c.byte()?),
        OP_FUNCTION2 => report.functions.push(c.string()?),
        OP_FUNCTION_PRE_GA => return bad("pre-release function format (opcode 246) not supported"),
        OP_MODULE_AUX => {
            let (name, ver) = skip_module_aux(c)?;
            report.warnings.push(format!(
                "skipped the auxiliary data of module '{name}' (encoding version {ver}) \
                 at byte offset {start}: Ferrokey does not load modules"
            ));
        }
        t => {
            let name = c.string()?;
            let pending = std::mem::take(key);
            key.db = pending.db;
            let value = read_value(c, t, lim).map_err(|e| {
                let e = e.at(c.pos);
                RdbError {
                    why: format!(
                        "{} (reading the value of key '{}', type {t} {})",
                        e.why,
                        printable(&name),
                        type_name(t)
                    ),
                    offset: e.offset,
                }
            })?;
            match value {
                Some(value) => each(Loaded {
                    db: pending.db,
                    key: name,
                    value,
                    expire_ms: pending.expire_ms,
                    idle_s: pending.idle_s,
                    freq: pending.freq,
                }),
                None => report.warnings.push(format!(
                    "skipped empty key '{}' at byte offset {start}",
                    printable(&name)
                )),
            }
        }
    }
    Ok(true)
}

/// A key for a message: its text when printable, cut at 64 bytes, with
/// other bytes escaped.
fn printable(key: &[u8]) -> String {
    let mut s: String = key
        .iter()
        .take(64)
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect();
    if key.len() > 64 {
        s.push_str("...");
    }
    s
}

/// A snapshot of every database. The caller holds the gate exclusively,
/// so the image is one point in time.
pub fn snapshot(server: &crate::Server, now_ms: u64) -> Vec<u8> {
    let (compress, checksum) = {
        let c = server.config.read();
        (c.rdbcompression(), c.rdbchecksum())
    };
    let mut w = Writer::with_compression(now_ms, server.host.stats().allocated, compress);
    if !checksum {
        w = w.without_checksum();
    }
    for code in crate::script::functions::library_codes(&server.scripting) {
        w.function(&code);
    }
    for (i, db) in server.dbs.iter().enumerate() {
        let shards: Vec<_> = (0..crate::keyspace::SHARDS).map(|s| db.lock(s)).collect();
        let live = |e: &&crate::keyspace::Slot| e.expire_ms().is_none_or(|t| t > now_ms);
        let keys: usize = shards.iter().map(|s| s.iter().filter(live).count()).sum();
        if keys == 0 {
            continue;
        }
        let volatile: usize = shards
            .iter()
            .map(|s| {
                s.iter()
                    .filter(live)
                    .filter(|e| e.expire_ms().is_some())
                    .count()
            })
            .sum();
        w.select(i, keys, volatile);
        for s in &shards {
            for e in s.iter().filter(live) {
                w.item(&Item {
                    key: e.key(),
                    value: e.value(),
                    expire_ms: e.expire_ms(),
                });
            }
        }
    }
    w.finish()
}

/// Loads a snapshot into the databases (which the caller has emptied,
/// unless merging), holding the gate exclusively. Keys already expired are
/// skipped; a loaded key replaces an existing one. A function library
/// that already exists fails the load unless `merge`, as in Redis.
pub fn load_into(server: &crate::Server, data: &[u8], now_ms: u64, merge: bool) -> R<usize> {
    let lim = server.tunables.limits.load();
    let mut n = 0;
    let mut err = None;
    let mut report = LoadReport::default();
    load_with(
        data,
        &lim,
        |k| {
            if err.is_some() {
                return;
            }
            if k.db >= server.dbs.len() {
                err = Some(BadRdb(format!("database {} out of range", k.db)));
                return;
            }
            if k.expire_ms != 0 && k.expire_ms <= now_ms {
                return;
            }
            let h = server.hasher.hash(&k.key);
            let lru = server
                .tunables
                .memory
                .restored_stamp(now_ms, k.idle_s, k.freq);
            server.dbs[k.db].lock(crate::keyspace::shard_of(h)).insert(
                &server.hasher,
                h,
                &k.key,
                k.value,
                k.expire_ms,
                lru,
            );
            n += 1;
        },
        &mut report,
    )?;
    // What the load skipped (module data, empty keys) is said in the log.
    for w in &report.warnings {
        server.host.log("warning", w);
    }
    if let Err(e) = crate::script::functions::load_libraries(server, &report.functions, merge) {
        return Err(BadRdb(format!("function library: {e}")));
    }
    match err {
        Some(e) => Err(e),
        None => Ok(n),
    }
}

/// SAVE: writes a snapshot to `dbfilename` (relative to `dir`, the
/// working directory) and resets the change counter. The caller holds the
/// gate exclusively.
pub fn save(server: &crate::Server, now_ms: u64) -> Result<(), String> {
    use std::sync::atomic::Ordering;
    let path = server.config.read().dbfilename();
    let image = snapshot(server, now_ms);
    let dirty = server.stats.dirty.load(Ordering::Relaxed);
    match server.host.write_durably(&path, &image) {
        Ok(()) => {
            server.stats.dirty.fetch_sub(dirty, Ordering::Relaxed);
            server.stats.lastsave_ms.store(now_ms, Ordering::Relaxed);
            server.stats.rdb_saves.fetch_add(1, Ordering::Relaxed);
            server.snapshots.last_failed.store(false, Ordering::Relaxed);
            server.host.log("notice", "DB saved on disk");
            Ok(())
        }
        Err(e) => {
            server.snapshots.last_failed.store(true, Ordering::Relaxed);
            server
                .host
                .log("warning", &format!("Failed saving the DB: {e}"));
            Err(e)
        }
    }
}

/// RESTORE's error for a payload it cannot use.
pub fn bad_payload() -> Frame {
    Frame::Error("ERR DUMP payload version or checksum are wrong".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_matches_redis_test_vector() {
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }

    #[test]
    fn lzf_back_references() {
        // "aaaaaaaaaa": a literal 'a' then a back reference of length 9.
        let data = [0x00, b'a', 0xe0, 0x00, 0x00];
        assert_eq!(lzf_decompress(&data, 10).unwrap(), b"aaaaaaaaaa");
    }

    #[test]
    fn values_round_trip_through_dump() {
        let lim = Limits::default();
        let v = Value::Str(Str::from_bytes(b"12345"));
        let p = dump(&v);
        match restore(&p, &lim).unwrap() {
            Value::Str(s) => assert_eq!(s.to_vec(), b"12345"),
            _ => panic!("type"),
        }
        let mut bad_p = p.clone();
        bad_p[1] ^= 1;
        assert!(restore(&bad_p, &lim).is_err());
    }

    #[test]
    fn listpack_and_intset_decode() {
        // A listpack with "a", 5, -1 (13-bit), 300 (13-bit).
        let mut lp = vec![0, 0, 0, 0, 4, 0];
        lp.extend_from_slice(&[0x81, b'a', 2]);
        lp.extend_from_slice(&[0x05, 1]);
        lp.extend_from_slice(&[0xdf, 0xff, 2]);
        lp.extend_from_slice(&[0xc1, 0x2c, 2]);
        lp.push(0xff);
        let n = lp.len() as u32;
        lp[..4].copy_from_slice(&n.to_le_bytes());
        let e = listpack_entries(&lp).unwrap();
        assert_eq!(
            e,
            vec![
                b"a".to_vec(),
                b"5".to_vec(),
                b"-1".to_vec(),
                b"300".to_vec()
            ]
        );
        let mut is = vec![2, 0, 0, 0, 2, 0, 0, 0];
        is.extend_from_slice(&(-7i16).to_le_bytes());
        is.extend_from_slice(&9i16.to_le_bytes());
        assert_eq!(
            intset_entries(&is).unwrap(),
            vec![b"-7".to_vec(), b"9".to_vec()]
        );
    }

    // ------------------------------------------------ hand-built files

    /// A ziplist holding `entries`, each given as its encoding byte(s) and
    /// data; previous-entry sizes and the header are filled in.
    fn ziplist(entries: &[Vec<u8>]) -> Vec<u8> {
        let mut zl = vec![0u8; ZIPLIST_HEADER_LEN];
        let mut prev = 0usize;
        let mut tail = ZIPLIST_HEADER_LEN;
        for e in entries {
            tail = zl.len();
            if prev < 254 {
                zl.push(prev as u8);
            } else {
                zl.push(0xfe);
                zl.extend_from_slice(&(prev as u32).to_le_bytes());
            }
            zl.extend_from_slice(e);
            prev = zl.len() - tail;
        }
        zl.push(PACKED_END);
        let total = zl.len() as u32;
        zl[0..4].copy_from_slice(&total.to_le_bytes());
        zl[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
        zl[8..10].copy_from_slice(&(entries.len() as u16).to_le_bytes());
        zl
    }

    /// A ziplist string entry in the shortest string encoding.
    fn zl_str(s: &[u8]) -> Vec<u8> {
        let n = s.len();
        let mut e = if n < 64 {
            vec![n as u8]
        } else if n < 16384 {
            vec![0x40 | (n >> 8) as u8, n as u8]
        } else {
            let mut e = vec![0x80];
            e.extend_from_slice(&(n as u32).to_be_bytes());
            e
        };
        e.extend_from_slice(s);
        e
    }

    /// A zipmap of `pairs`, each value followed by `free` unused bytes.
    fn zipmap(pairs: &[(&[u8], &[u8])], free: u8) -> Vec<u8> {
        let mut zm = vec![pairs.len() as u8];
        let len = |zm: &mut Vec<u8>, n: usize| {
            if n < 254 {
                zm.push(n as u8);
            } else {
                zm.push(0xfe);
                zm.extend_from_slice(&(n as u32).to_le_bytes());
            }
        };
        for (f, v) in pairs {
            len(&mut zm, f.len());
            zm.extend_from_slice(f);
            len(&mut zm, v.len());
            zm.push(free);
            zm.extend_from_slice(v);
            zm.resize(zm.len() + usize::from(free), 0);
        }
        zm.push(PACKED_END);
        zm
    }

    /// A string in RDB's raw encoding.
    fn blob(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        put_len(&mut out, b.len() as u64);
        out.extend_from_slice(b);
        out
    }

    /// One key of type `t` whose value's encoded body is `body`.
    fn key(t: u8, name: &[u8], body: &[u8]) -> Vec<u8> {
        let mut out = vec![t];
        put_str(&mut out, name);
        out.extend_from_slice(body);
        out
    }

    /// A whole file of version `ver` around `body`, with its checksum.
    fn file(ver: u16, body: &[u8]) -> Vec<u8> {
        let mut out = format!("REDIS{ver:04}").into_bytes();
        out.extend_from_slice(body);
        out.push(OP_EOF);
        let crc = crc64(0, &out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    fn load_all(data: &[u8]) -> Result<(Vec<Loaded>, LoadReport), RdbError> {
        let mut keys = Vec::new();
        let mut report = LoadReport::default();
        load_with(data, &Limits::default(), |k| keys.push(k), &mut report)?;
        Ok((keys, report))
    }

    /// A value as text: list elements in order, hashes and sets sorted,
    /// sorted sets by score.
    fn show(v: &Value) -> String {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        match v {
            Value::Str(s) => text(&s.to_vec()),
            Value::List(l) => format!("[{}]", l.iter().map(text).collect::<Vec<_>>().join(",")),
            Value::Hash(h) => {
                let mut p: Vec<_> = h
                    .iter()
                    .map(|(f, v)| format!("{}={}", text(f), text(v)))
                    .collect();
                p.sort();
                format!("{{{}}}", p.join(","))
            }
            Value::Set(s) => {
                let mut m: Vec<_> = s.iter().map(|m| text(&m)).collect();
                m.sort();
                format!("{{{}}}", m.join(","))
            }
            Value::ZSet(z) => {
                let e: Vec<_> = z
                    .range(0, z.len())
                    .into_iter()
                    .map(|(s, m)| format!("{}:{s}", text(m)))
                    .collect();
                format!("<{}>", e.join(","))
            }
            Value::Stream(_) => "stream".into(),
        }
    }

    /// Every entry encoding a ziplist can hold, and what it decodes to.
    fn every_ziplist_encoding() -> (Vec<Vec<u8>>, Vec<String>) {
        let long = vec![b'x'; 300];
        let mut huge = vec![0x80];
        huge.extend_from_slice(&5u32.to_be_bytes());
        huge.extend_from_slice(b"hello");
        let mut i16e = vec![0xc0];
        i16e.extend_from_slice(&(-300i16).to_le_bytes());
        let mut i32e = vec![0xd0];
        i32e.extend_from_slice(&100_000i32.to_le_bytes());
        let mut i64e = vec![0xe0];
        i64e.extend_from_slice(&i64::MIN.to_le_bytes());
        let mut i24e = vec![0xf0];
        i24e.extend_from_slice(&(-5_000_000i32).to_le_bytes()[..3]);
        let entries = vec![
            zl_str(b"abc"),
            zl_str(&long), // 14-bit length; the next entry needs a 5-byte prevlen
            huge,          // 32-bit length
            i16e,
            i32e,
            i64e,
            i24e,
            vec![0xfe, 0x80], // int8
            vec![0xf1],       // immediate 0
            vec![0xfd],       // immediate 12
        ];
        let want = [
            "abc".to_string(),
            "x".repeat(300),
            "hello".into(),
            "-300".into(),
            "100000".into(),
            i64::MIN.to_string(),
            "-5000000".into(),
            "-128".into(),
            "0".into(),
            "12".into(),
        ];
        (entries, want.to_vec())
    }

    #[test]
    fn ziplist_decodes_every_entry_encoding() {
        let (entries, want) = every_ziplist_encoding();
        let got = ziplist_entries(&ziplist(&entries)).unwrap();
        let got: Vec<String> = got
            .iter()
            .map(|e| String::from_utf8(e.clone()).unwrap())
            .collect();
        assert_eq!(got, want);
        assert_eq!(
            ziplist_entries(&ziplist(&[])).unwrap(),
            Vec::<Vec<u8>>::new()
        );
    }

    #[test]
    fn ziplist_with_a_wrong_header_or_entry_is_an_error() {
        let good = ziplist(&[zl_str(b"a"), zl_str(b"bc")]);
        let broken = |at: usize, byte: u8| {
            let mut z = good.clone();
            z[at] = byte;
            ziplist_entries(&z).unwrap_err().why
        };
        assert!(broken(0, 99).contains("size"));
        assert!(broken(4, 99).contains("tail"));
        assert!(broken(8, 7).contains("count"));
        // The second entry's previous-entry size.
        assert!(broken(13, 9).contains("previous"));
        // A string encoding that does not exist (10xxxxxx other than 0x80).
        assert!(broken(11, 0x81).contains("encoding"));
        assert!(broken(11, 0xff).contains("encoding"));
        // A count of 65535 means "count the entries".
        let mut z = good.clone();
        z[8..10].copy_from_slice(&u16::MAX.to_le_bytes());
        assert_eq!(ziplist_entries(&z).unwrap().len(), 2);
    }

    #[test]
    fn zipmap_decodes_pairs_and_skips_free_space() {
        let long = vec![b'v'; 300];
        let zm = zipmap(&[(b"f1", b"v1"), (b"f2", &long)], 3);
        let pairs = zipmap_pairs(&zm).unwrap();
        assert_eq!(pairs[0], (b"f1".to_vec(), b"v1".to_vec()));
        assert_eq!(pairs[1], (b"f2".to_vec(), long));
        let dup = zipmap(&[(b"f", b"1"), (b"f", b"2")], 0);
        assert!(zipmap_pairs(&dup).unwrap_err().why.contains("repeated"));
        let mut wrong_count = zm.clone();
        wrong_count[0] = 5;
        assert!(zipmap_pairs(&wrong_count).is_err());
        let mut trailing = zm.clone();
        trailing.push(0);
        assert!(zipmap_pairs(&trailing).is_err());
    }

    #[test]
    fn truncated_packed_blobs_are_errors_not_panics() {
        let (entries, _) = every_ziplist_encoding();
        let zl = ziplist(&entries);
        for n in 0..zl.len() {
            assert!(ziplist_entries(&zl[..n]).is_err(), "ziplist cut at {n}");
        }
        let zm = zipmap(&[(b"field", b"value"), (b"f2", b"v2")], 2);
        for n in 0..zm.len() {
            assert!(zipmap_pairs(&zm[..n]).is_err(), "zipmap cut at {n}");
        }
        // A whole file cut anywhere (even inside the checksum), and every
        // byte of it flipped: never a panic; cut files always fail.
        let f = old_encodings_file();
        for n in 0..f.len() {
            assert!(load_all(&f[..n]).is_err(), "file cut at {n}");
        }
        for i in 9..f.len() {
            let mut g = f.clone();
            g[i] ^= 0x5a;
            let _ = load_all(&g);
        }
        // The same for a real Redis snapshot and its compressed rewrite.
        for f in [REDIS_7_0_RDB.to_vec(), compressible_snapshot(true)] {
            for n in 0..f.len() {
                assert!(load_all(&f[..n]).is_err(), "file cut at {n}");
            }
            for i in 9..f.len() {
                for mask in [0x01, 0x5a, 0xff] {
                    let mut g = f.clone();
                    g[i] ^= mask;
                    let _ = load_all(&g);
                }
            }
        }
        // A fake LZF string claiming a huge length.
        let mut huge = vec![T_STRING];
        put_str(&mut huge, b"k");
        huge.extend_from_slice(&[0xc3, 0x02, 0x80, 0xff, 0xff, 0xff, 0xf0, 0x00, b'a']);
        assert!(load_all(&file(9, &huge)).is_err());
    }

    /// A version-9 file with a key of each pre-listpack encoding.
    fn old_encodings_file() -> Vec<u8> {
        let mut body = vec![OP_SELECTDB, 0];
        body.extend(key(
            T_HASH_ZIPMAP,
            b"zipmap",
            &blob(&zipmap(&[(b"a", b"1"), (b"b", b"2")], 1)),
        ));
        let (entries, _) = every_ziplist_encoding();
        body.extend(key(T_LIST_ZIPLIST, b"list", &blob(&ziplist(&entries[..4]))));
        let zset = ziplist(&[zl_str(b"m1"), vec![0xf3], zl_str(b"m2"), zl_str(b"1.5")]);
        body.extend(key(T_ZSET_ZIPLIST, b"zset", &blob(&zset)));
        let hash = ziplist(&[zl_str(b"f"), vec![0xc0, 0x39, 0x30]]);
        body.extend(key(T_HASH_ZIPLIST, b"hash", &blob(&hash)));
        let mut ql = vec![3];
        ql.extend(blob(&ziplist(&[zl_str(b"a"), zl_str(b"b")])));
        ql.extend(blob(&ziplist(&[])));
        ql.extend(blob(&ziplist(&[vec![0xf4]])));
        body.extend(key(T_LIST_QUICKLIST, b"quicklist", &ql));
        file(9, &body)
    }

    #[test]
    fn pre_listpack_encodings_load() {
        let (keys, report) = load_all(&old_encodings_file()).unwrap();
        let got: Vec<(String, String)> = keys
            .iter()
            .map(|k| (String::from_utf8(k.key.clone()).unwrap(), show(&k.value)))
            .collect();
        let want = [
            ("zipmap", "{a=1,b=2}"),
            (
                "list",
                format!("[abc,{},hello,-300]", "x".repeat(300)).as_str(),
            ),
            ("zset", "<m2:1.5,m1:2>"),
            ("hash", "{f=12345}"),
            ("quicklist", "[a,b,3]"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        assert_eq!(got, want);
        assert_eq!(report.version, 9);
        assert!(report.warnings.is_empty());
        assert!(report.checksum.is_some());
    }

    #[test]
    fn repeated_fields_in_packed_hashes_and_zsets_are_errors() {
        let hash = ziplist(&[zl_str(b"f"), zl_str(b"1"), zl_str(b"f"), zl_str(b"2")]);
        let f = file(9, &key(T_HASH_ZIPLIST, b"h", &blob(&hash)));
        assert!(load_all(&f).unwrap_err().why.contains("repeated"));
        let odd = ziplist(&[zl_str(b"m")]);
        let f = file(9, &key(T_ZSET_ZIPLIST, b"z", &blob(&odd)));
        assert!(load_all(&f).unwrap_err().why.contains("odd"));
    }

    #[test]
    fn module_values_fail_with_a_module_error() {
        // A module id for type name "mymodtype" at encoding version 3.
        let charset = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let id = b"mymodtype".iter().fold(0u64, |id, ch| {
            (id << 6) | charset.iter().position(|c| c == ch).unwrap() as u64
        }) << 10
            | 3;
        assert_eq!(module_name(id), "mymodtype");
        let mut body = Vec::new();
        put_len(&mut body, id);
        body.extend_from_slice(&[MODULE_OP_UINT as u8, 7, MODULE_OP_EOF as u8]);
        let e = load_all(&file(10, &key(T_MODULE_2, b"m", &body))).unwrap_err();
        assert!(e.why.contains("module type 'mymodtype'"), "{e}");
        let e = load_all(&file(10, &key(T_MODULE_PRE_GA, b"m", &body))).unwrap_err();
        assert!(e.why.contains("module"), "{e}");
        let e = load_all(&file(10, &key(8, b"m", &body))).unwrap_err();
        assert!(e.why.contains("unknown value type 8"), "{e}");
    }

    #[test]
    fn module_aux_data_is_skipped_with_a_warning() {
        let id = (0x2a_u64 << 58) | 5; // name "qAAAAAAAA", version 5
        let mut body = vec![OP_MODULE_AUX];
        put_len(&mut body, id);
        body.extend_from_slice(&[MODULE_OP_UINT as u8, 2]); // when: after keys
        body.extend_from_slice(&[MODULE_OP_SINT as u8, 0x81]);
        body.extend_from_slice(&u64::MAX.to_be_bytes());
        body.push(MODULE_OP_FLOAT as u8);
        body.extend_from_slice(&1.5f32.to_le_bytes());
        body.push(MODULE_OP_DOUBLE as u8);
        body.extend_from_slice(&2.5f64.to_le_bytes());
        body.push(MODULE_OP_STRING as u8);
        put_str(&mut body, b"module state");
        body.push(MODULE_OP_EOF as u8);
        body.extend(key(T_STRING, b"k", &blob(b"v")));
        let f = file(10, &body);
        let (keys, report) = load_all(&f).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
        assert!(report.warnings[0].contains("module 'qAAAAAAAA'"));
        assert!(report.warnings[0].contains("encoding version 5"));
        assert!(report.warnings[0].contains("offset 9"));
        // The old entry points load it too, without the warning.
        let mut n = 0;
        load(&f, &Limits::default(), |_| n += 1).unwrap();
        assert_eq!(n, 1);
        // An unknown opcode inside is corrupt.
        let mut bad_op = body.clone();
        bad_op[10 + 2] = 9;
        assert!(load_all(&file(10, &bad_op)).is_err());
    }

    #[test]
    fn idle_time_and_frequency_reach_the_caller() {
        let mut body = vec![OP_SELECTDB, 3, OP_IDLE];
        put_len(&mut body, 70_000);
        body.extend(key(T_STRING, b"a", &blob(b"1")));
        body.extend_from_slice(&[OP_FREQ, 200]);
        body.extend(key(T_STRING, b"b", &blob(b"2")));
        body.extend(key(T_STRING, b"c", &blob(b"3")));
        let (keys, _) = load_all(&file(11, &body)).unwrap();
        let got: Vec<_> = keys.iter().map(|k| (k.db, k.idle_s, k.freq)).collect();
        assert_eq!(
            got,
            [
                (3, Some(70_000), None),
                (3, None, Some(200)),
                (3, None, None)
            ]
        );
    }

    #[test]
    fn versions_up_to_11_load_and_newer_ones_do_not() {
        const { assert!(RDB_VERSION_MAX >= 11) };
        for ver in 1..=RDB_VERSION_MAX {
            assert!(load_all(&file(ver, &[])).is_ok(), "version {ver}");
        }
        assert!(load_all(&file(RDB_VERSION_MAX + 1, &[])).is_err());
        assert!(load_all(&file(0, &[])).is_err());
    }

    #[test]
    fn empty_collections_are_skipped_with_a_warning() {
        let mut body = key(T_LIST, b"empty", &[0]);
        body.extend(key(T_HASH_ZIPLIST, b"empty2", &blob(&ziplist(&[]))));
        body.extend(key(T_STRING, b"k", &blob(b"")));
        let (keys, report) = load_all(&file(10, &body)).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(report.warnings.len(), 2, "{:?}", report.warnings);
        assert!(report.warnings[0].contains("'empty'"));
        // RESTORE refuses them.
        let mut p = vec![T_LIST, 0];
        p.extend_from_slice(&RDB_VERSION.to_le_bytes());
        let crc = crc64(0, &p);
        p.extend_from_slice(&crc.to_le_bytes());
        assert!(restore(&p, &Limits::default()).is_err());
    }

    #[test]
    fn errors_carry_the_byte_offset_of_the_failure() {
        // "REDIS0010" (9 bytes), then a string key "k" (3 bytes) whose
        // value claims 10 bytes and holds 2: parsing stops at offset 13,
        // where the value's bytes start.
        let mut data = b"REDIS0010".to_vec();
        data.extend_from_slice(&[T_STRING, 1, b'k', 10, b'a', b'b']);
        let e = load_all(&data).unwrap_err();
        assert_eq!(e.offset, Some(13), "{e}");
        assert!(e.why.contains("key 'k'"), "{e}");
        assert!(e.to_string().ends_with("at byte offset 13"), "{e}");
        // A corrupt ziplist is reported at the start of its blob.
        let mut zl = ziplist(&[zl_str(b"a")]);
        zl[8] = 2;
        let body = key(T_LIST_ZIPLIST, b"k", &blob(&zl));
        let e = load_all(&file(9, &body)).unwrap_err();
        assert_eq!(e.offset, Some(9 + 3), "{e}");
        // A wrong checksum is reported where the checksum is.
        let mut f = file(10, &key(T_STRING, b"k", &blob(b"v")));
        let n = f.len();
        f[n - 1] ^= 1;
        assert_eq!(load_all(&f).unwrap_err().offset, Some(n - 8));
        // The old entry points keep the offset in the message.
        let e = load(&data, &Limits::default(), |_| {}).err().unwrap();
        assert!(e.0.contains("at byte offset 13"), "{}", e.0);
    }

    // ------------------------------------------------ LZF on write

    #[test]
    fn lzf_round_trips_random_and_repetitive_data() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let random: Vec<u8> = (0..50_000).map(|_| rng.gen()).collect();
        // Few distinct bytes: short matches at every distance.
        let small_alphabet: Vec<u8> = (0..50_000).map(|_| b"ab"[rng.gen_range(0..2)]).collect();
        let text = "the quick brown fox jumps over the lazy dog; ".repeat(500);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", Vec::new()),
            ("one byte", vec![1]),
            ("three bytes", b"abc".to_vec()),
            ("random", random),
            ("small alphabet", small_alphabet),
            ("zeros", vec![0; 100_000]),
            ("text", text.into_bytes()),
            (
                "period 9000",
                (0..27_000).map(|i| (i % 9000 % 251) as u8).collect(),
            ),
        ];
        for (name, data) in &cases {
            let z = lzf_compress(data);
            assert_eq!(&lzf_decompress(&z, data.len()).unwrap(), data, "{name}");
            if data.len() > 1000 && *name != "random" {
                assert!(
                    z.len() * 5 < data.len() * 3,
                    "{name}: {} -> {}",
                    data.len(),
                    z.len()
                );
            }
        }
        // A run of zeros: one literal, then back references of the
        // longest length at distance 1.
        let z = lzf_compress(&[0; 1000]);
        assert_eq!(z[..5], [0x00, 0x00, 0xe0, 0xff, 0x00]);
        // Random data repeated at the farthest distance LZF can reach.
        let block: Vec<u8> = (0..LZF_DISTANCE_MAX).map(|_| rng.gen()).collect();
        let twice = [block.clone(), block].concat();
        let z = lzf_compress(&twice);
        assert_eq!(lzf_decompress(&z, twice.len()).unwrap(), twice);
        let refs = lzf_refs(&z);
        assert_eq!(refs.iter().map(|r| r.1).max(), Some(LZF_DISTANCE_MAX));
        assert_eq!(refs.iter().map(|r| r.0).max(), Some(LZF_MATCH_MAX));
    }

    /// The (length, distance) of each back reference in LZF data.
    fn lzf_refs(z: &[u8]) -> Vec<(usize, usize)> {
        let mut refs = Vec::new();
        let mut i = 0;
        while i < z.len() {
            let ctrl = usize::from(z[i]);
            if ctrl < 32 {
                i += ctrl + 2;
                continue;
            }
            let mut len = ctrl >> 5;
            i += 1;
            if len == 7 {
                len += usize::from(z[i]);
                i += 1;
            }
            refs.push((len + 2, ((ctrl & 0x1f) << 8) + usize::from(z[i]) + 1));
            i += 1;
        }
        refs
    }

    /// A snapshot with long and short strings of every value type.
    fn compressible_snapshot(compress: bool) -> Vec<u8> {
        let lim = Limits::default();
        let long = |c: char| c.to_string().repeat(100).into_bytes();
        let values = [
            Value::Str(Str::from_vec(long('s'))),
            Value::Str(Str::from_bytes(b"short")),
            build_list(vec![long('l'), b"1".to_vec()], &lim),
            build_set(vec![long('m'), b"x".to_vec()], &lim).unwrap(),
            build_hash(vec![(long('f'), long('v'))], &lim),
            build_zset(vec![(long('z'), b"2.5".to_vec())], &lim).unwrap(),
        ];
        let mut w = if compress {
            Writer::with_compression(1_700_000_000_000, 1 << 20, true)
        } else {
            Writer::new(1_700_000_000_000, 1 << 20)
        };
        w.select(0, values.len(), 0);
        let keys: Vec<Vec<u8>> = (0..values.len())
            .map(|i| format!("{i}-{}", "k".repeat(30)).into_bytes())
            .collect();
        for (k, v) in keys.iter().zip(&values) {
            w.item(&Item {
                key: k,
                value: v,
                expire_ms: None,
            });
        }
        w.finish()
    }

    #[test]
    fn writer_with_compression_writes_lzf_strings_that_load_back() {
        let plain = compressible_snapshot(false);
        let packed = compressible_snapshot(true);
        assert!(
            packed.len() + 400 < plain.len(),
            "{} vs {}",
            packed.len(),
            plain.len()
        );
        assert_eq!(
            Writer::with_compression(1, 2, false).finish(),
            Writer::new(1, 2).finish()
        );
        let (a, _) = load_all(&plain).unwrap();
        let (b, _) = load_all(&packed).unwrap();
        let shown = |ks: &[Loaded]| -> Vec<(Vec<u8>, String)> {
            ks.iter().map(|k| (k.key.clone(), show(&k.value))).collect()
        };
        assert_eq!(shown(&a), shown(&b));
        assert_eq!(b.len(), 6);
    }

    /// Runs redis-check-rdb on `data` and returns whether it passed and its
    /// output, or `None` when the tool is not installed.
    fn redis_check_rdb(name: &str, data: &[u8]) -> Option<(bool, String)> {
        let tool = std::path::Path::new("/usr/bin/redis-check-rdb");
        if !tool.exists() {
            eprintln!("skipped: {} is not installed", tool.display());
            return None;
        }
        let path = std::env::temp_dir().join(format!("ferrokey-{name}-{}.rdb", std::process::id()));
        std::fs::write(&path, data).unwrap();
        let out = std::process::Command::new(tool)
            .arg(&path)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&path);
        Some((
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ))
    }

    #[test]
    fn compressed_snapshot_passes_redis_check_rdb() {
        let Some((ok, stdout)) = redis_check_rdb("lzf", &compressible_snapshot(true)) else {
            return;
        };
        assert!(ok, "{stdout}");
        assert!(stdout.contains("RDB looks OK"), "{stdout}");
        assert!(stdout.contains("6 keys read"), "{stdout}");
    }

    /// A snapshot redis-server 7.0.15 saved with rdbcompression on: every
    /// small encoding it writes (int and LZF strings, quicklist 2 of
    /// listpacks, listpack hash/set/zset, intset, a stream with a consumer
    /// group and a pending entry, hashtable hashes with compressed values).
    const REDIS_7_0_RDB: &[u8] = include_bytes!("../testdata/redis-7.0.15.rdb");

    fn redis_7_0_keys() -> Vec<Loaded> {
        let (mut keys, report) = load_all(REDIS_7_0_RDB).unwrap();
        assert_eq!(report.version, 10);
        assert!(report.warnings.is_empty(), "{:?}", report.warnings);
        keys.sort_by(|a, b| a.key.cmp(&b.key));
        keys
    }

    #[test]
    fn a_redis_7_0_snapshot_loads() {
        let got: Vec<(String, String, u64)> = redis_7_0_keys()
            .iter()
            .map(|k| {
                (
                    String::from_utf8_lossy(&k.key).into_owned(),
                    show(&k.value),
                    k.expire_ms,
                )
            })
            .collect();
        let ys = format!("{{f={}}}", "y".repeat(100));
        let lzf = "compress me ".repeat(10);
        let want = [
            ("bigh", ys.as_str(), 0),
            ("bigh2", ys.as_str(), 0),
            ("e", "v", 4_102_444_800_000),
            ("h", "{f1=v1,f2=v2}", 0),
            ("l", "[a,b,1,300000,-7]", 0),
            ("lzf", lzf.as_str(), 0),
            ("n", "12345", 0),
            ("si", "{1,2,70000}", 0),
            ("ss", "{a,b}", 0),
            ("st", "stream", 0),
            ("z", "<a:1,b:2.5>", 0),
        ]
        .map(|(k, v, e)| (k.to_string(), v.to_string(), e));
        assert_eq!(got, want);
    }

    #[test]
    fn a_redis_7_0_snapshot_rewritten_with_compression_passes_redis_check_rdb() {
        let keys = redis_7_0_keys();
        let mut w = Writer::with_compression(0, 0, true);
        w.select(0, keys.len(), 1);
        for k in &keys {
            w.item(&Item {
                key: &k.key,
                value: &k.value,
                expire_ms: Some(k.expire_ms).filter(|&e| e != 0),
            });
        }
        let image = w.finish();
        assert_eq!(load_all(&image).unwrap().0.len(), keys.len());
        let Some((ok, stdout)) = redis_check_rdb("rewrite", &image) else {
            return;
        };
        assert!(ok, "{stdout}");
        assert!(stdout.contains("11 keys read"), "{stdout}");
    }
}
