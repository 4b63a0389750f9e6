//! The CUDA path of fused kernels, checked without a GPU:
//! - [`interp`] (the CUDA fallback and reference) agrees with the CPU executor;
//! - the generated CUDA C compiles with NVRTC, where NVRTC can be loaded (`NX_TORCH_NVRTC`
//!   names it; the CUDA set-up puts it beside LibTorch);
//! - the generated CUDA C, compiled as C++ with threads standing in for a block's threads
//!   (`__syncthreads` a barrier) and launched with fewer blocks than there is work, computes
//!   what the CPU executor computes.
use super::cuda::{self, source, ENTRY};
use super::fuse::{self, Kernel, Loc, MicroOp};
use super::interp;
use super::kernels::FOp;
use super::Out;
use crate::types::NxType;
use tch::{Kind, Tensor};

fn op(op: FOp, a: Loc, b: Loc, c: Loc, dst: Loc) -> MicroOp {
    MicroOp { op, a, b, c, dst }
}

fn un(f: FOp, a: Loc, dst: Loc) -> MicroOp {
    op(f, a, a, a, dst)
}

fn bin(f: FOp, a: Loc, b: Loc, dst: Loc) -> MicroOp {
    op(f, a, b, a, dst)
}

/// Deterministic values in [-3, 3).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 6.0 - 3.0
        })
        .collect()
}

fn scalar(v: f64, ty: NxType) -> (Tensor, NxType) {
    let t = crate::ops::convert::cast(&Tensor::from(v), NxType::F64, ty).unwrap();
    (t, ty)
}

fn outs(specs: &[(NxType, Vec<i64>)]) -> Vec<Out> {
    specs
        .iter()
        .enumerate()
        .map(|(slot, (ty, shape))| Out {
            slot,
            ty: *ty,
            shape: shape.clone(),
        })
        .collect()
}

struct Case {
    name: &'static str,
    kernel: Kernel,
    inputs: Vec<(Tensor, NxType)>,
    outs: Vec<Out>,
}

/// Every element-wise micro-op; inputs of three types and layouts (whole, cycling, repeated
/// runs); scalars of six types; f32 and mask outputs; a NaN.
fn element_case(n: usize) -> Case {
    use FOp::*;
    use Loc::*;
    assert_eq!(n % 1200, 0);
    let mut x = values(n, 1);
    x[5] = f32::NAN;
    let cyc: Vec<u8> = (0..3u8).collect();
    let runs: Vec<i16> = (0..(n / 12) as i16).map(|i| i % 7 - 3).collect();
    let r = Reg;
    let ops = vec![
        bin(Mul, In(0), Scalar(0), r(0)),
        bin(Add, r(0), In(1), r(1)),
        un(Tanh, r(1), r(2)),
        un(Sigmoid, In(0), r(3)),
        bin(Mul, r(2), r(3), r(4)),
        bin(Mul, In(0), In(0), r(5)),
        un(Neg, r(5), r(6)),
        un(Exp, r(6), r(7)),
        bin(Sub, r(4), r(7), Out(0)),
        un(Abs, In(0), r(8)),
        bin(Add, r(8), Scalar(1), r(9)),
        un(Log, r(9), r(10)),
        un(Sqrt, r(8), r(11)),
        un(Rsqrt, r(9), r(12)),
        bin(Mul, In(2), Scalar(2), r(13)),
        bin(Max, r(11), r(13), r(14)),
        bin(Min, r(14), r(12), r(15)),
        bin(Div, r(15), Scalar(3), r(16)),
        bin(Add, r(16), r(10), r(17)),
        bin(Add, r(17), Scalar(4), Out(1)),
        bin(Lt, In(0), Scalar(1), r(18)),
        op(Select, r(18), r(16), In(0), r(19)),
        bin(Ge, r(19), r(15), Out(2)),
        bin(Eq, In(1), Scalar(0), r(20)),
        bin(Ne, In(2), Scalar(0), r(21)),
        bin(Gt, In(0), Out(0), r(22)),
        bin(Le, In(0), Scalar(3), r(23)),
        bin(Add, r(20), r(21), r(24)),
        bin(Add, r(24), r(22), r(25)),
        bin(Add, r(25), r(23), Out(3)),
        un(Copy, Scalar(2), Out(4)),
    ];
    let kernel = Kernel {
        numel: n,
        n_full: 3,
        full_types: vec![NxType::F32, NxType::U8, NxType::S16],
        periods: vec![n, 3, n / 12],
        repeats: vec![1, 1, 12],
        scalar_types: vec![
            NxType::S32,
            NxType::F64,
            NxType::F16,
            NxType::BF16,
            NxType::U64,
        ],
        ops,
        n_regs: 26,
        row_len: 0,
        n_row_regs: 0,
    };
    let inputs = vec![
        (Tensor::from_slice(&x), NxType::F32),
        (Tensor::from_slice(&cyc), NxType::U8),
        (Tensor::from_slice(&runs), NxType::S16),
        scalar(2.0, NxType::S32),
        scalar(0.25, NxType::F64),
        scalar(1.5, NxType::F16),
        scalar(-0.5, NxType::BF16),
        scalar(7.0, NxType::U64),
    ];
    let shape = vec![n as i64];
    let outs = outs(&[
        (NxType::F32, shape.clone()),
        (NxType::F32, shape.clone()),
        (NxType::U8, shape.clone()),
        (NxType::F32, shape.clone()),
        (NxType::F32, shape),
    ]);
    Case {
        name: "elements",
        kernel,
        inputs,
        outs,
    }
}

/// A softmax over rows with a bias per column, the row sums and row minima as outputs, and
/// arithmetic on row values (as deferred work builds it).
fn row_case(rows: usize, len: usize) -> Case {
    use FOp::*;
    use Loc::*;
    let n = rows * len;
    let x = values(n, len as u64);
    let bias = values(len, 99);
    let ops = vec![
        bin(Add, In(0), In(1), Reg(0)),
        un(RowMax, Reg(0), RowReg(0)),
        bin(Sub, Reg(0), RowReg(0), Reg(1)),
        un(Exp, Reg(1), Reg(2)),
        un(RowSum, Reg(2), RowOut(1)),
        bin(Div, Reg(2), RowOut(1), Out(0)),
        un(RowMin, In(0), RowReg(1)),
        bin(Sub, In(0), RowReg(1), Out(2)),
        bin(Mul, RowOut(1), Scalar(0), RowReg(2)),
        bin(Add, RowReg(2), RowReg(1), RowOut(3)),
    ];
    let kernel = Kernel {
        numel: n,
        n_full: 2,
        full_types: vec![NxType::F32, NxType::F32],
        periods: vec![n, len],
        repeats: vec![1, 1],
        scalar_types: vec![NxType::F32],
        ops,
        n_regs: 3,
        row_len: len,
        n_row_regs: 3,
    };
    let (r, l) = (rows as i64, len as i64);
    Case {
        name: "rows",
        kernel,
        inputs: vec![
            (Tensor::from_slice(&x), NxType::F32),
            (Tensor::from_slice(&bias), NxType::F32),
            scalar(-2.0, NxType::F32),
        ],
        outs: outs(&[
            (NxType::F32, vec![r, l]),
            (NxType::F32, vec![r, 1]),
            (NxType::F32, vec![r, l]),
            (NxType::F32, vec![r, 1]),
        ]),
    }
}

/// f16 or bf16 in and out: each result rounded to the type, an f32 single element rounded
/// first, a mask of half values.
fn half_case(ty: NxType, n: usize) -> Case {
    use FOp::*;
    use Loc::*;
    let round = if ty == NxType::F16 {
        RoundF16
    } else {
        RoundBF16
    };
    let mut x = values(n, 7);
    x[1] = 70_000.0; // beyond f16's range: infinity there
    let ops = vec![
        un(round, Scalar(0), Reg(0)),
        bin(Mul, In(0), Reg(0), Reg(1)),
        un(round, Reg(1), Reg(2)),
        un(Exp, Reg(2), Reg(3)),
        un(round, Reg(3), Out(0)),
        bin(Sub, Out(0), In(0), Reg(4)),
        un(round, Reg(4), Out(1)),
        bin(Gt, Out(1), In(0), Out(2)),
    ];
    let kernel = Kernel {
        numel: n,
        n_full: 1,
        full_types: vec![ty],
        periods: vec![n],
        repeats: vec![1],
        scalar_types: vec![NxType::F32],
        ops,
        n_regs: 5,
        row_len: 0,
        n_row_regs: 0,
    };
    let t = Tensor::from_slice(&x).to_kind(ty.storage_kind());
    let shape = vec![n as i64];
    Case {
        name: if ty == NxType::F16 { "f16" } else { "bf16" },
        kernel,
        inputs: vec![(t, ty), scalar(0.1, NxType::F32)],
        outs: outs(&[
            (ty, shape.clone()),
            (ty, shape.clone()),
            (NxType::U8, shape),
        ]),
    }
}

/// The kernel the planner makes of a half softmax program (half row outputs and rounded row
/// sums).
fn planned_softmax_case(ty: NxType, rows: i64, len: i64) -> Case {
    let program =
        super::build::build(super::tests::half_softmax_spec(ty, rows, len, true)).unwrap();
    let instr = program
        .body
        .instrs
        .iter()
        .find(|i| matches!(i.op, super::Op::Fused(_)))
        .unwrap();
    let super::Op::Fused(kernel) = &instr.op else {
        unreachable!()
    };
    let x = Tensor::from_slice(&values((rows * len) as usize, 3))
        .f_mul_scalar(2.0)
        .unwrap()
        .to_kind(ty.storage_kind());
    Case {
        name: "half softmax",
        kernel: (**kernel).clone(),
        inputs: vec![(x, ty)],
        outs: instr.outs.clone(),
    }
}

fn cases() -> Vec<Case> {
    let mut v = vec![element_case(1200), element_case(12_000)];
    v.push(planned_softmax_case(NxType::F16, 5, 300));
    v.push(planned_softmax_case(NxType::BF16, 3, 33));
    v.push(half_case(NxType::F16, 1000));
    v.push(half_case(NxType::BF16, 1000));
    for (rows, len) in [(7, 5), (3, 33), (5, 300), (4, 1000)] {
        v.push(row_case(rows, len));
    }
    v
}

fn share(inputs: &[(Tensor, NxType)]) -> Vec<(Tensor, NxType)> {
    inputs
        .iter()
        .map(|(t, ty)| (t.shallow_clone(), *ty))
        .collect()
}

fn as_f64(t: &Tensor) -> Vec<f64> {
    let t = t.f_to_kind(Kind::Double).unwrap().f_reshape([-1]).unwrap();
    let mut v = vec![0f64; t.numel()];
    t.f_copy_data(&mut v, t.numel()).unwrap();
    v
}

/// Values agree to f32 rounding of different but accurate math functions; masks exactly.
/// Half outputs may also differ by one unit of their type where the f32 values straddle a
/// rounding boundary.
fn assert_close(name: &str, what: &str, ty: NxType, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{name} {what}: lengths");
    let rel = match ty {
        NxType::F16 => 1.0 / 1024.0,
        NxType::BF16 => 1.0 / 128.0,
        _ => 2e-6,
    };
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = g == w || (g.is_nan() && w.is_nan()) || (g - w).abs() <= 2e-6 + rel * w.abs();
        assert!(ok, "{name} {what}[{i}]: {g} vs {w}");
    }
}

#[test]
fn torch_evaluation_matches_the_cpu_executor() {
    for case in cases() {
        let want = fuse::run(&case.kernel, share(&case.inputs), &case.outs).unwrap();
        let got = interp::run(&case.kernel, share(&case.inputs), &case.outs).unwrap();
        for (o, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.kind(), w.kind(), "{} out {o}", case.name);
            assert_eq!(g.size(), w.size(), "{} out {o}", case.name);
            let ty = case.outs[o].ty;
            assert_close(case.name, &format!("out {o}"), ty, &as_f64(g), &as_f64(w));
        }
    }
}

#[test]
fn sources_are_generated_for_every_case() {
    for case in cases() {
        let types = cuda::out_types(&case.outs);
        let src = source(&case.kernel, &types).expect(case.name);
        assert!(src.code.contains(&format!("void {ENTRY}(")));
        assert_eq!(src.row_kernel, case.kernel.row_len > 0);
        assert!(src.threads.is_power_of_two() && (32..=256).contains(&src.threads));
        // an output the micro-ops never write: no source
        let mut more = types.clone();
        more.push(NxType::F32);
        assert!(source(&case.kernel, &more).is_none());
    }
    // an output type the kernels do not write
    let case = element_case(1200);
    let mut types = cuda::out_types(&case.outs);
    types[0] = NxType::F64;
    assert!(source(&case.kernel, &types).is_none());
}

/// The sources of the kernels the planner makes of the fused-program tests' programs.
fn planned_sources() -> Vec<String> {
    use super::tests::{chain_spec, half_spec, masks_spec};
    let mut v = Vec::new();
    for spec in [
        chain_spec(3000, true),
        masks_spec(700, true),
        masks_spec(1, true),
        half_spec(NxType::F16, 3000, true),
        half_spec(NxType::BF16, 3000, true),
    ] {
        let program = super::build::build(spec).unwrap();
        for instr in &program.body.instrs {
            if let super::Op::Fused(k) = &instr.op {
                let types = cuda::out_types(&instr.outs);
                v.push(
                    source(k, &types)
                        .expect("a planned kernel has a source")
                        .code,
                );
            }
        }
    }
    assert_eq!(v.len(), 5);
    v
}

#[test]
fn generated_sources_compile_with_nvrtc() {
    if !cuda::nvrtc_available() {
        eprintln!("skipped: NVRTC could not be loaded (set NX_TORCH_NVRTC to libnvrtc.so.13)");
        return;
    }
    let mut sources: Vec<String> = cases()
        .iter()
        .map(|case| {
            let types = cuda::out_types(&case.outs);
            source(&case.kernel, &types).unwrap().code
        })
        .collect();
    sources.extend(planned_sources());
    for code in &sources {
        for arch in [None, Some("compute_80"), Some("compute_90")] {
            if let Err(e) = cuda::compile(code, arch) {
                panic!("({arch:?}) did not compile: {e}\n{code}");
            }
        }
    }
    // a source with an error is reported, not a crash
    let broken = "extern \"C\" __global__ void nx_fused() { undefined_thing(); }";
    assert!(cuda::compile(broken, None).is_err());
}

/// Stand-ins for CUDA's built-ins: a block's threads are OS threads, `__syncthreads` a barrier,
/// `__shared__` storage a static (blocks run one after another).
const EMULATION: &str = r#"#include <barrier>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>
#include <utility>
#include <vector>
struct nx_dim { unsigned int x, y, z; };
static thread_local nx_dim threadIdx;
static nx_dim blockIdx, blockDim, gridDim;
static std::barrier<> *nx_barrier;
#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __shared__ static
static inline void __syncthreads() { nx_barrier->arrive_and_wait(); }
static inline float __uint_as_float(unsigned int u) { float f; std::memcpy(&f, &u, 4); return f; }
static inline unsigned int __float_as_uint(float f) { unsigned int u; std::memcpy(&u, &f, 4); return u; }
"#;

fn bytes_of(t: &Tensor) -> Vec<u8> {
    let t = t.f_contiguous().unwrap();
    let size = t.numel() * t.kind().elt_size_in_bytes();
    let mut v = vec![0u8; size];
    // SAFETY: a contiguous CPU tensor of `size` bytes
    unsafe { std::ptr::copy_nonoverlapping(t.data_ptr() as *const u8, v.as_mut_ptr(), size) };
    v
}

/// The program: the generated kernel, the inputs as byte arrays, a launch of `blocks` blocks
/// of `threads` threads, and each output printed as hex bytes on its own line.
fn emulation_program(src: &str, case: &Case, blocks: u32, threads: u32) -> String {
    let mut p = String::from(EMULATION);
    p.push_str(src);
    for (i, (t, _)) in case.inputs.iter().enumerate() {
        let list: Vec<String> = bytes_of(t).iter().map(|b| b.to_string()).collect();
        p.push_str(&format!(
            "alignas(16) static unsigned char arg{i}[] = {{{}}};\n",
            list.join(",")
        ));
    }
    let mut prints = String::new();
    for (o, out) in case.outs.iter().enumerate() {
        let n: i64 = out.shape.iter().product();
        let size = n as usize * out.ty.storage_bytes();
        p.push_str(&format!(
            "alignas(16) static unsigned char res{o}[{size}];\n"
        ));
        prints.push_str(&format!(
            "  for (int i = 0; i < {size}; i++) printf(\"%02x\", res{o}[i]);\n  printf(\"\\n\");\n"
        ));
    }
    p.push_str(&format!(
        "template <typename... P, size_t... I>\n\
         static void nx_call_at(void (*f)(P...), void **a, std::index_sequence<I...>) {{\n  \
         f(((P)a[I])...);\n}}\n\
         template <typename... P> static void nx_call(void (*f)(P...), void **a) {{\n  \
         nx_call_at(f, a, std::index_sequence_for<P...>{{}});\n}}\n\
         int main() {{\n  void *a[] = {{{}}};\n  blockDim.x = {threads}; gridDim.x = {blocks};\n  \
         for (unsigned int b = 0; b < {blocks}; b++) {{\n    blockIdx.x = b;\n    \
         std::barrier<> bar({threads}); nx_barrier = &bar;\n    std::vector<std::thread> ts;\n    \
         for (unsigned int t = 0; t < {threads}; t++)\n      \
         ts.emplace_back([&, t] {{ threadIdx.x = t; nx_call({ENTRY}, a); }});\n    \
         for (auto &th : ts) th.join();\n  }}\n{prints}  return 0;\n}}\n",
        (0..case.inputs.len())
            .map(|i| format!("(void*)arg{i}"))
            .chain((0..case.outs.len()).map(|o| format!("(void*)res{o}")))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    p
}

fn decode(hex: &str, ty: NxType) -> Vec<f64> {
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    match ty {
        NxType::U8 => bytes.iter().map(|&b| b as f64).collect(),
        NxType::F16 => bytes
            .chunks_exact(2)
            .map(|c| super::kernels::f16_value(u16::from_le_bytes([c[0], c[1]])) as f64)
            .collect(),
        NxType::BF16 => bytes
            .chunks_exact(2)
            .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16) as f64)
            .collect(),
        _ => bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
            .collect(),
    }
}

#[test]
fn generated_kernels_compute_what_the_cpu_executor_does() {
    let compiler = std::env::var("CXX").unwrap_or_else(|_| "c++".to_string());
    if std::process::Command::new(&compiler)
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no C++ compiler ({compiler})");
        return;
    }
    let dir = std::env::temp_dir().join(format!("nx_cuda_emulation_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (k, case) in cases().into_iter().enumerate() {
        let types = cuda::out_types(&case.outs);
        let src = source(&case.kernel, &types).unwrap();
        // fewer blocks than the work needs, so the grid-stride loops go round
        let (blocks, threads) = if src.row_kernel {
            (2, src.threads)
        } else {
            (3, 64)
        };
        let file = dir.join(format!("k{k}.cpp"));
        let exe = dir.join(format!("k{k}"));
        std::fs::write(&file, emulation_program(&src.code, &case, blocks, threads)).unwrap();
        let built = std::process::Command::new(&compiler)
            .args([
                "-std=c++20",
                "-O1",
                "-pthread",
                "-fno-strict-aliasing",
                "-w",
                "-o",
            ])
            .arg(&exe)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            built.status.success(),
            "{}: {}\n{}",
            case.name,
            String::from_utf8_lossy(&built.stderr),
            src.code
        );
        let ran = std::process::Command::new(&exe).output().unwrap();
        assert!(ran.status.success(), "{}: the emulation failed", case.name);
        let text = String::from_utf8(ran.stdout).unwrap();
        let want = fuse::run(&case.kernel, share(&case.inputs), &case.outs).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), case.outs.len());
        for (o, (line, w)) in lines.iter().zip(&want).enumerate() {
            let got = decode(line, case.outs[o].ty);
            let ty = case.outs[o].ty;
            assert_close(case.name, &format!("out {o} (k{k})"), ty, &got, &as_f64(w));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
