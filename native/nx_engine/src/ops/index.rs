//! Indexing: slices, put_slice, gather, take, take_along_axis and the indexed updates
//! (indexed_add, indexed_put) with Nx's semantics.
//!
//! LibTorch's index kernels read out of bounds or throw on bad indices, so every index is
//! validated and clamped here first: a start index is clamped so the whole window fits (as
//! Nx does), an element index into `[0, size - 1]`. Index tensors of any Nx integer type are
//! read as values (u16/u32 widened, u64 above 2^63 saturated) before LibTorch sees them.
//!
//! These operations move elements without looking at them, so most types need no
//! conversion; float8 kinds, which have few kernels, move as bytes. Only `indexed_add`
//! computes, in a kind whose wrap-around matches the Nx type (unsigned values add bit for bit
//! in the signed kind of the same width; sub-byte and float8 types in a wider kind).
use super::convert::{cast, to_compute};
use super::{check_allocation, check_axes, checked_numel, contiguous};
use crate::error::{EngineError, Result, TorchContext};
use crate::runtime::prepare_thread;
use crate::types::NxType;
use tch::{Kind, Tensor};

fn is_f8(ty: NxType) -> bool {
    matches!(ty, NxType::F8E5M2 | NxType::F8E4M3FN)
}

/// The tensor in a kind that every index kernel supports (float8 bytes viewed as u8).
pub(crate) fn movable(t: &Tensor, ty: NxType) -> Result<Tensor> {
    if is_f8(ty) {
        contiguous(t.shallow_clone())?
            .f_view_dtype(Kind::Uint8)
            .ctx("index")
    } else {
        Ok(t.shallow_clone())
    }
}

/// Undoes [`movable`].
pub(crate) fn restore(t: Tensor, ty: NxType) -> Result<Tensor> {
    if is_f8(ty) {
        contiguous(t)?.f_view_dtype(ty.storage_kind()).ctx("index")
    } else {
        Ok(t)
    }
}

/// Index values of an integer tensor as Int64 on `like`'s device. u64 values above
/// `i64::MAX` (stored as negative bits) saturate to `i64::MAX`: they are past any axis.
pub fn index_values(op: &str, idx: &Tensor, ty: NxType, like: &Tensor) -> Result<Tensor> {
    if !ty.is_integer() {
        return Err(EngineError::argument(format!(
            "{op}: indices must be an integer tensor, got {}",
            ty.name()
        )));
    }
    let (x, _) = to_compute(idx, ty)?;
    let x = x.f_to_kind(Kind::Int64).ctx("index")?;
    let x = if ty == NxType::U64 {
        let high = x.f_lt(0).ctx("index")?;
        x.f_masked_fill(&high, i64::MAX).ctx("index")?
    } else {
        x
    };
    if x.device() != like.device() {
        x.f_to_device(like.device()).ctx("index")
    } else {
        Ok(x)
    }
}

fn clamp_to(x: &Tensor, size: i64) -> Result<Tensor> {
    x.f_clamp(0i64, (size - 1).max(0)).ctx("index")
}

fn dims(shape: &[i64]) -> String {
    format!("{shape:?}")
}

/// A strided slice. Each start is clamped to `[0, size - length]` so the window fits.
pub fn slice(t: &Tensor, starts: &[i64], lengths: &[i64], strides: &[i64]) -> Result<Tensor> {
    prepare_thread();
    let shape = t.size();
    let rank = shape.len();
    if starts.len() != rank || lengths.len() != rank || strides.len() != rank {
        return Err(EngineError::argument(format!(
            "slice: expected {rank} start indices, lengths and strides for shape {}",
            dims(&shape)
        )));
    }
    let mut r = t.shallow_clone();
    for axis in 0..rank {
        let (dim, len, stride) = (shape[axis], lengths[axis], strides[axis]);
        if len < 1 || len > dim || stride < 1 {
            return Err(EngineError::argument(format!(
                "slice: invalid length {len} or stride {stride} for axis {axis} of shape {}",
                dims(&shape)
            )));
        }
        let start = starts[axis].clamp(0, dim - len);
        if start == 0 && len == dim && stride == 1 {
            continue;
        }
        r = r
            .f_slice(axis as i64, start, start + len, stride)
            .ctx("slice")?;
    }
    Ok(r)
}

/// Writes `update` into `t` at `starts` (each clamped so the update fits), in type `out`.
pub fn put_slice(
    t: &Tensor,
    ty: NxType,
    starts: &[i64],
    update: &Tensor,
    update_ty: NxType,
    out: NxType,
) -> Result<Tensor> {
    prepare_thread();
    let shape = t.size();
    let ushape = update.size();
    if starts.len() != shape.len() || ushape.len() != shape.len() {
        return Err(EngineError::argument(format!(
            "put_slice: slice of shape {} and {} start indices do not match shape {}",
            dims(&ushape),
            starts.len(),
            dims(&shape)
        )));
    }
    if ushape.iter().zip(&shape).any(|(u, d)| u > d) {
        return Err(EngineError::argument(format!(
            "put_slice: slice shape {} must fit in shape {}",
            dims(&ushape),
            dims(&shape)
        )));
    }
    let x = movable(&cast(t, ty, out)?, out)?;
    let u = movable(&cast(update, update_ty, out)?, out)?;
    let u = if u.device() != x.device() {
        u.f_to_device(x.device()).ctx("put_slice")?
    } else {
        u
    };
    let result = x.f_empty_like().ctx("put_slice")?;
    let mut whole = result.shallow_clone();
    whole.f_copy_(&x).ctx("put_slice")?;
    let mut window = result.shallow_clone();
    for (axis, (&dim, &len)) in shape.iter().zip(&ushape).enumerate() {
        let start = starts[axis].clamp(0, dim - len);
        window = window.f_narrow(axis as i64, start, len).ctx("put_slice")?;
    }
    window.f_copy_(&u).ctx("put_slice")?;
    restore(result, out)
}

/// Nx's gather: `indices` has shape `[..., k]`, each row holding one index per axis in
/// `axes`; the result has the leading indices axes followed by the axes not in `axes`.
pub fn gather(
    t: &Tensor,
    ty: NxType,
    indices: &Tensor,
    idx_ty: NxType,
    axes: &[i64],
) -> Result<Tensor> {
    prepare_thread();
    let op = "gather";
    let shape = t.size();
    let rank = shape.len();
    let ishape = indices.size();
    let Some((&k, outer)) = ishape.split_last() else {
        return Err(EngineError::argument(
            "gather: expected indices rank to be at least 1, got: 0",
        ));
    };
    if k as usize != axes.len() {
        return Err(EngineError::argument(format!(
            "gather: indices of shape {} need {k} axes, got {axes:?}",
            dims(&ishape)
        )));
    }
    check_axes(op, axes, rank, false)?;
    let n = checked_numel(outer)?;
    let idx = index_values(op, indices, idx_ty, t)?
        .f_reshape([n, k])
        .ctx(op)?;
    let mut lin = Tensor::f_zeros([n], (Kind::Int64, t.device())).ctx(op)?;
    let mut indexed = 1i64;
    for (j, &axis) in axes.iter().enumerate() {
        let dim = shape[axis as usize];
        let column = clamp_to(&idx.f_select(1, j as i64).ctx(op)?, dim)?;
        lin = lin
            .f_mul_scalar(dim)
            .and_then(|l| l.f_add(&column))
            .ctx(op)?;
        indexed *= dim;
    }
    let others: Vec<i64> = (0..rank as i64).filter(|a| !axes.contains(a)).collect();
    let other_dims: Vec<i64> = others.iter().map(|&a| shape[a as usize]).collect();
    let mut out_shape = outer.to_vec();
    out_shape.extend(&other_dims);
    check_allocation(&out_shape, ty, t.device())?;
    let perm: Vec<i64> = axes.iter().chain(&others).copied().collect();
    let mut flat_shape = vec![indexed];
    flat_shape.extend(&other_dims);
    let x = movable(t, ty)?
        .f_permute(perm.as_slice())
        .and_then(|p| p.f_reshape(flat_shape.as_slice()))
        .ctx(op)?;
    let r = x
        .f_index_select(0, &lin)
        .and_then(|r| r.f_reshape(out_shape.as_slice()))
        .ctx(op)?;
    restore(r, ty)
}

/// Takes slices along `axis` at `indices` (clamped); the axis is replaced by the indices axes.
pub fn take(t: &Tensor, ty: NxType, indices: &Tensor, idx_ty: NxType, axis: i64) -> Result<Tensor> {
    prepare_thread();
    let op = "take";
    let shape = t.size();
    check_axes(op, &[axis], shape.len(), false)?;
    let a = axis as usize;
    let ishape = indices.size();
    let idx = index_values(op, indices, idx_ty, t)?
        .f_reshape([-1])
        .ctx(op)?;
    let idx = clamp_to(&idx, shape[a])?;
    let mut out_shape = shape[..a].to_vec();
    out_shape.extend(&ishape);
    out_shape.extend(&shape[a + 1..]);
    check_allocation(&out_shape, ty, t.device())?;
    let r = movable(t, ty)?
        .f_index_select(axis, &idx)
        .and_then(|r| r.f_reshape(out_shape.as_slice()))
        .ctx(op)?;
    restore(r, ty)
}

/// Takes one element per index along `axis`; `indices` has the shape of `t` except on `axis`.
pub fn take_along_axis(
    t: &Tensor,
    ty: NxType,
    indices: &Tensor,
    idx_ty: NxType,
    axis: i64,
) -> Result<Tensor> {
    prepare_thread();
    let op = "take_along_axis";
    let shape = t.size();
    let ishape = indices.size();
    check_axes(op, &[axis], shape.len(), false)?;
    let same_outside = ishape.len() == shape.len()
        && (0..shape.len()).all(|d| d == axis as usize || ishape[d] == shape[d]);
    if !same_outside {
        return Err(EngineError::argument(format!(
            "take_along_axis: indices of shape {} do not match shape {} outside axis {axis}",
            dims(&ishape),
            dims(&shape)
        )));
    }
    let idx = clamp_to(&index_values(op, indices, idx_ty, t)?, shape[axis as usize])?;
    let r = movable(t, ty)?.f_gather(axis, &idx, false).ctx(op)?;
    restore(r, ty)
}

/// `indexed_add` (`accumulate`) or `indexed_put`: `indices` is `[n, k]` (one index per axis
/// in `axes`, each clamped) and `updates` is `[n, ...]` with one window per index over the
/// axes not in `axes`, each window at most as large as the target there.
#[allow(clippy::too_many_arguments)]
pub fn indexed(
    target: &Tensor,
    ty: NxType,
    indices: &Tensor,
    idx_ty: NxType,
    updates: &Tensor,
    upd_ty: NxType,
    axes: &[i64],
    accumulate: bool,
    out: NxType,
) -> Result<Tensor> {
    prepare_thread();
    let op = if accumulate {
        "indexed_add"
    } else {
        "indexed_put"
    };
    let shape = target.size();
    let rank = shape.len();
    let ishape = indices.size();
    let ushape = updates.size();
    check_axes(op, axes, rank, false)?;
    let others: Vec<usize> = (0..rank).filter(|&a| !axes.contains(&(a as i64))).collect();
    let valid = ishape.len() == 2
        && ishape[1] as usize == axes.len()
        && ushape.len() == 1 + others.len()
        && ushape[0] == ishape[0]
        && others
            .iter()
            .enumerate()
            .all(|(j, &a)| ushape[j + 1] <= shape[a]);
    if !valid {
        return Err(EngineError::argument(format!(
            "{op}: indices of shape {} and updates of shape {} do not fit shape {} with axes \
             {axes:?}",
            dims(&ishape),
            dims(&ushape),
            dims(&shape)
        )));
    }
    let device = target.device();
    // row-major strides of the target
    let mut strides = vec![1i64; rank];
    for a in (0..rank.saturating_sub(1)).rev() {
        strides[a] = strides[a + 1] * shape[a + 1];
    }
    let n = ishape[0];
    let idx = index_values(op, indices, idx_ty, target)?;
    let mut base = Tensor::f_zeros([n], (Kind::Int64, device)).ctx(op)?;
    for (j, &axis) in axes.iter().enumerate() {
        let a = axis as usize;
        let column = clamp_to(&idx.f_select(1, j as i64).ctx(op)?, shape[a])?;
        base = base
            .f_add(&column.f_mul_scalar(strides[a]).ctx(op)?)
            .ctx(op)?;
    }
    // offsets of each element of a window, broadcast over the window's shape
    let window: Vec<i64> = ushape[1..].to_vec();
    let mut lin_shape = vec![n];
    lin_shape.extend(std::iter::repeat_n(1i64, window.len()));
    let mut lin = base.f_reshape(lin_shape.as_slice()).ctx(op)?;
    for (j, &a) in others.iter().enumerate() {
        let mut view = vec![1i64; window.len() + 1];
        view[j + 1] = window[j];
        let offsets = Tensor::f_arange(window[j], (Kind::Int64, device))
            .and_then(|r| r.f_mul_scalar(strides[a]))
            .and_then(|r| r.f_reshape(view.as_slice()))
            .ctx(op)?;
        lin = lin.f_add(&offsets).ctx(op)?;
    }
    let lin = lin.f_reshape([-1]).ctx(op)?;

    // the kind the update runs in, and how to get back to `out`
    let work = if accumulate {
        match out {
            NxType::S2 | NxType::S4 => NxType::S8,
            NxType::U2 | NxType::U4 => NxType::U8,
            NxType::F8E5M2 | NxType::F8E4M3FN => NxType::F32,
            other => other,
        }
    } else {
        out
    };
    let x = cast(&cast(target, ty, out)?, out, work)?;
    let u = cast(&cast(updates, upd_ty, out)?, out, work)?;
    let (x, u) = if accumulate {
        (x, u)
    } else {
        (movable(&x, work)?, movable(&u, work)?)
    };
    let u = if u.device() != device {
        u.f_to_device(device).ctx(op)?
    } else {
        u
    };
    let mut flat = x.f_empty_like().and_then(|e| e.f_reshape([-1])).ctx(op)?;
    flat.f_copy_(&x.f_reshape([-1]).ctx(op)?).ctx(op)?;
    let values = u.f_reshape([-1]).ctx(op)?;
    let _ = flat
        .f_index_put_(&[Some(lin)], &values, accumulate)
        .ctx(op)?;
    let r = flat.f_reshape(shape.as_slice()).ctx(op)?;
    let r = if accumulate { r } else { restore(r, work)? };
    // sub-byte sums wrapped at 8 bits wrap again at the type's width; float8 rounds back
    cast(&r, work, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ALL_TYPES;

    fn ints(t: &Tensor) -> Vec<i64> {
        let t = t.f_to_kind(Kind::Int64).unwrap().f_reshape([-1]).unwrap();
        let n = t.numel();
        let mut v = vec![0i64; n];
        t.f_copy_data(&mut v, n).unwrap();
        v
    }

    /// iota of `shape` stored as type `ty`
    fn iota(shape: &[i64], ty: NxType) -> Tensor {
        let n = checked_numel(shape).unwrap();
        let t = Tensor::f_arange(n, (Kind::Int64, tch::Device::Cpu))
            .unwrap()
            .f_reshape(shape)
            .unwrap();
        cast(&t, NxType::S64, ty).unwrap()
    }

    fn values(t: &Tensor, ty: NxType) -> Vec<i64> {
        ints(&cast(t, ty, NxType::S64).unwrap())
    }

    #[test]
    fn slice_clamps_starts() {
        let t = iota(&[3, 3], NxType::S32);
        let r = slice(&t, &[2, 2], &[2, 2], &[1, 1]).unwrap();
        assert_eq!(ints(&r), vec![4, 5, 7, 8]);
        let r = slice(&t, &[-5, 0], &[1, 3], &[1, 2]).unwrap();
        assert_eq!(ints(&r), vec![0, 2]);
        assert!(slice(&t, &[0, 0], &[4, 1], &[1, 1]).is_err());
    }

    #[test]
    fn gather_clamps_and_moves_every_type() {
        let idx = Tensor::from_slice(&[1i64, 1, 0, -7, 9, 0])
            .f_reshape([3, 2])
            .unwrap();
        for ty in ALL_TYPES {
            let t = iota(&[2, 2], ty);
            let r = gather(&t, ty, &idx, NxType::S64, &[0, 1]).unwrap();
            let expected: Vec<i64> = vec![3, 0, 2]
                .into_iter()
                .map(|v| values(&iota(&[4], ty), ty)[v as usize])
                .collect();
            assert_eq!(values(&r, ty), expected, "{}", ty.name());
        }
    }

    #[test]
    fn gather_subsets_along_axes() {
        let t = iota(&[2, 3], NxType::S32);
        let idx = Tensor::from_slice(&[1i64, 0, 2, 5])
            .f_reshape([4, 1])
            .unwrap();
        let r = gather(&t, NxType::S32, &idx, NxType::S64, &[1]).unwrap();
        assert_eq!(r.size(), vec![4, 2]);
        assert_eq!(ints(&r), vec![1, 4, 0, 3, 2, 5, 2, 5]);
    }

    #[test]
    fn u64_indices_above_i64_saturate() {
        let t = iota(&[4], NxType::S32);
        let idx = Tensor::from_slice(&[-1i64, 1]); // u64::MAX and 1
        let r = take(&t, NxType::S32, &idx, NxType::U64, 0).unwrap();
        assert_eq!(ints(&r), vec![3, 1]);
        let idx = Tensor::from_slice(&[-1i32, 2]); // u32::MAX and 2
        let r = take(&t, NxType::S32, &idx, NxType::U32, 0).unwrap();
        assert_eq!(ints(&r), vec![3, 2]);
        assert!(take(
            &t,
            NxType::S32,
            &Tensor::from_slice(&[1.0f32]),
            NxType::F32,
            0
        )
        .is_err());
    }

    #[test]
    fn take_along_axis_every_type() {
        for ty in ALL_TYPES {
            let t = iota(&[2, 3], ty);
            let idx = Tensor::from_slice(&[2i32, 0, 0, 1])
                .f_reshape([2, 2])
                .unwrap();
            let r = take_along_axis(&t, ty, &idx, NxType::S32, 1).unwrap();
            let all = values(&iota(&[6], ty), ty);
            assert_eq!(
                values(&r, ty),
                vec![all[2], all[0], all[3], all[4]],
                "{}",
                ty.name()
            );
        }
    }

    #[test]
    fn indexed_put_and_add_every_type() {
        let idx = Tensor::from_slice(&[0i64, 1, 0, 1, 1, 0])
            .f_reshape([3, 2])
            .unwrap();
        for ty in ALL_TYPES {
            let t = iota(&[2, 2], ty);
            let upd = cast(&Tensor::from_slice(&[1i64, 1, 1]), NxType::S64, ty).unwrap();
            let r = indexed(&t, ty, &idx, NxType::S64, &upd, ty, &[0, 1], true, ty).unwrap();
            let base = values(&t, ty);
            let one = values(&upd, ty)[0];
            let expected = vec![base[0], base[1] + 2 * one, base[2] + one, base[3]];
            let expected: Vec<i64> = expected
                .into_iter()
                .map(|v| {
                    values(
                        &cast(&Tensor::from_slice(&[v]), NxType::S64, ty).unwrap(),
                        ty,
                    )[0]
                })
                .collect();
            assert_eq!(values(&r, ty), expected, "add {}", ty.name());
            let r = indexed(&t, ty, &idx, NxType::S64, &upd, ty, &[0, 1], false, ty).unwrap();
            assert_eq!(values(&r, ty)[1], one, "put {}", ty.name());
        }
    }

    #[test]
    fn unsigned_add_wraps_in_its_width() {
        let t = Tensor::from_slice(&[-1i16, 5]); // u16: 65535, 5
        let idx = Tensor::from_slice(&[0i64]).f_reshape([1, 1]).unwrap();
        let upd = Tensor::from_slice(&[2i16]);
        let r = indexed(
            &t,
            NxType::U16,
            &idx,
            NxType::S64,
            &upd,
            NxType::U16,
            &[0],
            true,
            NxType::U16,
        )
        .unwrap();
        assert_eq!(values(&r, NxType::U16), vec![1, 5]);
        let t = Tensor::from_slice(&[15u8, 1]); // u4
        let upd = Tensor::from_slice(&[3u8]);
        let r = indexed(
            &t,
            NxType::U4,
            &idx,
            NxType::S64,
            &upd,
            NxType::U4,
            &[0],
            true,
            NxType::U4,
        )
        .unwrap();
        assert_eq!(ints(&r), vec![2, 1]);
    }

    #[test]
    fn indexed_windows_and_clamping() {
        let t = iota(&[2, 3], NxType::S32);
        // one window of 2 along axis 1 at row 5 (clamped to 1)
        let idx = Tensor::from_slice(&[5i64]).f_reshape([1, 1]).unwrap();
        let upd = Tensor::from_slice(&[10i32, 20]).f_reshape([1, 2]).unwrap();
        let r = indexed(
            &t,
            NxType::S32,
            &idx,
            NxType::S64,
            &upd,
            NxType::S32,
            &[0],
            false,
            NxType::S32,
        )
        .unwrap();
        assert_eq!(ints(&r), vec![0, 1, 2, 10, 20, 5]);
        let bad = Tensor::from_slice(&[10i32, 20, 30, 40])
            .f_reshape([1, 4])
            .unwrap();
        assert!(indexed(
            &t,
            NxType::S32,
            &idx,
            NxType::S64,
            &bad,
            NxType::S32,
            &[0],
            false,
            NxType::S32
        )
        .is_err());
    }

    #[test]
    fn put_slice_clamps_and_converts() {
        let t = iota(&[2, 3], NxType::S32);
        let u = Tensor::from_slice(&[7.5f32, 8.5])
            .f_reshape([1, 2])
            .unwrap();
        let r = put_slice(&t, NxType::S32, &[9, 9], &u, NxType::F32, NxType::F32).unwrap();
        assert_eq!(r.f_kind().unwrap(), Kind::Float);
        assert_eq!(ints(&r.f_mul_scalar(2).unwrap()), vec![0, 2, 4, 6, 15, 17]);
        assert_eq!(ints(&t), vec![0, 1, 2, 3, 4, 5]);
    }
}
