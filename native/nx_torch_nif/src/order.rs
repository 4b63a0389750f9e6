use crate::decode;
use crate::errors::{NifResult, OrRaise};
use crate::nif_pair;
use crate::resource::{wrap, TRef};
use nx_engine::ops::order;

fn sort_imp(tensor: TRef, axis: i64, descending: bool, stable: bool) -> NifResult<TRef> {
    let t = tensor.0.tensor().or_raise()?;
    let r = order::sort(&t, tensor.0.ty(), axis, descending, stable).or_raise()?;
    Ok(wrap(r, tensor.0.ty()))
}

nif_pair!(t_sort, t_sort_dirty, sort_imp,
    (tensor: TRef, axis: i64, descending: bool, stable: bool),
    [tensor, axis, descending, stable], NifResult<TRef>);

fn argsort_imp(
    tensor: TRef,
    axis: i64,
    descending: bool,
    stable: bool,
    ty: i64,
) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    let r = order::argsort(&t, tensor.0.ty(), axis, descending, stable, out).or_raise()?;
    Ok(wrap(r, out))
}

nif_pair!(t_argsort, t_argsort_dirty, argsort_imp,
    (tensor: TRef, axis: i64, descending: bool, stable: bool, ty: i64),
    [tensor, axis, descending, stable, ty], NifResult<TRef>);

fn top_k_imp(tensor: TRef, k: i64, ty: i64) -> NifResult<(TRef, TRef)> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    let (values, indices) = order::top_k(&t, tensor.0.ty(), k, out).or_raise()?;
    Ok((wrap(values, tensor.0.ty()), wrap(indices, out)))
}

nif_pair!(t_top_k, t_top_k_dirty, top_k_imp,
    (tensor: TRef, k: i64, ty: i64), [tensor, k, ty], NifResult<(TRef, TRef)>);
