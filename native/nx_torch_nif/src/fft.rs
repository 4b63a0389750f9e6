//! Fourier transform NIFs, each with a dirty twin: `t_fft` (fft/ifft), `t_fft2` (fft2/ifft2),
//! `t_rfft`, `t_irfft`. The result type comes as a code.
use crate::decode;
use crate::errors::{NifResult, OrRaise};
use crate::nif_pair;
use crate::resource::{wrap, TRef};
use nx_engine::ops::fft;

fn fft_imp(
    tensor: TRef,
    length: i64,
    axis: i64,
    inverse: bool,
    eps: f64,
    ty: i64,
) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    let r = fft::fft(&t, tensor.0.ty(), length, axis, inverse, eps, out).or_raise()?;
    Ok(wrap(r, out))
}

nif_pair!(t_fft, t_fft_dirty, fft_imp,
    (tensor: TRef, length: i64, axis: i64, inverse: bool, eps: f64, ty: i64),
    [tensor, length, axis, inverse, eps, ty], NifResult<TRef>);

fn fft2_imp(
    tensor: TRef,
    lengths: Vec<i64>,
    axes: Vec<i64>,
    inverse: bool,
    eps: f64,
    ty: i64,
) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    let r = fft::fft2(&t, tensor.0.ty(), &lengths, &axes, inverse, eps, out).or_raise()?;
    Ok(wrap(r, out))
}

nif_pair!(t_fft2, t_fft2_dirty, fft2_imp,
    (tensor: TRef, lengths: Vec<i64>, axes: Vec<i64>, inverse: bool, eps: f64, ty: i64),
    [tensor, lengths, axes, inverse, eps, ty], NifResult<TRef>);

fn rfft_imp(tensor: TRef, length: i64, axis: i64, eps: f64, ty: i64) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    Ok(wrap(
        fft::rfft(&t, tensor.0.ty(), length, axis, eps, out).or_raise()?,
        out,
    ))
}

nif_pair!(t_rfft, t_rfft_dirty, rfft_imp,
    (tensor: TRef, length: i64, axis: i64, eps: f64, ty: i64),
    [tensor, length, axis, eps, ty], NifResult<TRef>);

fn irfft_imp(tensor: TRef, length: i64, axis: i64, eps: f64, ty: i64) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    Ok(wrap(
        fft::irfft(&t, tensor.0.ty(), length, axis, eps, out).or_raise()?,
        out,
    ))
}

nif_pair!(t_irfft, t_irfft_dirty, irfft_imp,
    (tensor: TRef, length: i64, axis: i64, eps: f64, ty: i64),
    [tensor, length, axis, eps, ty], NifResult<TRef>);
