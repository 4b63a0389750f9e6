//! A fused kernel evaluated with LibTorch's operations, one whole tensor per micro-op, on the
//! inputs' device. This is the CUDA path's fallback (NVRTC missing, a kernel that does not
//! compile, or one that disagreed with this evaluation when first checked) and the reference
//! the generated CUDA kernels are checked against; it runs on the CPU too, where the tests
//! compare it with the cache-blocked executor.
use super::fuse::{Kernel, Loc};
use super::kernels::FOp;
use super::Out;
use crate::error::{EngineError, Result, TorchContext};
use crate::ops::convert::cast;
use crate::types::NxType;
use std::collections::HashMap;
use tch::{Kind, Tensor};

/// The element shape the micro-ops work in: `[rows, row_len]` for row kernels (so row values,
/// `[rows, 1]`, broadcast against it), `[numel]` otherwise.
fn element_shape(kernel: &Kernel) -> Result<Vec<i64>> {
    let n = kernel.numel as i64;
    match kernel.row_len {
        0 => Ok(vec![n]),
        r if kernel.numel.is_multiple_of(r) => Ok(vec![n / r as i64, r as i64]),
        _ => Err(EngineError::argument("fused: rows do not tile the kernel")),
    }
}

/// Input `i` as an f32 tensor of the element shape: element `e` is element
/// `(e / repeat) % period` of the input.
fn full_input(kernel: &Kernel, i: usize, t: &Tensor, ty: NxType, shape: &[i64]) -> Result<Tensor> {
    let (period, repeat) = (kernel.periods[i], kernel.repeats[i]);
    let span = period.saturating_mul(repeat);
    if t.numel() != period || span == 0 || !kernel.numel.is_multiple_of(span) {
        return Err(EngineError::argument(format!(
            "fused: input {i} does not match the kernel's layout"
        )));
    }
    let outer = (kernel.numel / span) as i64;
    cast(t, ty, NxType::F32)?
        .f_reshape([1, period as i64, 1])
        .and_then(|v| v.f_expand([outer, period as i64, repeat as i64], false))
        .and_then(|v| v.f_reshape(shape))
        .ctx("fused")
}

fn mask(
    t: std::result::Result<Tensor, tch::TchError>,
) -> std::result::Result<Tensor, tch::TchError> {
    t.and_then(|m| m.f_to_kind(Kind::Float))
}

/// One micro-op on whole tensors. Row reductions keep their axis, so row values broadcast.
fn apply(op: FOp, a: &Tensor, b: &Tensor, c: &Tensor) -> Result<Tensor> {
    let r = match op {
        FOp::Add => a.f_add(b),
        FOp::Sub => a.f_sub(b),
        FOp::Mul => a.f_mul(b),
        FOp::Div => a.f_div(b),
        FOp::Max => a.f_maximum(b),
        FOp::Min => a.f_minimum(b),
        FOp::Neg => a.f_neg(),
        FOp::Abs => a.f_abs(),
        FOp::Exp => a.f_exp(),
        FOp::ExpSub => a.f_sub(b).and_then(|d| d.f_exp()),
        FOp::Log => a.f_log(),
        FOp::Tanh => a.f_tanh(),
        FOp::Sigmoid => a.f_sigmoid(),
        FOp::Sqrt => a.f_sqrt(),
        FOp::Rsqrt => a.f_rsqrt(),
        FOp::Copy => Ok(a.shallow_clone()),
        FOp::Eq => mask(a.f_eq_tensor(b)),
        FOp::Ne => mask(a.f_ne_tensor(b)),
        FOp::Lt => mask(a.f_lt_tensor(b)),
        FOp::Gt => mask(a.f_gt_tensor(b)),
        FOp::Le => mask(a.f_le_tensor(b)),
        FOp::Ge => mask(a.f_ge_tensor(b)),
        FOp::Select => a.f_ne(0.0).and_then(|p| b.f_where_self(&p, c)),
        FOp::RowSum => a.f_sum_dim_intlist([-1i64].as_slice(), true, Kind::Float),
        FOp::RowMax => a.f_amax([-1i64].as_slice(), true),
        FOp::RowMin => a.f_amin([-1i64].as_slice(), true),
        FOp::RoundF16 => a
            .f_to_kind(Kind::Half)
            .and_then(|h| h.f_to_kind(Kind::Float)),
        FOp::RoundBF16 => a
            .f_to_kind(Kind::BFloat16)
            .and_then(|h| h.f_to_kind(Kind::Float)),
    };
    r.ctx("fused")
}

/// Runs `kernel` with LibTorch: `inputs` are the fused instruction's args (whole tensors of the
/// kernel's input types, then single elements), `outs` its result templates. The results are
/// on the inputs' device.
pub fn run(kernel: &Kernel, inputs: Vec<(Tensor, NxType)>, outs: &[Out]) -> Result<Vec<Tensor>> {
    if inputs.len() != kernel.n_full + kernel.scalar_types.len() {
        return Err(EngineError::argument("fused: wrong number of inputs"));
    }
    let shape = element_shape(kernel)?;
    let mut vals: HashMap<Loc, Tensor> = HashMap::new();
    for (i, (t, ty)) in inputs.iter().enumerate() {
        if i < kernel.n_full {
            if *ty != kernel.full_types[i] {
                return Err(EngineError::argument(format!(
                    "fused: input {i} has the wrong type"
                )));
            }
            vals.insert(Loc::In(i), full_input(kernel, i, t, *ty, &shape)?);
        } else {
            if t.numel() != 1 || ty.is_complex() {
                return Err(EngineError::argument("fused: expected a single element"));
            }
            // stays on the device: no transfer per scalar
            let s = cast(t, *ty, NxType::F32)?
                .f_reshape([0i64; 0])
                .ctx("fused")?;
            vals.insert(Loc::Scalar(i - kernel.n_full), s);
        }
    }
    for m in &kernel.ops {
        let get = |l: Loc| {
            vals.get(&l)
                .ok_or_else(|| EngineError::argument("fused: a micro-op reads an unset value"))
        };
        let v = apply(m.op, get(m.a)?, get(m.b)?, get(m.c)?)?;
        vals.insert(m.dst, v);
    }
    let rows = shape.first().copied().unwrap_or(0);
    outs.iter()
        .enumerate()
        .map(|(o, out)| {
            let (v, full) = match (vals.get(&Loc::Out(o)), vals.get(&Loc::RowOut(o))) {
                (Some(v), _) => (v, shape.clone()),
                (None, Some(v)) => (v, vec![rows, 1]),
                _ => return Err(EngineError::argument("fused: an output was never written")),
            };
            let kind = match out.ty {
                NxType::F32 | NxType::U8 | NxType::F16 | NxType::BF16 => out.ty.storage_kind(),
                _ => return Err(EngineError::argument("fused: bad output template")),
            };
            v.f_broadcast_to(full.as_slice())
                .and_then(|v| v.f_to_kind(kind))
                .and_then(|v| v.f_reshape(out.shape.as_slice()))
                .and_then(|v| v.f_contiguous())
                .ctx("fused")
        })
        .collect()
}
