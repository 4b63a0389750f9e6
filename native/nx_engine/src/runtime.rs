//! Per-thread and process-wide LibTorch settings.
use std::cell::Cell;

extern "C" {
    fn nx_enter_inference_mode() -> i32;
    fn nx_set_num_threads(n: i32) -> i32;
    fn nx_get_num_threads() -> i32;
    fn nx_install_caching_allocator(limit: u64) -> i32;
    fn nx_release_cached_memory();
    fn nx_allocator_stats(out: *mut u64);
    fn nx_torch_version(buf: *mut u8, len: usize) -> usize;
    fn nx_libtorch_path(buf: *mut u8, len: usize) -> usize;
    fn nx_load_cuda(buf: *mut u8, len: usize) -> i32;
    fn nx_dlopen_global(path: *const std::ffi::c_char) -> i32;
    fn nx_lower_thread_priority(niceness: i32) -> i32;
    fn nx_empty_cpu(scalar_type: i32, dims: *const i64, ndim: i64) -> *mut std::ffi::c_void;
    fn nx_tensor_is_unique(t: *const torch_sys::C_tensor) -> i32;
    fn nx_mkl_local_threads(n: i32) -> i32;
    fn nx_addmm_out(
        out: *const torch_sys::C_tensor,
        this: *const torch_sys::C_tensor,
        mat1: *const torch_sys::C_tensor,
        mat2: *const torch_sys::C_tensor,
        alpha: f64,
    ) -> i32;
    fn nx_addmm(
        this: *const torch_sys::C_tensor,
        mat1: *const torch_sys::C_tensor,
        mat2: *const torch_sys::C_tensor,
        alpha: f64,
    ) -> *mut std::ffi::c_void;
}

/// `w + alpha * (mat1 @ mat2)` for matrices (LibTorch's `addmm` with `beta = 1`, `alpha`): one
/// GEMM that accumulates onto a copy of `w`. The caller checks the shapes and kinds.
pub fn addmm(
    w: &tch::Tensor,
    mat1: &tch::Tensor,
    mat2: &tch::Tensor,
    alpha: f64,
) -> crate::Result<tch::Tensor> {
    // SAFETY: three live tensors for the duration of the call; the shim catches C++
    // exceptions and returns null for them.
    let ptr = unsafe { nx_addmm(w.as_ptr(), mat1.as_ptr(), mat2.as_ptr(), alpha) };
    if ptr.is_null() {
        return Err(crate::EngineError::argument("addmm: LibTorch failed"));
    }
    // SAFETY: a non-null pointer from the shim is a fresh heap-allocated at::Tensor.
    Ok(unsafe { tch::Tensor::from_ptr(ptr as *mut torch_sys::C_tensor) })
}

/// Sets how many threads MKL uses for calls from the calling thread (0: MKL's global setting
/// again, which LibTorch sets to its intra-op thread count). Returns the previous value.
pub fn mkl_local_threads(n: i32) -> i32 {
    // SAFETY: MKL's thread-local setting, for this thread only.
    unsafe { nx_mkl_local_threads(n) }
}

/// Whether `t` is the only handle on its tensor and on its storage (nothing else can see its
/// memory), so that overwriting it in place is invisible to everything else.
pub fn is_unique(t: &tch::Tensor) -> bool {
    // SAFETY: a live tensor for the duration of the call; the shim only reads reference counts.
    unsafe { nx_tensor_is_unique(t.as_ptr()) == 1 }
}

/// `out = w + alpha * (mat1 @ mat2)` into `out`, an existing tensor of the result's shape (a
/// row block of a larger one). The caller checks the shapes and kinds.
pub fn addmm_out(
    out: &tch::Tensor,
    w: &tch::Tensor,
    mat1: &tch::Tensor,
    mat2: &tch::Tensor,
    alpha: f64,
) -> crate::Result<()> {
    // SAFETY: four live tensors for the duration of the call; the shim catches C++ exceptions.
    let rc = unsafe {
        nx_addmm_out(
            out.as_ptr(),
            w.as_ptr(),
            mat1.as_ptr(),
            mat2.as_ptr(),
            alpha,
        )
    };
    if rc != 0 {
        return Err(crate::EngineError::argument("addmm: LibTorch failed"));
    }
    Ok(())
}

/// A new uninitialized contiguous CPU tensor of `kind` and `shape`, made without going through
/// LibTorch's dispatcher (cheaper for tiny tensors; the same allocator).
pub fn empty_cpu(kind: tch::Kind, shape: &[i64]) -> crate::Result<tch::Tensor> {
    if shape.iter().any(|&d| d < 0) {
        return Err(crate::EngineError::argument("empty: negative dimension"));
    }
    // c10::ScalarType codes
    let code = match kind {
        tch::Kind::Uint8 => 0,
        tch::Kind::Int8 => 1,
        tch::Kind::Int16 => 2,
        tch::Kind::Int => 3,
        tch::Kind::Int64 => 4,
        tch::Kind::Half => 5,
        tch::Kind::Float => 6,
        tch::Kind::Double => 7,
        tch::Kind::BFloat16 => 15,
        _ => return Err(crate::EngineError::argument("empty: unsupported kind")),
    };
    // SAFETY: `shape` is a valid slice for the call; the shim catches C++ exceptions and
    // returns null for them.
    let ptr = unsafe { nx_empty_cpu(code, shape.as_ptr(), shape.len() as i64) };
    if ptr.is_null() {
        return Err(crate::EngineError::argument(
            "empty: LibTorch could not allocate",
        ));
    }
    // SAFETY: a non-null pointer from the shim is a fresh heap-allocated at::Tensor, the
    // handle type tch owns and frees.
    Ok(unsafe { tch::Tensor::from_ptr(ptr as *mut torch_sys::C_tensor) })
}

thread_local! {
    static BACKGROUND: Cell<bool> = const { Cell::new(false) };
}

/// Marks the calling thread (a BEAM dirty scheduler) as background work: it and the OpenMP
/// team LibTorch creates from it run at a lower priority, so that the BEAM's normal schedulers
/// keep their cores while large operations run. Done once per thread, before its first
/// LibTorch call creates the team (which inherits the priority). `NX_TORCH_NICE` sets the
/// niceness (default 10; 0 keeps the normal priority; `idle` selects `SCHED_IDLE`).
#[inline]
pub fn background_thread() {
    static NICENESS: once_cell::sync::Lazy<i32> =
        once_cell::sync::Lazy::new(|| {
            match std::env::var("NX_TORCH_NICE").as_deref().map(str::trim) {
                Ok("idle") => -1,
                Ok(v) => v
                    .parse()
                    .ok()
                    .filter(|n| (0..=19).contains(n))
                    .unwrap_or(10),
                Err(_) => 10,
            }
        });
    BACKGROUND.with(|flag| {
        if !flag.get() {
            // SAFETY: a plain C call on the calling thread's own priority.
            unsafe { nx_lower_thread_priority(*NICENESS) };
            flag.set(true);
        }
    });
}

/// Calls a shim function that writes a NUL-terminated string into a buffer.
fn shim_string(f: unsafe extern "C" fn(*mut u8, usize) -> usize) -> String {
    let mut buf = vec![0u8; 4096];
    // SAFETY: the shim writes at most `buf.len()` bytes, NUL-terminated.
    unsafe { f(buf.as_mut_ptr(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The LibTorch version the engine was built against.
pub fn torch_version() -> String {
    shim_string(nx_torch_version)
}

/// The path of the loaded libtorch_cpu.so.
pub fn libtorch_path() -> String {
    shim_string(nx_libtorch_path)
}

static CUDA_LOAD: once_cell::sync::OnceCell<std::result::Result<(), String>> =
    once_cell::sync::OnceCell::new();

/// Loads libtorch_cuda.so once (see the shim); the error says which library was missing.
pub fn load_cuda() -> std::result::Result<(), String> {
    CUDA_LOAD
        .get_or_init(|| {
            let mut buf = vec![0u8; 4096];
            // SAFETY: the shim writes at most `buf.len()` bytes, NUL-terminated.
            let rc = unsafe { nx_load_cuda(buf.as_mut_ptr(), buf.len()) };
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            let message = String::from_utf8_lossy(&buf[..end]).into_owned();
            if rc == 0 {
                Ok(())
            } else {
                Err(message)
            }
        })
        .clone()
}

/// Loads the shared library at `path` with its symbols global (so that a later lookup by its
/// name finds it). Whether it loaded.
pub fn dlopen_global(path: &std::path::Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a NUL-terminated path; the shim only calls dlopen.
    unsafe { nx_dlopen_global(c.as_ptr()) == 0 }
}

/// The result of the load attempt, if one was made.
pub fn cuda_load_result() -> Option<std::result::Result<(), String>> {
    CUDA_LOAD.get().cloned()
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

#[cfg(test)]
mod tests {
    use tch::Kind;

    #[test]
    fn empty_cpu_makes_contiguous_tensors_of_each_kind() {
        let kinds = [
            Kind::Uint8,
            Kind::Int8,
            Kind::Int16,
            Kind::Int,
            Kind::Int64,
            Kind::Half,
            Kind::Float,
            Kind::Double,
        ];
        for kind in kinds {
            let t = super::empty_cpu(kind, &[2, 3]).unwrap();
            assert_eq!(t.kind(), kind);
            assert_eq!(t.size(), vec![2, 3]);
            assert!(t.is_contiguous());
            assert_eq!(t.device(), tch::Device::Cpu);
        }
        assert_eq!(super::empty_cpu(Kind::Float, &[]).unwrap().numel(), 1);
        assert!(super::empty_cpu(Kind::Float, &[-1]).is_err());
        assert!(super::empty_cpu(Kind::ComplexFloat, &[1]).is_err());
    }
}
