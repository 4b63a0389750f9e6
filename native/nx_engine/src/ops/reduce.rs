//! Reductions over axes (sum, product, max, min, all, any) and arg-reductions (argmax,
//! argmin) with Nx's semantics.
//!
//! Each input is converted to the output type first (Nx reduces in the output type), then into a
//! kind LibTorch reduces well: f16/bf16/f8 accumulate in f32, u16/u32 in a wider signed kind, and
//! u64 — whose bits live in Int64 — wraps identically for sums and products and is compared
//! with its sign bit flipped, which maps unsigned order onto signed order.
use super::convert::{cast, to_compute};
use crate::error::{EngineError, Result, TorchContext};
use crate::runtime::prepare_thread;
use crate::types::NxType;
use tch::{Kind, Tensor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    Sum,
    Product,
    Max,
    Min,
    All,
    Any,
}

fn check_reduce_axes(op: &str, axes: &[i64], rank: usize) -> Result<()> {
    super::check_axes(op, axes, rank, false)
}

/// Values in a kind where reductions and comparisons are native, with the type they represent.
fn reducible(t: &Tensor, ty: NxType) -> Result<(Tensor, NxType)> {
    let (x, cty) = to_compute(t, ty)?;
    match cty {
        NxType::F16 | NxType::BF16 => Ok((x.f_to_kind(Kind::Float).ctx("reduce")?, NxType::F32)),
        _ => Ok((x, cty)),
    }
}

/// Unsigned 64-bit order mapped onto signed order (an involution).
fn flip_sign(x: &Tensor) -> Result<Tensor> {
    x.f_bitwise_xor(i64::MIN).ctx("reduce")
}

pub fn reduce(
    t: &Tensor,
    ty: NxType,
    op: Reduction,
    axes: &[i64],
    keep_axes: bool,
    out: NxType,
) -> Result<Tensor> {
    prepare_thread();
    let name = "reduce";
    check_reduce_axes(name, axes, t.dim())?;
    if matches!(op, Reduction::All | Reduction::Any) {
        let nonzero = t
            .f_ne(0)
            .ctx(name)
            .or_else(|_| reducible(t, ty).and_then(|(x, _)| x.f_ne(0).ctx(name)))?;
        if axes.is_empty() {
            return cast(&nonzero.f_to_kind(Kind::Uint8).ctx(name)?, NxType::U8, out);
        }
        let r = match op {
            Reduction::All => nonzero.f_all_dims(axes, keep_axes),
            _ => nonzero.f_any_dims(axes, keep_axes),
        }
        .ctx(name)?;
        return cast(&r.f_to_kind(Kind::Uint8).ctx(name)?, NxType::U8, out);
    }
    let x = cast(t, ty, out)?;
    if axes.is_empty() {
        return Ok(x);
    }
    if out.is_complex() && matches!(op, Reduction::Max | Reduction::Min) {
        return Err(EngineError::argument(format!(
            "reduce_max/reduce_min are not defined for complex type {}",
            out.name()
        )));
    }
    let (x, cty) = reducible(&x, out)?;
    let kind = x.f_kind().ctx(name)?;
    let r = match op {
        Reduction::Sum => x.f_sum_dim_intlist(axes, keep_axes, kind).ctx(name)?,
        Reduction::Product => {
            // prod reduces one axis at a time: go from the last axis down so indexes stay valid
            let mut sorted = axes.to_vec();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            let mut acc = x;
            for axis in sorted {
                acc = acc.f_prod_dim_int(axis, keep_axes, kind).ctx(name)?;
            }
            acc
        }
        // Max or Min: All and Any returned above
        _ => {
            let unsigned64 = cty == NxType::U64;
            let x = if unsigned64 { flip_sign(&x)? } else { x };
            let r = if op == Reduction::Max {
                x.f_amax(axes, keep_axes)
            } else {
                x.f_amin(axes, keep_axes)
            }
            .ctx(name)?;
            if unsigned64 {
                flip_sign(&r)?
            } else {
                r
            }
        }
    };
    cast(&r, cty, out)
}

/// Index of the largest (or smallest) value along `axis`, or over the flattened tensor when
/// `axis` is `None`. Ties go to the lowest index, or the highest with `tie_high`.
pub fn arg_reduce(
    t: &Tensor,
    ty: NxType,
    max: bool,
    axis: Option<i64>,
    keep_axis: bool,
    tie_high: bool,
    out: NxType,
) -> Result<Tensor> {
    prepare_thread();
    let name = if max { "argmax" } else { "argmin" };
    if ty.is_complex() {
        return Err(EngineError::argument(format!(
            "{name} is not defined for complex type {}",
            ty.name()
        )));
    }
    if let Some(a) = axis {
        check_reduce_axes(name, &[a], t.dim())?;
    }
    if t.numel() == 0 {
        return Err(EngineError::argument(format!("{name} of an empty tensor")));
    }
    let (x, cty) = reducible(t, ty)?;
    let x = if cty == NxType::U64 {
        flip_sign(&x)?
    } else {
        x
    };
    let (x, dim) = match axis {
        Some(a) => (x, a),
        None => (x.f_reshape([-1]).ctx(name)?, 0),
    };
    let x = if tie_high {
        x.f_flip([dim]).ctx(name)?
    } else {
        x
    };
    let keep = keep_axis && axis.is_some();
    let idx = if max {
        x.f_argmax(dim, keep)
    } else {
        x.f_argmin(dim, keep)
    }
    .ctx(name)?;
    let idx = if tie_high {
        let last = x.size()[dim as usize] - 1;
        idx.f_neg().and_then(|n| n.f_add_scalar(last)).ctx(name)?
    } else {
        idx
    };
    cast(&idx, NxType::S64, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to_vec_i64(t: &Tensor) -> Vec<i64> {
        let t = t.f_to_kind(Kind::Int64).unwrap().f_reshape([-1]).unwrap();
        let n = t.numel();
        let mut v = vec![0i64; n];
        t.f_copy_data(&mut v, n).unwrap();
        v
    }

    #[test]
    fn u64_max_compares_unsigned() {
        // bits of u64::MAX (-1 as i64) and 5
        let t = Tensor::from_slice(&[5i64, -1]);
        let r = reduce(&t, NxType::U64, Reduction::Max, &[0], false, NxType::U64).unwrap();
        assert_eq!(to_vec_i64(&r), vec![-1]);
        let r = reduce(&t, NxType::U64, Reduction::Min, &[0], false, NxType::U64).unwrap();
        assert_eq!(to_vec_i64(&r), vec![5]);
    }

    #[test]
    fn product_over_several_axes() {
        let t = Tensor::from_slice(&[1i32, 2, 3, 4, 5, 6]).reshape([2, 3]);
        let r = reduce(
            &t,
            NxType::S32,
            Reduction::Product,
            &[0, 1],
            false,
            NxType::S64,
        )
        .unwrap();
        assert_eq!(to_vec_i64(&r), vec![720]);
    }

    #[test]
    fn argmax_tie_break() {
        let t = Tensor::from_slice(&[1i32, 3, 3, 0]);
        let low = arg_reduce(&t, NxType::S32, true, None, false, false, NxType::S32).unwrap();
        let high = arg_reduce(&t, NxType::S32, true, None, false, true, NxType::S32).unwrap();
        assert_eq!(to_vec_i64(&low), vec![1]);
        assert_eq!(to_vec_i64(&high), vec![2]);
    }

    #[test]
    fn empty_axes_only_convert() {
        let t = Tensor::from_slice(&[1u8, 2]);
        let r = reduce(&t, NxType::U8, Reduction::Sum, &[], false, NxType::U32).unwrap();
        assert_eq!(to_vec_i64(&r), vec![1, 2]);
    }
}
