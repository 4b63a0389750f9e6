//! Per-thread and process-wide LibTorch settings.
use std::cell::Cell;

extern "C" {
    fn nx_enter_inference_mode() -> i32;
    fn nx_set_num_threads(n: i32) -> i32;
    fn nx_get_num_threads() -> i32;
    fn nx_install_caching_allocator(limit: u64) -> i32;
    fn nx_release_cached_memory();
    fn nx_allocator_stats(out: *mut u64);
}

/// Installs the caching CPU allocator (see cpp/shim.cpp for why). Must run before any tensor
/// is allocated: the NIF `load` callback calls it. `limit` bounds the cached bytes.
pub fn install_caching_allocator(limit: u64) -> bool {
    // SAFETY: a plain C call; the shim catches C++ exceptions.
    unsafe { nx_install_caching_allocator(limit) == 0 }
}

/// Gives the allocator's cached blocks back to the system.
pub fn release_cached_memory() {
    // SAFETY: a plain C call that takes the cache's own lock.
    unsafe { nx_release_cached_memory() }
}

/// (cached bytes, cache hits, cache misses) of the caching CPU allocator.
pub fn allocator_stats() -> (u64, u64, u64) {
    let mut out = [0u64; 3];
    // SAFETY: the shim writes exactly three u64 values into `out`.
    unsafe { nx_allocator_stats(out.as_mut_ptr()) };
    (out[0], out[1], out[2])
}

thread_local! {
    static IN_INFERENCE_MODE: Cell<bool> = const { Cell::new(false) };
}

/// Called at the start of every engine entry point: the first call on a thread puts it in
/// LibTorch's InferenceMode for good (no autograd bookkeeping: our autograd is symbolic).
#[inline]
pub fn prepare_thread() {
    IN_INFERENCE_MODE.with(|flag| {
        if !flag.get() {
            // SAFETY: a plain C call with no arguments; the shim catches C++ exceptions.
            let ok = unsafe { nx_enter_inference_mode() } == 0;
            flag.set(ok);
        }
    });
}

/// Sets the intra-op thread count. LibTorch keeps it per OS thread in parts, so this is called
/// from the NIF `load` callback, before any scheduler thread runs an operation.
pub fn set_num_threads(n: i32) -> bool {
    // SAFETY: a plain C call; the shim catches C++ exceptions.
    n > 0 && unsafe { nx_set_num_threads(n) } == 0
}

pub fn num_threads() -> i32 {
    // SAFETY: a plain C call; the shim catches C++ exceptions.
    unsafe { nx_get_num_threads() }
}
