use crate::decode;
use crate::errors::{NifResult, OrRaise};
use crate::resource::{wrap, TRef};
use nx_engine::ops::shape;
use rustler::Term;

// Shape operations build views: constant time, always on a normal scheduler.

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
