use crate::decode;
use crate::errors::{raise, NifResult, OrRaise};
use crate::nif_pair;
use crate::resource::{wrap, TRef};
use nx_engine::ops::scan::{self, Scan};
use rustler::Atom;

rustler::atoms! { cumulative_sum, cumulative_product, cumulative_max, cumulative_min }

fn cumulative_imp(op: Atom, tensor: TRef, axis: i64, reverse: bool, ty: i64) -> NifResult<TRef> {
    let op = if op == cumulative_sum() {
        Scan::Sum
    } else if op == cumulative_product() {
        Scan::Product
    } else if op == cumulative_max() {
        Scan::Max
    } else if op == cumulative_min() {
        Scan::Min
    } else {
        return Err(raise(
            "Elixir.ArgumentError",
            format!("unknown cumulative op {op:?}"),
        ));
    };
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    let r = scan::cumulative(&t, tensor.0.ty(), op, axis, reverse, out).or_raise()?;
    Ok(wrap(r, out))
}

nif_pair!(t_cumulative, t_cumulative_dirty, cumulative_imp,
    (op: Atom, tensor: TRef, axis: i64, reverse: bool, ty: i64),
    [op, tensor, axis, reverse, ty], NifResult<TRef>);
