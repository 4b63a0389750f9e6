//! Fused kernels on CUDA: the micro-ops of a [`Kernel`] written out as one CUDA C kernel,
//! compiled at run time by NVRTC (through cudarc) and launched on LibTorch's own buffers on the
//! default stream, which LibTorch's operations also use.
//!
//! - Element-wise kernels: one thread per element (grid-stride loop); each micro-op is one
//!   expression over `float` values held in registers, so intermediates never touch memory.
//! - Row kernels: one thread block per row (block-stride loop over rows). Each row reduction is
//!   a pass over the row that recomputes the element values it reads (all pure) and reduces them
//!   in shared memory; a last pass computes and writes the element outputs.
//!
//! Each compiled kernel is checked against [`super::interp`] (the same micro-ops run with
//! LibTorch's operations) the first time it runs; a kernel that does not compile or disagrees
//! is set aside and that evaluation is used instead, as it is when NVRTC cannot be loaded or
//! `NX_TORCH_CUDA_FUSE=0`.
use super::fuse::{Kernel, Loc};
use super::kernels::FOp;
use super::Out;
use crate::types::NxType;
use std::collections::HashMap;
use std::fmt::Write;

/// The name of the generated kernel function.
pub const ENTRY: &str = "nx_fused";
/// Threads per block of element-wise kernels.
pub const THREADS: u32 = 256;

/// Device functions shared by every generated kernel. `nx_max`/`nx_min` propagate NaN as
/// LibTorch's `maximum`/`minimum` do; the half conversions are written out with integer
/// operations so that the source needs no header.
const PRELUDE: &str = r#"#define NX_NAN __uint_as_float(0x7fc00000u)
#define NX_INF __uint_as_float(0x7f800000u)
__device__ __forceinline__ float nx_max(float a, float b) {
  return (a != a || b != b) ? NX_NAN : (a > b ? a : b);
}
__device__ __forceinline__ float nx_min(float a, float b) {
  return (a != a || b != b) ? NX_NAN : (a < b ? a : b);
}
__device__ __forceinline__ float nx_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
__device__ __forceinline__ float nx_bf16(unsigned short h) {
  return __uint_as_float(((unsigned int)h) << 16);
}
__device__ __forceinline__ float nx_f16(unsigned short h) {
  unsigned int s = ((unsigned int)h & 0x8000u) << 16;
  unsigned int e = ((unsigned int)h >> 10) & 0x1fu, m = (unsigned int)h & 0x3ffu;
  if (e == 0x1fu) return __uint_as_float(s | 0x7f800000u | (m << 13));
  if (e == 0u) { float f = (float)m * 5.9604644775390625e-8f; return s ? -f : f; }
  return __uint_as_float(s | ((e + 112u) << 23) | (m << 13));
}
/* Rounding to f16 / bf16 (ties to even), kept as float, and the bits of such values. */
__device__ __forceinline__ float nx_round_f16(float x) {
  float a = fabsf(x);
  unsigned int b = __float_as_uint(x);
  float normal = __uint_as_float((b + 0x0fffu + ((b >> 13) & 1u)) & 0xffffe000u);
  float tiny = copysignf((a + 0.5f) - 0.5f, x);
  float r = a < 6.103515625e-05f ? tiny : normal;
  r = a >= 65520.0f ? copysignf(NX_INF, x) : r;
  return x != x ? x : r;
}
__device__ __forceinline__ float nx_round_bf16(float x) {
  unsigned int b = __float_as_uint(x);
  float r = __uint_as_float((b + 0x7fffu + ((b >> 16) & 1u)) & 0xffff0000u);
  return x != x ? x : r;
}
__device__ __forceinline__ unsigned short nx_f16_bits(float x) {
  unsigned int b = __float_as_uint(x);
  unsigned short sign = (unsigned short)((b >> 16) & 0x8000u);
  float a = fabsf(x);
  if (x != x) return sign | 0x7e00u;
  if (a >= 65520.0f) return sign | 0x7c00u;
  if (a < 6.103515625e-05f) return sign | (unsigned short)(a * 16777216.0f);
  unsigned int e = ((b >> 23) & 0xffu) - 112u;
  return sign | (unsigned short)(e << 10) | (unsigned short)((b >> 13) & 0x3ffu);
}
__device__ __forceinline__ unsigned short nx_bf16_bits(float x) {
  unsigned int b = __float_as_uint(x);
  return x != x ? (unsigned short)(((b >> 16) & 0x8000u) | 0x7fc0u) : (unsigned short)(b >> 16);
}
__device__ __forceinline__ float nx_comb(int op, float a, float b) {
  return op == 0 ? a + b : (op == 1 ? nx_max(a, b) : nx_min(a, b));
}
/* Reduces one value per thread of the block (a power of two) with nx_comb(op); every thread
   gets the result. */
__device__ float nx_block(int op, float v, float *sh) {
  sh[threadIdx.x] = v;
  __syncthreads();
  for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) sh[threadIdx.x] = nx_comb(op, sh[threadIdx.x], sh[threadIdx.x + s]);
    __syncthreads();
  }
  float r = sh[0];
  __syncthreads();
  return r;
}
"#;

/// The C type a buffer of `ty` is read as (unsigned types are stored in LibTorch's signed
/// kinds of the same width, so reading them unsigned gives Nx's value).
fn c_type(ty: NxType) -> Option<&'static str> {
    Some(match ty {
        NxType::U8 => "unsigned char",
        NxType::S8 => "signed char",
        NxType::U16 | NxType::F16 | NxType::BF16 => "unsigned short",
        NxType::S16 => "short",
        NxType::U32 => "unsigned int",
        NxType::S32 => "int",
        NxType::U64 => "unsigned long long",
        NxType::S64 => "long long",
        NxType::F32 => "float",
        NxType::F64 => "double",
        _ => return None,
    })
}

/// An element of `ty` at `at` converted to f32 (round to nearest, as a cast to f32 does).
fn load(ty: NxType, at: String) -> String {
    match ty {
        NxType::F16 => format!("nx_f16({at})"),
        NxType::BF16 => format!("nx_bf16({at})"),
        NxType::F32 => at,
        _ => format!("((float){at})"),
    }
}

fn expr(op: FOp, a: &str, b: &str, c: &str) -> String {
    let cmp = |o: &str| format!("(({a} {o} {b}) ? 1.0f : 0.0f)");
    match op {
        FOp::Add => format!("({a} + {b})"),
        FOp::Sub => format!("({a} - {b})"),
        FOp::Mul => format!("({a} * {b})"),
        FOp::Div => format!("({a} / {b})"),
        FOp::Max => format!("nx_max({a}, {b})"),
        FOp::Min => format!("nx_min({a}, {b})"),
        FOp::Neg => format!("(-{a})"),
        FOp::Abs => format!("fabsf({a})"),
        FOp::Exp => format!("expf({a})"),
        FOp::ExpSub => format!("expf({a} - {b})"),
        FOp::Log => format!("logf({a})"),
        FOp::Tanh => format!("tanhf({a})"),
        FOp::Sigmoid => format!("nx_sigmoid({a})"),
        FOp::Sqrt => format!("sqrtf({a})"),
        FOp::Rsqrt => format!("(1.0f / sqrtf({a}))"),
        FOp::Copy | FOp::RowSum | FOp::RowMax | FOp::RowMin => a.to_string(),
        FOp::Eq => cmp("=="),
        FOp::Ne => cmp("!="),
        FOp::Lt => cmp("<"),
        FOp::Gt => cmp(">"),
        FOp::Le => cmp("<="),
        FOp::Ge => cmp(">="),
        FOp::Select => format!("(({a} != 0.0f) ? {b} : {c})"),
        FOp::RoundF16 => format!("nx_round_f16({a})"),
        FOp::RoundBF16 => format!("nx_round_bf16({a})"),
    }
}

/// One micro-op as generated code: `row` ops run once per row (reductions, and arithmetic
/// on row values), the others once per element.
struct Step {
    row: bool,
    /// The value: an expression of the operands (a reduction's operand, for reductions).
    value: String,
    reduction: Option<i32>,
    /// The statement storing the value into an output, if it is one.
    store: Option<String>,
}

/// A generated kernel: its CUDA C source and how to launch it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub code: String,
    /// Threads per block (a power of two for row kernels).
    pub threads: u32,
    /// Units of work the blocks share: elements, or rows for row kernels.
    pub work: u64,
    pub row_kernel: bool,
}

/// Threads per block of a row kernel: a power of two from 32 to 256, about one per element.
fn row_threads(row_len: usize) -> u32 {
    (row_len.next_power_of_two() as u32).clamp(32, 256)
}

/// The CUDA C source of `kernel` with scalar inputs of `kernel.scalar_types` read from device
/// memory and outputs of `out_types` (f32, f16, bf16 or u8 masks). `None` for what it does not cover
/// (a type without a C form, an output of another type, an operand the micro-op list never
/// set): the caller then uses [`super::interp`].
pub fn source(kernel: &Kernel, out_types: &[NxType]) -> Option<Source> {
    let n = kernel.numel as u64;
    let row_len = kernel.row_len as u64;
    let rows = match row_len {
        0 => None,
        r if n.is_multiple_of(r) => Some(n / r),
        _ => return None,
    };
    let wide = n >= (1u64 << 31);
    let idx = if wide {
        "unsigned long long"
    } else {
        "unsigned int"
    };
    let suffix = if wide { "ull" } else { "u" };
    let mut params = Vec::new();
    for (i, &ty) in kernel.full_types.iter().enumerate() {
        params.push(format!("const {}* __restrict__ in{i}", c_type(ty)?));
    }
    for (i, &ty) in kernel.scalar_types.iter().enumerate() {
        params.push(format!("const {}* __restrict__ sc{i}", c_type(ty)?));
    }
    for (o, &ty) in out_types.iter().enumerate() {
        let t = match ty {
            NxType::F32 => "float",
            NxType::U8 => "unsigned char",
            NxType::F16 | NxType::BF16 => "unsigned short",
            _ => return None,
        };
        params.push(format!("{t}* __restrict__ out{o}"));
    }
    // the current expression of each location, as the micro-ops run in order
    let mut cur: HashMap<Loc, (String, bool)> = HashMap::new();
    for i in 0..kernel.n_full {
        let (period, repeat) = (kernel.periods[i] as u64, kernel.repeats[i] as u64);
        let at = match (period == n, repeat) {
            (true, 1) => "e".to_string(),
            (_, 1) => format!("(e % {period}{suffix})"),
            _ if period.saturating_mul(repeat) == n => format!("(e / {repeat}{suffix})"),
            _ => format!("((e / {repeat}{suffix}) % {period}{suffix})"),
        };
        cur.insert(
            Loc::In(i),
            (load(kernel.full_types[i], format!("in{i}[{at}]")), false),
        );
    }
    for i in 0..kernel.scalar_types.len() {
        cur.insert(Loc::Scalar(i), (format!("s{i}"), true));
    }
    let mut steps = Vec::with_capacity(kernel.ops.len());
    for (k, m) in kernel.ops.iter().enumerate() {
        let operand = |l: Loc| cur.get(&l).cloned();
        let args = [operand(m.a)?, operand(m.b)?, operand(m.c)?];
        let n_args = m.op.arity();
        let row = matches!(m.dst, Loc::RowReg(_) | Loc::RowOut(_));
        if row && row_len == 0 {
            return None;
        }
        let reduction = match m.op {
            FOp::RowSum => Some(0),
            FOp::RowMax => Some(1),
            FOp::RowMin => Some(2),
            _ => None,
        };
        if reduction.is_some() && !row {
            return None;
        }
        // a row op that is not a reduction reads row values and scalars only
        if row && reduction.is_none() && args[..n_args].iter().any(|(_, r)| !r) {
            return None;
        }
        let value = expr(m.op, &args[0].0, &args[1].0, &args[2].0);
        let var = format!("v{k}");
        let store = match m.dst {
            Loc::Out(o) if !row => {
                let v = match out_types.get(o)? {
                    NxType::U8 => format!("(unsigned char)({var})"),
                    NxType::F16 => format!("nx_f16_bits({var})"),
                    NxType::BF16 => format!("nx_bf16_bits({var})"),
                    _ => var.clone(),
                };
                Some(format!("out{o}[e] = {v};"))
            }
            Loc::RowOut(o) if row => {
                let v = match out_types.get(o)? {
                    NxType::F32 => var.clone(),
                    NxType::F16 => format!("nx_f16_bits({var})"),
                    NxType::BF16 => format!("nx_bf16_bits({var})"),
                    _ => return None,
                };
                Some(format!("if (threadIdx.x == 0) out{o}[row] = {v};"))
            }
            Loc::Reg(_) | Loc::RowReg(_) => None,
            _ => return None,
        };
        cur.insert(m.dst, (var, row));
        steps.push(Step {
            row,
            value,
            reduction,
            store,
        });
    }
    // every output is written
    for o in 0..out_types.len() {
        if !cur.contains_key(&Loc::Out(o)) && !cur.contains_key(&Loc::RowOut(o)) {
            return None;
        }
    }
    let mut code = String::from(PRELUDE);
    let _ = writeln!(
        code,
        "extern \"C\" __global__ void {ENTRY}({}) {{",
        params.join(", ")
    );
    for (i, &ty) in kernel.scalar_types.iter().enumerate() {
        let _ = writeln!(
            code,
            "  const float s{i} = {};",
            load(ty, format!("sc{i}[0]"))
        );
    }
    // the element-wise steps before `end`, in order (with their stores when `stores`)
    let elements = |code: &mut String, end: usize, stores: bool, indent: &str| {
        for (k, s) in steps[..end].iter().enumerate() {
            if s.row {
                continue;
            }
            let _ = writeln!(code, "{indent}const float v{k} = {};", s.value);
            if let (true, Some(st)) = (stores, &s.store) {
                let _ = writeln!(code, "{indent}{st}");
            }
        }
    };
    let (threads, work) = match rows {
        None => {
            let _ = writeln!(
                code,
                "  for ({idx} e = ({idx})blockIdx.x * blockDim.x + threadIdx.x; e < {n}{suffix}; \
                 e += ({idx})blockDim.x * gridDim.x) {{"
            );
            elements(&mut code, steps.len(), true, "    ");
            code.push_str("  }\n");
            (THREADS, n)
        }
        Some(rows) => {
            let threads = row_threads(kernel.row_len);
            let _ = writeln!(code, "  __shared__ float nx_sh[{threads}];");
            let _ = writeln!(
                code,
                "  for ({idx} row = blockIdx.x; row < {rows}{suffix}; row += gridDim.x) {{"
            );
            let _ = writeln!(code, "    const {idx} base = row * {row_len}{suffix};");
            for (k, s) in steps.iter().enumerate() {
                if !s.row {
                    continue;
                }
                match s.reduction {
                    Some(op) => {
                        let init = ["0.0f", "-NX_INF", "NX_INF"][op as usize];
                        let _ = writeln!(code, "    float acc{k} = {init};");
                        let _ = writeln!(
                            code,
                            "    for ({idx} j = threadIdx.x; j < {row_len}{suffix}; j += blockDim.x) {{"
                        );
                        code.push_str(&format!("      const {idx} e = base + j;\n"));
                        elements(&mut code, k, false, "      ");
                        let _ =
                            writeln!(code, "      acc{k} = nx_comb({op}, acc{k}, {});", s.value);
                        code.push_str("    }\n");
                        let _ = writeln!(
                            code,
                            "    const float v{k} = nx_block({op}, acc{k}, nx_sh);"
                        );
                    }
                    None => {
                        let _ = writeln!(code, "    const float v{k} = {};", s.value);
                    }
                }
                if let Some(st) = &s.store {
                    let _ = writeln!(code, "    {st}");
                }
            }
            let _ = writeln!(
                code,
                "    for ({idx} j = threadIdx.x; j < {row_len}{suffix}; j += blockDim.x) {{"
            );
            code.push_str(&format!("      const {idx} e = base + j;\n"));
            elements(&mut code, steps.len(), true, "      ");
            code.push_str("    }\n  }\n");
            (threads, rows)
        }
    };
    code.push_str("}\n");
    Some(Source {
        code,
        threads,
        work,
        row_kernel: rows.is_some(),
    })
}

/// Blocks to launch for `work` units: one per `per_block` units, at most 2^20 (the loops
/// stride over the rest).
pub fn blocks(work: u64, per_block: u64) -> u32 {
    work.div_ceil(per_block.max(1)).clamp(1, 1 << 20) as u32
}

/// The output types of `outs`.
pub fn out_types(outs: &[Out]) -> Vec<NxType> {
    outs.iter().map(|o| o.ty).collect()
}

// ---------------------------------------------------------------------------------------
// Run time: NVRTC, the compiled kernels, launches.

use super::interp;
use crate::error::{EngineError, Result, TorchContext};
use cudarc::driver::{CudaContext, CudaFunction, LaunchConfig, PushKernelArg};
use once_cell::sync::Lazy;
use parking_lot::Mutex;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tch::{Device, Kind, Tensor};

/// Whether fused groups are compiled for CUDA (`NX_TORCH_CUDA_FUSE=0` turns it off: each
/// micro-op then runs as its own LibTorch operation, as before fusion).
pub fn enabled() -> bool {
    static ON: Lazy<bool> = Lazy::new(|| std::env::var("NX_TORCH_CUDA_FUSE").as_deref() != Ok("0"));
    *ON
}

/// Loads NVRTC once: the file `NX_TORCH_NVRTC` names, else `libnvrtc.so.13` beside LibTorch
/// (the CUDA set-up puts it there) or in a PyTorch installation's `nvidia/cu13/lib`, else
/// whatever the library search path finds. NVRTC opens its builtins library by name at
/// compile time, so the one beside it is loaded first; loading both by path makes the later
/// lookups by name (cudarc's and NVRTC's) find them.
pub fn nvrtc_available() -> bool {
    static AVAILABLE: Lazy<bool> = Lazy::new(|| {
        use std::path::{Path, PathBuf};
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Ok(p) = std::env::var("NX_TORCH_NVRTC") {
            candidates.push(p.into());
        }
        let lib = crate::runtime::libtorch_path();
        if let Some(dir) = Path::new(&lib).parent() {
            candidates.push(dir.join("libnvrtc.so.13"));
            candidates.push(dir.join("../../nvidia/cu13/lib/libnvrtc.so.13"));
        }
        for c in candidates.iter().filter(|c| c.exists()) {
            if let Some(Ok(entries)) = c.parent().map(std::fs::read_dir) {
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name.starts_with("libnvrtc-builtins.so") && !name.contains(".alt.") {
                        crate::runtime::dlopen_global(&e.path());
                    }
                }
            }
            if crate::runtime::dlopen_global(c) {
                break;
            }
        }
        // SAFETY: only tries to load the library by its usual names.
        catch_unwind(|| unsafe { cudarc::nvrtc::sys::is_culib_present() }).unwrap_or(false)
    });
    *AVAILABLE
}

/// Compiles generated source to PTX for `arch` (e.g. `compute_90`; NVRTC's default without).
pub fn compile(code: &str, arch: Option<&str>) -> std::result::Result<cudarc::nvrtc::Ptx, String> {
    if !nvrtc_available() {
        return Err("NVRTC could not be loaded".to_string());
    }
    let options = cudarc::nvrtc::CompileOptions {
        ftz: Some(false),
        prec_div: Some(true),
        prec_sqrt: Some(true),
        fmad: Some(true),
        options: arch
            .map(|a| vec![format!("--gpu-architecture={a}")])
            .unwrap_or_default(),
        ..Default::default()
    };
    match catch_unwind(AssertUnwindSafe(|| {
        cudarc::nvrtc::compile_ptx_with_opts(code, options)
    })) {
        Ok(Ok(ptx)) => Ok(ptx),
        Ok(Err(e)) => Err(format!("{e:?}")),
        Err(_) => Err("NVRTC failed".to_string()),
    }
}

/// What became of a generated kernel on one device.
#[derive(Clone)]
enum Compiled {
    /// Compiled; `checked` once it has agreed with the LibTorch evaluation.
    Ready { f: Arc<CudaFunction>, checked: bool },
    /// Did not compile or load, or disagreed: the LibTorch evaluation is used.
    SetAside,
}

static CONTEXTS: Lazy<Mutex<HashMap<usize, Arc<CudaContext>>>> = Lazy::new(Default::default);
static KERNELS: Lazy<Mutex<HashMap<(usize, String), Compiled>>> = Lazy::new(Default::default);
static LAUNCHED: AtomicU64 = AtomicU64::new(0);
static FELL_BACK: AtomicU64 = AtomicU64::new(0);

/// Kernel runs on CUDA so far: `(generated kernels launched, LibTorch evaluations instead)`.
pub fn counters() -> (u64, u64) {
    (
        LAUNCHED.load(Ordering::Relaxed),
        FELL_BACK.load(Ordering::Relaxed),
    )
}

fn context(ordinal: usize) -> Result<Arc<CudaContext>> {
    if !crate::device::cuda_driver_present() {
        return Err(EngineError::Device("no NVIDIA driver".to_string()));
    }
    let mut contexts = CONTEXTS.lock();
    if let Some(c) = contexts.get(&ordinal) {
        return Ok(c.clone());
    }
    // the device's primary context, the one LibTorch's runtime calls use
    let ctx = catch_unwind(|| CudaContext::new(ordinal))
        .map_err(|_| EngineError::Device("the CUDA driver failed".to_string()))?
        .map_err(|e| EngineError::Device(format!("CUDA context: {e:?}")))?;
    contexts.insert(ordinal, ctx.clone());
    Ok(ctx)
}

/// The compiled function of `code` on device `ordinal`, compiling it on first use.
fn function(ordinal: usize, code: &str) -> Compiled {
    let key = (ordinal, code.to_string());
    let mut kernels = KERNELS.lock();
    if let Some(c) = kernels.get(&key) {
        return c.clone();
    }
    let built = (|| -> std::result::Result<Arc<CudaFunction>, String> {
        let ctx = context(ordinal).map_err(|e| e.to_string())?;
        let arch = ctx
            .compute_capability()
            .map(|(major, minor)| format!("compute_{major}{minor}"))
            .ok();
        // an architecture newer than this NVRTC knows: its default PTX, which the driver JITs
        let ptx = compile(code, arch.as_deref()).or_else(|_| compile(code, None))?;
        catch_unwind(AssertUnwindSafe(|| {
            let module = ctx.load_module(ptx).map_err(|e| format!("{e:?}"))?;
            module.load_function(ENTRY).map_err(|e| format!("{e:?}"))
        }))
        .map_err(|_| "loading the module failed".to_string())?
        .map(Arc::new)
    })();
    let c = match built {
        Ok(f) => Compiled::Ready { f, checked: false },
        Err(why) => {
            eprintln!(
                "nx_torch: a fused CUDA kernel was set aside ({why}); using LibTorch's operations"
            );
            Compiled::SetAside
        }
    };
    kernels.insert(key, c.clone());
    c
}

/// Records the first-run check of a compiled kernel: checked when it agreed with the LibTorch
/// evaluation, set aside when it did not.
fn record_check(ordinal: usize, code: &str, agreed: bool) {
    let mut kernels = KERNELS.lock();
    if let Some(c) = kernels.get_mut(&(ordinal, code.to_string())) {
        match c {
            Compiled::Ready { checked, .. } if agreed => *checked = true,
            _ => *c = Compiled::SetAside,
        }
    }
}

fn storage(t: &Tensor, ty: NxType, numel: usize, device: Device) -> Result<Tensor> {
    let kind = t.f_kind().ctx("fused")?;
    if t.device() != device || kind != ty.storage_kind() || t.numel() != numel {
        return Err(EngineError::argument(
            "fused: inputs do not match the kernel",
        ));
    }
    crate::ops::contiguous(t.shallow_clone())
}

/// Launches the generated kernel on checked, contiguous inputs; returns the new outputs.
fn launch(
    f: &CudaFunction,
    src: &Source,
    kernel: &Kernel,
    inputs: &[(Tensor, NxType)],
    outs: &[Out],
    ordinal: usize,
) -> Result<Vec<Tensor>> {
    let device = Device::Cuda(ordinal);
    let mut keep = Vec::with_capacity(inputs.len());
    for (i, (t, ty)) in inputs.iter().enumerate() {
        let numel = if i < kernel.n_full {
            kernel.periods[i]
        } else {
            1
        };
        let want = if i < kernel.n_full {
            kernel.full_types[i]
        } else {
            kernel.scalar_types[i - kernel.n_full]
        };
        if *ty != want {
            return Err(EngineError::argument(
                "fused: inputs do not match the kernel",
            ));
        }
        keep.push(storage(t, *ty, numel, device)?);
    }
    let results = outs
        .iter()
        .map(|o| Tensor::f_empty(o.shape.as_slice(), (o.ty.storage_kind(), device)).ctx("fused"))
        .collect::<Result<Vec<_>>>()?;
    let ptrs: Vec<u64> = keep
        .iter()
        .chain(&results)
        .map(|t| t.data_ptr() as u64)
        .collect();
    let ctx = context(ordinal)?;
    let stream = ctx.default_stream();
    let per_block = if src.row_kernel {
        1
    } else {
        src.threads as u64
    };
    let cfg = LaunchConfig {
        grid_dim: (blocks(src.work, per_block), 1, 1),
        block_dim: (src.threads, 1, 1),
        shared_mem_bytes: 0,
    };
    let mut builder = stream.launch_builder(f);
    for p in &ptrs {
        builder.arg(p);
    }
    // SAFETY: the arguments are, in the kernel's parameter order, device pointers to
    // contiguous buffers of the element types and counts the source was generated for (checked
    // above). The launch is ordered on the default stream with LibTorch's work, so buffers that
    // LibTorch frees after this returns are reused only by later work on that stream.
    unsafe { builder.launch(cfg) }
        .map_err(|e| EngineError::Device(format!("fused CUDA kernel launch: {e:?}")))?;
    Ok(results)
}

/// Whether two evaluations of a kernel agree (masks exactly, values to f32 rounding).
fn agree(a: &[Tensor], b: &[Tensor]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            let f = |t: &Tensor| t.f_to_kind(Kind::Double);
            match (f(x), f(y)) {
                (Ok(x), Ok(y)) => x.f_allclose(&y, 1e-4, 1e-5, true).unwrap_or(false),
                _ => false,
            }
        })
}

/// Runs a fused kernel whose inputs are on a CUDA device: the generated kernel when it is
/// available, LibTorch's operations otherwise (see the module documentation).
pub fn run(kernel: &Kernel, inputs: Vec<(Tensor, NxType)>, outs: &[Out]) -> Result<Vec<Tensor>> {
    let ordinal = match inputs.first().map(|(t, _)| t.device()) {
        Some(Device::Cuda(i)) => i,
        _ => return interp::run(kernel, inputs, outs),
    };
    let generated = if enabled() && nvrtc_available() {
        source(kernel, &out_types(outs))
    } else {
        None
    };
    let Some(src) = generated else {
        FELL_BACK.fetch_add(1, Ordering::Relaxed);
        return interp::run(kernel, inputs, outs);
    };
    let (f, checked) = match function(ordinal, &src.code) {
        Compiled::Ready { f, checked } => (f, checked),
        Compiled::SetAside => {
            FELL_BACK.fetch_add(1, Ordering::Relaxed);
            return interp::run(kernel, inputs, outs);
        }
    };
    let results = launch(&f, &src, kernel, &inputs, outs, ordinal)?;
    LAUNCHED.fetch_add(1, Ordering::Relaxed);
    if !checked {
        let expected = interp::run(kernel, inputs, outs)?;
        let ok = agree(&results, &expected);
        record_check(ordinal, &src.code, ok);
        if !ok {
            eprintln!("nx_torch: a fused CUDA kernel disagreed with LibTorch's operations and was set aside");
            return Ok(expected);
        }
    }
    Ok(results)
}
