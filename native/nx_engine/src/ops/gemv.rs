//! A row vector times a matrix in f32 (`[1, k] x [k, n]`), the product of a batch-1 dense
//! layer.
//!
//! BLAS libraries treat it as a degenerate matrix product; it is a pass over the matrix, which
//! at these sizes lives in L3, so its speed is the speed of reading it once. This kernel reads
//! the matrix row by row, four rows at a time, accumulating into the result (which stays in
//! L1): 784x512 takes 19 µs on one core here where LibTorch's `mm` takes 32 µs. Larger
//! products split their columns across cores with [`crate::split`] (waking LibTorch's
//! OpenMP workers, which sleep under `OMP_WAIT_POLICY=passive`, costs more than the second
//! core saves).
use crate::error::{Result, TorchContext};
use crate::program::kernels::fma;
use tch::{Device, Kind, Tensor};

/// Products with fewer matrix elements go to LibTorch (the doctests' small products keep
/// LibTorch's rounding).
const MIN_ELEMENTS: i64 = 1 << 14;
/// From this size on the columns are split across cores ([`crate::split`]).
const SPLIT_MIN: i64 = 1 << 16;
/// Beyond this the matrix comes from DRAM and LibTorch's threads help.
const MAX_ELEMENTS: i64 = 1 << 22;

/// `y = x · w[:, j0..j0 + y.len()]` for a row-major `w` of `x.len()` rows of `n` columns.
#[inline(always)]
fn row_times<const F: bool>(x: &[f32], w: &[f32], n: usize, j0: usize, y: &mut [f32]) {
    let len = y.len();
    if w.len() != x.len() * n || j0 + len > n {
        return;
    }
    y.fill(0.0);
    let mut rows = w.chunks_exact(n).map(|r| &r[j0..j0 + len]);
    let mut xs = x.chunks_exact(4);
    for a in &mut xs {
        let (r0, r1, r2, r3) = match (rows.next(), rows.next(), rows.next(), rows.next()) {
            (Some(r0), Some(r1), Some(r2), Some(r3)) => (r0, r1, r2, r3),
            _ => return,
        };
        for ((((y, &b0), &b1), &b2), &b3) in y.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3) {
            *y = fma::<F>(
                a[3],
                b3,
                fma::<F>(a[2], b2, fma::<F>(a[1], b1, fma::<F>(a[0], b0, *y))),
            );
        }
    }
    for (&a, r) in xs.remainder().iter().zip(rows) {
        for (y, &b) in y.iter_mut().zip(r) {
            *y = fma::<F>(a, b, *y);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn row_times_avx2(x: &[f32], w: &[f32], n: usize, j0: usize, y: &mut [f32]) {
    row_times::<true>(x, w, n, j0, y)
}

fn row_times_any(x: &[f32], w: &[f32], n: usize, j0: usize, y: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if crate::program::fuse::has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA.
        return unsafe { row_times_avx2(x, w, n, j0, y) };
    }
    row_times::<false>(x, w, n, j0, y)
}

/// Columns of the result computed by each part when the product is split across cores: a
/// multiple of 16 floats (whole vectors, whole cache lines).
fn columns_per_part(n: usize, parts: usize) -> usize {
    n.div_ceil(parts.max(1)).div_ceil(16) * 16
}

/// `x · w` for an f32 CPU `x` of `k` elements and a contiguous f32 CPU `w` of shape `[k, n]`,
/// as a `[1, n]` tensor; `None` when the operands do not have that form or the product is
/// better left to LibTorch.
pub fn row_times_matrix(x: &Tensor, w: &Tensor) -> Result<Option<Tensor>> {
    let op = "dot";
    let size = w.size();
    let [k, n] = size.as_slice() else {
        return Ok(None);
    };
    let (k, n) = (*k, *n);
    let elements = k.saturating_mul(n);
    let fits = (MIN_ELEMENTS..=MAX_ELEMENTS).contains(&elements)
        && x.numel() as i64 == k
        && x.device() == Device::Cpu
        && w.device() == Device::Cpu
        && x.f_kind().ctx(op)? == Kind::Float
        && w.f_kind().ctx(op)? == Kind::Float
        && w.is_contiguous();
    if !fits {
        return Ok(None);
    }
    let x = x.f_contiguous().ctx(op)?;
    let y = Tensor::f_empty([1, n], (Kind::Float, Device::Cpu)).ctx(op)?;
    let (ku, nu) = (k as usize, n as usize);
    let xp = x.data_ptr() as usize;
    let wp = w.data_ptr() as usize;
    let yp = y.data_ptr() as usize;
    let parts = if elements >= SPLIT_MIN {
        crate::split::width()
    } else {
        1
    };
    let per = columns_per_part(nu, parts);
    let parts = nu.div_ceil(per.max(1));
    let part = |p: usize| {
        let j0 = p * per;
        let len = per.min(nu.saturating_sub(j0));
        // SAFETY: contiguous f32 CPU tensors of k, k * n and n elements (checked above), alive
        // until `split::run` returns; `y` is fresh, so it aliases neither input, and each
        // part writes its own columns of it.
        unsafe {
            let xs = std::slice::from_raw_parts(xp as *const f32, ku);
            let ws = std::slice::from_raw_parts(wp as *const f32, ku * nu);
            let ys = std::slice::from_raw_parts_mut((yp as *mut f32).add(j0), len);
            row_times_any(xs, ws, nu, j0, ys);
        }
    };
    if !crate::split::run(parts, &part) {
        return Err(crate::error::EngineError::argument("dot: a worker failed"));
    }
    Ok(Some(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(t: &Tensor) -> Vec<f64> {
        let t = t.f_to_kind(Kind::Double).unwrap().f_reshape([-1]).unwrap();
        let mut v = vec![0f64; t.numel()];
        t.f_copy_data(&mut v, t.numel()).unwrap();
        v
    }

    #[test]
    fn agrees_with_a_product_in_f64() {
        for (k, n) in [(128, 128), (130, 131), (784, 512), (1001, 17), (300, 333)] {
            let x = Tensor::f_rand([1, k], (Kind::Float, Device::Cpu)).unwrap() - 0.5;
            let w = Tensor::f_rand([k, n], (Kind::Float, Device::Cpu)).unwrap() - 0.5;
            let got = row_times_matrix(&x, &w).unwrap();
            if k * n < MIN_ELEMENTS {
                assert!(got.is_none());
                continue;
            }
            let got = values(&got.unwrap());
            let want = values(
                &x.f_to_kind(Kind::Double)
                    .unwrap()
                    .f_mm(&w.f_to_kind(Kind::Double).unwrap())
                    .unwrap(),
            );
            assert_eq!(got.len(), n as usize);
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() < 1e-5 * (k as f64).sqrt(),
                    "{k}x{n}: {g} vs {w}"
                );
            }
            // the portable loop gives the same values to rounding
            let mut plain = vec![0f32; n as usize];
            let xs: Vec<f32> = values(&x).iter().map(|&v| v as f32).collect();
            let ws: Vec<f32> = values(&w).iter().map(|&v| v as f32).collect();
            row_times::<false>(&xs, &ws, n as usize, 0, &mut plain);
            for (p, w) in plain.iter().zip(&want) {
                assert!((*p as f64 - w).abs() < 1e-5 * (k as f64).sqrt());
            }
        }
    }

    #[test]
    fn other_forms_are_left_to_libtorch() {
        let x = Tensor::f_rand([1, 256], (Kind::Float, Device::Cpu)).unwrap();
        let w = Tensor::f_rand([256, 128], (Kind::Float, Device::Cpu)).unwrap();
        assert!(row_times_matrix(&x, &w.f_transpose(0, 1).unwrap())
            .unwrap()
            .is_none());
        assert!(row_times_matrix(&x, &w.f_to_kind(Kind::Double).unwrap())
            .unwrap()
            .is_none());
        assert!(row_times_matrix(&x.f_narrow(1, 0, 255).unwrap(), &w)
            .unwrap()
            .is_none());
        assert!(row_times_matrix(&x, &w).unwrap().is_some());
    }
}
