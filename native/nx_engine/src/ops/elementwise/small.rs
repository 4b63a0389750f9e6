//! A fast path for tiny tensors. For a handful of elements, LibTorch's per-operation machinery
//! (dispatch, TensorIterator set-up, output resizing) costs far more than the arithmetic, and
//! an eager `Nx.add` of two f32[4] tensors is dominated by it. When both inputs are contiguous
//! CPU tensors of the output's type and shape, the arithmetic runs here on the raw buffers and
//! only the output allocation goes through LibTorch.
use super::binary::BinaryOp;
use super::unary::UnaryOp;
use crate::error::Result;
use crate::types::NxType;
use tch::{Device, Kind, Tensor};

/// Inputs with more elements than this take LibTorch's vectorized kernels.
pub(crate) const MAX_ELEMENTS: usize = 256;

trait Element: Copy {
    fn apply(op: BinaryOp, x: Self, y: Self) -> Option<Self>;
}

macro_rules! float_element {
    ($t:ty) => {
        impl Element for $t {
            #[inline]
            fn apply(op: BinaryOp, x: $t, y: $t) -> Option<$t> {
                match op {
                    BinaryOp::Add => Some(x + y),
                    BinaryOp::Subtract => Some(x - y),
                    BinaryOp::Multiply => Some(x * y),
                    BinaryOp::Divide => Some(x / y),
                    _ => None,
                }
            }
        }
    };
}

macro_rules! int_element {
    ($t:ty) => {
        impl Element for $t {
            #[inline]
            fn apply(op: BinaryOp, x: $t, y: $t) -> Option<$t> {
                match op {
                    BinaryOp::Add => Some(x.wrapping_add(y)),
                    BinaryOp::Subtract => Some(x.wrapping_sub(y)),
                    BinaryOp::Multiply => Some(x.wrapping_mul(y)),
                    _ => None,
                }
            }
        }
    };
}

float_element!(f32);
float_element!(f64);
int_element!(i32);
int_element!(i64);

fn supported(op: BinaryOp, ty: NxType) -> bool {
    match ty {
        NxType::F32 | NxType::F64 => matches!(
            op,
            BinaryOp::Add | BinaryOp::Subtract | BinaryOp::Multiply | BinaryOp::Divide
        ),
        // u32/u64 wrap identically to their signed storage for these three operations
        NxType::S32 | NxType::S64 | NxType::U32 | NxType::U64 => {
            matches!(op, BinaryOp::Add | BinaryOp::Subtract | BinaryOp::Multiply)
        }
        _ => false,
    }
}

fn run<T: Element>(op: BinaryOp, a: &Tensor, b: &Tensor, out: &Tensor, n: usize) {
    // SAFETY: the caller checked that `a`, `b` and `out` are contiguous CPU tensors of exactly
    // `n` elements of the kind that matches `T`; they stay alive for the whole loop, and `out`
    // is a fresh tensor that nothing else references yet.
    let (x, y, z) = unsafe {
        (
            std::slice::from_raw_parts(a.data_ptr() as *const T, n),
            std::slice::from_raw_parts(b.data_ptr() as *const T, n),
            std::slice::from_raw_parts_mut(out.data_ptr() as *mut T, n),
        )
    };
    for i in 0..n {
        if let Some(v) = T::apply(op, x[i], y[i]) {
            z[i] = v;
        }
    }
}

/// The result of `op` on two same-shape CPU tensors of type `ty` (also the output type) and
/// of `shape`, or `None` when the fast path does not apply. The callers know the shape and
/// the device from their handles (recorded from LibTorch when each handle was made); the
/// storage kind and contiguity, on which the raw reads depend, are checked here.
pub(crate) fn try_binary(
    op: BinaryOp,
    a: &Tensor,
    b: &Tensor,
    ty: NxType,
    shape: &[i64],
) -> Option<Result<Tensor>> {
    if !supported(op, ty) {
        return None;
    }
    let kind = ty.storage_kind();
    let n = shape.iter().product::<i64>() as usize;
    debug_assert!([a, b]
        .iter()
        .all(|t| t.size() == shape && t.device() == Device::Cpu));
    let usable = |t: &Tensor| t.is_contiguous() && t.f_kind().ok() == Some(kind);
    if n > MAX_ELEMENTS || !usable(a) || !usable(b) {
        return None;
    }
    let out = match crate::runtime::empty_cpu(kind, shape) {
        Ok(out) => out,
        Err(error) => return Some(Err(error)),
    };
    match kind {
        Kind::Float => run::<f32>(op, a, b, &out, n),
        Kind::Double => run::<f64>(op, a, b, &out, n),
        Kind::Int => run::<i32>(op, a, b, &out, n),
        Kind::Int64 => run::<i64>(op, a, b, &out, n),
        _ => return None,
    }
    Some(Ok(out))
}

/// Unary operations on tensors of at most this many elements take [`try_unary`].
pub(crate) const MAX_UNARY_ELEMENTS: usize = 256;

/// The exact operations of the tiny path. The transcendental ones stay with LibTorch: a probe
/// over 80,000 values found the C library's results differing from the engine's in the last
/// bit for 0.5-9% of them (exp, expm1, log, log1p, tanh, sin, cos; even sqrt, which the
/// engine computes in a wider type), and eager results must not depend on a tensor's size.
macro_rules! unary_fn {
    ($t:ty, $op:expr) => {
        match $op {
            UnaryOp::Negate => Some((|x: $t| -x) as fn($t) -> $t),
            UnaryOp::Abs => Some(<$t>::abs as fn($t) -> $t),
            _ => None,
        }
    };
}

/// `op` (negate or abs) on a tiny contiguous f32/f64 CPU tensor of `shape` whose type is also
/// the output's; `None` when the fast path does not apply. The caller knows `shape` and the device from its handle.
pub(crate) fn try_unary(
    op: UnaryOp,
    t: &Tensor,
    ty: NxType,
    shape: &[i64],
) -> Option<Result<Tensor>> {
    // the operation first: no LibTorch query for the ones the path does not take
    unary_fn!(f32, op)?;
    let n = shape.iter().product::<i64>() as usize;
    let kind = ty.storage_kind();
    if n > MAX_UNARY_ELEMENTS
        || !matches!(ty, NxType::F32 | NxType::F64)
        || !t.is_contiguous()
        || t.f_kind().ok() != Some(kind)
    {
        return None;
    }
    debug_assert!(t.size() == shape && t.device() == Device::Cpu);
    macro_rules! apply {
        ($t:ty) => {{
            let f = unary_fn!($t, op)?;
            let out = match crate::runtime::empty_cpu(kind, shape) {
                Ok(out) => out,
                Err(error) => return Some(Err(error)),
            };
            // SAFETY: `t` is a contiguous CPU tensor of `n` elements of this kind (checked
            // above; its shape comes from its handle) and `out` a fresh one; both are alive.
            let (x, y) = unsafe {
                (
                    std::slice::from_raw_parts(t.data_ptr() as *const $t, n),
                    std::slice::from_raw_parts_mut(out.data_ptr() as *mut $t, n),
                )
            };
            for (y, &x) in y.iter_mut().zip(x) {
                *y = f(x);
            }
            Some(Ok(out))
        }};
    }
    if ty == NxType::F32 {
        apply!(f32)
    } else {
        apply!(f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negate_and_abs_agree_with_libtorch_others_decline() {
        for ty in [NxType::F32, NxType::F64] {
            let t = Tensor::from_slice(&[1.5f64, -0.0, f64::NAN, -3.0e300])
                .f_to_kind(ty.storage_kind())
                .unwrap();
            let neg = try_unary(UnaryOp::Negate, &t, ty, &[4]).unwrap().unwrap();
            let abs = try_unary(UnaryOp::Abs, &t, ty, &[4]).unwrap().unwrap();
            let bits = |x: &Tensor| {
                let x = x.f_to_kind(Kind::Double).unwrap();
                let mut v = [0f64; 4];
                x.f_copy_data(&mut v, 4).unwrap();
                v.map(f64::to_bits)
            };
            assert_eq!(bits(&neg), bits(&t.f_neg().unwrap()));
            assert_eq!(bits(&abs), bits(&t.f_abs().unwrap()));
            assert!(try_unary(UnaryOp::Exp, &t, ty, &[4]).is_none());
        }
        let ints = Tensor::from_slice(&[1i32, -2]);
        assert!(try_unary(UnaryOp::Negate, &ints, NxType::S32, &[2]).is_none());
    }

    #[test]
    fn agrees_with_libtorch() {
        let a = Tensor::from_slice(&[1.5f32, -2.0, 3.25, 1e30]);
        let b = Tensor::from_slice(&[0.5f32, 4.0, -1.0, 1e30]);
        for op in [
            BinaryOp::Add,
            BinaryOp::Subtract,
            BinaryOp::Multiply,
            BinaryOp::Divide,
        ] {
            let fast = try_binary(op, &a, &b, NxType::F32, &[4]).unwrap().unwrap();
            let slow = match op {
                BinaryOp::Add => a.f_add(&b),
                BinaryOp::Subtract => a.f_sub(&b),
                BinaryOp::Multiply => a.f_mul(&b),
                _ => a.f_div(&b),
            }
            .unwrap();
            let (mut x, mut y) = ([0f32; 4], [0f32; 4]);
            fast.f_copy_data(&mut x, 4).unwrap();
            slow.f_copy_data(&mut y, 4).unwrap();
            assert_eq!(x.map(f32::to_bits), y.map(f32::to_bits), "{op:?}");
        }
    }

    #[test]
    fn integers_wrap_and_others_decline() {
        let a = Tensor::from_slice(&[i32::MAX, 3]);
        let b = Tensor::from_slice(&[1i32, 4]);
        let r = try_binary(BinaryOp::Add, &a, &b, NxType::S32, &[2])
            .unwrap()
            .unwrap();
        let mut v = [0i32; 2];
        r.f_copy_data(&mut v, 2).unwrap();
        assert_eq!(v, [i32::MIN, 7]);
        assert!(try_binary(BinaryOp::Divide, &a, &b, NxType::S32, &[2]).is_none());
        assert!(try_binary(BinaryOp::Add, &a, &b, NxType::S16, &[2]).is_none());
        let t = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0])
            .reshape([2, 2])
            .tr();
        assert!(try_binary(BinaryOp::Add, &t, &t, NxType::F32, &[2, 2]).is_none());
    }
}
