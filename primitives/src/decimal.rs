//! A fixed-point decimal for money and ratios: an `i128` counting billionths (9 decimal places).
//!
//! Integer-only, so it is deterministic on every node; every operation is checked and returns
//! [`DecimalError`] instead of wrapping. Multiplication and division truncate toward zero.
use core::fmt;
use core::str::FromStr;
use parity_scale_codec::{Decode, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Fixed-point number with 9 decimal places.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Debug,
    Encode,
    Decode,
    MaxEncodedLen,
    TypeInfo,
)]
pub struct Decimal(i128);

/// Why a decimal operation failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DecimalError {
    /// The result does not fit.
    Overflow,
    /// Division by zero.
    DivisionByZero,
    /// Text that is not a decimal number, or with more than 9 decimal places.
    Parse,
}

impl fmt::Display for DecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DecimalError::Overflow => "decimal overflow",
            DecimalError::DivisionByZero => "decimal division by zero",
            DecimalError::Parse => "not a decimal number with at most 9 decimal places",
        })
    }
}

impl Decimal {
    /// Number of decimal places.
    pub const DECIMALS: u32 = 9;
    /// Raw units per 1.
    pub const SCALE: i128 = 1_000_000_000;
    /// Zero.
    pub const ZERO: Decimal = Decimal(0);
    /// One.
    pub const ONE: Decimal = Decimal(Self::SCALE);

    /// From raw billionths.
    pub const fn from_raw(raw: i128) -> Self {
        Decimal(raw)
    }
    /// Raw billionths.
    pub const fn raw(self) -> i128 {
        self.0
    }
    /// An integer value.
    pub fn from_int(v: i64) -> Self {
        Decimal(v as i128 * Self::SCALE)
    }
    /// `num / den`, truncated toward zero.
    pub fn from_ratio(num: i64, den: i64) -> Result<Self, DecimalError> {
        Decimal::from_int(num).checked_div(Decimal::from_int(den))
    }
    /// Integer part, truncated toward zero.
    pub fn trunc_int(self) -> i128 {
        self.0 / Self::SCALE
    }
    /// `self + rhs`.
    pub fn checked_add(self, rhs: Self) -> Result<Self, DecimalError> {
        self.0
            .checked_add(rhs.0)
            .map(Decimal)
            .ok_or(DecimalError::Overflow)
    }
    /// `self - rhs`.
    pub fn checked_sub(self, rhs: Self) -> Result<Self, DecimalError> {
        self.0
            .checked_sub(rhs.0)
            .map(Decimal)
            .ok_or(DecimalError::Overflow)
    }
    /// `self * rhs`, truncated toward zero.
    pub fn checked_mul(self, rhs: Self) -> Result<Self, DecimalError> {
        self.0
            .checked_mul(rhs.0)
            .map(|p| Decimal(p / Self::SCALE))
            .ok_or(DecimalError::Overflow)
    }
    /// `self / rhs`, truncated toward zero.
    pub fn checked_div(self, rhs: Self) -> Result<Self, DecimalError> {
        if rhs.0 == 0 {
            return Err(DecimalError::DivisionByZero);
        }
        self.0
            .checked_mul(Self::SCALE)
            .map(|n| Decimal(n / rhs.0))
            .ok_or(DecimalError::Overflow)
    }
    /// `self * int`, for amounts times counts.
    pub fn checked_mul_int(self, int: i128) -> Result<Self, DecimalError> {
        self.0
            .checked_mul(int)
            .map(Decimal)
            .ok_or(DecimalError::Overflow)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let abs = self.0.unsigned_abs();
        let scale = Self::SCALE as u128;
        let int = abs / scale;
        let frac = abs % scale;
        if neg {
            f.write_str("-")?;
        }
        if frac == 0 {
            return write!(f, "{int}");
        }
        let mut digits = [0u8; 9];
        let mut rest = frac;
        for d in digits.iter_mut().rev() {
            *d = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        let mut end = digits.len();
        while end > 0 && digits[end - 1] == b'0' {
            end -= 1;
        }
        let frac_str = core::str::from_utf8(&digits[..end]).map_err(|_| fmt::Error)?;
        write!(f, "{int}.{frac_str}")
    }
}

impl FromStr for Decimal {
    type Err = DecimalError;
    fn from_str(s: &str) -> Result<Self, DecimalError> {
        let (neg, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int_part, frac_part) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        if int_part.is_empty()
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
            || frac_part.len() > Self::DECIMALS as usize
            || (body.contains('.') && frac_part.is_empty())
        {
            return Err(DecimalError::Parse);
        }
        let mut raw: i128 = 0;
        for b in int_part.bytes() {
            raw = raw
                .checked_mul(10)
                .and_then(|r| r.checked_add((b - b'0') as i128))
                .ok_or(DecimalError::Overflow)?;
        }
        raw = raw.checked_mul(Self::SCALE).ok_or(DecimalError::Overflow)?;
        let mut frac: i128 = 0;
        for b in frac_part.bytes() {
            frac = frac * 10 + (b - b'0') as i128;
        }
        frac *= 10i128.pow(Self::DECIMALS - frac_part.len() as u32);
        raw = raw.checked_add(frac).ok_or(DecimalError::Overflow)?;
        Ok(Decimal(if neg { -raw } else { raw }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn d(s: &str) -> Decimal {
        s.parse().expect("valid decimal")
    }

    #[test]
    fn arithmetic_truncates_toward_zero() {
        assert_eq!(d("1.5").checked_mul(d("2.25")), Ok(d("3.375")));
        assert_eq!(
            Decimal::from_ratio(1, 3).map(|x| x.to_string()),
            Ok("0.333333333".into())
        );
        assert_eq!(
            Decimal::from_ratio(-1, 3).map(|x| x.to_string()),
            Ok("-0.333333333".into())
        );
        assert_eq!(
            d("10").checked_sub(d("0.000000001")).map(|x| x.to_string()),
            Ok("9.999999999".into())
        );
    }

    #[test]
    fn errors_are_reported_not_wrapped() {
        assert_eq!(
            d("1").checked_div(Decimal::ZERO),
            Err(DecimalError::DivisionByZero)
        );
        assert_eq!(
            Decimal::from_raw(i128::MAX).checked_add(Decimal::from_raw(1)),
            Err(DecimalError::Overflow)
        );
        assert_eq!(
            Decimal::from_raw(i128::MAX / 2).checked_mul(d("3")),
            Err(DecimalError::Overflow)
        );
        for bad in ["", ".", "1.", ".5", "1.2.3", "abc", "1.0000000001", "--1"] {
            assert_eq!(bad.parse::<Decimal>(), Err(DecimalError::Parse), "{bad}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in ["0", "1", "-2.5", "123456.000000001", "0.1"] {
            assert_eq!(d(s).to_string(), s);
        }
    }
}
