use crate::resource::TRef;
use rustler::{Atom, Encoder, Env, Term};

rustler::atoms! {
    ok,
    already_deallocated,
    threads,
    cuda_available,
    cuda_device_count,
    cuda_reason,
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
    let pairs = [
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
