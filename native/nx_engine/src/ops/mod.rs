//! Operations, one module per family. Every public function validates its arguments before
//! LibTorch sees them and calls only tch's fallible `f_*` functions.
pub mod contract;
pub mod conv;
pub mod convert;
pub mod creation;
pub mod elementwise;
pub mod fft;
pub mod index;
pub mod linalg;
pub mod order;
pub mod reduce;
pub mod scan;
pub mod shape;
pub mod small_matmul;
pub mod window;

use crate::error::{EngineError, Result};
use crate::types::NxType;
use tch::{Device, Tensor};

/// Number of elements of a shape, rejecting negative dimensions and overflow.
pub fn checked_numel(shape: &[i64]) -> Result<i64> {
    shape.iter().try_fold(1i64, |acc, &dim| {
        if dim < 0 {
            return Err(EngineError::argument(format!(
                "invalid shape {shape:?}: dimensions must be non-negative"
            )));
        }
        acc.checked_mul(dim).ok_or_else(|| {
            EngineError::argument(format!("invalid shape {shape:?}: too many elements"))
        })
    })
}

/// Refuses allocations that cannot fit in this machine's memory, so that a huge shape raises
/// instead of waking the kernel's OOM killer.
pub fn check_allocation(shape: &[i64], ty: NxType, device: Device) -> Result<()> {
    let numel = checked_numel(shape)?;
    let bytes = (numel as u128) * (ty.storage_bytes() as u128);
    if device == Device::Cpu {
        let limit = physical_memory_bytes();
        if bytes > limit {
            return Err(EngineError::argument(format!(
                "cannot allocate a {} tensor of shape {shape:?}: {bytes} bytes exceed the \
                 machine's {limit} bytes of memory",
                ty.name()
            )));
        }
    }
    Ok(())
}

/// The machine's memory, read once: reading /proc/meminfo costs ~15 µs, more than a small op.
fn physical_memory_bytes() -> u128 {
    static TOTAL: once_cell::sync::Lazy<u128> = once_cell::sync::Lazy::new(read_memory_total);
    *TOTAL
}

fn read_memory_total() -> u128 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("MemTotal:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u128>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(u128::MAX)
}

/// Checks that an axis list is a valid permutation or subset of `0..rank`.
pub fn check_axes(op: &str, axes: &[i64], rank: usize, permutation: bool) -> Result<()> {
    let mut seen = vec![false; rank];
    for &axis in axes {
        let index = usize::try_from(axis)
            .ok()
            .filter(|&a| a < rank)
            .ok_or_else(|| {
                EngineError::argument(format!("{op}: axis {axis} is out of range for rank {rank}"))
            })?;
        if seen[index] {
            return Err(EngineError::argument(format!(
                "{op}: axis {axis} appears more than once in {axes:?}"
            )));
        }
        seen[index] = true;
    }
    if permutation && axes.len() != rank {
        return Err(EngineError::argument(format!(
            "{op}: expected {rank} axes, got {axes:?}"
        )));
    }
    Ok(())
}

/// Makes sure `tensor` has the shape `shape` claims, so a mismatch never reaches LibTorch.
pub fn check_same_numel(op: &str, from: &[i64], to: &[i64]) -> Result<()> {
    if checked_numel(from)? != checked_numel(to)? {
        return Err(EngineError::argument(format!(
            "{op}: cannot turn shape {from:?} into {to:?}: sizes differ"
        )));
    }
    Ok(())
}

pub(crate) fn contiguous(tensor: Tensor) -> Result<Tensor> {
    use crate::error::TorchContext;
    if tensor.is_contiguous() {
        Ok(tensor)
    } else {
        tensor.f_contiguous().ctx("contiguous")
    }
}
