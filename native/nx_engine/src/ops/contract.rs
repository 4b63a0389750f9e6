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
                let large =
                    m.saturating_mul(k).saturating_mul(n) > super::small_matmul::SMALL_MAX_MACS;
                match large.then(|| split_product(&ma, &mb, None)).transpose()? {
                    Some(Some(r)) => r,
                    _ => {
                        // LibTorch's OpenMP threads: helpers make way
                        if large {
                            crate::split::rest();
                        }
                        ma.f_mm(&mb).ctx(op)?
                    }
                }
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
    if let Some(r) = split_product(&m1, &m2, Some((w, -scale)))? {
        return Ok(r);
    }
    crate::split::rest();
    crate::runtime::addmm(w, &m1, &m2, -scale)
}

/// The row blocks of a split product, one per thread: each part's tensors are used by the
/// thread that runs the part only, and `b` is only read.
struct RowBlocks {
    outs: Vec<Tensor>,
    a_rows: Vec<Tensor>,
    w_rows: Vec<Option<Tensor>>,
    b: Tensor,
    alpha: f64,
}

// SAFETY: see the type's documentation: no tensor is used by two threads except `b`, which
// LibTorch only reads.
unsafe impl Sync for RowBlocks {}

/// Whether large products are split by rows (`NX_TORCH_SPLIT_MM=0` turns it off).
fn split_products() -> bool {
    static ON: once_cell::sync::Lazy<bool> =
        once_cell::sync::Lazy::new(|| std::env::var("NX_TORCH_SPLIT_MM").as_deref() != Ok("0"));
    *ON
}

/// `a @ b` (or `w + alpha * (a @ b)`) for f32/f64 CPU matrices, split by rows of the result
/// into one block per core, each computed by MKL single-threaded on the caller or a split
/// helper ([`crate::split`]). Under `OMP_WAIT_POLICY=passive` MKL's own two threads sleep at
/// every synchronization: `[128, 784] x [784, 512]` took 647-662 µs that way and 546-550 µs
/// split, `[256,256]²` 243 against 173, `1024²` the same (10.7 ms). `None`: not such a
/// product, or no helpers.
fn split_product(a: &Tensor, b: &Tensor, w: Option<(&Tensor, f64)>) -> Result<Option<Tensor>> {
    let op = "dot";
    let parts = crate::split::width();
    let (sa, sb) = (a.size(), b.size());
    let ([m, k], [k2, n]) = (sa.as_slice(), sb.as_slice()) else {
        return Ok(None);
    };
    let (m, n) = (*m, *n);
    let kind = a.f_kind().ctx(op)?;
    let fits = parts >= 2
        && split_products()
        && k == k2
        && matches!(kind, Kind::Float | Kind::Double)
        && b.f_kind().ctx(op)? == kind
        && a.device() == tch::Device::Cpu
        && b.device() == tch::Device::Cpu
        && m >= 32 * parts as i64
        && w.is_none_or(|(w, _)| w.size() == [m, n] && w.kind() == kind);
    if !fits {
        return Ok(None);
    }
    let c = crate::runtime::empty_cpu(kind, &[m, n])?;
    let per = (m as usize).div_ceil(parts) as i64;
    let mut blocks = RowBlocks {
        outs: Vec::new(),
        a_rows: Vec::new(),
        w_rows: Vec::new(),
        b: b.shallow_clone(),
        alpha: w.map_or(1.0, |(_, alpha)| alpha),
    };
    for p in 0..parts as i64 {
        let (r0, rows) = (p * per, per.min(m - p * per));
        if rows <= 0 {
            break;
        }
        blocks.outs.push(c.f_narrow(0, r0, rows).ctx(op)?);
        blocks.a_rows.push(a.f_narrow(0, r0, rows).ctx(op)?);
        blocks.w_rows.push(
            w.map(|(w, _)| w.f_narrow(0, r0, rows))
                .transpose()
                .ctx(op)?,
        );
    }
    let failed = parking_lot::Mutex::new(None);
    let blocks = &blocks;
    let ran = crate::split::run(blocks.outs.len(), &|p| {
        let blocks: &RowBlocks = blocks;
        // MKL single-threaded for this call: the parallelism is the blocks'
        let previous = crate::runtime::mkl_local_threads(1);
        let (out, rows) = (&blocks.outs[p], &blocks.a_rows[p]);
        let r = match &blocks.w_rows[p] {
            Some(w) => crate::runtime::addmm_out(out, w, rows, &blocks.b, blocks.alpha),
            None => rows.f_mm_out(out, &blocks.b).map(drop).ctx("dot"),
        };
        crate::runtime::mkl_local_threads(previous);
        if let Err(e) = r {
            *failed.lock() = Some(e);
        }
    });
    if let Some(e) = failed.into_inner() {
        return Err(e);
    }
    if !ran {
        return Err(EngineError::argument("dot: a worker failed"));
    }
    Ok(Some(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_products_match_libtorch() {
        use tch::Device;
        let cases = [
            (128, 784, 512, false, Kind::Float),
            (130, 300, 70, true, Kind::Float),
            (97, 64, 33, false, Kind::Double),
        ];
        for (m, k, n, transposed, kind) in cases {
            let a = if transposed {
                Tensor::f_rand([k, m], (kind, Device::Cpu)).unwrap().tr()
            } else {
                Tensor::f_rand([m, k], (kind, Device::Cpu)).unwrap()
            };
            let b = Tensor::f_rand([k, n], (kind, Device::Cpu)).unwrap() - 0.5;
            let w = Tensor::f_rand([m, n], (kind, Device::Cpu)).unwrap();
            let tol = if kind == Kind::Float { 1e-5 } else { 1e-12 };
            let got = split_product(&a, &b, None).unwrap().expect("split");
            assert!(got.allclose(&a.mm(&b), tol, tol, false), "{m}x{k}x{n}");
            let got = split_product(&a, &b, Some((&w, -0.5)))
                .unwrap()
                .expect("split");
            let want = &w - a.mm(&b) * 0.5;
            assert!(got.allclose(&want, tol, tol, false), "{m}x{k}x{n} update");
        }
        // too few rows for two blocks, or not a float type: LibTorch's own product
        let a = Tensor::f_rand([40, 8], (Kind::Float, Device::Cpu)).unwrap();
        let b = Tensor::f_rand([8, 8], (Kind::Float, Device::Cpu)).unwrap();
        assert!(split_product(&a, &b, None).unwrap().is_none());
        let ai = Tensor::f_ones([128, 8], (Kind::Int64, Device::Cpu)).unwrap();
        let bi = Tensor::f_ones([8, 8], (Kind::Int64, Device::Cpu)).unwrap();
        assert!(split_product(&ai, &bi, None).unwrap().is_none());
    }

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
