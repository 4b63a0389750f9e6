//! Small f32 matrix products by our own loops: a row vector times a matrix (`[1, k] x [k, n]`,
//! the product of a batch-1 dense layer) and products of up to 2M multiply-adds
//! ([`small_product`]), where MKL's set-up dominates and skinny shapes are slow.
//!
//! A row vector times a matrix is a pass over the matrix, which at these sizes lives in L3, so
//! its speed is the speed of reading it once. The kernel reads the matrix row by row, four
//! rows at a time, accumulating into the result (which stays in L1): 784x512 takes 19 µs on
//! one core here where LibTorch's `mm` takes 32 µs. Larger products split their columns (or
//! rows) across cores with [`crate::split`] (waking LibTorch's OpenMP workers, which sleep
//! under `OMP_WAIT_POLICY=passive`, costs more than the second core saves).
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

/// `a · b` over whole lanes of 16 (two AVX registers of independent partial sums, which LLVM
/// vectorizes; a single running sum would stay scalar), then the tail.
#[inline(always)]
fn dot<const F: bool>(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..16 {
            acc[l] = fma::<F>(x[l], y[l], acc[l]);
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for (x, y) in ta.iter().zip(tb) {
        sum = fma::<F>(*x, *y, sum);
    }
    sum
}

/// The dot products of `a` with each of the four rows of `b4` (`4 x k`, row-major), with four
/// independent sets of partial sums (as [`dot`], which it matches for each row up to the
/// order of the final additions).
#[inline(always)]
fn dot4<const F: bool>(a: &[f32], b4: &[f32], k: usize) -> [f32; 4] {
    let mut acc = [[0f32; 16]; 4];
    let rows = [
        &b4[..k],
        &b4[k..2 * k],
        &b4[2 * k..3 * k],
        &b4[3 * k..4 * k],
    ];
    let whole = k / 16 * 16;
    for i in (0..whole).step_by(16) {
        let x = &a[i..i + 16];
        for (acc, row) in acc.iter_mut().zip(rows) {
            let y = &row[i..i + 16];
            for l in 0..16 {
                acc[l] = fma::<F>(x[l], y[l], acc[l]);
            }
        }
    }
    let mut out = [0f32; 4];
    for ((o, acc), row) in out.iter_mut().zip(&acc).zip(rows) {
        let mut sum: f32 = acc.iter().sum();
        for i in whole..k {
            sum = fma::<F>(a[i], row[i], sum);
        }
        *o = sum;
    }
    out
}

/// Rows `rows` of `c = a · b` for a row-major `a` (`m x k`) and `b` (`k x n`), by rows of `b`
/// (`by_dot`: false) or for a row-major `bt = bᵀ` (`n x k`) by dot products (`by_dot`: true).
#[inline(always)]
fn product_rows<const F: bool>(
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    k: usize,
    n: usize,
    by_dot: bool,
) {
    for (a_row, c_row) in a.chunks_exact(k).zip(c.chunks_exact_mut(n)) {
        if by_dot {
            // four columns at a time: one dot product's chain of dependent FMAs leaves the
            // FMA units idle most of the time; four share the loads of `a_row` and overlap
            let mut ys = c_row.chunks_exact_mut(4);
            let mut bts = b.chunks_exact(4 * k);
            for (y, bt4) in (&mut ys).zip(&mut bts) {
                y.copy_from_slice(&dot4::<F>(a_row, bt4, k));
            }
            for (y, bt_row) in ys
                .into_remainder()
                .iter_mut()
                .zip(bts.remainder().chunks_exact(k))
            {
                *y = dot::<F>(a_row, bt_row);
            }
        } else {
            row_times::<F>(a_row, b, n, 0, c_row);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn product_rows_avx2(a: &[f32], b: &[f32], c: &mut [f32], k: usize, n: usize, d: bool) {
    product_rows::<true>(a, b, c, k, n, d)
}

fn product_rows_any(a: &[f32], b: &[f32], c: &mut [f32], k: usize, n: usize, by_dot: bool) {
    #[cfg(target_arch = "x86_64")]
    if crate::program::fuse::has_avx2_fma() {
        // SAFETY: the CPU has AVX2 and FMA.
        return unsafe { product_rows_avx2(a, b, c, k, n, by_dot) };
    }
    product_rows::<false>(a, b, c, k, n, by_dot)
}

/// Products of at most this many multiply-adds (m·k·n) with more than one row go to
/// [`small_product`]: below it MKL's set-up dominates (and skinny shapes like
/// `[128, 512] x [512, 10]` took it 140-200 µs, ~8 GFLOP/s).
pub(crate) const SMALL_MAX_MACS: i64 = 1 << 21;
/// Columns below which a product is computed by dot products (or transposed).
const NARROW: i64 = 16;

/// `a · b` for f32 CPU matrices `a` (`[m, k]`) and `b` (`[k, n]`) of a small product, by our
/// own loops: rows of the result as combinations of rows of `b` when it has at least
/// [`NARROW`] columns; otherwise the transposed product `bᵀ · aᵀ` that way when `aᵀ` is
/// already laid out by rows (a transposed view) and wide; otherwise dot products of rows of
/// `a` and columns of `b`. Operands are packed contiguously first where they are not. `None`:
/// left to LibTorch (other kinds or devices, products too small or too large).
pub fn small_product(a: &Tensor, b: &Tensor) -> Result<Option<Tensor>> {
    let op = "dot";
    let (sa, sb) = (a.size(), b.size());
    let ([m, k], [k2, n]) = (sa.as_slice(), sb.as_slice()) else {
        return Ok(None);
    };
    let (m, k, n) = (*m, *k, *n);
    if *k2 != k || m < 1 || k < 1 || n < 1 {
        return Ok(None);
    }
    if m == 1 {
        return row_times_matrix(a, b);
    }
    let macs = m.saturating_mul(k).saturating_mul(n);
    let fits = (MIN_ELEMENTS..=SMALL_MAX_MACS).contains(&macs)
        && a.device() == Device::Cpu
        && b.device() == Device::Cpu
        && a.f_kind().ctx(op)? == Kind::Float
        && b.f_kind().ctx(op)? == Kind::Float;
    if !fits {
        return Ok(None);
    }
    let at_by_rows = a.stride() == [1, m];
    if n >= NARROW {
        let (a, b) = (a.f_contiguous().ctx(op)?, b.f_contiguous().ctx(op)?);
        return rows_of(&a, &b, m, k, n, false, macs).map(Some);
    }
    let bt = b.f_transpose(0, 1).and_then(|t| t.f_contiguous()).ctx(op)?;
    if at_by_rows && m >= NARROW {
        // cᵀ = bᵀ · aᵀ, rows of aᵀ combined; aᵀ is a's storage as it is
        let at = a.f_transpose(0, 1).ctx(op)?;
        let ct = rows_of(&bt, &at, n, k, m, false, macs)?;
        return ct
            .f_transpose(0, 1)
            .and_then(|c| c.f_contiguous())
            .ctx(op)
            .map(Some);
    }
    let a = a.f_contiguous().ctx(op)?;
    rows_of(&a, &bt, m, k, n, true, macs).map(Some)
}

/// `c = a · b` (`by_dot`: false; `b` is `k x n`) or `a · btᵀ` (`by_dot`: true; `b` is `n x k`)
/// for contiguous f32 CPU operands, rows split across cores when the product is large enough.
fn rows_of(
    a: &Tensor,
    b: &Tensor,
    m: i64,
    k: i64,
    n: i64,
    by_dot: bool,
    macs: i64,
) -> Result<Tensor> {
    let c = crate::runtime::empty_cpu(Kind::Float, &[m, n])?;
    let (mu, ku, nu) = (m as usize, k as usize, n as usize);
    let (ap, bp, cp) = (
        a.data_ptr() as usize,
        b.data_ptr() as usize,
        c.data_ptr() as usize,
    );
    let parts = if macs >= SPLIT_MIN {
        (4 * crate::split::width()).min(mu)
    } else {
        1
    };
    let per = mu.div_ceil(parts.max(1));
    let part = |p: usize| {
        let r0 = (p * per).min(mu);
        let rows = per.min(mu - r0);
        // SAFETY: contiguous f32 CPU tensors of m·k, k·n and m·n elements (their shapes were
        // checked by the caller), alive until `split::run` returns; `c` is fresh, so it
        // aliases neither input, and each part writes its own rows of it.
        unsafe {
            let a_rows = std::slice::from_raw_parts((ap as *const f32).add(r0 * ku), rows * ku);
            let bs = std::slice::from_raw_parts(bp as *const f32, ku * nu);
            let c_rows = std::slice::from_raw_parts_mut((cp as *mut f32).add(r0 * nu), rows * nu);
            product_rows_any(a_rows, bs, c_rows, ku, nu, by_dot);
        }
    };
    if !crate::split::run(parts, &part) {
        return Err(crate::error::EngineError::argument("dot: a worker failed"));
    }
    Ok(c)
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
    let y = crate::runtime::empty_cpu(Kind::Float, &[1, n])?;
    let (ku, nu) = (k as usize, n as usize);
    let xp = x.data_ptr() as usize;
    let wp = w.data_ptr() as usize;
    let yp = y.data_ptr() as usize;
    let parts = if elements >= SPLIT_MIN {
        2 * crate::split::width()
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
    fn small_products_agree_with_f64_in_every_layout() {
        let rand =
            |r: i64, c: i64| Tensor::f_rand([r, c], (Kind::Float, Device::Cpu)).unwrap() - 0.5;
        // (m, k, n): wide, narrow (dot products), narrow with a transposed a, odd sizes
        for (m, k, n) in [
            (128, 512, 10),
            (512, 128, 10),
            (128, 10, 512),
            (33, 70, 65),
            (64, 64, 3),
        ] {
            for a_transposed in [false, true] {
                for b_transposed in [false, true] {
                    let a = if a_transposed {
                        rand(k, m).f_transpose(0, 1).unwrap()
                    } else {
                        rand(m, k)
                    };
                    let b = if b_transposed {
                        rand(n, k).f_transpose(0, 1).unwrap()
                    } else {
                        rand(k, n)
                    };
                    let got = small_product(&a, &b).unwrap();
                    let Some(got) = got else {
                        assert!(m * k * n < MIN_ELEMENTS, "{m}x{k}x{n} not taken");
                        continue;
                    };
                    assert_eq!(got.size(), vec![m, n]);
                    let want = values(
                        &a.f_to_kind(Kind::Double)
                            .unwrap()
                            .f_mm(&b.f_to_kind(Kind::Double).unwrap())
                            .unwrap(),
                    );
                    for (g, w) in values(&got).iter().zip(&want) {
                        assert!(
                            (g - w).abs() < 1e-5 * (k as f64).sqrt(),
                            "{m}x{k}x{n} a_t={a_transposed} b_t={b_transposed}: {g} vs {w}"
                        );
                    }
                }
            }
        }
        // large products and other kinds stay with LibTorch
        assert!(small_product(&rand(512, 512), &rand(512, 512))
            .unwrap()
            .is_none());
        let d = rand(64, 64).f_to_kind(Kind::Double).unwrap();
        assert!(small_product(&d, &d).unwrap().is_none());
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

#[cfg(test)]
mod speed {
    /// `cargo test --release -p nx_engine skinny_speed -- --ignored --nocapture`: dot
    /// products one at a time against four at a time, `[128, 512] x [512, 10]`.
    #[test]
    #[ignore]
    fn skinny_speed() {
        #[target_feature(enable = "avx2,fma")]
        unsafe fn one(a: &[f32], bt: &[f32], c: &mut [f32], k: usize) {
            for (a_row, c_row) in a.chunks_exact(k).zip(c.chunks_exact_mut(10)) {
                for (y, b) in c_row.iter_mut().zip(bt.chunks_exact(k)) {
                    *y = super::dot::<true>(a_row, b);
                }
            }
        }
        #[target_feature(enable = "avx2,fma")]
        unsafe fn four(a: &[f32], bt: &[f32], c: &mut [f32], k: usize) {
            super::product_rows::<true>(a, bt, c, k, 10, true)
        }
        let k = 512;
        let a: Vec<f32> = (0..128 * k).map(|i| (i % 17) as f32 * 0.1).collect();
        let bt: Vec<f32> = (0..10 * k).map(|i| (i % 13) as f32 * 0.1).collect();
        let (mut c1, mut c4) = (vec![0f32; 1280], vec![0f32; 1280]);
        let mut best = [f64::MAX; 2];
        for _ in 0..7 {
            for (w, b) in best.iter_mut().enumerate() {
                let t = std::time::Instant::now();
                for _ in 0..200 {
                    unsafe {
                        if w == 0 {
                            one(std::hint::black_box(&a), &bt, &mut c1, k)
                        } else {
                            four(std::hint::black_box(&a), &bt, &mut c4, k)
                        }
                    }
                }
                *b = b.min(t.elapsed().as_secs_f64() * 1e6 / 200.0);
            }
        }
        for (x, y) in c1.iter().zip(&c4) {
            assert!((x - y).abs() <= 1e-3 * x.abs().max(1.0));
        }
        println!(
            "one at a time {:.1} us, four at a time {:.1} us",
            best[0], best[1]
        );
    }
}
