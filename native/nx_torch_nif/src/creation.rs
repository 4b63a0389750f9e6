use crate::decode;
use crate::errors::{raise, NifResult, OrRaise};
use crate::nif_pair;
use crate::resource::{wrap, TRef};
use nx_engine::ops::creation;
use rustler::{Binary, Env, OwnedBinary, Term};

fn from_binary<'a>(data: Binary<'a>, ty: i64, shape: Term<'a>, device: i64) -> NifResult<TRef> {
    let ty = decode::ty(ty)?;
    let shape = decode::shape(shape)?;
    let device = decode::device(device)?;
    let tensor = creation::from_binary(data.as_slice(), ty, &shape, device).or_raise()?;
    Ok(wrap(tensor, ty))
}

nif_pair!(t_from_binary, t_from_binary_dirty, from_binary,
    (data: Binary<'a>, ty: i64, shape: Term<'a>, device: i64), [data, ty, shape, device], NifResult<TRef>);

/// The tensor's first `limit` elements (all when `limit` is negative) as an Nx binary.
fn to_binary<'a>(env: Env<'a>, tensor: TRef, limit: i64) -> NifResult<Binary<'a>> {
    let ty = tensor.0.ty();
    let t = tensor.0.tensor().or_raise()?;
    let limit = usize::try_from(limit).ok();
    let (host, count) = creation::host_contiguous(&t, limit).or_raise()?;
    let len = ty.binary_bytes(count).unwrap_or(usize::MAX);
    // The tensor already holds this many bytes, so the copy is as large as something that
    // exists; absurd sizes are refused because rustler aborts when an allocation fails.
    if len > isize::MAX as usize / 2 {
        return Err(raise(
            "Elixir.RuntimeError",
            format!("to_binary: a binary of {len} bytes is too large"),
        ));
    }
    let mut binary = OwnedBinary::new(len);
    creation::write_binary(&host, ty, count, binary.as_mut_slice()).or_raise()?;
    Ok(binary.release(env))
}

// Written out rather than through `nif_pair!`: rustler's attribute rewrites the `Env` argument.
#[rustler::nif]
fn t_to_binary<'a>(env: Env<'a>, tensor: TRef, limit: i64) -> NifResult<Binary<'a>> {
    to_binary(env, tensor, limit)
}

#[rustler::nif(schedule = "DirtyCpu")]
fn t_to_binary_dirty<'a>(env: Env<'a>, tensor: TRef, limit: i64) -> NifResult<Binary<'a>> {
    to_binary(env, tensor, limit)
}

fn iota<'a>(shape: Term<'a>, axis: i64, ty: i64, device: i64) -> NifResult<TRef> {
    let ty = decode::ty(ty)?;
    let shape = decode::shape(shape)?;
    let device = decode::device(device)?;
    let axis = usize::try_from(axis).ok();
    Ok(wrap(
        creation::iota(&shape, axis, ty, device).or_raise()?,
        ty,
    ))
}

nif_pair!(t_iota, t_iota_dirty, iota,
    (shape: Term<'a>, axis: i64, ty: i64, device: i64), [shape, axis, ty, device], NifResult<TRef>);

fn eye<'a>(shape: Term<'a>, ty: i64, device: i64) -> NifResult<TRef> {
    let ty = decode::ty(ty)?;
    let shape = decode::shape(shape)?;
    let device = decode::device(device)?;
    Ok(wrap(creation::eye(&shape, ty, device).or_raise()?, ty))
}

nif_pair!(t_eye, t_eye_dirty, eye,
    (shape: Term<'a>, ty: i64, device: i64), [shape, ty, device], NifResult<TRef>);

/// `{address, data_size}` of the tensor's data (see `Nx.to_pointer/2`). A strided tensor is
/// first replaced by a contiguous copy inside its resource, so the address stays valid for as
/// long as the resource lives and is not deallocated.
#[rustler::nif(schedule = "DirtyCpu")]
fn t_to_pointer(tensor: TRef) -> NifResult<(u64, u64)> {
    let t = tensor.0.make_contiguous().or_raise()?;
    let (address, bytes) = creation::data_pointer(&t, tensor.0.ty()).or_raise()?;
    Ok((address, bytes as u64))
}

/// A new tensor holding a copy of `data_size` bytes at `address` (see `Nx.from_pointer/5`).
/// The address is trusted, as with any pointer handed to native code.
#[rustler::nif(schedule = "DirtyIo")]
fn t_from_pointer<'a>(
    address: u64,
    data_size: u64,
    ty: i64,
    shape: Term<'a>,
    device: i64,
) -> NifResult<TRef> {
    let ty = decode::ty(ty)?;
    let shape = decode::shape(shape)?;
    let device = decode::device(device)?;
    let bytes = usize::try_from(data_size)
        .map_err(|_| raise("Elixir.ArgumentError", "data_size is too large".to_string()))?;
    // SAFETY: the caller of Nx.from_pointer/5 vouches for the address (documented there).
    let tensor =
        unsafe { creation::from_pointer(address, bytes, ty, &shape, device) }.or_raise()?;
    Ok(wrap(tensor, ty))
}
