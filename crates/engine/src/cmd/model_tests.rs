//! Property tests: seeded random operation sequences on each collection
//! type, run through the real command path, agree with a simple model
//! (VecDeque, BTreeMap, BTreeSet), while small encoding thresholds make the
//! values convert between their compact and full encodings.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::list::tests::{s, H};

const SEQUENCES: u64 = 60;
const OPS: usize = 300;

fn small_limits(h: &mut H) {
    for (k, v) in [
        ("list-max-listpack-size", "4"),
        ("hash-max-listpack-entries", "4"),
        ("hash-max-listpack-value", "8"),
        ("set-max-intset-entries", "4"),
        ("set-max-listpack-entries", "4"),
        ("set-max-listpack-value", "8"),
        ("zset-max-listpack-entries", "4"),
        ("zset-max-listpack-value", "8"),
    ] {
        assert_eq!(h.strs(&format!("config set {k} {v}")), s(&["OK"]));
    }
}

/// A member: small integers (intset), short words, or long words (past the
/// listpack value limit).
fn member(rng: &mut StdRng) -> String {
    match rng.gen_range(0..10) {
        0..=4 => rng.gen_range(0..12).to_string(),
        5..=8 => format!("m{}", rng.gen_range(0..12)),
        _ => format!("long-member-{}", rng.gen_range(0..4)),
    }
}

fn exists(h: &mut H, key: &str) -> bool {
    h.strs(&format!("exists {key}")) == s(&["1"])
}

#[test]
fn lists_agree_with_a_deque() {
    for seed in 0..SEQUENCES {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut h = H::new();
        small_limits(&mut h);
        let mut m: VecDeque<String> = VecDeque::new();
        for step in 0..OPS {
            let ctx = format!("seed {seed} step {step}");
            let len = m.len() as i64;
            let idx = rng.gen_range(-len - 2..len + 2);
            match rng.gen_range(0..10) {
                0 | 1 => {
                    let n = rng.gen_range(1..4);
                    let els: Vec<String> = (0..n).map(|_| member(&mut rng)).collect();
                    let head = rng.gen_bool(0.5);
                    let cmd = if head { "lpush" } else { "rpush" };
                    for e in &els {
                        if head {
                            m.push_front(e.clone());
                        } else {
                            m.push_back(e.clone());
                        }
                    }
                    let got = h.strs(&format!("{cmd} l {}", els.join(" ")));
                    assert_eq!(got, s(&[&m.len().to_string()]), "{ctx}");
                }
                2 => {
                    let head = rng.gen_bool(0.5);
                    let n = rng.gen_range(1..4usize);
                    let cmd = if head { "lpop" } else { "rpop" };
                    let mut want = Vec::new();
                    for _ in 0..n {
                        let e = if head { m.pop_front() } else { m.pop_back() };
                        match e {
                            Some(e) => want.push(e),
                            None => break,
                        }
                    }
                    let got = h.strs(&format!("{cmd} l {n}"));
                    if want.is_empty() {
                        assert_eq!(got, s(&["(nil)"]), "{ctx}");
                    } else {
                        assert_eq!(got, want, "{ctx}");
                    }
                }
                3 => {
                    let want = norm(idx, m.len()).map_or("(nil)".to_string(), |i| m[i].clone());
                    assert_eq!(h.strs(&format!("lindex l {idx}")), vec![want], "{ctx}");
                }
                4 => {
                    let v = member(&mut rng);
                    let got = h.strs(&format!("lset l {idx} {v}"));
                    match norm(idx, m.len()) {
                        Some(i) => {
                            m[i] = v;
                            assert_eq!(got, s(&["OK"]), "{ctx}");
                        }
                        None => assert!(got[0].starts_with("ERR:"), "{ctx}: {got:?}"),
                    }
                }
                5 => {
                    let pivot = member(&mut rng);
                    let v = member(&mut rng);
                    let after = rng.gen_bool(0.5);
                    let got = h.strs(&format!(
                        "linsert l {} {pivot} {v}",
                        if after { "after" } else { "before" }
                    ));
                    let want = if m.is_empty() {
                        0
                    } else if let Some(p) = m.iter().position(|x| *x == pivot) {
                        m.insert(if after { p + 1 } else { p }, v);
                        m.len() as i64
                    } else {
                        -1
                    };
                    assert_eq!(got, vec![want.to_string()], "{ctx}");
                }
                6 => {
                    let v = member(&mut rng);
                    let count: i64 = rng.gen_range(-2..3);
                    let mut removed = 0;
                    let limit = if count == 0 {
                        usize::MAX
                    } else {
                        count.unsigned_abs() as usize
                    };
                    if count >= 0 {
                        let mut i = 0;
                        while i < m.len() && removed < limit {
                            if m[i] == v {
                                m.remove(i);
                                removed += 1;
                            } else {
                                i += 1;
                            }
                        }
                    } else {
                        let mut i = m.len();
                        while i > 0 && removed < limit {
                            i -= 1;
                            if m[i] == v {
                                m.remove(i);
                                removed += 1;
                            }
                        }
                    }
                    let got = h.strs(&format!("lrem l {count} {v}"));
                    assert_eq!(got, vec![removed.to_string()], "{ctx}");
                }
                7 => {
                    let a = rng.gen_range(-len - 2..len + 2);
                    let b = rng.gen_range(-len - 2..len + 2);
                    let keep = range(a, b, m.len());
                    m = keep.map_or_else(VecDeque::new, |(x, y)| {
                        m.iter().skip(x).take(y - x + 1).cloned().collect()
                    });
                    assert_eq!(h.strs(&format!("ltrim l {a} {b}")), s(&["OK"]), "{ctx}");
                }
                8 => {
                    let v = member(&mut rng);
                    let want: Vec<String> = m
                        .iter()
                        .enumerate()
                        .filter(|(_, x)| **x == v)
                        .map(|(i, _)| i.to_string())
                        .collect();
                    assert_eq!(h.strs(&format!("lpos l {v} count 0")), want, "{ctx}");
                }
                _ => {
                    let a = rng.gen_range(-len - 2..len + 2);
                    let b = rng.gen_range(-len - 2..len + 2);
                    let want: Vec<String> = range(a, b, m.len()).map_or_else(Vec::new, |(x, y)| {
                        m.iter().skip(x).take(y - x + 1).cloned().collect()
                    });
                    assert_eq!(h.strs(&format!("lrange l {a} {b}")), want, "{ctx}");
                }
            }
            // Encodings: empty lists are deleted; past the size limit a
            // list is a quicklist.
            assert_eq!(exists(&mut h, "l"), !m.is_empty(), "{ctx}: empty list kept");
            if m.len() > 4 {
                assert_eq!(h.enc("l"), "quicklist", "{ctx}");
            } else if !m.is_empty() {
                let e = h.enc("l");
                assert!(e == "listpack" || e == "quicklist", "{ctx}: {e}");
            }
        }
        assert_eq!(
            h.strs("lrange l 0 -1"),
            m.iter().cloned().collect::<Vec<_>>()
        );
    }
}

/// An index as LINDEX/LSET read it.
fn norm(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { i + len as i64 } else { i };
    (i >= 0 && (i as usize) < len).then_some(i as usize)
}

/// A start/stop range as LRANGE/LTRIM clamp it.
fn range(a: i64, b: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let a = if a < 0 { (a + len).max(0) } else { a };
    let b = if b < 0 { b + len } else { b.min(len - 1) };
    (a <= b && a < len).then_some((a as usize, b as usize))
}

#[test]
fn hashes_agree_with_a_map() {
    for seed in 0..SEQUENCES {
        let mut rng = StdRng::seed_from_u64(100 + seed);
        let mut h = H::new();
        small_limits(&mut h);
        let mut m: BTreeMap<String, String> = BTreeMap::new();
        let mut converted = false;
        for step in 0..OPS {
            let ctx = format!("seed {seed} step {step}");
            let f = member(&mut rng);
            match rng.gen_range(0..6) {
                0 | 1 => {
                    let v = member(&mut rng);
                    let new = m.insert(f.clone(), v.clone()).is_none();
                    let got = h.strs(&format!("hset h {f} {v}"));
                    assert_eq!(got, vec![(new as i64).to_string()], "{ctx}");
                    converted |= m.len() > 4 || f.len() > 8 || v.len() > 8;
                }
                2 => {
                    let had = m.remove(&f).is_some();
                    assert_eq!(
                        h.strs(&format!("hdel h {f}")),
                        vec![(had as i64).to_string()],
                        "{ctx}"
                    );
                }
                3 => {
                    let want = m.get(&f).cloned().unwrap_or("(nil)".into());
                    assert_eq!(h.strs(&format!("hget h {f}")), vec![want], "{ctx}");
                    assert_eq!(h.strs("hlen h"), vec![m.len().to_string()], "{ctx}");
                }
                4 => {
                    let by: i64 = rng.gen_range(-5..5);
                    let got = h.strs(&format!("hincrby h {f} {by}"));
                    match m.get(&f).map(|v| v.parse::<i64>()) {
                        Some(Err(_)) => assert!(got[0].starts_with("ERR:"), "{ctx}"),
                        old => {
                            let n = old.and_then(Result::ok).unwrap_or(0) + by;
                            m.insert(f.clone(), n.to_string());
                            assert_eq!(got, vec![n.to_string()], "{ctx}");
                            converted |= m.len() > 4 || f.len() > 8;
                        }
                    }
                }
                _ => {
                    let mut got = h.strs("hgetall h");
                    let mut pairs: Vec<(String, String)> = Vec::new();
                    while let (Some(v), Some(k)) = (got.pop(), got.pop()) {
                        pairs.push((k, v));
                    }
                    pairs.sort();
                    let want: Vec<(String, String)> = m.clone().into_iter().collect();
                    assert_eq!(pairs, want, "{ctx}");
                }
            }
            if m.is_empty() {
                assert!(!exists(&mut h, "h"), "{ctx}: empty hash kept");
                converted = false;
            } else {
                // One way, as in Redis: a hash never goes back to listpack.
                let want = if converted { "hashtable" } else { "listpack" };
                assert_eq!(h.enc("h"), want, "{ctx}");
            }
        }
    }
}

#[test]
fn sets_agree_with_a_set() {
    for seed in 0..SEQUENCES {
        let mut rng = StdRng::seed_from_u64(200 + seed);
        let mut h = H::new();
        small_limits(&mut h);
        let mut m: BTreeSet<String> = BTreeSet::new();
        let mut big = false;
        for step in 0..OPS {
            let ctx = format!("seed {seed} step {step}");
            let v = member(&mut rng);
            match rng.gen_range(0..5) {
                0 | 1 => {
                    let new = m.insert(v.clone());
                    assert_eq!(
                        h.strs(&format!("sadd s {v}")),
                        vec![(new as i64).to_string()],
                        "{ctx}"
                    );
                    big |= m.len() > 4 || v.len() > 8;
                }
                2 => {
                    let had = m.remove(&v);
                    assert_eq!(
                        h.strs(&format!("srem s {v}")),
                        vec![(had as i64).to_string()],
                        "{ctx}"
                    );
                }
                3 => {
                    let want = (m.contains(&v) as i64).to_string();
                    assert_eq!(h.strs(&format!("sismember s {v}")), vec![want], "{ctx}");
                    assert_eq!(h.strs("scard s"), vec![m.len().to_string()], "{ctx}");
                }
                _ => {
                    let mut got = h.strs("smembers s");
                    got.sort();
                    assert_eq!(got, m.iter().cloned().collect::<Vec<_>>(), "{ctx}");
                    let popped = h.strs("spop s");
                    if m.is_empty() {
                        assert_eq!(popped, s(&["(nil)"]), "{ctx}");
                    } else {
                        assert!(m.remove(&popped[0]), "{ctx}: popped a non-member");
                    }
                }
            }
            if m.is_empty() {
                assert!(!exists(&mut h, "s"), "{ctx}: empty set kept");
                big = false;
            } else {
                let e = h.enc("s");
                if big {
                    assert_eq!(e, "hashtable", "{ctx}");
                } else if m.iter().all(|x| x.parse::<i64>().is_ok()) && e != "listpack" {
                    assert_eq!(e, "intset", "{ctx}");
                } else {
                    assert!(e == "listpack" || e == "intset", "{ctx}: {e}");
                }
            }
        }
    }
}

#[test]
fn sorted_sets_agree_with_an_ordered_model() {
    for seed in 0..SEQUENCES {
        let mut rng = StdRng::seed_from_u64(300 + seed);
        let mut h = H::new();
        small_limits(&mut h);
        // A big set makes the skiplist's blocks split and merge.
        let bulk = if seed % 4 == 0 { 3000 } else { 0 };
        let mut m: BTreeMap<String, i64> = BTreeMap::new();
        for i in 0..bulk {
            let sc = (i * 7919) % 1000;
            m.insert(format!("bulk{i}"), sc);
            h.run(&format!("zadd z {sc} bulk{i}"));
        }
        let mut converted = bulk > 0;
        let ordered = |m: &BTreeMap<String, i64>| {
            let mut v: Vec<(i64, String)> = m.iter().map(|(k, s)| (*s, k.clone())).collect();
            v.sort();
            v
        };
        for step in 0..OPS {
            let ctx = format!("seed {seed} step {step}");
            let v = member(&mut rng);
            let sc: i64 = rng.gen_range(-5..1005);
            match rng.gen_range(0..7) {
                0 | 1 => {
                    let new = m.insert(v.clone(), sc).is_none();
                    assert_eq!(
                        h.strs(&format!("zadd z {sc} {v}")),
                        vec![(new as i64).to_string()],
                        "{ctx}"
                    );
                    converted |= m.len() > 4 || v.len() > 8;
                }
                2 => {
                    let had = m.remove(&v).is_some();
                    assert_eq!(
                        h.strs(&format!("zrem z {v}")),
                        vec![(had as i64).to_string()],
                        "{ctx}"
                    );
                }
                3 => {
                    let o = ordered(&m);
                    let want = o
                        .iter()
                        .position(|(_, k)| *k == v)
                        .map_or("(nil)".to_string(), |r| r.to_string());
                    assert_eq!(h.strs(&format!("zrank z {v}")), vec![want], "{ctx}");
                    assert_eq!(h.strs("zcard z"), vec![m.len().to_string()], "{ctx}");
                }
                4 => {
                    let o = ordered(&m);
                    let (a, b) = (rng.gen_range(0..o.len() + 3), rng.gen_range(0..o.len() + 3));
                    let want: Vec<String> = if a <= b && a < o.len() {
                        o[a..=b.min(o.len() - 1)]
                            .iter()
                            .map(|(_, k)| k.clone())
                            .collect()
                    } else {
                        Vec::new()
                    };
                    assert_eq!(h.strs(&format!("zrange z {a} {b}")), want, "{ctx}");
                }
                5 => {
                    let (lo, hi) = (sc.min(sc + 100), sc + 100);
                    let want: Vec<String> = ordered(&m)
                        .into_iter()
                        .filter(|(s, _)| *s > lo && *s <= hi)
                        .map(|(_, k)| k)
                        .collect();
                    assert_eq!(
                        h.strs(&format!("zrangebyscore z ({lo} {hi}")),
                        want,
                        "{ctx}"
                    );
                    let cnt = h.strs(&format!("zcount z ({lo} {hi}"));
                    assert_eq!(cnt, vec![want.len().to_string()], "{ctx}");
                }
                _ => {
                    let o = ordered(&m);
                    let got = h.strs("zpopmin z");
                    match o.first() {
                        None => assert!(got.is_empty(), "{ctx}: {got:?}"),
                        Some((s, k)) => {
                            assert_eq!(got, vec![k.clone(), s.to_string()], "{ctx}");
                            m.remove(k);
                        }
                    }
                }
            }
            if m.is_empty() {
                assert!(!exists(&mut h, "z"), "{ctx}: empty zset kept");
                converted = false;
            } else {
                let want = if converted { "skiplist" } else { "listpack" };
                assert_eq!(h.enc("z"), want, "{ctx}");
            }
        }
        let want: Vec<String> = ordered(&m).into_iter().map(|(_, k)| k).collect();
        assert_eq!(h.strs("zrange z 0 -1"), want);
    }
}
