//! Element-wise NIFs: `t_binary`, `t_unary`, `t_select` and `t_clip`, each with a dirty twin,
//! and `t_binary_defer`/`t_unary_defer`, which only build deferred results.
//! The operation comes as an atom (the Nx function name) and the result type as a code.
use crate::decode;
use crate::errors::{raise, NifResult, OrRaise};
use crate::nif_pair;
use crate::resource::{wrap, wrap_nx, TRef};
use nx_engine::ops::elementwise::{self, BinaryOp, UnaryOp};
use rustler::{Atom, Encoder, Env, Term};

mod names {
    rustler::atoms! {
        add,
        subtract,
        multiply,
        pow,
        remainder,
        divide,
        quotient,
        atan2,
        max,
        min,
        bitwise_and,
        bitwise_or,
        bitwise_xor,
        left_shift,
        right_shift,
        equal,
        not_equal,
        greater,
        less,
        greater_equal,
        less_equal,
        logical_and,
        logical_or,
        logical_xor,
        exp,
        expm1,
        log,
        log1p,
        sigmoid,
        cos,
        sin,
        tan,
        cosh,
        sinh,
        tanh,
        acos,
        asin,
        atan,
        acosh,
        asinh,
        atanh,
        sqrt,
        rsqrt,
        cbrt,
        erf,
        erfc,
        erf_inv,
        abs,
        bitwise_not,
        ceil,
        floor,
        round,
        sign,
        negate,
        conjugate,
        real,
        imag,
        is_nan,
        is_infinity,
        count_leading_zeros,
        population_count,
        logical_not,
    }
}

type AtomFn = fn() -> Atom;

const BINARY_OPS: [(AtomFn, BinaryOp); 24] = [
    (names::add, BinaryOp::Add),
    (names::subtract, BinaryOp::Subtract),
    (names::multiply, BinaryOp::Multiply),
    (names::pow, BinaryOp::Pow),
    (names::remainder, BinaryOp::Remainder),
    (names::divide, BinaryOp::Divide),
    (names::quotient, BinaryOp::Quotient),
    (names::atan2, BinaryOp::Atan2),
    (names::max, BinaryOp::Max),
    (names::min, BinaryOp::Min),
    (names::bitwise_and, BinaryOp::BitwiseAnd),
    (names::bitwise_or, BinaryOp::BitwiseOr),
    (names::bitwise_xor, BinaryOp::BitwiseXor),
    (names::left_shift, BinaryOp::LeftShift),
    (names::right_shift, BinaryOp::RightShift),
    (names::equal, BinaryOp::Equal),
    (names::not_equal, BinaryOp::NotEqual),
    (names::greater, BinaryOp::Greater),
    (names::less, BinaryOp::Less),
    (names::greater_equal, BinaryOp::GreaterEqual),
    (names::less_equal, BinaryOp::LessEqual),
    (names::logical_and, BinaryOp::LogicalAnd),
    (names::logical_or, BinaryOp::LogicalOr),
    (names::logical_xor, BinaryOp::LogicalXor),
];

const UNARY_OPS: [(AtomFn, UnaryOp); 38] = [
    (names::exp, UnaryOp::Exp),
    (names::expm1, UnaryOp::Expm1),
    (names::log, UnaryOp::Log),
    (names::log1p, UnaryOp::Log1p),
    (names::sigmoid, UnaryOp::Sigmoid),
    (names::cos, UnaryOp::Cos),
    (names::sin, UnaryOp::Sin),
    (names::tan, UnaryOp::Tan),
    (names::cosh, UnaryOp::Cosh),
    (names::sinh, UnaryOp::Sinh),
    (names::tanh, UnaryOp::Tanh),
    (names::acos, UnaryOp::Acos),
    (names::asin, UnaryOp::Asin),
    (names::atan, UnaryOp::Atan),
    (names::acosh, UnaryOp::Acosh),
    (names::asinh, UnaryOp::Asinh),
    (names::atanh, UnaryOp::Atanh),
    (names::sqrt, UnaryOp::Sqrt),
    (names::rsqrt, UnaryOp::Rsqrt),
    (names::cbrt, UnaryOp::Cbrt),
    (names::erf, UnaryOp::Erf),
    (names::erfc, UnaryOp::Erfc),
    (names::erf_inv, UnaryOp::ErfInv),
    (names::abs, UnaryOp::Abs),
    (names::bitwise_not, UnaryOp::BitwiseNot),
    (names::ceil, UnaryOp::Ceil),
    (names::floor, UnaryOp::Floor),
    (names::round, UnaryOp::Round),
    (names::sign, UnaryOp::Sign),
    (names::negate, UnaryOp::Negate),
    (names::conjugate, UnaryOp::Conjugate),
    (names::real, UnaryOp::Real),
    (names::imag, UnaryOp::Imag),
    (names::is_nan, UnaryOp::IsNan),
    (names::is_infinity, UnaryOp::IsInfinity),
    (names::count_leading_zeros, UnaryOp::CountLeadingZeros),
    (names::population_count, UnaryOp::PopulationCount),
    (names::logical_not, UnaryOp::LogicalNot),
];

fn lookup<T: Copy>(table: &[(AtomFn, T)], op: Atom, kind: &str) -> NifResult<T> {
    table
        .iter()
        .find(|(name, _)| name() == op)
        .map(|(_, value)| *value)
        .ok_or_else(|| {
            raise(
                "Elixir.ArgumentError",
                format!("unknown {kind} element-wise operation {op:?}"),
            )
        })
}

fn binary(op: Atom, a: TRef, b: TRef, ty: i64) -> NifResult<TRef> {
    let op = lookup(&BINARY_OPS, op, "binary")?;
    let out = decode::ty(ty)?;
    Ok(wrap_nx(
        elementwise::binary_nx(op, &a.0, &b.0, out).or_raise()?,
    ))
}

nif_pair!(t_binary, t_binary_dirty, binary,
    (op: Atom, a: TRef, b: TRef, ty: i64), [op, a, b, ty], NifResult<TRef>);

rustler::atoms! { dirty }

/// `t_binary_defer`, `t_unary_defer`: on a normal scheduler, the deferred result of a large
/// f32 operation when it can be built without computing anything, else the atom `dirty` (the
/// caller then runs the dirty NIF). Building a deferred result takes a few microseconds, and
/// a dirty call costs more than that on a busy machine.
#[rustler::nif]
fn t_binary_defer(env: Env, op: Atom, a: TRef, b: TRef, ty: i64) -> NifResult<Term> {
    let op = lookup(&BINARY_OPS, op, "binary")?;
    let out = decode::ty(ty)?;
    Ok(
        match nx_engine::lazy::binary(op, &a.0, &b.0, out, false).or_raise()? {
            Some(t) => wrap_nx(t).encode(env),
            None => dirty().encode(env),
        },
    )
}

#[rustler::nif]
fn t_unary_defer(env: Env, op: Atom, tensor: TRef, ty: i64) -> NifResult<Term> {
    let op = lookup(&UNARY_OPS, op, "unary")?;
    let out = decode::ty(ty)?;
    Ok(
        match nx_engine::lazy::unary(op, &tensor.0, out, false).or_raise()? {
            Some(t) => wrap_nx(t).encode(env),
            None => dirty().encode(env),
        },
    )
}

fn unary(op: Atom, tensor: TRef, ty: i64) -> NifResult<TRef> {
    let op = lookup(&UNARY_OPS, op, "unary")?;
    let out = decode::ty(ty)?;
    Ok(wrap_nx(
        elementwise::unary_nx(op, &tensor.0, out).or_raise()?,
    ))
}

nif_pair!(t_unary, t_unary_dirty, unary,
    (op: Atom, tensor: TRef, ty: i64), [op, tensor, ty], NifResult<TRef>);

fn select<'a>(
    pred: TRef,
    on_true: TRef,
    on_false: TRef,
    ty: i64,
    shape: Term<'a>,
) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let shape = decode::shape(shape)?;
    let r = elementwise::select(&pred.0, &on_true.0, &on_false.0, out, &shape).or_raise()?;
    Ok(wrap(r, out))
}

nif_pair!(t_select, t_select_dirty, select,
    (pred: TRef, on_true: TRef, on_false: TRef, ty: i64, shape: Term<'a>),
    [pred, on_true, on_false, ty, shape], NifResult<TRef>);

fn clip(tensor: TRef, min: TRef, max: TRef, ty: i64) -> NifResult<TRef> {
    let out = decode::ty(ty)?;
    let r = elementwise::clip(&tensor.0, &min.0, &max.0, out).or_raise()?;
    Ok(wrap(r, out))
}

nif_pair!(t_clip, t_clip_dirty, clip,
    (tensor: TRef, min: TRef, max: TRef, ty: i64), [tensor, min, max, ty], NifResult<TRef>);
