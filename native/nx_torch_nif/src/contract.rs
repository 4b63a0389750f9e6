use crate::decode;
use crate::errors::{NifResult, OrRaise};
use crate::nif_pair;
use crate::resource::{wrap, TRef};
use nx_engine::ops::contract;

#[allow(clippy::too_many_arguments)]
fn dot_imp(
    a: TRef,
    contract_a: Vec<i64>,
    batch_a: Vec<i64>,
    b: TRef,
    contract_b: Vec<i64>,
    batch_b: Vec<i64>,
    ty: i64,
) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let (ta, tb) = (a.0.tensor().or_raise()?, b.0.tensor().or_raise()?);
    let r = contract::dot(
        &ta,
        a.0.ty(),
        &contract_a,
        &batch_a,
        &tb,
        b.0.ty(),
        &contract_b,
        &batch_b,
        out,
    )
    .or_raise()?;
    Ok(wrap(r, out))
}

nif_pair!(t_dot, t_dot_dirty, dot_imp,
    (a: TRef, contract_a: Vec<i64>, batch_a: Vec<i64>, b: TRef, contract_b: Vec<i64>,
     batch_b: Vec<i64>, ty: i64),
    [a, contract_a, batch_a, b, contract_b, batch_b, ty], NifResult<TRef>);
