//! Shape operations: the Elixir layer has already computed and validated the output shape;
//! these re-check what LibTorch relies on and build views where possible. Reshapes,
//! transposes and broadcasts are views; reverse, pad, concatenate and stack copy.
use super::convert::cast;
use super::index::{movable, restore};
use super::{check_allocation, check_axes, check_same_numel};
use crate::error::{EngineError, Result, TorchContext};
use crate::runtime::prepare_thread;
use crate::types::NxType;
use tch::Tensor;

pub fn reshape(t: &Tensor, shape: &[i64]) -> Result<Tensor> {
    prepare_thread();
    check_same_numel("reshape", &t.size(), shape)?;
    t.f_reshape(shape).ctx("reshape")
}

pub fn transpose(t: &Tensor, axes: &[i64]) -> Result<Tensor> {
    prepare_thread();
    check_axes("transpose", axes, t.dim(), true)?;
    t.f_permute(axes).ctx("transpose")
}

/// Broadcasts `t` to `shape`, where input axis i becomes output axis `axes[i]`.
pub fn broadcast(t: &Tensor, shape: &[i64], axes: &[i64]) -> Result<Tensor> {
    prepare_thread();
    let in_shape = t.size();
    if axes.len() != in_shape.len() {
        return Err(EngineError::argument(format!(
            "broadcast: {} axes given for a tensor of rank {}",
            axes.len(),
            in_shape.len()
        )));
    }
    check_axes("broadcast", axes, shape.len(), false)?;
    let mut view = vec![1i64; shape.len()];
    let mut last = -1i64;
    for (dim, &axis) in in_shape.iter().zip(axes) {
        let target = shape[axis as usize];
        if axis <= last || (*dim != 1 && *dim != target) {
            return Err(EngineError::argument(format!(
                "broadcast: cannot broadcast {in_shape:?} to {shape:?} with axes {axes:?}"
            )));
        }
        last = axis;
        view[axis as usize] = *dim;
    }
    t.f_reshape(view.as_slice())
        .and_then(|v| v.f_expand(shape, false))
        .ctx("broadcast")
}

/// Reverses the order of the elements along `axes`.
pub fn reverse(t: &Tensor, ty: NxType, axes: &[i64]) -> Result<Tensor> {
    prepare_thread();
    check_axes("reverse", axes, t.dim(), false)?;
    if axes.is_empty() {
        return Ok(t.shallow_clone());
    }
    let r = movable(t, ty)?.f_flip(axes).ctx("reverse")?;
    restore(r, ty)
}

/// Pads with `value` (a one-element tensor): `(low, high, interior)` per axis, where
/// negative `low`/`high` remove elements and `interior` inserts values between elements.
pub fn pad(
    t: &Tensor,
    ty: NxType,
    value: &Tensor,
    value_ty: NxType,
    config: &[(i64, i64, i64)],
    out: NxType,
) -> Result<Tensor> {
    prepare_thread();
    let op = "pad";
    let shape = t.size();
    if config.len() != shape.len() || value.numel() != 1 {
        return Err(EngineError::argument(format!(
            "pad: expected one (low, high, interior) per axis of {shape:?} and a scalar value"
        )));
    }
    let mut out_shape = Vec::with_capacity(shape.len());
    for (&dim, &(low, high, interior)) in shape.iter().zip(config) {
        let size = (dim - 1)
            .max(0)
            .checked_mul(interior)
            .and_then(|inner| inner.checked_add(dim))
            .and_then(|s| s.checked_add(low))
            .and_then(|s| s.checked_add(high));
        match size {
            Some(size) if interior >= 0 && size >= 0 => out_shape.push(size),
            _ => {
                return Err(EngineError::argument(format!(
                    "pad: invalid padding {config:?} for shape {shape:?}"
                )))
            }
        }
    }
    check_allocation(&out_shape, out, t.device())?;
    let x = movable(&cast(t, ty, out)?, out)?;
    let v = movable(&cast(value, value_ty, out)?, out)?;
    let v = if v.device() != x.device() {
        v.f_to_device(x.device()).ctx(op)?
    } else {
        v
    };
    let ones = vec![1i64; shape.len()];
    // a fresh tensor: the result is written in place and must not share the inputs' storage
    let mut filled =
        Tensor::f_empty(out_shape.as_slice(), (x.f_kind().ctx(op)?, x.device())).ctx(op)?;
    filled
        .f_copy_(&v.f_reshape(ones.as_slice()).ctx(op)?)
        .ctx(op)?;
    // the input elements that land inside the output, and where they land
    let mut dst = filled.shallow_clone();
    let mut src = x;
    for (axis, ((&dim, &(low, _, interior)), &size)) in
        shape.iter().zip(config).zip(&out_shape).enumerate()
    {
        let step = interior + 1;
        let first = if low >= 0 {
            0
        } else {
            (-low + step - 1) / step
        };
        let last_pos = size - 1 - low;
        let last = if last_pos < 0 {
            -1
        } else {
            (last_pos / step).min(dim - 1)
        };
        let count = last - first + 1;
        if count <= 0 {
            return restore(filled, out);
        }
        let start = low + first * step;
        let axis = axis as i64;
        dst = dst
            .f_slice(axis, start, start + (count - 1) * step + 1, step)
            .ctx(op)?;
        src = src.f_narrow(axis, first, count).ctx(op)?;
    }
    dst.f_copy_(&src).ctx(op)?;
    restore(filled, out)
}

fn join_inputs(op: &str, inputs: &[(Tensor, NxType)], out: NxType) -> Result<Vec<Tensor>> {
    let Some((first, _)) = inputs.first() else {
        return Err(EngineError::argument(format!("{op}: no tensors given")));
    };
    let device = first.device();
    inputs
        .iter()
        .map(|(t, ty)| {
            let x = movable(&cast(t, *ty, out)?, out)?;
            if x.device() != device {
                x.f_to_device(device).ctx("concatenate")
            } else {
                Ok(x)
            }
        })
        .collect()
}

/// Joins tensors along an existing axis, converting each to `out`.
pub fn concatenate(inputs: &[(Tensor, NxType)], axis: i64, out: NxType) -> Result<Tensor> {
    prepare_thread();
    let tensors = join_inputs("concatenate", inputs, out)?;
    let first = tensors[0].size();
    check_axes("concatenate", &[axis], first.len(), false)?;
    for t in &tensors {
        let s = t.size();
        let fits =
            s.len() == first.len() && (0..s.len()).all(|d| d == axis as usize || s[d] == first[d]);
        if !fits {
            return Err(EngineError::argument(format!(
                "concatenate: shape {s:?} does not match {first:?} outside axis {axis}"
            )));
        }
    }
    let r = Tensor::f_cat(&tensors, axis).ctx("concatenate")?;
    restore(r, out)
}

/// Joins tensors of one shape along a new axis at position `axis`, converting each to `out`.
pub fn stack(inputs: &[(Tensor, NxType)], axis: i64, out: NxType) -> Result<Tensor> {
    prepare_thread();
    let tensors = join_inputs("stack", inputs, out)?;
    let first = tensors[0].size();
    if axis < 0 || axis as usize > first.len() {
        return Err(EngineError::argument(format!(
            "stack: axis {axis} is out of range for rank {}",
            first.len()
        )));
    }
    if tensors.iter().any(|t| t.size() != first) {
        return Err(EngineError::argument(
            "stack: all tensors must have the same shape",
        ));
    }
    let r = Tensor::f_stack(&tensors, axis).ctx("stack")?;
    restore(r, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ALL_TYPES;
    use tch::Kind;

    fn ints(t: &Tensor) -> Vec<i64> {
        let t = t.f_to_kind(Kind::Int64).unwrap().f_reshape([-1]).unwrap();
        let n = t.numel();
        let mut v = vec![0i64; n];
        t.f_copy_data(&mut v, n).unwrap();
        v
    }

    #[test]
    fn pad_negative_and_interior() {
        let t = Tensor::from_slice(&[1i32, 2, 3]);
        let zero = Tensor::from_slice(&[0i32]);
        let r = pad(
            &t,
            NxType::S32,
            &zero,
            NxType::S32,
            &[(1, 2, 1)],
            NxType::S32,
        )
        .unwrap();
        assert_eq!(ints(&r), vec![0, 1, 0, 2, 0, 3, 0, 0]);
        let r = pad(
            &t,
            NxType::S32,
            &zero,
            NxType::S32,
            &[(-2, 1, 1)],
            NxType::S32,
        )
        .unwrap();
        assert_eq!(ints(&r), vec![2, 0, 3, 0]);
        let r = pad(
            &t,
            NxType::S32,
            &zero,
            NxType::S32,
            &[(-1, -1, 0)],
            NxType::S32,
        )
        .unwrap();
        assert_eq!(ints(&r), vec![2]);
        let r = pad(
            &t,
            NxType::S32,
            &zero,
            NxType::S32,
            &[(-6, 4, 0)],
            NxType::S32,
        )
        .unwrap();
        assert_eq!(ints(&r), vec![0]);
        assert!(pad(
            &t,
            NxType::S32,
            &zero,
            NxType::S32,
            &[(-4, 0, 0)],
            NxType::S32
        )
        .is_err());
        assert!(pad(
            &t,
            NxType::S32,
            &zero,
            NxType::S32,
            &[(0, 0, -1)],
            NxType::S32
        )
        .is_err());
    }

    /// `vals` as they read back after a round trip through `ty` (sub-byte types wrap)
    fn rt(vals: &[i64], ty: NxType) -> Vec<i64> {
        let t = cast(&Tensor::from_slice(vals), NxType::S64, ty).unwrap();
        ints(&cast(&t, ty, NxType::S64).unwrap())
    }

    #[test]
    fn pad_reverse_join_every_type() {
        for ty in ALL_TYPES {
            let t = cast(&Tensor::from_slice(&[1i64, 2]), NxType::S64, ty).unwrap();
            let v = cast(&Tensor::from_slice(&[3i64]), NxType::S64, ty).unwrap();
            let r = pad(&t, ty, &v, ty, &[(1, 0, 1)], ty).unwrap();
            assert_eq!(
                ints(&cast(&r, ty, NxType::S64).unwrap()),
                rt(&[3, 1, 3, 2], ty),
                "{}",
                ty.name()
            );
            let r = reverse(&t, ty, &[0]).unwrap();
            assert_eq!(
                ints(&cast(&r, ty, NxType::S64).unwrap()),
                rt(&[2, 1], ty),
                "{}",
                ty.name()
            );
            let inputs = [(t.shallow_clone(), ty), (v.shallow_clone(), ty)];
            let r = concatenate(&inputs, 0, ty).unwrap();
            assert_eq!(
                ints(&cast(&r, ty, NxType::S64).unwrap()),
                rt(&[1, 2, 3], ty),
                "{}",
                ty.name()
            );
            let inputs = [(t.shallow_clone(), ty), (t.shallow_clone(), ty)];
            let r = stack(&inputs, 1, ty).unwrap();
            assert_eq!(r.size(), vec![2, 2]);
            assert_eq!(
                ints(&cast(&r, ty, NxType::S64).unwrap()),
                rt(&[1, 1, 2, 2], ty),
                "{}",
                ty.name()
            );
        }
    }

    #[test]
    fn join_converts_types() {
        let a = Tensor::from_slice(&[1u8]);
        let b = Tensor::from_slice(&[-1i64]);
        let r = concatenate(&[(a, NxType::U8), (b, NxType::S64)], 0, NxType::F64).unwrap();
        assert_eq!(r.f_kind().unwrap(), Kind::Double);
        assert_eq!(ints(&r), vec![1, -1]);
        let a = Tensor::from_slice(&[1i32, 2]);
        let b = Tensor::from_slice(&[1i32]);
        assert!(stack(
            &[(a.shallow_clone(), NxType::S32), (b, NxType::S32)],
            0,
            NxType::S32
        )
        .is_err());
        assert!(concatenate(&[(a, NxType::S32)], 1, NxType::S32).is_err());
    }
}
