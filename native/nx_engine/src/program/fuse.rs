//! Fusion of element-wise f32 chains into one cache-blocked kernel.
//!
//! [`plan`] walks a block's instructions in order and groups element-wise f32 operations
//! whose operands are either whole tensors of the group's element count or single elements
//! (scalars, broadcast). A group stays open while later operations join it; an instruction
//! outside the group that reads one of its values closes it, and the group runs where its
//! last member was. Values read outside the group become the kernel's outputs; the others
//! live only in registers: blocks of [`BLOCK`] elements that stay in L1/L2.
//!
//! At run time ([`run`]) the element range is split across LibTorch's intra-op threads
//! (`at::parallel_for`, the same OpenMP team LibTorch's own operations use), and each thread runs the kernel's micro-ops block by block with
//! the vectorized loops of [`super::kernels`], writing only the outputs.
use super::kernels::{apply, FOp, Src};
use super::{Instr, Op, Out};
use crate::error::{EngineError, Result, TorchContext};
use crate::ops::convert::cast;
use crate::ops::elementwise::{BinaryOp, UnaryOp};
use crate::types::NxType;
use std::collections::HashMap;
use tch::{Device, Kind, Tensor};

/// Elements per block: 2048 f32 are 8 KiB per register.
pub const BLOCK: usize = 2048;
/// Below this many elements a kernel runs on the calling thread alone.
const PARALLEL_MIN: usize = 1 << 16;
/// Blocks a thread takes at a time when several share a kernel.
const CHUNK_BLOCKS: usize = 16;

/// Where a kernel value lives while a block runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loc {
    /// A whole input tensor (the block's window of it).
    In(usize),
    /// A single-element input, read once per run.
    Scalar(usize),
    /// A scratch register.
    Reg(usize),
    /// An output tensor (the block's window of it).
    Out(usize),
}

#[derive(Clone, Debug)]
pub struct MicroOp {
    pub op: FOp,
    pub a: Loc,
    pub b: Loc,
    pub dst: Loc,
}

/// Inputs are the instruction's args: the first `n_full` are whole f32 tensors, the rest
/// single elements of `scalar_types` (converted to f32 at run time).
pub struct Kernel {
    pub numel: usize,
    pub n_full: usize,
    pub scalar_types: Vec<NxType>,
    pub ops: Vec<MicroOp>,
    pub n_regs: usize,
}

fn fop(op: &Op) -> Option<FOp> {
    Some(match op {
        Op::Binary(BinaryOp::Add) => FOp::Add,
        Op::Binary(BinaryOp::Subtract) => FOp::Sub,
        Op::Binary(BinaryOp::Multiply) => FOp::Mul,
        Op::Binary(BinaryOp::Divide) => FOp::Div,
        Op::Binary(BinaryOp::Max) => FOp::Max,
        Op::Binary(BinaryOp::Min) => FOp::Min,
        Op::Unary(UnaryOp::Negate) => FOp::Neg,
        Op::Unary(UnaryOp::Abs) => FOp::Abs,
        Op::Unary(UnaryOp::Exp) => FOp::Exp,
        Op::Unary(UnaryOp::Tanh) => FOp::Tanh,
        Op::Unary(UnaryOp::Sigmoid) => FOp::Sigmoid,
        Op::Unary(UnaryOp::Sqrt) => FOp::Sqrt,
        Op::Unary(UnaryOp::Rsqrt) => FOp::Rsqrt,
        Op::Broadcast { .. } => FOp::Copy,
        _ => return None,
    })
}

fn numel(shape: &[i64]) -> usize {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| {
            usize::try_from(d).ok().and_then(|d| acc.checked_mul(d))
        })
        .unwrap_or(0)
}

/// How an instruction would take part in a group of `n` elements.
fn fusible(instr: &Instr, info: &HashMap<usize, (NxType, Vec<i64>)>) -> Option<(FOp, usize)> {
    let op = fop(&instr.op)?;
    let [out] = instr.outs.as_slice() else {
        return None;
    };
    let n = numel(&out.shape);
    if out.ty != NxType::F32 || n < 2 {
        return None;
    }
    let arity = if op.is_binary() { 2 } else { 1 };
    if instr.args.len() != arity {
        return None;
    }
    for arg in &instr.args {
        let (ty, shape) = info.get(arg)?;
        let m = numel(shape);
        // whole f32 operands, or single elements of any real type (broadcast)
        let full = m == n && *ty == NxType::F32;
        let scalar = m == 1 && !ty.is_complex();
        if !(full || scalar) {
            return None;
        }
    }
    Some((op, n))
}

/// Groups fusible instructions of one block and replaces each group by a `Fused` instruction.
/// `read_by` gives, per instruction, every slot it reads (nested blocks included);
/// `live_out` the slots read after the block.
pub fn plan(
    instrs: Vec<Instr>,
    read_by: &[Vec<usize>],
    live_out: &[usize],
    info: &HashMap<usize, (NxType, Vec<i64>)>,
) -> (Vec<Instr>, usize) {
    let mut producer: HashMap<usize, usize> = HashMap::new();
    for (j, instr) in instrs.iter().enumerate() {
        for out in &instr.outs {
            producer.insert(out.slot, j);
        }
    }
    let mut group_of: Vec<Option<usize>> = vec![None; instrs.len()];
    // group id -> (members, numel, open); merged groups point to their survivor
    let mut groups: Vec<(Vec<usize>, usize, bool)> = Vec::new();
    let mut alias: Vec<usize> = Vec::new();
    let find = |alias: &Vec<usize>, mut g: usize| {
        while alias[g] != g {
            g = alias[g];
        }
        g
    };
    for (j, instr) in instrs.iter().enumerate() {
        if let Some((_, n)) = fusible(instr, info) {
            let mut joined: Option<usize> = None;
            for arg in &instr.args {
                let Some(&p) = producer.get(arg) else {
                    continue;
                };
                let Some(g) = group_of[p].map(|g| find(&alias, g)) else {
                    continue;
                };
                if !groups[g].2 || groups[g].1 != n {
                    continue;
                }
                match joined {
                    None => joined = Some(g),
                    Some(h) if h != g => {
                        let members = std::mem::take(&mut groups[g].0);
                        groups[h].0.extend(members);
                        groups[g].2 = false;
                        alias[g] = h;
                    }
                    _ => {}
                }
            }
            let g = joined.unwrap_or_else(|| {
                groups.push((Vec::new(), n, true));
                alias.push(groups.len() - 1);
                groups.len() - 1
            });
            groups[g].0.push(j);
            group_of[j] = Some(g);
        } else {
            for slot in &read_by[j] {
                if let Some(&p) = producer.get(slot) {
                    if let Some(g) = group_of[p] {
                        let g = find(&alias, g);
                        groups[g].2 = false;
                    }
                }
            }
        }
    }
    // groups worth a kernel: at least one computing member
    let mut keep: HashMap<usize, Vec<usize>> = HashMap::new();
    for (g, (members, _, _)) in groups.iter_mut().enumerate() {
        members.sort_unstable();
        let computes = members
            .iter()
            .any(|&j| !matches!(instrs[j].op, Op::Broadcast { .. }));
        if !members.is_empty() && computes && alias[g] == g {
            keep.insert(g, members.clone());
        }
    }
    let mut fused_at: HashMap<usize, usize> = HashMap::new();
    for (g, members) in &keep {
        if let Some(&last) = members.last() {
            fused_at.insert(last, *g);
        }
    }
    let mut slots: Vec<Option<Instr>> = instrs.into_iter().map(Some).collect();
    let mut result = Vec::with_capacity(slots.len());
    let mut count = 0;
    for j in 0..slots.len() {
        let g = group_of[j].map(|g| find(&alias, g));
        match g {
            Some(g) if keep.contains_key(&g) => {
                if fused_at.get(&j) == Some(&g) {
                    let members: Vec<Instr> =
                        keep[&g].iter().filter_map(|&m| slots[m].take()).collect();
                    let member_ids = &keep[&g];
                    result.push(build_kernel(members, member_ids, read_by, live_out, info));
                    count += 1;
                }
            }
            _ => {
                if let Some(instr) = slots[j].take() {
                    result.push(instr);
                }
            }
        }
    }
    (result, count)
}

/// Builds the kernel of one group (members in program order).
fn build_kernel(
    members: Vec<Instr>,
    member_ids: &[usize],
    read_by: &[Vec<usize>],
    live_out: &[usize],
    info: &HashMap<usize, (NxType, Vec<i64>)>,
) -> Instr {
    let defined: HashMap<usize, usize> = members
        .iter()
        .enumerate()
        .flat_map(|(k, m)| m.outs.iter().map(move |o| (o.slot, k)))
        .collect();
    // values read outside the group
    let mut external = std::collections::HashSet::new();
    for (j, reads) in read_by.iter().enumerate() {
        if member_ids.contains(&j) {
            continue;
        }
        external.extend(reads.iter().copied().filter(|s| defined.contains_key(s)));
    }
    external.extend(live_out.iter().copied().filter(|s| defined.contains_key(s)));
    // last use of each member value inside the group
    let mut last_use: HashMap<usize, usize> = HashMap::new();
    for (k, m) in members.iter().enumerate() {
        for a in &m.args {
            last_use.insert(*a, k);
        }
    }
    let n = numel(&members[0].outs[0].shape);
    let mut full_inputs: Vec<usize> = Vec::new();
    let mut scalar_inputs: Vec<usize> = Vec::new();
    let mut loc: HashMap<usize, Loc> = HashMap::new();
    // inputs first (so their order is stable), then values
    for m in &members {
        for a in &m.args {
            if defined.contains_key(a) || loc.contains_key(a) {
                continue;
            }
            let m_elems = info.get(a).map(|(_, s)| numel(s)).unwrap_or(0);
            if m_elems == n {
                loc.insert(*a, Loc::In(full_inputs.len()));
                full_inputs.push(*a);
            } else {
                scalar_inputs.push(*a);
            }
        }
    }
    for (k, a) in scalar_inputs.iter().enumerate() {
        loc.insert(*a, Loc::Scalar(k));
    }
    let mut outs: Vec<Out> = Vec::new();
    let mut free_regs: Vec<usize> = Vec::new();
    let mut n_regs = 0;
    let mut ops = Vec::with_capacity(members.len());
    for (k, m) in members.iter().enumerate() {
        let out = &m.outs[0];
        let dst = if external.contains(&out.slot) {
            outs.push(out.clone());
            Loc::Out(outs.len() - 1)
        } else {
            let r = free_regs.pop().unwrap_or_else(|| {
                n_regs += 1;
                n_regs - 1
            });
            Loc::Reg(r)
        };
        loc.insert(out.slot, dst);
        let op = fop(&m.op).unwrap_or(FOp::Copy);
        let a = loc.get(&m.args[0]).copied().unwrap_or(Loc::Scalar(0));
        let b = m.args.get(1).and_then(|s| loc.get(s).copied()).unwrap_or(a);
        ops.push(MicroOp { op, a, b, dst });
        // registers whose value dies here
        let mut dead: Vec<usize> = m.args.clone();
        dead.dedup();
        for s in dead {
            if last_use.get(&s) == Some(&k) {
                if let Some(Loc::Reg(r)) = loc.get(&s) {
                    if !free_regs.contains(r) {
                        free_regs.push(*r);
                    }
                }
            }
        }
        // a value nobody reads frees its register at once
        if let Loc::Reg(r) = dst {
            if !last_use.contains_key(&out.slot) {
                free_regs.push(r);
            }
        }
    }
    let scalar_types = scalar_inputs
        .iter()
        .map(|s| info.get(s).map(|(t, _)| *t).unwrap_or(NxType::F32))
        .collect();
    let n_full = full_inputs.len();
    let mut args = full_inputs;
    args.extend(scalar_inputs);
    Instr {
        op: Op::Fused(Box::new(Kernel {
            numel: n,
            n_full,
            scalar_types,
            ops,
            n_regs,
        })),
        args,
        outs,
    }
}

/// Raw pointers of the kernel's buffers, shared by the worker threads.
///
/// SAFETY: input buffers are only read; each thread writes only its own disjoint element
/// range of each output buffer; every buffer outlives the scope in which the threads run.
#[derive(Clone, Copy)]
struct Buffers<'a> {
    ins: &'a [*const f32],
    outs: &'a [*mut f32],
    scalars: &'a [f32],
}
unsafe impl Send for Buffers<'_> {}
unsafe impl Sync for Buffers<'_> {}

fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static DETECTED: once_cell::sync::Lazy<bool> = once_cell::sync::Lazy::new(|| {
            is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
        });
        *DETECTED
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Runs `kernel` over elements `[start, end)` block by block.
///
/// SAFETY: the buffers hold `kernel.numel` elements each and `[start, end)` lies within them;
/// no other thread writes `[start, end)` of the outputs.
#[inline(always)]
unsafe fn run_range<const F: bool>(kernel: &Kernel, buf: Buffers, start: usize, end: usize) {
    // registers as long as a block of this range (small kernels: no 8 KiB each to zero)
    let stride = BLOCK.min(end.saturating_sub(start)).max(1);
    let mut regs = vec![0f32; kernel.n_regs.max(1) * stride];
    let rp = regs.as_mut_ptr();
    let mut pos = start;
    while pos < end {
        let len = (end - pos).min(BLOCK);
        for op in &kernel.ops {
            let src = |l: Loc| -> Src {
                match l {
                    Loc::In(i) => Src::V(std::slice::from_raw_parts(buf.ins[i].add(pos), len)),
                    Loc::Scalar(i) => Src::C(buf.scalars[i]),
                    Loc::Reg(r) => Src::V(std::slice::from_raw_parts(rp.add(r * stride), len)),
                    Loc::Out(o) => Src::V(std::slice::from_raw_parts(
                        buf.outs[o].add(pos) as *const f32,
                        len,
                    )),
                }
            };
            let (a, b) = (src(op.a), src(op.b));
            // the destination never aliases a source: build_kernel allocates it first
            let d: &mut [f32] = match op.dst {
                Loc::Reg(r) => std::slice::from_raw_parts_mut(rp.add(r * stride), len),
                Loc::Out(o) => std::slice::from_raw_parts_mut(buf.outs[o].add(pos), len),
                _ => continue,
            };
            apply::<F>(op.op, d, a, b);
        }
        pos += len;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_range_avx2(kernel: &Kernel, buf: Buffers, start: usize, end: usize) {
    run_range::<true>(kernel, buf, start, end)
}

fn run_range_any(kernel: &Kernel, buf: Buffers, start: usize, end: usize) {
    // SAFETY: see `run_range`; callers pass ranges within the buffers, disjoint per thread.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            return run_range_avx2(kernel, buf, start, end);
        }
        run_range::<false>(kernel, buf, start, end)
    }
}

/// Reads a single-element CPU operand of a common type straight from its buffer, converted
/// to f32 as a cast to f32 would (round to nearest): no LibTorch call per scalar per run,
/// which costs more than a small kernel itself. `None`: take the general path.
fn scalar_fast(t: &Tensor, ty: NxType) -> Option<f32> {
    if t.device() != Device::Cpu || t.numel() != 1 {
        return None;
    }
    let kind = t.f_kind().ok()?;
    let ptr = t.data_ptr();
    if ptr.is_null() {
        return None;
    }
    // SAFETY: a CPU tensor with one element of `kind`: `data_ptr` (storage offset included)
    // points at that element, which lives as long as `t`; unaligned reads are used anyway.
    unsafe {
        Some(match (ty, kind) {
            (NxType::F32, Kind::Float) => (ptr as *const f32).read_unaligned(),
            (NxType::F64, Kind::Double) => (ptr as *const f64).read_unaligned() as f32,
            (NxType::S64, Kind::Int64) => (ptr as *const i64).read_unaligned() as f32,
            (NxType::S32, Kind::Int) => (ptr as *const i32).read_unaligned() as f32,
            _ => return None,
        })
    }
}

/// Runs a fused kernel: `inputs` are the instruction's args (whole f32 tensors, then single
/// elements), `outs` its result templates. Returns the output tensors.
pub fn run(
    kernel: &Kernel,
    inputs: Vec<(Tensor, NxType)>,
    outs: &[Out],
    threads: usize,
) -> Result<Vec<Tensor>> {
    let op = "fused";
    let n = kernel.numel;
    if inputs.len() != kernel.n_full + kernel.scalar_types.len() {
        return Err(EngineError::argument("fused: wrong number of inputs"));
    }
    let mut ins = Vec::with_capacity(kernel.n_full);
    let mut scalars = Vec::with_capacity(kernel.scalar_types.len());
    for (i, (t, ty)) in inputs.into_iter().enumerate() {
        if t.device() != Device::Cpu {
            return Err(EngineError::argument("fused: expected CPU tensors"));
        }
        if i < kernel.n_full {
            if ty != NxType::F32 || t.f_kind().ctx(op)? != Kind::Float || t.numel() != n {
                return Err(EngineError::argument(format!(
                    "fused: input {i} must be f32 with {n} elements, got {} {:?}",
                    ty.name(),
                    t.size()
                )));
            }
            ins.push(crate::ops::contiguous(t)?);
        } else {
            if t.numel() != 1 || ty.is_complex() {
                return Err(EngineError::argument("fused: expected a single element"));
            }
            let v = match scalar_fast(&t, ty) {
                Some(v) => v,
                None => {
                    // Nx converts the operand to the output type first
                    let v = cast(&t, ty, NxType::F32)?
                        .f_to_kind(Kind::Double)
                        .and_then(|v| v.f_reshape([1]))
                        .and_then(|v| v.f_double_value(&[0]))
                        .ctx(op)?;
                    v as f32
                }
            };
            scalars.push(v);
        }
    }
    let mut results = Vec::with_capacity(outs.len());
    for out in outs {
        if numel(&out.shape) != n || out.ty != NxType::F32 {
            return Err(EngineError::argument("fused: bad output template"));
        }
        results.push(Tensor::f_empty(out.shape.as_slice(), (Kind::Float, Device::Cpu)).ctx(op)?);
    }
    let in_ptrs: Vec<*const f32> = ins.iter().map(|t| t.data_ptr() as *const f32).collect();
    let out_ptrs: Vec<*mut f32> = results.iter().map(|t| t.data_ptr() as *mut f32).collect();
    let buf = Buffers {
        ins: &in_ptrs,
        outs: &out_ptrs,
        scalars: &scalars,
    };
    if threads <= 1 || n < PARALLEL_MIN {
        run_range_any(kernel, buf, 0, n);
    } else {
        // LibTorch's own threads (no threads of ours to oversubscribe the cores), in chunks of
        // whole blocks
        let chunk = CHUNK_BLOCKS * BLOCK;
        let chunks = n.div_ceil(chunk);
        let done = crate::runtime::parallel_for(chunks, 1, |first, last| {
            run_range_any(kernel, buf, first * chunk, (last * chunk).min(n));
        });
        if !done {
            return Err(EngineError::argument("fused: a worker failed"));
        }
    }
    // the inputs stay alive (and their pointers valid) until the kernel is done
    drop(ins);
    Ok(results)
}
