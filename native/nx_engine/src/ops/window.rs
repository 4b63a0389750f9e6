//! Window operations with Nx semantics: window_sum/product/max/min, the windows themselves
//! (for `window_reduce` with an Elixir function) and window_scatter_max/min.
//!
//! A window is a view: the padded input is unfolded once per axis (`unfold` appends the window
//! axis last, sliced by the dilation), so `[out..., window...]` costs no copy and the reduction
//! runs over the trailing axes. Padding uses the reduction's identity in the result type (0 for
//! sums, 1 for products, the type's lowest value for max, its highest for min), as Nx does.
//! Values are reduced in a kind LibTorch computes with (f16/bf16/f8 in f32, u16/u32 widened,
//! u64 compared with its sign bit flipped) and cast back to the output type.
use super::convert::{cast, to_compute};
use super::index::{movable, restore};
use super::{check_allocation, checked_numel, shape};
use crate::error::{EngineError, Result, TorchContext};
use crate::runtime::prepare_thread;
use crate::types::NxType;
use tch::{Kind, Scalar, Tensor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowOp {
    Sum,
    Product,
    Max,
    Min,
}

impl WindowOp {
    fn name(self) -> &'static str {
        match self {
            WindowOp::Sum => "window_sum",
            WindowOp::Product => "window_product",
            WindowOp::Max => "window_max",
            WindowOp::Min => "window_min",
        }
    }
}

/// Window sizes, strides, `{low, high}` padding and window dilations, one per axis.
#[derive(Clone, Copy, Debug)]
pub struct Window<'a> {
    pub dims: &'a [i64],
    pub strides: &'a [i64],
    pub padding: &'a [(i64, i64)],
    pub dilations: &'a [i64],
}

impl Window<'_> {
    /// Validates the window against `shape` and returns the output shape.
    fn output_shape(&self, op: &str, shape: &[i64]) -> Result<Vec<i64>> {
        let rank = shape.len();
        if self.dims.len() != rank
            || self.strides.len() != rank
            || self.padding.len() != rank
            || self.dilations.len() != rank
        {
            return Err(EngineError::argument(format!(
                "{op}: window {:?}, strides {:?}, padding {:?} and dilations {:?} must have one \
                 entry per axis of shape {shape:?}",
                self.dims, self.strides, self.padding, self.dilations
            )));
        }
        let mut out = Vec::with_capacity(rank);
        for axis in 0..rank {
            let (w, s, d) = (self.dims[axis], self.strides[axis], self.dilations[axis]);
            let (lo, hi) = self.padding[axis];
            if w < 1 || s < 1 || d < 1 {
                return Err(EngineError::argument(format!(
                    "{op}: window sizes, strides and dilations must be positive, got {:?}, \
                     {:?} and {:?}",
                    self.dims, self.strides, self.dilations
                )));
            }
            let padded = shape[axis].checked_add(lo).and_then(|p| p.checked_add(hi));
            let span = (w - 1).checked_mul(d).and_then(|x| x.checked_add(1));
            match (padded, span) {
                (Some(p), Some(span)) if p >= span => out.push((p - span) / s + 1),
                _ => {
                    return Err(EngineError::argument(format!(
                        "{op}: window {:?} with dilations {:?} does not fit in shape {shape:?} \
                         padded by {:?}",
                        self.dims, self.dilations, self.padding
                    )))
                }
            }
        }
        Ok(out)
    }

    /// `[out..., window...]` view of an already padded tensor.
    fn view(&self, padded: &Tensor) -> Result<Tensor> {
        let mut v = padded.shallow_clone();
        for axis in 0..self.dims.len() {
            let (w, s, d) = (self.dims[axis], self.strides[axis], self.dilations[axis]);
            let span = (w - 1) * d + 1;
            v = v.f_unfold(axis as i64, span, s).ctx("window")?;
            if d > 1 {
                v = v.f_slice(-1, 0, span, d).ctx("window")?;
            }
        }
        Ok(v)
    }

    fn has_padding(&self) -> bool {
        self.padding.iter().any(|&(lo, hi)| lo != 0 || hi != 0)
    }
}

/// Pads `x` (stored as `ty`) with the one-element `value` (stored as `ty`).
fn pad_with(x: &Tensor, ty: NxType, value: &Tensor, window: &Window) -> Result<Tensor> {
    if !window.has_padding() {
        return Ok(x.shallow_clone());
    }
    let config: Vec<(i64, i64, i64)> = window.padding.iter().map(|&(l, h)| (l, h, 0)).collect();
    shape::pad(x, ty, value, ty, &config, ty)
}

fn scalar_tensor(value: Scalar, kind: Kind, like: &Tensor) -> Result<Tensor> {
    let empty: [i64; 0] = [];
    Tensor::f_full(empty.as_slice(), value, (kind, like.device())).ctx("window")
}

/// Values in a kind that LibTorch reduces and compares, with the type they represent.
fn reducible(t: &Tensor, ty: NxType) -> Result<(Tensor, NxType)> {
    let (x, cty) = to_compute(t, ty)?;
    match cty {
        NxType::F16 | NxType::BF16 => Ok((x.f_to_kind(Kind::Float).ctx("window")?, NxType::F32)),
        _ => Ok((x, cty)),
    }
}

/// Unsigned 64-bit order mapped onto signed order (an involution).
fn flip_sign(x: &Tensor) -> Result<Tensor> {
    x.f_bitwise_xor(i64::MIN).ctx("window")
}

/// The lowest (`highest == false`) or highest value of an Nx type (u64 values are compared
/// flipped, so their extremes are i64's).
fn extreme(ty: NxType, highest: bool) -> Scalar {
    let (lo, hi): (i64, i64) = match ty {
        NxType::S2 => (-2, 1),
        NxType::S4 => (-8, 7),
        NxType::S8 => (i8::MIN as i64, i8::MAX as i64),
        NxType::S16 => (i16::MIN as i64, i16::MAX as i64),
        NxType::S32 => (i32::MIN as i64, i32::MAX as i64),
        NxType::S64 | NxType::U64 => (i64::MIN, i64::MAX),
        NxType::U2 => (0, 3),
        NxType::U4 => (0, 15),
        NxType::U8 => (0, u8::MAX as i64),
        NxType::U16 => (0, u16::MAX as i64),
        NxType::U32 => (0, u32::MAX as i64),
        NxType::F8E4M3FN => {
            return Scalar::float(if highest { 448.0 } else { -448.0 });
        }
        _ => {
            return Scalar::float(if highest {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            });
        }
    };
    Scalar::int(if highest { hi } else { lo })
}

/// window_sum, window_product, window_max and window_min of `t` (stored as `ty`), in `out`.
pub fn window_reduce(
    t: &Tensor,
    ty: NxType,
    op: WindowOp,
    window: &Window,
    out: NxType,
) -> Result<Tensor> {
    prepare_thread();
    let name = op.name();
    let shape = t.size();
    let out_shape = window.output_shape(name, &shape)?;
    check_allocation(&out_shape, out, t.device())?;
    if matches!(op, WindowOp::Max | WindowOp::Min) && out.is_complex() {
        return Err(EngineError::argument(format!(
            "{name} is not defined for complex type {}",
            out.name()
        )));
    }
    let x = cast(t, ty, out)?;
    if shape.is_empty() {
        return Ok(x);
    }
    let (x, cty) = reducible(&x, out)?;
    let unsigned64 = cty == NxType::U64 && matches!(op, WindowOp::Max | WindowOp::Min);
    let x = if unsigned64 { flip_sign(&x)? } else { x };
    let kind = x.f_kind().ctx(name)?;
    let work = if unsigned64 { NxType::S64 } else { cty };
    let padded = if window.has_padding() {
        let value = match op {
            WindowOp::Sum => Scalar::int(0),
            WindowOp::Product => Scalar::int(1),
            WindowOp::Max => extreme(out, false),
            WindowOp::Min => extreme(out, true),
        };
        pad_with(&x, work, &scalar_tensor(value, kind, &x)?, window)?
    } else {
        x
    };
    let v = window.view(&padded)?;
    let rank = shape.len() as i64;
    let axes: Vec<i64> = (rank..2 * rank).collect();
    let r = match op {
        WindowOp::Sum => v
            .f_sum_dim_intlist(axes.as_slice(), false, kind)
            .ctx(name)?,
        WindowOp::Max => v.f_amax(axes.as_slice(), false).ctx(name)?,
        WindowOp::Min => v.f_amin(axes.as_slice(), false).ctx(name)?,
        WindowOp::Product => {
            let mut acc = v;
            for _ in 0..rank {
                acc = acc.f_prod_dim_int(-1, false, kind).ctx(name)?;
            }
            acc
        }
    };
    let r = if unsigned64 { flip_sign(&r)? } else { r };
    cast(&r, cty, out)
}

/// The windows of `t` (stored as `ty`) padded with `value`, as `[output size, window size]` in
/// `ty`: what `window_reduce` with an Elixir function folds, one row per output element.
pub fn windows(
    t: &Tensor,
    ty: NxType,
    value: &Tensor,
    value_ty: NxType,
    window: &Window,
) -> Result<Tensor> {
    prepare_thread();
    let op = "window_reduce";
    let shape = t.size();
    let out_shape = window.output_shape(op, &shape)?;
    let per_window = checked_numel(window.dims)?;
    let full = [checked_numel(&out_shape)?, per_window];
    check_allocation(&full, ty, t.device())?;
    if value.numel() != 1 {
        return Err(EngineError::argument(format!(
            "{op}: the accumulator must be a scalar, got shape {:?}",
            value.size()
        )));
    }
    let padded = if window.has_padding() {
        let config: Vec<(i64, i64, i64)> = window.padding.iter().map(|&(l, h)| (l, h, 0)).collect();
        shape::pad(t, ty, value, value_ty, &config, ty)?
    } else {
        t.shallow_clone()
    };
    let v = window.view(&movable(&padded, ty)?)?;
    let r = v.f_reshape(full).ctx(op)?;
    restore(super::contiguous(r)?, ty)
}

/// window_scatter_max (`max`) or window_scatter_min: in each window of `t` (stored as `ty`)
/// select the last position holding the largest (smallest) value and add the window's
/// `source` value there; every other position holds `init`. Padding positions are never
/// selected. The result has `t`'s shape and type `out`.
#[allow(clippy::too_many_arguments)]
pub fn window_scatter(
    t: &Tensor,
    ty: NxType,
    source: &Tensor,
    source_ty: NxType,
    init: &Tensor,
    init_ty: NxType,
    max: bool,
    window: &Window,
    out: NxType,
) -> Result<Tensor> {
    prepare_thread();
    let op = if max {
        "window_scatter_max"
    } else {
        "window_scatter_min"
    };
    let shape = t.size();
    let out_shape = window.output_shape(op, &shape)?;
    if source.size() != out_shape {
        return Err(EngineError::argument(format!(
            "{op}: source shape {:?} must match the windows of shape {shape:?}, {out_shape:?}",
            source.size()
        )));
    }
    if init.numel() != 1 {
        return Err(EngineError::argument(format!(
            "{op}: the initial value must be a scalar, got shape {:?}",
            init.size()
        )));
    }
    if ty.is_complex() || out.is_complex() {
        return Err(EngineError::argument(format!(
            "{op} is not defined for complex types"
        )));
    }
    check_allocation(&shape, out, t.device())?;
    let device = t.device();
    let numel = checked_numel(&shape)?;
    let rank = shape.len();
    if rank == 0 {
        // a single window of one element: it is always selected
        let s = cast(source, source_ty, out)?;
        let i = cast(init, init_ty, out)?;
        let (s, cty) = reducible(&s, out)?;
        let (i, _) = reducible(&i, out)?;
        let r = s.f_add(&i.f_to_device(device).ctx(op)?).ctx(op)?;
        return cast(&r, cty, out);
    }

    // the values, padded with anything: padding positions are masked out by index -1
    let (x, cty) = reducible(t, ty)?;
    let x = if cty == NxType::U64 {
        flip_sign(&x)?
    } else {
        x
    };
    let work = if cty == NxType::U64 { NxType::S64 } else { cty };
    let kind = x.f_kind().ctx(op)?;
    let x = pad_with(&x, work, &scalar_tensor(Scalar::int(0), kind, &x)?, window)?;
    let positions = Tensor::f_arange(numel, (Kind::Int64, device))
        .and_then(|p| p.f_reshape(shape.as_slice()))
        .ctx(op)?;
    let minus_one = scalar_tensor(Scalar::int(-1), Kind::Int64, &positions)?;
    let positions = pad_with(&positions, NxType::S64, &minus_one, window)?;

    let per_window = checked_numel(window.dims)?;
    let count = checked_numel(&out_shape)?;
    let values = window.view(&x)?.f_reshape([count, per_window]).ctx(op)?;
    let index = window
        .view(&positions)?
        .f_reshape([count, per_window])
        .ctx(op)?;
    let valid = index.f_ge(0).ctx(op)?;

    // candidates: valid, not NaN, equal to the window's extreme
    let float = values.is_floating_point();
    let comparable = if float {
        valid
            .f_logical_and(&values.f_isnan().ctx(op)?.f_logical_not().ctx(op)?)
            .ctx(op)?
    } else {
        valid.shallow_clone()
    };
    let neutral = extreme(if cty == NxType::U64 { NxType::S64 } else { cty }, !max);
    let neutral = scalar_tensor(neutral, kind, &values)?;
    let masked = values.f_where_self(&comparable, &neutral).ctx(op)?;
    let best = if max {
        masked.f_amax([1i64].as_slice(), true)
    } else {
        masked.f_amin([1i64].as_slice(), true)
    }
    .ctx(op)?;
    let candidates = comparable
        .f_logical_and(&values.f_eq_tensor(&best).ctx(op)?)
        .ctx(op)?;
    // the last candidate: the first one of the reversed window
    let last = candidates
        .f_flip([1i64].as_slice())
        .and_then(|c| c.f_to_kind(Kind::Uint8))
        .and_then(|c| c.f_argmax(1, true))
        .and_then(|j| j.f_neg())
        .and_then(|j| j.f_add_scalar(per_window - 1))
        .ctx(op)?;
    let chosen = if float {
        // a window whose first valid value is NaN selects it, as a sequential scan would
        let first_valid = valid
            .f_to_kind(Kind::Uint8)
            .and_then(|v| v.f_argmax(1, true))
            .ctx(op)?;
        let first_nan = values
            .f_isnan()
            .and_then(|n| n.f_gather(1, &first_valid, false))
            .ctx(op)?;
        first_valid.f_where_self(&first_nan, &last).ctx(op)?
    } else {
        last
    };
    let selected = index
        .f_gather(1, &chosen, false)
        .and_then(|s| s.f_reshape([count]))
        .ctx(op)?;

    let (src, ocompute) = reducible(&cast(source, source_ty, out)?, out)?;
    let src = src
        .f_to_device(device)
        .and_then(|s| s.f_reshape([count]))
        .ctx(op)?;
    let keep = selected.f_ge(0).ctx(op)?;
    let zero = scalar_tensor(Scalar::int(0), src.f_kind().ctx(op)?, &src)?;
    let src = src.f_where_self(&keep, &zero).ctx(op)?;
    let selected = selected.f_clamp_min(0).ctx(op)?;
    let (init, _) = reducible(&cast(init, init_ty, out)?, out)?;
    let init = init
        .f_to_device(device)
        .and_then(|i| i.f_reshape([1i64]))
        .ctx(op)?;
    let acc = init
        .f_expand([numel].as_slice(), false)
        .and_then(|i| i.f_contiguous())
        .and_then(|a| a.f_index_add(0, &selected, &src))
        .and_then(|a| a.f_reshape(shape.as_slice()))
        .ctx(op)?;
    cast(&acc, ocompute, out)
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

    fn win<'a>(
        dims: &'a [i64],
        strides: &'a [i64],
        padding: &'a [(i64, i64)],
        dilations: &'a [i64],
    ) -> Window<'a> {
        Window {
            dims,
            strides,
            padding,
            dilations,
        }
    }

    #[test]
    fn sum_with_padding_and_dilation() {
        let t = Tensor::from_slice(&[1i32, 2, 3, 4, 5]);
        let w = win(&[2], &[1], &[(1, 1)], &[2]);
        let r = window_reduce(&t, NxType::S32, WindowOp::Sum, &w, NxType::S32).unwrap();
        // padded: 0 1 2 3 4 5 0, windows (i, i + 2)
        assert_eq!(to_vec_i64(&r), vec![2, 4, 6, 8, 4]);
    }

    #[test]
    fn max_pads_with_the_lowest_value() {
        let t = Tensor::from_slice(&[3u8, 1]);
        let w = win(&[2], &[1], &[(1, 0)], &[1]);
        let r = window_reduce(&t, NxType::U8, WindowOp::Max, &w, NxType::U8).unwrap();
        assert_eq!(to_vec_i64(&r), vec![3, 3]);
        let w = win(&[2], &[1], &[(0, 2)], &[1]);
        let r = window_reduce(&t, NxType::U8, WindowOp::Min, &w, NxType::U8).unwrap();
        assert_eq!(to_vec_i64(&r), vec![1, 1, 255]);
    }

    #[test]
    fn u64_max_is_unsigned() {
        let t = Tensor::from_slice(&[-1i64, 5, 7]); // u64::MAX, 5, 7
        let w = win(&[2], &[1], &[(0, 0)], &[1]);
        let r = window_reduce(&t, NxType::U64, WindowOp::Max, &w, NxType::U64).unwrap();
        assert_eq!(to_vec_i64(&r), vec![-1, 7]);
    }

    #[test]
    fn scatter_max_picks_the_last_maximum() {
        let t = Tensor::from_slice(&[1i32, 3, 3, 2]);
        let s = Tensor::from_slice(&[10i32, 20]);
        let init = Tensor::from_slice(&[1i32]).reshape([0i64; 0].as_slice());
        let w = win(&[3], &[1], &[(0, 0)], &[1]);
        let r = window_scatter(
            &t,
            NxType::S32,
            &s,
            NxType::S32,
            &init,
            NxType::S32,
            true,
            &w,
            NxType::S32,
        )
        .unwrap();
        assert_eq!(to_vec_i64(&r), vec![1, 1, 31, 1]);
    }

    #[test]
    fn windows_of_a_padded_tensor() {
        let t = Tensor::from_slice(&[1i32, 2, 3]);
        let v = Tensor::from_slice(&[9i32]).reshape([0i64; 0].as_slice());
        let w = win(&[2], &[2], &[(1, 0)], &[1]);
        let r = windows(&t, NxType::S32, &v, NxType::S32, &w).unwrap();
        assert_eq!(r.size(), vec![2, 2]);
        assert_eq!(to_vec_i64(&r), vec![9, 1, 2, 3]);
    }
}
