//! Redis's RDB serialization: single values (DUMP / RESTORE payloads) and
//! whole snapshots (SAVE, DEBUG RELOAD, loading at startup).
//!
//! Ferrokey writes every value in the plain encodings every Redis since
//! 2.x reads (string, list, set, sorted set with binary scores, hash), and
//! streams as Redis 7.0 does (listpack nodes, type 19), under RDB version
//! 10 so that Redis 7.0 and later load the files and payloads. It reads
//! those plus what Redis 7 writes for small values: integer and
//! LZF-compressed strings, intsets, listpacks, quicklist 2 lists and the
//! three stream types.

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
const T_SET_INTSET: u8 = 11;
const T_HASH_LISTPACK: u8 = 16;
const T_ZSET_LISTPACK: u8 = 17;
const T_LIST_QUICKLIST_2: u8 = 18;
const T_SET_LISTPACK: u8 = 20;
const T_STREAM_LISTPACKS: u8 = 15;
const T_STREAM_LISTPACKS_2: u8 = 19;
const T_STREAM_LISTPACKS_3: u8 = 21;

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

/// Why a payload or file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRdb(pub String);

type R<T> = Result<T, BadRdb>;

fn bad<T>(why: &str) -> R<T> {
    Err(BadRdb(why.to_string()))
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
    put_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// Appends a value's type byte and body.
pub fn put_value(out: &mut Vec<u8>, v: &Value) {
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
            put_stream(out, st);
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
fn put_stream(out: &mut Vec<u8>, st: &Stream) {
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
        let lp = listpack(&items);
        put_len(out, lp.len() as u64);
        out.extend_from_slice(&lp);
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
fn read_stream(c: &mut Cursor<'_>, t: u8, lim: &Limits) -> R<Value> {
    let int = |b: &[u8]| -> R<i64> {
        ferrokey_resp::parse_i64(b).ok_or(BadRdb("stream listpack integer expected".into()))
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
        let master_id = StreamId::from_be_bytes(&key).ok_or(BadRdb("stream node key".into()))?;
        let lp = listpack_entries(&c.string()?)?;
        let get = |i: usize| lp.get(i).ok_or(BadRdb("truncated stream node".into()));
        let nfields = usize::try_from(int(get(2)?)?).or_else(|_| bad("stream master fields"))?;
        let master: Vec<&[u8]> = (0..nfields)
            .map(|j| get(3 + j).map(|v| &v[..]))
            .collect::<R<_>>()?;
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
            let id = StreamId::from_be_bytes(c.take(16)?).ok_or(BadRdb("pel id".into()))?;
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
                let id = StreamId::from_be_bytes(c.take(16)?).ok_or(BadRdb("pel id".into()))?;
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
pub struct Writer {
    out: Vec<u8>,
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
        Writer { out }
    }

    /// Adds a function library's code.
    pub fn function(&mut self, code: &[u8]) {
        self.out.push(OP_FUNCTION2);
        put_str(&mut self.out, code);
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
        put_value(&mut v, it.value);
        // put_value starts with the type byte; the key goes between.
        self.out.push(v[0]);
        put_str(&mut self.out, it.key);
        self.out.extend_from_slice(&v[1..]);
    }

    /// Ends the snapshot and returns its bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.out.push(OP_EOF);
        let crc = crc64(0, &self.out);
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
    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        if self.b.len() - self.pos < n {
            return bad("unexpected end of data");
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn byte(&mut self) -> R<u8> {
        Ok(self.take(1)?[0])
    }

    /// A length, or an encoded-string marker (`Err`-free: `(value, special)`).
    fn len_or_enc(&mut self) -> R<(u64, bool)> {
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

    fn len(&mut self) -> R<usize> {
        match self.len_or_enc()? {
            (n, false) => usize::try_from(n).or_else(|_| bad("length too large")),
            _ => bad("encoded value where a length was expected"),
        }
    }

    fn string(&mut self) -> R<Vec<u8>> {
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
            (3, true) => {
                let clen = self.len()?;
                let len = self.len()?;
                let data = self.take(clen)?;
                lzf_decompress(data, len)
            }
            _ => bad("unknown string encoding"),
        }
    }

    fn f64_le(&mut self) -> R<f64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_le_bytes(a))
    }

    fn u64_le(&mut self) -> R<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
}

/// LZF decompression (the format Redis compresses RDB strings with).
fn lzf_decompress(input: &[u8], out_len: usize) -> R<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(out_len);
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
                len += usize::from(*input.get(i).ok_or(BadRdb("corrupt LZF".into()))?);
                i += 1;
            }
            len += 2;
            let back = ((ctrl & 0x1f) << 8)
                + usize::from(*input.get(i).ok_or(BadRdb("corrupt LZF".into()))?)
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
fn listpack_entries(lp: &[u8]) -> R<Vec<Vec<u8>>> {
    if lp.len() < 7 || lp[lp.len() - 1] != 0xff {
        return bad("corrupt listpack");
    }
    let mut out = Vec::new();
    let mut i = 6;
    let int = |v: i64| v.to_string().into_bytes();
    while i < lp.len() - 1 {
        let b = lp[i];
        let get = |from: usize, n: usize| -> R<&[u8]> {
            lp.get(from..from + n)
                .ok_or(BadRdb("corrupt listpack entry".into()))
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

/// The members of an intset, in decimal.
fn intset_entries(is: &[u8]) -> R<Vec<Vec<u8>>> {
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

fn build_set(items: Vec<Vec<u8>>, lim: &Limits) -> R<Value> {
    let Some(first) = items.first() else {
        return bad("empty set");
    };
    let mut s = Set::for_first(first, items.len(), lim);
    for m in &items {
        s.add(m, lim);
    }
    Ok(Value::Set(Box::new(s)))
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
    Value::Hash(Box::new(h))
}

fn parse_score(b: &[u8]) -> R<f64> {
    crate::cmd::parse_float(b).ok_or(BadRdb("bad score".into()))
}

/// Reads one value of type `t`.
fn read_value(c: &mut Cursor<'_>, t: u8, lim: &Limits) -> R<Value> {
    Ok(match t {
        T_STRING => Value::Str(Str::from_vec(c.string()?)),
        T_LIST => {
            let n = c.len()?;
            let items = (0..n).map(|_| c.string()).collect::<R<Vec<_>>>()?;
            build_list(items, lim)
        }
        T_SET => {
            let n = c.len()?;
            build_set((0..n).map(|_| c.string()).collect::<R<Vec<_>>>()?, lim)?
        }
        T_ZSET | T_ZSET_2 => {
            let n = c.len()?;
            let mut v = Vec::with_capacity(n);
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
            Value::ZSet(Box::new(ZSet::from_entries(v, lim)))
        }
        T_HASH => {
            let n = c.len()?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                pairs.push((c.string()?, c.string()?));
            }
            build_hash(pairs, lim)
        }
        T_SET_INTSET => build_set(intset_entries(&c.string()?)?, lim)?,
        T_SET_LISTPACK => build_set(listpack_entries(&c.string()?)?, lim)?,
        T_HASH_LISTPACK => {
            let e = listpack_entries(&c.string()?)?;
            if e.len() % 2 != 0 {
                return bad("odd hash listpack");
            }
            let mut it = e.into_iter();
            let mut pairs = Vec::new();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                pairs.push((f, v));
            }
            build_hash(pairs, lim)
        }
        T_ZSET_LISTPACK => {
            let e = listpack_entries(&c.string()?)?;
            if e.len() % 2 != 0 {
                return bad("odd zset listpack");
            }
            let mut it = e.into_iter();
            let mut v = Vec::new();
            while let (Some(m), Some(s)) = (it.next(), it.next()) {
                v.push((parse_score(&s)?, m));
            }
            Value::ZSet(Box::new(ZSet::from_entries(v, lim)))
        }
        T_LIST_QUICKLIST_2 => {
            let nodes = c.len()?;
            let mut items = Vec::new();
            for _ in 0..nodes {
                let container = c.len()?;
                let blob = c.string()?;
                match container {
                    1 => items.push(blob),
                    2 => items.extend(listpack_entries(&blob)?),
                    _ => return bad("unknown quicklist container"),
                }
            }
            build_list(items, lim)
        }
        T_STREAM_LISTPACKS | T_STREAM_LISTPACKS_2 | T_STREAM_LISTPACKS_3 => read_stream(c, t, lim)?,
        _ => return bad("unsupported value type"),
    })
}

/// Checks and reads a DUMP payload.
pub fn restore(payload: &[u8], lim: &Limits) -> R<Value> {
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
    let v = read_value(&mut c, t, lim)?;
    if c.pos != body.len() {
        return bad("trailing bytes");
    }
    Ok(v)
}

/// One key read from a snapshot.
pub struct Loaded {
    /// Database index.
    pub db: usize,
    /// The key.
    pub key: Vec<u8>,
    /// The value.
    pub value: Value,
    /// Absolute expiry in Unix ms (0: none).
    pub expire_ms: u64,
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
    mut each: impl FnMut(Loaded),
    functions: &mut Vec<Vec<u8>>,
) -> R<()> {
    if data.len() < 9 || &data[..5] != b"REDIS" {
        return bad("not an RDB file");
    }
    let ver: u16 = std::str::from_utf8(&data[5..9])
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or(BadRdb("bad RDB version".into()))?;
    if ver > RDB_VERSION_MAX {
        return bad("RDB version too new");
    }
    let mut c = Cursor { b: data, pos: 9 };
    let mut db = 0;
    let mut expire_ms = 0;
    loop {
        let op = c.byte()?;
        match op {
            OP_EOF => {
                if ver >= 5 && c.b.len() - c.pos >= 8 {
                    let end = c.pos;
                    let want = c.u64_le()?;
                    // A zero checksum means the writer did not compute one.
                    if want != 0 && crc64(0, &data[..end]) != want {
                        return bad("RDB checksum mismatch");
                    }
                }
                return Ok(());
            }
            OP_SELECTDB => db = c.len()?,
            OP_RESIZEDB => {
                c.len()?;
                c.len()?;
            }
            OP_AUX => {
                c.string()?;
                c.string()?;
            }
            OP_EXPIRETIME_MS => expire_ms = c.u64_le()?,
            OP_EXPIRETIME => {
                let b = c.take(4)?;
                expire_ms = u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])) * 1000;
            }
            OP_IDLE => {
                c.len()?;
            }
            OP_FREQ => {
                c.byte()?;
            }
            OP_FUNCTION2 => functions.push(c.string()?),
            OP_MODULE_AUX => return bad("module data is not supported"),
            t => {
                let key = c.string()?;
                let value = read_value(&mut c, t, lim)?;
                each(Loaded {
                    db,
                    key,
                    value,
                    expire_ms,
                });
                expire_ms = 0;
            }
        }
    }
}

/// A snapshot of every database. The caller holds the gate exclusively,
/// so the image is one point in time.
pub fn snapshot(server: &crate::Server, now_ms: u64) -> Vec<u8> {
    let mut w = Writer::new(now_ms, server.host.stats().allocated);
    for code in crate::script::functions::library_codes(&server.scripting) {
        w.function(&code);
    }
    for (i, db) in server.dbs.iter().enumerate() {
        let shards: Vec<_> = (0..crate::keyspace::SHARDS).map(|s| db.lock(s)).collect();
        let live = |e: &&crate::keyspace::Entry| e.expire_ms().is_none_or(|t| t > now_ms);
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
                    key: &e.key,
                    value: &e.value,
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
    let mut functions = Vec::new();
    load_full(
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
            let lru = (now_ms / 1000) as u32;
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
        &mut functions,
    )?;
    if let Err(e) = crate::script::functions::load_libraries(server, &functions, merge) {
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
            server.host.log("notice", "DB saved on disk");
            Ok(())
        }
        Err(e) => {
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
}
