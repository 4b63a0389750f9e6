use crate::decode;
use crate::errors::{raise, NifResult, OrRaise};
use crate::nif_pair;
use crate::resource::{wrap, wrap_nx, TRef};
use nx_engine::ops::reduce::{self, Reduction};
use rustler::{Atom, Encoder, Env, Term};

rustler::atoms! { sum, product, reduce_max, reduce_min, all, any, dirty }

fn reduction(op: Atom) -> NifResult<Reduction> {
    Ok(if op == sum() {
        Reduction::Sum
    } else if op == product() {
        Reduction::Product
    } else if op == reduce_max() {
        Reduction::Max
    } else if op == reduce_min() {
        Reduction::Min
    } else if op == all() {
        Reduction::All
    } else if op == any() {
        Reduction::Any
    } else {
        return Err(raise(
            "Elixir.ArgumentError",
            format!("unknown reduction {op:?}"),
        ));
    })
}

fn reduce_imp(op: Atom, tensor: TRef, axes: Vec<i64>, keep: bool, ty: i64) -> NifResult<TRef> {
    let op = reduction(op)?;
    let out = decode::ty(ty)?;
    if let Some(deferred) = nx_engine::lazy::reduce(op, &tensor.0, &axes, keep, out).or_raise()? {
        return Ok(wrap_nx(deferred));
    }
    let t = tensor.0.tensor().or_raise()?;
    let r = reduce::reduce(&t, tensor.0.ty(), op, &axes, keep, out).or_raise()?;
    Ok(wrap(r, out))
}

/// On a normal scheduler: the deferred result of a last-axis f32 reduction, else the atom
/// `dirty` (see `t_binary_defer`).
#[rustler::nif]
fn t_reduce_defer(
    env: Env,
    op: Atom,
    tensor: TRef,
    axes: Vec<i64>,
    keep: bool,
    ty: i64,
) -> NifResult<Term> {
    let op = reduction(op)?;
    let out = decode::ty(ty)?;
    Ok(
        match nx_engine::lazy::reduce(op, &tensor.0, &axes, keep, out).or_raise()? {
            Some(t) => wrap_nx(t).encode(env),
            None => dirty().encode(env),
        },
    )
}

nif_pair!(t_reduce, t_reduce_dirty, reduce_imp,
    (op: Atom, tensor: TRef, axes: Vec<i64>, keep: bool, ty: i64), [op, tensor, axes, keep, ty],
    NifResult<TRef>);

/// `axis` is -1 for the flattened tensor.
fn arg_reduce_imp(
    max: bool,
    tensor: TRef,
    axis: i64,
    keep: bool,
    tie_high: bool,
    ty: i64,
) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    let axis = (axis >= 0).then_some(axis);
    let r = reduce::arg_reduce(&t, tensor.0.ty(), max, axis, keep, tie_high, out).or_raise()?;
    Ok(wrap(r, out))
}

nif_pair!(t_arg_reduce, t_arg_reduce_dirty, arg_reduce_imp,
    (max: bool, tensor: TRef, axis: i64, keep: bool, tie_high: bool, ty: i64),
    [max, tensor, axis, keep, tie_high, ty], NifResult<TRef>);
