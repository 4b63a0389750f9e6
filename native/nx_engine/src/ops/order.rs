//! Sorting along an axis and top-k. Keys are compared in a kind that orders like the Nx type
//! (u64 with its sign bit flipped, u16/u32 widened, f16/bf16/f8 as f32); values are then
//! gathered from the original tensor so every bit of every element is preserved.
use super::convert::{cast, to_compute};
use crate::error::{EngineError, Result, TorchContext};
use crate::runtime::prepare_thread;
use crate::types::NxType;
use tch::{Kind, Tensor};

fn sort_keys(t: &Tensor, ty: NxType) -> Result<Tensor> {
    if ty.is_complex() {
        return Err(EngineError::argument(format!(
            "sorting is not defined for complex type {}",
            ty.name()
        )));
    }
    let (x, cty) = to_compute(t, ty)?;
    match cty {
        NxType::U64 => x.f_bitwise_xor(i64::MIN).ctx("sort"),
        NxType::F16 | NxType::BF16 => x.f_to_kind(Kind::Float).ctx("sort"),
        _ => Ok(x),
    }
}

fn check_axis(op: &str, t: &Tensor, axis: i64) -> Result<()> {
    if axis < 0 || axis as usize >= t.dim() {
        return Err(EngineError::argument(format!(
            "{op}: axis {axis} is out of range for shape {:?}",
            t.size()
        )));
    }
    Ok(())
}

/// Indices (Int64) that sort `t` along `axis`.
pub fn argsort_indices(
    t: &Tensor,
    ty: NxType,
    axis: i64,
    descending: bool,
    stable: bool,
) -> Result<Tensor> {
    prepare_thread();
    check_axis("sort", t, axis)?;
    let keys = sort_keys(t, ty)?;
    let (_, indices) = keys.f_sort_stable(stable, axis, descending).ctx("sort")?;
    Ok(indices)
}

pub fn sort(t: &Tensor, ty: NxType, axis: i64, descending: bool, stable: bool) -> Result<Tensor> {
    let indices = argsort_indices(t, ty, axis, descending, stable)?;
    t.f_gather(axis, &indices, false).ctx("sort")
}

pub fn argsort(
    t: &Tensor,
    ty: NxType,
    axis: i64,
    descending: bool,
    stable: bool,
    out: NxType,
) -> Result<Tensor> {
    let indices = argsort_indices(t, ty, axis, descending, stable)?;
    cast(&indices, NxType::S64, out)
}

/// The `k` largest values along the last axis, in descending order, and their indices.
pub fn top_k(t: &Tensor, ty: NxType, k: i64, out_index: NxType) -> Result<(Tensor, Tensor)> {
    prepare_thread();
    let rank = t.dim();
    let last = t.size().last().copied().unwrap_or(0);
    if rank == 0 || k < 1 || k > last {
        return Err(EngineError::argument(format!(
            "top_k: k={k} is invalid for shape {:?}",
            t.size()
        )));
    }
    let axis = rank as i64 - 1;
    let keys = sort_keys(t, ty)?;
    let (_, indices) = keys.f_topk(k, axis, true, true).ctx("top_k")?;
    let values = t.f_gather(axis, &indices, false).ctx("top_k")?;
    Ok((values, cast(&indices, NxType::S64, out_index)?))
}
