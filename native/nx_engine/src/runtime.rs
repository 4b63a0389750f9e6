//! Per-thread and process-wide LibTorch settings.
use std::cell::Cell;

extern "C" {
    fn nx_enter_inference_mode() -> i32;
    fn nx_set_num_threads(n: i32) -> i32;
    fn nx_get_num_threads() -> i32;
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
