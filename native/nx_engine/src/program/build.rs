//! Building a program: validation, fusion and liveness.
//!
//! Validation makes the interpreter safe: every slot is below the slot count, written once,
//! and read only where it is visible (defined earlier in the same block or an enclosing one,
//! or a `while` state, or a literal or an input); every operation has the number of arguments
//! and results it needs. Then, block by block from the innermost, element-wise chains are
//! fused ([`super::fuse::plan`]) and each slot a block defines is scheduled to be freed right
//! after its last reader.
use super::{fuse, Block, CondOp, Instr, Op, Program, ProgramSpec, WhileOp};
use crate::error::{EngineError, Result};
use crate::ops::elementwise::BinaryOp;
use crate::types::NxType;
use std::collections::{HashMap, HashSet};

/// At most this many slots (a program of millions of values is a bug upstream).
const MAX_SLOTS: usize = 1 << 24;

type Info = HashMap<usize, (NxType, Vec<i64>)>;

fn invalid(message: impl Into<String>) -> EngineError {
    EngineError::argument(format!("invalid program: {}", message.into()))
}

pub fn build(spec: ProgramSpec) -> Result<Program> {
    let ProgramSpec {
        inputs,
        literals,
        body,
        outputs,
        device,
        fuse,
    } = spec;
    let mut info: Info = HashMap::new();
    let mut visible: HashSet<usize> = HashSet::new();
    let mut define = |slot: usize, ty: NxType, shape: Vec<i64>, info: &mut Info| -> Result<()> {
        if slot >= MAX_SLOTS || info.insert(slot, (ty, shape)).is_some() {
            return Err(invalid(format!(
                "slot {slot} is written twice or out of range"
            )));
        }
        Ok(())
    };
    for (slot, ty, shape) in &inputs {
        crate::ops::checked_numel(shape)?;
        define(*slot, *ty, shape.clone(), &mut info)?;
        visible.insert(*slot);
    }
    for (slot, t) in &literals {
        if t.device() != device {
            return Err(invalid("a literal is on another device than the program"));
        }
        define(*slot, t.ty(), t.shape().to_vec(), &mut info)?;
        visible.insert(*slot);
    }
    let mut body = Block::new(body);
    validate_block(&body, &mut info, &mut visible, &mut define)?;
    for out in &outputs {
        if !visible.contains(out) {
            return Err(invalid(format!("output slot {out} is not defined")));
        }
    }
    let out_types = outputs
        .iter()
        .map(|s| info.get(s).map(|(t, _)| *t).unwrap_or(NxType::F32))
        .collect();
    let n_slots = info.keys().max().map(|m| m + 1).unwrap_or(0);
    // CUDA programs fuse too: their groups run as generated kernels (or, failing that, as
    // LibTorch's operations, see `cuda`)
    let fuse = fuse && (device == tch::Device::Cpu || super::cuda::enabled());
    let mut fused = 0;
    finish_block(&mut body, &outputs, &info, fuse, &mut fused);
    // inputs are the root block's own: they are dropped after their last reader
    let input_slots: Vec<usize> = inputs.iter().map(|(s, _, _)| *s).collect();
    add_root_frees(&mut body, &input_slots, &outputs);
    let cost = cost_of(&body.instrs, &info);
    Ok(Program {
        inputs,
        literals,
        body,
        outputs,
        n_slots,
        device,
        out_types,
        cost,
        fused_groups: fused,
    })
}

fn arity_ok(op: &Op, n_args: usize, n_outs: usize) -> bool {
    let one = n_outs == 1;
    match op {
        Op::Unary(_)
        | Op::AsType
        | Op::Bitcast
        | Op::Reshape
        | Op::Broadcast { .. }
        | Op::Transpose { .. }
        | Op::Reduce { .. }
        | Op::ArgReduce { .. }
        | Op::Reverse { .. }
        | Op::Sort { .. }
        | Op::Argsort { .. }
        | Op::Cumulative { .. } => n_args == 1 && one,
        Op::Binary(_)
        | Op::Dot { .. }
        | Op::Pad { .. }
        | Op::Gather { .. }
        | Op::Take { .. }
        | Op::TakeAlongAxis { .. } => n_args == 2 && one,
        Op::Select | Op::Clip | Op::Indexed { .. } => n_args == 3 && one,
        Op::DotUpdate { .. } => n_args == 4 && one,
        Op::Slice { starts, .. } => {
            one && n_args == 1 + starts.iter().filter(|s| s.is_none()).count()
        }
        Op::PutSlice { starts } => {
            one && n_args == 2 + starts.iter().filter(|s| s.is_none()).count()
        }
        Op::Concatenate { .. } | Op::Stack { .. } => n_args >= 1 && one,
        Op::TopK { .. } => n_args == 1 && n_outs == 2,
        Op::While(w) => n_args == w.state.len() && n_outs == n_args && w.body_outs.len() == n_args,
        Op::Cond(c) => {
            n_args == c.clauses.len()
                && c.clauses.iter().all(|(_, outs)| outs.len() == n_outs)
                && c.last.1.len() == n_outs
        }
        Op::Fused(_) => true,
    }
}

type Define<'a> = dyn FnMut(usize, NxType, Vec<i64>, &mut Info) -> Result<()> + 'a;

/// Checks a block; its definitions are visible to what follows in it, and are removed from
/// `visible` when it ends (except for the caller, which handles the root).
fn validate_block(
    block: &Block,
    info: &mut Info,
    visible: &mut HashSet<usize>,
    define: &mut Define,
) -> Result<()> {
    for instr in &block.instrs {
        if !arity_ok(&instr.op, instr.args.len(), instr.outs.len()) {
            return Err(invalid("an instruction has the wrong number of arguments"));
        }
        for a in &instr.args {
            if !visible.contains(a) {
                return Err(invalid(format!("slot {a} is read before it is written")));
            }
        }
        match &instr.op {
            Op::While(w) => validate_while(instr, w, info, visible, define)?,
            Op::Cond(c) => {
                let mut branches: Vec<&(Block, Vec<usize>)> = c.clauses.iter().collect();
                branches.push(&c.last);
                for (b, outs) in branches {
                    let mut inner = visible.clone();
                    validate_block(b, info, &mut inner, define)?;
                    if let Some(s) = outs.iter().find(|s| !inner.contains(s)) {
                        return Err(invalid(format!("cond result slot {s} is not defined")));
                    }
                }
            }
            _ => {}
        }
        for out in &instr.outs {
            crate::ops::checked_numel(&out.shape)?;
            define(out.slot, out.ty, out.shape.clone(), info)?;
            visible.insert(out.slot);
        }
    }
    Ok(())
}

fn validate_while(
    instr: &Instr,
    w: &WhileOp,
    info: &mut Info,
    visible: &HashSet<usize>,
    define: &mut Define,
) -> Result<()> {
    for ((s, init), out) in w.state.iter().zip(&instr.args).zip(&instr.outs) {
        let Some((ty, shape)) = info.get(init).cloned() else {
            return Err(invalid("while state without a type"));
        };
        if ty != out.ty || shape != out.shape {
            return Err(invalid("while state and result templates differ"));
        }
        define(*s, ty, shape, info)?;
    }
    let mut inner = visible.clone();
    inner.extend(w.state.iter().copied());
    validate_block(&w.cond, info, &mut inner, define)?;
    if !inner.contains(&w.pred) {
        return Err(invalid("while predicate is not defined"));
    }
    validate_block(&w.body, info, &mut inner, define)?;
    for (s, out) in w.body_outs.iter().zip(&instr.outs) {
        match info.get(s) {
            Some((ty, shape)) if inner.contains(s) && *ty == out.ty && *shape == out.shape => {}
            _ => return Err(invalid("while body results do not match its state")),
        }
    }
    Ok(())
}

/// Slots an instruction reads from its block's scope (nested blocks' outer reads included),
/// after finishing its nested blocks.
fn finish_instr(instr: &mut Instr, info: &Info, fuse: bool, fused: &mut usize) -> Vec<usize> {
    let mut reads = instr.args.clone();
    match &mut instr.op {
        Op::While(w) => {
            let body_reads = finish_block(&mut w.body, &w.body_outs, info, fuse, fused);
            let mut cond_live = vec![w.pred];
            cond_live.extend(body_reads.iter().copied());
            let cond_reads = finish_block(&mut w.cond, &cond_live, info, fuse, fused);
            let inner: HashSet<usize> = w.state.iter().chain(&w.cond.locals).copied().collect();
            reads.extend(
                body_reads
                    .into_iter()
                    .chain(cond_reads)
                    .filter(|s| !inner.contains(s)),
            );
        }
        Op::Cond(c) => {
            for (b, outs) in c.clauses.iter_mut().chain(std::iter::once(&mut c.last)) {
                reads.extend(finish_block(b, outs, info, fuse, fused));
            }
        }
        _ => {}
    }
    reads.sort_unstable();
    reads.dedup();
    reads
}

/// Finishes a block (nested blocks first, then fusion, then liveness) and returns the slots it
/// reads from outside itself.
fn finish_block(
    block: &mut Block,
    live_out: &[usize],
    info: &Info,
    fuse: bool,
    fused: &mut usize,
) -> Vec<usize> {
    let instrs = std::mem::take(&mut block.instrs);
    let mut instrs: Vec<Instr> = instrs;
    let mut read_by: Vec<Vec<usize>> = instrs
        .iter_mut()
        .map(|i| finish_instr(i, info, fuse, fused))
        .collect();
    fold_transposed_dots(&mut instrs, &mut read_by, live_out, info);
    fold_dot_updates(&mut instrs, &mut read_by, live_out, info);
    if fuse {
        let (planned, count) = fuse::plan(instrs, &read_by, live_out, info);
        *fused += count;
        instrs = planned;
        // fused instructions read their args; others keep their reads
        read_by = instrs
            .iter()
            .map(|i| match &i.op {
                Op::While(_) | Op::Cond(_) => reads_of_nested(i),
                _ => {
                    let mut r = i.args.clone();
                    r.sort_unstable();
                    r.dedup();
                    r
                }
            })
            .collect();
    }
    let locals: HashSet<usize> = instrs
        .iter()
        .flat_map(|i| i.outs.iter().map(|o| o.slot))
        .collect();
    let mut live: HashSet<usize> = live_out.iter().copied().collect();
    let mut free_after = vec![Vec::new(); instrs.len()];
    for j in (0..instrs.len()).rev() {
        for o in &instrs[j].outs {
            if !live.remove(&o.slot) {
                free_after[j].push(o.slot);
            }
        }
        for s in &read_by[j] {
            if locals.contains(s) && live.insert(*s) {
                free_after[j].push(*s);
            }
        }
    }
    let outer: Vec<usize> = {
        let mut v: Vec<usize> = read_by
            .iter()
            .flatten()
            .copied()
            .filter(|s| !locals.contains(s))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    block.instrs = instrs;
    block.free_after = free_after;
    block.locals = locals.into_iter().collect();
    outer
}

/// How many instructions read each slot, and which instruction defines each slot.
fn readers_and_producers(
    instrs: &[Instr],
    read_by: &[Vec<usize>],
) -> (HashMap<usize, usize>, HashMap<usize, usize>) {
    let mut readers: HashMap<usize, usize> = HashMap::new();
    for r in read_by {
        for &s in r {
            *readers.entry(s).or_insert(0) += 1;
        }
    }
    let mut producer: HashMap<usize, usize> = HashMap::new();
    for (j, instr) in instrs.iter().enumerate() {
        for o in &instr.outs {
            producer.insert(o.slot, j);
        }
    }
    (readers, producer)
}

/// Drops the instructions marked in `remove`, with their entries of `read_by`.
fn drop_removed(instrs: &mut Vec<Instr>, read_by: &mut Vec<Vec<usize>>, remove: &[bool]) {
    if !remove.iter().any(|&r| r) {
        return;
    }
    let mut k = 0;
    instrs.retain(|_| {
        k += 1;
        !remove[k - 1]
    });
    let mut k = 0;
    read_by.retain(|_| {
        k += 1;
        !remove[k - 1]
    });
}

/// `subtract(w, multiply(dot(a, b), c))` of f32 matrices, with `c` a single element and the
/// product and its scaled copy read nowhere else, becomes one [`Op::DotUpdate`]: LibTorch's
/// `addmm` accumulates the product onto `w` in the GEMM itself (an SGD step on a weight whose
/// gradient is a product: W7), instead of a product tensor and an element-wise pass.
fn fold_dot_updates(
    instrs: &mut Vec<Instr>,
    read_by: &mut Vec<Vec<usize>>,
    live_out: &[usize],
    info: &Info,
) {
    let (readers, producer) = readers_and_producers(instrs, read_by);
    let f32_of = |slot: usize, rank: usize| {
        info.get(&slot)
            .is_some_and(|(t, s)| *t == NxType::F32 && s.len() == rank)
    };
    let single = |slot: usize| {
        info.get(&slot)
            .is_some_and(|(t, s)| *t == NxType::F32 && s.iter().product::<i64>() == 1)
    };
    // a value only `reader` reads
    let private = |slot: usize| !live_out.contains(&slot) && readers.get(&slot) == Some(&1);
    let mut remove = vec![false; instrs.len()];
    for j in 0..instrs.len() {
        let (Op::Binary(BinaryOp::Subtract), [w, u], [out]) = (
            &instrs[j].op,
            instrs[j].args.as_slice(),
            instrs[j].outs.as_slice(),
        ) else {
            continue;
        };
        let (w, u) = (*w, *u);
        if out.ty != NxType::F32 || !f32_of(w, 2) || !private(u) {
            continue;
        }
        let Some(&m) = producer.get(&u) else { continue };
        let (Op::Binary(BinaryOp::Multiply), [x, y]) = (&instrs[m].op, instrs[m].args.as_slice())
        else {
            continue;
        };
        let (g, c) = if single(*y) { (*x, *y) } else { (*y, *x) };
        if !single(c) || !private(g) || instrs[m].outs.len() != 1 || remove[m] {
            continue;
        }
        let Some(&d) = producer.get(&g) else { continue };
        let Op::Dot {
            contract_a,
            batch_a,
            contract_b,
            batch_b,
        } = &instrs[d].op
        else {
            continue;
        };
        let shape_of = |s: usize| info.get(&s).map(|(_, sh)| sh.clone());
        let ok = batch_a.is_empty()
            && batch_b.is_empty()
            && contract_a.len() == 1
            && contract_b.len() == 1
            && instrs[d].args.len() == 2
            && instrs[d].args.iter().all(|&a| f32_of(a, 2))
            && f32_of(g, 2)
            && shape_of(g) == shape_of(w)
            && !remove[d];
        // products small enough for the engine's own loops stay with them (faster than MKL)
        let macs = shape_of(instrs[d].args[0])
            .and_then(|s| s.get(contract_a[0] as usize).copied())
            .zip(shape_of(w))
            .map(|(k, sw)| k.saturating_mul(sw.iter().product::<i64>()));
        let ok = ok && macs.is_some_and(|m| m > crate::ops::small_matmul::SMALL_MAX_MACS);
        if !ok {
            continue;
        }
        let (a, b) = (instrs[d].args[0], instrs[d].args[1]);
        let op = Op::DotUpdate {
            contract_a: contract_a[0],
            contract_b: contract_b[0],
        };
        instrs[j].op = op;
        instrs[j].args = vec![w, a, b, c];
        read_by[j] = {
            let mut r = vec![w, a, b, c];
            r.sort_unstable();
            r.dedup();
            r
        };
        remove[d] = true;
        remove[m] = true;
    }
    drop_removed(instrs, read_by, &remove);
}

/// `transpose(dot(a, b), [1, 0])` of two matrices, where nothing else reads the product,
/// becomes `dot(b, a)`: the product comes out in the layout its readers want, instead of as a
/// strided view that the next element-wise pass must copy (gradients of weights: W7).
fn fold_transposed_dots(
    instrs: &mut Vec<Instr>,
    read_by: &mut Vec<Vec<usize>>,
    live_out: &[usize],
    info: &Info,
) {
    let (readers, producer) = readers_and_producers(instrs, read_by);
    let matrix = |slot: usize| info.get(&slot).is_some_and(|(_, s)| s.len() == 2);
    let mut remove = vec![false; instrs.len()];
    for t in 0..instrs.len() {
        let (Op::Transpose { axes }, [arg], [t_out]) = (
            &instrs[t].op,
            instrs[t].args.as_slice(),
            instrs[t].outs.as_slice(),
        ) else {
            continue;
        };
        if axes.as_slice() != [1, 0]
            || live_out.contains(arg)
            || readers.get(arg).copied() != Some(1)
        {
            continue;
        }
        let Some(&d) = producer.get(arg) else {
            continue;
        };
        let t_out = t_out.clone();
        let dot = &mut instrs[d];
        let Op::Dot {
            contract_a,
            batch_a,
            contract_b,
            batch_b,
        } = &mut dot.op
        else {
            continue;
        };
        let ok = batch_a.is_empty()
            && batch_b.is_empty()
            && contract_a.len() == 1
            && contract_b.len() == 1
            && dot.args.len() == 2
            && dot.outs.len() == 1
            && dot.outs[0].ty == t_out.ty
            && dot.args.iter().all(|&a| matrix(a));
        if !ok {
            continue;
        }
        std::mem::swap(contract_a, contract_b);
        dot.args.swap(0, 1);
        dot.outs[0] = t_out;
        remove[t] = true;
    }
    drop_removed(instrs, read_by, &remove);
}

/// Outer reads of an already finished `while` or `cond` (recomputed after fusion, which
/// leaves them untouched).
fn reads_of_nested(instr: &Instr) -> Vec<usize> {
    fn block_reads(b: &Block, extra_live: &[usize], out: &mut Vec<usize>) {
        let locals: HashSet<usize> = b.locals.iter().copied().collect();
        for i in &b.instrs {
            let mut r = i.args.clone();
            if matches!(i.op, Op::While(_) | Op::Cond(_)) {
                r = reads_of_nested(i);
            }
            out.extend(r.into_iter().filter(|s| !locals.contains(s)));
        }
        out.extend(extra_live.iter().copied().filter(|s| !locals.contains(s)));
    }
    let mut reads = instr.args.clone();
    match &instr.op {
        Op::While(w) => {
            let mut inner = Vec::new();
            block_reads(&w.cond, &[w.pred], &mut inner);
            block_reads(&w.body, &w.body_outs, &mut inner);
            let skip: HashSet<usize> = w.state.iter().chain(&w.cond.locals).copied().collect();
            reads.extend(inner.into_iter().filter(|s| !skip.contains(s)));
        }
        Op::Cond(c) => {
            for (b, outs) in c.clauses.iter().chain(std::iter::once(&c.last)) {
                block_reads(b, outs, &mut reads);
            }
        }
        _ => {}
    }
    reads.sort_unstable();
    reads.dedup();
    reads
}

/// The root block also owns the inputs: each is dropped after its last reader (or at once).
fn add_root_frees(body: &mut Block, inputs: &[usize], outputs: &[usize]) {
    for &s in inputs {
        if outputs.contains(&s) {
            continue;
        }
        let last = body
            .instrs
            .iter()
            .rposition(|i| reads_of_nested(i).contains(&s));
        match last {
            Some(j) => body.free_after[j].push(s),
            None => {
                if let Some(first) = body.free_after.first_mut() {
                    first.push(s);
                }
            }
        }
        body.locals.push(s);
    }
}

fn numel(shape: &[i64]) -> u64 {
    shape.iter().map(|&d| d.max(0) as u64).product()
}

/// The cost from which the compiler runs a program on a dirty scheduler (`@dirty_cost` in
/// `lib/nx/torch/compiler.ex`): roughly element operations.
const DIRTY_COST: u64 = 200_000;
/// Estimated single-core time of fused kernels that costs [`DIRTY_COST`]: the bound deferred
/// eager work has on a normal scheduler (`lazy::MAX_COMPUTE_NS`).
const FUSED_NORMAL_NS: f64 = crate::lazy::MAX_COMPUTE_NS;

fn cost_of(instrs: &[Instr], info: &Info) -> Option<u64> {
    let mut total: u64 = 0;
    for i in instrs {
        let c = match &i.op {
            Op::While(_) => return None,
            Op::Cond(c) => {
                let mut worst = cost_of(&c.last.0.instrs, info)?;
                for (b, _) in &c.clauses {
                    worst = worst.max(cost_of(&b.instrs, info)?);
                }
                worst
            }
            // the engine's own kernels, whose time is estimated: a program of them up to
            // FUSED_NORMAL_NS (single-core estimate) stays on the calling scheduler, as deferred
            // eager work does; a dirty-scheduler hop would leave the caller's scheduler thread
            // busy-waiting on one of the cores the kernel is split across
            Op::Fused(k) if k.numel > 0 => {
                let ns = k.numel as f64 * k.ns_per_element();
                (ns * DIRTY_COST as f64 / FUSED_NORMAL_NS) as u64
            }
            Op::DotUpdate { contract_a, .. } => {
                let k: u64 = i
                    .args
                    .get(1)
                    .and_then(|a| info.get(a))
                    .and_then(|(_, shape)| shape.get(*contract_a as usize))
                    .map(|&d| d.max(0) as u64)
                    .unwrap_or(1);
                i.outs.iter().map(|o| numel(&o.shape)).sum::<u64>() * k.max(1) / 16
            }
            Op::Dot { contract_a, .. } => {
                let k: u64 = i
                    .args
                    .first()
                    .and_then(|a| info.get(a))
                    .map(|(_, shape)| {
                        contract_a
                            .iter()
                            .filter_map(|&ax| shape.get(ax as usize))
                            .map(|&d| d.max(0) as u64)
                            .product()
                    })
                    .unwrap_or(1);
                // multiply-adds run ~16 per element-wise op's time (vectorized, cached)
                i.outs.iter().map(|o| numel(&o.shape)).sum::<u64>() * k.max(1) / 16
            }
            _ => {
                let ins: u64 = i
                    .args
                    .iter()
                    .filter_map(|a| info.get(a))
                    .map(|(_, s)| numel(s))
                    .sum();
                ins + i.outs.iter().map(|o| numel(&o.shape)).sum::<u64>()
            }
        };
        total = total.saturating_add(c);
    }
    Some(total)
}

/// Used by tests and the NIF to build nested operations without reaching into the fields.
pub fn while_op(
    state: Vec<usize>,
    cond: Vec<Instr>,
    pred: usize,
    body: Vec<Instr>,
    body_outs: Vec<usize>,
) -> Op {
    Op::While(Box::new(WhileOp {
        state,
        cond: Block::new(cond),
        pred,
        body: Block::new(body),
        body_outs,
    }))
}

pub fn cond_op(clauses: Vec<(Vec<Instr>, Vec<usize>)>, last: (Vec<Instr>, Vec<usize>)) -> Op {
    Op::Cond(Box::new(CondOp {
        clauses: clauses
            .into_iter()
            .map(|(b, outs)| (Block::new(b), outs))
            .collect(),
        last: (Block::new(last.0), last.1),
    }))
}
