//! Tensor contraction (`Nx.dot/6`): any contraction axes and batch axes, lowered to one matrix
//! multiply (or a batched one) over permuted, reshaped views.
use super::convert::{cast, to_compute};
use crate::error::{EngineError, Result, TorchContext};
use crate::runtime::prepare_thread;
use crate::types::NxType;
use tch::{Kind, Tensor};

fn check(op: &str, cond: bool, message: impl FnOnce() -> String) -> Result<()> {
    if cond {
        Ok(())
    } else {
        Err(EngineError::argument(format!("{op}: {}", message())))
    }
}

fn validate_axes(shape: &[i64], contract: &[i64], batch: &[i64]) -> Result<()> {
    let rank = shape.len() as i64;
    let mut seen = vec![false; shape.len()];
    for &axis in contract.iter().chain(batch) {
        check("dot", (0..rank).contains(&axis), || {
            format!("axis {axis} is out of range for shape {shape:?}")
        })?;
        check("dot", !seen[axis as usize], || {
            format!("axis {axis} is used twice for shape {shape:?}")
        })?;
        seen[axis as usize] = true;
    }
    Ok(())
}

/// Values in a kind that LibTorch multiplies natively, and the type they represent.
fn multipliable(t: &Tensor, ty: NxType, out: NxType) -> Result<(Tensor, NxType)> {
    let x = cast(t, ty, out)?;
    let (x, cty) = to_compute(&x, out)?;
    match cty {
        NxType::F16 | NxType::BF16 => Ok((x.f_to_kind(Kind::Float).ctx("dot")?, NxType::F32)),
        _ => Ok((x, cty)),
    }
}

#[allow(clippy::too_many_arguments)]
pub fn dot(
    a: &Tensor,
    ta: NxType,
    contract_a: &[i64],
    batch_a: &[i64],
    b: &Tensor,
    tb: NxType,
    contract_b: &[i64],
    batch_b: &[i64],
    out: NxType,
) -> Result<Tensor> {
    prepare_thread();
    let (sa, sb) = (a.size(), b.size());
    validate_axes(&sa, contract_a, batch_a)?;
    validate_axes(&sb, contract_b, batch_b)?;
    check(
        "dot",
        contract_a.len() == contract_b.len() && batch_a.len() == batch_b.len(),
        || "contraction and batch axes must pair up one to one".to_string(),
    )?;
    for (&x, &y) in contract_a
        .iter()
        .zip(contract_b)
        .chain(batch_a.iter().zip(batch_b))
    {
        check("dot", sa[x as usize] == sb[y as usize], || {
            format!("axis {x} of {sa:?} and axis {y} of {sb:?} differ in size")
        })?;
    }
    let free = |shape: &[i64], contract: &[i64], batch: &[i64]| -> Vec<i64> {
        (0..shape.len() as i64)
            .filter(|axis| !contract.contains(axis) && !batch.contains(axis))
            .collect()
    };
    let free_a = free(&sa, contract_a, batch_a);
    let free_b = free(&sb, contract_b, batch_b);
    let dims = |shape: &[i64], axes: &[i64]| -> Vec<i64> {
        axes.iter().map(|&axis| shape[axis as usize]).collect()
    };
    let product = |d: &[i64]| -> i64 { d.iter().product() };
    let batch_dims = dims(&sa, batch_a);
    let (free_a_dims, free_b_dims) = (dims(&sa, &free_a), dims(&sb, &free_b));
    let (nb, m, k, n) = (
        product(&batch_dims),
        product(&free_a_dims),
        product(&dims(&sa, contract_a)),
        product(&free_b_dims),
    );

    let (xa, cty) = multipliable(a, ta, out)?;
    let (xb, _) = multipliable(b, tb, out)?;
    let perm_a: Vec<i64> = [batch_a, &free_a, contract_a].concat();
    let perm_b: Vec<i64> = [batch_b, contract_b, &free_b].concat();
    let op = "dot";
    // identity permutations and reshapes to the shape a tensor has are skipped: the same
    // product, a few LibTorch calls fewer (they dominate small products)
    let permute = |x: Tensor, perm: &[i64]| -> Result<Tensor> {
        if perm.iter().enumerate().all(|(i, &p)| p == i as i64) {
            Ok(x)
        } else {
            x.f_permute(perm).ctx(op)
        }
    };
    let reshape = |x: Tensor, shape: &[i64]| -> Result<Tensor> {
        if x.size() == shape {
            Ok(x)
        } else {
            x.f_reshape(shape).ctx(op)
        }
    };
    let xa = permute(xa, &perm_a)?;
    let xb = permute(xb, &perm_b)?;
    let r = if nb == 1 {
        let ma = reshape(xa, &[m, k])?;
        let mb = reshape(xb, &[k, n])?;
        match super::small_matmul::small_product(&ma, &mb)? {
            Some(r) => r,
            None => {
                // large products run on LibTorch's OpenMP threads: helpers make way
                if m.saturating_mul(k).saturating_mul(n) > super::small_matmul::SMALL_MAX_MACS {
                    crate::split::rest();
                }
                ma.f_mm(&mb).ctx(op)?
            }
        }
    } else {
        let ma = xa.f_reshape([nb, m, k]).ctx(op)?;
        let mb = xb.f_reshape([nb, k, n]).ctx(op)?;
        ma.f_bmm(&mb).ctx(op)?
    };
    let shape: Vec<i64> = [batch_dims, free_a_dims, free_b_dims].concat();
    let r = reshape(r, &shape)?;
    cast(&r, cty, out)
}

/// `w - dot(a, b) * scale` for f32 CPU or CUDA matrices, contracting axis `contract_a` of `a`
/// with axis `contract_b` of `b`: one GEMM onto `w` (LibTorch's `addmm`, `alpha = -scale`).
/// The product is rounded once, inside the GEMM, instead of before the scaling and the
/// subtraction: results agree with the three separate operations to within f32 rounding.
pub fn dot_update(
    w: &Tensor,
    a: &Tensor,
    contract_a: i64,
    b: &Tensor,
    contract_b: i64,
    scale: f64,
) -> Result<Tensor> {
    prepare_thread();
    let (sw, sa, sb) = (w.size(), a.size(), b.size());
    let f32_matrix = |t: &Tensor, s: &[i64]| {
        s.len() == 2 && t.f_kind().map(|k| k == tch::Kind::Float).unwrap_or(false)
    };
    let axes_ok = matches!(contract_a, 0 | 1) && matches!(contract_b, 0 | 1);
    check(
        "dot_update",
        f32_matrix(w, &sw) && f32_matrix(a, &sa) && f32_matrix(b, &sb) && axes_ok,
        || "expected f32 matrices and axes 0 or 1".to_string(),
    )?;
    let m1 = if contract_a == 1 {
        a.shallow_clone()
    } else {
        a.f_transpose(0, 1).ctx("dot_update")?
    };
    let m2 = if contract_b == 0 {
        b.shallow_clone()
    } else {
        b.f_transpose(0, 1).ctx("dot_update")?
    };
    let (s1, s2) = (m1.size(), m2.size());
    check("dot_update", s1[1] == s2[0] && sw == [s1[0], s2[1]], || {
        format!("shapes {sw:?}, {sa:?} and {sb:?} do not match")
    })?;
    crate::split::rest();
    crate::runtime::addmm(w, &m1, &m2, -scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batched_contraction_matches_a_loop() {
        // a: [2, 2, 3], b: [2, 3] contracted on a's axis 2 and b's axis 1, batch a0/b0
        let a = Tensor::from_slice(&[1i32, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]).reshape([2, 2, 3]);
        let b = Tensor::from_slice(&[1i32, 0, 1, 2, 1, 0]).reshape([2, 3]);
        let r = dot(
            &a,
            NxType::S32,
            &[2],
            &[0],
            &b,
            NxType::S32,
            &[1],
            &[0],
            NxType::S32,
        )
        .unwrap();
        assert_eq!(r.size(), vec![2, 2]);
        let mut v = [0i32; 4];
        r.f_copy_data(&mut v, 4).unwrap();
        assert_eq!(v, [4, 10, 22, 31]);
    }

    #[test]
    fn mismatched_sizes_are_rejected() {
        let a = Tensor::from_slice(&[1.0f32, 2.0]);
        let b = Tensor::from_slice(&[1.0f32, 2.0, 3.0]);
        assert!(dot(
            &a,
            NxType::F32,
            &[0],
            &[],
            &b,
            NxType::F32,
            &[0],
            &[],
            NxType::F32
        )
        .is_err());
    }
}
