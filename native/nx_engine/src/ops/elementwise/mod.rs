//! Element-wise operations with Nx semantics.
//!
//! Every operation takes the inputs' own Nx types from their handles and the output type the
//! Elixir layer inferred. Inputs are first converted to the output type (Nx's promotion, with
//! its wrapping and rounding), then to a *compute type* that LibTorch has kernels for, and the
//! result is converted back to exactly the output type:
//!
//! - s2/s4 and u2/u4 compute in s8/u8 and are re-wrapped at the end;
//! - u16 and u32 compute in s32 and s64 (their bits are stored in the signed kind of the same
//!   width), except bit-exact operations (add, subtract, multiply, bitwise, left shift, negate),
//!   which run on the stored bits directly;
//! - u64 has no wider kind: its bits stay in Int64 and the operations where signedness matters
//!   (division, remainder, comparison, max/min, right shift, pow) are rewritten in unsigned terms;
//! - f8 types always compute in f32, f16/bf16 compute in f32 on the CPU (natively on CUDA).
//!
//! Integer division and remainder never trap: division by zero gives -1 (all bits set, so the
//! type's maximum for unsigned types) and the remainder by zero gives the dividend, as XLA
//! defines them; the minimum signed value divided by -1 wraps to itself, with remainder 0.
//!
//! - [`binary`]: the 24 binary operations, `select` and `clip`.
//! - [`unary`]: the unary operations.
pub mod binary;
mod small;
pub mod unary;

use crate::error::{EngineError, Result, TorchContext};
use crate::ops::convert::cast;
use crate::tensor::NxTensor;
use crate::types::NxType;
use tch::{Device, Kind, Tensor};

pub use binary::{binary, binary_nx, clip, select, BinaryOp};
pub use unary::{unary, unary_nx, UnaryOp};

/// A type with LibTorch kernels on `device` in which `ty`'s arithmetic is computed.
pub(crate) fn kernel_type(ty: NxType, device: Device) -> NxType {
    match ty {
        NxType::S2 | NxType::S4 => NxType::S8,
        NxType::U2 | NxType::U4 => NxType::U8,
        NxType::U16 => NxType::S32,
        NxType::U32 => NxType::S64,
        NxType::F8E5M2 | NxType::F8E4M3FN => NxType::F32,
        NxType::F16 | NxType::BF16 if device == Device::Cpu => NxType::F32,
        other => other,
    }
}

/// The type whose storage holds `ty`'s bits with kernels for bit-exact integer operations:
/// sub-byte types live unpacked in s8/u8, every other integer type in its own storage.
pub(crate) fn bits_type(ty: NxType) -> NxType {
    match ty {
        NxType::S2 | NxType::S4 => NxType::S8,
        NxType::U2 | NxType::U4 => NxType::U8,
        other => other,
    }
}

/// Converts `t` (of type `from`) to the output type `out`, as Nx's promotion does, then to the
/// compute type `compute` that represents every value of `out`.
pub(crate) fn prepare(t: Tensor, from: NxType, out: NxType, compute: NxType) -> Result<Tensor> {
    let t = if from == out { t } else { cast(&t, from, out)? };
    if out == compute {
        Ok(t)
    } else {
        cast(&t, out, compute)
    }
}

/// Converts a result computed in `compute` to exactly the output type.
pub(crate) fn finish(t: Tensor, compute: NxType, out: NxType) -> Result<Tensor> {
    if compute == out {
        Ok(t)
    } else {
        cast(&t, compute, out)
    }
}

/// The shape of broadcasting `a` against `b` (aligned on the last axis), or an error that names
/// the operation and both shapes.
pub(crate) fn broadcast_shapes(op: &str, a: &[i64], b: &[i64]) -> Result<Vec<i64>> {
    let rank = a.len().max(b.len());
    let mut shape = vec![0i64; rank];
    for (i, dim) in shape.iter_mut().enumerate() {
        let da = dim_from_end(a, rank - 1 - i);
        let db = dim_from_end(b, rank - 1 - i);
        *dim = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(EngineError::argument(format!(
                "{op}: cannot broadcast tensor of shape {a:?} with tensor of shape {b:?}"
            )));
        };
    }
    Ok(shape)
}

/// Whether `from` broadcasts to exactly `to` (aligned on the last axis).
pub(crate) fn broadcasts_to(from: &[i64], to: &[i64]) -> bool {
    from.len() <= to.len()
        && from
            .iter()
            .rev()
            .zip(to.iter().rev())
            .all(|(&f, &t)| f == t || f == 1)
}

fn dim_from_end(shape: &[i64], from_end: usize) -> i64 {
    if from_end < shape.len() {
        shape[shape.len() - 1 - from_end]
    } else {
        1
    }
}

/// The device an operation over `inputs` runs on: the device of the first input that is not a
/// single element, else of the first input. Single elements on another device are moved; any
/// other mismatch is an error.
pub(crate) fn common_device(op: &str, inputs: &[&NxTensor]) -> Result<Device> {
    let main = inputs
        .iter()
        .find(|t| t.numel() != 1)
        .or_else(|| inputs.first())
        .map(|t| t.device())
        .unwrap_or(Device::Cpu);
    for t in inputs {
        if t.device() != main && t.numel() != 1 {
            return Err(EngineError::argument(format!(
                "{op}: tensors are on different devices ({:?} and {:?}); \
                 transfer them to one device first",
                main,
                t.device()
            )));
        }
    }
    Ok(main)
}

/// The tensor of a handle, on `device` (moving single elements there when needed).
pub(crate) fn fetch(t: &NxTensor, device: Device) -> Result<Tensor> {
    let tensor = t.tensor()?;
    if t.device() == device {
        Ok(tensor)
    } else {
        tensor.f_to_device(device).ctx("to_device")
    }
}

/// Nx's type promotion (`Nx.Type.merge/2`), used where the engine itself must pick the type two
/// inputs are compared in.
pub fn merge(a: NxType, b: NxType) -> Result<NxType> {
    use NxType::*;
    if kind_id(a) == kind_id(b) {
        return Ok(if a.bits() >= b.bits() { a } else { b });
    }
    let (ra, rb) = (kind_rank(a), kind_rank(b));
    if ra == rb {
        // only f (f8, f16, f32, f64) and f8_e4m3fn share a rank
        return match a.bits().cmp(&b.bits()) {
            std::cmp::Ordering::Greater => Ok(a),
            std::cmp::Ordering::Less => Ok(b),
            std::cmp::Ordering::Equal => Err(EngineError::argument(format!(
                "cannot merge {} and {}, convert one of them first",
                a.name(),
                b.name()
            ))),
        };
    }
    let (low, high) = if ra < rb { (a, b) } else { (b, a) };
    Ok(match (low, high) {
        (low, high) if low.is_unsigned() && high.is_signed_int() => {
            let bits = (low.bits() * 2).min(64).max(high.bits());
            signed_of_bits(bits)
        }
        (low, high) if high.is_complex() => {
            let low_complex = if low == F64 { C128 } else { C64 };
            if high == C128 || low_complex == C128 {
                C128
            } else {
                C64
            }
        }
        (_, high) => high,
    })
}

fn signed_of_bits(bits: usize) -> NxType {
    match bits {
        0..=2 => NxType::S2,
        3..=4 => NxType::S4,
        5..=8 => NxType::S8,
        9..=16 => NxType::S16,
        17..=32 => NxType::S32,
        _ => NxType::S64,
    }
}

/// Identifies Nx's type kinds (`:s`, `:u`, `:f`, `:bf`, `:c`, `:f8_e4m3fn`).
fn kind_id(t: NxType) -> u8 {
    use NxType::*;
    match t {
        S2 | S4 | S8 | S16 | S32 | S64 => 0,
        U2 | U4 | U8 | U16 | U32 | U64 => 1,
        F8E5M2 | F16 | F32 | F64 => 2,
        BF16 => 3,
        C64 | C128 => 4,
        F8E4M3FN => 5,
    }
}

/// Promotion rank of a kind: c > f = f8_e4m3fn > bf > s > u.
fn kind_rank(t: NxType) -> u8 {
    match kind_id(t) {
        4 => 4,
        2 | 5 => 3,
        3 => 2,
        0 => 1,
        _ => 0,
    }
}

// Unsigned 64-bit helpers. u64 values are stored as the Int64 with the same bits.

/// Flips the sign bit so that signed comparison orders the values as unsigned.
pub(crate) fn flip_sign(t: &Tensor) -> Result<Tensor> {
    t.f_bitwise_xor(i64::MIN).ctx("u64")
}

/// `a >= b` for u64 bits.
pub(crate) fn u64_ge(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    flip_sign(a)?.f_ge_tensor(&flip_sign(b)?).ctx("u64")
}

/// `a > b` for u64 bits.
pub(crate) fn u64_gt(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    flip_sign(a)?.f_gt_tensor(&flip_sign(b)?).ctx("u64")
}

/// Logical (zero-filling) right shift of u64 bits by a constant in 1..=63.
pub(crate) fn u64_shr_const(t: &Tensor, n: i64) -> Result<Tensor> {
    t.f_bitwise_right_shift_tensor_scalar(n)
        .and_then(|x| x.f_bitwise_and(i64::MAX >> (n - 1)))
        .ctx("u64")
}

/// Unsigned quotient and remainder of u64 bits, for divisors that are not zero.
///
/// Divisors of 2^63 or more give a quotient of 0 or 1. Smaller divisors divide half the dividend
/// (which is below 2^63, so signed division is exact), double the quotient, and correct it by
/// one when the remainder is still at least the divisor.
pub(crate) fn u64_divmod(a: &Tensor, b: &Tensor) -> Result<(Tensor, Tensor)> {
    let op = "u64 division";
    let big = b.f_lt(0).ctx(op)?;
    let small_b = b.f_masked_fill(&big, 1).ctx(op)?;
    let q0 = u64_shr_const(a, 1)?
        .f_div_tensor_mode(&small_b, "trunc")
        .and_then(|q| q.f_bitwise_left_shift_tensor_scalar(1))
        .ctx(op)?;
    let r0 = a.f_sub(&q0.f_mul(&small_b).ctx(op)?).ctx(op)?;
    let fix = u64_ge(&r0, &small_b)?.f_to_kind(Kind::Int64).ctx(op)?;
    let q_small = q0.f_add(&fix).ctx(op)?;
    let r_small = r0.f_sub(&fix.f_mul(&small_b).ctx(op)?).ctx(op)?;
    let fix_big = u64_ge(a, b)?.f_to_kind(Kind::Int64).ctx(op)?;
    let r_big = a.f_sub(&fix_big.f_mul(b).ctx(op)?).ctx(op)?;
    let q = fix_big.f_where_self(&big, &q_small).ctx(op)?;
    let r = r_big.f_where_self(&big, &r_small).ctx(op)?;
    Ok((q, r))
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    pub fn nx(values: &[i64], ty: NxType) -> NxTensor {
        let t = Tensor::from_slice(values)
            .f_to_kind(ty.storage_kind())
            .unwrap();
        NxTensor::new(t, ty)
    }

    pub fn nx_f64(values: &[f64], ty: NxType) -> NxTensor {
        let t = Tensor::from_slice(values);
        NxTensor::new(cast(&t, NxType::F64, ty).unwrap(), ty)
    }

    /// Values as i64 (bits of u64 as i64); unsigned 16/32-bit values zero-extended.
    pub fn ints(t: &Tensor, ty: NxType) -> Vec<i64> {
        let t = crate::ops::convert::to_compute(t, ty).unwrap().0;
        let t = t.f_to_kind(Kind::Int64).unwrap().f_reshape([-1]).unwrap();
        let n = t.numel();
        let mut out = vec![0i64; n];
        t.f_copy_data(&mut out, n).unwrap();
        out
    }

    pub fn floats(t: &Tensor, ty: NxType) -> Vec<f64> {
        let t = cast(t, ty, NxType::F64).unwrap().f_reshape([-1]).unwrap();
        let n = t.numel();
        let mut out = vec![0f64; n];
        t.f_copy_data(&mut out, n).unwrap();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NxType::*;

    #[test]
    fn merge_follows_nx() {
        assert_eq!(merge(S8, U8).unwrap(), S16);
        assert_eq!(merge(U32, S16).unwrap(), S64);
        assert_eq!(merge(U64, S8).unwrap(), S64);
        assert_eq!(merge(S64, BF16).unwrap(), BF16);
        assert_eq!(merge(BF16, F16).unwrap(), F16);
        assert_eq!(merge(F8E4M3FN, F32).unwrap(), F32);
        assert_eq!(merge(F64, C64).unwrap(), C128);
        assert_eq!(merge(C64, F32).unwrap(), C64);
        assert_eq!(merge(U8, U16).unwrap(), U16);
        assert!(merge(F8E5M2, F8E4M3FN).is_err());
    }

    #[test]
    fn broadcast_shapes_align_on_the_right() {
        assert_eq!(broadcast_shapes("add", &[2, 1], &[3]).unwrap(), vec![2, 3]);
        assert_eq!(broadcast_shapes("add", &[], &[4]).unwrap(), vec![4]);
        assert!(broadcast_shapes("add", &[2], &[3]).is_err());
        assert!(broadcasts_to(&[1, 3], &[2, 3]));
        assert!(!broadcasts_to(&[2, 3], &[3]));
    }

    #[test]
    fn u64_division_above_2_pow_63() {
        let max = -1i64; // 2^64 - 1
        let a = Tensor::from_slice(&[max, max, i64::MIN, 10, max, 7]);
        let b = Tensor::from_slice(&[3, max, 3, i64::MIN, i64::MIN, 7]);
        let (q, r) = u64_divmod(&a, &b).unwrap();
        let expect_q: Vec<u64> = vec![u64::MAX / 3, 1, (1u64 << 63) / 3, 0, 1, 1];
        let expect_r: Vec<u64> = vec![0, 0, (1u64 << 63) % 3, 10, u64::MAX - (1 << 63), 0];
        let q = test_support::ints(&q, U64);
        let r = test_support::ints(&r, U64);
        assert_eq!(q.iter().map(|&v| v as u64).collect::<Vec<_>>(), expect_q);
        assert_eq!(r.iter().map(|&v| v as u64).collect::<Vec<_>>(), expect_r);
    }
}
