//! Feeds arbitrary bytes to `RequestDecoder` the way the server does, and
//! checks that the decoder is truly incremental: delivering the input in two
//! reads gives the same requests as delivering it in one.
//!
//! Input layout: byte 0 is a control byte (bit 0: unauthenticated limits;
//! bits 1..7: where to split the rest), bytes 1.. are the client's stream.
#![no_main]

use ferrokey_resp::{Limits, ProtocolError, Request, RequestDecoder};
use libfuzzer_sys::fuzz_target;

/// What the server sees, with argument bytes resolved against the buffer
/// so that traces from differently sized buffers compare equal.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    Args(Vec<Vec<u8>>, usize),
    Inline(Vec<Vec<u8>>, usize),
    Empty(usize),
    Error(ProtocolError),
}

/// Checks the invariants of one request decoded from `buf` and resolves it.
fn check(req: &Request, buf: &[u8]) -> Event {
    let consumed = req.consumed();
    assert!(consumed > 0, "request consumed nothing: {req:?}");
    assert!(consumed <= buf.len(), "consumed {consumed} > buffer {}: {req:?}", buf.len());
    match req {
        Request::Args { args, consumed } => {
            assert!(!args.is_empty(), "Args with no argument: {req:?}");
            let mut prev_end = 0;
            for r in args {
                assert!(r.start <= r.end && r.end <= *consumed, "arg {r:?} outside consumed {consumed}");
                assert!(r.start >= prev_end, "args overlap or are out of order: {args:?}");
                prev_end = r.end;
            }
            Event::Args(args.iter().map(|r| buf[r.clone()].to_vec()).collect(), *consumed)
        }
        Request::Inline { args, consumed } => {
            assert!(!args.is_empty(), "Inline with no argument: {req:?}");
            Event::Inline(args.clone(), *consumed)
        }
        Request::Empty { consumed } => Event::Empty(*consumed),
    }
}

/// One server read loop over `buf[*pos..]`: decodes until more bytes are
/// needed (returns true) or an error closes the connection (returns false).
fn drain(dec: &mut RequestDecoder, buf: &[u8], pos: &mut usize, limits: &Limits, out: &mut Vec<Event>) -> bool {
    loop {
        let rest = &buf[*pos..];
        match dec.decode(rest, limits) {
            Ok(Some(req)) => {
                out.push(check(&req, rest));
                *pos += req.consumed();
            }
            Ok(None) => return true,
            Err(e) => {
                out.push(Event::Error(e));
                return false;
            }
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&ctl, data)) = input.split_first() else {
        return;
    };
    let limits = Limits {
        unauthenticated: ctl & 1 == 1,
        ..Limits::default()
    };
    // 0..=127 scaled over the whole stream.
    let split = data.len() * usize::from(ctl >> 1) / 127;

    // All at once.
    let mut whole = Vec::new();
    let mut pos = 0;
    drain(&mut RequestDecoder::new(), data, &mut pos, &limits, &mut whole);

    // In two reads: the prefix, then the same bytes plus the rest.
    let mut parts = Vec::new();
    let mut pos = 0;
    let mut dec = RequestDecoder::new();
    if drain(&mut dec, &data[..split], &mut pos, &limits, &mut parts) {
        drain(&mut dec, data, &mut pos, &limits, &mut parts);
    }

    assert_eq!(whole, parts, "split at {split} changed the requests");
});
