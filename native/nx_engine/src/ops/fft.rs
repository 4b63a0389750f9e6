//! Discrete Fourier transforms (`Nx.fft`, `ifft`, `fft2`, `ifft2`, `rfft`, `irfft`) over
//! LibTorch's `fft` routines, unnormalized forward and `1/n` inverse as in Nx. The transformed
//! axes are zero-padded or truncated to the requested lengths first (LibTorch's `n`/`s`
//! arguments do exactly that). Components whose magnitude is below `eps` are set to zero, the
//! clean-up Nx's `:eps` option allows.
use super::convert::cast;
use crate::error::{EngineError, Result, TorchContext};
use crate::runtime::prepare_thread;
use crate::types::NxType;
use tch::Tensor;

fn check_axes(op: &str, t: &Tensor, axes: &[i64], lengths: &[i64]) -> Result<()> {
    let rank = t.dim() as i64;
    if rank == 0 {
        return Err(EngineError::argument(format!(
            "{op}: expected a tensor with rank > 0"
        )));
    }
    for (&axis, &length) in axes.iter().zip(lengths) {
        if !(0..rank).contains(&axis) {
            return Err(EngineError::argument(format!(
                "{op}: axis {axis} is out of range for shape {:?}",
                t.size()
            )));
        }
        if length < 1 {
            return Err(EngineError::argument(format!(
                "{op}: lengths must be positive, got {length}"
            )));
        }
    }
    if axes.len() == 2 && axes[0] == axes[1] {
        return Err(EngineError::argument(format!(
            "{op}: the two axes must differ, got {axes:?}"
        )));
    }
    Ok(())
}

/// The real type with the precision of a complex (or real) output type.
fn real_of(out: NxType) -> NxType {
    match out {
        NxType::C128 | NxType::F64 => NxType::F64,
        _ => NxType::F32,
    }
}

fn complex_of(out: NxType) -> NxType {
    match out {
        NxType::C128 | NxType::F64 => NxType::C128,
        _ => NxType::C64,
    }
}

/// Sets components (real and imaginary parts alike) below `eps` in magnitude to zero.
fn clean(x: Tensor, eps: f64, op: &'static str) -> Result<Tensor> {
    if eps <= 0.0 || x.numel() == 0 {
        return Ok(x);
    }
    if x.is_complex() {
        let parts = super::contiguous(x)?.f_view_as_real().ctx(op)?;
        let small = parts.f_abs().and_then(|a| a.f_lt(eps)).ctx(op)?;
        parts
            .f_masked_fill(&small, 0.0)
            .and_then(|p| p.f_view_as_complex())
            .ctx(op)
    } else {
        let small = x.f_abs().and_then(|a| a.f_lt(eps)).ctx(op)?;
        x.f_masked_fill(&small, 0.0).ctx(op)
    }
}

/// One-dimensional DFT (or its inverse) of `length` points along `axis`.
#[allow(clippy::too_many_arguments)]
pub fn fft(
    t: &Tensor,
    ty: NxType,
    length: i64,
    axis: i64,
    inverse: bool,
    eps: f64,
    out: NxType,
) -> Result<Tensor> {
    prepare_thread();
    let op = if inverse { "ifft" } else { "fft" };
    check_axes(op, t, &[axis], &[length])?;
    let cty = complex_of(out);
    let x = cast(t, ty, cty)?;
    let r = if inverse {
        x.f_fft_ifft(length, axis, "backward").ctx(op)?
    } else {
        x.f_fft_fft(length, axis, "backward").ctx(op)?
    };
    cast(&clean(r, eps, op)?, cty, out)
}

/// Two-dimensional DFT (or its inverse) over `axes`, with `lengths` points.
pub fn fft2(
    t: &Tensor,
    ty: NxType,
    lengths: &[i64],
    axes: &[i64],
    inverse: bool,
    eps: f64,
    out: NxType,
) -> Result<Tensor> {
    prepare_thread();
    let op = if inverse { "ifft2" } else { "fft2" };
    if lengths.len() != 2 || axes.len() != 2 {
        return Err(EngineError::argument(format!(
            "{op}: expected two lengths and two axes, got {lengths:?} and {axes:?}"
        )));
    }
    check_axes(op, t, axes, lengths)?;
    let cty = complex_of(out);
    let x = cast(t, ty, cty)?;
    let r = if inverse {
        x.f_fft_ifft2(lengths, axes, "backward").ctx(op)?
    } else {
        x.f_fft_fft2(lengths, axes, "backward").ctx(op)?
    };
    cast(&clean(r, eps, op)?, cty, out)
}

/// DFT of a real signal of `length` points along `axis`: the `length / 2 + 1` non-negative
/// frequencies.
pub fn rfft(
    t: &Tensor,
    ty: NxType,
    length: i64,
    axis: i64,
    eps: f64,
    out: NxType,
) -> Result<Tensor> {
    prepare_thread();
    let op = "rfft";
    check_axes(op, t, &[axis], &[length])?;
    if ty.is_complex() {
        return Err(EngineError::argument(format!(
            "rfft: expects a real tensor, got type {}",
            ty.name()
        )));
    }
    let rty = real_of(out);
    let x = cast(t, ty, rty)?;
    let r = x.f_fft_rfft(length, axis, "backward").ctx(op)?;
    cast(&clean(r, eps, op)?, complex_of(out), out)
}

/// The real signal of `length` points whose DFT starts with the given non-negative
/// frequencies (missing ones are zero, extra ones ignored).
pub fn irfft(
    t: &Tensor,
    ty: NxType,
    length: i64,
    axis: i64,
    eps: f64,
    out: NxType,
) -> Result<Tensor> {
    prepare_thread();
    let op = "irfft";
    check_axes(op, t, &[axis], &[length])?;
    let x = cast(t, ty, complex_of(out))?;
    let r = x.f_fft_irfft(length, axis, "backward").ctx(op)?;
    cast(&clean(r, eps, op)?, real_of(out), out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(t: &Tensor) -> Vec<f64> {
        let r = t
            .f_view_as_real()
            .unwrap()
            .f_to_kind(tch::Kind::Double)
            .unwrap()
            .f_flatten(0, -1)
            .unwrap();
        let n = r.numel();
        let mut out = vec![0f64; n];
        r.f_copy_data(&mut out, n).unwrap();
        out
    }

    #[test]
    fn pads_to_length_and_cleans_up() {
        let t = Tensor::from_slice(&[1i32, 1]);
        let r = fft(&t, NxType::S32, 4, 0, false, 1e-10, NxType::C64).unwrap();
        assert_eq!(r.size(), vec![4]);
        assert_eq!(parts(&r), vec![2.0, 0.0, 1.0, -1.0, 0.0, 0.0, 1.0, 1.0]);
    }

    #[test]
    fn inverse_divides_by_length() {
        let t = Tensor::from_slice(&[4.0f64, 0.0, 0.0, 0.0]);
        let r = fft(&t, NxType::F64, 4, 0, true, 0.0, NxType::C128).unwrap();
        assert_eq!(parts(&r), vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn real_round_trip() {
        let t = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0]);
        let spectrum = rfft(&t, NxType::F32, 5, 0, 0.0, NxType::C64).unwrap();
        assert_eq!(spectrum.size(), vec![3]);
        let back = irfft(&spectrum, NxType::C64, 5, 0, 1e-10, NxType::F32).unwrap();
        let mut v = [0f32; 5];
        back.f_copy_data(&mut v, 5).unwrap();
        for (x, y) in v.iter().zip([1.0, 2.0, 3.0, 4.0, 5.0]) {
            assert!((x - y).abs() < 1e-5);
        }
    }

    #[test]
    fn bad_axes_are_rejected() {
        let t = Tensor::from_slice(&[1.0f32, 2.0]);
        assert!(fft(&t, NxType::F32, 2, 1, false, 0.0, NxType::C64).is_err());
        assert!(fft(&t, NxType::F32, 0, 0, false, 0.0, NxType::C64).is_err());
        let m = Tensor::from_slice(&[1.0f32; 4]).reshape([2, 2]);
        assert!(fft2(&m, NxType::F32, &[2, 2], &[1, 1], false, 0.0, NxType::C64).is_err());
    }
}
