//! The number parser behind kind number.

/// A plain decimal number (`42`, `-3.5`, `1e3`, and what else Rust's `f64`
/// grammar takes: `+5`, `.5`, `5.`, `007`); not `inf`, `NaN` or hex, which a user
/// never means. Correctly rounded, like `str::parse::<f64>`, which is not used
/// because it brings a 10 KB table of powers of five into the wasm: see
/// `decimal_to_f64`. `None` also for a value too large for an `f64` (where
/// `str::parse` gives infinity); tests/number.rs checks it against `str::parse`.
pub fn parse_number(s: &str) -> Option<f64> {
    fn digits(b: &[u8], i: &mut usize) -> usize {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    }
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let int_start = i;
    let int_len = digits(b, &mut i);
    // Ranges read with `get`, never by index: these ranges are always in bounds,
    // and a slice index would put a bounds check and its panic location in the
    // wasm for each.
    let mut frac: &[u8] = &[];
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        digits(b, &mut i);
        frac = b.get(start..i).unwrap_or_default();
    }
    if int_len == 0 && frac.is_empty() {
        return None;
    }
    let mut exp: i64 = 0;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        let negative = b.get(i) == Some(&b'-');
        i += usize::from(matches!(b.get(i), Some(b'-' | b'+')));
        let start = i;
        if digits(b, &mut i) == 0 {
            return None;
        }
        for &d in b.get(start..i).unwrap_or_default() {
            // Far beyond any finite or non-zero f64; saturating keeps it exact.
            exp = (exp * 10 + i64::from(d - b'0')).min(1 << 40);
        }
        if negative {
            exp = -exp;
        }
    }
    if i != b.len() {
        return None;
    }
    let mut all: Vec<u8> = b
        .get(int_start..int_start + int_len)
        .unwrap_or_default()
        .to_vec();
    all.extend_from_slice(frac);
    let n = decimal_to_f64(&all, exp - frac.len() as i64);
    let n = if b.first() == Some(&b'-') { -n } else { n };
    n.is_finite().then_some(n)
}

/// The f64 nearest to `digits` (ASCII) × 10^`exp10` (ties to even; infinity when
/// too large), with exact big-integer arithmetic: short and slow, and slow does
/// not matter for one typed answer.
fn decimal_to_f64(digits: &[u8], mut exp10: i64) -> f64 {
    // Little-endian base-2^32 numbers.
    fn mul_add(n: &mut Vec<u32>, m: u32, add: u32) {
        let mut carry = u64::from(add);
        for limb in n.iter_mut() {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            n.push(carry as u32);
        }
    }
    fn bits(n: &[u32]) -> u64 {
        n.iter()
            .rposition(|&l| l != 0)
            .map_or(0, |i| i as u64 * 32 + 32 - u64::from(n[i].leading_zeros()))
    }
    fn bit(n: &[u32], i: u64) -> bool {
        n.get((i / 32) as usize)
            .is_some_and(|l| l >> (i % 32) & 1 == 1)
    }
    fn pow10(e: i64) -> Vec<u32> {
        let mut n = vec![1];
        for _ in 0..e {
            mul_add(&mut n, 10, 0);
        }
        n
    }

    let digits = {
        let start = digits
            .iter()
            .position(|&d| d != b'0')
            .unwrap_or(digits.len());
        digits.get(start..).unwrap_or_default()
    };
    if digits.is_empty() {
        return 0.0;
    }
    // Beyond these the value is infinite, or rounds to zero.
    let magnitude = digits.len() as i64 + exp10;
    if magnitude > 310 {
        return f64::INFINITY;
    }
    if magnitude < -324 {
        return 0.0;
    }
    // Digits past the 800th can only break a tie, and no tie between two f64s
    // needs more than 767 digits: keep 800 and a 1 for any non-zero rest.
    let (kept, rest) = digits.split_at(digits.len().min(800));
    let mut n = vec![0];
    for &d in kept {
        mul_add(&mut n, 10, u32::from(d - b'0'));
    }
    exp10 += rest.len() as i64;
    if rest.iter().any(|&d| d != b'0') {
        mul_add(&mut n, 10, 1);
        exp10 -= 1;
    }

    // 66 or 67 leading bits of the value as `q` × 2^`shift`, and whether anything
    // non-zero lies below them.
    let (mut q, mut shift, sticky): (u128, i64, bool) = if exp10 >= 0 {
        for _ in 0..exp10 {
            mul_add(&mut n, 10, 0);
        }
        let len = bits(&n);
        let drop = len.saturating_sub(66);
        let q = (drop..len)
            .rev()
            .fold(0u128, |q, i| q << 1 | u128::from(bit(&n, i)));
        (q, drop as i64, (0..drop).any(|i| bit(&n, i)))
    } else {
        // q = n × 2^k / 10^-exp10 by long division, k making q 2^65 or more (a
        // negative k shifts the divisor instead).
        let mut den = pow10(-exp10);
        let shift = bits(&n) as i64 - bits(&den) as i64 - 66;
        for _ in 0..shift {
            mul_add(&mut den, 2, 0);
        }
        let k = (-shift).max(0) as u64;
        let len = bits(&n) + k;
        let mut r: Vec<u32> = vec![0; den.len() + 1];
        let mut q = 0u128;
        for i in (0..len).rev() {
            // r = r * 2 + the next bit of n × 2^k
            let mut carry = u32::from(i >= k && bit(&n, i - k));
            for limb in r.iter_mut() {
                let next = *limb >> 31;
                *limb = *limb << 1 | carry;
                carry = next;
            }
            q <<= 1;
            let ge = r.len() < den.len()
                || (0..r.len())
                    .rev()
                    .map(|j| (r[j], den.get(j).copied().unwrap_or(0)))
                    .find(|(a, b)| a != b)
                    .is_none_or(|(a, b)| a > b);
            if ge {
                let mut borrow = 0i64;
                for (j, limb) in r.iter_mut().enumerate() {
                    let v = i64::from(*limb) - i64::from(den.get(j).copied().unwrap_or(0)) - borrow;
                    *limb = v as u32;
                    borrow = i64::from(v < 0);
                }
                q |= 1;
            }
        }
        (q, shift, r.iter().any(|&l| l != 0))
    };

    // Round to 53 bits, or fewer where the result is subnormal (down to 2^-1074).
    let len = i64::from(128 - q.leading_zeros());
    let drop = (len - 53).max(-1074 - shift);
    if drop > len {
        return 0.0;
    }
    if drop > 0 {
        let rem = q & ((1u128 << drop) - 1);
        let half = 1u128 << (drop - 1);
        q >>= drop;
        shift += drop;
        if rem > half || (rem == half && (sticky || q & 1 == 1)) {
            q += 1;
        }
    }
    if q == 0 {
        return 0.0;
    }
    if shift > 1023 {
        return f64::INFINITY;
    }
    // 2^shift is exact for -1074 <= shift <= 1023, and so is the product.
    let pow2 = if shift >= -1022 {
        f64::from_bits(((shift + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (shift + 1074))
    };
    q as f64 * pow2
}
