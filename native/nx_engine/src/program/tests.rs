//! Programs built and run end to end, fused and not.
use super::build::{build, cond_op, while_op};
use super::exec::{run, Val};
use super::{Instr, Op, Out, ProgramSpec};
use crate::ops::elementwise::{BinaryOp, UnaryOp};
use crate::tensor::NxTensor;
use crate::types::NxType;
use tch::{Device, Kind, Tensor};

fn out(slot: usize, ty: NxType, shape: &[i64]) -> Vec<Out> {
    vec![Out {
        slot,
        ty,
        shape: shape.to_vec(),
    }]
}

fn un(op: UnaryOp, a: usize, slot: usize, shape: &[i64]) -> Instr {
    Instr {
        op: Op::Unary(op),
        args: vec![a],
        outs: out(slot, NxType::F32, shape),
    }
}

fn bin(op: BinaryOp, a: usize, b: usize, slot: usize, shape: &[i64]) -> Instr {
    Instr {
        op: Op::Binary(op),
        args: vec![a, b],
        outs: out(slot, NxType::F32, shape),
    }
}

/// A comparison: its result is a u8 mask.
fn cmp(op: BinaryOp, a: usize, b: usize, slot: usize, shape: &[i64]) -> Instr {
    Instr {
        op: Op::Binary(op),
        args: vec![a, b],
        outs: out(slot, NxType::U8, shape),
    }
}

fn scalar(v: f64, ty: NxType) -> NxTensor {
    let t = crate::ops::convert::cast(&Tensor::from(v), NxType::F64, ty).unwrap();
    NxTensor::new(t, ty)
}

/// tanh(x * 2 + 1) * sigmoid(x) - exp(-(x * x)); x is slot 0, literals 1 (2, s32) and 2 (1.0).
pub(super) fn chain_spec(n: i64, fuse: bool) -> ProgramSpec {
    use BinaryOp::*;
    use UnaryOp::*;
    let s = [n];
    let body = vec![
        bin(Multiply, 1, 0, 3, &s),
        bin(Add, 2, 3, 4, &s),
        un(Tanh, 4, 5, &s),
        un(Sigmoid, 0, 6, &s),
        bin(Multiply, 5, 6, 7, &s),
        bin(Multiply, 0, 0, 8, &s),
        un(Negate, 8, 9, &s),
        un(Exp, 9, 10, &s),
        bin(Subtract, 7, 10, 11, &s),
    ];
    ProgramSpec {
        inputs: vec![(0, NxType::F32, vec![n])],
        literals: vec![(1, scalar(2.0, NxType::S32)), (2, scalar(1.0, NxType::F32))],
        body,
        outputs: vec![11, 7],
        device: Device::Cpu,
        fuse,
    }
}

fn input(n: i64) -> Tensor {
    Tensor::f_linspace(-4.0, 4.0, n, (Kind::Float, Device::Cpu)).unwrap()
}

fn to_vec(t: &Tensor) -> Vec<f32> {
    let t = t.f_reshape([-1]).unwrap();
    let n = t.numel();
    let mut v = vec![0f32; n];
    t.f_copy_data(&mut v, n).unwrap();
    v
}

#[test]
fn fused_chain_matches_unfused() {
    for n in [2, 3, 2047, 2049, 300_000] {
        let x = input(n);
        let fused = build(chain_spec(n, true)).unwrap();
        assert_eq!(fused.fused_groups(), 1);
        let plain = build(chain_spec(n, false)).unwrap();
        let a = run(
            &fused,
            vec![Val {
                t: x.shallow_clone(),
                ty: NxType::F32,
            }],
        )
        .unwrap();
        let b = run(
            &plain,
            vec![Val {
                t: x.shallow_clone(),
                ty: NxType::F32,
            }],
        )
        .unwrap();
        assert_eq!(a.len(), 2);
        for (a, b) in a.iter().zip(&b) {
            let (va, vb) = (to_vec(&a.t), to_vec(&b.t));
            let worst = va
                .iter()
                .zip(&vb)
                .map(|(x, y)| (x - y).abs())
                .fold(0f32, f32::max);
            assert!(worst < 1e-6, "n={n}: max difference {worst}");
        }
    }
}

/// max(x + bias, 0) with its ReLU-gradient masks, a select on a u8 mask that comes from
/// outside, an s16 operand: fused (one kernel, bias rows repeated, masks written as u8) and
/// unfused give the same values and types.
pub(super) fn masks_spec(rows: i64, fuse: bool) -> ProgramSpec {
    use BinaryOp::*;
    let s = [rows, 3];
    let body = vec![
        bin(Add, 0, 1, 10, &s),
        bin(Max, 10, 2, 11, &s),
        cmp(Equal, 10, 11, 12, &s),
        cmp(Greater, 2, 11, 13, &s),
        Instr {
            op: Op::Select,
            args: vec![12, 0, 2],
            outs: out(14, NxType::F32, &s),
        },
        Instr {
            op: Op::Select,
            args: vec![3, 14, 11],
            outs: out(15, NxType::F32, &s),
        },
        bin(Multiply, 15, 4, 16, &s),
    ];
    ProgramSpec {
        inputs: vec![
            (0, NxType::F32, s.to_vec()),
            (1, NxType::F32, vec![3]),
            (3, NxType::U8, s.to_vec()),
            (4, NxType::S16, vec![1, 3]),
        ],
        literals: vec![(2, scalar(0.0, NxType::F32))],
        body,
        outputs: vec![16, 12, 13],
        device: Device::Cpu,
        fuse,
    }
}

#[test]
fn masks_rows_and_narrow_inputs_fuse() {
    for rows in [1i64, 5, 700, 30_000] {
        let n = rows * 3;
        let mut xs: Vec<f32> = (0..n).map(|i| ((i * 37) % 11) as f32 - 5.0).collect();
        xs[0] = f32::NAN;
        let x = Tensor::from_slice(&xs).f_reshape([rows, 3]).unwrap();
        let bias = Tensor::from_slice(&[0.5f32, 0.0, -1.0]);
        let pick: Vec<u8> = (0..n).map(|i| (i % 3 == 1) as u8 * 7).collect();
        let pick = Tensor::from_slice(&pick).f_reshape([rows, 3]).unwrap();
        let scale = Tensor::from_slice(&[2i16, -3, 300])
            .f_reshape([1, 3])
            .unwrap();
        let inputs = || {
            vec![
                Val {
                    t: x.shallow_clone(),
                    ty: NxType::F32,
                },
                Val {
                    t: bias.shallow_clone(),
                    ty: NxType::F32,
                },
                Val {
                    t: pick.shallow_clone(),
                    ty: NxType::U8,
                },
                Val {
                    t: scale.shallow_clone(),
                    ty: NxType::S16,
                },
            ]
        };
        let fused = build(masks_spec(rows, true)).unwrap();
        assert_eq!(fused.fused_groups(), 1, "rows={rows}");
        let plain = build(masks_spec(rows, false)).unwrap();
        let (a, b) = (
            run(&fused, inputs()).unwrap(),
            run(&plain, inputs()).unwrap(),
        );
        let as_f64 = |t: &Tensor| {
            let t = t.f_to_kind(Kind::Double).unwrap().f_reshape([-1]).unwrap();
            let mut v = vec![0f64; t.numel()];
            t.f_copy_data(&mut v, t.numel()).unwrap();
            v
        };
        for (k, (a, b)) in a.iter().zip(&b).enumerate() {
            assert_eq!(a.ty, b.ty);
            assert_eq!(a.t.kind(), b.t.kind(), "output {k}");
            let (va, vb) = (as_f64(&a.t), as_f64(&b.t));
            for (i, (x, y)) in va.iter().zip(&vb).enumerate() {
                assert!(
                    x == y || (x.is_nan() && y.is_nan()),
                    "rows={rows} out {k}[{i}]: {x} vs {y}"
                );
            }
        }
    }
}

/// exp(x - m) / s with m and s of shape [rows, 1] (softmax's column broadcasts) and a bias of
/// shape [1, 3]: one kernel, the same values as unfused.
#[test]
fn column_broadcasts_fuse() {
    use BinaryOp::*;
    for rows in [1i64, 2, 700, 5000] {
        let s = [rows, 3];
        let body = [
            bin(Subtract, 0, 1, 10, &s),
            un(UnaryOp::Exp, 10, 11, &s),
            bin(Divide, 11, 2, 12, &s),
            bin(Add, 12, 3, 13, &s),
        ];
        let spec = |fuse| ProgramSpec {
            inputs: vec![
                (0, NxType::F32, s.to_vec()),
                (1, NxType::F32, vec![rows, 1]),
                (2, NxType::F32, vec![rows, 1]),
                (3, NxType::F32, vec![1, 3]),
            ],
            literals: vec![],
            body: body
                .iter()
                .map(|i| Instr {
                    op: match &i.op {
                        Op::Binary(b) => Op::Binary(*b),
                        Op::Unary(u) => Op::Unary(*u),
                        _ => unreachable!(),
                    },
                    args: i.args.clone(),
                    outs: i.outs.clone(),
                })
                .collect(),
            outputs: vec![13],
            device: Device::Cpu,
            fuse,
        };
        let x = input(rows * 3).f_reshape(s).unwrap();
        let m = input(rows).f_reshape([rows, 1]).unwrap();
        let d = (input(rows).f_reshape([rows, 1]).unwrap() * 0.5 + 3.0)
            .f_abs()
            .unwrap();
        let bias = Tensor::from_slice(&[1.0f32, -2.0, 0.5])
            .f_reshape([1, 3])
            .unwrap();
        let inputs = || {
            [&x, &m, &d, &bias]
                .iter()
                .map(|t| Val {
                    t: t.shallow_clone(),
                    ty: NxType::F32,
                })
                .collect::<Vec<_>>()
        };
        let fused = build(spec(true)).unwrap();
        assert_eq!(fused.fused_groups(), 1, "rows={rows}");
        let plain = build(spec(false)).unwrap();
        let (a, b) = (
            run(&fused, inputs()).unwrap(),
            run(&plain, inputs()).unwrap(),
        );
        let (va, vb) = (to_vec(&a[0].t), to_vec(&b[0].t));
        for (i, (p, q)) in va.iter().zip(&vb).enumerate() {
            assert!(
                (p - q).abs() <= 1e-6 * q.abs().max(1.0),
                "rows={rows} [{i}]: {p} vs {q}"
            );
        }
    }
}

#[test]
fn while_and_cond_run_in_one_call() {
    // state (i: s32, x: f32[2]); while i < 5: x = x * 2, i = i + 1; then cond(i > 3, x, -x)
    use BinaryOp::*;
    let lit = |v, ty| scalar(v, ty);
    let s2 = [2i64];
    let cond = vec![Instr {
        op: Op::Binary(Less),
        args: vec![10, 2],
        outs: out(12, NxType::U8, &[]),
    }];
    let body = vec![
        Instr {
            op: Op::Binary(Add),
            args: vec![10, 3],
            outs: out(13, NxType::S32, &[]),
        },
        bin(Multiply, 11, 4, 14, &s2),
    ];
    let mut instrs = vec![Instr {
        op: while_op(vec![10, 11], cond, 12, body, vec![13, 14]),
        args: vec![1, 0],
        outs: vec![
            Out {
                slot: 20,
                ty: NxType::S32,
                shape: vec![],
            },
            Out {
                slot: 21,
                ty: NxType::F32,
                shape: vec![2],
            },
        ],
    }];
    instrs.push(Instr {
        op: Op::Binary(Greater),
        args: vec![20, 5],
        outs: out(22, NxType::U8, &[]),
    });
    let negate = vec![un(UnaryOp::Negate, 21, 23, &s2)];
    instrs.push(Instr {
        op: cond_op(vec![(vec![], vec![21])], (negate, vec![23])),
        args: vec![22],
        outs: out(24, NxType::F32, &s2),
    });
    let spec = ProgramSpec {
        inputs: vec![(0, NxType::F32, vec![2])],
        literals: vec![
            (1, lit(0.0, NxType::S32)),
            (2, lit(5.0, NxType::S32)),
            (3, lit(1.0, NxType::S32)),
            (4, lit(2.0, NxType::F32)),
            (5, lit(3.0, NxType::S32)),
        ],
        body: instrs,
        outputs: vec![24, 20],
        device: Device::Cpu,
        fuse: true,
    };
    let p = build(spec).unwrap();
    let x = Tensor::from_slice(&[1.0f32, -2.0]);
    let r = run(
        &p,
        vec![Val {
            t: x,
            ty: NxType::F32,
        }],
    )
    .unwrap();
    assert_eq!(to_vec(&r[0].t), vec![32.0, -64.0]);
    assert_eq!(r[1].t.f_int64_value(&[]).unwrap(), 5);
}

#[test]
fn invalid_programs_are_rejected() {
    let mut spec = chain_spec(4, true);
    spec.body[0].args = vec![1, 99];
    assert!(build(spec).is_err());
    let mut spec = chain_spec(4, true);
    spec.body[1].outs[0].slot = 3; // written twice
    assert!(build(spec).is_err());
    let mut spec = chain_spec(4, true);
    spec.body[2].args = vec![];
    assert!(build(spec).is_err());
    let p = build(chain_spec(4, true)).unwrap();
    let wrong = Tensor::from_slice(&[1.0f32, 2.0]);
    assert!(run(
        &p,
        vec![Val {
            t: wrong,
            ty: NxType::F32
        }]
    )
    .is_err());
}

/// CPU time of the W2 chain per element on one thread (run with `--ignored --nocapture`).
#[test]
#[ignore]
fn chain_speed() {
    fn thread_cpu_ns() -> u64 {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
            .unwrap_or(0)
    }
    let n = 1_000_000;
    let x = input(n);
    for fuse in [true, false] {
        let p = build(chain_spec(n, fuse)).unwrap();
        let reps = 20;
        let t0 = thread_cpu_ns();
        let w0 = std::time::Instant::now();
        for _ in 0..reps {
            run(
                &p,
                vec![Val {
                    t: x.shallow_clone(),
                    ty: NxType::F32,
                }],
            )
            .unwrap();
        }
        let cpu = (thread_cpu_ns() - t0) as f64 / reps as f64 / n as f64;
        let wall = w0.elapsed().as_secs_f64() * 1e9 / reps as f64 / n as f64;
        println!("fuse={fuse}: {cpu:.2} ns/elem CPU (this thread), {wall:.2} ns/elem wall");
    }
}

#[test]
#[ignore]
fn relu_mask_speed() {
    use BinaryOp::*;
    let s = [128i64, 512];
    let body = vec![
        bin(Add, 0, 1, 3, &s),
        bin(Max, 3, 2, 4, &s),
        cmp(Equal, 3, 4, 5, &s),
        cmp(Equal, 2, 4, 6, &s),
    ];
    let spec = ProgramSpec {
        inputs: vec![(0, NxType::F32, s.to_vec()), (1, NxType::F32, vec![512])],
        literals: vec![(2, scalar(0.0, NxType::F32))],
        body,
        outputs: vec![4, 5, 6],
        device: Device::Cpu,
        fuse: true,
    };
    let p = build(spec).unwrap();
    assert_eq!(p.fused_groups(), 1);
    let x = input(128 * 512).f_reshape(s).unwrap();
    let b = input(512);
    let go = || {
        run(
            &p,
            vec![
                Val {
                    t: x.shallow_clone(),
                    ty: NxType::F32,
                },
                Val {
                    t: b.shallow_clone(),
                    ty: NxType::F32,
                },
            ],
        )
        .unwrap()
    };
    for _ in 0..10 {
        go();
    }
    let t = std::time::Instant::now();
    for _ in 0..1000 {
        go();
    }
    println!(
        "relu+masks [128,512]: {:.1} us",
        t.elapsed().as_secs_f64() * 1e6 / 1000.0
    );
}

/// f64 chain `exp(x * 2) + x`, with `y = x * 2` also kept as a reshaped view when `view`.
fn in_place_spec(n: i64, view: bool) -> ProgramSpec {
    use BinaryOp::*;
    let s = [n];
    let f64_bin = |op, a, b, slot| Instr {
        op: Op::Binary(op),
        args: vec![a, b],
        outs: out(slot, NxType::F64, &s),
    };
    let mut body = vec![f64_bin(Multiply, 0, 1, 2)];
    let mut outputs = vec![];
    if view {
        body.push(Instr {
            op: Op::Reshape,
            args: vec![2],
            outs: out(5, NxType::F64, &[n / 2, 2]),
        });
        outputs.push(5);
    }
    body.push(Instr {
        op: Op::Unary(UnaryOp::Exp),
        args: vec![2],
        outs: out(3, NxType::F64, &s),
    });
    body.push(f64_bin(Add, 3, 0, 4));
    outputs.insert(0, 4);
    ProgramSpec {
        inputs: vec![(0, NxType::F64, vec![n])],
        literals: vec![(1, scalar(2.0, NxType::F64))],
        body,
        outputs,
        device: Device::Cpu,
        fuse: true,
    }
}

#[test]
fn dead_intermediates_are_overwritten_in_place_and_nothing_else_is() {
    let n = 10_000i64;
    let x = Tensor::f_linspace(-2.0, 2.0, n, (Kind::Double, Device::Cpu)).unwrap();
    let before = x.copy();
    let want = (&x * 2.0).f_exp().unwrap() + &x;
    let close = |a: &Tensor, b: &Tensor| a.allclose(b, 1e-15, 0.0, false);
    for view in [false, true] {
        let program = build(in_place_spec(n, view)).unwrap();
        let runs = super::exec::in_place_runs();
        let outs = run(
            &program,
            vec![Val {
                t: x.shallow_clone(),
                ty: NxType::F64,
            }],
        )
        .unwrap();
        let done = super::exec::in_place_runs() - runs;
        assert!(close(&outs[0].t, &want), "view={view}");
        // the input, which the caller still holds, is never overwritten
        assert!(x.equal(&before));
        if view {
            // y lives on in a view: exp(y) gets its own buffer; exp(y) + x reuses exp's
            assert_eq!(done, 1);
            let y = outs[1].t.f_reshape([n]).unwrap();
            assert!(y.equal(&(&x * 2.0)));
        } else {
            assert_eq!(done, 2);
        }
    }
    // small tensors keep the out-of-place path
    let program = build(in_place_spec(100, false)).unwrap();
    let runs = super::exec::in_place_runs();
    let x = Tensor::f_linspace(-2.0, 2.0, 100, (Kind::Double, Device::Cpu)).unwrap();
    run(
        &program,
        vec![Val {
            t: x,
            ty: NxType::F64,
        }],
    )
    .unwrap();
    assert_eq!(super::exec::in_place_runs(), runs);
}

/// An f16 or bf16 chain: `w = tanh(exp(x * 0.1 + 1)) - x`, `v = select(w > x, w, 0.5)`, with an
/// f32 single element (rounded to the half type first, as Nx converts it) and one of the type.
pub(super) fn half_spec(ty: NxType, n: i64, fuse: bool) -> ProgramSpec {
    use BinaryOp::*;
    let s = [n];
    let typed = |op: Op, args: Vec<usize>, slot: usize, t: NxType| Instr {
        op,
        args,
        outs: out(slot, t, &s),
    };
    let body = vec![
        typed(Op::Binary(Multiply), vec![0, 1], 3, ty),
        typed(Op::Binary(Add), vec![3, 2], 4, ty),
        typed(Op::Unary(UnaryOp::Exp), vec![4], 5, ty),
        typed(Op::Unary(UnaryOp::Tanh), vec![5], 6, ty),
        typed(Op::Binary(Subtract), vec![6, 0], 7, ty),
        typed(Op::Binary(Greater), vec![7, 0], 8, NxType::U8),
        typed(Op::Select, vec![8, 7, 9], 10, ty),
    ];
    ProgramSpec {
        inputs: vec![(0, ty, vec![n])],
        literals: vec![
            (1, scalar(0.1, NxType::F32)),
            (2, scalar(1.0, ty)),
            (9, scalar(0.5, NxType::F32)),
        ],
        body,
        outputs: vec![7, 10, 8],
        device: Device::Cpu,
        fuse,
    }
}

/// One unit in the last place of a half type near 1.
fn half_ulp(ty: NxType) -> f32 {
    if ty == NxType::F16 {
        1.0 / 1024.0
    } else {
        1.0 / 128.0
    }
}

/// The outputs of `spec` fused (asserting it is one kernel) and unfused, on `x` of type `ty`.
fn fused_and_plain(
    spec: impl Fn(bool) -> ProgramSpec,
    x: &Tensor,
    ty: NxType,
) -> (Vec<Val>, Vec<Val>) {
    let inputs = || {
        vec![Val {
            t: x.shallow_clone(),
            ty,
        }]
    };
    let fused = build(spec(true)).unwrap();
    assert_eq!(fused.fused_groups(), 1, "{ty:?}");
    let plain = build(spec(false)).unwrap();
    (
        run(&fused, inputs()).unwrap(),
        run(&plain, inputs()).unwrap(),
    )
}

#[test]
fn half_chains_fuse_and_round_like_the_backend() {
    for ty in [NxType::F16, NxType::BF16] {
        for n in [5i64, 3000] {
            let x = Tensor::f_linspace(-3.0, 3.0, n, (Kind::Float, Device::Cpu))
                .unwrap()
                .f_to_kind(ty.storage_kind())
                .unwrap();
            let (a, b) = fused_and_plain(|fuse| half_spec(ty, n, fuse), &x, ty);
            // the half type's spacing near 1: results differ at most where exp or tanh (a
            // different f32 approximation) lands on the other side of a rounding boundary
            let ulp = half_ulp(ty);
            for (k, (a, b)) in a.iter().zip(&b).enumerate() {
                assert_eq!(a.ty, b.ty);
                assert_eq!(a.t.kind(), b.t.kind(), "{ty:?} out {k}");
                let (va, vb) = (
                    to_vec(&a.t.to_kind(Kind::Float)),
                    to_vec(&b.t.to_kind(Kind::Float)),
                );
                let mut off = 0;
                for (p, q) in va.iter().zip(&vb) {
                    if p != q {
                        off += 1;
                        assert!(
                            (p - q).abs() <= ulp * q.abs().max(1.0),
                            "{ty:?} out {k}: {p} vs {q}"
                        );
                    }
                }
                // nearly all exactly equal
                assert!(
                    off * 50 <= va.len(),
                    "{ty:?} out {k}: {off} of {} differ",
                    va.len()
                );
            }
        }
    }
}

/// Softmax over rows in `ty`, its row sums an output too.
pub(super) fn half_softmax_spec(ty: NxType, rows: i64, len: i64, fuse: bool) -> ProgramSpec {
    use crate::ops::reduce::Reduction;
    let (s, r) = ([rows, len], [rows, 1]);
    let reduce = |op, arg, slot| Instr {
        op: Op::Reduce {
            op,
            axes: vec![1],
            keep: true,
        },
        args: vec![arg],
        outs: out(slot, ty, &r),
    };
    let typed = |op: Op, args: Vec<usize>, slot: usize| Instr {
        op,
        args,
        outs: out(slot, ty, &s),
    };
    let body = vec![
        reduce(Reduction::Max, 0, 1),
        typed(Op::Binary(BinaryOp::Subtract), vec![0, 1], 2),
        typed(Op::Unary(UnaryOp::Exp), vec![2], 3),
        reduce(Reduction::Sum, 3, 4),
        typed(Op::Binary(BinaryOp::Divide), vec![3, 4], 5),
    ];
    ProgramSpec {
        inputs: vec![(0, ty, s.to_vec())],
        literals: vec![],
        body,
        outputs: vec![5, 4],
        device: Device::Cpu,
        fuse,
    }
}

#[test]
fn half_softmax_is_one_kernel_with_half_row_outputs() {
    for ty in [NxType::F16, NxType::BF16] {
        for (rows, len) in [(3i64, 5i64), (700, 33)] {
            let x = Tensor::f_linspace(-6.0, 6.0, rows * len, (Kind::Float, Device::Cpu))
                .unwrap()
                .f_reshape([rows, len])
                .unwrap()
                .f_sin()
                .unwrap()
                .f_mul_scalar(4.0)
                .unwrap()
                .f_to_kind(ty.storage_kind())
                .unwrap();
            let (a, b) = fused_and_plain(|fuse| half_softmax_spec(ty, rows, len, fuse), &x, ty);
            // sums in another order may round to the neighbouring half value
            let ulp = half_ulp(ty);
            for (k, (a, b)) in a.iter().zip(&b).enumerate() {
                assert_eq!(a.t.kind(), b.t.kind(), "{ty:?} out {k}");
                assert_eq!(a.t.size(), b.t.size(), "{ty:?} out {k}");
                let fa = to_vec(&a.t.to_kind(Kind::Float));
                let fb = to_vec(&b.t.to_kind(Kind::Float));
                for (p, q) in fa.iter().zip(&fb) {
                    assert!(
                        (p - q).abs() <= 2.0 * ulp * q.abs().max(ulp),
                        "{ty:?} out {k}: {p} vs {q}"
                    );
                }
            }
        }
    }
}

/// Fused f32, f16 and bf16 programs on one thread: the W2-like chain of `half_spec` on 2^20
/// elements and the softmax of `half_softmax_spec` on 1024x1024 (run with `--ignored
/// --nocapture`).
#[test]
#[ignore]
fn half_speed() {
    let median_us = |p: &super::Program, x: &Tensor, ty: NxType| {
        let mut v: Vec<f64> = (0..30)
            .map(|_| {
                let t = std::time::Instant::now();
                run(
                    p,
                    vec![Val {
                        t: x.shallow_clone(),
                        ty,
                    }],
                )
                .unwrap();
                t.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        v.sort_by(|a, b| a.total_cmp(b));
        v[15]
    };
    for ty in [NxType::F32, NxType::F16, NxType::BF16] {
        let x = |shape: &[i64]| {
            Tensor::f_rand(shape, (Kind::Float, Device::Cpu))
                .unwrap()
                .f_to_kind(ty.storage_kind())
                .unwrap()
        };
        let chain = build(half_spec(ty, 1 << 20, true)).unwrap();
        let softmax = build(half_softmax_spec(ty, 1024, 1024, true)).unwrap();
        println!(
            "{ty:?}: chain {:.0} us, softmax {:.0} us",
            median_us(&chain, &x(&[1 << 20]), ty),
            median_us(&softmax, &x(&[1024, 1024]), ty)
        );
    }
}
