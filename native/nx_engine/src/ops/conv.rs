//! Convolution (`Nx.conv/3`) with Nx's (XLA's) semantics, lowered to one LibTorch
//! `convolution` call where it can be.
//!
//! The common case (NCHW layouts, symmetric non-negative padding, no input dilation, no batch
//! groups, f32/f64) is exactly one `at::convolution` over the inputs as they are: permutations
//! are views, kernel dilation, strides and feature groups are LibTorch's own parameters.
//! Everything else is rewritten around that call:
//!
//! * input dilation and asymmetric or negative padding: one `pad` (interior padding inserts the
//!   dilation's zeros, negative padding crops), leaving the symmetric part to the convolution;
//! * batch groups: the batch `[G * N']` is regrouped into channels `[N', G * C]` and computed
//!   as a convolution with G feature groups (group g of the output features sees input batch
//!   entries `g * N' .. (g + 1) * N'`, as XLA defines it);
//! * more than three spatial axes (LibTorch's kernels stop at 3-d): a sum over kernel positions
//!   of strided slices contracted with the kernel's taps.
//!
//! Inputs are converted to the output type first (Nx computes in it); f16/bf16 on the CPU and
//! float8 are computed in f32 and rounded back.
use super::convert::cast;
use super::{check_allocation, check_axes, shape};
use crate::error::{EngineError, Result, TorchContext};
use crate::runtime::prepare_thread;
use crate::types::NxType;
use tch::{Device, Tensor};

/// Nx's options of a convolution, normalized by `Nx.conv/3` (one entry per spatial axis).
#[derive(Clone, Copy, Debug)]
pub struct ConvOptions<'a> {
    pub strides: &'a [i64],
    pub padding: &'a [(i64, i64)],
    pub input_dilation: &'a [i64],
    pub kernel_dilation: &'a [i64],
    pub feature_groups: i64,
    pub batch_groups: i64,
    pub input_permutation: &'a [i64],
    pub kernel_permutation: &'a [i64],
    pub output_permutation: &'a [i64],
}

fn fail<T>(message: String) -> Result<T> {
    Err(EngineError::argument(format!("conv: {message}")))
}

fn is_identity(perm: &[i64]) -> bool {
    perm.iter().enumerate().all(|(i, &p)| p == i as i64)
}

fn inverse(perm: &[i64]) -> Vec<i64> {
    let mut inv = vec![0i64; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        inv[p as usize] = i as i64;
    }
    inv
}

/// The kind the convolution runs in for output type `out` on `device`.
fn compute_type(out: NxType, device: Device) -> Result<NxType> {
    match out {
        NxType::F32 | NxType::F64 | NxType::C64 | NxType::C128 => Ok(out),
        NxType::F16 | NxType::BF16 if device != Device::Cpu => Ok(out),
        NxType::F16 | NxType::BF16 | NxType::F8E5M2 | NxType::F8E4M3FN => Ok(NxType::F32),
        other => fail(format!(
            "the output type must be a float or complex type, got {}",
            other.name()
        )),
    }
}

fn convert(t: &Tensor, ty: NxType, out: NxType, cty: NxType) -> Result<Tensor> {
    let x = cast(t, ty, out)?;
    cast(&x, out, cty)
}

struct Plan {
    /// `(low, high, interior)` padding applied before the convolution, per axis (all axes)
    explicit: Option<Vec<(i64, i64, i64)>>,
    /// symmetric padding left to LibTorch, per spatial axis
    symmetric: Vec<i64>,
}

/// Splits input dilation and padding into what LibTorch does natively and what needs a pad.
fn plan_padding(opts: &ConvOptions) -> Plan {
    let mut symmetric = Vec::with_capacity(opts.padding.len());
    let mut spatial = Vec::with_capacity(opts.padding.len());
    let mut needed = false;
    for (&(lo, hi), &dilation) in opts.padding.iter().zip(opts.input_dilation) {
        let common = lo.min(hi).max(0);
        symmetric.push(common);
        let rest = (lo - common, hi - common, dilation - 1);
        needed |= rest != (0, 0, 0);
        spatial.push(rest);
    }
    let explicit = needed.then(|| {
        let mut config = vec![(0, 0, 0), (0, 0, 0)];
        config.extend(spatial);
        config
    });
    Plan {
        explicit,
        symmetric,
    }
}

fn validate(input: &[i64], kernel: &[i64], opts: &ConvOptions) -> Result<()> {
    let rank = input.len();
    if rank < 3 || kernel.len() != rank {
        return fail(format!(
            "input and kernel must have the same rank, at least 3, got shapes {input:?} and \
             {kernel:?}"
        ));
    }
    let spatial = rank - 2;
    for (name, list) in [
        ("strides", opts.strides),
        ("input dilation", opts.input_dilation),
        ("kernel dilation", opts.kernel_dilation),
    ] {
        if list.len() != spatial || list.iter().any(|&x| x < 1) {
            return fail(format!(
                "{name} must be {spatial} positive integers, got {list:?}"
            ));
        }
    }
    if opts.padding.len() != spatial {
        return fail(format!(
            "padding must have {spatial} entries, got {:?}",
            opts.padding
        ));
    }
    for (name, perm) in [
        ("input", opts.input_permutation),
        ("kernel", opts.kernel_permutation),
        ("output", opts.output_permutation),
    ] {
        check_axes(&format!("conv {name} permutation"), perm, rank, true)?;
    }
    if opts.feature_groups < 1 || opts.batch_groups < 1 {
        return fail(format!(
            "feature and batch group sizes must be positive, got {} and {}",
            opts.feature_groups, opts.batch_groups
        ));
    }
    Ok(())
}

/// Nx.conv: see the module documentation. The result has type `out`.
pub fn conv(
    input: &Tensor,
    input_ty: NxType,
    kernel: &Tensor,
    kernel_ty: NxType,
    opts: &ConvOptions,
    out: NxType,
) -> Result<Tensor> {
    prepare_thread();
    let op = "conv";
    validate(&input.size(), &kernel.size(), opts)?;
    let device = input.device();
    let cty = compute_type(out, device)?;
    let mut x = convert(input, input_ty, out, cty)?;
    let mut w = convert(kernel, kernel_ty, out, cty)?;
    if w.device() != device {
        w = w.f_to_device(device).ctx(op)?;
    }
    if !is_identity(opts.input_permutation) {
        x = x.f_permute(opts.input_permutation).ctx(op)?;
    }
    if !is_identity(opts.kernel_permutation) {
        w = w.f_permute(opts.kernel_permutation).ctx(op)?;
    }
    let (xs, ws) = (x.size(), w.size());
    let (batch, channels, filters, kernel_channels) = (xs[0], xs[1], ws[0], ws[1]);
    let (fg, bg) = (opts.feature_groups, opts.batch_groups);
    if fg != 1 && bg != 1 {
        return fail(format!(
            "either batch groups or feature groups must be 1, got {bg} and {fg}"
        ));
    }
    if channels != kernel_channels * fg || filters % fg != 0 {
        return fail(format!(
            "input channels {channels} must be kernel channels {kernel_channels} times {fg} \
             feature groups, and {filters} filters must divide into them"
        ));
    }
    if batch % bg != 0 || filters % bg != 0 {
        return fail(format!(
            "batch size {batch} and {filters} filters must divide into {bg} batch groups"
        ));
    }

    // output spatial sizes, checked before any work
    let mut out_shape = vec![batch / bg, filters];
    for i in 0..xs.len() - 2 {
        let dim = xs[i + 2];
        let dilated = (dim - 1).max(0) * (opts.input_dilation[i] - 1) + dim;
        let (lo, hi) = opts.padding[i];
        let span = (ws[i + 2] - 1) * opts.kernel_dilation[i] + 1;
        let padded = dilated + lo + hi;
        if dim < 1 || ws[i + 2] < 1 || padded < span {
            return fail(format!(
                "kernel {ws:?} does not fit in input {xs:?} with padding {:?}, input dilation \
                 {:?} and kernel dilation {:?}",
                opts.padding, opts.input_dilation, opts.kernel_dilation
            ));
        }
        out_shape.push((padded - span) / opts.strides[i] + 1);
    }
    check_allocation(&out_shape, out, device)?;

    let plan = plan_padding(opts);
    if let Some(config) = &plan.explicit {
        let zero = Tensor::f_zeros([0i64; 0].as_slice(), (x.f_kind().ctx(op)?, device)).ctx(op)?;
        x = shape::pad(&x, cty, &zero, cty, config, cty)?;
    }
    let groups = if bg > 1 {
        // [bg * n, c, sp...] -> [n, bg * c, sp...]: group g holds batch entries g * n + i
        let mut grouped = vec![bg, batch / bg];
        grouped.extend(&x.size()[1..]);
        let mut perm: Vec<i64> = vec![1, 0];
        perm.extend(2..grouped.len() as i64);
        let mut merged = vec![batch / bg, bg * channels];
        merged.extend(&x.size()[2..]);
        x = x
            .f_reshape(grouped.as_slice())
            .and_then(|g| g.f_permute(perm.as_slice()))
            .and_then(|g| g.f_reshape(merged.as_slice()))
            .ctx(op)?;
        bg
    } else {
        fg
    };
    let convolve = |x: &Tensor, w: &Tensor, cty: NxType| -> Result<Tensor> {
        let spatial = xs.len() - 2;
        if spatial <= 3 {
            let zeros = vec![0i64; spatial];
            x.f_convolution(
                w,
                None::<&Tensor>,
                opts.strides,
                plan.symmetric.as_slice(),
                opts.kernel_dilation,
                false,
                zeros.as_slice(),
                groups,
            )
            .ctx(op)
        } else {
            by_taps(x, cty, w, &plan.symmetric, opts, groups, &out_shape)
        }
    };
    let r = if cty.is_complex() {
        // LibTorch's CPU kernels are real: (a + bi)(c + di) = (ac - bd) + (ad + bc)i
        let real_ty = if cty == NxType::C64 {
            NxType::F32
        } else {
            NxType::F64
        };
        let (xr, xi) = (x.f_real().ctx(op)?, x.f_imag().ctx(op)?);
        let (wr, wi) = (w.f_real().ctx(op)?, w.f_imag().ctx(op)?);
        let re = convolve(&xr, &wr, real_ty)?
            .f_sub(&convolve(&xi, &wi, real_ty)?)
            .ctx(op)?;
        let im = convolve(&xr, &wi, real_ty)?
            .f_add(&convolve(&xi, &wr, real_ty)?)
            .ctx(op)?;
        Tensor::f_complex(&re, &im).ctx(op)?
    } else {
        convolve(&x, &w, cty)?
    };
    let r = if is_identity(opts.output_permutation) {
        r
    } else {
        r.f_permute(inverse(opts.output_permutation).as_slice())
            .ctx(op)?
    };
    cast(&r, cty, out)
}

/// Convolution with any number of spatial axes: for each kernel position, the strided slice of
/// the input it meets, contracted with that tap over the channels of each group.
fn by_taps(
    x: &Tensor,
    cty: NxType,
    w: &Tensor,
    symmetric: &[i64],
    opts: &ConvOptions,
    groups: i64,
    out_shape: &[i64],
) -> Result<Tensor> {
    let op = "conv";
    let mut x = x.shallow_clone();
    if symmetric.iter().any(|&p| p != 0) {
        let mut config = vec![(0, 0, 0), (0, 0, 0)];
        config.extend(symmetric.iter().map(|&p| (p, p, 0)));
        let kind = x.f_kind().ctx(op)?;
        let zero = Tensor::f_zeros([0i64; 0].as_slice(), (kind, x.device())).ctx(op)?;
        x = shape::pad(&x, cty, &zero, cty, &config, cty)?;
    }
    let (xs, ws) = (x.size(), w.size());
    let spatial = xs.len() - 2;
    let (n, c, f) = (xs[0], xs[1], ws[0]);
    let cg = c / groups;
    let out_spatial = &out_shape[2..];
    let mut grouped_x = vec![n, groups, cg];
    grouped_x.extend(out_spatial);
    let mut acc: Option<Tensor> = None;
    let taps: i64 = ws[2..].iter().product();
    let letters: String = "pqrstuvwxyzabdehijklmo".chars().take(spatial).collect();
    let equation = format!("ngc{letters},gfc->ngf{letters}");
    for tap in 0..taps {
        // kernel position of this tap, last axis fastest
        let mut rest = tap;
        let mut position = vec![0i64; spatial];
        for i in (0..spatial).rev() {
            position[i] = rest % ws[i + 2];
            rest /= ws[i + 2];
        }
        let mut xs_tap = x.shallow_clone();
        let mut w_tap = w.shallow_clone();
        for i in 0..spatial {
            let start = position[i] * opts.kernel_dilation[i];
            let end = start + (out_spatial[i] - 1) * opts.strides[i] + 1;
            xs_tap = xs_tap
                .f_slice((i + 2) as i64, start, end, opts.strides[i])
                .ctx(op)?;
            w_tap = w_tap.f_select(2, position[i]).ctx(op)?;
        }
        let xs_tap = xs_tap.f_reshape(grouped_x.as_slice()).ctx(op)?;
        let w_tap = w_tap.f_reshape([groups, f / groups, cg]).ctx(op)?;
        let term = Tensor::f_einsum(&equation, &[xs_tap, w_tap], None::<&[i64]>).ctx(op)?;
        acc = Some(match acc {
            None => term,
            Some(a) => a.f_add(&term).ctx(op)?,
        });
    }
    let acc = match acc {
        Some(a) => a,
        None => return fail("empty kernel".to_string()),
    };
    acc.f_reshape(out_shape).ctx(op)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    fn values(t: &Tensor) -> Vec<f64> {
        let t = t
            .f_to_kind(Kind::Double)
            .unwrap()
            .f_contiguous()
            .unwrap()
            .f_reshape([-1])
            .unwrap();
        let n = t.numel();
        let mut v = vec![0f64; n];
        t.f_copy_data(&mut v, n).unwrap();
        v
    }

    fn options<'a>(
        strides: &'a [i64],
        padding: &'a [(i64, i64)],
        dil: &'a [i64],
        perm: &'a [i64],
        groups: (i64, i64),
    ) -> ConvOptions<'a> {
        ConvOptions {
            strides,
            padding,
            input_dilation: dil,
            kernel_dilation: dil,
            feature_groups: groups.0,
            batch_groups: groups.1,
            input_permutation: perm,
            kernel_permutation: perm,
            output_permutation: perm,
        }
    }

    #[test]
    fn one_dimensional_with_asymmetric_padding() {
        let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0]).reshape([1, 1, 3]);
        let w = Tensor::from_slice(&[1.0f32, 10.0]).reshape([1, 1, 2]);
        let o = options(&[1], &[(1, 0)], &[1], &[0, 1, 2], (1, 1));
        let r = conv(&x, NxType::F32, &w, NxType::F32, &o, NxType::F32).unwrap();
        // padded 0 1 2 3: 0*1 + 1*10, 1 + 20, 2 + 30
        assert_eq!(values(&r), vec![10.0, 21.0, 32.0]);
    }

    #[test]
    fn integer_inputs_give_floats_and_batch_groups_regroup() {
        // batch 2, one channel, two filters, batch groups 2: filter g sees batch entry g
        let x = Tensor::from_slice(&[1i32, 2, 3, 4]).reshape([2, 1, 2]);
        let w = Tensor::from_slice(&[1i32, 1, 1, -1]).reshape([2, 1, 2]);
        let o = options(&[1], &[(0, 0)], &[1], &[0, 1, 2], (1, 2));
        let r = conv(&x, NxType::S32, &w, NxType::S32, &o, NxType::F32).unwrap();
        assert_eq!(r.size(), vec![1, 2, 1]);
        assert_eq!(values(&r), vec![3.0, -1.0]);
    }

    #[test]
    fn four_spatial_axes_match_a_single_tap_sum() {
        let x = Tensor::f_arange(16, (Kind::Float, Device::Cpu))
            .unwrap()
            .reshape([1, 1, 2, 2, 2, 2]);
        let w = Tensor::f_ones([1, 1, 2, 2, 2, 2], (Kind::Float, Device::Cpu)).unwrap();
        let o = options(
            &[1, 1, 1, 1],
            &[(0, 0), (0, 0), (0, 0), (0, 0)],
            &[1, 1, 1, 1],
            &[0, 1, 2, 3, 4, 5],
            (1, 1),
        );
        let r = conv(&x, NxType::F32, &w, NxType::F32, &o, NxType::F32).unwrap();
        assert_eq!(values(&r), vec![120.0]);
    }
}
