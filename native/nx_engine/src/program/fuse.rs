//! Fusion of element-wise f32 chains into one cache-blocked kernel.
//!
//! [`plan`] walks a block's instructions in order and groups element-wise f32 operations
//! whose operands are either whole tensors of the group's element count or single elements
//! (scalars, broadcast). A group stays open while later operations join it; an instruction
//! outside the group that reads one of its values closes it, and the group runs where its
//! last member was. Values read outside the group become the kernel's outputs; the others
//! live only in registers: blocks of [`BLOCK`] elements that stay in L1/L2.
//!
//! At run time ([`run`]) the element range of a long enough kernel is split across the cores
//! ([`crate::split`]'s helpers, awake between the kernels of a program), and each thread runs the kernel's micro-ops block by block with
//! the vectorized loops of [`super::kernels`], writing only the outputs.
use super::kernels::{apply, bf16_bits, f16_bits, f16_value, reduce_rows, FOp, Src};
use super::{Instr, Op, Out};
use crate::error::{EngineError, Result, TorchContext};
use crate::ops::convert::cast;
use crate::ops::elementwise::{BinaryOp, UnaryOp};
use crate::ops::reduce::Reduction;
use crate::types::NxType;
use std::collections::HashMap;
use tch::{Device, Kind, Tensor};

/// Elements per block: 2048 f32 are 8 KiB per register.
pub const BLOCK: usize = 2048;
/// A kernel whose estimated time on one thread is below this (in ns) runs on the calling
/// thread alone; longer ones are split across cores ([`crate::split`]).
const SPLIT_MIN_NS: f64 = 20_000.0;

/// Where a kernel value lives while a block runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Loc {
    /// A whole input tensor (the block's window of it).
    In(usize),
    /// A single-element input, read once per run.
    Scalar(usize),
    /// A scratch register.
    Reg(usize),
    /// An output tensor (the block's window of it).
    Out(usize),
    /// A row register: one value per row of the block (row kernels only).
    RowReg(usize),
    /// An output with one value per row (the block's rows of it).
    RowOut(usize),
}

impl Loc {
    fn is_row(self) -> bool {
        matches!(self, Loc::RowReg(_) | Loc::RowOut(_))
    }
}

/// Merges a subtraction into the `exp` that is its only reader ([`FOp::ExpSub`]): one pass
/// over the block instead of two. Only when the difference lives in a register that nothing
/// after the `exp` reads before writing it again, and the `exp`'s destination is neither
/// operand of the subtraction (a destination never aliases a source).
pub(crate) fn peephole(ops: &mut Vec<MicroOp>) {
    let reads = |m: &MicroOp, l: Loc| [m.a, m.b, m.c][..m.op.arity()].contains(&l);
    let mut i = 0;
    while i + 1 < ops.len() {
        let (sub, exp) = (&ops[i], &ops[i + 1]);
        let tmp = sub.dst;
        let candidate = sub.op == FOp::Sub
            && exp.op == FOp::Exp
            && exp.a == tmp
            && matches!(tmp, Loc::Reg(_) | Loc::RowReg(_))
            && exp.dst != sub.a
            && exp.dst != sub.b
            && exp.dst.is_row() == tmp.is_row();
        let dead_after = candidate
            && ops[i + 2..]
                .iter()
                .take_while(|m| m.dst != tmp || reads(m, tmp))
                .all(|m| !reads(m, tmp));
        if candidate && dead_after {
            let (a, b, dst) = (sub.a, sub.b, exp.dst);
            ops[i + 1] = MicroOp {
                op: FOp::ExpSub,
                a,
                b,
                c: a,
                dst,
            };
            ops.remove(i);
        } else {
            i += 1;
        }
    }
}

/// Register allocation while a kernel is built: element and row registers, reused once the
/// value they hold is read for the last time.
#[derive(Default)]
pub(crate) struct Registers {
    free: Vec<usize>,
    free_rows: Vec<usize>,
    pub n_regs: usize,
    pub n_row_regs: usize,
}

impl Registers {
    /// A register for a new value: a row register when it holds one value per row.
    pub fn take(&mut self, row: bool) -> Loc {
        let (free, count) = if row {
            (&mut self.free_rows, &mut self.n_row_regs)
        } else {
            (&mut self.free, &mut self.n_regs)
        };
        let r = free.pop().unwrap_or_else(|| {
            *count += 1;
            *count - 1
        });
        if row {
            Loc::RowReg(r)
        } else {
            Loc::Reg(r)
        }
    }

    /// Makes `loc`'s register available again (nothing for other locations).
    pub fn release(&mut self, loc: Loc) {
        match loc {
            Loc::Reg(r) if !self.free.contains(&r) => self.free.push(r),
            Loc::RowReg(r) if !self.free_rows.contains(&r) => self.free_rows.push(r),
            _ => {}
        }
    }
}

#[derive(Clone, Debug)]
pub struct MicroOp {
    pub op: FOp,
    pub a: Loc,
    pub b: Loc,
    pub c: Loc,
    pub dst: Loc,
}

/// Inputs are the instruction's args: the first `n_full` are whole tensors of `full_types`
/// (converted to f32 at run time unless f32), element `e` of the result reading element
/// `(e / repeats[i]) % periods[i]` of input `i` (see `layout`); the rest single elements of `scalar_types`
/// (converted to f32 at run time). Outputs of type u8 (comparisons) are computed as f32 masks,
/// and f16/bf16 outputs as f32 values already rounded to their type; both are converted when
/// a block ends (row outputs too).
#[derive(Clone)]
pub struct Kernel {
    pub numel: usize,
    pub n_full: usize,
    pub full_types: Vec<NxType>,
    pub periods: Vec<usize>,
    pub repeats: Vec<usize>,
    pub scalar_types: Vec<NxType>,
    pub ops: Vec<MicroOp>,
    pub n_regs: usize,
    /// Row kernels: the length of a row (the last axis), which blocks never split; row
    /// reductions write row registers, which element-wise operations read as one value per
    /// row. 0 for kernels without rows.
    pub row_len: usize,
    pub n_row_regs: usize,
}

impl Kernel {
    /// Rough time per element on one core (AVX2, measured by `kernel_speed`): each operation
    /// over registers in L1, plus moving each input and an output through the cache.
    pub fn ns_per_element(&self) -> f64 {
        let ops: f64 = self.ops.iter().map(|m| m.op.ns_per_element()).sum();
        ops + 0.1 * (self.n_full + 1) as f64
    }

    /// Elements per block: [`BLOCK`], or as many whole rows as fit in it (at least one).
    pub fn block_len(&self) -> usize {
        match self.row_len {
            0 => BLOCK,
            r => (BLOCK / r).max(1) * r,
        }
    }
}

fn fop(op: &Op) -> Option<FOp> {
    match op {
        Op::Binary(op) => binary_fop(*op),
        Op::Unary(op) => unary_fop(*op),
        Op::Broadcast { .. } => Some(FOp::Copy),
        Op::Select => Some(FOp::Select),
        _ => None,
    }
}

/// The micro-op of a binary operation the kernels have (comparisons give masks).
pub(crate) fn binary_fop(op: BinaryOp) -> Option<FOp> {
    Some(match op {
        BinaryOp::Add => FOp::Add,
        BinaryOp::Subtract => FOp::Sub,
        BinaryOp::Multiply => FOp::Mul,
        BinaryOp::Divide => FOp::Div,
        BinaryOp::Max => FOp::Max,
        BinaryOp::Min => FOp::Min,
        BinaryOp::Equal => FOp::Eq,
        BinaryOp::NotEqual => FOp::Ne,
        BinaryOp::Less => FOp::Lt,
        BinaryOp::Greater => FOp::Gt,
        BinaryOp::LessEqual => FOp::Le,
        BinaryOp::GreaterEqual => FOp::Ge,
        _ => return None,
    })
}

/// The micro-op of a unary operation the kernels have.
pub(crate) fn unary_fop(op: UnaryOp) -> Option<FOp> {
    Some(match op {
        UnaryOp::Negate => FOp::Neg,
        UnaryOp::Abs => FOp::Abs,
        UnaryOp::Exp => FOp::Exp,
        UnaryOp::Log => FOp::Log,
        UnaryOp::Tanh => FOp::Tanh,
        UnaryOp::Sigmoid => FOp::Sigmoid,
        UnaryOp::Sqrt => FOp::Sqrt,
        UnaryOp::Rsqrt => FOp::Rsqrt,
        _ => return None,
    })
}

/// The row micro-op of a reduction the kernels have over the last axis.
pub(crate) fn row_fop(op: Reduction) -> Option<FOp> {
    Some(match op {
        Reduction::Sum => FOp::RowSum,
        Reduction::Max => FOp::RowMax,
        Reduction::Min => FOp::RowMin,
        _ => return None,
    })
}

pub(crate) fn numel(shape: &[i64]) -> usize {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| {
            usize::try_from(d).ok().and_then(|d| acc.checked_mul(d))
        })
        .unwrap_or(0)
}

/// Integer types whose every value an f32 holds exactly: operands of these types are converted
/// to f32 when a kernel starts, which is what Nx does before an f32 operation anyway.
pub(crate) fn exact_in_f32(ty: NxType) -> bool {
    matches!(
        ty,
        NxType::F32
            | NxType::F16
            | NxType::BF16
            | NxType::U8
            | NxType::S8
            | NxType::U16
            | NxType::S16
    )
}

/// Half types: operations of these result types compute in f32 and round each result (see
/// [`FOp::RoundF16`]), as LibTorch's CPU kernels and the backend do.
fn is_half(ty: NxType) -> bool {
    matches!(ty, NxType::F16 | NxType::BF16)
}

/// The rounding micro-op of a half result type.
fn rounding(ty: NxType) -> Option<FOp> {
    match ty {
        NxType::F16 => Some(FOp::RoundF16),
        NxType::BF16 => Some(FOp::RoundBF16),
        _ => None,
    }
}

/// Whether `op`'s f32 result of half operands is already a half value (no rounding needed).
fn exact_op(op: FOp) -> bool {
    matches!(
        op,
        FOp::Max
            | FOp::Min
            | FOp::Neg
            | FOp::Abs
            | FOp::Copy
            | FOp::Select
            | FOp::RowMax
            | FOp::RowMin
    )
}

/// How a whole operand of `shape` maps onto a result of shape `out_shape`, as
/// `(period, repeat)`: element `e` of the result reads element `(e / repeat) % period` of the
/// operand. That form covers operands whose dimensions other than 1 are one run of the result's
/// dimensions: the result's own shape (`(n, 1)`), a bias repeated over rows (`[512]` in
/// `[128, 512]`: `(512, 1)`) and a column repeated along rows (`[128, 1]` in `[128, 10]`:
/// `(128, 10)`). `None` for any other broadcast.
pub(crate) fn layout(shape: &[i64], out_shape: &[i64]) -> Option<(usize, usize)> {
    let r = out_shape.len();
    if shape.len() > r {
        return None;
    }
    // the operand's dimensions aligned with the result's trailing ones, 1 where missing
    let dims: Vec<i64> = std::iter::repeat_n(1, r - shape.len())
        .chain(shape.iter().copied())
        .collect();
    let run: Vec<usize> = (0..r).filter(|&i| dims[i] != 1).collect();
    let (first, last) = match (run.first(), run.last()) {
        (Some(&f), Some(&l)) => (f, l + 1),
        _ => return Some((1, numel(out_shape))),
    };
    if (first..last).any(|i| dims[i] != out_shape[i]) {
        return None;
    }
    Some((numel(&out_shape[first..last]), numel(&out_shape[last..])))
}

/// Rows a fused reduction may have: a block holds at least one whole row.
const ROW_MAX: usize = 16_384;

/// How an instruction takes part in a group: its micro-op, the group's element count `n`, the
/// length of the last axis of the group's shape, and whether it reduces rows.
#[derive(Clone, Copy)]
struct Part {
    op: FOp,
    n: usize,
    last: usize,
    reduces: bool,
}

/// A sum, maximum or minimum over the last axis of an f32 value, as a row reduction.
fn row_reduction(instr: &Instr, info: &HashMap<usize, (NxType, Vec<i64>)>) -> Option<Part> {
    let Op::Reduce { op, axes, .. } = &instr.op else {
        return None;
    };
    let op = row_fop(*op)?;
    let ([arg], [out]) = (instr.args.as_slice(), instr.outs.as_slice()) else {
        return None;
    };
    let (ty, shape) = info.get(arg)?;
    let last = *shape.last()? as usize;
    let n = numel(shape);
    let ok = (*ty == NxType::F32 || is_half(*ty))
        && out.ty == *ty
        && axes.as_slice() == [shape.len() as i64 - 1]
        && (2..=ROW_MAX).contains(&last)
        && n > last;
    ok.then_some(Part {
        op,
        n,
        last,
        reduces: true,
    })
}

/// How an instruction would take part in a group (see [`Part`]).
fn fusible(instr: &Instr, info: &HashMap<usize, (NxType, Vec<i64>)>) -> Option<Part> {
    if let Some(part) = row_reduction(instr, info) {
        return Some(part);
    }
    let op = fop(&instr.op)?;
    let [out] = instr.outs.as_slice() else {
        return None;
    };
    let n = numel(&out.shape);
    let out_ok = if op.is_comparison() {
        out.ty == NxType::U8
    } else {
        out.ty == NxType::F32 || is_half(out.ty)
    };
    if !out_ok || n < 2 || instr.args.len() != op.arity() {
        return None;
    }
    if let Op::Broadcast { axes } = &instr.op {
        // only broadcasts that prepend axes keep the operand's elements in order
        let (_, shape) = info.get(instr.args.first()?)?;
        let r = out.shape.len() as i64;
        let k = shape.len() as i64;
        if !axes.iter().copied().eq(r - k..r) {
            return None;
        }
    }
    for (k, arg) in instr.args.iter().enumerate() {
        let (ty, shape) = info.get(arg)?;
        let m = numel(shape);
        // single elements of any real type (broadcast), whole operands of the result's
        // element count or repeating along its leading axes; comparisons compare f32 values.
        // An f64 single element would make Nx compare in f64, and an f64 predicate of select
        // may be non-zero only beyond f32's range: neither is converted to f32.
        let exact = op.is_comparison() || (op == FOp::Select && k == 0);
        let scalar = m == 1 && !ty.is_complex() && !(exact && *ty == NxType::F64);
        // a half result: its operands are converted to it first, which the kernel does
        // exactly only for its own type and small integers (the rounding of single elements
        // of other types goes through f32: only f32 and those)
        let half_ok = |ty: NxType| {
            ty == out.ty
                || matches!(ty, NxType::U8 | NxType::S8 | NxType::F32)
                    && (m == 1 || ty != NxType::F32)
        };
        let value = !(op == FOp::Select && k == 0);
        if is_half(out.ty) && value && !half_ok(*ty) {
            return None;
        }
        let ty_ok = if op.is_comparison() {
            matches!(ty, NxType::F32 | NxType::F16 | NxType::BF16)
        } else {
            exact_in_f32(*ty)
        };
        let whole = ty_ok && layout(shape, &out.shape).is_some();
        if !(scalar || whole) {
            return None;
        }
    }
    let last = out.shape.last().map_or(1, |&d| d.max(0) as usize);
    Some(Part {
        op,
        n,
        last,
        reduces: false,
    })
}

/// The shape of one value per row of `shape`, the reduced axis kept as 1.
pub(crate) fn row_shape(shape: &[i64]) -> Vec<i64> {
    let mut s = shape.to_vec();
    if let Some(l) = s.last_mut() {
        *l = 1;
    }
    s
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
    // per group: the length of the last axis of its shape, and whether it reduces rows
    let mut rows: Vec<(usize, bool)> = Vec::new();
    let mut alias: Vec<usize> = Vec::new();
    let find = |alias: &Vec<usize>, mut g: usize| {
        while alias[g] != g {
            g = alias[g];
        }
        g
    };
    for (j, instr) in instrs.iter().enumerate() {
        if let Some(part) = fusible(instr, info) {
            let n = part.n;
            // an element-wise member reads a row value of its group only in the [.., 1] form
            // that repeats it along its row
            let reads_rows_right = instr.args.iter().all(|arg| {
                let row_member = producer
                    .get(arg)
                    .is_some_and(|&p| row_reduction(&instrs[p], info).is_some());
                !row_member
                    || (!part.reduces
                        && info.get(arg).map(|(_, s)| s.as_slice())
                            == instr.outs.first().map(|o| row_shape(&o.shape)).as_deref())
            });
            let mut joined: Option<usize> = None;
            for arg in &instr.args {
                let Some(&p) = producer.get(arg) else {
                    continue;
                };
                let Some(g) = group_of[p].map(|g| find(&alias, g)) else {
                    continue;
                };
                let rows_ok =
                    rows[g].0 == part.last && (!(part.reduces || rows[g].1) || reads_rows_right);
                if !groups[g].2 || groups[g].1 != n || !rows_ok {
                    continue;
                }
                match joined {
                    None => joined = Some(g),
                    // groups with row reductions never merge: an operation already in one
                    // may read the other's row values in a form they do not repeat along rows
                    Some(h) if h != g && (rows[g].1 || rows[h].1) => {}
                    Some(h) if h != g => {
                        let members = std::mem::take(&mut groups[g].0);
                        groups[h].0.extend(members);
                        groups[g].2 = false;
                        rows[h].1 |= rows[g].1;
                        alias[g] = h;
                    }
                    _ => {}
                }
            }
            let g = joined.unwrap_or_else(|| {
                groups.push((Vec::new(), n, true));
                rows.push((part.last, false));
                alias.push(groups.len() - 1);
                groups.len() - 1
            });
            rows[g].1 |= part.reduces;
            groups[g].0.push(j);
            group_of[j] = Some(g);
            // a group whose value this operation reads without joining it must run first:
            // nothing may join it later
            for arg in &instr.args {
                if let Some(h) = producer.get(arg).and_then(|&p| group_of[p]) {
                    let h = find(&alias, h);
                    if h != g {
                        groups[h].2 = false;
                    }
                }
            }
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
        // a reduction alone is left to LibTorch's kernel
        let lone_reduction = rows[g].1 && members.len() < 2;
        if !members.is_empty() && computes && !lone_reduction && alias[g] == g {
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
    // each member's row reduction, if it is one
    let reductions: Vec<Option<Part>> = members.iter().map(|m| row_reduction(m, info)).collect();
    // the group's shape: an element-wise member's result, or what a reduction reads
    let family: Vec<i64> = members
        .iter()
        .zip(&reductions)
        .find(|(_, r)| r.is_none())
        .map(|(m, _)| m.outs[0].shape.clone())
        .or_else(|| {
            let arg = members.first()?.args.first()?;
            info.get(arg).map(|(_, s)| s.clone())
        })
        .unwrap_or_default();
    let n = numel(&family);
    let row_len = if reductions.iter().any(Option::is_some) {
        family.last().map_or(0, |&d| d.max(0) as usize)
    } else {
        0
    };
    let mut regs = Registers::default();
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
            if m_elems > 1 {
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
    let mut ops = Vec::with_capacity(members.len());
    for (k, m) in members.iter().enumerate() {
        let out = &m.outs[0];
        let reduction = reductions[k];
        let dst = match (external.contains(&out.slot), reduction.is_some()) {
            (true, false) => {
                outs.push(out.clone());
                Loc::Out(outs.len() - 1)
            }
            (true, true) => {
                outs.push(out.clone());
                Loc::RowOut(outs.len() - 1)
            }
            (false, row) => regs.take(row),
        };
        loc.insert(out.slot, dst);
        let op = match reduction {
            Some(part) => part.op,
            None => fop(&m.op).unwrap_or(FOp::Copy),
        };
        let round = rounding(out.ty);
        // a half operation's single elements of another type, rounded to its type first
        let mut operand = |k: usize, ops: &mut Vec<MicroOp>| -> Option<Loc> {
            let s = m.args.get(k)?;
            let l = loc.get(s).copied()?;
            let ty = info.get(s).map(|(t, _)| *t).unwrap_or(NxType::F32);
            match (round, l) {
                (Some(r), Loc::Scalar(_)) if ty != out.ty && !(op == FOp::Select && k == 0) => {
                    let tmp = regs.take(false);
                    ops.push(MicroOp {
                        op: r,
                        a: l,
                        b: l,
                        c: l,
                        dst: tmp,
                    });
                    Some(tmp)
                }
                _ => Some(l),
            }
        };
        let a = operand(0, &mut ops).unwrap_or(Loc::Scalar(0));
        let b = operand(1, &mut ops).unwrap_or(a);
        let c = operand(2, &mut ops).unwrap_or(a);
        let temps: Vec<Loc> = [a, b, c]
            .into_iter()
            .filter(|l| matches!(l, Loc::Reg(_)) && !m.args.iter().any(|s| loc.get(s) == Some(l)))
            .collect();
        match round.filter(|_| !exact_op(op)) {
            // the f32 result into a scratch register, rounded into its place
            Some(r) => {
                let tmp = regs.take(reduction.is_some());
                ops.push(MicroOp {
                    op,
                    a,
                    b,
                    c,
                    dst: tmp,
                });
                ops.push(MicroOp {
                    op: r,
                    a: tmp,
                    b: tmp,
                    c: tmp,
                    dst,
                });
                regs.release(tmp);
            }
            None => ops.push(MicroOp { op, a, b, c, dst }),
        }
        for t in temps {
            regs.release(t);
        }
        // registers whose value dies here
        let mut dead: Vec<usize> = m.args.clone();
        dead.dedup();
        for s in dead {
            if last_use.get(&s) == Some(&k) {
                if let Some(&l) = loc.get(&s) {
                    regs.release(l);
                }
            }
        }
        // a value nobody reads frees its register at once
        if !last_use.contains_key(&out.slot) {
            regs.release(dst);
        }
    }
    let scalar_types = scalar_inputs
        .iter()
        .map(|s| info.get(s).map(|(t, _)| *t).unwrap_or(NxType::F32))
        .collect();
    let n_full = full_inputs.len();
    let full_info = |s: &usize| info.get(s).cloned().unwrap_or((NxType::F32, vec![]));
    let full_types = full_inputs.iter().map(|s| full_info(s).0).collect();
    let layouts: Vec<(usize, usize)> = full_inputs
        .iter()
        .map(|s| layout(&full_info(s).1, &family).unwrap_or((n, 1)))
        .collect();
    let periods = layouts.iter().map(|l| l.0).collect();
    let repeats = layouts.iter().map(|l| l.1).collect();
    let mut args = full_inputs;
    args.extend(scalar_inputs);
    peephole(&mut ops);
    Instr {
        op: Op::Fused(Box::new(Kernel {
            numel: n,
            n_full,
            full_types,
            periods,
            repeats,
            scalar_types,
            ops,
            n_regs: regs.n_regs,
            row_len,
            n_row_regs: regs.n_row_regs,
        })),
        args,
        outs,
    }
}

/// Raw pointers of the kernel's buffers, shared by the worker threads (the inputs' types and
/// layouts are the kernel's), each output with its type (f32, or u8 for masks).
///
/// SAFETY: input buffers are only read; each thread writes only its own disjoint element
/// range of each output buffer; every buffer outlives the scope in which the threads run.
#[derive(Clone, Copy)]
struct Buffers<'a> {
    ins: &'a [*const u8],
    outs: &'a [(*mut u8, NxType)],
    scalars: &'a [f32],
}
unsafe impl Send for Buffers<'_> {}
unsafe impl Sync for Buffers<'_> {}

/// Converts `dst.len()` elements of type `ty` starting at element `start` of `ptr` to f32.
///
/// SAFETY: `ptr` holds at least `start + dst.len()` elements of `ty`.
#[inline(always)]
unsafe fn load(dst: &mut [f32], ptr: *const u8, ty: NxType, start: usize) {
    use std::slice::from_raw_parts as raw;
    let n = dst.len();
    match ty {
        NxType::U8 => {
            for (d, &x) in dst.iter_mut().zip(raw(ptr.add(start), n)) {
                *d = x as f32;
            }
        }
        NxType::S8 => {
            for (d, &x) in dst.iter_mut().zip(raw((ptr as *const i8).add(start), n)) {
                *d = x as f32;
            }
        }
        NxType::U16 => {
            for (d, &x) in dst.iter_mut().zip(raw((ptr as *const u16).add(start), n)) {
                *d = x as f32;
            }
        }
        NxType::S16 => {
            for (d, &x) in dst.iter_mut().zip(raw((ptr as *const i16).add(start), n)) {
                *d = x as f32;
            }
        }
        NxType::F16 => {
            let h = raw((ptr as *const u16).add(start), n);
            #[cfg(target_arch = "x86_64")]
            if super::kernels::f16c::available() {
                return super::kernels::f16c::load(dst, h);
            }
            for (d, &x) in dst.iter_mut().zip(h) {
                *d = f16_value(x);
            }
        }
        NxType::BF16 => {
            for (d, &x) in dst.iter_mut().zip(raw((ptr as *const u16).add(start), n)) {
                *d = f32::from_bits((x as u32) << 16);
            }
        }
        _ => dst.copy_from_slice(raw((ptr as *const f32).add(start), n)),
    }
}

/// One element of type `ty` at index `i` of `ptr`, as f32.
///
/// SAFETY: `ptr` holds more than `i` elements of `ty`.
#[inline(always)]
unsafe fn load_one(ptr: *const u8, ty: NxType, i: usize) -> f32 {
    let mut v = [0f32];
    load(&mut v, ptr, ty, i);
    v[0]
}

/// Fills `dst` with elements `[pos, pos + dst.len())` of the sequence whose element `e` is
/// element `(e / repeat) % period` of `ptr`, converted to f32: runs of `repeat` equal values,
/// or (`repeat` 1) whole segments of the input, the input itself when `period` covers it.
///
/// SAFETY: `ptr` holds `period` elements of `ty`.
#[inline(always)]
unsafe fn load_input(
    dst: &mut [f32],
    ptr: *const u8,
    ty: NxType,
    period: usize,
    repeat: usize,
    pos: usize,
) {
    if period == 0 || repeat == 0 {
        return;
    }
    let mut k = pos;
    let mut done = 0;
    while done < dst.len() {
        let run = k / repeat;
        let take = if repeat == 1 {
            let at = run % period;
            let take = (period - at).min(dst.len() - done);
            load(&mut dst[done..done + take], ptr, ty, at);
            take
        } else {
            let take = ((run + 1) * repeat - k).min(dst.len() - done);
            dst[done..done + take].fill(load_one(ptr, ty, run % period));
            take
        };
        done += take;
        k += take;
    }
}

/// Stores f32 values already rounded to `ty` (f16 or bf16) as its bits.
#[inline(always)]
fn store_half(halves: &mut [u16], values: &[f32], ty: NxType) {
    if ty == NxType::F16 {
        #[cfg(target_arch = "x86_64")]
        if super::kernels::f16c::available() && halves.len() == values.len() {
            // SAFETY: the CPU has F16C; the slices have the same length
            return unsafe { super::kernels::f16c::store(halves, values) };
        }
        for (h, &v) in halves.iter_mut().zip(values) {
            *h = f16_bits(v);
        }
    } else {
        for (h, &v) in halves.iter_mut().zip(values) {
            *h = bf16_bits(v);
        }
    }
}

pub(crate) fn has_avx2_fma() -> bool {
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

/// Whether the CPU has the AVX-512 subsets the kernels are compiled for (besides AVX2 and
/// FMA). Even where 512-bit operations run as two 256-bit halves (AMD Zen 4), the kernels
/// issue half as many instructions: `exp` over a block took 0.33 ns per element against
/// 0.54-0.65 with AVX2 on this project's build machine. `NX_TORCH_AVX512=0` turns it off.
pub(crate) fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static DETECTED: once_cell::sync::Lazy<bool> = once_cell::sync::Lazy::new(|| {
            std::env::var("NX_TORCH_AVX512").as_deref() != Ok("0")
                && has_avx2_fma()
                && is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512vl")
                && is_x86_feature_detected!("avx512dq")
                && is_x86_feature_detected!("avx512bw")
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
/// Inputs that are f32 and whole are read in place; the others (narrow integer types,
/// repeating rows) are converted block by block into staging registers. Masks (u8 outputs)
/// are computed in staging registers and written out as bytes at the end of each block.
///
/// SAFETY: the buffers hold `kernel.numel` elements each (inputs: their period) and
/// `[start, end)` lies within them; no other thread writes `[start, end)` of the outputs.
#[inline(always)]
unsafe fn run_range<const F: bool>(kernel: &Kernel, buf: Buffers, start: usize, end: usize) {
    let block = kernel.block_len();
    // registers as long as a block of this range (small kernels: no 8 KiB each to zero)
    let stride = block.min(end.saturating_sub(start)).max(1);
    let row_len = kernel.row_len;
    let row_stride = stride.checked_div(row_len).unwrap_or(1).max(1);
    let staged_in: Vec<usize> = (0..kernel.n_full)
        .filter(|&i| kernel.full_types[i] != NxType::F32 || kernel.periods[i] < kernel.numel)
        .collect();
    // outputs with one value per row, and outputs stored in another type than f32 (staged
    // in a register of their kind and converted when the block is done)
    let row_out: Vec<bool> = (0..buf.outs.len())
        .map(|o| kernel.ops.iter().any(|m| m.dst == Loc::RowOut(o)))
        .collect();
    let staged = |o: &usize| buf.outs[*o].1 != NxType::F32;
    let staged_out: Vec<usize> = (0..buf.outs.len())
        .filter(|o| staged(o) && !row_out[*o])
        .collect();
    let staged_rows: Vec<usize> = (0..buf.outs.len())
        .filter(|o| staged(o) && row_out[*o])
        .collect();
    let n_stage = staged_in.len() + staged_out.len();
    let mut regs = vec![0f32; (kernel.n_regs + n_stage).max(1) * stride];
    let rp = regs.as_mut_ptr();
    let n_row_stage = kernel.n_row_regs + staged_rows.len();
    let mut row_regs = vec![0f32; n_row_stage.max(1) * row_stride];
    let rrp = row_regs.as_mut_ptr();
    // staging register of each input / output, if any
    let mut in_reg = vec![usize::MAX; kernel.n_full];
    let mut out_reg = vec![usize::MAX; buf.outs.len()];
    for (k, &i) in staged_in.iter().enumerate() {
        in_reg[i] = kernel.n_regs + k;
    }
    for (k, &o) in staged_out.iter().enumerate() {
        out_reg[o] = kernel.n_regs + staged_in.len() + k;
    }
    for (k, &o) in staged_rows.iter().enumerate() {
        out_reg[o] = kernel.n_row_regs + k;
    }
    let mut pos = start;
    while pos < end {
        let len = (end - pos).min(block);
        let rows = len.checked_div(row_len).unwrap_or(0);
        let reg = |r: usize| std::slice::from_raw_parts_mut(rp.add(r * stride), len);
        // one value per row of the block: row registers, or the block's rows of an output
        let row = |l: Loc| -> &mut [f32] {
            match l {
                Loc::RowReg(r) => std::slice::from_raw_parts_mut(rrp.add(r * row_stride), rows),
                Loc::RowOut(o) if out_reg[o] != usize::MAX => {
                    std::slice::from_raw_parts_mut(rrp.add(out_reg[o] * row_stride), rows)
                }
                Loc::RowOut(o) => std::slice::from_raw_parts_mut(
                    (buf.outs[o].0 as *mut f32).add(pos / row_len.max(1)),
                    rows,
                ),
                _ => &mut [],
            }
        };
        for &i in &staged_in {
            let (ty, period, repeat) = (kernel.full_types[i], kernel.periods[i], kernel.repeats[i]);
            load_input(reg(in_reg[i]), buf.ins[i], ty, period, repeat, pos);
        }
        for op in &kernel.ops {
            let src = |l: Loc| -> Src {
                match l {
                    Loc::In(i) if in_reg[i] != usize::MAX => Src::V(reg(in_reg[i])),
                    Loc::In(i) => Src::V(std::slice::from_raw_parts(
                        (buf.ins[i] as *const f32).add(pos),
                        len,
                    )),
                    Loc::Scalar(i) => Src::C(buf.scalars[i]),
                    Loc::Reg(r) => Src::V(reg(r)),
                    Loc::Out(o) if out_reg[o] != usize::MAX => Src::V(reg(out_reg[o])),
                    Loc::Out(o) => Src::V(std::slice::from_raw_parts(
                        (buf.outs[o].0 as *const f32).add(pos),
                        len,
                    )),
                    Loc::RowReg(_) | Loc::RowOut(_) => Src::V(row(l)),
                }
            };
            if op.dst.is_row() {
                // row reductions of block values, or arithmetic between row values
                let d = row(op.dst);
                if op.op.is_row_reduction() {
                    if let Src::V(a) = src(op.a) {
                        reduce_rows(op.op, d, a);
                    }
                } else {
                    apply::<F>(op.op, d, src(op.a), src(op.b), src(op.c));
                }
                continue;
            }
            // the destination never aliases a source: registers are allocated that way
            let d: &mut [f32] = match op.dst {
                Loc::Reg(r) => reg(r),
                Loc::Out(o) if out_reg[o] != usize::MAX => reg(out_reg[o]),
                Loc::Out(o) => {
                    std::slice::from_raw_parts_mut((buf.outs[o].0 as *mut f32).add(pos), len)
                }
                _ => continue,
            };
            let (a, b, c) = (src(op.a), src(op.b), src(op.c));
            if op.a.is_row() || op.b.is_row() || op.c.is_row() {
                // row values broadcast along their rows: one row at a time
                fn part<'s>(s: Src<'s>, l: Loc, r: usize, row_len: usize) -> Src<'s> {
                    match s {
                        Src::V(v) if l.is_row() => Src::C(v[r]),
                        Src::V(v) => Src::V(&v[r * row_len..(r + 1) * row_len]),
                        c => c,
                    }
                }
                for r in 0..rows {
                    apply::<F>(
                        op.op,
                        &mut d[r * row_len..(r + 1) * row_len],
                        part(a, op.a, r, row_len),
                        part(b, op.b, r, row_len),
                        part(c, op.c, r, row_len),
                    );
                }
            } else {
                apply::<F>(op.op, d, a, b, c);
            }
        }
        for &o in &staged_rows {
            // one half value per row
            let (ptr, ty) = buf.outs[o];
            let values = row(Loc::RowOut(o));
            let at = pos / row_len.max(1);
            store_half(
                std::slice::from_raw_parts_mut((ptr as *mut u16).add(at), rows),
                values,
                ty,
            );
        }
        for &o in &staged_out {
            let (ptr, ty) = buf.outs[o];
            let values = reg(out_reg[o]);
            match ty {
                NxType::F16 | NxType::BF16 => {
                    // values already rounded to the type
                    let halves = std::slice::from_raw_parts_mut((ptr as *mut u16).add(pos), len);
                    store_half(halves, values, ty);
                }
                _ => {
                    // masks: 0.0 or 1.0
                    let bytes = std::slice::from_raw_parts_mut(ptr.add(pos), len);
                    for (b, &m) in bytes.iter_mut().zip(values.iter()) {
                        *b = u8::from(m != 0.0);
                    }
                }
            }
        }
        pos += len;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_range_avx2(kernel: &Kernel, buf: Buffers, start: usize, end: usize) {
    run_range::<true>(kernel, buf, start, end)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]
unsafe fn run_range_avx512(kernel: &Kernel, buf: Buffers, start: usize, end: usize) {
    run_range::<true>(kernel, buf, start, end)
}

fn run_range_any(kernel: &Kernel, buf: Buffers, start: usize, end: usize) {
    // SAFETY: see `run_range`; callers pass ranges within the buffers, disjoint per thread.
    unsafe {
        #[cfg(target_arch = "x86_64")]
        if has_avx512() {
            return run_range_avx512(kernel, buf, start, end);
        }
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

/// The value of a single-element operand of type `ty` as an f32 operation reads it (Nx
/// converts the operand to the output type first).
pub(crate) fn scalar_value(t: &Tensor, ty: NxType) -> Result<f32> {
    if let Some(v) = scalar_fast(t, ty) {
        return Ok(v);
    }
    let v = cast(t, ty, NxType::F32)?
        .f_to_kind(Kind::Double)
        .and_then(|v| v.f_reshape([1]))
        .and_then(|v| v.f_double_value(&[0]))
        .ctx("fused")?;
    Ok(v as f32)
}

/// Runs a fused kernel: `inputs` are the instruction's args (whole f32 tensors, then single
/// elements), `outs` its result templates. Returns the output tensors.
pub fn run(kernel: &Kernel, inputs: Vec<(Tensor, NxType)>, outs: &[Out]) -> Result<Vec<Tensor>> {
    let op = "fused";
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
            let want = kernel.periods[i];
            let kind_ok = t.f_kind().ctx(op)? == kernel.full_types[i].storage_kind();
            if ty != kernel.full_types[i] || !kind_ok || t.numel() != want {
                return Err(EngineError::argument(format!(
                    "fused: input {i} must be {} with {want} elements, got {} {:?}",
                    kernel.full_types[i].name(),
                    ty.name(),
                    t.size()
                )));
            }
            ins.push(crate::ops::contiguous(t)?);
        } else {
            if t.numel() != 1 || ty.is_complex() {
                return Err(EngineError::argument("fused: expected a single element"));
            }
            scalars.push(scalar_value(&t, ty)?);
        }
    }
    execute(kernel, ins, &scalars, outs)
}

/// Runs a fused kernel on inputs already checked against it: `ins` are contiguous CPU tensors
/// of the kernel's input types and periods, `scalars` its single elements as f32; `outs` the
/// result templates, each of the kernel's element count or (row kernels) one per row.
pub(crate) fn execute(
    kernel: &Kernel,
    ins: Vec<Tensor>,
    scalars: &[f32],
    outs: &[Out],
) -> Result<Vec<Tensor>> {
    let n = kernel.numel;
    let rows = match kernel.row_len {
        0 => None,
        r if n.is_multiple_of(r) => Some(n / r),
        _ => return Err(EngineError::argument("fused: rows do not tile the kernel")),
    };
    if ins.len() != kernel.n_full
        || scalars.len() != kernel.scalar_types.len()
        || ins
            .iter()
            .zip(&kernel.periods)
            .any(|(t, &p)| t.device() != Device::Cpu || !t.is_contiguous() || t.numel() != p)
    {
        return Err(EngineError::argument(
            "fused: inputs do not match the kernel",
        ));
    }
    let mut results = Vec::with_capacity(outs.len());
    for out in outs {
        let m = numel(&out.shape);
        let row_out = (out.ty == NxType::F32 || is_half(out.ty)) && Some(m) == rows;
        let typed = matches!(
            out.ty,
            NxType::F32 | NxType::U8 | NxType::F16 | NxType::BF16
        );
        if !(m == n || row_out) || !typed {
            return Err(EngineError::argument("fused: bad output template"));
        }
        results.push(crate::runtime::empty_cpu(
            out.ty.storage_kind(),
            &out.shape,
        )?);
    }
    let in_ptrs: Vec<*const u8> = ins.iter().map(|t| t.data_ptr() as *const u8).collect();
    let out_ptrs: Vec<(*mut u8, NxType)> = results
        .iter()
        .zip(outs)
        .map(|(t, out)| (t.data_ptr() as *mut u8, out.ty))
        .collect();
    let buf = Buffers {
        ins: &in_ptrs,
        outs: &out_ptrs,
        scalars,
    };
    let block = kernel.block_len();
    if crate::split::width() == 1 || (n as f64) * kernel.ns_per_element() < SPLIT_MIN_NS {
        run_range_any(kernel, buf, 0, n);
    } else {
        // ranges of whole blocks, four per core, claimed by the caller and the split helpers
        // (awake between the kernels of a program, unlike OpenMP's sleeping workers)
        let per = n.div_ceil(4 * crate::split::width()).div_ceil(block) * block;
        let parts = n.div_ceil(per.max(1));
        let part = |p: usize| run_range_any(kernel, buf, p * per, ((p + 1) * per).min(n));
        if !crate::split::run(parts, &part) {
            return Err(EngineError::argument("fused: a worker failed"));
        }
    }
    // the inputs stay alive (and their pointers valid) until the kernel is done
    drop(ins);
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::{layout, peephole, FOp, Loc, MicroOp};

    fn m(op: FOp, a: Loc, b: Loc, dst: Loc) -> MicroOp {
        MicroOp {
            op,
            a,
            b,
            c: a,
            dst,
        }
    }

    #[test]
    fn a_subtraction_read_only_by_exp_merges_into_it() {
        use Loc::*;
        // softmax: x - max(x) read only by exp
        let mut ops = vec![
            m(FOp::RowMax, In(0), In(0), RowReg(0)),
            m(FOp::Sub, In(0), RowReg(0), Reg(0)),
            m(FOp::Exp, Reg(0), Reg(0), Reg(1)),
            m(FOp::RowSum, Reg(1), Reg(1), RowReg(1)),
            m(FOp::Div, Reg(1), RowReg(1), Out(0)),
        ];
        peephole(&mut ops);
        let kinds: Vec<FOp> = ops.iter().map(|o| o.op).collect();
        assert_eq!(kinds, [FOp::RowMax, FOp::ExpSub, FOp::RowSum, FOp::Div]);
        assert_eq!((ops[1].a, ops[1].b, ops[1].dst), (In(0), RowReg(0), Reg(1)));
        // the difference is read again later: kept
        let mut ops = vec![
            m(FOp::Sub, In(0), In(1), Reg(0)),
            m(FOp::Exp, Reg(0), Reg(0), Reg(1)),
            m(FOp::Mul, Reg(1), Reg(0), Out(0)),
        ];
        peephole(&mut ops);
        assert_eq!(ops.len(), 3);
        // ... unless it was written again first
        let mut ops = vec![
            m(FOp::Sub, In(0), In(1), Reg(0)),
            m(FOp::Exp, Reg(0), Reg(0), Reg(1)),
            m(FOp::Neg, In(0), In(0), Reg(0)),
            m(FOp::Mul, Reg(1), Reg(0), Out(0)),
        ];
        peephole(&mut ops);
        assert_eq!(ops.len(), 3);
        // the exp writes where an operand of the subtraction was: kept (no aliasing)
        let mut ops = vec![
            m(FOp::Neg, In(0), In(0), Reg(0)),
            m(FOp::Sub, Reg(0), In(1), Reg(1)),
            m(FOp::Exp, Reg(1), Reg(1), Reg(0)),
        ];
        peephole(&mut ops);
        assert_eq!(ops.len(), 3);
    }

    #[test]
    fn layouts_of_broadcast_operands() {
        assert_eq!(layout(&[128, 512], &[128, 512]), Some((65536, 1)));
        assert_eq!(layout(&[512], &[128, 512]), Some((512, 1)));
        assert_eq!(layout(&[1, 512], &[128, 512]), Some((512, 1)));
        assert_eq!(layout(&[128, 1], &[128, 10]), Some((128, 10)));
        assert_eq!(layout(&[4, 1, 1], &[4, 5, 6]), Some((4, 30)));
        assert_eq!(layout(&[5, 1], &[4, 5, 6]), Some((5, 6)));
        assert_eq!(layout(&[1, 1], &[3, 3]), Some((1, 9)));
        // not one run of the result's dimensions
        assert_eq!(layout(&[4, 1, 6], &[4, 5, 6]), None);
        assert_eq!(layout(&[10, 128], &[128, 10]), None);
        assert_eq!(layout(&[2, 128, 10], &[128, 10]), None);
    }
}
