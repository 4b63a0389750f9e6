//! The binary element-wise operations, `select` and `clip`.
use super::{
    bits_type, broadcast_shapes, broadcasts_to, common_device, fetch, finish, flip_sign,
    kernel_type, merge, prepare, u64_divmod, u64_ge, u64_gt,
};
use crate::error::{EngineError, Result, TorchContext};
use crate::ops::convert::{cast, to_compute};
use crate::runtime::prepare_thread;
use crate::tensor::NxTensor;
use crate::types::NxType;
use tch::{Device, Kind, Tensor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Subtract,
    Multiply,
    Pow,
    Remainder,
    Divide,
    Quotient,
    Atan2,
    Max,
    Min,
    BitwiseAnd,
    BitwiseOr,
    BitwiseXor,
    LeftShift,
    RightShift,
    Equal,
    NotEqual,
    Greater,
    Less,
    GreaterEqual,
    LessEqual,
    LogicalAnd,
    LogicalOr,
    LogicalXor,
}

impl BinaryOp {
    pub const ALL: [BinaryOp; 24] = [
        BinaryOp::Add,
        BinaryOp::Subtract,
        BinaryOp::Multiply,
        BinaryOp::Pow,
        BinaryOp::Remainder,
        BinaryOp::Divide,
        BinaryOp::Quotient,
        BinaryOp::Atan2,
        BinaryOp::Max,
        BinaryOp::Min,
        BinaryOp::BitwiseAnd,
        BinaryOp::BitwiseOr,
        BinaryOp::BitwiseXor,
        BinaryOp::LeftShift,
        BinaryOp::RightShift,
        BinaryOp::Equal,
        BinaryOp::NotEqual,
        BinaryOp::Greater,
        BinaryOp::Less,
        BinaryOp::GreaterEqual,
        BinaryOp::LessEqual,
        BinaryOp::LogicalAnd,
        BinaryOp::LogicalOr,
        BinaryOp::LogicalXor,
    ];

    /// The Nx function name.
    pub fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Subtract => "subtract",
            BinaryOp::Multiply => "multiply",
            BinaryOp::Pow => "pow",
            BinaryOp::Remainder => "remainder",
            BinaryOp::Divide => "divide",
            BinaryOp::Quotient => "quotient",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::Max => "max",
            BinaryOp::Min => "min",
            BinaryOp::BitwiseAnd => "bitwise_and",
            BinaryOp::BitwiseOr => "bitwise_or",
            BinaryOp::BitwiseXor => "bitwise_xor",
            BinaryOp::LeftShift => "left_shift",
            BinaryOp::RightShift => "right_shift",
            BinaryOp::Equal => "equal",
            BinaryOp::NotEqual => "not_equal",
            BinaryOp::Greater => "greater",
            BinaryOp::Less => "less",
            BinaryOp::GreaterEqual => "greater_equal",
            BinaryOp::LessEqual => "less_equal",
            BinaryOp::LogicalAnd => "logical_and",
            BinaryOp::LogicalOr => "logical_or",
            BinaryOp::LogicalXor => "logical_xor",
        }
    }

    pub fn from_name(name: &str) -> Option<BinaryOp> {
        BinaryOp::ALL.iter().copied().find(|op| op.name() == name)
    }

    fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Equal
                | BinaryOp::NotEqual
                | BinaryOp::Greater
                | BinaryOp::Less
                | BinaryOp::GreaterEqual
                | BinaryOp::LessEqual
        )
    }

    fn is_logical(self) -> bool {
        matches!(
            self,
            BinaryOp::LogicalAnd | BinaryOp::LogicalOr | BinaryOp::LogicalXor
        )
    }

    fn integer_only(self) -> bool {
        matches!(
            self,
            BinaryOp::Quotient
                | BinaryOp::BitwiseAnd
                | BinaryOp::BitwiseOr
                | BinaryOp::BitwiseXor
                | BinaryOp::LeftShift
                | BinaryOp::RightShift
        )
    }

    /// Operations whose result bits do not depend on signedness: they run on the stored bits.
    fn bit_exact(self) -> bool {
        matches!(
            self,
            BinaryOp::Add
                | BinaryOp::Subtract
                | BinaryOp::Multiply
                | BinaryOp::BitwiseAnd
                | BinaryOp::BitwiseOr
                | BinaryOp::BitwiseXor
                | BinaryOp::LeftShift
        )
    }

    fn rejects_complex(self) -> bool {
        matches!(
            self,
            BinaryOp::Remainder
                | BinaryOp::Max
                | BinaryOp::Min
                | BinaryOp::Greater
                | BinaryOp::Less
                | BinaryOp::GreaterEqual
                | BinaryOp::LessEqual
        )
    }
}

/// [`super::small`]'s fast path, when `a` and `b` are tiny same-shape CPU tensors of the
/// output's type.
fn tiny(op: BinaryOp, a: &NxTensor, b: &NxTensor, out: NxType) -> Result<Option<Tensor>> {
    let eligible = a.ty() == out
        && b.ty() == out
        && a.shape() == b.shape()
        && a.device() == Device::Cpu
        && b.device() == Device::Cpu
        && a.numel() as usize <= super::small::MAX_ELEMENTS;
    if !eligible {
        return Ok(None);
    }
    NxTensor::with_pair(a, b, |ta, tb| {
        super::small::try_binary(op, ta, tb, out, a.shape())
    })?
    .transpose()
}

/// [`binary`], wrapped: tiny same-shape CPU operands of the output's type take
/// [`super::small`]'s fast path, which knows the result's shape without asking LibTorch, and
/// large f32 arithmetic is deferred ([`crate::lazy`]).
pub fn binary_nx(op: BinaryOp, a: &NxTensor, b: &NxTensor, out: NxType) -> Result<NxTensor> {
    prepare_thread();
    // first: deferred row values are small, and the tiny path would compute them
    if let Some(deferred) = crate::lazy::binary(op, a, b, out, true)? {
        return Ok(deferred);
    }
    if let Some(t) = tiny(op, a, b, out)? {
        return Ok(NxTensor::from_parts(
            t,
            out,
            a.shape().to_vec(),
            Device::Cpu,
        ));
    }
    Ok(NxTensor::new(general(op, a, b, out)?, out))
}

/// Applies `op` element-wise to `a` and `b` (broadcast against each other) and returns a tensor
/// stored as `out`. Comparisons and logical operations compute in the inputs' own types and
/// give 1 or 0; all other operations convert the inputs to `out` first.
pub fn binary(op: BinaryOp, a: &NxTensor, b: &NxTensor, out: NxType) -> Result<Tensor> {
    prepare_thread();
    match tiny(op, a, b, out)? {
        Some(t) => Ok(t),
        None => general(op, a, b, out),
    }
}

/// [`binary`] past the tiny fast path.
fn general(op: BinaryOp, a: &NxTensor, b: &NxTensor, out: NxType) -> Result<Tensor> {
    let name = op.name();
    if a.shape() != b.shape() {
        broadcast_shapes(name, a.shape(), b.shape())?;
    }
    let device = common_device(name, &[a, b])?;
    let (a_ty, b_ty) = (a.ty(), b.ty());
    if op.rejects_complex() && (a_ty.is_complex() || b_ty.is_complex() || out.is_complex()) {
        return Err(EngineError::argument(format!(
            "{name} does not support complex inputs (got {} and {})",
            a_ty.name(),
            b_ty.name()
        )));
    }
    let ta = fetch(a, device)?;
    let tb = fetch(b, device)?;
    if op.is_comparison() {
        let r = compare(op, ta, a_ty, tb, b_ty, device)?;
        return bool_to(&r, out);
    }
    if op.is_logical() {
        let r = logical(op, ta, a_ty, tb, b_ty)?;
        return bool_to(&r, out);
    }
    if op.integer_only() && !out.is_integer() {
        return Err(EngineError::argument(format!(
            "{name} expects integer tensors as inputs and outputs an integer tensor, got: {}",
            out.name()
        )));
    }
    if matches!(op, BinaryOp::Divide | BinaryOp::Atan2) && out.is_integer() {
        return Err(EngineError::argument(format!(
            "{name} outputs a floating-point tensor, got output type {}",
            out.name()
        )));
    }
    let compute = if op.bit_exact() && out.is_integer() {
        bits_type(out)
    } else {
        kernel_type(out, device)
    };
    let x = prepare(ta, a_ty, out, compute)?;
    let y = prepare(tb, b_ty, out, compute)?;
    let r = arithmetic(op, &x, &y, compute)?;
    finish(r, compute, out)
}

fn arithmetic(op: BinaryOp, x: &Tensor, y: &Tensor, c: NxType) -> Result<Tensor> {
    let name = op.name();
    let u64 = c == NxType::U64;
    match op {
        BinaryOp::Add => x.f_add(y).ctx(name),
        BinaryOp::Subtract => x.f_sub(y).ctx(name),
        BinaryOp::Multiply => x.f_mul(y).ctx(name),
        BinaryOp::Divide => x.f_div(y).ctx(name),
        BinaryOp::Pow if u64 => {
            let e = u64_exponent(x, y)?;
            x.f_pow(&e).ctx(name)
        }
        BinaryOp::Pow => x.f_pow(y).ctx(name),
        BinaryOp::Remainder if c.is_integer() => int_divmod(x, y, c, false),
        BinaryOp::Remainder => x.f_fmod_tensor(y).ctx(name),
        BinaryOp::Quotient => int_divmod(x, y, c, true),
        BinaryOp::Atan2 if c.is_complex() => complex_atan2(x, y),
        BinaryOp::Atan2 => x.f_atan2(y).ctx(name),
        BinaryOp::Max if u64 => x.f_where_self(&u64_ge(x, y)?, y).ctx(name),
        BinaryOp::Max => x.f_maximum(y).ctx(name),
        BinaryOp::Min if u64 => y.f_where_self(&u64_ge(x, y)?, x).ctx(name),
        BinaryOp::Min => x.f_minimum(y).ctx(name),
        BinaryOp::BitwiseAnd => x.f_bitwise_and_tensor(y).ctx(name),
        BinaryOp::BitwiseOr => x.f_bitwise_or_tensor(y).ctx(name),
        BinaryOp::BitwiseXor => x.f_bitwise_xor_tensor(y).ctx(name),
        BinaryOp::LeftShift if u64 => x.f_bitwise_left_shift(&u64_shift_amount(y)?).ctx(name),
        BinaryOp::LeftShift => x.f_bitwise_left_shift(y).ctx(name),
        BinaryOp::RightShift if u64 => u64_right_shift(x, y),
        BinaryOp::RightShift => x.f_bitwise_right_shift(y).ctx(name),
        _ => Err(EngineError::argument(format!(
            "{name} is not an arithmetic operation"
        ))),
    }
}

/// Exponents for u64 `pow` that LibTorch's signed kernel computes exactly modulo 2^64: odd bases
/// repeat with period 2^62, and even bases reach 0 from the 64th power on.
fn u64_exponent(base: &Tensor, e: &Tensor) -> Result<Tensor> {
    let op = "pow";
    let odd = base.f_bitwise_and(1).and_then(|b| b.f_ne(0)).ctx(op)?;
    let reduced = e.f_bitwise_and((1i64 << 62) - 1).ctx(op)?;
    let huge = e
        .f_lt(0)
        .and_then(|neg| neg.f_logical_or(&e.f_ge(64)?))
        .ctx(op)?;
    let capped = e.f_masked_fill(&huge, 64).ctx(op)?;
    reduced.f_where_self(&odd, &capped).ctx(op)
}

/// u64 shift amounts are unsigned: those at or above 2^63 (negative as i64) shift everything out.
fn u64_shift_amount(y: &Tensor) -> Result<Tensor> {
    let huge = y
        .f_lt(0)
        .and_then(|neg| neg.f_logical_or(&y.f_gt(64)?))
        .ctx("shift")?;
    y.f_masked_fill(&huge, 64).ctx("shift")
}

/// Logical right shift of u64 bits: the arithmetic shift with the copied sign bits cleared.
fn u64_right_shift(x: &Tensor, y: &Tensor) -> Result<Tensor> {
    let op = "right_shift";
    let amount = u64_shift_amount(y)?;
    let shifted = x.f_bitwise_right_shift(&amount).ctx(op)?;
    // keep the low 64 - amount bits: !(-1 << (64 - amount)), which is 0 for amount = 64
    let keep = amount
        .f_neg()
        .and_then(|n| n.f_add_scalar(64))
        .and_then(|width| Tensor::f_bitwise_left_shift_scalar_tensor(-1i64, &width))
        .and_then(|high| high.f_bitwise_not())
        .ctx(op)?;
    let cleared = shifted.f_bitwise_and_tensor(&keep).ctx(op)?;
    let everything = amount.f_ge(64).ctx(op)?;
    cleared.f_masked_fill(&everything, 0).ctx(op)
}

/// Integer quotient (truncated) or remainder (sign of the dividend) that never traps: division
/// by zero gives all bits set (quotient) or the dividend (remainder); MIN / -1 wraps to MIN.
fn int_divmod(x: &Tensor, y: &Tensor, c: NxType, quotient: bool) -> Result<Tensor> {
    let op = if quotient { "quotient" } else { "remainder" };
    let zero = y.f_eq(0).ctx(op)?;
    if c == NxType::U64 {
        let safe = y.f_masked_fill(&zero, 1).ctx(op)?;
        let (q, r) = u64_divmod(x, &safe)?;
        return if quotient {
            q.f_masked_fill(&zero, -1).ctx(op)
        } else {
            x.f_where_self(&zero, &r).ctx(op)
        };
    }
    if c.is_unsigned() {
        // u8 (the other unsigned types compute in wider signed kinds)
        let safe = y.f_masked_fill(&zero, 1).ctx(op)?;
        return if quotient {
            x.f_div_tensor_mode(&safe, "trunc")
                .and_then(|q| q.f_masked_fill(&zero, 255))
                .ctx(op)
        } else {
            x.f_fmod_tensor(&safe)
                .and_then(|r| x.f_where_self(&zero, &r))
                .ctx(op)
        };
    }
    // LibTorch's kernels trap (SIGFPE) on MIN / -1 and refuse division by zero: both divisors
    // are replaced by 1 and their results written afterwards.
    let minus_one = y.f_eq(-1).ctx(op)?;
    let bad = zero.f_logical_or(&minus_one).ctx(op)?;
    let safe = y.f_masked_fill(&bad, 1).ctx(op)?;
    if quotient {
        let q = x.f_div_tensor_mode(&safe, "trunc").ctx(op)?;
        x.f_neg()
            .and_then(|neg| neg.f_where_self(&minus_one, &q))
            .and_then(|q| q.f_masked_fill(&zero, -1))
            .ctx(op)
    } else {
        let r = x
            .f_fmod_tensor(&safe)
            .and_then(|r| r.f_masked_fill(&minus_one, 0))
            .ctx(op)?;
        x.f_where_self(&zero, &r).ctx(op)
    }
}

/// atan2 of complex numbers: -i log((x + iy) / sqrt(x^2 + y^2)), as XLA defines it.
fn complex_atan2(y: &Tensor, x: &Tensor) -> Result<Tensor> {
    let op = "atan2";
    let iy = times_i(y)?;
    let num = x.f_add(&iy).ctx(op)?;
    let den = x
        .f_mul(x)
        .and_then(|xx| xx.f_add(&y.f_mul(y)?))
        .and_then(|s| s.f_sqrt())
        .ctx(op)?;
    let log = num.f_div(&den).and_then(|q| q.f_log()).ctx(op)?;
    times_i(&log)?.f_neg().ctx(op)
}

fn times_i(z: &Tensor) -> Result<Tensor> {
    let op = "complex";
    let re = z.f_real().ctx(op)?;
    let im = z.f_imag().ctx(op)?;
    Tensor::f_complex(&im.f_neg().ctx(op)?, &re).ctx(op)
}

/// Compares exactly: integers of any two types by value (u64 above 2^63 included), other
/// combinations in the type Nx's promotion gives them.
fn compare(
    op: BinaryOp,
    a: Tensor,
    a_ty: NxType,
    b: Tensor,
    b_ty: NxType,
    device: Device,
) -> Result<Tensor> {
    if a_ty.is_integer() && b_ty.is_integer() {
        let (x, _) = to_compute(&a, a_ty)?;
        let (y, _) = to_compute(&b, b_ty)?;
        return match (a_ty == NxType::U64, b_ty == NxType::U64) {
            (false, false) => torch_compare(op, &x, &y),
            (true, true) => u64_compare(op, &x, &y),
            // a narrower unsigned value has the same bits as a u64
            (true, false) if b_ty.is_unsigned() => u64_compare(op, &x, &y),
            (false, true) if a_ty.is_unsigned() => u64_compare(op, &x, &y),
            // u64 against a signed value: a u64 at or above 2^63 is above every signed value
            (true, false) => mixed_compare(op, &x, &y, true),
            (false, true) => mixed_compare(op, &y, &x, false),
        };
    }
    let merged = merge(a_ty, b_ty)?;
    let compute = kernel_type(merged, device);
    let x = prepare(a, a_ty, merged, compute)?;
    let y = prepare(b, b_ty, merged, compute)?;
    torch_compare(op, &x, &y)
}

fn torch_compare(op: BinaryOp, x: &Tensor, y: &Tensor) -> Result<Tensor> {
    let name = op.name();
    match op {
        BinaryOp::Equal => x.f_eq_tensor(y),
        BinaryOp::NotEqual => x.f_ne_tensor(y),
        BinaryOp::Greater => x.f_gt_tensor(y),
        BinaryOp::Less => x.f_lt_tensor(y),
        BinaryOp::GreaterEqual => x.f_ge_tensor(y),
        _ => x.f_le_tensor(y),
    }
    .ctx(name)
}

fn u64_compare(op: BinaryOp, x: &Tensor, y: &Tensor) -> Result<Tensor> {
    let x = x.f_to_kind(Kind::Int64).ctx(op.name())?;
    let y = y.f_to_kind(Kind::Int64).ctx(op.name())?;
    torch_compare(op, &flip_sign(&x)?, &flip_sign(&y)?)
}

/// Compares u64 bits `u` with signed values `s`; `u_left` tells which side `u` was on.
fn mixed_compare(op: BinaryOp, u: &Tensor, s: &Tensor, u_left: bool) -> Result<Tensor> {
    let name = op.name();
    let s = s.f_to_kind(Kind::Int64).ctx(name)?;
    let r = if u_left {
        torch_compare(op, u, &s)?
    } else {
        torch_compare(op, &s, u)?
    };
    // where u >= 2^63 the answer is that of comparing +infinity with s
    let u_is_greater = match op {
        BinaryOp::Equal => false,
        BinaryOp::NotEqual => true,
        BinaryOp::Greater | BinaryOp::GreaterEqual => u_left,
        _ => !u_left,
    };
    let big = u.f_lt(0).ctx(name)?;
    r.f_masked_fill(&big, u_is_greater as i64).ctx(name)
}

fn logical(op: BinaryOp, a: Tensor, a_ty: NxType, b: Tensor, b_ty: NxType) -> Result<Tensor> {
    let name = op.name();
    // truthiness does not depend on signedness; float8 has no kernels
    let (x, _) = to_compute(&a, a_ty)?;
    let (y, _) = to_compute(&b, b_ty)?;
    match op {
        BinaryOp::LogicalAnd => x.f_logical_and(&y),
        BinaryOp::LogicalOr => x.f_logical_or(&y),
        _ => x.f_logical_xor(&y),
    }
    .ctx(name)
}

/// A boolean result as 1/0 of type `out`.
pub(crate) fn bool_to(r: &Tensor, out: NxType) -> Result<Tensor> {
    // LibTorch stores booleans as bytes of 0 or 1: a fresh result is reinterpreted, not copied
    let u8s = if r.is_contiguous() {
        r.f_view_dtype(Kind::Uint8)
    } else {
        r.f_to_kind(Kind::Uint8)
    }
    .ctx("as_type")?;
    if out == NxType::U8 {
        Ok(u8s)
    } else {
        cast(&u8s, NxType::U8, out)
    }
}

/// Picks `on_true` where `pred` is not zero and `on_false` elsewhere, converted to `out` and
/// broadcast to `shape`.
pub fn select(
    pred: &NxTensor,
    on_true: &NxTensor,
    on_false: &NxTensor,
    out: NxType,
    shape: &[i64],
) -> Result<Tensor> {
    prepare_thread();
    let name = "select";
    for (what, t) in [("pred", pred), ("on_true", on_true), ("on_false", on_false)] {
        if !broadcasts_to(t.shape(), shape) {
            return Err(EngineError::argument(format!(
                "{name}: {what} of shape {:?} cannot be broadcast to {shape:?}",
                t.shape()
            )));
        }
    }
    let device = common_device(name, &[pred, on_true, on_false])?;
    crate::ops::check_allocation(shape, out, device)?;
    let (p, _) = to_compute(&fetch(pred, device)?, pred.ty())?;
    let mask = p.f_ne(0).ctx(name)?;
    let compute = kernel_type(out, device);
    let t = prepare(fetch(on_true, device)?, on_true.ty(), out, compute)?;
    let f = prepare(fetch(on_false, device)?, on_false.ty(), out, compute)?;
    let r = t.f_where_self(&mask, &f).ctx(name)?;
    let r = if r.size() == shape {
        r
    } else {
        r.f_expand(shape, false).ctx(name)?
    };
    finish(r, compute, out)
}

/// Clamps `t` to `[min, max]` (that is, `min(max(t, min), max)`) in the type `out`.
pub fn clip(t: &NxTensor, min: &NxTensor, max: &NxTensor, out: NxType) -> Result<Tensor> {
    prepare_thread();
    let name = "clip";
    for (what, bound) in [("min", min), ("max", max)] {
        if !broadcasts_to(bound.shape(), t.shape()) {
            return Err(EngineError::argument(format!(
                "{name}: {what} of shape {:?} cannot be broadcast to {:?}",
                bound.shape(),
                t.shape()
            )));
        }
    }
    if out.is_complex() {
        return Err(EngineError::argument(
            "clip does not support complex tensors",
        ));
    }
    let device = common_device(name, &[t, min, max])?;
    let compute = kernel_type(out, device);
    let x = prepare(fetch(t, device)?, t.ty(), out, compute)?;
    let lo = prepare(fetch(min, device)?, min.ty(), out, compute)?;
    let hi = prepare(fetch(max, device)?, max.ty(), out, compute)?;
    let r = if compute == NxType::U64 {
        let above = x.f_where_self(&u64_gt(&x, &lo)?, &lo).ctx(name)?;
        above.f_where_self(&u64_gt(&hi, &above)?, &hi).ctx(name)?
    } else {
        x.f_clamp_tensor(Some(&lo), Some(&hi)).ctx(name)?
    };
    finish(r, compute, out)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{floats, ints, nx, nx_f64};
    use super::*;
    use NxType::*;

    fn run(op: BinaryOp, a: &NxTensor, b: &NxTensor, out: NxType) -> Vec<i64> {
        ints(&binary(op, a, b, out).unwrap(), out)
    }

    #[test]
    fn integer_division_by_zero_and_overflow_do_not_trap() {
        for ty in [S8, S16, S32, S64] {
            let min = match ty {
                S8 => i8::MIN as i64,
                S16 => i16::MIN as i64,
                S32 => i32::MIN as i64,
                _ => i64::MIN,
            };
            let a = nx(&[7, -7, 7, min, min, 5], ty);
            let b = nx(&[0, 0, -2, -1, 1, 3], ty);
            assert_eq!(
                run(BinaryOp::Quotient, &a, &b, ty),
                vec![-1, -1, -3, min, min, 1]
            );
            assert_eq!(
                run(BinaryOp::Remainder, &a, &b, ty),
                vec![7, -7, 1, 0, 0, 2]
            );
        }
        let a = nx(&[7, 200], U8);
        let b = nx(&[0, 7], U8);
        assert_eq!(run(BinaryOp::Quotient, &a, &b, U8), vec![255, 28]);
        assert_eq!(run(BinaryOp::Remainder, &a, &b, U8), vec![7, 4]);
        let a = nx(&[7, 65535], U16);
        let b = nx(&[0, 2], U16);
        assert_eq!(run(BinaryOp::Quotient, &a, &b, U16), vec![65535, 32767]);
    }

    #[test]
    fn u64_arithmetic_above_2_pow_63() {
        let a = nx(&[-1, i64::MIN, 5], U64);
        let b = nx(&[2, 3, -1], U64);
        let q: Vec<u64> = run(BinaryOp::Quotient, &a, &b, U64)
            .into_iter()
            .map(|v| v as u64)
            .collect();
        assert_eq!(q, vec![u64::MAX / 2, (1 << 63) / 3, 0]);
        let m: Vec<u64> = run(BinaryOp::Max, &a, &b, U64)
            .into_iter()
            .map(|v| v as u64)
            .collect();
        assert_eq!(m, vec![u64::MAX, 1 << 63, u64::MAX]);
        assert_eq!(run(BinaryOp::Greater, &a, &b, U8), vec![1, 1, 0]);
        let s = nx(&[-1, 0, 5], S64);
        assert_eq!(run(BinaryOp::Greater, &a, &s, U8), vec![1, 1, 0]);
        assert_eq!(run(BinaryOp::Less, &s, &a, U8), vec![1, 1, 0]);
        assert_eq!(run(BinaryOp::Equal, &s, &a, U8), vec![0, 0, 1]);
        let shifts = nx(&[63, 1, 64], U64);
        let r: Vec<u64> = run(BinaryOp::RightShift, &a, &shifts, U64)
            .into_iter()
            .map(|v| v as u64)
            .collect();
        assert_eq!(r, vec![1, 1 << 62, 0]);
    }

    #[test]
    fn shifts_on_narrow_unsigned_types() {
        let a = nx(&[0x8000, 1, 0xFFFF], U16);
        let b = nx(&[15, 16, 4], U16);
        assert_eq!(run(BinaryOp::RightShift, &a, &b, U16), vec![1, 0, 0x0FFF]);
        assert_eq!(run(BinaryOp::LeftShift, &a, &b, U16), vec![0, 0, 0xFFF0]);
        let a = nx(&[-1, -8, 3], S4);
        let b = nx(&[1, 5, 1], S4);
        assert_eq!(run(BinaryOp::RightShift, &a, &b, S4), vec![-1, -1, 1]);
        assert_eq!(run(BinaryOp::LeftShift, &a, &b, S4), vec![-2, 0, 6]);
    }

    #[test]
    fn pow_of_integers() {
        let a = nx(&[2, -1, 3, 1, 2], S32);
        let b = nx(&[10, -3, -1, -5, 31], S32);
        assert_eq!(
            run(BinaryOp::Pow, &a, &b, S32),
            vec![1024, -1, 0, 1, i32::MIN as i64]
        );
        let a = nx(&[3, 2, 3], U64);
        let b = nx(&[-1, -1, 2], U64);
        let r: Vec<u64> = run(BinaryOp::Pow, &a, &b, U64)
            .into_iter()
            .map(|v| v as u64)
            .collect();
        let mut expect = 1u64;
        let mut base = 3u64;
        let mut e = u64::MAX;
        while e > 0 {
            if e & 1 == 1 {
                expect = expect.wrapping_mul(base);
            }
            base = base.wrapping_mul(base);
            e >>= 1;
        }
        assert_eq!(r, vec![expect, 0, 9]);
    }

    #[test]
    fn promotion_converts_inputs_first() {
        let a = nx(&[-11], S8);
        let b = nx(&[10], U8);
        assert_eq!(run(BinaryOp::Remainder, &a, &b, S16), vec![-1]);
        let a = nx(&[250], U8);
        let b = nx(&[10], S32);
        assert_eq!(run(BinaryOp::Add, &a, &b, U8), vec![4]);
    }

    #[test]
    fn half_precision_computes_in_f32() {
        let a = nx_f64(&[1.0, 2.5, 65504.0], F16);
        let b = nx_f64(&[3.0, 0.5, 65504.0], F16);
        let r = binary(BinaryOp::Add, &a, &b, F16).unwrap();
        assert_eq!(r.kind(), Kind::Half);
        assert_eq!(floats(&r, F16), vec![4.0, 3.0, f64::INFINITY]);
        let r = binary(BinaryOp::Divide, &a, &b, BF16).unwrap();
        assert_eq!(r.kind(), Kind::BFloat16);
    }

    #[test]
    fn comparisons_in_the_merged_type() {
        // 16777217 as f32 is 16777216
        let a = nx(&[16_777_217], S32);
        let b = nx_f64(&[16_777_216.0], F32);
        assert_eq!(run(BinaryOp::Equal, &a, &b, U8), vec![1]);
        let a = nx(&[200], U8);
        let b = nx(&[-1], S8);
        assert_eq!(run(BinaryOp::Greater, &a, &b, U8), vec![1]);
    }

    #[test]
    fn complex_atan2_matches_real_atan2_on_reals() {
        let y = nx_f64(&[1.0, -1.0], C64);
        let x = nx_f64(&[2.0, -3.0], C64);
        let r = binary(BinaryOp::Atan2, &y, &x, C64).unwrap();
        let re = r.f_real().unwrap();
        let got = floats(&re, F32);
        assert!((got[0] - 1f64.atan2(2.0)).abs() < 1e-6);
        assert!((got[1] - (-1f64).atan2(-3.0)).abs() < 1e-6);
    }

    #[test]
    fn errors_instead_of_crashes() {
        let a = nx(&[1, 2, 3], S32);
        let b = nx(&[1, 2], S32);
        assert!(binary(BinaryOp::Add, &a, &b, S32).is_err());
        let f = nx_f64(&[1.0], F32);
        assert!(binary(BinaryOp::BitwiseAnd, &f, &f, F32).is_err());
        let c = nx_f64(&[1.0], C64);
        assert!(binary(BinaryOp::Max, &c, &c, C64).is_err());
    }

    #[test]
    fn select_and_clip() {
        let p = nx(&[0, 1, 2], U8);
        let t = nx(&[1, 2, 3], S32);
        let f = nx_f64(&[0.5], F32);
        let r = select(&p, &t, &f, F32, &[3]).unwrap();
        assert_eq!(floats(&r, F32), vec![0.5, 2.0, 3.0]);
        let x = nx(&[-1, 0, 300], S32);
        let lo = nx(&[0], S32);
        let hi = nx(&[255], S32);
        assert_eq!(
            ints(&clip(&x, &lo, &hi, S32).unwrap(), S32),
            vec![0, 0, 255]
        );
        let x = nx(&[-1, 5, 0], U64);
        let lo = nx(&[3], U64);
        let hi = nx(&[i64::MIN], U64);
        let r: Vec<u64> = ints(&clip(&x, &lo, &hi, U64).unwrap(), U64)
            .into_iter()
            .map(|v| v as u64)
            .collect();
        assert_eq!(r, vec![1 << 63, 5, 3]);
    }
}
