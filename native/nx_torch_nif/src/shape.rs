use crate::decode;
use crate::errors::{NifResult, OrRaise};
use crate::nif_pair;
use crate::resource::{wrap, TRef};
use nx_engine::ops::shape;
use rustler::Term;

// Reshape, transpose and broadcast build views: constant time, always on a normal scheduler.
// Reverse, pad, concatenate and stack copy and come in normal/dirty pairs.

#[rustler::nif]
fn t_reshape(tensor: TRef, shape_term: Term) -> NifResult<TRef> {
    let dims = decode::shape(shape_term)?;
    let t = tensor.0.tensor().or_raise()?;
    Ok(wrap(shape::reshape(&t, &dims).or_raise()?, tensor.0.ty()))
}

#[rustler::nif]
fn t_transpose(tensor: TRef, axes: Vec<i64>) -> NifResult<TRef> {
    let t = tensor.0.tensor().or_raise()?;
    Ok(wrap(shape::transpose(&t, &axes).or_raise()?, tensor.0.ty()))
}

#[rustler::nif]
fn t_broadcast(tensor: TRef, shape_term: Term, axes: Vec<i64>) -> NifResult<TRef> {
    let dims = decode::shape(shape_term)?;
    let t = tensor.0.tensor().or_raise()?;
    Ok(wrap(
        shape::broadcast(&t, &dims, &axes).or_raise()?,
        tensor.0.ty(),
    ))
}

fn reverse_imp(tensor: TRef, axes: Vec<i64>) -> NifResult<TRef> {
    let t = tensor.0.tensor().or_raise()?;
    let ty = tensor.0.ty();
    Ok(wrap(shape::reverse(&t, ty, &axes).or_raise()?, ty))
}

nif_pair!(t_reverse, t_reverse_dirty, reverse_imp,
    (tensor: TRef, axes: Vec<i64>), [tensor, axes], NifResult<TRef>);

/// `config` is a list of `{low, high, interior}`; `value` a scalar tensor.
fn pad_imp(tensor: TRef, value: TRef, config: Vec<(i64, i64, i64)>, ty: i64) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    let v = value.0.tensor().or_raise()?;
    let r = shape::pad(&t, tensor.0.ty(), &v, value.0.ty(), &config, out).or_raise()?;
    Ok(wrap(r, out))
}

nif_pair!(t_pad, t_pad_dirty, pad_imp,
    (tensor: TRef, value: TRef, config: Vec<(i64, i64, i64)>, ty: i64), [tensor, value, config, ty],
    NifResult<TRef>);

fn inputs(tensors: &[TRef]) -> NifResult<Vec<(tch::Tensor, nx_engine::NxType)>> {
    tensors
        .iter()
        .map(|t| Ok((t.0.tensor().or_raise()?, t.0.ty())))
        .collect()
}

fn concatenate_imp(tensors: Vec<TRef>, axis: i64, ty: i64) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let r = shape::concatenate(&inputs(&tensors)?, axis, out).or_raise()?;
    Ok(wrap(r, out))
}

nif_pair!(t_concatenate, t_concatenate_dirty, concatenate_imp,
    (tensors: Vec<TRef>, axis: i64, ty: i64), [tensors, axis, ty], NifResult<TRef>);

fn stack_imp(tensors: Vec<TRef>, axis: i64, ty: i64) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let r = shape::stack(&inputs(&tensors)?, axis, out).or_raise()?;
    Ok(wrap(r, out))
}

nif_pair!(t_stack, t_stack_dirty, stack_imp,
    (tensors: Vec<TRef>, axis: i64, ty: i64), [tensors, axis, ty], NifResult<TRef>);
