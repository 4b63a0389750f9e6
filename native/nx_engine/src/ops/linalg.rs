//! Linear algebra (`Nx.LinAlg`) over LibTorch's `linalg` routines.
//!
//! Every function takes its inputs with their Nx types and the Nx type of the result, converts
//! the inputs to a type LAPACK/cuSOLVER compute in (f32 for integers, f16, bf16 and f8; f64,
//! c64 and c128 as they are), calls one `f_linalg_*` routine and casts back. Batches are the
//! leading axes. Failures that LAPACK reports per matrix become Nx's results: a matrix that is
//! not positive-definite gives a Cholesky factor of NaN, a singular matrix an inverse of NaN;
//! singular systems in `solve` and `triangular_solve` are an argument error, as in Nx.
use super::convert::cast;
use crate::error::{EngineError, Result, TorchContext};
use crate::runtime::prepare_thread;
use crate::types::NxType;
use tch::Tensor;

/// The type LibTorch's linear algebra computes an `out` result in.
fn compute_type(out: NxType) -> NxType {
    match out {
        NxType::F64 | NxType::C64 | NxType::C128 => out,
        _ => NxType::F32,
    }
}

/// Checks the rank (at least 2) and, when `square`, that the two last axes are equal.
fn matrices(op: &str, t: &Tensor, square: bool) -> Result<(i64, i64)> {
    let shape = t.size();
    if shape.len() < 2 {
        return Err(EngineError::argument(format!(
            "{op}: expected a tensor of rank 2 or more, got shape {shape:?}"
        )));
    }
    let (m, n) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    if square && m != n {
        return Err(EngineError::argument(format!(
            "{op}: expected square matrices, got shape {shape:?}"
        )));
    }
    Ok((m, n))
}

/// The input converted to the compute type of `out`.
fn input(t: &Tensor, ty: NxType, out: NxType) -> Result<(Tensor, NxType)> {
    let cty = compute_type(out);
    Ok((cast(t, ty, cty)?, cty))
}

/// `info` (one integer per matrix of the batch) reshaped to broadcast against the matrices.
fn failed_mask(info: &Tensor, op: &'static str) -> Result<Tensor> {
    let mut shape = info.size();
    shape.extend([1, 1]);
    info.f_ne(0)
        .and_then(|m| m.f_reshape(shape.as_slice()))
        .ctx(op)
}

fn any_nonzero(info: &Tensor, op: &'static str) -> Result<bool> {
    if info.numel() == 0 {
        return Ok(false);
    }
    let any = info.f_ne(0).and_then(|m| m.f_any()).ctx(op)?;
    Ok(any.f_int64_value(&[]).ctx(op)? != 0)
}

/// Lower Cholesky factor; matrices that are not positive-definite give NaN.
pub fn cholesky(t: &Tensor, ty: NxType, out: NxType) -> Result<Tensor> {
    prepare_thread();
    let op = "cholesky";
    matrices(op, t, true)?;
    let (x, cty) = input(t, ty, out)?;
    let (l, info) = x.f_linalg_cholesky_ex(false, false).ctx(op)?;
    let l = if any_nonzero(&info, op)? {
        l.f_masked_fill(&failed_mask(&info, op)?, f64::NAN)
            .ctx(op)?
    } else {
        l
    };
    cast(&l, cty, out)
}

/// `{q, r}`; `complete` gives `q` of `{m, m}` and `r` of `{m, n}`.
pub fn qr(t: &Tensor, ty: NxType, complete: bool, out: NxType) -> Result<(Tensor, Tensor)> {
    prepare_thread();
    let op = "qr";
    matrices(op, t, false)?;
    let (x, cty) = input(t, ty, out)?;
    let mode = if complete { "complete" } else { "reduced" };
    let (q, r) = Tensor::f_linalg_qr(&x, mode).ctx(op)?;
    Ok((cast(&q, cty, out)?, cast(&r, cty, out)?))
}

/// `{eigenvalues, eigenvectors}` of Hermitian matrices (the lower triangle is read), with the
/// eigenvalues in ascending order and the eigenvectors as columns.
pub fn eigh(t: &Tensor, ty: NxType, out: NxType) -> Result<(Tensor, Tensor)> {
    prepare_thread();
    let op = "eigh";
    matrices(op, t, true)?;
    let (x, cty) = input(t, ty, out)?;
    let (values, vectors) = x.f_linalg_eigh("L").ctx(op)?;
    let real = if cty.is_complex() {
        if cty == NxType::C128 {
            NxType::F64
        } else {
            NxType::F32
        }
    } else {
        cty
    };
    Ok((cast(&values, real, out)?, cast(&vectors, cty, out)?))
}

/// `{u, s, vt}` with the singular values in descending order; `full` gives square `u` and `vt`.
pub fn svd(t: &Tensor, ty: NxType, full: bool, out: NxType) -> Result<(Tensor, Tensor, Tensor)> {
    prepare_thread();
    let op = "svd";
    matrices(op, t, false)?;
    if out.is_complex() {
        return Err(EngineError::argument(
            "svd: complex matrices are not supported".to_string(),
        ));
    }
    let (x, cty) = input(t, ty, out)?;
    // torch.svd returns v (not its adjoint) and takes no cuSOLVER driver argument, which
    // linalg_svd would reject on the CPU when given an empty one.
    let (u, s, v) = x.f_svd(!full, true).ctx(op)?;
    let vt = v.f_mh().ctx(op)?;
    Ok((
        cast(&u, cty, out)?,
        cast(&s, cty, out)?,
        cast(&vt, cty, out)?,
    ))
}

/// `{p, l, u}` with `a = p . l . u`, partial pivoting. `p` comes in `p_out`'s type.
pub fn lu(t: &Tensor, ty: NxType, p_out: NxType, out: NxType) -> Result<(Tensor, Tensor, Tensor)> {
    prepare_thread();
    let op = "lu";
    matrices(op, t, true)?;
    let (x, cty) = input(t, ty, out)?;
    let (p, l, u) = Tensor::f_linalg_lu(&x, true).ctx(op)?;
    let p = if cty.is_complex() {
        p.f_real().ctx(op)?
    } else {
        p
    };
    let p_ty = if cty == NxType::C128 {
        NxType::F64
    } else if cty == NxType::C64 {
        NxType::F32
    } else {
        cty
    };
    Ok((
        cast(&p, p_ty, p_out)?,
        cast(&l, cty, out)?,
        cast(&u, cty, out)?,
    ))
}

fn same_device(b: &Tensor, a: &Tensor, op: &'static str) -> Result<Tensor> {
    if b.device() == a.device() {
        Ok(b.shallow_clone())
    } else {
        b.f_to_device(a.device()).ctx(op)
    }
}

/// Solves `a . x = b` (`b` a batch of vectors or of matrices); singular systems raise.
pub fn solve(a: &Tensor, ta: NxType, b: &Tensor, tb: NxType, out: NxType) -> Result<Tensor> {
    prepare_thread();
    let op = "solve";
    let (n, _) = matrices(op, a, true)?;
    let (sa, sb) = (a.size(), b.size());
    let batch = &sa[..sa.len() - 2];
    let ok = (sb.len() == sa.len() - 1 && sb[..batch.len()] == *batch && sb[batch.len()] == n)
        || (sb.len() == sa.len() && sb[..batch.len()] == *batch && sb[batch.len()] == n);
    if !ok {
        return Err(EngineError::argument(format!(
            "solve: incompatible shapes {sa:?} and {sb:?}"
        )));
    }
    let (xa, cty) = input(a, ta, out)?;
    let (xb, _) = input(&same_device(b, a, op)?, tb, out)?;
    let (x, info) = Tensor::f_linalg_solve_ex(&xa, &xb, true, false).ctx(op)?;
    if any_nonzero(&info, op)? {
        return Err(EngineError::argument("can't solve for singular matrix"));
    }
    cast(&x, cty, out)
}

/// Solves `op(a) . x = b` (`left_side`) or `x . op(a) = b` for triangular `a`, where `op` is
/// the identity or the transpose. `b` may be a batch of vectors. A zero on the diagonal of `a`
/// raises, as in Nx.
#[allow(clippy::too_many_arguments)]
pub fn triangular_solve(
    a: &Tensor,
    ta: NxType,
    b: &Tensor,
    tb: NxType,
    left_side: bool,
    lower: bool,
    transpose: bool,
    out: NxType,
) -> Result<Tensor> {
    prepare_thread();
    let op = "triangular_solve";
    let (n, _) = matrices(op, a, true)?;
    let (sa, sb) = (a.size(), b.size());
    let batch = &sa[..sa.len() - 2];
    let vector = sb.len() == sa.len() - 1;
    let fits = if vector {
        sb[..batch.len()] == *batch && sb[batch.len()] == n
    } else {
        sb.len() == sa.len()
            && sb[..batch.len()] == *batch
            && if left_side {
                sb[batch.len()] == n
            } else {
                sb[batch.len() + 1] == n
            }
    };
    if !fits {
        return Err(EngineError::argument(
            "incompatible dimensions for a and b on triangular solve",
        ));
    }
    let (xa, cty) = input(a, ta, out)?;
    let (xb, _) = input(&same_device(b, a, op)?, tb, out)?;
    let diagonal = xa.f_diagonal(0, -2, -1).ctx(op)?;
    if any_zero(&diagonal, op)? {
        return Err(EngineError::argument("can't solve for singular matrix"));
    }
    let xa = if transpose { xa.f_mt().ctx(op)? } else { xa };
    // transposing a lower triangular matrix gives an upper one
    let upper = if transpose { lower } else { !lower };
    let squeeze_axis = if left_side { -1 } else { -2 };
    let xb = if vector {
        xb.f_unsqueeze(squeeze_axis).ctx(op)?
    } else {
        xb
    };
    let x = xa
        .f_linalg_solve_triangular(&xb, upper, left_side, false)
        .ctx(op)?;
    let x = if vector {
        x.f_squeeze_dim(squeeze_axis).ctx(op)?
    } else {
        x
    };
    cast(&x, cty, out)
}

fn any_zero(t: &Tensor, op: &'static str) -> Result<bool> {
    if t.numel() == 0 {
        return Ok(false);
    }
    let any = t.f_eq(0).and_then(|m| m.f_any()).ctx(op)?;
    Ok(any.f_int64_value(&[]).ctx(op)? != 0)
}

pub fn determinant(t: &Tensor, ty: NxType, out: NxType) -> Result<Tensor> {
    prepare_thread();
    let op = "determinant";
    matrices(op, t, true)?;
    let (x, cty) = input(t, ty, out)?;
    let d = Tensor::f_linalg_det(&x).ctx(op)?;
    cast(&d, cty, out)
}

/// Inverses; singular matrices give NaN, as in Nx.
pub fn invert(t: &Tensor, ty: NxType, out: NxType) -> Result<Tensor> {
    prepare_thread();
    let op = "invert";
    matrices(op, t, true)?;
    let (x, cty) = input(t, ty, out)?;
    let (inv, info) = Tensor::f_linalg_inv_ex(&x, false).ctx(op)?;
    let inv = if any_nonzero(&info, op)? {
        inv.f_masked_fill(&failed_mask(&info, op)?, f64::NAN)
            .ctx(op)?
    } else {
        inv
    };
    cast(&inv, cty, out)
}

/// Moore-Penrose pseudo-inverse of a batch of matrices: singular values below `eps` count as
/// zero.
pub fn pinv(t: &Tensor, ty: NxType, eps: f64, out: NxType) -> Result<Tensor> {
    prepare_thread();
    let op = "pinv";
    matrices(op, t, false)?;
    let (x, cty) = input(t, ty, out)?;
    let p = x
        .f_linalg_pinv_atol_rtol_float(Some(eps), Some(0.0), false)
        .ctx(op)?;
    cast(&p, cty, out)
}

/// The number of singular values above `eps * max(m, n) * largest singular value`.
pub fn matrix_rank(t: &Tensor, ty: NxType, eps: f64, out: NxType) -> Result<Tensor> {
    prepare_thread();
    let op = "matrix_rank";
    let (m, n) = matrices(op, t, false)?;
    let cty = if ty == NxType::F64 {
        NxType::F64
    } else {
        NxType::F32
    };
    let (x, _) = input(t, ty, cty)?;
    let rtol = eps * (m.max(n) as f64);
    let r = x
        .f_linalg_matrix_rank_atol_rtol_float(Some(0.0), Some(rtol), false)
        .ctx(op)?;
    cast(&r, NxType::S64, out)
}

/// `pinv(a) . b`: the minimum-norm least-squares solution, with Nx's `eps` cut-off.
pub fn least_squares(
    a: &Tensor,
    ta: NxType,
    b: &Tensor,
    tb: NxType,
    eps: f64,
    out: NxType,
) -> Result<Tensor> {
    prepare_thread();
    let op = "least_squares";
    let (m, _) = matrices(op, a, false)?;
    let sb = b.size();
    if sb.len() + 1 != a.dim() || sb[sb.len() - 1] != m {
        return Err(EngineError::argument(format!(
            "least_squares: incompatible shapes {:?} and {sb:?}",
            a.size()
        )));
    }
    let (xa, cty) = input(a, ta, out)?;
    let (xb, _) = input(&same_device(b, a, op)?, tb, out)?;
    let p = xa
        .f_linalg_pinv_atol_rtol_float(Some(eps), Some(0.0), false)
        .ctx(op)?;
    let x = p
        .f_matmul(&xb.f_unsqueeze(-1).ctx(op)?)
        .and_then(|x| x.f_squeeze_dim(-1))
        .ctx(op)?;
    cast(&x, cty, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: &Tensor) -> Vec<f64> {
        let t = t
            .f_to_kind(tch::Kind::Double)
            .unwrap()
            .f_flatten(0, -1)
            .unwrap();
        let n = t.numel();
        let mut out = vec![0f64; n];
        t.f_copy_data(&mut out, n).unwrap();
        out
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5)
    }

    #[test]
    fn integer_inputs_are_computed_in_f32() {
        let a = Tensor::from_slice(&[4i32, 2, 2, 3]).reshape([2, 2]);
        let l = cholesky(&a, NxType::S32, NxType::F32).unwrap();
        assert_eq!(l.kind(), tch::Kind::Float);
        let expected = [2.0, 0.0, 1.0, 2f64.sqrt()];
        assert!(close(&values(&l), &expected));
    }

    #[test]
    fn not_positive_definite_gives_nan_per_matrix() {
        let a =
            Tensor::from_slice(&[1.0f32, 0.0, 0.0, 1.0, -1.0, 0.0, 0.0, 1.0]).reshape([2, 2, 2]);
        let l = values(&cholesky(&a, NxType::F32, NxType::F32).unwrap());
        assert!(close(&l[..4], &[1.0, 0.0, 0.0, 1.0]));
        assert!(l[4..].iter().all(|v| v.is_nan()));
    }

    #[test]
    fn singular_inverse_is_nan_and_singular_solve_raises() {
        let a = Tensor::from_slice(&[1.0f64, 2.0, 2.0, 4.0]).reshape([2, 2]);
        assert!(values(&invert(&a, NxType::F64, NxType::F64).unwrap())
            .iter()
            .all(|v| v.is_nan()));
        let b = Tensor::from_slice(&[1.0f64, 1.0]);
        assert!(solve(&a, NxType::F64, &b, NxType::F64, NxType::F64).is_err());
    }

    #[test]
    fn triangular_solve_both_sides() {
        let a = Tensor::from_slice(&[2.0f64, 0.0, 1.0, 1.0]).reshape([2, 2]);
        let b = Tensor::from_slice(&[2.0f64, 3.0]);
        let left = triangular_solve(
            &a,
            NxType::F64,
            &b,
            NxType::F64,
            true,
            true,
            false,
            NxType::F64,
        );
        assert!(close(&values(&left.unwrap()), &[1.0, 2.0]));
        // x . a = b: [x0, x1] . [[2, 0], [1, 1]] = [2 x0 + x1, x1] = [2, 3]
        let right = triangular_solve(
            &a,
            NxType::F64,
            &b,
            NxType::F64,
            false,
            true,
            false,
            NxType::F64,
        );
        assert!(close(&values(&right.unwrap()), &[-0.5, 3.0]));
        let zero = Tensor::from_slice(&[0.0f64, 0.0, 1.0, 1.0]).reshape([2, 2]);
        assert!(triangular_solve(
            &zero,
            NxType::F64,
            &b,
            NxType::F64,
            true,
            true,
            false,
            NxType::F64
        )
        .is_err());
    }

    #[test]
    fn shapes_are_checked_before_libtorch() {
        let v = Tensor::from_slice(&[1.0f32, 2.0]);
        assert!(determinant(&v, NxType::F32, NxType::F32).is_err());
        let rect = Tensor::from_slice(&[1.0f32; 6]).reshape([2, 3]);
        assert!(eigh(&rect, NxType::F32, NxType::F32).is_err());
    }
}
