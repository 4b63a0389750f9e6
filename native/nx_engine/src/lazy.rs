//! Deferred element-wise work of eager operations.
//!
//! An eager element-wise operation on large f32 CPU tensors (see [`LAZY_MIN`]) does not run at
//! once: it returns a handle whose values are an expression over concrete tensors, and later
//! operations extend that expression. The first operation that needs the values (any other
//! operation, a read, [`NxTensor::materialize`]) computes them with one fused kernel of
//! [`crate::program::fuse`], block by block, so the intermediates of `exp(x - m) / s` never go
//! through memory. Reductions of the last axis (sum, max, min) join the expression as row
//! reductions, which is what makes an eager softmax one pass over its rows.
//!
//! Tensors are immutable, so deferring is invisible except in time: the values are those of
//! the fused kernels (exact for arithmetic; `exp`, `tanh` and `sigmoid` within their stated
//! error). Bounds keep it so: an expression holds at most [`MAX_NODES`] operations and
//! [`MAX_LEAVES`] tensors, and its estimated time on one core is at most [`MAX_COMPUTE_NS`]
//! (beyond those, operands are computed first, on a dirty scheduler), so computing one never
//! holds whichever scheduler reads it first for long.
//! `NX_TORCH_LAZY=0` turns deferral off.
use crate::error::{EngineError, Result};
use crate::ops::elementwise::{broadcast_shapes, BinaryOp, UnaryOp};
use crate::ops::reduce::Reduction;
use crate::program::fuse::{
    self, binary_fop, exact_in_f32, layout, numel, row_fop, row_shape, unary_fop, Kernel, Loc,
    MicroOp, Registers,
};
use crate::program::kernels::FOp;
use crate::program::Out;
use crate::tensor::{NxTensor, Operand};
use crate::types::NxType;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use tch::{Device, Tensor};

/// Results with fewer elements run at once (the same bound as the dirty-scheduler threshold of
/// the Elixir layer, so deferred work is created on dirty schedulers).
pub const LAZY_MIN: usize = 65_536;
/// Results with more elements run at once.
pub const LAZY_MAX: usize = 1 << 22;
/// Operations in one expression.
pub const MAX_NODES: usize = 24;
/// Distinct tensors one expression reads.
pub const MAX_LEAVES: usize = 6;
/// Estimated single-core time of computing one expression, at most (ns): 3 ms by the kernels'
/// own estimate, which is above what they take with AVX-512 (an eager softmax over 1M
/// elements is estimated at 1 ms and took 0.6 ms on one core; W2's chain over 1M elements
/// is estimated at 2 ms), and split across cores when computed.
pub const MAX_COMPUTE_NS: f64 = 3.0e6;
/// Rows that a reduction may defer: at least this long...
const ROW_MIN: usize = 16;
/// ...and at most this long (a block holds at least one whole row).
const ROW_MAX: usize = 16_384;

fn enabled() -> bool {
    static ON: once_cell::sync::Lazy<bool> =
        once_cell::sync::Lazy::new(|| std::env::var("NX_TORCH_LAZY").as_deref() != Ok("0"));
    *ON
}

pub enum Node {
    /// A concrete CPU tensor of a type f32 holds exactly, read with its broadcast layout.
    Leaf {
        tensor: Mutex<Tensor>,
        ty: NxType,
        shape: Vec<i64>,
    },
    Scalar(f32),
    /// An element-wise operation; `row` when it computes one value per row.
    Map {
        op: FOp,
        args: Vec<Arc<Node>>,
        row: bool,
    },
    /// A reduction of each row of its (element-wise) argument.
    Reduce {
        op: FOp,
        arg: Arc<Node>,
    },
}

impl Node {
    fn leaf(tensor: Tensor, ty: NxType, shape: &[i64]) -> Arc<Node> {
        Arc::new(Node::Leaf {
            tensor: Mutex::new(tensor),
            ty,
            shape: shape.to_vec(),
        })
    }

    fn is_row(&self) -> bool {
        matches!(self, Node::Reduce { .. } | Node::Map { row: true, .. })
    }

    fn args(&self) -> &[Arc<Node>] {
        match self {
            Node::Map { args, .. } => args,
            Node::Reduce { arg, .. } => std::slice::from_ref(arg),
            _ => &[],
        }
    }
}

/// The deferred values of a tensor: `node` computed over the element grid `family` (the
/// shape of the operations' operands), one value per element, or per row when `node` is a
/// row node.
#[derive(Clone)]
pub struct Lazy {
    pub node: Arc<Node>,
    pub family: Vec<i64>,
}

/// What computing an expression costs: its distinct operations and leaves, and the estimated
/// time per element on one core (the fused kernels' own estimate, [`Kernel::ns_per_element`]).
struct Cost {
    ops: usize,
    leaves: usize,
    ns_per_element: f64,
}

impl Cost {
    /// Whether an expression of this cost over `n` elements stays deferred: within the
    /// operation and tensor budgets, and computed in at most [`MAX_COMPUTE_NS`] on one core,
    /// so that whichever scheduler reads it first is never held long.
    fn fits(&self, n: usize) -> bool {
        self.ops < MAX_NODES
            && self.leaves <= MAX_LEAVES
            && self.ns_per_element * n as f64 <= MAX_COMPUTE_NS
    }
}

/// The cost of the expressions under `roots` with one more operation `extra` on top.
fn cost(roots: &[&Arc<Node>], extra: FOp) -> Cost {
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<&Arc<Node>> = roots.to_vec();
    let mut c = Cost {
        ops: 0,
        leaves: 0,
        ns_per_element: extra.ns_per_element() + 0.1,
    };
    while let Some(n) = stack.pop() {
        if !seen.insert(Arc::as_ptr(n)) {
            continue;
        }
        match &**n {
            Node::Leaf { .. } => {
                c.leaves += 1;
                c.ns_per_element += 0.1;
            }
            Node::Scalar(_) => {}
            Node::Map { op, .. } | Node::Reduce { op, .. } => {
                c.ops += 1;
                c.ns_per_element += op.ns_per_element();
            }
        }
        stack.extend(n.args());
    }
    c
}

/// How an operand takes part in an operation whose result has shape `out`.
enum Arg {
    /// One value per element of `out` (a deferred element-wise value of that shape, or a
    /// concrete tensor broadcast to it).
    Elem(Arc<Node>, Option<Vec<i64>>),
    /// One value per row of the family: a deferred row value.
    Row(Arc<Node>, Vec<i64>),
    Scalar(f32),
}

/// The operand `t` of an operation whose result has shape `out`, deferred values taken as
/// they are (`force` computes them first, and so may `may_compute` where they do not fit).
/// `None`: the operation runs at once.
fn arg(t: &NxTensor, out: &[i64], force: bool, may_compute: bool) -> Result<Option<Arg>> {
    if t.device() != Device::Cpu {
        return Ok(None);
    }
    let operand = if force {
        Operand::Ready(t.tensor()?)
    } else {
        t.operand()?
    };
    Ok(match operand {
        Operand::Pending(l) if !l.node.is_row() && t.shape() == out => {
            Some(Arg::Elem(l.node, Some(l.family)))
        }
        Operand::Pending(l) if l.node.is_row() => {
            let keeps_axis = t.shape() == row_shape(&l.family).as_slice();
            if keeps_axis && (out == l.family.as_slice() || out == t.shape()) {
                Some(Arg::Row(l.node, l.family))
            } else if may_compute {
                return arg(t, out, true, true);
            } else {
                None
            }
        }
        Operand::Pending(_) if may_compute => return arg(t, out, true, true),
        Operand::Pending(_) => None,
        Operand::Ready(tensor) => {
            let ty = t.ty();
            if t.numel() == 1 && !ty.is_complex() {
                Some(Arg::Scalar(fuse::scalar_value(&tensor, ty)?))
            } else if exact_in_f32(ty) && layout(t.shape(), out).is_some() {
                Some(Arg::Elem(Node::leaf(tensor, ty, t.shape()), None))
            } else {
                None
            }
        }
    })
}

/// Builds the deferred result of `op` over `inputs` with result shape `out`, or `None` when
/// the operation must run at once. Without `may_compute`, no deferred operand is computed
/// (`None` where one would have to be): quick enough for a normal scheduler.
fn defer(
    op: FOp,
    inputs: &[&NxTensor],
    out: &[i64],
    may_compute: bool,
) -> Result<Option<NxTensor>> {
    let attempts: &[bool] = if may_compute {
        &[false, true]
    } else {
        &[false]
    };
    for &force in attempts {
        let mut args = Vec::with_capacity(inputs.len());
        for t in inputs {
            match arg(t, out, force, may_compute)? {
                Some(a) => args.push(a),
                None => return Ok(None),
            }
        }
        // a row operation: its result is one value per row (operands: row values, scalars)
        let row_family = args.iter().find_map(|a| match a {
            Arg::Row(_, f) if out != f.as_slice() => Some(f.clone()),
            _ => None,
        });
        let family = match &row_family {
            Some(f) => f.clone(),
            None => out.to_vec(),
        };
        let n = numel(&family);
        if !(LAZY_MIN..=LAZY_MAX).contains(&n) {
            return Ok(None);
        }
        let consistent = args.iter().all(|a| match a {
            Arg::Elem(_, f) => row_family.is_none() && f.as_ref().is_none_or(|f| *f == family),
            Arg::Row(_, f) => *f == family,
            Arg::Scalar(_) => true,
        });
        if !consistent {
            if force {
                return Ok(None);
            }
            continue;
        }
        let nodes: Vec<Arc<Node>> = args
            .into_iter()
            .map(|a| match a {
                Arg::Elem(n, _) | Arg::Row(n, _) => n,
                Arg::Scalar(v) => Arc::new(Node::Scalar(v)),
            })
            .collect();
        if cost(&nodes.iter().collect::<Vec<_>>(), op).fits(n) {
            let node = Node::Map {
                op,
                args: nodes,
                row: row_family.is_some(),
            };
            let lazy = Lazy {
                node: Arc::new(node),
                family,
            };
            return Ok(Some(NxTensor::pending(lazy, out.to_vec())));
        }
    }
    Ok(None)
}

/// The deferred result of an eager binary operation, when it can be deferred (see [`defer`]
/// for `may_compute`).
pub fn binary(
    op: BinaryOp,
    a: &NxTensor,
    b: &NxTensor,
    out: NxType,
    may_compute: bool,
) -> Result<Option<NxTensor>> {
    // cheap checks first: this runs before every eager binary operation (comparisons, whose
    // results are u8, are never deferred)
    let Some(fop) = binary_fop(op) else {
        return Ok(None);
    };
    if out != NxType::F32 || numel(a.shape()).max(numel(b.shape())) < ROW_MIN || !enabled() {
        return Ok(None);
    }
    let Ok(shape) = broadcast_shapes(op.name(), a.shape(), b.shape()) else {
        return Ok(None);
    };
    defer(fop, &[a, b], &shape, may_compute)
}

/// The deferred result of an eager unary operation, when it can be deferred (see [`defer`]
/// for `may_compute`).
pub fn unary(
    op: UnaryOp,
    t: &NxTensor,
    out: NxType,
    may_compute: bool,
) -> Result<Option<NxTensor>> {
    let Some(fop) = unary_fop(op) else {
        return Ok(None);
    };
    if out != NxType::F32 || numel(t.shape()) < ROW_MIN || !enabled() {
        return Ok(None);
    }
    defer(fop, &[t], t.shape(), may_compute)
}

/// The deferred result of a sum, maximum or minimum over the last axis of an f32 tensor
/// (never computes deferred operands: quick enough for a normal scheduler).
pub fn reduce(
    op: Reduction,
    t: &NxTensor,
    axes: &[i64],
    keep_axes: bool,
    out: NxType,
) -> Result<Option<NxTensor>> {
    let Some(fop) = row_fop(op) else {
        return Ok(None);
    };
    let shape = t.shape();
    let last = shape.len() as i64 - 1;
    let row_len = shape.last().map_or(0, |&d| d.max(0) as usize);
    let ok = enabled()
        && out == NxType::F32
        && t.ty() == NxType::F32
        && t.device() == Device::Cpu
        && axes == [last]
        && (ROW_MIN..=ROW_MAX).contains(&row_len)
        && (LAZY_MIN..=LAZY_MAX).contains(&numel(shape));
    if !ok {
        return Ok(None);
    }
    let node = match t.operand()? {
        Operand::Pending(l) if !l.node.is_row() => l.node,
        Operand::Pending(_) => return Ok(None),
        Operand::Ready(tensor) => Node::leaf(tensor, NxType::F32, shape),
    };
    if !cost(&[&node], fop).fits(numel(shape)) {
        return Ok(None);
    }
    let result = if keep_axes {
        row_shape(shape)
    } else {
        shape[..shape.len() - 1].to_vec()
    };
    let lazy = Lazy {
        node: Arc::new(Node::Reduce { op: fop, arg: node }),
        family: shape.to_vec(),
    };
    Ok(Some(NxTensor::pending(lazy, result)))
}

/// Computes deferred values as a tensor of shape `shape` (one fused kernel).
pub fn compute(lazy: &Lazy, shape: &[i64]) -> Result<Tensor> {
    // operations in an order where arguments come first, each once
    let mut order: Vec<&Arc<Node>> = Vec::new();
    let mut index: HashMap<*const Node, usize> = HashMap::new();
    let mut stack: Vec<(&Arc<Node>, bool)> = vec![(&lazy.node, false)];
    while let Some((n, expanded)) = stack.pop() {
        let key = Arc::as_ptr(n);
        if index.contains_key(&key) {
            continue;
        }
        if expanded {
            index.insert(key, order.len());
            order.push(n);
        } else {
            stack.push((n, true));
            for a in n.args().iter().rev() {
                if !index.contains_key(&Arc::as_ptr(a)) {
                    stack.push((a, false));
                }
            }
        }
    }
    // the last read of each value, to reuse registers
    let mut last_use: HashMap<*const Node, usize> = HashMap::new();
    for (k, n) in order.iter().enumerate() {
        for a in n.args() {
            last_use.insert(Arc::as_ptr(a), k);
        }
    }
    let family = &lazy.family;
    let mut ins: Vec<Tensor> = Vec::new();
    let (mut full_types, mut periods, mut repeats) = (Vec::new(), Vec::new(), Vec::new());
    let mut scalars: Vec<f32> = Vec::new();
    let mut loc: HashMap<*const Node, Loc> = HashMap::new();
    let mut regs = Registers::default();
    let mut ops = Vec::new();
    let mut has_rows = false;
    for (k, n) in order.iter().enumerate() {
        let key = Arc::as_ptr(n);
        let (op, args) = match &***n {
            Node::Leaf { tensor, ty, shape } => {
                let (period, repeat) = layout(shape, family)
                    .ok_or_else(|| EngineError::argument("deferred: bad operand layout"))?;
                let t = crate::ops::contiguous(tensor.lock().shallow_clone())?;
                loc.insert(key, Loc::In(ins.len()));
                ins.push(t);
                full_types.push(*ty);
                periods.push(period);
                repeats.push(repeat);
                continue;
            }
            Node::Scalar(v) => {
                loc.insert(key, Loc::Scalar(scalars.len()));
                scalars.push(*v);
                continue;
            }
            Node::Map { op, args, .. } => (*op, args.as_slice()),
            Node::Reduce { op, arg } => {
                has_rows = true;
                (*op, std::slice::from_ref(arg))
            }
        };
        let src: Vec<Loc> = args
            .iter()
            .map(|a| loc.get(&Arc::as_ptr(a)).copied())
            .collect::<Option<_>>()
            .ok_or_else(|| EngineError::argument("deferred: operand out of order"))?;
        let row = n.is_row();
        let dst = if k + 1 == order.len() {
            if row {
                Loc::RowOut(0)
            } else {
                Loc::Out(0)
            }
        } else {
            regs.take(row)
        };
        let (a, b, c) = (
            src[0],
            src.get(1).copied().unwrap_or(src[0]),
            src.get(2).copied().unwrap_or(src[0]),
        );
        ops.push(MicroOp { op, a, b, c, dst });
        loc.insert(key, dst);
        // registers whose value is read for the last time here
        for a in args {
            if last_use.get(&Arc::as_ptr(a)) == Some(&k) {
                if let Some(&l) = loc.get(&Arc::as_ptr(a)) {
                    regs.release(l);
                }
            }
        }
    }
    let row_len = if has_rows {
        family.last().map_or(0, |&d| d.max(0) as usize)
    } else {
        0
    };
    fuse::peephole(&mut ops);
    let kernel = Kernel {
        numel: numel(family),
        n_full: ins.len(),
        full_types,
        periods,
        repeats,
        scalar_types: vec![NxType::F32; scalars.len()],
        ops,
        n_regs: regs.n_regs,
        row_len,
        n_row_regs: regs.n_row_regs,
    };
    let out = Out {
        slot: 0,
        ty: NxType::F32,
        shape: shape.to_vec(),
    };
    let mut results = fuse::execute(&kernel, ins, &scalars, std::slice::from_ref(&out))?;
    results
        .pop()
        .ok_or_else(|| EngineError::argument("deferred: no result"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32s(t: &Tensor) -> Vec<f32> {
        let t = t.f_contiguous().unwrap().f_view([-1]).unwrap();
        Vec::<f32>::try_from(&t).unwrap()
    }

    /// The steps of an eager softmax over the rows of `xt`: the maxima, the sums and the result.
    pub(super) fn softmax(xt: &NxTensor) -> (NxTensor, NxTensor, NxTensor) {
        let f32 = NxType::F32;
        let m = reduce(Reduction::Max, xt, &[1], true, f32)
            .unwrap()
            .unwrap();
        let d = binary(BinaryOp::Subtract, xt, &m, f32, true)
            .unwrap()
            .unwrap();
        let e = unary(UnaryOp::Exp, &d, f32, true).unwrap().unwrap();
        let s = reduce(Reduction::Sum, &e, &[1], true, f32)
            .unwrap()
            .unwrap();
        let p = binary(BinaryOp::Divide, &e, &s, f32, true)
            .unwrap()
            .unwrap();
        (m, s, p)
    }

    /// A deferred softmax over rows against LibTorch's own `softmax`, and what defers.
    #[test]
    fn deferred_softmax_matches_libtorch() {
        let x = Tensor::f_randn([64, 1024], (tch::Kind::Float, Device::Cpu)).unwrap();
        let xt = NxTensor::new(x.shallow_clone(), NxType::F32);
        let (m, s, p) = softmax(&xt);
        assert!(p.is_pending() && s.is_pending() && m.is_pending());
        assert_eq!(s.shape(), &[64, 1]);
        let got = f32s(&p.tensor().unwrap());
        let want = f32s(&x.f_softmax(1, tch::Kind::Float).unwrap());
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-6 * w.abs() + 1e-9, "{g} vs {w}");
        }
        assert!(!p.is_pending());
        // the row maxima, computed on their own
        let maxima = f32s(&m.tensor().unwrap());
        let want = f32s(&x.f_amax([1], true).unwrap());
        assert_eq!(maxima, want);
        // not deferred: another axis, an integer result, a small tensor
        assert!(reduce(Reduction::Sum, &xt, &[0], true, NxType::F32)
            .unwrap()
            .is_none());
        assert!(binary(BinaryOp::Add, &xt, &xt, NxType::S32, true)
            .unwrap()
            .is_none());
        let small = NxTensor::new(Tensor::from_slice(&[1.0f32, 2.0]), NxType::F32);
        assert!(unary(UnaryOp::Exp, &small, NxType::F32, true)
            .unwrap()
            .is_none());
    }
}

#[cfg(test)]
mod speed {
    //! Medians of deferred kernels on 1024x1024 f32 (`--ignored --nocapture`).
    use super::*;

    #[test]
    #[ignore]
    fn lazy_speed() {
        crate::split::start();
        let x = Tensor::f_rand([1024, 1024], (tch::Kind::Float, Device::Cpu)).unwrap();
        let xt = NxTensor::new(x, NxType::F32);
        let one = NxTensor::new(Tensor::from(1.0f32), NxType::F32);
        let f32 = NxType::F32;
        let time = |name: &str, f: &dyn Fn() -> NxTensor| {
            let mut v: Vec<f64> = (0..300)
                .map(|_| {
                    let t = std::time::Instant::now();
                    f().materialize().unwrap();
                    t.elapsed().as_secs_f64() * 1e6
                })
                .collect();
            v.sort_by(|a, b| a.total_cmp(b));
            println!("{name}: {:.0} us (min {:.0})", v[150], v[0]);
        };
        time("x + 1", &|| {
            binary(BinaryOp::Add, &xt, &one, f32, true)
                .unwrap()
                .unwrap()
        });
        time("exp", &|| {
            unary(UnaryOp::Exp, &xt, f32, true).unwrap().unwrap()
        });
        time("row max", &|| {
            reduce(Reduction::Max, &xt, &[1], true, f32)
                .unwrap()
                .unwrap()
        });
        time("row sum", &|| {
            reduce(Reduction::Sum, &xt, &[1], true, f32)
                .unwrap()
                .unwrap()
        });
        time("softmax", &|| super::tests::softmax(&xt).2);
        println!("split width {}", crate::split::width());
    }
}
