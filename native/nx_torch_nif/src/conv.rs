use crate::decode;
use crate::errors::{NifResult, OrRaise};
use crate::nif_pair;
use crate::resource::{wrap, TRef};
use nx_engine::ops::conv::{self, ConvOptions};

/// Arguments as `Nx.conv/3` gives them to the backend: one entry per spatial axis for
/// strides, `{low, high}` padding and dilations; permutations over all axes.
#[allow(clippy::too_many_arguments)]
fn conv_imp(
    input: TRef,
    kernel: TRef,
    strides: Vec<i64>,
    padding: Vec<(i64, i64)>,
    input_dilation: Vec<i64>,
    kernel_dilation: Vec<i64>,
    groups: (i64, i64),
    permutations: (Vec<i64>, Vec<i64>, Vec<i64>),
    ty: i64,
) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let (x, w) = (input.0.tensor().or_raise()?, kernel.0.tensor().or_raise()?);
    let opts = ConvOptions {
        strides: &strides,
        padding: &padding,
        input_dilation: &input_dilation,
        kernel_dilation: &kernel_dilation,
        feature_groups: groups.0,
        batch_groups: groups.1,
        input_permutation: &permutations.0,
        kernel_permutation: &permutations.1,
        output_permutation: &permutations.2,
    };
    let r = conv::conv(&x, input.0.ty(), &w, kernel.0.ty(), &opts, out).or_raise()?;
    Ok(wrap(r, out))
}

nif_pair!(t_conv, t_conv_dirty, conv_imp,
    (input: TRef, kernel: TRef, strides: Vec<i64>, padding: Vec<(i64, i64)>,
     input_dilation: Vec<i64>, kernel_dilation: Vec<i64>, groups: (i64, i64),
     permutations: (Vec<i64>, Vec<i64>, Vec<i64>), ty: i64),
    [input, kernel, strides, padding, input_dilation, kernel_dilation, groups, permutations, ty],
    NifResult<TRef>);
