//! The unary element-wise operations.
use super::{bits_type, finish, kernel_type, prepare};
use crate::error::{EngineError, Result, TorchContext};
use crate::ops::convert::{cast, to_compute};
use crate::runtime::prepare_thread;
use crate::tensor::NxTensor;
use crate::types::NxType;
use tch::{Kind, Tensor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Exp,
    Expm1,
    Log,
    Log1p,
    Sigmoid,
    Cos,
    Sin,
    Tan,
    Cosh,
    Sinh,
    Tanh,
    Acos,
    Asin,
    Atan,
    Acosh,
    Asinh,
    Atanh,
    Sqrt,
    Rsqrt,
    Cbrt,
    Erf,
    Erfc,
    ErfInv,
    Abs,
    BitwiseNot,
    Ceil,
    Floor,
    Round,
    Sign,
    Negate,
    Conjugate,
    Real,
    Imag,
    IsNan,
    IsInfinity,
    CountLeadingZeros,
    PopulationCount,
    LogicalNot,
}

impl UnaryOp {
    pub const ALL: [UnaryOp; 38] = [
        UnaryOp::Exp,
        UnaryOp::Expm1,
        UnaryOp::Log,
        UnaryOp::Log1p,
        UnaryOp::Sigmoid,
        UnaryOp::Cos,
        UnaryOp::Sin,
        UnaryOp::Tan,
        UnaryOp::Cosh,
        UnaryOp::Sinh,
        UnaryOp::Tanh,
        UnaryOp::Acos,
        UnaryOp::Asin,
        UnaryOp::Atan,
        UnaryOp::Acosh,
        UnaryOp::Asinh,
        UnaryOp::Atanh,
        UnaryOp::Sqrt,
        UnaryOp::Rsqrt,
        UnaryOp::Cbrt,
        UnaryOp::Erf,
        UnaryOp::Erfc,
        UnaryOp::ErfInv,
        UnaryOp::Abs,
        UnaryOp::BitwiseNot,
        UnaryOp::Ceil,
        UnaryOp::Floor,
        UnaryOp::Round,
        UnaryOp::Sign,
        UnaryOp::Negate,
        UnaryOp::Conjugate,
        UnaryOp::Real,
        UnaryOp::Imag,
        UnaryOp::IsNan,
        UnaryOp::IsInfinity,
        UnaryOp::CountLeadingZeros,
        UnaryOp::PopulationCount,
        UnaryOp::LogicalNot,
    ];

    /// The Nx function name.
    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Exp => "exp",
            UnaryOp::Expm1 => "expm1",
            UnaryOp::Log => "log",
            UnaryOp::Log1p => "log1p",
            UnaryOp::Sigmoid => "sigmoid",
            UnaryOp::Cos => "cos",
            UnaryOp::Sin => "sin",
            UnaryOp::Tan => "tan",
            UnaryOp::Cosh => "cosh",
            UnaryOp::Sinh => "sinh",
            UnaryOp::Tanh => "tanh",
            UnaryOp::Acos => "acos",
            UnaryOp::Asin => "asin",
            UnaryOp::Atan => "atan",
            UnaryOp::Acosh => "acosh",
            UnaryOp::Asinh => "asinh",
            UnaryOp::Atanh => "atanh",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Rsqrt => "rsqrt",
            UnaryOp::Cbrt => "cbrt",
            UnaryOp::Erf => "erf",
            UnaryOp::Erfc => "erfc",
            UnaryOp::ErfInv => "erf_inv",
            UnaryOp::Abs => "abs",
            UnaryOp::BitwiseNot => "bitwise_not",
            UnaryOp::Ceil => "ceil",
            UnaryOp::Floor => "floor",
            UnaryOp::Round => "round",
            UnaryOp::Sign => "sign",
            UnaryOp::Negate => "negate",
            UnaryOp::Conjugate => "conjugate",
            UnaryOp::Real => "real",
            UnaryOp::Imag => "imag",
            UnaryOp::IsNan => "is_nan",
            UnaryOp::IsInfinity => "is_infinity",
            UnaryOp::CountLeadingZeros => "count_leading_zeros",
            UnaryOp::PopulationCount => "population_count",
            UnaryOp::LogicalNot => "logical_not",
        }
    }

    pub fn from_name(name: &str) -> Option<UnaryOp> {
        UnaryOp::ALL.iter().copied().find(|op| op.name() == name)
    }

    fn is_math(self) -> bool {
        (self as usize) <= (UnaryOp::ErfInv as usize)
    }
}

/// Applies `op` to every element of `t` and returns a tensor stored as `out`.
///
/// Math functions compute in `out` (a floating-point or complex type); `abs` of a complex
/// tensor, `real` and `imag` give real values; predicates give 1 or 0.
/// [`unary`], wrapped: tiny f32/f64 CPU tensors of the output's type take
/// [`super::small`]'s fast path, which knows the result's shape without asking LibTorch, and
/// large f32 ones are deferred where the fused kernels have the operation ([`crate::lazy`]).
pub fn unary_nx(op: UnaryOp, t: &NxTensor, out: NxType) -> Result<NxTensor> {
    prepare_thread();
    if let Some(deferred) = crate::lazy::unary(op, t, out, true)? {
        return Ok(deferred);
    }
    let tiny = t.ty() == out
        && t.device() == tch::Device::Cpu
        && t.numel() as usize <= super::small::MAX_UNARY_ELEMENTS;
    if tiny {
        let fast = t.with_tensor(|x| super::small::try_unary(op, x, out, t.shape()))?;
        if let Some(result) = fast {
            return Ok(NxTensor::from_parts(
                result?,
                out,
                t.shape().to_vec(),
                tch::Device::Cpu,
            ));
        }
    }
    Ok(NxTensor::new(unary(op, t, out)?, out))
}

pub fn unary(op: UnaryOp, t: &NxTensor, out: NxType) -> Result<Tensor> {
    prepare_thread();
    let name = op.name();
    let ty = t.ty();
    let x = t.tensor()?;
    let device = t.device();
    if op.is_math() {
        if out.is_integer() {
            return Err(EngineError::argument(format!(
                "{name} outputs a floating-point tensor, got output type {}",
                out.name()
            )));
        }
        if out.is_complex() && matches!(op, UnaryOp::Erf | UnaryOp::Erfc | UnaryOp::ErfInv) {
            return Err(EngineError::argument(format!(
                "{name} does not support complex tensors"
            )));
        }
        let compute = kernel_type(out, device);
        let x = prepare(x, ty, out, compute)?;
        let r = math(op, &x, compute.is_complex())?;
        return finish(r, compute, out);
    }
    match op {
        UnaryOp::IsNan | UnaryOp::IsInfinity | UnaryOp::LogicalNot => {
            let r = if ty.is_integer() && op != UnaryOp::LogicalNot {
                x.f_zeros_like().and_then(|z| z.f_to_kind(Kind::Bool))
            } else {
                let (x, _) = to_compute(&x, ty)?;
                match op {
                    UnaryOp::IsNan => x.f_isnan(),
                    UnaryOp::IsInfinity => x.f_isinf(),
                    _ => x.f_logical_not(),
                }
            }
            .ctx(name)?;
            super::binary::bool_to(&r, out)
        }
        UnaryOp::Real | UnaryOp::Imag => {
            if !ty.is_complex() {
                return if op == UnaryOp::Real {
                    cast(&x, ty, out)
                } else {
                    Tensor::f_zeros(t.shape(), (out.storage_kind(), device)).ctx(name)
                };
            }
            let part = if op == UnaryOp::Real {
                x.f_real()
            } else {
                x.f_imag()
            }
            .ctx(name)?;
            let part_ty = if ty == NxType::C64 {
                NxType::F32
            } else {
                NxType::F64
            };
            cast(&part, part_ty, out)
        }
        UnaryOp::Conjugate => {
            if !out.is_complex() {
                return Err(EngineError::argument(format!(
                    "conjugate outputs a complex tensor, got output type {}",
                    out.name()
                )));
            }
            let x = prepare(x, ty, out, out)?;
            x.f_conj_physical().ctx(name)
        }
        UnaryOp::Abs if ty.is_complex() => {
            let r = x.f_abs().ctx(name)?;
            let real = if ty == NxType::C64 {
                NxType::F32
            } else {
                NxType::F64
            };
            finish(r, real, out)
        }
        UnaryOp::BitwiseNot | UnaryOp::CountLeadingZeros | UnaryOp::PopulationCount => {
            if !ty.is_integer() || !out.is_integer() {
                return Err(EngineError::argument(format!(
                    "{name} expects integer tensors as inputs and outputs an integer tensor, \
                     got: {}",
                    ty.name()
                )));
            }
            let x = prepare(x, ty, out, bits_type(out))?;
            match op {
                UnaryOp::BitwiseNot => {
                    let r = x.f_bitwise_not().ctx(name)?;
                    finish(r, bits_type(out), out)
                }
                _ => {
                    let r = bit_count(op, &x, out)?;
                    finish(r, NxType::S64, out)
                }
            }
        }
        _ => rounding_and_sign(op, x, ty, out, device),
    }
}

/// abs, ceil, floor, round, sign and negate of real tensors (and sign/negate of complex ones).
fn rounding_and_sign(
    op: UnaryOp,
    x: Tensor,
    ty: NxType,
    out: NxType,
    device: tch::Device,
) -> Result<Tensor> {
    let name = op.name();
    let rounding = matches!(op, UnaryOp::Ceil | UnaryOp::Floor | UnaryOp::Round);
    if rounding && (ty.is_complex() || out.is_complex()) {
        return Err(EngineError::argument(format!(
            "{name} does not support complex tensors"
        )));
    }
    if out.is_integer() && (rounding || (op == UnaryOp::Abs && out.is_unsigned())) {
        // integers are their own ceiling, floor, rounding; unsigned integers their own abs
        return prepare(x, ty, out, out);
    }
    if op == UnaryOp::Negate && out.is_integer() {
        let compute = bits_type(out);
        let x = prepare(x, ty, out, compute)?;
        let r = if compute.is_unsigned() {
            // two's complement negation, for kinds LibTorch does not negate
            x.f_bitwise_not().and_then(|n| n.f_add_scalar(1))
        } else {
            x.f_neg()
        }
        .ctx(name)?;
        return finish(r, compute, out);
    }
    let compute = kernel_type(out, device);
    let x = prepare(x, ty, out, compute)?;
    let r = match op {
        UnaryOp::Abs => x.f_abs(),
        UnaryOp::Ceil => x.f_ceil(),
        UnaryOp::Floor => x.f_floor(),
        UnaryOp::Round => return finish(round_half_away(&x, compute)?, compute, out),
        UnaryOp::Sign if compute.is_complex() => x.f_sgn(),
        UnaryOp::Sign if compute == NxType::U64 => {
            x.f_ne(0).and_then(|nz| nz.f_to_kind(Kind::Int64))
        }
        UnaryOp::Sign if compute.is_float() => {
            // sign(NaN) is NaN
            x.f_sign()
                .and_then(|s| s.f_where_self(&x.f_isnan()?.f_logical_not()?, &x))
        }
        UnaryOp::Sign => x.f_sign(),
        _ => x.f_neg(),
    }
    .ctx(name)?;
    finish(r, compute, out)
}

/// Rounds half away from zero: `trunc(x + copysign(h, x))`, where `h` is the largest value
/// below one half in the compute type. Adding `h` carries `x` past the next integer exactly
/// when its fraction is at least one half (for halves the sum is a tie that rounds up to the
/// even integer), and never reaches it otherwise.
fn round_half_away(x: &Tensor, compute: NxType) -> Result<Tensor> {
    let op = "round";
    // the float just below one half: 0.5 - 2^-(p + 2) for p stored mantissa bits
    let h = 0.5
        - 2f64.powi(match compute {
            NxType::F64 => -54,
            NxType::F16 => -12,
            NxType::BF16 => -9,
            _ => -25,
        });
    let kind = compute.storage_kind();
    Tensor::f_scalar_tensor(h, (kind, x.device()))
        .and_then(|h| h.f_copysign(x))
        .and_then(|step| x.f_add(&step))
        .and_then(|moved| moved.f_trunc())
        .ctx(op)
}

fn math(op: UnaryOp, x: &Tensor, complex: bool) -> Result<Tensor> {
    let name = op.name();
    match op {
        UnaryOp::Exp => x.f_exp(),
        UnaryOp::Expm1 if complex => x.f_exp().and_then(|e| e.f_sub_scalar(1.0)),
        UnaryOp::Expm1 => x.f_expm1(),
        UnaryOp::Log => x.f_log(),
        UnaryOp::Log1p if complex => x.f_add_scalar(1.0).and_then(|y| y.f_log()),
        UnaryOp::Log1p => x.f_log1p(),
        UnaryOp::Sigmoid => x.f_sigmoid(),
        UnaryOp::Cos => x.f_cos(),
        UnaryOp::Sin => x.f_sin(),
        UnaryOp::Tan => x.f_tan(),
        UnaryOp::Cosh => x.f_cosh(),
        UnaryOp::Sinh => x.f_sinh(),
        UnaryOp::Tanh => x.f_tanh(),
        UnaryOp::Acos => x.f_acos(),
        UnaryOp::Asin => x.f_asin(),
        UnaryOp::Atan => x.f_atan(),
        UnaryOp::Acosh => x.f_acosh(),
        UnaryOp::Asinh => x.f_asinh(),
        UnaryOp::Atanh => x.f_atanh(),
        UnaryOp::Sqrt => x.f_sqrt(),
        UnaryOp::Rsqrt => x.f_rsqrt(),
        // the principal cube root of complex numbers; the real cube root of reals
        UnaryOp::Cbrt if complex => x.f_pow_tensor_scalar(1.0 / 3.0),
        UnaryOp::Cbrt => x
            .f_abs()
            .and_then(|a| a.f_pow_tensor_scalar(1.0 / 3.0))
            .and_then(|r| r.f_copysign(x)),
        UnaryOp::Erf => x.f_erf(),
        UnaryOp::Erfc => x.f_erfc(),
        _ => x.f_erfinv(),
    }
    .ctx(name)
}

/// Population count (or leading zeros) of each element's `out.bits()`-bit pattern, as s64.
fn bit_count(op: UnaryOp, x: &Tensor, out: NxType) -> Result<Tensor> {
    let name = op.name();
    let width = out.bits() as i64;
    let mut v = x.f_to_kind(Kind::Int64).ctx(name)?;
    if width < 64 {
        v = v.f_bitwise_and((1i64 << width) - 1).ctx(name)?;
    }
    if op == UnaryOp::CountLeadingZeros {
        // smear the highest set bit downwards; arithmetic shifts only copy a set top bit,
        // which leaves all bits set either way
        for shift in [1i64, 2, 4, 8, 16, 32] {
            let shifted = v.f_bitwise_right_shift_tensor_scalar(shift).ctx(name)?;
            v = v.f_bitwise_or_tensor(&shifted).ctx(name)?;
        }
    }
    let count = popcount64(&v).map_err(|e| match e {
        EngineError::Torch { message, .. } => EngineError::Torch { op: name, message },
        other => other,
    })?;
    if op == UnaryOp::CountLeadingZeros {
        count.f_neg().and_then(|n| n.f_add_scalar(width)).ctx(name)
    } else {
        Ok(count)
    }
}

/// Bit count of Int64 values (SWAR: pairs, nibbles, bytes, then a multiply sums the bytes).
fn popcount64(v: &Tensor) -> Result<Tensor> {
    let op = "population_count";
    let m1 = 0x5555_5555_5555_5555i64;
    let m2 = 0x3333_3333_3333_3333i64;
    let m4 = 0x0F0F_0F0F_0F0F_0F0Fi64;
    let h01 = 0x0101_0101_0101_0101i64;
    let pairs = v
        .f_bitwise_right_shift_tensor_scalar(1)
        .and_then(|s| s.f_bitwise_and(m1))
        .and_then(|s| v.f_sub(&s))
        .ctx(op)?;
    let nibbles = pairs
        .f_bitwise_and(m2)
        .and_then(|lo| {
            let hi = pairs
                .f_bitwise_right_shift_tensor_scalar(2)?
                .f_bitwise_and(m2)?;
            lo.f_add(&hi)
        })
        .ctx(op)?;
    let bytes = nibbles
        .f_bitwise_right_shift_tensor_scalar(4)
        .and_then(|s| nibbles.f_add(&s))
        .and_then(|s| s.f_bitwise_and(m4))
        .ctx(op)?;
    bytes
        .f_mul_scalar(h01)
        .and_then(|s| s.f_bitwise_right_shift_tensor_scalar(56))
        .and_then(|s| s.f_bitwise_and(0xFF))
        .ctx(op)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{floats, ints, nx, nx_f64};
    use super::*;
    use NxType::*;

    #[test]
    fn rounds_half_away_from_zero() {
        let t = nx_f64(
            &[-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999999999999994, 1e300],
            F64,
        );
        let r = unary(UnaryOp::Round, &t, F64).unwrap();
        assert_eq!(
            floats(&r, F64),
            vec![-3.0, -2.0, -1.0, 1.0, 2.0, 3.0, 0.0, 1e300]
        );
        let t = nx_f64(&[2.5, -0.5], BF16);
        let r = unary(UnaryOp::Round, &t, BF16).unwrap();
        assert_eq!(floats(&r, BF16), vec![3.0, -1.0]);
    }

    /// The truncation moved one away from zero when the (exact) fraction is at least 1/2.
    fn round_oracle(x: f64) -> f64 {
        let t = x.trunc();
        if (x - t).abs() >= 0.5 {
            t + x.signum()
        } else {
            t
        }
    }

    #[test]
    fn rounding_matches_the_definition_on_many_values() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut f64s: Vec<f64> = (0..200_000)
            .map(|_| f64::from_bits(next()))
            .filter(|v| v.is_finite())
            .collect();
        let mut f32s: Vec<f64> = (0..200_000)
            .map(|_| f32::from_bits(next() as u32) as f64)
            .filter(|v| v.is_finite())
            .collect();
        for k in -2000..2000 {
            let half = k as f64 + 0.5;
            for v in [half, k as f64 + 0.499_999_999_999_999_9, k as f64 + 0.25] {
                f64s.push(v);
                f32s.push(v as f32 as f64);
                f32s.push(f32::from_bits((v as f32).to_bits() - 1) as f64);
                f32s.push(f32::from_bits((v as f32).to_bits() + 1) as f64);
            }
        }
        for (values, ty) in [(f64s, F64), (f32s, F32)] {
            let t = nx_f64(&values, ty);
            let r = floats(&unary(UnaryOp::Round, &t, ty).unwrap(), ty);
            for (v, got) in values.iter().zip(r) {
                assert_eq!(got, round_oracle(*v), "round({v:e}) in {}", ty.name());
            }
        }
    }

    #[test]
    fn bit_counts() {
        let t = nx(&[0, 1, 254, 255], U8);
        assert_eq!(
            ints(&unary(UnaryOp::PopulationCount, &t, U8).unwrap(), U8),
            vec![0, 1, 7, 8]
        );
        assert_eq!(
            ints(&unary(UnaryOp::CountLeadingZeros, &t, U8).unwrap(), U8),
            vec![8, 7, 0, 0]
        );
        let t = nx(&[0, -1, i64::MIN, 1], S64);
        assert_eq!(
            ints(&unary(UnaryOp::PopulationCount, &t, S64).unwrap(), S64),
            vec![0, 64, 1, 1]
        );
        assert_eq!(
            ints(&unary(UnaryOp::CountLeadingZeros, &t, S64).unwrap(), S64),
            vec![64, 0, 0, 63]
        );
        let t = nx(&[-128, -1, 0xFFFF], S32);
        assert_eq!(
            ints(&unary(UnaryOp::PopulationCount, &t, S32).unwrap(), S32),
            vec![25, 32, 16]
        );
        let t = nx(&[1, 0x8000], U16);
        assert_eq!(
            ints(&unary(UnaryOp::CountLeadingZeros, &t, U16).unwrap(), U16),
            vec![15, 0]
        );
    }

    #[test]
    fn negate_and_bitwise_not_wrap() {
        let t = nx(&[0, 1, 2], U8);
        assert_eq!(
            ints(&unary(UnaryOp::Negate, &t, U8).unwrap(), U8),
            vec![0, 255, 254]
        );
        let t = nx(&[0, 1, 15], U4);
        assert_eq!(
            ints(&unary(UnaryOp::Negate, &t, U4).unwrap(), U4),
            vec![0, 15, 1]
        );
        assert_eq!(
            ints(&unary(UnaryOp::BitwiseNot, &t, U4).unwrap(), U4),
            vec![15, 14, 0]
        );
        let t = nx(&[1, 0xFFFF], U16);
        assert_eq!(
            ints(&unary(UnaryOp::Negate, &t, U16).unwrap(), U16),
            vec![0xFFFF, 1]
        );
    }

    #[test]
    fn math_on_every_float_and_complex_type() {
        for ty in [F8E5M2, F8E4M3FN, F16, BF16, F32, F64, C64, C128] {
            let t = nx_f64(&[0.25, 0.5], ty);
            for op in UnaryOp::ALL.iter().copied().filter(|op| op.is_math()) {
                let result = unary(op, &t, ty);
                if ty.is_complex() && matches!(op, UnaryOp::Erf | UnaryOp::Erfc | UnaryOp::ErfInv) {
                    assert!(result.is_err());
                } else {
                    let r =
                        result.unwrap_or_else(|e| panic!("{} on {}: {e}", op.name(), ty.name()));
                    assert_eq!(
                        r.kind(),
                        ty.storage_kind(),
                        "{} on {}",
                        op.name(),
                        ty.name()
                    );
                }
            }
        }
        let t = nx_f64(&[-8.0, 27.0], F64);
        let r = floats(&unary(UnaryOp::Cbrt, &t, F64).unwrap(), F64);
        assert!((r[0] + 2.0).abs() < 1e-15 && (r[1] - 3.0).abs() < 1e-15);
    }

    #[test]
    fn predicates_and_parts() {
        let t = nx_f64(&[f64::NAN, f64::INFINITY, 1.0], F32);
        assert_eq!(
            ints(&unary(UnaryOp::IsNan, &t, U8).unwrap(), U8),
            vec![1, 0, 0]
        );
        assert_eq!(
            ints(&unary(UnaryOp::IsInfinity, &t, U8).unwrap(), U8),
            vec![0, 1, 0]
        );
        let s = unary(UnaryOp::Sign, &t, F32).unwrap();
        let s = floats(&s, F32);
        assert!(s[0].is_nan());
        assert_eq!(&s[1..], &[1.0, 1.0]);
        let i = nx(&[3, 0], S32);
        assert_eq!(
            ints(&unary(UnaryOp::IsNan, &i, U8).unwrap(), U8),
            vec![0, 0]
        );
        assert_eq!(
            ints(&unary(UnaryOp::LogicalNot, &i, U8).unwrap(), U8),
            vec![0, 1]
        );
        let c = NxTensor::new(
            Tensor::f_complex(
                &Tensor::from_slice(&[1.0f32, 3.0]),
                &Tensor::from_slice(&[2.0f32, -4.0]),
            )
            .unwrap(),
            C64,
        );
        let im = unary(UnaryOp::Imag, &c, F32).unwrap();
        assert_eq!(floats(&im, F32), vec![2.0, -4.0]);
        let conj = unary(UnaryOp::Conjugate, &c, C64).unwrap();
        let conj_im = conj.f_imag().unwrap().f_contiguous().unwrap();
        assert_eq!(floats(&conj_im, F32), vec![-2.0, 4.0]);
        let abs = unary(UnaryOp::Abs, &c, F32).unwrap();
        assert_eq!(floats(&abs, F32)[1], 5.0);
    }
}
