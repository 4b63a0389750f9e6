//! Reductions over axes (sum, product, max, min, all, any) and arg-reductions (argmax,
//! argmin) with Nx's semantics.
//!
//! Each input is converted to the output type first (Nx reduces in the output type), then into a
//! kind LibTorch reduces well: f16/bf16/f8 accumulate in f32, u16/u32 in a wider signed kind, and
//! u64 — whose bits live in Int64 — wraps identically for sums and products and is compared
//! with its sign bit flipped, which maps unsigned order onto signed order.
use super::convert::{cast, to_compute};
use crate::error::{EngineError, Result, TorchContext};
use crate::runtime::prepare_thread;
use crate::types::NxType;
use tch::{Kind, Tensor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    Sum,
    Product,
    Max,
    Min,
    All,
    Any,
}

fn check_reduce_axes(op: &str, axes: &[i64], rank: usize) -> Result<()> {
    super::check_axes(op, axes, rank, false)
}

/// Values in a kind where reductions and comparisons are native, with the type they represent.
fn reducible(t: &Tensor, ty: NxType) -> Result<(Tensor, NxType)> {
    let (x, cty) = to_compute(t, ty)?;
    match cty {
        NxType::F16 | NxType::BF16 => Ok((x.f_to_kind(Kind::Float).ctx("reduce")?, NxType::F32)),
        _ => Ok((x, cty)),
    }
}

/// Unsigned 64-bit order mapped onto signed order (an involution).
fn flip_sign(x: &Tensor) -> Result<Tensor> {
    x.f_bitwise_xor(i64::MIN).ctx("reduce")
}

pub fn reduce(
    t: &Tensor,
    ty: NxType,
    op: Reduction,
    axes: &[i64],
    keep_axes: bool,
    out: NxType,
) -> Result<Tensor> {
    prepare_thread();
    let name = "reduce";
    check_reduce_axes(name, axes, t.dim())?;
    if matches!(op, Reduction::All | Reduction::Any) {
        let nonzero = t
            .f_ne(0)
            .ctx(name)
            .or_else(|_| reducible(t, ty).and_then(|(x, _)| x.f_ne(0).ctx(name)))?;
        if axes.is_empty() {
            return cast(&nonzero.f_to_kind(Kind::Uint8).ctx(name)?, NxType::U8, out);
        }
        let r = match op {
            Reduction::All => nonzero.f_all_dims(axes, keep_axes),
            _ => nonzero.f_any_dims(axes, keep_axes),
        }
        .ctx(name)?;
        return cast(&r.f_to_kind(Kind::Uint8).ctx(name)?, NxType::U8, out);
    }
    if let Some(r) = column_sums(t, ty, op, axes, keep_axes, out)? {
        return Ok(r);
    }
    let x = cast(t, ty, out)?;
    if axes.is_empty() {
        return Ok(x);
    }
    if out.is_complex() && matches!(op, Reduction::Max | Reduction::Min) {
        return Err(EngineError::argument(format!(
            "reduce_max/reduce_min are not defined for complex type {}",
            out.name()
        )));
    }
    let (x, cty) = reducible(&x, out)?;
    let kind = x.f_kind().ctx(name)?;
    let r = match op {
        Reduction::Sum => x.f_sum_dim_intlist(axes, keep_axes, kind).ctx(name)?,
        Reduction::Product => {
            // prod reduces one axis at a time: go from the last axis down so indexes stay valid
            let mut sorted = axes.to_vec();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            let mut acc = x;
            for axis in sorted {
                acc = acc.f_prod_dim_int(axis, keep_axes, kind).ctx(name)?;
            }
            acc
        }
        // Max or Min: All and Any returned above
        _ => {
            let unsigned64 = cty == NxType::U64;
            let x = if unsigned64 { flip_sign(&x)? } else { x };
            let r = if op == Reduction::Max {
                x.f_amax(axes, keep_axes)
            } else {
                x.f_amin(axes, keep_axes)
            }
            .ctx(name)?;
            if unsigned64 {
                flip_sign(&r)?
            } else {
                r
            }
        }
    };
    cast(&r, cty, out)
}

/// Largest input of [`column_sums`]: beyond it LibTorch's parallel kernel wins.
const COLUMN_SUMS_MAX: usize = 1 << 20;
/// Rows summed into one partial total before it joins the result (bounds rounding growth).
const COLUMN_CHUNK: usize = 64;

/// Sums of an f32 CPU tensor over its leading axes (`[0, k)`, k < rank): what a bias gradient
/// is. LibTorch's kernel for this shape took 47-81 µs on `[128, 512]` (its parallel set-up
/// and strided reads); adding rows into a vector of column totals takes a few. Rows are added
/// in order within chunks of [`COLUMN_CHUNK`], and the chunk totals then in order. `None`:
/// not this case.
fn column_sums(
    t: &Tensor,
    ty: NxType,
    op: Reduction,
    axes: &[i64],
    keep_axes: bool,
    out: NxType,
) -> Result<Option<Tensor>> {
    let rank = t.dim();
    let k = axes.len();
    let leading =
        !axes.is_empty() && k < rank && axes.iter().enumerate().all(|(i, &a)| a == i as i64);
    if op != Reduction::Sum
        || ty != NxType::F32
        || out != NxType::F32
        || !leading
        || t.device() != tch::Device::Cpu
        || !t.is_contiguous()
    {
        return Ok(None);
    }
    let shape = t.size();
    let rows: i64 = shape[..k].iter().product();
    let cols: i64 = shape[k..].iter().product();
    let (rows, cols) = (rows.max(0) as usize, cols.max(0) as usize);
    if rows == 0 || cols == 0 || rows * cols > COLUMN_SUMS_MAX {
        return Ok(None);
    }
    // SAFETY: a contiguous CPU f32 tensor (checked above) of rows * cols elements, alive while
    // `t` is.
    let xs = unsafe { std::slice::from_raw_parts(t.data_ptr() as *const f32, rows * cols) };
    let mut totals = vec![0f32; cols];
    let mut chunk = vec![0f32; cols];
    for block in xs.chunks(COLUMN_CHUNK * cols) {
        chunk.fill(0.0);
        for row in block.chunks_exact(cols) {
            add_row(&mut chunk, row);
        }
        add_row(&mut totals, &chunk);
    }
    let mut dims: Vec<i64> = if keep_axes { vec![1; k] } else { vec![] };
    dims.extend_from_slice(&shape[k..]);
    let r = Tensor::from_slice(&totals)
        .f_reshape(dims.as_slice())
        .ctx("reduce")?;
    Ok(Some(r))
}

#[inline(always)]
fn add_row(acc: &mut [f32], row: &[f32]) {
    for (a, &x) in acc.iter_mut().zip(row) {
        *a += x;
    }
}

/// Index of the largest (or smallest) value along `axis`, or over the flattened tensor when
/// `axis` is `None`. Ties go to the lowest index, or the highest with `tie_high`.
pub fn arg_reduce(
    t: &Tensor,
    ty: NxType,
    max: bool,
    axis: Option<i64>,
    keep_axis: bool,
    tie_high: bool,
    out: NxType,
) -> Result<Tensor> {
    prepare_thread();
    let name = if max { "argmax" } else { "argmin" };
    if ty.is_complex() {
        return Err(EngineError::argument(format!(
            "{name} is not defined for complex type {}",
            ty.name()
        )));
    }
    if let Some(a) = axis {
        check_reduce_axes(name, &[a], t.dim())?;
    }
    if t.numel() == 0 {
        return Err(EngineError::argument(format!("{name} of an empty tensor")));
    }
    let (x, cty) = reducible(t, ty)?;
    let x = if cty == NxType::U64 {
        flip_sign(&x)?
    } else {
        x
    };
    let (x, dim) = match axis {
        Some(a) => (x, a),
        None => (x.f_reshape([-1]).ctx(name)?, 0),
    };
    let keep = keep_axis && axis.is_some();
    if let Some(idx) = arg_reduce_rows(&x, dim, max, tie_high, keep)? {
        return cast(&idx, NxType::S64, out);
    }
    let x = if tie_high {
        x.f_flip([dim]).ctx(name)?
    } else {
        x
    };
    let idx = if max {
        x.f_argmax(dim, keep)
    } else {
        x.f_argmin(dim, keep)
    }
    .ctx(name)?;
    let idx = if tie_high {
        let last = x.size()[dim as usize] - 1;
        idx.f_neg().and_then(|n| n.f_add_scalar(last)).ctx(name)?
    } else {
        idx
    };
    cast(&idx, NxType::S64, out)
}

/// Row scan for arg-reductions over the last axis of a contiguous f32/f64 CPU tensor.
/// LibTorch's `argmax(dim=-1)` is slow on large inputs (7-20 ms for 4096x4096 f32 here); one
/// vectorized pass over each row ([`scan_row`]), rows split across cores, reads the data once. NaN counts
/// as the extreme value (as LibTorch's and Nx's arg-reductions treat it); ties go to the first
/// index, or the last with `tie_high`. Returns `None` when the fast path does not apply.
fn arg_reduce_rows(
    x: &Tensor,
    dim: i64,
    max: bool,
    tie_high: bool,
    keep: bool,
) -> Result<Option<Tensor>> {
    use tch::Device;
    let shape = x.size();
    let rank = shape.len() as i64;
    let kind = x.f_kind().ctx("argmax")?;
    let numel = x.numel();
    if dim != rank - 1
        || numel < 65_536
        || x.device() != Device::Cpu
        || !x.is_contiguous()
        || !matches!(kind, Kind::Float | Kind::Double)
    {
        return Ok(None);
    }
    let width = *shape.last().unwrap_or(&1) as usize;
    let rows = numel / width.max(1);
    let mut out_shape = shape[..shape.len() - 1].to_vec();
    if keep {
        out_shape.push(1);
    }
    let out = Tensor::f_empty(out_shape.as_slice(), (Kind::Int64, Device::Cpu)).ctx("argmax")?;
    let dst = out.data_ptr() as usize;
    let src = x.data_ptr() as usize;
    // parts of whole rows, four per core, claimed by the caller and the split helpers
    let per = rows.div_ceil(4 * crate::split::width()).max(1);
    let parts = rows.div_ceil(per);
    macro_rules! scan {
        ($t:ty) => {{
            let part = |p: usize| {
                let (r0, r1) = (p * per, ((p + 1) * per).min(rows));
                // SAFETY: `out` is a fresh contiguous Int64 tensor of `rows` elements and `x` a
                // contiguous CPU tensor of `rows * width` elements of the kind matching `$t`
                // (checked above); both outlive `split::run`, and each part writes its own rows.
                let (src, dst) = unsafe {
                    (
                        std::slice::from_raw_parts(
                            (src as *const $t).add(r0 * width),
                            (r1 - r0) * width,
                        ),
                        std::slice::from_raw_parts_mut((dst as *mut i64).add(r0), r1 - r0),
                    )
                };
                for (row, slot) in src.chunks_exact(width).zip(dst.iter_mut()) {
                    *slot = scan_row_any(row, max, tie_high) as i64;
                }
            };
            if !crate::split::run(parts, &part) {
                return Err(crate::error::EngineError::argument(
                    "argmax: a worker failed",
                ));
            }
        }};
    }
    match kind {
        Kind::Float => scan!(f32),
        _ => scan!(f64),
    }
    Ok(Some(out))
}

/// An element type of the row scan.
trait Scan: Copy + PartialOrd {
    const LOWEST: Self;
    const HIGHEST: Self;
    fn nan(self) -> bool;
}

impl Scan for f32 {
    const LOWEST: f32 = f32::NEG_INFINITY;
    const HIGHEST: f32 = f32::INFINITY;
    fn nan(self) -> bool {
        self.is_nan()
    }
}

impl Scan for f64 {
    const LOWEST: f64 = f64::NEG_INFINITY;
    const HIGHEST: f64 = f64::INFINITY;
    fn nan(self) -> bool {
        self.is_nan()
    }
}

/// The index of the largest (`max`) or smallest value of a row: NaN counts as the extreme,
/// ties go to the first index (the last with `tie_high`). Two passes: the extreme and whether
/// there is a NaN, over 16 independent lanes (which LLVM vectorizes), then the position of
/// the first (last) NaN or extreme in the row, which is still in L1.
#[inline(always)]
fn scan_row<T: Scan>(row: &[T], max: bool, tie_high: bool) -> usize {
    const LANES: usize = 16;
    let mut ext = [if max { T::LOWEST } else { T::HIGHEST }; LANES];
    let mut nans = [0u32; LANES];
    let chunks = row.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..LANES {
            let v = c[l];
            let better = if max { v > ext[l] } else { v < ext[l] };
            ext[l] = if better { v } else { ext[l] };
            nans[l] += v.nan() as u32;
        }
    }
    let mut extreme = ext[0];
    for &e in ext.iter().chain(tail) {
        if (max && e > extreme) || (!max && e < extreme) {
            extreme = e;
        }
    }
    let nan = nans.iter().any(|&n| n > 0) || tail.iter().any(|v| v.nan());
    let is_target = |v: &T| if nan { v.nan() } else { *v == extreme };
    // whole chunks are tested lane-wise (vectorized); only the chunk that holds the target is
    // searched element by element
    let hit = |c: &[T]| {
        let mut any = 0u32;
        for v in c {
            any |= is_target(v) as u32;
        }
        any != 0
    };
    let found = if tie_high {
        row.rchunks(LANES)
            .enumerate()
            .find(|(_, c)| hit(c))
            .and_then(|(k, c)| {
                let start = row.len().saturating_sub((k + 1) * LANES);
                c.iter().rposition(is_target).map(|i| start + i)
            })
    } else {
        row.chunks(LANES)
            .enumerate()
            .find(|(_, c)| hit(c))
            .and_then(|(k, c)| c.iter().position(is_target).map(|i| k * LANES + i))
    };
    found.unwrap_or(0)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn scan_row_avx2<T: Scan>(row: &[T], max: bool, tie_high: bool) -> usize {
    scan_row(row, max, tie_high)
}

fn scan_row_any<T: Scan>(row: &[T], max: bool, tie_high: bool) -> usize {
    #[cfg(target_arch = "x86_64")]
    if crate::program::fuse::has_avx2_fma() {
        // SAFETY: the CPU has AVX2.
        return unsafe { scan_row_avx2(row, max, tie_high) };
    }
    scan_row(row, max, tie_high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_sums_agree_with_libtorch() {
        let x = Tensor::f_randn([300, 7, 33], (Kind::Float, tch::Device::Cpu)).unwrap();
        for (axes, keep) in [(vec![0i64], false), (vec![0, 1], true), (vec![0, 1], false)] {
            let got = reduce(&x, NxType::F32, Reduction::Sum, &axes, keep, NxType::F32).unwrap();
            let want = x
                .f_sum_dim_intlist(axes.as_slice(), keep, Kind::Float)
                .unwrap();
            assert_eq!(got.size(), want.size());
            let diff = (&got - &want).abs().max().double_value(&[]);
            assert!(diff < 1e-4, "axes {axes:?}: {diff}");
        }
        // integer-valued: exact, and NaN/inf propagate
        let ints = Tensor::f_arange(12, (Kind::Float, tch::Device::Cpu))
            .unwrap()
            .reshape([4, 3]);
        let got = reduce(&ints, NxType::F32, Reduction::Sum, &[0], false, NxType::F32).unwrap();
        assert_eq!(Vec::<f32>::try_from(&got).unwrap(), vec![18.0, 22.0, 26.0]);
        let special =
            Tensor::from_slice(&[1.0f32, f32::NAN, f32::INFINITY, 2.0, 3.0, 4.0]).reshape([2, 3]);
        let got = reduce(
            &special,
            NxType::F32,
            Reduction::Sum,
            &[0],
            false,
            NxType::F32,
        )
        .unwrap();
        let got = Vec::<f32>::try_from(&got).unwrap();
        assert_eq!(got[0], 3.0);
        assert!(got[1].is_nan());
        assert_eq!(got[2], f32::INFINITY);
    }

    #[test]
    fn row_scan_agrees_with_libtorch() {
        // 300 rows of 256 values with ties and NaNs, large enough for the fast path
        let values: Vec<f32> = (0..300 * 256)
            .map(|i| match i % 97 {
                0 => f32::NAN,
                k => ((k * 31) % 13) as f32,
            })
            .collect();
        let t = Tensor::from_slice(&values).reshape([300, 256]);
        for max in [true, false] {
            let fast =
                arg_reduce(&t, NxType::F32, max, Some(1), false, false, NxType::S64).unwrap();
            let slow = if max {
                t.argmax(1, false)
            } else {
                t.argmin(1, false)
            };
            let (mut a, mut b) = (vec![0i64; 300], vec![0i64; 300]);
            fast.f_copy_data(&mut a, 300).unwrap();
            slow.f_copy_data(&mut b, 300).unwrap();
            assert_eq!(a, b, "max: {max}");
        }
    }

    #[test]
    fn row_scan_extremes_infinities_and_nan() {
        // rows of 4096: all -inf, all +inf, inf then NaN, -0.0 before 0.0, NaN twice
        let w = 4096;
        let mut values = vec![f32::NEG_INFINITY; w];
        values.extend(vec![f32::INFINITY; w]);
        let mut r = vec![1.0f32; w];
        r[7] = f32::INFINITY;
        r[4000] = f32::NAN;
        values.extend(r);
        let mut r = vec![-1.0f32; w];
        r[3] = -0.0;
        r[9] = 0.0;
        values.extend(r);
        let mut r = vec![2.0f32; w];
        r[100] = f32::NAN;
        r[4095] = f32::NAN;
        values.extend(r);
        let rows = 5;
        values.extend(vec![0.5f32; w * (16 - rows)]); // 16 rows: 65,536 elements
        let t = Tensor::from_slice(&values).reshape([16, w as i64]);
        let get = |max, tie_high| {
            let r =
                arg_reduce(&t, NxType::F32, max, Some(1), false, tie_high, NxType::S64).unwrap();
            to_vec_i64(&r)[..rows].to_vec()
        };
        assert_eq!(get(true, false), vec![0, 0, 4000, 3, 100]);
        assert_eq!(get(true, true), vec![4095, 4095, 4000, 9, 4095]);
        assert_eq!(get(false, false), vec![0, 0, 4000, 0, 100]);
        assert_eq!(get(false, true), vec![4095, 4095, 4000, 4095, 4095]);
    }

    #[test]
    fn row_scan_matches_a_plain_loop_on_odd_widths() {
        // the semantics spelled out element by element
        fn reference(row: &[f32], max: bool, tie_high: bool) -> i64 {
            let mut best = 0usize;
            for (i, &v) in row.iter().enumerate().skip(1) {
                let b = row[best];
                let better = if b.is_nan() {
                    tie_high && v.is_nan()
                } else if v.is_nan() {
                    true
                } else if max {
                    v > b || (tie_high && v == b)
                } else {
                    v < b || (tie_high && v == b)
                };
                if better {
                    best = i;
                }
            }
            best as i64
        }
        let (rows, w) = (17usize, 4099usize);
        let values: Vec<f32> = (0..rows * w)
            .map(|i| match (i * 7919) % 10007 {
                0 => f32::NAN,
                k => (k % 23) as f32 - 11.0,
            })
            .collect();
        let t = Tensor::from_slice(&values).reshape([rows as i64, w as i64]);
        for (max, tie_high) in [(true, false), (true, true), (false, false), (false, true)] {
            let r =
                arg_reduce(&t, NxType::F32, max, Some(1), false, tie_high, NxType::S64).unwrap();
            let want: Vec<i64> = values
                .chunks(w)
                .map(|row| reference(row, max, tie_high))
                .collect();
            assert_eq!(to_vec_i64(&r), want, "max {max} tie_high {tie_high}");
        }
    }

    #[test]
    fn row_scan_ties_high() {
        let mut values = vec![0.0f64; 65_536];
        values[10] = 5.0;
        values[20] = 5.0;
        let t = Tensor::from_slice(&values).reshape([1, 65_536]);
        let r = arg_reduce(&t, NxType::F64, true, Some(1), true, true, NxType::S64).unwrap();
        assert_eq!(r.size(), vec![1, 1]);
        assert_eq!(r.int64_value(&[0, 0]), 20);
    }

    fn to_vec_i64(t: &Tensor) -> Vec<i64> {
        let t = t.f_to_kind(Kind::Int64).unwrap().f_reshape([-1]).unwrap();
        let n = t.numel();
        let mut v = vec![0i64; n];
        t.f_copy_data(&mut v, n).unwrap();
        v
    }

    #[test]
    fn u64_max_compares_unsigned() {
        // bits of u64::MAX (-1 as i64) and 5
        let t = Tensor::from_slice(&[5i64, -1]);
        let r = reduce(&t, NxType::U64, Reduction::Max, &[0], false, NxType::U64).unwrap();
        assert_eq!(to_vec_i64(&r), vec![-1]);
        let r = reduce(&t, NxType::U64, Reduction::Min, &[0], false, NxType::U64).unwrap();
        assert_eq!(to_vec_i64(&r), vec![5]);
    }

    #[test]
    fn product_over_several_axes() {
        let t = Tensor::from_slice(&[1i32, 2, 3, 4, 5, 6]).reshape([2, 3]);
        let r = reduce(
            &t,
            NxType::S32,
            Reduction::Product,
            &[0, 1],
            false,
            NxType::S64,
        )
        .unwrap();
        assert_eq!(to_vec_i64(&r), vec![720]);
    }

    #[test]
    fn argmax_tie_break() {
        let t = Tensor::from_slice(&[1i32, 3, 3, 0]);
        let low = arg_reduce(&t, NxType::S32, true, None, false, false, NxType::S32).unwrap();
        let high = arg_reduce(&t, NxType::S32, true, None, false, true, NxType::S32).unwrap();
        assert_eq!(to_vec_i64(&low), vec![1]);
        assert_eq!(to_vec_i64(&high), vec![2]);
    }

    #[test]
    fn empty_axes_only_convert() {
        let t = Tensor::from_slice(&[1u8, 2]);
        let r = reduce(&t, NxType::U8, Reduction::Sum, &[], false, NxType::U32).unwrap();
        assert_eq!(to_vec_i64(&r), vec![1, 2]);
    }
}
