//! Cumulative operations along an axis (sum, product, max, min), optionally from the end.
use super::convert::{cast, to_compute};
use crate::error::{EngineError, Result, TorchContext};
use crate::runtime::prepare_thread;
use crate::types::NxType;
use tch::{Kind, Tensor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scan {
    Sum,
    Product,
    Max,
    Min,
}

pub fn cumulative(
    t: &Tensor,
    ty: NxType,
    op: Scan,
    axis: i64,
    reverse: bool,
    out: NxType,
) -> Result<Tensor> {
    prepare_thread();
    let name = "cumulative";
    if axis < 0 || axis as usize >= t.dim() {
        return Err(EngineError::argument(format!(
            "{name}: axis {axis} is out of range for shape {:?}",
            t.size()
        )));
    }
    if out.is_complex() && matches!(op, Scan::Max | Scan::Min) {
        return Err(EngineError::argument(
            "cumulative_max/cumulative_min are not defined for complex types",
        ));
    }
    let x = cast(t, ty, out)?;
    let (x, cty) = to_compute(&x, out)?;
    let (x, cty) = match cty {
        NxType::F16 | NxType::BF16 => (x.f_to_kind(Kind::Float).ctx(name)?, NxType::F32),
        _ => (x, cty),
    };
    let unsigned64 = cty == NxType::U64 && matches!(op, Scan::Max | Scan::Min);
    let x = if unsigned64 {
        x.f_bitwise_xor(i64::MIN).ctx(name)?
    } else {
        x
    };
    let x = if reverse {
        x.f_flip([axis]).ctx(name)?
    } else {
        x
    };
    let kind = x.f_kind().ctx(name)?;
    let r = match op {
        Scan::Sum => x.f_cumsum(axis, kind),
        Scan::Product => x.f_cumprod(axis, kind),
        Scan::Max => x.f_cummax(axis).map(|(values, _)| values),
        Scan::Min => x.f_cummin(axis).map(|(values, _)| values),
    }
    .ctx(name)?;
    let r = if reverse {
        r.f_flip([axis]).ctx(name)?
    } else {
        r
    };
    let r = if unsigned64 {
        r.f_bitwise_xor(i64::MIN).ctx(name)?
    } else {
        r
    };
    cast(&r, cty, out)
}
