//! Compiled programs (`Nx.Torch` as a defn compiler): `p_build` decodes an instruction list
//! into an engine program kept as a resource; `p_run` (normal scheduler), `p_run_dirty`
//! (dirty CPU) and `p_run_io` (dirty IO, for CUDA) run it on input tensors in one call.
//!
//! Term format (built by `Nx.Torch.Compiler.Lower`):
//! - inputs: `[{slot, type_code, shape}]`; literals: `[{slot, tensor}]`; outputs: `[slot]`;
//! - an instruction: `{op, outs, args, attrs}` with `op` an atom (the Nx callback name, or
//!   `while`/`cond`), `outs` a list of `{slot, type_code, shape}`, `args` a list of slots and
//!   `attrs` the operation's static arguments (see `decode_op`).
use crate::decode;
use crate::errors::{raise, NifResult, OrRaise};
use crate::resource::{wrap, TRef};
use nx_engine::ops::elementwise::{BinaryOp, UnaryOp};
use nx_engine::ops::reduce::Reduction;
use nx_engine::ops::scan::Scan;
use nx_engine::program::{build, exec, Instr, Op, Out, Program, ProgramSpec};
use rustler::{Resource, ResourceArc, Term};

pub struct ProgramRef(pub Program);

#[rustler::resource_impl]
impl Resource for ProgramRef {}

// A program is never mutated after it is built; literals are only shallow-cloned under their
// own locks, which cannot panic midway. A panic therefore cannot leave it half-updated.
impl std::panic::RefUnwindSafe for ProgramRef {}

type PRef = ResourceArc<ProgramRef>;

fn bad(message: impl Into<String>) -> rustler::Error {
    raise("Elixir.ArgumentError", message.into())
}

fn get<'a, T: rustler::Decoder<'a>>(term: Term<'a>, what: &str) -> NifResult<T> {
    term.decode::<T>()
        .map_err(|_| bad(format!("invalid program: bad {what}")))
}

fn slot(term: Term) -> NifResult<usize> {
    get::<usize>(term, "slot")
}

fn slots(term: Term) -> NifResult<Vec<usize>> {
    get::<Vec<usize>>(term, "slot list")
}

fn out(term: Term) -> NifResult<Out> {
    let (s, ty, shape): (Term, i64, Term) = get(term, "result template")?;
    Ok(Out {
        slot: slot(s)?,
        ty: decode::ty(ty)?,
        shape: decode::shape(shape)?,
    })
}

fn reduction(name: &str) -> Option<Reduction> {
    Some(match name {
        "sum" => Reduction::Sum,
        "product" => Reduction::Product,
        "reduce_max" => Reduction::Max,
        "reduce_min" => Reduction::Min,
        "all" => Reduction::All,
        "any" => Reduction::Any,
        _ => return None,
    })
}

fn scan(name: &str) -> Option<Scan> {
    Some(match name {
        "cumulative_sum" => Scan::Sum,
        "cumulative_product" => Scan::Product,
        "cumulative_max" => Scan::Max,
        "cumulative_min" => Scan::Min,
        _ => return None,
    })
}

fn decode_op(name: &str, a: Term) -> NifResult<Op> {
    if let Some(op) = UnaryOp::from_name(name) {
        return Ok(Op::Unary(op));
    }
    if let Some(op) = BinaryOp::from_name(name) {
        return Ok(Op::Binary(op));
    }
    if let Some(op) = reduction(name) {
        let (axes, keep) = get(a, "reduce attributes")?;
        return Ok(Op::Reduce { op, axes, keep });
    }
    if let Some(op) = scan(name) {
        let (axis, reverse) = get(a, "cumulative attributes")?;
        return Ok(Op::Cumulative { op, axis, reverse });
    }
    Ok(match name {
        "select" => Op::Select,
        "clip" => Op::Clip,
        "as_type" => Op::AsType,
        "bitcast" => Op::Bitcast,
        "reshape" => Op::Reshape,
        "broadcast" => Op::Broadcast {
            axes: get(a, "axes")?,
        },
        "transpose" => Op::Transpose {
            axes: get(a, "axes")?,
        },
        "reverse" => Op::Reverse {
            axes: get(a, "axes")?,
        },
        "argmax" | "argmin" => {
            let (axis, keep, tie_high): (i64, bool, bool) = get(a, "arg-reduce attributes")?;
            Op::ArgReduce {
                max: name == "argmax",
                axis: (axis >= 0).then_some(axis),
                keep,
                tie_high,
            }
        }
        "dot" => {
            let (contract_a, batch_a, contract_b, batch_b) = get(a, "dot attributes")?;
            Op::Dot {
                contract_a,
                batch_a,
                contract_b,
                batch_b,
            }
        }
        "slice" => {
            let (starts, lengths, strides) = get(a, "slice attributes")?;
            Op::Slice {
                starts,
                lengths,
                strides,
            }
        }
        "put_slice" => Op::PutSlice {
            starts: get(a, "put_slice starts")?,
        },
        "pad" => Op::Pad {
            config: get(a, "pad configuration")?,
        },
        "concatenate" => Op::Concatenate {
            axis: get(a, "axis")?,
        },
        "stack" => Op::Stack {
            axis: get(a, "axis")?,
        },
        "gather" => Op::Gather {
            axes: get(a, "axes")?,
        },
        "take" => Op::Take {
            axis: get(a, "axis")?,
        },
        "take_along_axis" => Op::TakeAlongAxis {
            axis: get(a, "axis")?,
        },
        "indexed_add" | "indexed_put" => Op::Indexed {
            accumulate: name == "indexed_add",
            axes: get(a, "axes")?,
        },
        "sort" | "argsort" => {
            let (axis, descending, stable) = get(a, "sort attributes")?;
            if name == "sort" {
                Op::Sort {
                    axis,
                    descending,
                    stable,
                }
            } else {
                Op::Argsort {
                    axis,
                    descending,
                    stable,
                }
            }
        }
        "top_k" => Op::TopK { k: get(a, "k")? },
        "while" => {
            let (state, cond, pred, body, body_outs): (Term, Term, Term, Term, Term) =
                get(a, "while attributes")?;
            build::while_op(
                slots(state)?,
                instrs(cond)?,
                slot(pred)?,
                instrs(body)?,
                slots(body_outs)?,
            )
        }
        "cond" => {
            let (clauses, last): (Vec<(Term, Term)>, (Term, Term)) = get(a, "cond attributes")?;
            let clauses = clauses
                .into_iter()
                .map(|(b, outs)| Ok((instrs(b)?, slots(outs)?)))
                .collect::<NifResult<Vec<_>>>()?;
            build::cond_op(clauses, (instrs(last.0)?, slots(last.1)?))
        }
        other => return Err(bad(format!("invalid program: unknown operation {other}"))),
    })
}

fn instrs(term: Term) -> NifResult<Vec<Instr>> {
    let list: Vec<Term> = get(term, "instruction list")?;
    list.into_iter()
        .map(|t| {
            let (op, outs, args, attrs): (Term, Vec<Term>, Term, Term) = get(t, "instruction")?;
            let name = op
                .atom_to_string()
                .map_err(|_| bad("invalid program: operation names are atoms"))?;
            Ok(Instr {
                op: decode_op(&name, attrs)?,
                args: slots(args)?,
                outs: outs.into_iter().map(out).collect::<NifResult<_>>()?,
            })
        })
        .collect()
}

/// Builds a program. Returns `{program, cost, fused_kernels}` where cost is a rough count of
/// element operations per run (-1 when it depends on the data).
#[rustler::nif(schedule = "DirtyCpu")]
#[allow(clippy::type_complexity)]
fn p_build<'a>(
    inputs: Vec<(usize, i64, Term<'a>)>,
    literals: Vec<(usize, TRef)>,
    body: Term<'a>,
    outputs: Vec<usize>,
    device: i64,
    fuse: bool,
) -> NifResult<(PRef, i64, usize)> {
    let inputs = inputs
        .into_iter()
        .map(|(s, ty, shape)| Ok((s, decode::ty(ty)?, decode::shape(shape)?)))
        .collect::<NifResult<Vec<_>>>()?;
    let literals = literals
        .into_iter()
        .map(|(s, t)| {
            let tensor = t.0.tensor().or_raise()?;
            Ok((s, nx_engine::NxTensor::new(tensor, t.0.ty())))
        })
        .collect::<NifResult<Vec<_>>>()?;
    let spec = ProgramSpec {
        inputs,
        literals,
        body: instrs(body)?,
        outputs,
        device: decode::device(device)?,
        fuse,
    };
    let program = build::build(spec).or_raise()?;
    let cost = program
        .cost()
        .map(|c| i64::try_from(c).unwrap_or(i64::MAX))
        .unwrap_or(-1);
    let fused = program.fused_groups();
    Ok((ResourceArc::new(ProgramRef(program)), cost, fused))
}

fn input_vals(inputs: &[TRef]) -> NifResult<Vec<exec::Val>> {
    inputs
        .iter()
        .map(|t| {
            Ok(exec::Val {
                t: t.0.tensor().or_raise()?,
                ty: t.0.ty(),
            })
        })
        .collect()
}

/// Small programs: run right here, on the calling (normal) scheduler.
#[rustler::nif]
fn p_run(program: PRef, inputs: Vec<TRef>) -> NifResult<Vec<TRef>> {
    let outs = exec::run(&program.0, input_vals(&inputs)?).or_raise()?;
    Ok(outs.into_iter().map(|v| wrap(v.t, v.ty)).collect())
}

/// The rest: on the engine's program thread (one OpenMP team for all programs), while this
/// dirty CPU scheduler waits.
#[rustler::nif(schedule = "DirtyCpu")]
fn p_run_dirty(program: PRef, inputs: Vec<TRef>) -> NifResult<Vec<TRef>> {
    let vals = input_vals(&inputs)?;
    let outs = exec::run_there(ProgramHandle(program), vals).or_raise()?;
    Ok(outs.into_iter().map(|v| wrap(v.t, v.ty)).collect())
}

/// CUDA programs mostly wait on the device: a dirty IO scheduler runs them.
#[rustler::nif(schedule = "DirtyIo")]
fn p_run_io(program: PRef, inputs: Vec<TRef>) -> NifResult<Vec<TRef>> {
    let outs = exec::run(&program.0, input_vals(&inputs)?).or_raise()?;
    Ok(outs.into_iter().map(|v| wrap(v.t, v.ty)).collect())
}

/// A program resource that derefs to the engine program, to send to the program thread.
struct ProgramHandle(PRef);

impl std::ops::Deref for ProgramHandle {
    type Target = Program;
    fn deref(&self) -> &Program {
        &self.0 .0
    }
}
