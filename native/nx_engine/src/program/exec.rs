//! The interpreter: runs a built [`Program`] with the engine's operation functions.
use super::{cuda, fuse, Block, CondOp, Instr, Op, Program, WhileOp};
use crate::error::{EngineError, Result, TorchContext};
use crate::ops::convert::{self, to_compute};
use crate::ops::elementwise::{self, BinaryOp, UnaryOp};
use crate::ops::{contract, index, order, reduce, scan, shape};
use crate::runtime::prepare_thread;
use crate::tensor::NxTensor;
use crate::types::NxType;
use tch::Tensor;

/// A value: a tensor stored as `ty`.
pub struct Val {
    pub t: Tensor,
    pub ty: NxType,
}

impl Val {
    fn share(&self) -> Val {
        Val {
            t: self.t.shallow_clone(),
            ty: self.ty,
        }
    }

    /// A handle for the element-wise functions, which take `NxTensor`s.
    fn handle(&self) -> NxTensor {
        NxTensor::new(self.t.shallow_clone(), self.ty)
    }
}

struct Frame {
    vals: Vec<Option<Val>>,
}

/// Elements from which an element-wise result may take its dead operand's buffer (below,
/// the engine's small-tensor paths are faster than LibTorch's in-place kernels).
const IN_PLACE_MIN: usize = 4096;

thread_local! {
    static IN_PLACE_RUNS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Operations this thread has run in place so far (see `Frame::in_place`); for tests.
pub fn in_place_runs() -> u64 {
    IN_PLACE_RUNS.with(|c| c.get())
}

type TchResult = std::result::Result<Tensor, tch::TchError>;

/// LibTorch's in-place kernel of an operation whose out-of-place path (for a type it computes
/// in directly) is the same kernel writing a new tensor.
enum InPlace {
    Unary(fn(&mut Tensor) -> TchResult),
    Binary(fn(&mut Tensor, &Tensor) -> TchResult),
}

impl InPlace {
    fn of(op: &Op) -> Option<InPlace> {
        use BinaryOp as B;
        use UnaryOp as U;
        let unary: fn(&mut Tensor) -> TchResult = match op {
            Op::Binary(b) => {
                let f: fn(&mut Tensor, &Tensor) -> TchResult = match b {
                    B::Add => |t, b| t.f_add_(b),
                    B::Subtract => |t, b| t.f_sub_(b),
                    B::Multiply => |t, b| t.f_mul_(b),
                    B::Divide => |t, b| t.f_div_(b),
                    B::Max => |t, b| t.f_maximum_out(t, b),
                    B::Min => |t, b| t.f_minimum_out(t, b),
                    _ => return None,
                };
                return Some(InPlace::Binary(f));
            }
            Op::Unary(u) => match u {
                U::Exp => |t| t.f_exp_(),
                U::Expm1 => |t| t.f_expm1_(),
                U::Log => |t| t.f_log_(),
                U::Log1p => |t| t.f_log1p_(),
                U::Sigmoid => |t| t.f_sigmoid_(),
                U::Cos => |t| t.f_cos_(),
                U::Sin => |t| t.f_sin_(),
                U::Tan => |t| t.f_tan_(),
                U::Cosh => |t| t.f_cosh_(),
                U::Sinh => |t| t.f_sinh_(),
                U::Tanh => |t| t.f_tanh_(),
                U::Acos => |t| t.f_acos_(),
                U::Asin => |t| t.f_asin_(),
                U::Atan => |t| t.f_atan_(),
                U::Acosh => |t| t.f_acosh_(),
                U::Asinh => |t| t.f_asinh_(),
                U::Atanh => |t| t.f_atanh_(),
                U::Sqrt => |t| t.f_sqrt_(),
                U::Rsqrt => |t| t.f_rsqrt_(),
                U::Erf => |t| t.f_erf_(),
                U::Erfc => |t| t.f_erfc_(),
                U::ErfInv => |t| t.f_erfinv_(),
                U::Abs => |t| t.f_abs_(),
                U::Negate => |t| t.f_neg_(),
                U::Ceil => |t| t.f_ceil_(),
                U::Floor => |t| t.f_floor_(),
                _ => return None,
            },
            _ => return None,
        };
        Some(InPlace::Unary(unary))
    }
}

/// Runs `program` on `inputs` (tensors with their Nx types, in the order of the program's
/// inputs) and returns the outputs.
pub fn run(program: &Program, inputs: Vec<Val>) -> Result<Vec<Val>> {
    prepare_thread();
    if inputs.len() != program.inputs.len() {
        return Err(EngineError::argument(format!(
            "compiled program expects {} inputs, got {}",
            program.inputs.len(),
            inputs.len()
        )));
    }
    let mut vals: Vec<Option<Val>> = Vec::new();
    vals.resize_with(program.n_slots, || None);
    for (i, (v, (slot, ty, shape))) in inputs.into_iter().zip(&program.inputs).enumerate() {
        if v.ty != *ty || v.t.size() != *shape {
            return Err(EngineError::argument(format!(
                "compiled program input {i}: expected {}{shape:?}, got {}{:?}",
                ty.name(),
                v.ty.name(),
                v.t.size()
            )));
        }
        let t = if v.t.device() == program.device {
            v.t
        } else {
            v.t.f_to_device(program.device).ctx("to_device")?
        };
        vals[*slot] = Some(Val { t, ty: v.ty });
    }
    for (slot, lit) in &program.literals {
        vals[*slot] = Some(Val {
            t: lit.tensor()?,
            ty: lit.ty(),
        });
    }
    let mut frame = Frame { vals };
    frame.block(&program.body)?;
    program
        .outputs
        .iter()
        .map(|&s| frame.get(s).map(Val::share))
        .collect()
}

impl Frame {
    fn get(&self, slot: usize) -> Result<&Val> {
        self.vals
            .get(slot)
            .and_then(Option::as_ref)
            .ok_or_else(|| EngineError::argument(format!("program slot {slot} has no value")))
    }

    fn set(&mut self, slot: usize, v: Val) -> Result<()> {
        match self.vals.get_mut(slot) {
            Some(cell) => {
                *cell = Some(v);
                Ok(())
            }
            None => Err(EngineError::argument(format!(
                "program slot {slot} is out of range"
            ))),
        }
    }

    fn clear(&mut self, slots: &[usize]) {
        for &s in slots {
            if let Some(cell) = self.vals.get_mut(s) {
                *cell = None;
            }
        }
    }

    /// Runs a block's instructions, freeing values after their last reader. The block's
    /// live-out values stay; the caller clears the block's locals when done with them.
    fn block(&mut self, block: &Block) -> Result<()> {
        for (j, instr) in block.instrs.iter().enumerate() {
            let dead = block.free_after.get(j).map(Vec::as_slice).unwrap_or(&[]);
            if profile::enabled() {
                let t0 = std::time::Instant::now();
                self.instr(instr, dead)?;
                profile::record(instr, t0.elapsed());
            } else {
                self.instr(instr, dead)?;
            }
            if let Some(dead) = block.free_after.get(j) {
                self.clear(dead);
            }
        }
        Ok(())
    }

    /// Runs one instruction; `dead` are the slots it reads for the last time.
    fn instr(&mut self, instr: &Instr, dead: &[usize]) -> Result<()> {
        if self.in_place(instr, dead)? {
            return Ok(());
        }
        match &instr.op {
            Op::While(w) => return self.run_while(instr, w),
            Op::Cond(c) => return self.run_cond(instr, c),
            Op::Fused(k) => {
                let inputs = instr
                    .args
                    .iter()
                    .map(|&a| self.get(a).map(|v| (v.t.shallow_clone(), v.ty)))
                    .collect::<Result<Vec<_>>>()?;
                let on_cuda = matches!(inputs.first(), Some((t, _)) if t.device().is_cuda());
                let results = if on_cuda {
                    cuda::run(k, inputs, &instr.outs)?
                } else {
                    fuse::run(k, inputs, &instr.outs)?
                };
                for (out, t) in instr.outs.iter().zip(results) {
                    self.set(out.slot, Val { t, ty: out.ty })?;
                }
                return Ok(());
            }
            _ => {}
        }
        let results = self.compute(instr)?;
        if results.len() != instr.outs.len() {
            return Err(EngineError::argument("program: wrong number of results"));
        }
        for (out, t) in instr.outs.iter().zip(results) {
            self.set(out.slot, Val { t, ty: out.ty })?;
        }
        Ok(())
    }

    /// Runs a float unary or binary operation in place on its first operand, when that
    /// operand dies here, already has the result's type and shape, is contiguous, and nothing
    /// else (another slot, a view, the caller, a literal) shares its memory: the result takes
    /// its buffer instead of a new one. Returns whether it did. Only for types the operation
    /// computes in directly (f32 and f64; f16 and bf16 on CUDA), where LibTorch's in-place
    /// kernel is the one the out-of-place path runs.
    fn in_place(&mut self, instr: &Instr, dead: &[usize]) -> Result<bool> {
        let (Some(out), Some(&s)) = (instr.outs.first(), instr.args.first()) else {
            return Ok(false);
        };
        let Some(kernel) = InPlace::of(&instr.op) else {
            return Ok(false);
        };
        if instr.outs.len() != 1 || !dead.contains(&s) {
            return Ok(false);
        }
        let a = self.get(s)?;
        let cuda = a.t.device().is_cuda();
        let typed = match out.ty {
            NxType::F32 | NxType::F64 => true,
            NxType::F16 | NxType::BF16 => cuda,
            _ => false,
        };
        if !typed
            || a.ty != out.ty
            || a.t.size() != out.shape
            || a.t.numel() < IN_PLACE_MIN
            || !a.t.is_contiguous()
        {
            return Ok(false);
        }
        let other = match instr.args.get(1) {
            Some(&b) if b == s => return Ok(false),
            Some(&b) => {
                let b = self.get(b)?;
                if b.ty != out.ty || b.t.device() != a.t.device() {
                    return Ok(false);
                }
                Some(b.t.shallow_clone())
            }
            None => None,
        };
        let Some(Some(Val { mut t, ty })) = self.vals.get_mut(s).map(Option::take) else {
            return Ok(false);
        };
        if !crate::runtime::is_unique(&t) {
            self.set(s, Val { t, ty })?;
            return Ok(false);
        }
        match (kernel, other) {
            (InPlace::Unary(f), None) => f(&mut t),
            (InPlace::Binary(f), Some(b)) => f(&mut t, &b),
            _ => return Err(EngineError::argument("program: bad in-place operation")),
        }
        .map(drop)
        .ctx("in-place operation")?;
        IN_PLACE_RUNS.with(|c| c.set(c.get() + 1));
        self.set(out.slot, Val { t, ty: out.ty })?;
        Ok(true)
    }

    fn arg(&self, instr: &Instr, i: usize) -> Result<&Val> {
        let slot = *instr
            .args
            .get(i)
            .ok_or_else(|| EngineError::argument("program: missing argument"))?;
        self.get(slot)
    }

    /// Reads a scalar integer argument (a dynamic start index).
    fn scalar_int(&self, instr: &Instr, i: usize) -> Result<i64> {
        let v = self.arg(instr, i)?;
        if v.t.numel() != 1 {
            return Err(EngineError::argument("start indices must be scalars"));
        }
        let (x, _) = to_compute(&v.t, v.ty)?;
        x.f_reshape([1])
            .and_then(|x| x.f_int64_value(&[0]))
            .ctx("slice")
    }

    fn starts(&self, instr: &Instr, first_dyn: usize, starts: &[Option<i64>]) -> Result<Vec<i64>> {
        let mut k = first_dyn;
        starts
            .iter()
            .map(|s| match s {
                Some(v) => Ok(*v),
                None => {
                    k += 1;
                    self.scalar_int(instr, k - 1)
                }
            })
            .collect()
    }

    fn compute(&self, instr: &Instr) -> Result<Vec<Tensor>> {
        let out = instr
            .outs
            .first()
            .ok_or_else(|| EngineError::argument("program: instruction without results"))?;
        let ty = out.ty;
        let a = self.arg(instr, 0)?;
        let one = |t: Tensor| Ok(vec![t]);
        match &instr.op {
            Op::Unary(op) => one(elementwise::unary(*op, &a.handle(), ty)?),
            Op::Binary(op) => {
                let b = self.arg(instr, 1)?;
                one(elementwise::binary(*op, &a.handle(), &b.handle(), ty)?)
            }
            Op::Select => {
                let (t, f) = (self.arg(instr, 1)?, self.arg(instr, 2)?);
                one(elementwise::select(
                    &a.handle(),
                    &t.handle(),
                    &f.handle(),
                    ty,
                    &out.shape,
                )?)
            }
            Op::Clip => {
                let (lo, hi) = (self.arg(instr, 1)?, self.arg(instr, 2)?);
                one(elementwise::clip(
                    &a.handle(),
                    &lo.handle(),
                    &hi.handle(),
                    ty,
                )?)
            }
            Op::AsType => one(convert::cast(&a.t, a.ty, ty)?),
            Op::Bitcast => one(convert::bitcast(&a.t, a.ty, ty)?),
            Op::Reshape => one(shape::reshape(&a.t, &out.shape)?),
            Op::Broadcast { axes } => one(shape::broadcast(&a.t, &out.shape, axes)?),
            Op::Transpose { axes } => one(shape::transpose(&a.t, axes)?),
            Op::Reduce { op, axes, keep } => one(reduce::reduce(&a.t, a.ty, *op, axes, *keep, ty)?),
            Op::ArgReduce {
                max,
                axis,
                keep,
                tie_high,
            } => one(reduce::arg_reduce(
                &a.t, a.ty, *max, *axis, *keep, *tie_high, ty,
            )?),
            Op::Dot {
                contract_a,
                batch_a,
                contract_b,
                batch_b,
            } => {
                let b = self.arg(instr, 1)?;
                one(contract::dot(
                    &a.t, a.ty, contract_a, batch_a, &b.t, b.ty, contract_b, batch_b, ty,
                )?)
            }
            Op::DotUpdate {
                contract_a,
                contract_b,
            } => {
                // args [w, a, b, c]: `a` here is the first of them, `w`
                let (m1, m2) = (self.arg(instr, 1)?, self.arg(instr, 2)?);
                let c = self.arg(instr, 3)?;
                let scale = crate::program::fuse::scalar_value(&c.t, c.ty)? as f64;
                one(contract::dot_update(
                    &a.t,
                    &m1.t,
                    *contract_a,
                    &m2.t,
                    *contract_b,
                    scale,
                )?)
            }
            Op::Slice {
                starts,
                lengths,
                strides,
            } => {
                let starts = clamp_starts(&a.t.size(), self.starts(instr, 1, starts)?, lengths)?;
                one(index::slice(&a.t, &starts, lengths, strides)?)
            }
            Op::PutSlice { starts } => {
                let u = self.arg(instr, 1)?;
                let starts =
                    clamp_starts(&a.t.size(), self.starts(instr, 2, starts)?, &u.t.size())?;
                one(index::put_slice(&a.t, a.ty, &starts, &u.t, u.ty, ty)?)
            }
            Op::Pad { config } => {
                let v = self.arg(instr, 1)?;
                one(shape::pad(&a.t, a.ty, &v.t, v.ty, config, ty)?)
            }
            Op::Reverse { axes } => one(shape::reverse(&a.t, a.ty, axes)?),
            Op::Concatenate { axis } | Op::Stack { axis } => {
                let inputs = instr
                    .args
                    .iter()
                    .map(|&s| self.get(s).map(|v| (v.t.shallow_clone(), v.ty)))
                    .collect::<Result<Vec<_>>>()?;
                if matches!(instr.op, Op::Stack { .. }) {
                    one(shape::stack(&inputs, *axis, ty)?)
                } else {
                    one(shape::concatenate(&inputs, *axis, ty)?)
                }
            }
            Op::Gather { axes } => {
                let i = self.arg(instr, 1)?;
                one(index::gather(&a.t, a.ty, &i.t, i.ty, axes)?)
            }
            Op::Take { axis } => {
                let i = self.arg(instr, 1)?;
                one(index::take(&a.t, a.ty, &i.t, i.ty, *axis)?)
            }
            Op::TakeAlongAxis { axis } => {
                let i = self.arg(instr, 1)?;
                one(index::take_along_axis(&a.t, a.ty, &i.t, i.ty, *axis)?)
            }
            Op::Indexed { accumulate, axes } => {
                let (i, u) = (self.arg(instr, 1)?, self.arg(instr, 2)?);
                one(index::indexed(
                    &a.t,
                    a.ty,
                    &i.t,
                    i.ty,
                    &u.t,
                    u.ty,
                    axes,
                    *accumulate,
                    ty,
                )?)
            }
            Op::Sort {
                axis,
                descending,
                stable,
            } => one(order::sort(&a.t, a.ty, *axis, *descending, *stable)?),
            Op::Argsort {
                axis,
                descending,
                stable,
            } => one(order::argsort(&a.t, a.ty, *axis, *descending, *stable, ty)?),
            Op::TopK { k } => {
                let idx_ty = instr.outs.get(1).map(|o| o.ty).unwrap_or(NxType::S64);
                let (v, i) = order::top_k(&a.t, a.ty, *k, idx_ty)?;
                Ok(vec![v, i])
            }
            Op::Cumulative { op, axis, reverse } => {
                one(scan::cumulative(&a.t, a.ty, *op, *axis, *reverse, ty)?)
            }
            Op::While(_) | Op::Cond(_) | Op::Fused(_) => Err(EngineError::argument(
                "program: unexpected nested operation",
            )),
        }
    }

    fn truthy(&self, slot: usize) -> Result<bool> {
        let v = self.get(slot)?;
        if v.t.numel() != 1 {
            return Err(EngineError::argument("predicates must be scalars"));
        }
        let (x, _) = to_compute(&v.t, v.ty)?;
        x.f_ne(0)
            .and_then(|b| b.f_reshape([1]))
            .and_then(|b| b.f_int64_value(&[0]))
            .map(|b| b != 0)
            .ctx("predicate")
    }

    fn run_while(&mut self, instr: &Instr, w: &WhileOp) -> Result<()> {
        for (s, a) in w.state.iter().zip(&instr.args) {
            let v = self.get(*a)?.share();
            self.set(*s, v)?;
        }
        loop {
            self.block(&w.cond)?;
            let go = self.truthy(w.pred)?;
            if !go {
                self.clear(&w.cond.locals);
                break;
            }
            self.block(&w.body)?;
            let next = w
                .body_outs
                .iter()
                .map(|&s| self.get(s).map(Val::share))
                .collect::<Result<Vec<_>>>()?;
            self.clear(&w.body.locals);
            self.clear(&w.cond.locals);
            for (s, v) in w.state.iter().zip(next) {
                self.set(*s, v)?;
            }
        }
        for (out, s) in instr.outs.iter().zip(&w.state) {
            let v = self.get(*s)?.share();
            self.set(out.slot, v)?;
        }
        self.clear(&w.state);
        Ok(())
    }

    fn run_cond(&mut self, instr: &Instr, c: &CondOp) -> Result<()> {
        let mut chosen = &c.last;
        for (pred, clause) in instr.args.iter().zip(&c.clauses) {
            if self.truthy(*pred)? {
                chosen = clause;
                break;
            }
        }
        let (block, outs) = chosen;
        self.block(block)?;
        let results = outs
            .iter()
            .map(|&s| self.get(s).map(Val::share))
            .collect::<Result<Vec<_>>>()?;
        self.clear(&block.locals);
        for (out, v) in instr.outs.iter().zip(results) {
            self.set(out.slot, v)?;
        }
        Ok(())
    }
}

/// Opt-in timing of every instruction (`NX_TORCH_PROFILE=1`): one line per instruction on
/// standard error, for finding where a compiled program spends its time.
mod profile {
    use super::{Instr, Op};
    use once_cell::sync::Lazy;

    static ON: Lazy<bool> = Lazy::new(|| std::env::var_os("NX_TORCH_PROFILE").is_some());

    pub fn enabled() -> bool {
        *ON
    }

    pub fn record(instr: &Instr, took: std::time::Duration) {
        let name = match &instr.op {
            Op::Unary(op) => format!("unary {op:?}"),
            Op::Binary(op) => format!("binary {op:?}"),
            Op::Fused(k) => format!("fused[{} ops]", k.ops.len()),
            Op::Dot { .. } => "dot".into(),
            Op::DotUpdate { .. } => "dot update".into(),
            Op::Reduce { op, .. } => format!("reduce {op:?}"),
            Op::Broadcast { .. } => "broadcast".into(),
            Op::Transpose { .. } => "transpose".into(),
            Op::Reshape => "reshape".into(),
            Op::AsType => "as_type".into(),
            Op::Select => "select".into(),
            Op::While(_) => "while".into(),
            Op::Cond(_) => "cond".into(),
            _ => "other".into(),
        };
        let shape = instr
            .outs
            .first()
            .map(|o| o.shape.clone())
            .unwrap_or_default();
        eprintln!(
            "nx_torch profile: {:>9.1} us  {name} -> {shape:?}  args {:?}",
            took.as_secs_f64() * 1e6,
            instr.args
        );
    }
}

/// Clamps start indices so that a window of `lengths` fits, as Nx does.
fn clamp_starts(shape: &[i64], starts: Vec<i64>, lengths: &[i64]) -> Result<Vec<i64>> {
    if starts.len() != shape.len() || lengths.len() != shape.len() {
        return Err(EngineError::argument(format!(
            "slice: {} start indices for shape {shape:?}",
            starts.len()
        )));
    }
    Ok(starts
        .iter()
        .zip(shape.iter().zip(lengths))
        .map(|(&s, (&d, &l))| s.max(0).min((d - l).max(0)))
        .collect())
}

/// Runs programs on one long-lived OS thread when it is free.
///
/// LibTorch (through OpenMP) gives every OS thread that starts a parallel region its own team
/// of worker threads, which spin for a while after each region; programs run from whichever
/// dirty scheduler picks them up would wake several teams whose spinning workers compete for
/// the same cores. Running them on one thread keeps one team. When that thread is busy (a
/// concurrent or a very long program), the caller runs its program itself rather than wait, so
/// one program that never ends cannot hold up the others.
mod executor {
    use super::{run, Program, Val};
    use crate::error::{EngineError, Result};
    use parking_lot::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc;

    static BUSY: AtomicBool = AtomicBool::new(false);

    type Job = Box<dyn FnOnce() + Send>;

    static SENDER: once_cell::sync::Lazy<Mutex<Option<mpsc::Sender<Job>>>> =
        once_cell::sync::Lazy::new(|| Mutex::new(None));

    fn sender() -> Result<mpsc::Sender<Job>> {
        let mut guard = SENDER.lock();
        if let Some(tx) = guard.as_ref() {
            return Ok(tx.clone());
        }
        let threads = crate::runtime::num_threads();
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("nx_torch_program".into())
            .spawn(move || {
                if threads > 0 {
                    crate::runtime::set_num_threads(threads);
                }
                for job in rx {
                    job();
                }
            })
            .map_err(|e| EngineError::argument(format!("cannot start the program thread: {e}")))?;
        *guard = Some(tx.clone());
        Ok(tx)
    }

    /// Runs `program` on the executor thread and waits for the result.
    pub fn run_there<P>(program: P, inputs: Vec<Val>) -> Result<Vec<Val>>
    where
        P: std::ops::Deref<Target = Program> + Send + 'static,
    {
        if BUSY
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return run(&program, inputs);
        }
        let (done_tx, done_rx) = mpsc::sync_channel::<Result<Vec<Val>>>(1);
        let job: Job = Box::new(move || {
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&program, inputs)))
                    .unwrap_or_else(|_| Err(EngineError::argument("a compiled program panicked")));
            BUSY.store(false, Ordering::Release);
            let _ = done_tx.send(result);
        });
        let sent = sender().and_then(|tx| {
            tx.send(job).map_err(|_| {
                // the thread is gone (it cannot panic, but be safe): the next call starts another
                *SENDER.lock() = None;
                EngineError::argument("the program thread is not running")
            })
        });
        if let Err(e) = sent {
            BUSY.store(false, Ordering::Release);
            return Err(e);
        }
        done_rx
            .recv()
            .unwrap_or_else(|_| Err(EngineError::argument("the program thread stopped")))
    }
}

pub use executor::run_there;
