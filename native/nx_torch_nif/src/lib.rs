//! The NIF layer: decodes terms, calls `nx_engine`, encodes results. No tensor logic lives here.
//!
//! Table of contents (Elixir stub: `Nx.Torch.NIF`; names carry a family prefix):
//! - [`resource`] — the tensor resource and how results are returned.
//! - [`errors`] — engine errors raised as Elixir exceptions (the one place that does it).
//! - [`decode`] — type codes, device codes and shapes.
//! - [`creation`] — `t_from_binary`, `t_to_binary`, `t_iota`, `t_eye`.
//! - [`convert`] — `t_as_type`, `t_bitcast`, `t_to_device`.
//! - [`shape`] — `t_reshape`, `t_transpose`, `t_broadcast`, `t_reverse`, `t_pad`,
//!   `t_concatenate`, `t_stack`.
//! - [`index`] — `t_slice`, `t_put_slice`, `t_gather`, `t_take`, `t_take_along_axis`,
//!   `t_indexed` (indexed_add/indexed_put).
//! - [`elementwise`] — `t_binary`, `t_unary` (op atom = the Nx function), `t_select`, `t_clip`.
//! - [`contract`] — `t_dot`.
//! - [`conv`] — `t_conv`.
//! - [`window`] — `t_window_reduce` (window_sum/product/max/min), `t_windows` (the windows
//!   that `window_reduce` folds), `t_window_scatter` (window_scatter_max/min).
//! - [`order`] — `t_sort`, `t_argsort`, `t_top_k`.
//! - [`scan`] — `t_cumulative`.
//! - [`linalg`] — `t_cholesky`, `t_qr`, `t_eigh`, `t_svd`, `t_lu`, `t_solve`,
//!   `t_triangular_solve`, `t_determinant`, `t_invert`, `t_pinv`, `t_matrix_rank`,
//!   `t_least_squares`.
//! - [`fft`] — `t_fft` (fft/ifft), `t_fft2` (fft2/ifft2), `t_rfft`, `t_irfft`.
//! - [`reduce`] — `t_reduce` (sum, product, max, min, all, any), `t_arg_reduce`.
//! - [`runtime`] — `t_deallocate`, `t_sync`, `t_deferred`, `t_info`, `rt_memory_stats`, `rt_info`.
//! - [`program`] — `p_build`, `p_run` (+ `_dirty`, `_io`): compiled defn programs.
//! - [`debug`] — `dbg_*`, NIFs that misbehave on purpose so tests can show the VM survives.

mod contract;
mod conv;
mod convert;
mod creation;
mod debug;
mod decode;
mod elementwise;
mod errors;
mod fft;
mod index;
mod linalg;
mod order;
mod program;
mod reduce;
mod resource;
mod runtime;
mod scan;
mod shape;
mod window;

/// Runs `$imp` from two NIFs: one on a normal scheduler for small tensors and one on a dirty
/// CPU scheduler for work that may exceed ~1 ms. The Elixir side picks by size.
macro_rules! nif_pair {
    // Parameters and return type pass as raw tokens: rustler's attribute cannot parse the
    // invisible groups that `ty` fragments become.
    ($normal:ident, $dirty:ident, $imp:path, ($($params:tt)*), [$($arg:ident),*], $($ret:tt)+) => {
        // NIF parameters mirror the Elixir call one to one, however many there are
        #[allow(clippy::extra_unused_lifetimes, clippy::too_many_arguments)]
        #[rustler::nif]
        fn $normal<'a>($($params)*) -> $($ret)+ {
            $imp($($arg),*)
        }

        #[allow(clippy::extra_unused_lifetimes, clippy::too_many_arguments)]
        #[rustler::nif(schedule = "DirtyCpu")]
        fn $dirty<'a>($($params)*) -> $($ret)+ {
            nx_engine::runtime::background_thread();
            $imp($($arg),*)
        }
    };
}
pub(crate) use nif_pair;

fn load(_env: rustler::Env, info: rustler::Term) -> bool {
    // Panics are caught by rustler and raised as Elixir errors; the default hook would also
    // print a backtrace to the VM's stderr, which belongs to the user's application.
    let verbose = std::env::var_os("NX_TORCH_DEBUG").is_some();
    std::panic::set_hook(Box::new(move |info| {
        if verbose {
            eprintln!("Nx.Torch NIF panic: {info}");
        }
    }));
    // libtorch_cuda.so is loaded when its CUDA dependencies are present (NX_TORCH_CUDA=1 set-up);
    // otherwise the failure is recorded and reported as the reason CUDA is unavailable.
    if std::env::var("NX_TORCH_CUDA").as_deref() != Ok("0") {
        let _ = nx_engine::runtime::load_cuda();
    }
    // load_info is {threads, allocator cache limit in bytes (0 = LibTorch's own allocator)}
    if let Ok((threads, cache_limit)) = info.decode::<(i64, i64)>() {
        if threads > 0 {
            nx_engine::runtime::set_num_threads(threads as i32);
        }
        if cache_limit > 0 {
            nx_engine::runtime::install_caching_allocator(cache_limit as u64);
        }
    }
    // the helper threads of split kernels, started here rather than in the first kernel
    nx_engine::split::start();
    true
}

rustler::init!("Elixir.Nx.Torch.NIF", load = load);
