//! Indexing NIFs: `t_slice` (a view, always on a normal scheduler), `t_put_slice`,
//! `t_gather`, `t_take`, `t_take_along_axis` and `t_indexed` (indexed_add/indexed_put), the
//! latter in normal/dirty pairs. Index validation and clamping happen in the engine.
use crate::decode;
use crate::errors::{NifResult, OrRaise};
use crate::nif_pair;
use crate::resource::{wrap, TRef};
use nx_engine::ops::index;

#[rustler::nif]
fn t_slice(
    tensor: TRef,
    starts: Vec<i64>,
    lengths: Vec<i64>,
    strides: Vec<i64>,
) -> NifResult<TRef> {
    let t = tensor.0.tensor().or_raise()?;
    let r = index::slice(&t, &starts, &lengths, &strides).or_raise()?;
    Ok(wrap(r, tensor.0.ty()))
}

fn put_slice_imp(tensor: TRef, starts: Vec<i64>, update: TRef, ty: i64) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    let u = update.0.tensor().or_raise()?;
    let r = index::put_slice(&t, tensor.0.ty(), &starts, &u, update.0.ty(), out).or_raise()?;
    Ok(wrap(r, out))
}

nif_pair!(t_put_slice, t_put_slice_dirty, put_slice_imp,
    (tensor: TRef, starts: Vec<i64>, update: TRef, ty: i64), [tensor, starts, update, ty],
    NifResult<TRef>);

fn gather_imp(tensor: TRef, indices: TRef, axes: Vec<i64>) -> NifResult<TRef> {
    let t = tensor.0.tensor().or_raise()?;
    let i = indices.0.tensor().or_raise()?;
    let ty = tensor.0.ty();
    Ok(wrap(
        index::gather(&t, ty, &i, indices.0.ty(), &axes).or_raise()?,
        ty,
    ))
}

nif_pair!(t_gather, t_gather_dirty, gather_imp,
    (tensor: TRef, indices: TRef, axes: Vec<i64>), [tensor, indices, axes], NifResult<TRef>);

fn take_imp(tensor: TRef, indices: TRef, axis: i64) -> NifResult<TRef> {
    let t = tensor.0.tensor().or_raise()?;
    let i = indices.0.tensor().or_raise()?;
    let ty = tensor.0.ty();
    Ok(wrap(
        index::take(&t, ty, &i, indices.0.ty(), axis).or_raise()?,
        ty,
    ))
}

nif_pair!(t_take, t_take_dirty, take_imp,
    (tensor: TRef, indices: TRef, axis: i64), [tensor, indices, axis], NifResult<TRef>);

fn take_along_axis_imp(tensor: TRef, indices: TRef, axis: i64) -> NifResult<TRef> {
    let t = tensor.0.tensor().or_raise()?;
    let i = indices.0.tensor().or_raise()?;
    let ty = tensor.0.ty();
    Ok(wrap(
        index::take_along_axis(&t, ty, &i, indices.0.ty(), axis).or_raise()?,
        ty,
    ))
}

nif_pair!(t_take_along_axis, t_take_along_axis_dirty, take_along_axis_imp,
    (tensor: TRef, indices: TRef, axis: i64), [tensor, indices, axis], NifResult<TRef>);

/// `accumulate` is true for indexed_add, false for indexed_put.
fn indexed_imp(
    accumulate: bool,
    tensor: TRef,
    indices: TRef,
    updates: TRef,
    axes: Vec<i64>,
    ty: i64,
) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    let i = indices.0.tensor().or_raise()?;
    let u = updates.0.tensor().or_raise()?;
    let r = index::indexed(
        &t,
        tensor.0.ty(),
        &i,
        indices.0.ty(),
        &u,
        updates.0.ty(),
        &axes,
        accumulate,
        out,
    )
    .or_raise()?;
    Ok(wrap(r, out))
}

nif_pair!(t_indexed, t_indexed_dirty, indexed_imp,
    (accumulate: bool, tensor: TRef, indices: TRef, updates: TRef, axes: Vec<i64>, ty: i64),
    [accumulate, tensor, indices, updates, axes, ty], NifResult<TRef>);
