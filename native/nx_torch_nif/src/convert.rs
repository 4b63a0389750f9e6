use crate::decode;
use crate::errors::{NifResult, OrRaise};
use crate::nif_pair;
use crate::resource::{wrap, TRef};
use nx_engine::ops::convert;

fn as_type(tensor: TRef, ty: i64) -> NifResult<TRef> {
    let to = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    Ok(wrap(convert::cast(&t, tensor.0.ty(), to).or_raise()?, to))
}

nif_pair!(t_as_type, t_as_type_dirty, as_type,
    (tensor: TRef, ty: i64), [tensor, ty], NifResult<TRef>);

fn bitcast(tensor: TRef, ty: i64) -> NifResult<TRef> {
    let to = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    Ok(wrap(
        convert::bitcast(&t, tensor.0.ty(), to).or_raise()?,
        to,
    ))
}

nif_pair!(t_bitcast, t_bitcast_dirty, bitcast,
    (tensor: TRef, ty: i64), [tensor, ty], NifResult<TRef>);

/// Copies to a device. Always a dirty NIF: a transfer waits on the device or copies memory.
#[rustler::nif(schedule = "DirtyIo")]
fn t_to_device(tensor: TRef, device: i64) -> NifResult<TRef> {
    let device = decode::device(device)?;
    let t = tensor.0.tensor().or_raise()?;
    Ok(wrap(
        convert::to_device(&t, device).or_raise()?,
        tensor.0.ty(),
    ))
}
