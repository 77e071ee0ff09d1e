//! Unit tests of the trace readers' internals: CSV records, date-times, ids
//! and ranks, user assignment.

use std::borrow::Cow;

use super::build::{parse_id, Cell};
use super::csv::Csv;
use super::datetime::parse_datetime;
use super::*;
use crate::core::rng::fnv1a;

type Owned = Result<(usize, Vec<String>), (usize, usize)>;

fn records(s: &str) -> Vec<Owned> {
    let mut c = Csv::new(s.as_bytes());
    let mut out = Vec::new();
    while let Some(r) = c.next_record() {
        let stop = r.is_err();
        out.push(r.map(|(l, f)| {
            (
                l,
                f.iter()
                    .map(|x| String::from_utf8_lossy(x).into_owned())
                    .collect(),
            )
        }));
        if stop {
            break;
        }
    }
    out
}

#[test]
fn csv_quotes_line_ends_and_blank_lines() {
    let r = records("a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\n\n  \n\"two\nlines\",3\n4,5");
    assert_eq!(
        r,
        vec![
            Ok((1, vec!["a".into(), "b".into()])),
            Ok((2, vec!["x,1".into(), "say \"hi\"".into()])),
            Ok((5, vec!["two\nlines".into(), "3".into()])),
            Ok((7, vec!["4".into(), "5".into()])),
        ]
    );
    assert_eq!(
        records("a,b\n1,\"open\n"),
        vec![Ok((1, vec!["a".into(), "b".into()])), Err((2, 1))]
    );
}

#[test]
fn datetimes() {
    assert_eq!(parse_datetime("1970-01-01 00:00:00"), Some((0, 0.0)));
    let (s, f) = parse_datetime("2023-11-16 18:15:46.6805900").unwrap();
    assert_eq!(s, 1_700_158_546);
    assert!((f - 0.68059).abs() < 1e-12);
    assert_eq!(
        parse_datetime("2024-02-29T23:59:59Z"),
        Some((1_709_251_199, 0.0))
    );
    for bad in [
        "2023-02-29 00:00:00",
        "2023-11-16 24:00:00",
        "2023-11-16 18:15",
        "2023-11-16 18:15:46.",
        "2023-11-16 18:15:46+01:00",
        "2023-11-16 18:15:4é",
        "",
    ] {
        assert_eq!(parse_datetime(bad), None, "{bad}");
    }
}

#[test]
fn ids_and_ranks() {
    assert_eq!(parse_id(&Cell::Text(Cow::Borrowed(b" 42 "))), Some(42));
    assert_eq!(parse_id(&Cell::Text(Cow::Borrowed(b""))), None);
    assert_eq!(
        parse_id(&Cell::Text(Cow::Borrowed(b"abc"))),
        Some(fnv1a(b"abc"))
    );
    assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    let v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    assert_eq!(nearest_rank(&v, 0.5), Some(5));
    assert_eq!(nearest_rank(&v, 0.99), Some(10));
    assert_eq!(nearest_rank(&v, 0.0), Some(1));
    assert_eq!(nearest_rank::<u32>(&[], 0.5), None);
}

#[test]
fn assignment_keeps_sessions_together_and_round_robins() {
    let r = |t: f64, s: Option<u64>| TraceRequest {
        arrival_s: t,
        input_tokens: 1,
        output_tokens: 1,
        user: None,
        session: s,
    };
    let mut t = Trace::from_requests(
        vec![
            r(0.0, Some(7)),
            r(1.0, None),
            r(2.0, Some(7)),
            r(3.0, Some(9)),
            r(4.0, None),
        ],
        "x",
        None,
    );
    t.assign_users(2).unwrap();
    let users: Vec<u64> = t.requests.iter().map(|r| r.user.unwrap()).collect();
    assert_eq!(users, vec![0, 1, 0, 0, 1]);
    assert!(t.assign_users(0).is_err());
}
