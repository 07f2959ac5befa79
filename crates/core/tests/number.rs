//! The hand-written number parser behind kind number (`answer::parse_number`, kept
//! because `str::parse::<f64>` brings a 10 KB table into the wasm) against
//! `str::parse::<f64>` as the oracle: same bits for every decimal string, `None`
//! where the oracle gives infinity.
//!
//! The default run is 20,000 cases (seconds). The large run, 600,000 cases (three
//! properties of 200,000 each; about two minutes in release):
//!
//! ```sh
//! PROPTEST_CASES=200000 cargo test -p trickle-core --release --test number
//! ```

use proptest::prelude::*;
use trickle_core::answer::parse_number;

/// What `parse_number` must return for `s`: `str::parse`, finite values only.
fn oracle(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

#[track_caller]
fn assert_same(s: &str) {
    let (ours, std) = (parse_number(s), oracle(s));
    assert_eq!(
        ours.map(f64::to_bits),
        std.map(f64::to_bits),
        "{s}: {ours:?} vs {std:?}"
    );
}

/// `PROPTEST_CASES` if set, else `default`.
fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig::with_cases(cases)
}

#[test]
fn table_of_edges() {
    for s in [
        "0",
        "-0",
        "+0",
        "0.0",
        "-0.0",
        "42",
        "-3.5",
        "1e3",
        "1E3",
        "1e+3",
        "1e-3",
        "+5",
        ".5",
        "5.",
        "007",
        "-.5e1",
        "0e999999999999",
        "1e-999999999999",
        // Limits: the largest finite, the smallest normal and subnormal, and just past.
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.7976931348623159e308",
        "2.2250738585072014e-308",
        "2.2250738585072011e-308",
        "4.9406564584124654e-324",
        "2.4703282292062327e-324",
        "2.4703282292062328e-324",
        "2.4703282292062e-324",
        "1e-324",
        "1e309",
        "-1e309",
        // 2^53 + 1 is halfway between two f64s: ties to even.
        "9007199254740993",
        "9007199254740993.0000000000000000001",
        "9007199254740995",
        // Not numbers.
        "",
        ".",
        "-",
        "+",
        "e5",
        "1e",
        "1e+",
        "--1",
        "1.2.3",
        " 1",
        "1 ",
        "inf",
        "NaN",
        "infinity",
        "0x10",
        "1_000",
        "١٢",
    ] {
        assert_same(s);
    }
}

/// Decimal strings in Rust's float grammar, in several families.
fn decimal() -> impl Strategy<Value = String> {
    prop_oneof![
        // Everyday: signs, fractions, exponents.
        4 => "[+-]?[0-9]{1,20}(\\.[0-9]{0,20})?([eE][+-]?[0-9]{1,3})?",
        1 => "[+-]?\\.[0-9]{1,20}([eE][+-]?[0-9]{1,3})?",
        // Leading zeros.
        1 => "[+-]?0{1,40}[0-9]{0,8}(\\.0{0,40}[0-9]{0,8})?([eE]-?[0-9]{1,2})?",
        // Long mantissas: 17 to several hundred significant digits.
        2 => "[1-9][0-9]{16,60}(\\.[0-9]{0,60})?([eE][+-]?[0-9]{1,3})?",
        1 => "[1-9][0-9]{200,800}([eE]-[0-9]{3})?",
        // Near the largest finite value and past it.
        2 => "[+-]?[1-9]\\.[0-9]{0,25}[eE]30[0-9]",
        1 => "[+-]?1\\.797693134862315[0-9]{0,10}[eE]308",
        // Near the smallest normal, subnormals, and below the smallest subnormal.
        2 => "[1-9]\\.[0-9]{0,25}[eE]-3[0-2][0-9]",
        1 => "[1-9]{1,3}\\.[0-9]{0,25}[eE]-3[0-4][0-9]",
        // Huge exponents and exponents with leading zeros.
        1 => "[+-]?[0-9]{1,5}[eE][+-]?0{0,5}[0-9]{1,12}",
    ]
}

/// The exact decimal expansion of a finite f64 as (digits, exponent of the last
/// digit), via `{:e}` with enough precision (Rust prints exact digits).
fn exact(x: f64) -> (Vec<u8>, i64) {
    let s = format!("{:.1100e}", x.abs());
    let (mantissa, exp) = s.split_once('e').unwrap();
    let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let exp: i64 = exp.parse().unwrap();
    let scale = exp - (digits.len() as i64 - 1);
    // Drop the padding zeros, so the last digit is the last significant one.
    let zeros = digits.iter().rev().take_while(|&&d| d == b'0').count();
    digits.truncate(digits.len() - zeros);
    (digits, scale + zeros as i64)
}

/// `a` + `b` for exact decimals (digits, exponent of the last digit).
fn add((a, ea): (Vec<u8>, i64), (b, eb): (Vec<u8>, i64)) -> (Vec<u8>, i64) {
    let e = ea.min(eb);
    let pad = |mut d: Vec<u8>, ex: i64| {
        d.extend(std::iter::repeat_n(b'0', (ex - e) as usize));
        d
    };
    let (a, b) = (pad(a, ea), pad(b, eb));
    let n = a.len().max(b.len()) + 1;
    let digit = |d: &[u8], i: usize| d.len().checked_sub(i + 1).map_or(0, |j| d[j] - b'0');
    let mut out = vec![0u8; n];
    let mut carry = 0;
    for i in 0..n {
        let s = digit(&a, i) + digit(&b, i) + carry;
        out[n - 1 - i] = b'0' + s % 10;
        carry = s / 10;
    }
    (out, e)
}

fn text((digits, exp): &(Vec<u8>, i64)) -> String {
    format!("{}e{exp}", String::from_utf8_lossy(digits))
}

proptest! {
    #![proptest_config(cases(10_000))]

    #[test]
    fn equals_str_parse_on_decimal_strings(s in decimal()) {
        let (ours, std) = (parse_number(&s), oracle(&s));
        prop_assert_eq!(ours.map(f64::to_bits), std.map(f64::to_bits), "{}", s);
    }
}

proptest! {
    #![proptest_config(cases(5_000))]

    #[test]
    fn every_f64_round_trips_through_display_and_exponent_forms(
        x in any::<f64>().prop_filter("finite", |x| x.is_finite()),
    ) {
        for s in [format!("{x}"), format!("{x:e}"), format!("{x:E}"), format!("{x:?}")] {
            prop_assert_eq!(parse_number(&s).map(f64::to_bits), Some(x.to_bits()), "{}", s);
            prop_assert_eq!(oracle(&s).map(f64::to_bits), Some(x.to_bits()), "{}", s);
        }
    }

    /// The hard cases of correct rounding: the exact midpoint between an f64 and
    /// the next one up (ties to even), and just above and below it.
    #[test]
    fn halfway_between_two_f64s_rounds_like_str_parse(
        // Exponents from 54 up: below, half an ulp is not an f64 (such midpoints
        // come from the decimal strategy instead); mantissas short of all ones, so
        // the next one up is finite.
        exponent in 54u64..=0x7fe,
        mantissa in 0u64..(1 << 52) - 1,
    ) {
        let bits = exponent << 52 | mantissa;
        let x = f64::from_bits(bits);
        let half_ulp = (x.next_up() - x) / 2.0;
        prop_assert!(half_ulp.is_normal());
        let mid = add(exact(x), exact(half_ulp));
        let mut above = mid.clone();
        above.0.push(b'1');
        above.1 -= 1;
        // One unit less in the last place, then 999: just below the midpoint.
        let mut below = mid.clone();
        for d in below.0.iter_mut().rev() {
            if *d == b'0' {
                *d = b'9';
            } else {
                *d -= 1;
                break;
            }
        }
        below.0.extend_from_slice(b"999");
        below.1 -= 3;
        for s in [text(&mid), text(&above), text(&below)] {
            for s in [format!("-{s}"), s] {
                let (ours, std) = (parse_number(&s), oracle(&s));
                prop_assert_eq!(ours.map(f64::to_bits), std.map(f64::to_bits), "{}", s);
            }
        }
        // A real tie: it goes to the neighbour with an even mantissa.
        let even = if bits & 1 == 0 { x } else { x.next_up() };
        prop_assert_eq!(oracle(&text(&mid)), Some(even));
        prop_assert_eq!(oracle(&text(&above)), Some(x.next_up()));
        prop_assert_eq!(oracle(&text(&below)), Some(x));
    }
}
