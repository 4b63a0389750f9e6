use crate::resource::TRef;
use rustler::{Atom, Encoder, Env, Term};

rustler::atoms! {
    ok,
    already_deallocated,
    threads,
    cuda_available,
    cuda_device_count,
    cuda_reason,
    allocator_cached_bytes,
    allocator_hits,
    allocator_misses,
}

#[rustler::nif]
fn t_deallocate(tensor: TRef) -> Atom {
    if tensor.0.deallocate() {
        ok()
    } else {
        already_deallocated()
    }
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
    let pairs = [
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
