use crate::decode;
use crate::errors::{raise, NifResult, OrRaise};
use crate::nif_pair;
use crate::resource::{wrap, TRef};
use nx_engine::ops::window::{self, Window, WindowOp};
use rustler::Atom;

rustler::atoms! { window_sum, window_product, window_max, window_min }

fn window_op(op: Atom) -> NifResult<WindowOp> {
    Ok(if op == window_sum() {
        WindowOp::Sum
    } else if op == window_product() {
        WindowOp::Product
    } else if op == window_max() {
        WindowOp::Max
    } else if op == window_min() {
        WindowOp::Min
    } else {
        return Err(raise(
            "Elixir.ArgumentError",
            format!("unknown window operation {op:?}"),
        ));
    })
}

/// `spec` is `{window, strides, padding, dilations}`, one entry per axis each.
type Spec = (Vec<i64>, Vec<i64>, Vec<(i64, i64)>, Vec<i64>);

fn spec(s: &Spec) -> Window<'_> {
    Window {
        dims: &s.0,
        strides: &s.1,
        padding: &s.2,
        dilations: &s.3,
    }
}

fn window_reduce_imp(op: Atom, tensor: TRef, s: Spec, ty: i64) -> NifResult<TRef> {
    let op = window_op(op)?;
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    let r = window::window_reduce(&t, tensor.0.ty(), op, &spec(&s), out).or_raise()?;
    Ok(wrap(r, out))
}

nif_pair!(t_window_reduce, t_window_reduce_dirty, window_reduce_imp,
    (op: Atom, tensor: TRef, s: Spec, ty: i64), [op, tensor, s, ty], NifResult<TRef>);

fn windows_imp(tensor: TRef, value: TRef, s: Spec) -> NifResult<TRef> {
    let (t, v) = (tensor.0.tensor().or_raise()?, value.0.tensor().or_raise()?);
    let ty = tensor.0.ty();
    let r = window::windows(&t, ty, &v, value.0.ty(), &spec(&s)).or_raise()?;
    Ok(wrap(r, ty))
}

nif_pair!(t_windows, t_windows_dirty, windows_imp,
    (tensor: TRef, value: TRef, s: Spec), [tensor, value, s], NifResult<TRef>);

fn window_scatter_imp(
    max: bool,
    tensor: TRef,
    source: TRef,
    init: TRef,
    s: Spec,
    ty: i64,
) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    let src = source.0.tensor().or_raise()?;
    let i = init.0.tensor().or_raise()?;
    let r = window::window_scatter(
        &t,
        tensor.0.ty(),
        &src,
        source.0.ty(),
        &i,
        init.0.ty(),
        max,
        &spec(&s),
        out,
    )
    .or_raise()?;
    Ok(wrap(r, out))
}

nif_pair!(t_window_scatter, t_window_scatter_dirty, window_scatter_imp,
    (max: bool, tensor: TRef, source: TRef, init: TRef, s: Spec, ty: i64),
    [max, tensor, source, init, s, ty], NifResult<TRef>);
