//! Shape-only operations: the Elixir layer has already computed and validated the output
//! shape; these re-check what LibTorch relies on and build views where possible.
use super::{check_axes, check_same_numel};
use crate::error::{EngineError, Result, TorchContext};
use crate::runtime::prepare_thread;
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
