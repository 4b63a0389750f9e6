//! Type conversion with Nx semantics, bit casts and device transfer.
//!
//! Nx converts floats to integers by truncation toward zero, NaN to 0 and infinities to the
//! target's extreme values; integers narrow by wrapping. Unsigned types whose bits live in a
//! signed LibTorch kind (u16, u32, u64) are widened before any arithmetic reads them.
use crate::error::{EngineError, Result, TorchContext};
use crate::runtime::prepare_thread;
use crate::types::NxType;
use tch::{Device, Kind, Tensor};

const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// The tensor's values in a kind that LibTorch computes with and that holds every value of
/// `ty` exactly (u64 excepted: its bits stay in Int64 and callers treat them as unsigned).
pub fn to_compute(t: &Tensor, ty: NxType) -> Result<(Tensor, NxType)> {
    let op = "to_compute";
    Ok(match ty {
        NxType::U16 => (
            t.f_to_kind(Kind::Int)
                .and_then(|x| x.f_bitwise_and(0xFFFF))
                .ctx(op)?,
            NxType::S32,
        ),
        NxType::U32 => (
            t.f_to_kind(Kind::Int64)
                .and_then(|x| x.f_bitwise_and(0xFFFF_FFFFi64))
                .ctx(op)?,
            NxType::S64,
        ),
        NxType::F8E5M2 | NxType::F8E4M3FN => (t.f_to_kind(Kind::Float).ctx(op)?, NxType::F32),
        NxType::S2 | NxType::S4 => (t.shallow_clone(), NxType::S8),
        NxType::U2 | NxType::U4 => (t.shallow_clone(), NxType::U8),
        other => (t.shallow_clone(), other),
    })
}

/// The extreme values of an integer type, as the Int64 bit patterns that store them.
fn int_limits(ty: NxType) -> (i64, i64) {
    match ty {
        NxType::S2 => (-2, 1),
        NxType::S4 => (-8, 7),
        NxType::S8 => (i8::MIN as i64, i8::MAX as i64),
        NxType::S16 => (i16::MIN as i64, i16::MAX as i64),
        NxType::S32 => (i32::MIN as i64, i32::MAX as i64),
        NxType::S64 => (i64::MIN, i64::MAX),
        NxType::U2 => (0, 3),
        NxType::U4 => (0, 15),
        NxType::U8 => (0, u8::MAX as i64),
        NxType::U16 => (0, u16::MAX as i64),
        NxType::U32 => (0, u32::MAX as i64),
        _ => (0, -1), // u64::MAX as bits
    }
}

/// Narrows integer values (any integer kind) to the storage of integer type `to`, wrapping.
fn narrow_int(x: &Tensor, to: NxType) -> Result<Tensor> {
    let op = "as_type";
    match to {
        NxType::S2 | NxType::S4 => {
            let bits = to.bits() as i64;
            let mask = (1i64 << bits) - 1;
            let sign = 1i64 << (bits - 1);
            // ((x & mask) ^ sign) - sign sign-extends the low bits
            x.f_to_kind(Kind::Int64)
                .and_then(|v| v.f_bitwise_and(mask))
                .and_then(|v| v.f_bitwise_xor(sign))
                .and_then(|v| v.f_sub_scalar(sign))
                .and_then(|v| v.f_to_kind(Kind::Int8))
                .ctx(op)
        }
        NxType::U2 | NxType::U4 => {
            let mask = (1i64 << to.bits()) - 1;
            x.f_to_kind(Kind::Int64)
                .and_then(|v| v.f_bitwise_and(mask))
                .and_then(|v| v.f_to_kind(Kind::Uint8))
                .ctx(op)
        }
        _ => x.f_to_kind(to.storage_kind()).ctx(op),
    }
}

/// Converts a tensor stored as `from` into the storage of `to`, with Nx's semantics.
pub fn cast(t: &Tensor, from: NxType, to: NxType) -> Result<Tensor> {
    prepare_thread();
    let op = "as_type";
    if from == to {
        return Ok(t.shallow_clone());
    }
    let (x, from) = to_compute(t, from)?;
    if from.is_integer() {
        if to.is_integer() {
            return narrow_int(&x, to);
        }
        let exact = if from == NxType::U64 {
            let f = x.f_to_kind(Kind::Double).ctx(op)?;
            let negative = x.f_lt(0).ctx(op)?;
            let wrapped = f.f_add_scalar(TWO_POW_64).ctx(op)?;
            wrapped.f_where_self(&negative, &f).ctx(op)?
        } else {
            x
        };
        return to_float_kind(&exact, to);
    }
    // from is a float or complex type
    let real = if from.is_complex() && !to.is_complex() {
        x.f_real().ctx(op)?
    } else {
        x
    };
    if !to.is_integer() {
        return to_float_kind(&real, to);
    }
    let d = real.f_to_kind(Kind::Double).ctx(op)?;
    let truncated = d.f_trunc().ctx(op)?;
    let shifted = if to == NxType::U64 {
        let high = truncated.f_ge(TWO_POW_63).ctx(op)?;
        truncated
            .f_sub_scalar(TWO_POW_64)
            .and_then(|s| s.f_where_self(&high, &truncated))
            .ctx(op)?
    } else {
        truncated
    };
    let (min, max) = int_limits(to);
    let as_int = shifted
        .f_nan_to_num(Some(0.0), Some(0.0), Some(0.0))
        .and_then(|v| v.f_to_kind(Kind::Int64))
        .ctx(op)?;
    let fixed = as_int
        .f_where_scalarother(&d.f_isnan().ctx(op)?.f_logical_not().ctx(op)?, 0)
        .and_then(|v| v.f_masked_fill(&d.f_isposinf()?, max))
        .and_then(|v| v.f_masked_fill(&d.f_isneginf()?, min))
        .ctx(op)?;
    narrow_int(&fixed, to)
}

fn to_float_kind(x: &Tensor, to: NxType) -> Result<Tensor> {
    let kind = to.storage_kind();
    // LibTorch converts into float8 only from floating kinds.
    let needs_float_first = matches!(to, NxType::F8E5M2 | NxType::F8E4M3FN)
        && !matches!(
            x.f_kind(),
            Ok(Kind::Float) | Ok(Kind::Double) | Ok(Kind::Half)
        );
    let x = if needs_float_first {
        x.f_to_kind(Kind::Float).ctx("as_type")?
    } else {
        x.shallow_clone()
    };
    x.f_to_kind(kind).ctx("as_type")
}

/// Reinterprets the bits of each element as another type of the same width.
pub fn bitcast(t: &Tensor, from: NxType, to: NxType) -> Result<Tensor> {
    prepare_thread();
    if from.bits() != to.bits() {
        return Err(EngineError::argument(format!(
            "bitcast: {} and {} have different bit sizes",
            from.name(),
            to.name()
        )));
    }
    if from == to {
        return Ok(t.shallow_clone());
    }
    if from.is_packed() {
        // sub-byte values are stored unpacked; reinterpreting is re-wrapping the low bits
        return narrow_int(t, to);
    }
    let from_kind = from.storage_kind();
    let to_kind = to.storage_kind();
    if from_kind == to_kind {
        return Ok(t.shallow_clone());
    }
    // view_dtype reinterprets storage, which needs a contiguous layout
    super::contiguous(t.shallow_clone())?
        .f_view_dtype(to_kind)
        .ctx("bitcast")
}

/// Copies a tensor to another device (or returns it when it is already there).
pub fn to_device(t: &Tensor, device: Device) -> Result<Tensor> {
    prepare_thread();
    if t.device() == device {
        return Ok(t.shallow_clone());
    }
    t.f_to_device(device).ctx("backend_transfer")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values_i64(t: &Tensor) -> Vec<i64> {
        let t = t.f_to_kind(Kind::Int64).unwrap();
        let n = t.numel();
        let mut out = vec![0i64; n];
        t.f_copy_data(&mut out, n).unwrap();
        out
    }

    #[test]
    fn float_to_int_truncates_and_saturates_non_finite() {
        let t = Tensor::from_slice(&[-3.5f32, 3.5, f32::NAN, f32::INFINITY, f32::NEG_INFINITY]);
        let r = cast(&t, NxType::F32, NxType::S32).unwrap();
        assert_eq!(
            values_i64(&r),
            vec![-3, 3, 0, i32::MAX as i64, i32::MIN as i64]
        );
        let r = cast(&t, NxType::F32, NxType::U8).unwrap();
        assert_eq!(values_i64(&r), vec![253, 3, 0, 255, 0]);
    }

    #[test]
    fn u64_round_trips_through_f64() {
        let bits = Tensor::from_slice(&[-1i64, 5]); // u64::MAX and 5
        let f = cast(&bits, NxType::U64, NxType::F64).unwrap();
        let mut out = [0f64; 2];
        f.f_copy_data(&mut out, 2).unwrap();
        assert_eq!(out, [18446744073709551615.0, 5.0]);
    }

    #[test]
    fn u32_widens_before_converting() {
        let bits = Tensor::from_slice(&[-1i32]); // u32::MAX
        let f = cast(&bits, NxType::U32, NxType::F64).unwrap();
        assert_eq!(f.f_double_value(&[0]).unwrap(), 4294967295.0);
    }

    #[test]
    fn narrowing_to_s4_wraps_with_sign() {
        let t = Tensor::from_slice(&[7i64, 8, -9, 15]);
        let r = cast(&t, NxType::S64, NxType::S4).unwrap();
        assert_eq!(values_i64(&r), vec![7, -8, 7, -1]);
    }

    #[test]
    fn bitcast_checks_widths() {
        let t = Tensor::from_slice(&[1.0f32]);
        assert!(bitcast(&t, NxType::F32, NxType::S64).is_err());
        let r = bitcast(&t, NxType::F32, NxType::U32).unwrap();
        assert_eq!(r.f_int64_value(&[0]).unwrap(), 0x3F80_0000);
    }
}
