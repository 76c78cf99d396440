//! Bitmap commands compared byte for byte with redis-server: BITCOUNT and
//! BITPOS ranges (bytes and bits, negative, empty, out of range), BITOP
//! with missing and shorter sources, and BITFIELD's types, offsets and
//! overflow modes, in RESP2 and RESP3.

use crate::harness::*;

fn both(script: &[&[&str]]) {
    let p = Pair::new();
    p.diff(script);
    p.diff3(script);
}

#[test]
fn bitcount_bitpos_bitop_bitfield() {
    both(&[
        &["SETBIT", "bk", "4294967296", "1"],
        &["SETBIT", "bk", "4294967295", "2"],
        &["SETBIT", "bk", "-1", "1"],
        &["GETBIT", "bk", "4294967296"],
        &["BITFIELD", "bk", "GET", "u8", "4294967296"],
        &["BITFIELD", "bk", "GET", "u8", "#536870912"],
        &["set", "s", "foobar"],
        &["bitcount", "s"],
        &["bitcount", "s", "0", "0"],
        &["bitcount", "s", "1", "1"],
        &["bitcount", "s", "1", "1", "bit"],
        &["bitcount", "s", "5", "30", "bit"],
        &["bitcount", "s", "-1", "-1"],
        &["bitcount", "s", "-1", "-2"],
        &["bitcount", "s", "0", "-1", "bit"],
        &["bitcount", "s", "0"],
        &["bitcount", "s", "0", "1", "foo"],
        &["bitcount", "s", "a", "b"],
        &["bitcount", "nokey", "0"],
        &["bitcount", "nokey"],
        &["bitcount", "s", "100", "200"],
        &["bitcount", "s", "-100", "-50"],
        &["set", "e", ""],
        &["bitcount", "e"],
        &["bitpos", "e", "0"],
        &["bitpos", "e", "1"],
        &["set", "b", "\\xff\\xf0\\x00"],
        &["bitpos", "b", "0"],
        &["bitpos", "b", "1"],
        &["bitpos", "b", "0", "1"],
        &["bitpos", "b", "1", "2"],
        &["bitpos", "b", "0", "0", "0"],
        &["bitpos", "b", "1", "7", "15", "bit"],
        &["bitpos", "b", "0", "7", "15", "bit"],
        &["bitpos", "b", "0", "-1"],
        &["bitpos", "b", "2"],
        &["bitpos", "b", "1", "0", "-1", "bit"],
        &["bitpos", "b", "0", "0", "-1", "bit"],
        &["bitpos", "nokey", "0"],
        &["bitpos", "nokey", "1"],
        &["bitpos", "b", "1", "5", "3"],
        &["bitpos", "b", "0", "1", "1", "foo"],
        &["setrange", "f", "0", "\\xff\\xff"],
        &["bitpos", "f", "0"],
        &["bitpos", "f", "0", "0", "1"],
        &["bitpos", "f", "0", "0", "-1", "bit"],
        &["bitpos", "f", "0", "3", "bit"],
        &["bitpos", "f", "1", "1000"],
        &["set", "a1", "abcdefghijk"],
        &["set", "a2", "XYZ"],
        &["bitop", "and", "d", "a1", "a2"],
        &["get", "d"],
        &["bitop", "or", "d", "a1", "a2", "nokey"],
        &["get", "d"],
        &["bitop", "xor", "d", "a1", "a2"],
        &["get", "d"],
        &["bitop", "not", "d", "a2"],
        &["get", "d"],
        &["bitop", "not", "d", "a1", "a2"],
        &["bitop", "foo", "d", "a1"],
        &["bitop", "and", "d", "nokey", "nokey2"],
        &["exists", "d"],
        &["lpush", "l", "x"],
        &["bitop", "and", "d", "l"],
        &["bitop", "and", "d"],
        &[
            "bitfield", "bf", "set", "i8", "0", "100", "get", "i8", "0", "incrby", "i8", "0",
            "100", "overflow", "sat", "incrby", "i8", "0", "100", "overflow", "fail", "incrby",
            "i8", "0", "100", "get", "u4", "0", "set", "u4", "#1", "15", "get", "u8", "0",
        ],
        &[
            "bitfield", "bf", "incrby", "u2", "100", "1", "overflow", "sat", "incrby", "u2", "102",
            "1",
        ],
        &[
            "bitfield", "bf", "incrby", "u2", "100", "1", "overflow", "sat", "incrby", "u2", "102",
            "1",
        ],
        &[
            "bitfield", "bf", "incrby", "u2", "100", "1", "overflow", "sat", "incrby", "u2", "102",
            "1",
        ],
        &[
            "bitfield", "bf", "set", "i64", "0", "-1", "get", "i64", "0", "get", "u63", "0",
            "incrby", "i64", "0", "1", "set", "u63", "64", "-1", "get", "u63", "64",
        ],
        &["bitfield", "bf", "get", "i65", "0"],
        &["bitfield", "bf", "get", "u64", "0"],
        &["bitfield", "bf", "get", "x8", "0"],
        &["bitfield", "bf", "get", "i8", "-1"],
        &["bitfield", "bf", "get", "i8", "a"],
        &["bitfield", "bf", "overflow", "foo"],
        &["bitfield", "bf", "set", "i8", "0"],
        &["bitfield", "bf", "bogus"],
        &["bitfield", "bf", "set", "i8", "0", "x"],
        &["bitfield", "nokey", "get", "i8", "0"],
        &["bitfield_ro", "bf", "get", "i8", "0", "get", "u4", "#3"],
        &["bitfield_ro", "bf", "set", "i8", "0", "1"],
        &["bitfield", "l", "get", "i8", "0"],
        &["bitfield", "bf"],
        &[
            "bitfield", "nb", "overflow", "fail", "incrby", "i8", "0", "200",
        ],
        &["exists", "nb"],
        &["bitfield", "nb2", "set", "i8", "0", "1"],
        &["get", "nb2"],
        &[
            "bitfield", "bf", "set", "i5", "3", "-20", "get", "i5", "3", "overflow", "wrap",
            "incrby", "i5", "3", "-30", "overflow", "sat", "set", "i5", "3", "99", "get", "i5",
            "3",
        ],
        &[
            "bitfield",
            "bf",
            "incrby",
            "i64",
            "0",
            "9223372036854775807",
            "incrby",
            "i64",
            "0",
            "9223372036854775807",
            "overflow",
            "sat",
            "incrby",
            "i64",
            "0",
            "9223372036854775807",
            "incrby",
            "i64",
            "0",
            "-9223372036854775808",
            "incrby",
            "i64",
            "0",
            "-9223372036854775808",
        ],
    ]);
}

/// Binary strings: every byte value, all-ones and all-zeros runs longer
/// than a machine word, so the word-at-a-time paths and their edges are
/// compared too.
#[test]
fn word_sized_runs() {
    let all: Vec<u8> = (0..=255u8).collect();
    let ones = vec![0xffu8; 67];
    let mut zeros = vec![0u8; 70];
    zeros[69] = 1;
    let p = Pair::new();
    let mut s = p.session("RESP2");
    let mut script: Vec<Vec<Vec<u8>>> = vec![
        vec![b"SET".to_vec(), b"all".to_vec(), all.clone()],
        vec![b"SET".to_vec(), b"ones".to_vec(), ones.clone()],
        vec![b"SET".to_vec(), b"zeros".to_vec(), zeros.clone()],
    ];
    for (k, len) in [("all", 256i64), ("ones", 67), ("zeros", 70)] {
        for (a, b) in [(0, -1), (3, len - 5), (-9, -2), (1, 1)] {
            for unit in ["BYTE", "BIT"] {
                let (a, b) = (a.to_string(), b.to_string());
                script.push(vec![
                    b"BITCOUNT".to_vec(),
                    k.into(),
                    a.clone().into(),
                    b.clone().into(),
                    unit.into(),
                ]);
                for bit in ["0", "1"] {
                    script.push(vec![
                        b"BITPOS".to_vec(),
                        k.into(),
                        bit.into(),
                        a.clone().into(),
                        b.clone().into(),
                        unit.into(),
                    ]);
                    script.push(vec![
                        b"BITPOS".to_vec(),
                        k.into(),
                        bit.into(),
                        a.clone().into(),
                    ]);
                }
            }
        }
    }
    for op in ["AND", "OR", "XOR"] {
        script.push(vec![
            b"BITOP".to_vec(),
            op.into(),
            b"dst".to_vec(),
            b"all".to_vec(),
            b"ones".to_vec(),
            b"zeros".to_vec(),
        ]);
        script.push(vec![b"GET".to_vec(), b"dst".to_vec()]);
    }
    script.push(vec![
        b"BITOP".to_vec(),
        b"NOT".to_vec(),
        b"dst".to_vec(),
        b"all".to_vec(),
    ]);
    script.push(vec![b"GET".to_vec(), b"dst".to_vec()]);
    for line in &script {
        s.line(Mode::Exact, line);
    }
    s.finish();
}
