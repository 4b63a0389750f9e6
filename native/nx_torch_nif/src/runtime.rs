use crate::errors::{NifResult, OrRaise};
use crate::nif_pair;
use crate::resource::TRef;
use rustler::{Atom, Encoder, Env, Term};

rustler::atoms! {
    ok,
    already_deallocated,
    threads,
    cuda_available,
    cuda_device_count,
    cuda_reason,
    cuda_fused_launches,
    cuda_fused_fallbacks,
    allocator_cached_bytes,
    allocator_hits,
    allocator_misses,
    torch_version,
    libtorch_path,
    cuda_library,
    cuda_driver,
    loaded,
}

#[rustler::nif]
fn t_deallocate(tensor: TRef) -> Atom {
    if tensor.0.deallocate() {
        ok()
    } else {
        already_deallocated()
    }
}

/// Computes a tensor's deferred values (see `nx_engine::lazy`).
fn sync_imp(tensor: TRef) -> NifResult<Atom> {
    tensor.0.materialize().or_raise()?;
    Ok(ok())
}

nif_pair!(t_sync, t_sync_dirty, sync_imp, (tensor: TRef), [tensor], NifResult<Atom>);

#[rustler::nif]
fn t_deferred(tensor: TRef) -> bool {
    tensor.0.is_pending()
}

/// `[{device_code, live_tensors, live_bytes}]`, device code -1 for the CPU.
#[rustler::nif]
fn rt_memory_stats() -> Vec<(i64, i64, i64)> {
    nx_engine::memory::stats()
        .into_iter()
        .map(|(slot, tensors, bytes)| (slot as i64 - 1, tensors, bytes))
        .collect()
}

#[rustler::nif]
fn rt_info(env: Env) -> Term {
    let (cached, hits, misses) = nx_engine::runtime::allocator_stats();
    let cuda_lib = match nx_engine::runtime::cuda_load_result() {
        Some(Ok(())) => loaded().encode(env),
        Some(Err(message)) => message.encode(env),
        None => "not attempted (NX_TORCH_CUDA=0)".encode(env),
    };
    let (launches, fallbacks) = nx_engine::program::cuda::counters();
    let pairs = [
        (cuda_fused_launches().encode(env), launches.encode(env)),
        (cuda_fused_fallbacks().encode(env), fallbacks.encode(env)),
        (
            torch_version().encode(env),
            nx_engine::runtime::torch_version().encode(env),
        ),
        (
            libtorch_path().encode(env),
            nx_engine::runtime::libtorch_path().encode(env),
        ),
        (cuda_library().encode(env), cuda_lib),
        (
            cuda_driver().encode(env),
            nx_engine::device::cuda_driver_present().encode(env),
        ),
        (allocator_cached_bytes().encode(env), cached.encode(env)),
        (allocator_hits().encode(env), hits.encode(env)),
        (allocator_misses().encode(env), misses.encode(env)),
        (
            threads().encode(env),
            nx_engine::runtime::num_threads().encode(env),
        ),
        (
            cuda_device_count().encode(env),
            nx_engine::device::cuda_device_count().encode(env),
        ),
        (
            cuda_reason().encode(env),
            nx_engine::device::cuda_unavailable_reason().encode(env),
        ),
    ];
    Term::map_from_pairs(env, &pairs).unwrap_or_else(|_| ok().encode(env))
}

#[rustler::nif(schedule = "DirtyCpu")]
fn rt_release_cached_memory() -> Atom {
    nx_engine::runtime::release_cached_memory();
    ok()
}

/// `[{index, name, total_bytes, free_bytes}]` for every CUDA device the driver reports.
#[rustler::nif(schedule = "DirtyIo")]
fn rt_cuda_devices() -> Vec<(usize, String, u64, u64)> {
    nx_engine::device::cuda_devices()
        .into_iter()
        .map(|d| (d.index, d.name, d.total_bytes, d.free_bytes))
        .collect()
}
