//! Splitting short kernels across cores without OpenMP's wake-up cost.
//!
//! Under `OMP_WAIT_POLICY=passive` (which the BEAM needs, see the README) LibTorch's OpenMP
//! workers go to sleep as soon as a parallel region ends, and waking them took about 40 µs
//! per region on the build machine: more than a batch-1 dense layer or a ReLU over a
//! 128x512 batch takes on one core. [`run`] hands the parts of such kernels to a few helper
//! threads of our own that spin for a short while after each part (so back-to-back kernels,
//! as in a compiled program, find them awake) and then park, using no CPU while idle.
//!
//! There are `threads - 1` helpers (LibTorch's intra-op thread count when they start: at NIF
//! load, see [`start`], or on first use).
//! `NX_TORCH_SPLIT=0` starts none. One caller at a time gets them; a caller that finds them busy runs every part itself, so a
//! kernel never waits for another.
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// How long a helper keeps polling for its next part before it parks.
const SPIN: Duration = Duration::from_micros(50);

/// A part handed to a helper: a pointer to the caller's job and the part's index.
struct Slot {
    /// Incremented by the caller for every new part (odd: a part is waiting).
    seq: AtomicUsize,
    /// The job, a `*const Job` valid while `seq` is odd.
    job: AtomicUsize,
    index: AtomicUsize,
    /// Set by the helper when the part is done (or panicked).
    done: AtomicBool,
    thread: Mutex<Option<Thread>>,
}

struct Job<'a> {
    body: &'a (dyn Fn(usize) + Sync),
    panicked: AtomicBool,
}

struct Pool {
    slots: Vec<&'static Slot>,
    busy: AtomicBool,
}

static POOL: once_cell::sync::Lazy<Pool> = once_cell::sync::Lazy::new(|| {
    let helpers = if std::env::var("NX_TORCH_SPLIT").as_deref() == Ok("0") {
        0
    } else {
        (crate::runtime::num_threads().max(1) as usize - 1).min(63)
    };
    let mut slots = Vec::with_capacity(helpers);
    for i in 0..helpers {
        let slot: &'static Slot = Box::leak(Box::new(Slot {
            seq: AtomicUsize::new(0),
            job: AtomicUsize::new(0),
            index: AtomicUsize::new(0),
            done: AtomicBool::new(true),
            thread: Mutex::new(None),
        }));
        let spawned = std::thread::Builder::new()
            .name(format!("nx_torch_split_{i}"))
            .spawn(move || helper(slot));
        match spawned {
            Ok(handle) => {
                *slot.thread.lock() = Some(handle.thread().clone());
                slots.push(slot);
            }
            Err(_) => break,
        }
    }
    Pool {
        slots,
        busy: AtomicBool::new(false),
    }
});

fn helper(slot: &'static Slot) {
    crate::runtime::prepare_thread();
    let mut seen = 0usize;
    loop {
        let started = Instant::now();
        let mut spins = 0u32;
        let seq = loop {
            let seq = slot.seq.load(Ordering::Acquire);
            if seq != seen && !seq.is_multiple_of(2) {
                break seq;
            }
            spins = spins.wrapping_add(1);
            if spins.is_multiple_of(64) && started.elapsed() > SPIN {
                std::thread::park_timeout(Duration::from_millis(100));
            } else {
                std::hint::spin_loop();
            }
        };
        seen = seq;
        // SAFETY: the caller keeps the job alive until it sees `done`, set below.
        let job = unsafe { &*(slot.job.load(Ordering::Acquire) as *const Job) };
        let index = slot.index.load(Ordering::Acquire);
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (job.body)(index)));
        if ran.is_err() {
            job.panicked.store(true, Ordering::Relaxed);
        }
        slot.seq.store(seq + 1, Ordering::Release);
        slot.done.store(true, Ordering::Release);
    }
}

/// Starts the helpers now (they inherit the calling thread's priority) rather than on first
/// use.
pub fn start() {
    once_cell::sync::Lazy::force(&POOL);
}

/// How many parts [`run`] can run at once: the helpers plus the caller.
pub fn width() -> usize {
    POOL.slots.len() + 1
}

/// Runs `body(0)`, ..., `body(parts - 1)`, each part once, on the calling thread and the
/// helpers, and returns when all are done. `false` when a part panicked.
pub fn run(parts: usize, body: &(dyn Fn(usize) + Sync)) -> bool {
    let pool = &*POOL;
    let shared = parts > 1
        && !pool.slots.is_empty()
        && pool
            .busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok();
    if !shared {
        let ran =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (0..parts).for_each(body)));
        return ran.is_ok();
    }
    let job = Job {
        body,
        panicked: AtomicBool::new(false),
    };
    let handed = (parts - 1).min(pool.slots.len());
    for (k, slot) in pool.slots[..handed].iter().enumerate() {
        slot.done.store(false, Ordering::Relaxed);
        slot.job
            .store(&job as *const Job as usize, Ordering::Relaxed);
        slot.index.store(k + 1, Ordering::Relaxed);
        // odd: a part is waiting
        slot.seq.fetch_add(1, Ordering::AcqRel);
        if let Some(t) = slot.thread.lock().as_ref() {
            t.unpark();
        }
    }
    // the caller's parts: the first, and those beyond the helpers
    let mine = std::iter::once(0).chain(handed + 1..parts);
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| mine.for_each(body)));
    for slot in &pool.slots[..handed] {
        while !slot.done.load(Ordering::Acquire) {
            std::hint::spin_loop();
        }
    }
    pool.busy.store(false, Ordering::Release);
    ran.is_ok() && !job.panicked.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_runs_once() {
        for parts in [0, 1, 2, 3, 7] {
            let counts: Vec<AtomicUsize> = (0..parts).map(|_| AtomicUsize::new(0)).collect();
            for _ in 0..200 {
                assert!(run(parts, &|i| {
                    counts[i].fetch_add(1, Ordering::Relaxed);
                }));
            }
            assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 200));
        }
    }

    #[test]
    fn a_panicking_part_is_reported_and_the_pool_goes_on() {
        assert!(!run(2, &|i| {
            if i == 1 {
                panic!("part 1");
            }
        }));
        assert!(!run(2, &|i| {
            if i == 0 {
                panic!("part 0");
            }
        }));
        assert!(run(2, &|_| {}));
    }

    #[test]
    fn concurrent_callers_all_finish() {
        let total = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..500 {
                        run(3, &|_| {
                            total.fetch_add(1, Ordering::Relaxed);
                        });
                    }
                });
            }
        });
        assert_eq!(total.load(Ordering::Relaxed), 4 * 500 * 3);
    }
}
