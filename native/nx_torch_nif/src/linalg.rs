//! Linear algebra NIFs (`Nx.LinAlg`), each with a dirty twin: `t_cholesky`, `t_qr`, `t_eigh`,
//! `t_svd`, `t_lu`, `t_solve`, `t_triangular_solve`, `t_determinant`, `t_invert`, `t_pinv`,
//! `t_matrix_rank`, `t_least_squares`. Result types come as codes.
use crate::decode;
use crate::errors::{NifResult, OrRaise};
use crate::nif_pair;
use crate::resource::{wrap, TRef};
use nx_engine::ops::linalg;

fn cholesky_imp(tensor: TRef, ty: i64) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    Ok(wrap(
        linalg::cholesky(&t, tensor.0.ty(), out).or_raise()?,
        out,
    ))
}

nif_pair!(t_cholesky, t_cholesky_dirty, cholesky_imp,
    (tensor: TRef, ty: i64), [tensor, ty], NifResult<TRef>);

fn qr_imp(tensor: TRef, complete: bool, ty: i64) -> NifResult<(TRef, TRef)> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    let (q, r) = linalg::qr(&t, tensor.0.ty(), complete, out).or_raise()?;
    Ok((wrap(q, out), wrap(r, out)))
}

nif_pair!(t_qr, t_qr_dirty, qr_imp,
    (tensor: TRef, complete: bool, ty: i64), [tensor, complete, ty], NifResult<(TRef, TRef)>);

fn eigh_imp(tensor: TRef, ty: i64) -> NifResult<(TRef, TRef)> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    let (values, vectors) = linalg::eigh(&t, tensor.0.ty(), out).or_raise()?;
    Ok((wrap(values, out), wrap(vectors, out)))
}

nif_pair!(t_eigh, t_eigh_dirty, eigh_imp,
    (tensor: TRef, ty: i64), [tensor, ty], NifResult<(TRef, TRef)>);

fn svd_imp(tensor: TRef, full: bool, ty: i64) -> NifResult<(TRef, TRef, TRef)> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    let (u, s, vt) = linalg::svd(&t, tensor.0.ty(), full, out).or_raise()?;
    Ok((wrap(u, out), wrap(s, out), wrap(vt, out)))
}

nif_pair!(t_svd, t_svd_dirty, svd_imp,
    (tensor: TRef, full: bool, ty: i64), [tensor, full, ty], NifResult<(TRef, TRef, TRef)>);

fn lu_imp(tensor: TRef, p_ty: i64, ty: i64) -> NifResult<(TRef, TRef, TRef)> {
    let (p_out, out) = (decode::ty(p_ty)?, decode::ty(ty)?);
    let t = tensor.0.tensor().or_raise()?;
    let (p, l, u) = linalg::lu(&t, tensor.0.ty(), p_out, out).or_raise()?;
    Ok((wrap(p, p_out), wrap(l, out), wrap(u, out)))
}

nif_pair!(t_lu, t_lu_dirty, lu_imp,
    (tensor: TRef, p_ty: i64, ty: i64), [tensor, p_ty, ty], NifResult<(TRef, TRef, TRef)>);

fn solve_imp(a: TRef, b: TRef, ty: i64) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let (ta, tb) = (a.0.tensor().or_raise()?, b.0.tensor().or_raise()?);
    let x = linalg::solve(&ta, a.0.ty(), &tb, b.0.ty(), out).or_raise()?;
    Ok(wrap(x, out))
}

nif_pair!(t_solve, t_solve_dirty, solve_imp,
    (a: TRef, b: TRef, ty: i64), [a, b, ty], NifResult<TRef>);

fn triangular_solve_imp(
    a: TRef,
    b: TRef,
    left_side: bool,
    lower: bool,
    transpose: bool,
    ty: i64,
) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let (ta, tb) = (a.0.tensor().or_raise()?, b.0.tensor().or_raise()?);
    let x = linalg::triangular_solve(
        &ta,
        a.0.ty(),
        &tb,
        b.0.ty(),
        left_side,
        lower,
        transpose,
        out,
    )
    .or_raise()?;
    Ok(wrap(x, out))
}

nif_pair!(t_triangular_solve, t_triangular_solve_dirty, triangular_solve_imp,
    (a: TRef, b: TRef, left_side: bool, lower: bool, transpose: bool, ty: i64),
    [a, b, left_side, lower, transpose, ty], NifResult<TRef>);

fn determinant_imp(tensor: TRef, ty: i64) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    Ok(wrap(
        linalg::determinant(&t, tensor.0.ty(), out).or_raise()?,
        out,
    ))
}

nif_pair!(t_determinant, t_determinant_dirty, determinant_imp,
    (tensor: TRef, ty: i64), [tensor, ty], NifResult<TRef>);

fn invert_imp(tensor: TRef, ty: i64) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    Ok(wrap(
        linalg::invert(&t, tensor.0.ty(), out).or_raise()?,
        out,
    ))
}

nif_pair!(t_invert, t_invert_dirty, invert_imp,
    (tensor: TRef, ty: i64), [tensor, ty], NifResult<TRef>);

fn pinv_imp(tensor: TRef, eps: f64, ty: i64) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    Ok(wrap(
        linalg::pinv(&t, tensor.0.ty(), eps, out).or_raise()?,
        out,
    ))
}

nif_pair!(t_pinv, t_pinv_dirty, pinv_imp,
    (tensor: TRef, eps: f64, ty: i64), [tensor, eps, ty], NifResult<TRef>);

fn matrix_rank_imp(tensor: TRef, eps: f64, ty: i64) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let t = tensor.0.tensor().or_raise()?;
    Ok(wrap(
        linalg::matrix_rank(&t, tensor.0.ty(), eps, out).or_raise()?,
        out,
    ))
}

nif_pair!(t_matrix_rank, t_matrix_rank_dirty, matrix_rank_imp,
    (tensor: TRef, eps: f64, ty: i64), [tensor, eps, ty], NifResult<TRef>);

fn least_squares_imp(a: TRef, b: TRef, eps: f64, ty: i64) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let (ta, tb) = (a.0.tensor().or_raise()?, b.0.tensor().or_raise()?);
    let x = linalg::least_squares(&ta, a.0.ty(), &tb, b.0.ty(), eps, out).or_raise()?;
    Ok(wrap(x, out))
}

nif_pair!(t_least_squares, t_least_squares_dirty, least_squares_imp,
    (a: TRef, b: TRef, eps: f64, ty: i64), [a, b, eps, ty], NifResult<TRef>);
