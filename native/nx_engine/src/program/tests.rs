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

fn scalar(v: f64, ty: NxType) -> NxTensor {
    let t = crate::ops::convert::cast(&Tensor::from(v), NxType::F64, ty).unwrap();
    NxTensor::new(t, ty)
}

/// tanh(x * 2 + 1) * sigmoid(x) - exp(-(x * x)); x is slot 0, literals 1 (2, s32) and 2 (1.0).
fn chain_spec(n: i64, fuse: bool) -> ProgramSpec {
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

/// `cargo test --release -p nx_engine chain_speed -- --ignored --nocapture`
#[test]
#[ignore]
fn chain_speed_threads() {
    for threads in [1, 2] {
        crate::runtime::set_num_threads(threads);
        for n in [1_000_000i64, 10_000_000] {
            let x = input(n);
            let mut spec = chain_spec(n, true);
            spec.outputs = vec![11];
            let p = build(spec).unwrap();
            let go = || {
                run(
                    &p,
                    vec![Val {
                        t: x.shallow_clone(),
                        ty: NxType::F32,
                    }],
                )
                .unwrap()
            };
            for _ in 0..3 {
                go();
            }
            let reps = 20;
            let t = std::time::Instant::now();
            for _ in 0..reps {
                go();
            }
            let ms = t.elapsed().as_secs_f64() * 1e3 / reps as f64;
            println!("threads {threads} n {n}: {ms:.3} ms");
        }
    }
}

#[test]
#[ignore]
fn parallel_for_uses_threads() {
    crate::runtime::set_num_threads(2);
    println!("threads {}", crate::runtime::num_threads());
    let ids = std::sync::Mutex::new(Vec::new());
    crate::runtime::parallel_for(31, 1, |a, b| {
        ids.lock()
            .unwrap()
            .push((a, b, format!("{:?}", std::thread::current().id())));
    });
    println!("{:?}", ids.lock().unwrap());
}
