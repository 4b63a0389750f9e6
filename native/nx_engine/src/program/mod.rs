//! Compiled programs: the engine side of the `Nx.Torch` defn compiler.
//!
//! The Elixir side lowers a traced `defn` graph into an instruction list over numbered value
//! slots (each slot written once). [`build::build`] checks it, fuses chains of element-wise
//! f32 operations into [`fuse::Kernel`]s and plans when each intermediate dies; the result is
//! a [`Program`] kept as a resource. [`exec::run`] then runs the whole program — `while`,
//! `cond` and all — in one call, using the engine's own operation functions (which implement
//! Nx's semantics for every type) for every instruction that is not fused.
//!
//! - [`build`] — validation, fusion planning, liveness.
//! - [`exec`] — the interpreter.
//! - [`fuse`] — fused element-wise groups: planning and the cache-blocked, multi-threaded
//!   executor.
//! - [`kernels`] — the vectorized f32 math those groups run.
//! - [`cuda`] — the same groups on CUDA: generated CUDA C compiled by NVRTC.
//! - [`interp`] — a group run with LibTorch's operations (CUDA's fallback and reference).
pub mod build;
pub mod cuda;
#[cfg(test)]
mod cuda_tests;
pub mod exec;
pub mod fuse;
pub mod interp;
pub mod kernels;
#[cfg(test)]
mod tests;

use crate::ops::elementwise::{BinaryOp, UnaryOp};
use crate::ops::reduce::Reduction;
use crate::ops::scan::Scan;
use crate::tensor::NxTensor;
use crate::types::NxType;
use tch::Device;

/// One operation. Types and shapes of the results are in [`Instr::outs`].
pub enum Op {
    Unary(UnaryOp),
    Binary(BinaryOp),
    /// args: pred, on_true, on_false
    Select,
    /// args: tensor, min, max
    Clip,
    AsType,
    Bitcast,
    Reshape,
    Broadcast {
        axes: Vec<i64>,
    },
    Transpose {
        axes: Vec<i64>,
    },
    Reduce {
        op: Reduction,
        axes: Vec<i64>,
        keep: bool,
    },
    ArgReduce {
        max: bool,
        axis: Option<i64>,
        keep: bool,
        tie_high: bool,
    },
    /// args: a, b
    Dot {
        contract_a: Vec<i64>,
        batch_a: Vec<i64>,
        contract_b: Vec<i64>,
        batch_b: Vec<i64>,
    },
    /// args: tensor, then one scalar per `None` start (read and clamped at run time)
    Slice {
        starts: Vec<Option<i64>>,
        lengths: Vec<i64>,
        strides: Vec<i64>,
    },
    /// args: tensor, update, then one scalar per `None` start
    PutSlice {
        starts: Vec<Option<i64>>,
    },
    /// args: tensor, pad value
    Pad {
        config: Vec<(i64, i64, i64)>,
    },
    Reverse {
        axes: Vec<i64>,
    },
    Concatenate {
        axis: i64,
    },
    Stack {
        axis: i64,
    },
    /// args: tensor, indices
    Gather {
        axes: Vec<i64>,
    },
    Take {
        axis: i64,
    },
    TakeAlongAxis {
        axis: i64,
    },
    /// args: target, indices, updates
    Indexed {
        accumulate: bool,
        axes: Vec<i64>,
    },
    Sort {
        axis: i64,
        descending: bool,
        stable: bool,
    },
    Argsort {
        axis: i64,
        descending: bool,
        stable: bool,
    },
    /// outs: values, indices
    TopK {
        k: i64,
    },
    Cumulative {
        op: Scan,
        axis: i64,
        reverse: bool,
    },
    /// args: the initial state; outs: the final state
    While(Box<WhileOp>),
    /// args: the predicates, one per clause
    Cond(Box<CondOp>),
    /// args: the kernel's inputs; outs: its outputs (built by fusion, never decoded)
    Fused(Box<fuse::Kernel>),
    /// args: w, a, b, c (a single element): `w - dot(a, b) * c` for f32 matrices, contracting
    /// axis `contract_a` of `a` with axis `contract_b` of `b`, as one GEMM onto `w` (built from
    /// that pattern, never decoded: SGD updates of weights whose gradient is a product)
    DotUpdate {
        contract_a: i64,
        contract_b: i64,
    },
}

/// A result slot with its type and shape.
#[derive(Clone, Debug)]
pub struct Out {
    pub slot: usize,
    pub ty: NxType,
    pub shape: Vec<i64>,
}

pub struct Instr {
    pub op: Op,
    pub args: Vec<usize>,
    pub outs: Vec<Out>,
}

/// A sequence of instructions with, after each, the slots that die there.
pub struct Block {
    pub instrs: Vec<Instr>,
    pub(crate) free_after: Vec<Vec<usize>>,
    /// Slots this block defines (freed, at the latest, when it ends).
    pub(crate) locals: Vec<usize>,
}

impl Block {
    pub fn new(instrs: Vec<Instr>) -> Block {
        Block {
            instrs,
            free_after: Vec::new(),
            locals: Vec::new(),
        }
    }
}

/// `while`: runs `cond` (which leaves the predicate in `pred`), and while it is not zero runs
/// `body` and moves `body_outs` into `state`. `cond` and `body` read the state slots.
pub struct WhileOp {
    pub state: Vec<usize>,
    pub cond: Block,
    pub pred: usize,
    pub body: Block,
    pub body_outs: Vec<usize>,
}

/// `cond`: the first clause whose predicate (the instruction's args, in order) is not zero
/// runs its block and gives its outs; otherwise `last` does.
pub struct CondOp {
    pub clauses: Vec<(Block, Vec<usize>)>,
    pub last: (Block, Vec<usize>),
}

/// A built program. Literals are owned tensors (constants of the traced graph, built once).
pub struct Program {
    pub(crate) inputs: Vec<(usize, NxType, Vec<i64>)>,
    pub(crate) literals: Vec<(usize, NxTensor)>,
    pub(crate) body: Block,
    pub(crate) outputs: Vec<usize>,
    pub(crate) n_slots: usize,
    pub(crate) device: Device,
    pub(crate) out_types: Vec<NxType>,
    /// A rough count of element operations per run, for choosing a scheduler; `None` when it
    /// depends on the data (loops).
    pub(crate) cost: Option<u64>,
    pub(crate) fused_groups: usize,
}

impl Program {
    pub fn cost(&self) -> Option<u64> {
        self.cost
    }

    pub fn device(&self) -> Device {
        self.device
    }

    pub fn output_types(&self) -> &[NxType] {
        &self.out_types
    }

    /// How many fused element-wise kernels the program has.
    pub fn fused_groups(&self) -> usize {
        self.fused_groups
    }
}

/// Everything [`build::build`] needs, as decoded from the Elixir side.
pub struct ProgramSpec {
    pub inputs: Vec<(usize, NxType, Vec<i64>)>,
    pub literals: Vec<(usize, NxTensor)>,
    pub body: Vec<Instr>,
    pub outputs: Vec<usize>,
    pub device: Device,
    /// Whether element-wise chains may be fused (on by default; off for testing).
    pub fuse: bool,
}
