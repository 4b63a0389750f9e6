//! Vectorizable f32 kernels for fused element-wise chains.
//!
//! Every function here is a plain loop over slices whose body is branch-free scalar code, so
//! that LLVM turns it into SIMD code. The same source is compiled twice: once inside a
//! `#[target_feature(enable = "avx2,fma")]` entry point (chosen at run time when the CPU has
//! both) with `FMA = true`, and once portably with `FMA = false` (plain multiply and add, since
//! `mul_add` without hardware FMA is a slow libm call).
//!
//! The transcendental functions are polynomial approximations accurate to about 1e-7 relative
//! error in f32 (tanh: 4.5e-7) (tested against f64 below), handling NaN, infinities, overflow and underflow
//! like LibTorch:
//! - `exp`: x = n ln2 + r with |r| <= ln2/2, e^r by its degree-7 Taylor polynomial, times 2^n
//!   applied as two factors so that results in the subnormal range come out right;
//! - `tanh`: the rational approximation Eigen uses (odd degree-13 numerator, even degree-6
//!   denominator, argument clamped to +-7.9988), within 4.5e-7 relative error (a few ulp near
//!   +-1) and 5x cheaper than going through `exp`;
//! - `sigmoid`: `1 / (1 + e^-x)`.

/// A kernel operand: a slice of the block, or one value broadcast to all of it.
#[derive(Clone, Copy)]
pub enum Src<'a> {
    V(&'a [f32]),
    C(f32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FOp {
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
    Neg,
    Abs,
    Exp,
    Log,
    Tanh,
    Sigmoid,
    Sqrt,
    Rsqrt,
    /// A scalar (or a value) copied: broadcasts of single elements.
    Copy,
    /// Comparisons give 1.0 or 0.0 (the kernel's stand-in for a u8 mask).
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    /// `select(pred, on_true, on_false)`: the only operation with three operands.
    Select,
    /// Reductions of each row (the last axis) to one value: their destination is a row
    /// register, and [`reduce_rows`] runs them, not [`apply`].
    RowSum,
    RowMax,
    RowMin,
    /// The value rounded to the nearest f16 (ties to even), kept as f32: what an f16 operation
    /// computed in f32 stores. Overflow gives infinity.
    RoundF16,
    /// The value rounded to the nearest bf16 (ties to even), kept as f32.
    RoundBF16,
    /// `exp(a - b)` in one pass: a subtraction read only by an `exp` (softmax, logsumexp),
    /// merged by [`super::fuse::peephole`]; the same two roundings as the two operations.
    ExpSub,
}

impl FOp {
    /// How many operands the operation reads.
    pub fn arity(self) -> usize {
        match self {
            FOp::Add
            | FOp::Sub
            | FOp::Mul
            | FOp::Div
            | FOp::Max
            | FOp::Min
            | FOp::Eq
            | FOp::Ne
            | FOp::Lt
            | FOp::Gt
            | FOp::Le
            | FOp::Ge
            | FOp::ExpSub => 2,
            FOp::Select => 3,
            _ => 1,
        }
    }

    /// Approximate nanoseconds per element on one core with AVX2 (`kernel_speed`).
    pub fn ns_per_element(self) -> f64 {
        match self {
            FOp::Exp => 0.5,
            FOp::ExpSub => 0.52,
            FOp::Log => 0.5,
            FOp::Tanh => 0.35,
            FOp::Sigmoid => 0.6,
            FOp::Div | FOp::Sqrt => 0.12,
            FOp::Rsqrt => 0.2,
            FOp::RoundF16 => 0.15,
            _ => 0.06,
        }
    }

    /// Whether the operation reduces rows (see [`reduce_rows`]).
    pub fn is_row_reduction(self) -> bool {
        matches!(self, FOp::RowSum | FOp::RowMax | FOp::RowMin)
    }

    /// Whether the result is a mask (u8 in Nx) rather than an f32 value.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            FOp::Eq | FOp::Ne | FOp::Lt | FOp::Gt | FOp::Le | FOp::Ge
        )
    }
}

/// `a * b + c`, fused where the const parameter says the CPU has FMA.
#[inline(always)]
pub(crate) fn fma<const F: bool>(a: f32, b: f32, c: f32) -> f32 {
    if F {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

const LOG2E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;
/// 1.5 * 2^23: adding it rounds an f32 below 2^22 in magnitude to an integer.
const ROUNDER: f32 = 12_582_912.0;

#[inline(always)]
pub fn exp<const F: bool>(x: f32) -> f32 {
    let xc = x.clamp(-104.0, 89.0);
    let t = fma::<F>(xc, LOG2E, ROUNDER);
    let n = t - ROUNDER;
    let r = fma::<F>(n, -LN2_HI, xc);
    let r = fma::<F>(n, -LN2_LO, r);
    let mut p = 1.0 / 5040.0;
    p = fma::<F>(p, r, 1.0 / 720.0);
    p = fma::<F>(p, r, 1.0 / 120.0);
    p = fma::<F>(p, r, 1.0 / 24.0);
    p = fma::<F>(p, r, 1.0 / 6.0);
    p = fma::<F>(p, r, 0.5);
    p = fma::<F>(p, r, 1.0);
    p = fma::<F>(p, r, 1.0);
    // n (an integer in [-150, 129]) from the bits of t, split in two halves of 2^n
    let ni = (t.to_bits() as i32).wrapping_sub(0x4B40_0000);
    let n1 = ni >> 1;
    let n2 = ni - n1;
    let s1 = f32::from_bits(((n1 + 127) << 23) as u32);
    let s2 = f32::from_bits(((n2 + 127) << 23) as u32);
    let y = p * s1 * s2;
    if x.is_nan() {
        x
    } else {
        y
    }
}

const SQRT_HALF_BITS: i32 = 0x3F35_04F3;
/// 2^23: multiplying a subnormal by it gives a normal number.
const TWO_23: f32 = 8_388_608.0;

/// Natural logarithm: x = 2^e m with m in [sqrt(1/2), sqrt(2)), taken apart on the bits;
/// log(m) = 2 atanh(s) with s = (m - 1)/(m + 1), |s| <= 0.172, by its odd series up to s^9
/// (truncation below 1e-8 relative); e ln 2 added in two parts. Subnormals are scaled by
/// 2^23 first; 0 gives -inf, negative numbers and NaN give NaN, +inf gives +inf.
#[inline(always)]
pub fn log<const F: bool>(x: f32) -> f32 {
    let sub = x < f32::MIN_POSITIVE;
    let xs = if sub { x * TWO_23 } else { x };
    let bits = xs.to_bits() as i32;
    let e = bits.wrapping_sub(SQRT_HALF_BITS) >> 23;
    let m = f32::from_bits(bits.wrapping_sub(e << 23) as u32);
    let e = e as f32 - if sub { 23.0 } else { 0.0 };
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let mut q = 1.0 / 9.0;
    q = fma::<F>(q, z, 1.0 / 7.0);
    q = fma::<F>(q, z, 1.0 / 5.0);
    q = fma::<F>(q, z, 1.0 / 3.0);
    let s2 = s + s;
    let r = fma::<F>(s2 * z, q, s2);
    let y = fma::<F>(e, LN2_HI, fma::<F>(e, LN2_LO, r));
    if x.is_nan() || x < 0.0 {
        f32::NAN
    } else if x == 0.0 {
        f32::NEG_INFINITY
    } else if x == f32::INFINITY {
        x
    } else {
        y
    }
}

/// tanh clamps its argument here: beyond it tanh(x) rounds to +-1 in f32.
const TANH_CLAMP: f32 = 7.998_811_7;

/// Eigen's coefficients, kept as published (some carry more digits than an f32 holds).
#[allow(clippy::excessive_precision)]
#[inline(always)]
pub fn tanh<const F: bool>(x: f32) -> f32 {
    let c = x.clamp(-TANH_CLAMP, TANH_CLAMP);
    let z = c * c;
    let mut p = -2.760_768_5e-16;
    p = fma::<F>(z, p, 2.000_187_9e-13);
    p = fma::<F>(z, p, -8.604_671_5e-11);
    p = fma::<F>(z, p, 5.122_297e-8);
    p = fma::<F>(z, p, 1.485_722_4e-5);
    p = fma::<F>(z, p, 6.372_619_3e-4);
    p = fma::<F>(z, p, 4.893_524_6e-3);
    p *= c;
    let mut q = 1.198_258_4e-6;
    q = fma::<F>(z, q, 1.185_347_1e-4);
    q = fma::<F>(z, q, 2.268_434_6e-3);
    q = fma::<F>(z, q, 4.893_525e-3);
    let r = p / q;
    if x.abs() < 0.0004 {
        x
    } else {
        r
    }
}

#[inline(always)]
pub fn sigmoid<const F: bool>(x: f32) -> f32 {
    1.0 / (1.0 + exp::<F>(-x))
}

/// `x` rounded to f16 precision and range (ties to even), as an f32.
#[inline(always)]
pub fn round_f16(x: f32) -> f32 {
    let a = x.abs();
    // normal f16 values keep 11 significant bits: round the low 13 bits of the f32 mantissa
    let b = x.to_bits();
    let normal = f32::from_bits(b.wrapping_add(0x0fff + ((b >> 13) & 1)) & 0xffff_e000);
    // subnormal f16 values are multiples of 2^-24: adding 0.5 (whose ulp is 2^-24) rounds
    let tiny = ((a + 0.5) - 0.5).copysign(x);
    let r = if a < 6.103_515_6e-5 { tiny } else { normal };
    // from halfway between the largest f16 (65504) and 65536 on: infinity
    let r = if a >= 65_520.0 {
        f32::INFINITY.copysign(x)
    } else {
        r
    };
    if x.is_nan() {
        x
    } else {
        r
    }
}

/// `x` rounded to bf16 precision (ties to even), as an f32.
#[inline(always)]
pub fn round_bf16(x: f32) -> f32 {
    let b = x.to_bits();
    let r = f32::from_bits(b.wrapping_add(0x7fff + ((b >> 16) & 1)) & 0xffff_0000);
    if x.is_nan() {
        x
    } else {
        r
    }
}

/// The f16 bits of `x`, which is NaN or already an f16 value (see [`round_f16`]). Branch-free
/// (selects), so that loops of it vectorize.
#[inline(always)]
pub fn f16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = (b >> 16) & 0x8000;
    let a = b & 0x7fff_ffff;
    // normal: rebias the exponent (127 - 15 = 112) and keep the top 10 mantissa bits
    let normal = a.wrapping_sub(112 << 23) >> 13;
    // subnormal (a multiple of 2^-24): adding 0.5, whose ulp is 2^-24, puts the count in the
    // low mantissa bits
    let sub = (f32::from_bits(a) + 0.5)
        .to_bits()
        .wrapping_sub(0x3f00_0000);
    let r = if a < 0x3880_0000 { sub } else { normal };
    let r = if a >= 0x477f_f000 { 0x7c00 } else { r };
    let r = if a > 0x7f80_0000 { 0x7e00 } else { r };
    (sign | r) as u16
}

/// The hardware conversions between f32 and f16 (x86 F16C: eight values per instruction, the
/// IEEE conversion with ties to even, as LibTorch's), for blocks of f16 values; the functions
/// above do the same one value at a time where it is missing, and for the tails.
#[cfg(target_arch = "x86_64")]
pub(crate) mod f16c {
    use super::{f16_bits, f16_value, round_f16};
    use std::arch::x86_64::*;

    pub fn available() -> bool {
        static DETECTED: once_cell::sync::Lazy<bool> = once_cell::sync::Lazy::new(|| {
            is_x86_feature_detected!("avx") && is_x86_feature_detected!("f16c")
        });
        *DETECTED
    }

    /// `d[i] = round_f16(a[i])`. SAFETY: F16C is available; `d.len() == a.len()`.
    #[target_feature(enable = "avx,f16c")]
    pub unsafe fn round(d: &mut [f32], a: &[f32]) {
        let n = d.len() / 8 * 8;
        for i in (0..n).step_by(8) {
            let h =
                _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(_mm256_loadu_ps(a.as_ptr().add(i)));
            _mm256_storeu_ps(d.as_mut_ptr().add(i), _mm256_cvtph_ps(h));
        }
        for i in n..d.len() {
            d[i] = round_f16(a[i]);
        }
    }

    /// `d[i] = f16_value(h[i])`. SAFETY: F16C is available; `d.len() == h.len()`.
    #[target_feature(enable = "avx,f16c")]
    pub unsafe fn load(d: &mut [f32], h: &[u16]) {
        let n = d.len() / 8 * 8;
        for i in (0..n).step_by(8) {
            let v = _mm_loadu_si128(h.as_ptr().add(i) as *const __m128i);
            _mm256_storeu_ps(d.as_mut_ptr().add(i), _mm256_cvtph_ps(v));
        }
        for i in n..d.len() {
            d[i] = f16_value(h[i]);
        }
    }

    /// `o[i] = f16_bits(a[i])` for values already rounded to f16 (or NaN). SAFETY: F16C is
    /// available; `o.len() == a.len()`.
    #[target_feature(enable = "avx,f16c")]
    pub unsafe fn store(o: &mut [u16], a: &[f32]) {
        let n = o.len() / 8 * 8;
        for i in (0..n).step_by(8) {
            let h =
                _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(_mm256_loadu_ps(a.as_ptr().add(i)));
            _mm_storeu_si128(o.as_mut_ptr().add(i) as *mut __m128i, h);
        }
        for i in n..o.len() {
            o[i] = f16_bits(a[i]);
        }
    }
}

/// The f32 value of f16 bits. Branch-free (selects), so that loops of it vectorize.
#[inline(always)]
pub fn f16_value(h: u16) -> f32 {
    let h = h as u32;
    let sign = (h & 0x8000) << 16;
    let em = h & 0x7fff;
    // normal: rebias the exponent; infinities and NaN: the exponent all ones
    let normal = (em << 13) + (112 << 23);
    let normal = if em >= 0x7c00 {
        normal + (112 << 23)
    } else {
        normal
    };
    // subnormal: m * 2^-24
    let sub = ((em as i32) as f32 * 5.960_464_5e-8).to_bits();
    let v = if em < 0x0400 { sub } else { normal };
    f32::from_bits(sign | v)
}

/// The bf16 bits of `x`, which is NaN or already a bf16 value (see [`round_bf16`]).
#[inline(always)]
pub fn bf16_bits(x: f32) -> u16 {
    if x.is_nan() {
        return ((x.to_bits() >> 16) as u16 & 0x8000) | 0x7fc0;
    }
    (x.to_bits() >> 16) as u16
}

/// `max` and `min` propagate NaN, as LibTorch's `maximum`/`minimum` do.
#[inline(always)]
fn max(a: f32, b: f32) -> f32 {
    let m = if a > b { a } else { b };
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        m
    }
}

#[inline(always)]
fn min(a: f32, b: f32) -> f32 {
    let m = if a < b { a } else { b };
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        m
    }
}

#[inline(always)]
fn unary_loop(d: &mut [f32], a: Src, f: impl Fn(f32) -> f32) {
    match a {
        Src::V(a) => {
            for (d, &a) in d.iter_mut().zip(a) {
                *d = f(a);
            }
        }
        Src::C(a) => d.fill(f(a)),
    }
}

#[inline(always)]
fn binary_loop(d: &mut [f32], a: Src, b: Src, f: impl Fn(f32, f32) -> f32) {
    match (a, b) {
        (Src::V(a), Src::V(b)) => {
            for ((d, &a), &b) in d.iter_mut().zip(a).zip(b) {
                *d = f(a, b);
            }
        }
        (Src::V(a), Src::C(b)) => {
            for (d, &a) in d.iter_mut().zip(a) {
                *d = f(a, b);
            }
        }
        (Src::C(a), Src::V(b)) => {
            for (d, &b) in d.iter_mut().zip(b) {
                *d = f(a, b);
            }
        }
        (Src::C(a), Src::C(b)) => d.fill(f(a, b)),
    }
}

#[inline(always)]
fn mask(c: bool) -> f32 {
    if c {
        1.0
    } else {
        0.0
    }
}

#[inline(always)]
fn select_loop(d: &mut [f32], p: Src, t: Src, f: Src) {
    #[inline(always)]
    fn go(
        d: &mut [f32],
        p: impl Iterator<Item = f32>,
        t: impl Iterator<Item = f32>,
        f: impl Iterator<Item = f32>,
    ) {
        for (((d, p), t), f) in d.iter_mut().zip(p).zip(t).zip(f) {
            *d = if p != 0.0 { t } else { f };
        }
    }
    use std::iter::repeat;
    match (p, t, f) {
        (Src::C(p), t, f) => unary_loop(d, if p != 0.0 { t } else { f }, |x| x),
        (Src::V(p), Src::V(t), Src::V(f)) => {
            go(d, p.iter().copied(), t.iter().copied(), f.iter().copied())
        }
        (Src::V(p), Src::V(t), Src::C(f)) => go(d, p.iter().copied(), t.iter().copied(), repeat(f)),
        (Src::V(p), Src::C(t), Src::V(f)) => go(d, p.iter().copied(), repeat(t), f.iter().copied()),
        (Src::V(p), Src::C(t), Src::C(f)) => go(d, p.iter().copied(), repeat(t), repeat(f)),
    }
}

/// Applies `op` to one block: `d[i] = op(a[i], b[i], c[i])` (operands beyond the
/// operation's arity are ignored).
#[inline(always)]
pub fn apply<const F: bool>(op: FOp, d: &mut [f32], a: Src, b: Src, c: Src) {
    match op {
        FOp::Add => binary_loop(d, a, b, |x, y| x + y),
        FOp::Sub => binary_loop(d, a, b, |x, y| x - y),
        FOp::Mul => binary_loop(d, a, b, |x, y| x * y),
        FOp::Div => binary_loop(d, a, b, |x, y| x / y),
        FOp::Max => binary_loop(d, a, b, max),
        FOp::Min => binary_loop(d, a, b, min),
        FOp::Neg => unary_loop(d, a, |x| -x),
        FOp::Abs => unary_loop(d, a, f32::abs),
        FOp::Exp => unary_loop(d, a, exp::<F>),
        FOp::ExpSub => binary_loop(d, a, b, |x, y| exp::<F>(x - y)),
        FOp::Log => unary_loop(d, a, log::<F>),
        FOp::Tanh => unary_loop(d, a, tanh::<F>),
        FOp::Sigmoid => unary_loop(d, a, sigmoid::<F>),
        FOp::Sqrt => unary_loop(d, a, f32::sqrt),
        FOp::Rsqrt => unary_loop(d, a, |x| 1.0 / x.sqrt()),
        FOp::Copy => unary_loop(d, a, |x| x),
        FOp::Eq => binary_loop(d, a, b, |x, y| mask(x == y)),
        FOp::Ne => binary_loop(d, a, b, |x, y| mask(x != y)),
        FOp::Lt => binary_loop(d, a, b, |x, y| mask(x < y)),
        FOp::Gt => binary_loop(d, a, b, |x, y| mask(x > y)),
        FOp::Le => binary_loop(d, a, b, |x, y| mask(x <= y)),
        FOp::Ge => binary_loop(d, a, b, |x, y| mask(x >= y)),
        FOp::Select => select_loop(d, a, b, c),
        FOp::RoundF16 => match a {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the CPU has F16C; `a` is as long as `d`
            Src::V(a) if f16c::available() && a.len() == d.len() => unsafe { f16c::round(d, a) },
            _ => unary_loop(d, a, round_f16),
        },
        FOp::RoundBF16 => unary_loop(d, a, round_bf16),
        // reduce_rows runs these
        FOp::RowSum | FOp::RowMax | FOp::RowMin => {}
    }
}

/// Lanes of the row reductions: independent partial results that vectorize.
const LANES: usize = 16;

/// Folds `a` with `f` over [`LANES`] independent accumulators starting at `init`, then
/// pairwise across the lanes. For sums this is also more accurate than one running total.
#[inline(always)]
fn fold_lanes(a: &[f32], init: f32, f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [init; LANES];
    let chunks = a.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for j in 0..LANES {
            acc[j] = f(acc[j], c[j]);
        }
    }
    for (j, &x) in rest.iter().enumerate() {
        acc[j] = f(acc[j], x);
    }
    let mut width = LANES / 2;
    while width > 0 {
        for j in 0..width {
            acc[j] = f(acc[j], acc[j + width]);
        }
        width /= 2;
    }
    acc[0]
}

/// Reduces each of the `d.len()` rows of `a` (rows of `a.len() / d.len()` elements) into
/// `d`: sums, or maxima/minima that propagate NaN as LibTorch's `amax`/`amin` do.
#[inline(always)]
pub fn reduce_rows(op: FOp, d: &mut [f32], a: &[f32]) {
    let len = a.len().checked_div(d.len()).unwrap_or(0);
    if len == 0 {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if op != FOp::RowSum && len >= 64 && super::fuse::has_avx512() {
        for (d, row) in d.iter_mut().zip(a.chunks_exact(len)) {
            // SAFETY: the CPU has AVX-512F
            *d = unsafe { extreme_avx512(row, op == FOp::RowMax) };
        }
        return;
    }
    for (d, row) in d.iter_mut().zip(a.chunks_exact(len)) {
        *d = match op {
            FOp::RowSum => fold_lanes(row, 0.0, |x, y| x + y),
            FOp::RowMax => fold_lanes(row, f32::NEG_INFINITY, max),
            _ => fold_lanes(row, f32::INFINITY, min),
        };
    }
}

/// The maximum (or minimum) of `row`, NaN if it has one: four independent 16-lane
/// accumulators of the hardware max/min (which does not propagate NaN), with NaN tracked
/// apart in a mask. The generic fold's NaN-aware compare-and-select chain is latency-bound at
/// about a third of this speed.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn extreme_avx512(row: &[f32], is_max: bool) -> f32 {
    use std::arch::x86_64::*;
    let pick = |a: __m512, b: __m512| {
        if is_max {
            _mm512_max_ps(a, b)
        } else {
            _mm512_min_ps(a, b)
        }
    };
    let init = if is_max {
        f32::NEG_INFINITY
    } else {
        f32::INFINITY
    };
    let mut acc = [_mm512_set1_ps(init); 4];
    let mut nan: __mmask16 = 0;
    let n = row.len() / 64 * 64;
    let p = row.as_ptr();
    for i in (0..n).step_by(64) {
        for (k, acc) in acc.iter_mut().enumerate() {
            let x = _mm512_loadu_ps(p.add(i + 16 * k));
            nan |= _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(x, x);
            *acc = pick(*acc, x);
        }
    }
    let all = pick(pick(acc[0], acc[1]), pick(acc[2], acc[3]));
    let mut m = if is_max {
        _mm512_reduce_max_ps(all)
    } else {
        _mm512_reduce_min_ps(all)
    };
    for &x in &row[n..] {
        m = if is_max { max(m, x) } else { min(m, x) };
    }
    if nan != 0 {
        f32::NAN
    } else {
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel_err(got: f32, want: f64) -> f64 {
        if want == 0.0 {
            got.abs() as f64
        } else {
            ((got as f64 - want) / want).abs()
        }
    }

    fn sweep(lo: f32, hi: f32, n: usize) -> Vec<f32> {
        (0..=n)
            .map(|i| lo + (hi - lo) * (i as f32 / n as f32))
            .collect()
    }

    fn check(name: &str, f: impl Fn(f32) -> f32, g: impl Fn(f64) -> f64, xs: &[f32], tol: f64) {
        let mut worst = (0.0, 0.0f32);
        for &x in xs {
            let want = g(x as f64);
            if want.is_finite() && want.abs() < f32::MIN_POSITIVE as f64 {
                continue; // subnormal results: checked separately
            }
            let e = rel_err(f(x), want);
            if e > worst.0 {
                worst = (e, x);
            }
        }
        assert!(
            worst.0 < tol,
            "{name}: relative error {} at {}",
            worst.0,
            worst.1
        );
    }

    /// The same source compiled for AVX2 and for AVX-512 gives the same bits: vectorizing
    /// never reorders floating-point operations, only how many lanes run at once.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx512_and_avx2_agree_bit_for_bit() {
        use crate::program::fuse::{has_avx2_fma, has_avx512};
        #[target_feature(enable = "avx2,fma")]
        unsafe fn v2(op: FOp, d: &mut [f32], a: &[f32], b: &[f32], c: &[f32]) {
            apply::<true>(op, d, Src::V(a), Src::V(b), Src::V(c))
        }
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]
        unsafe fn v512(op: FOp, d: &mut [f32], a: &[f32], b: &[f32], c: &[f32]) {
            apply::<true>(op, d, Src::V(a), Src::V(b), Src::V(c))
        }
        if !(has_avx2_fma() && has_avx512()) {
            return;
        }
        // a deterministic spread of magnitudes and signs, plus special values
        let mut a: Vec<f32> = (0..4099)
            .map(|i| ((i as f32 * 0.618_034).fract() - 0.5) * 2f32.powi(i % 17 - 6))
            .collect();
        a.extend([
            0.0,
            -0.0,
            f32::NAN,
            f32::INFINITY,
            -f32::INFINITY,
            1e-40,
            -90.0,
            89.5,
        ]);
        let b: Vec<f32> = a.iter().rev().map(|x| x * 0.75 - 0.125).collect();
        let c: Vec<f32> = a.iter().map(|x| x + 1.0).collect();
        let ops = [
            FOp::Add,
            FOp::Sub,
            FOp::Mul,
            FOp::Div,
            FOp::Max,
            FOp::Min,
            FOp::Neg,
            FOp::Abs,
            FOp::Exp,
            FOp::Log,
            FOp::Tanh,
            FOp::Sigmoid,
            FOp::Sqrt,
            FOp::Rsqrt,
            FOp::Copy,
            FOp::Eq,
            FOp::Lt,
            FOp::Select,
        ];
        for op in ops {
            let (mut d2, mut d5) = (vec![0f32; a.len()], vec![0f32; a.len()]);
            // SAFETY: both feature sets were detected above
            unsafe {
                v2(op, &mut d2, &a, &b, &c);
                v512(op, &mut d5, &a, &b, &c);
            }
            for i in 0..a.len() {
                assert_eq!(d2[i].to_bits(), d5[i].to_bits(), "{op:?} at {}", a[i]);
            }
        }
    }

    #[test]
    fn log_is_accurate() {
        let mut xs = sweep(1e-6, 10.0, 200_000);
        xs.extend(sweep(0.5, 2.0, 200_000));
        xs.extend(sweep(1e3, 3e38, 50_000));
        xs.extend([1e-30, 1e-38, 1e-40, 1e-45, f32::MIN_POSITIVE, f32::MAX]);
        check("log fma", log::<true>, f64::ln, &xs, 2.5e-7);
        check("log", log::<false>, f64::ln, &xs, 2.5e-7);
        assert_eq!(log::<true>(1.0), 0.0);
        assert_eq!(log::<true>(0.0), f32::NEG_INFINITY);
        assert_eq!(log::<true>(-0.0), f32::NEG_INFINITY);
        assert_eq!(log::<true>(f32::INFINITY), f32::INFINITY);
        assert!(log::<true>(-1.0).is_nan());
        assert!(log::<true>(f32::NAN).is_nan());
        assert!(log::<true>(f32::NEG_INFINITY).is_nan());
    }

    #[test]
    fn exp_is_accurate() {
        let xs = sweep(-87.0, 88.7, 400_000);
        check("exp fma", exp::<true>, f64::exp, &xs, 2.5e-7);
        check("exp", exp::<false>, f64::exp, &xs, 2.5e-7);
        assert_eq!(exp::<true>(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp::<true>(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp::<true>(100.0), f32::INFINITY);
        assert_eq!(exp::<true>(-200.0), 0.0);
        assert!(exp::<true>(f32::NAN).is_nan());
        // subnormal results within one unit of the smallest subnormal
        let tiny = exp::<true>(-100.0) as f64;
        assert!((tiny - (-100f64).exp()).abs() < 1.5e-45);
    }

    #[test]
    fn tanh_is_accurate() {
        let mut xs = sweep(-12.0, 12.0, 400_000);
        xs.extend(sweep(-0.7, 0.7, 100_000));
        xs.extend([1e-30, -1e-20, 1e-5, 0.5499, 0.55, 0.5501]);
        check("tanh fma", tanh::<true>, f64::tanh, &xs, 4.5e-7);
        check("tanh", tanh::<false>, f64::tanh, &xs, 4.5e-7);
        assert_eq!(tanh::<true>(f32::INFINITY), 1.0);
        assert_eq!(tanh::<true>(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh::<true>(0.0), 0.0);
        assert!(tanh::<true>(-0.0).is_sign_negative());
        assert!(tanh::<true>(f32::NAN).is_nan());
    }

    #[test]
    fn sigmoid_is_accurate() {
        let xs = sweep(-80.0, 30.0, 400_000);
        let g = |x: f64| 1.0 / (1.0 + (-x).exp());
        check("sigmoid", sigmoid::<true>, g, &xs, 2.5e-7);
        assert_eq!(sigmoid::<true>(f32::INFINITY), 1.0);
        assert_eq!(sigmoid::<true>(f32::NEG_INFINITY), 0.0);
        assert!(sigmoid::<true>(f32::NAN).is_nan());
    }

    /// Values around every f16 and bf16 (exact, halfway, just off halfway), the overflow
    /// thresholds, subnormals, specials, and f32 bit patterns spread over the whole range.
    fn rounding_probes() -> Vec<f32> {
        let mut xs = Vec::new();
        for h in 0..=u16::MAX {
            let lo = f16_value(h);
            let hi = f16_value(h.wrapping_add(1));
            xs.push(lo);
            if lo.is_finite() && hi.is_finite() && (h & 0x7fff) != 0x7bff {
                let mid = (lo as f64 + hi as f64) / 2.0;
                xs.extend([mid as f32, f32::from_bits((mid as f32).to_bits() + 1)]);
                xs.push(f32::from_bits((mid as f32).to_bits().wrapping_sub(1)));
            }
            let b = f32::from_bits((h as u32) << 16);
            xs.extend([b, f32::from_bits(((h as u32) << 16) | 0x8000)]);
            xs.push(f32::from_bits(((h as u32) << 16) | 0x8001));
        }
        xs.extend([
            65504.0,
            65519.99,
            65520.0,
            65535.0,
            1e10,
            -65520.0,
            6.1035156e-5,
        ]);
        xs.extend([5.9604645e-8, 2.9802322e-8, 2.9802326e-8, 1e-30, 0.0, -0.0]);
        xs.extend([
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MAX,
            f32::MIN_POSITIVE,
        ]);
        let mut seed = 12345u32;
        for _ in 0..200_000 {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            xs.push(f32::from_bits(seed));
        }
        xs
    }

    /// Each probe converted by LibTorch to `kind` and back, and its raw bits there.
    fn torch_round(xs: &[f32], kind: tch::Kind) -> (Vec<f32>, Vec<u16>) {
        let h = tch::Tensor::from_slice(xs).to_kind(kind);
        let mut bits = vec![0u16; xs.len()];
        // SAFETY: a contiguous CPU tensor of xs.len() two-byte elements
        unsafe {
            std::ptr::copy_nonoverlapping(h.data_ptr() as *const u16, bits.as_mut_ptr(), xs.len())
        };
        let back = h.to_kind(tch::Kind::Float);
        let mut v = vec![0f32; xs.len()];
        back.copy_data(&mut v, xs.len());
        (v, bits)
    }

    #[test]
    fn half_rounding_matches_libtorch_bit_for_bit() {
        let xs = rounding_probes();
        for (kind, round, to_bits) in [
            (
                tch::Kind::Half,
                round_f16 as fn(f32) -> f32,
                f16_bits as fn(f32) -> u16,
            ),
            (tch::Kind::BFloat16, round_bf16, bf16_bits),
        ] {
            let (want, want_bits) = torch_round(&xs, kind);
            for (i, &x) in xs.iter().enumerate() {
                let got = round(x);
                if want[i].is_nan() {
                    assert!(got.is_nan(), "{kind:?} {x:e}");
                    continue;
                }
                assert_eq!(
                    got.to_bits(),
                    want[i].to_bits(),
                    "{kind:?} {x:e} ({:#x})",
                    x.to_bits()
                );
                assert_eq!(to_bits(got), want_bits[i], "{kind:?} bits of {x:e}");
            }
        }
        // and back: every f16 pattern's value, as LibTorch reads it
        let all: Vec<u16> = (0..=u16::MAX).collect();
        let t = tch::Tensor::from_slice(&all.iter().map(|&h| h as i16).collect::<Vec<_>>());
        let t = t.view_dtype(tch::Kind::Half).to_kind(tch::Kind::Float);
        let mut v = vec![0f32; all.len()];
        t.copy_data(&mut v, all.len());
        for (&h, &w) in all.iter().zip(&v) {
            let g = f16_value(h);
            assert!(
                g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                "{h:#x}"
            );
        }
    }

    #[test]
    fn row_extremes_propagate_nan_wherever_it_is() {
        // rows long enough for the AVX-512 path (where the CPU has it): NaN in the vector part,
        // in the tail, or nowhere; infinities; every position of the extreme
        for len in [64usize, 100, 1000] {
            for case in 0..len + 3 {
                let mut row: Vec<f32> = (0..len).map(|i| ((i * 37) % 101) as f32 - 50.0).collect();
                match case {
                    c if c < len => row[c] = 1000.0,
                    c if c == len => row[len / 3] = f32::NAN,
                    c if c == len + 1 => row[len - 1] = f32::NAN,
                    _ => row[0] = f32::NEG_INFINITY,
                }
                let mut d = [0f32; 2];
                let two: Vec<f32> = row.iter().chain(&row).copied().collect();
                for (op, want) in [
                    (
                        FOp::RowMax,
                        row.iter().copied().fold(f32::NEG_INFINITY, max),
                    ),
                    (FOp::RowMin, row.iter().copied().fold(f32::INFINITY, min)),
                ] {
                    reduce_rows(op, &mut d, &two);
                    for got in d {
                        assert!(
                            got == want || (got.is_nan() && want.is_nan()),
                            "{op:?} len {len} case {case}: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn max_min_propagate_nan() {
        let mut d = [0.0f32; 3];
        let a = [1.0, f32::NAN, 3.0];
        apply::<false>(FOp::Max, &mut d, Src::V(&a), Src::C(2.0), Src::C(0.0));
        assert_eq!(d[0], 2.0);
        assert!(d[1].is_nan());
        assert_eq!(d[2], 3.0);
        apply::<false>(FOp::Min, &mut d, Src::C(2.0), Src::V(&a), Src::C(0.0));
        assert_eq!(d[0], 1.0);
        assert!(d[1].is_nan());
    }
    #[test]
    fn comparisons_and_select() {
        let a = [1.0, f32::NAN, 3.0, -0.0];
        let b = [1.0, f32::NAN, 2.0, 0.0];
        let mut d = [9.0f32; 4];
        let none = Src::C(0.0);
        let cases: [(FOp, [f32; 4]); 6] = [
            (FOp::Eq, [1.0, 0.0, 0.0, 1.0]),
            (FOp::Ne, [0.0, 1.0, 1.0, 0.0]),
            (FOp::Lt, [0.0, 0.0, 0.0, 0.0]),
            (FOp::Gt, [0.0, 0.0, 1.0, 0.0]),
            (FOp::Le, [1.0, 0.0, 0.0, 1.0]),
            (FOp::Ge, [1.0, 0.0, 1.0, 1.0]),
        ];
        for (op, want) in cases {
            apply::<true>(op, &mut d, Src::V(&a), Src::V(&b), none);
            assert_eq!(d, want, "{op:?}");
        }
        let p = [1.0, 0.0, 2.0, 0.0];
        let t = [10.0, 20.0, 30.0, 40.0];
        apply::<true>(FOp::Select, &mut d, Src::V(&p), Src::V(&t), Src::C(-1.0));
        assert_eq!(d, [10.0, -1.0, 30.0, -1.0]);
        apply::<false>(FOp::Select, &mut d, Src::V(&p), Src::C(5.0), Src::V(&t));
        assert_eq!(d, [5.0, 20.0, 5.0, 40.0]);
        apply::<true>(FOp::Select, &mut d, Src::C(0.0), Src::V(&t), Src::C(7.0));
        assert_eq!(d, [7.0; 4]);
        // a NaN predicate is not zero: it selects on_true, as a cast to u8 would not decide
        apply::<true>(FOp::Select, &mut d, Src::V(&a), Src::C(1.0), Src::C(2.0));
        assert_eq!(d, [1.0, 1.0, 1.0, 2.0]);
    }
}

#[cfg(test)]
mod speed {
    use super::*;

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn avx(op: FOp, d: &mut [f32], a: &[f32]) {
        apply::<true>(op, d, Src::V(a), Src::C(1.0), Src::C(1.0))
    }

    #[test]
    #[ignore]
    fn kernel_speed() {
        let n = 1 << 11;
        let a: Vec<f32> = (0..n).map(|i| (i as f32 / n as f32) * 8.0 - 4.0).collect();
        let mut d = vec![0f32; n];
        for op in [FOp::Add, FOp::Exp, FOp::Tanh, FOp::Sigmoid] {
            let t = std::time::Instant::now();
            for _ in 0..2000 {
                unsafe { avx(op, &mut d, &a) };
            }
            let avx_ns = t.elapsed().as_secs_f64() * 1e9 / (2000 * n) as f64;
            let t = std::time::Instant::now();
            for _ in 0..2000 {
                apply::<false>(op, &mut d, Src::V(&a), Src::C(1.0), Src::C(1.0));
            }
            let plain = t.elapsed().as_secs_f64() * 1e9 / (2000 * n) as f64;
            println!(
                "{op:?}: avx2 {avx_ns:.3} ns/elem, portable {plain:.3} ns/elem {}",
                d[7]
            );
        }
    }
}
/// `cargo test --release -p nx_engine half_speed -- --ignored --nocapture`: ns per element of
/// the half conversions and rounding (AVX-512 build), beside `exp`.
#[cfg(test)]
mod half_speed {
    use super::*;
    #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]
    unsafe fn go(which: u32, d: &mut [f32], a: &[f32], h: &[u16], o: &mut [u16]) {
        match which {
            0 => apply::<true>(FOp::RoundF16, d, Src::V(a), Src::C(0.0), Src::C(0.0)),
            1 => apply::<true>(FOp::RoundBF16, d, Src::V(a), Src::C(0.0), Src::C(0.0)),
            2 => {
                for (d, &x) in d.iter_mut().zip(h) {
                    *d = f16_value(x);
                }
            }
            3 => {
                for (o, &x) in o.iter_mut().zip(a) {
                    *o = f16_bits(x);
                }
            }
            _ => apply::<true>(FOp::Exp, d, Src::V(a), Src::C(0.0), Src::C(0.0)),
        }
    }
    #[test]
    #[ignore]
    fn half_speed() {
        let n = 2048;
        let a: Vec<f32> = (0..n).map(|i| round_f16(i as f32 * 0.01 - 10.0)).collect();
        let h: Vec<u16> = a.iter().map(|&x| f16_bits(x)).collect();
        let mut d = vec![0f32; n];
        let mut o = vec![0u16; n];
        for which in 0..5 {
            let mut best = f64::MAX;
            for _ in 0..7 {
                let t = std::time::Instant::now();
                for _ in 0..5000 {
                    unsafe { go(which, &mut d, std::hint::black_box(&a), &h, &mut o) };
                }
                best = best.min(t.elapsed().as_secs_f64() * 1e9 / (5000 * n) as f64);
            }
            println!("half op {which}: {best:.4} ns/elem {} {}", d[3], o[3]);
        }
    }
}
