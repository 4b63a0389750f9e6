//! Splitting short kernels across cores without OpenMP's wake-up cost.
//!
//! Under `OMP_WAIT_POLICY=passive` (which the BEAM needs, see the README) LibTorch's OpenMP
//! workers go to sleep as soon as a parallel region ends, and waking them took about 40 µs
//! per region on the build machine: more than a batch-1 dense layer or a ReLU over a
//! 128x512 batch takes on one core. [`run`] offers the parts of such kernels to a few helper
//! threads of our own that spin for a short while after each job (so back-to-back kernels,
//! as in a compiled program, find them awake) and then park, using no CPU while idle.
//!
//! Parts are claimed, not assigned: the caller and every helper that shows up take the next
//! unclaimed part until none is left. A helper the OS has not scheduled (two cores shared with
//! the BEAM's threads and LibTorch's) therefore never holds the caller up: the caller runs the
//! parts itself and withdraws the offer. The caller waits only for parts a helper has started.
//!
//! There are `threads - 1` helpers (LibTorch's intra-op thread count when they start: at NIF
//! load, see [`start`], or on first use); `NX_TORCH_SPLIT=0` starts none. One caller at a
//! time gets them; a caller that finds them busy runs every part itself.
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// How long a helper keeps polling for its next job before it parks.
const SPIN: Duration = Duration::from_micros(50);

/// Bumped by [`rest`]: helpers that see it change stop polling and park at once.
static REST: AtomicUsize = AtomicUsize::new(0);

/// Sends polling helpers to sleep now: called before work that LibTorch parallelizes with
/// its own OpenMP threads (large matrix products), which would otherwise share the cores
/// with helpers spinning for a job that does not come.
pub fn rest() {
    REST.fetch_add(1, Ordering::Relaxed);
}

// Slot states.
const IDLE: usize = 0;
/// A job is offered (`Slot::job` is valid until the caller withdraws it).
const OFFERED: usize = 1;
/// The helper has taken the offered job: the caller waits for DONE before returning.
const TAKEN: usize = 2;
const DONE: usize = 3;

struct Slot {
    state: AtomicUsize,
    /// The job, a `*const Job`, valid while the state is OFFERED or TAKEN.
    job: AtomicUsize,
    thread: Mutex<Option<Thread>>,
}

struct Job<'a> {
    body: &'a (dyn Fn(usize) + Sync),
    parts: usize,
    next: AtomicUsize,
    panicked: AtomicBool,
}

impl Job<'_> {
    /// Claims and runs parts until none is left.
    fn work(&self) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.parts {
                return;
            }
            let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.body)(i)));
            if ran.is_err() {
                self.panicked.store(true, Ordering::Relaxed);
            }
        }
    }
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
            state: AtomicUsize::new(IDLE),
            job: AtomicUsize::new(0),
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
    // background work, like the dirty schedulers' LibTorch threads: the BEAM's normal
    // schedulers keep their cores while big kernels run
    crate::runtime::background_thread();
    loop {
        let started = Instant::now();
        let rest = REST.load(Ordering::Relaxed);
        let mut spins = 0u32;
        while slot.state.load(Ordering::Acquire) != OFFERED {
            spins = spins.wrapping_add(1);
            let resting = REST.load(Ordering::Relaxed) != rest;
            if resting || (spins.is_multiple_of(64) && started.elapsed() > SPIN) {
                std::thread::park_timeout(Duration::from_millis(100));
            } else {
                std::hint::spin_loop();
            }
        }
        if slot
            .state
            .compare_exchange(OFFERED, TAKEN, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            continue; // withdrawn meanwhile
        }
        // SAFETY: the caller keeps the job alive until it sees DONE, stored below.
        let job = unsafe { &*(slot.job.load(Ordering::Acquire) as *const Job) };
        job.work();
        slot.state.store(DONE, Ordering::Release);
    }
}

/// Starts the helpers now rather than on first use (where the first split kernel would wait
/// for the threads to be created).
pub fn start() {
    once_cell::sync::Lazy::force(&POOL);
}

/// How many threads [`run`] can use at once: the helpers plus the caller.
pub fn width() -> usize {
    POOL.slots.len() + 1
}

/// Runs `body(0)`, ..., `body(parts - 1)`, each part once, on the calling thread and whichever
/// helpers are ready, and returns when all are done. `false` when a part panicked.
pub fn run(parts: usize, body: &(dyn Fn(usize) + Sync)) -> bool {
    let pool = &*POOL;
    let job = Job {
        body,
        parts,
        next: AtomicUsize::new(0),
        panicked: AtomicBool::new(false),
    };
    let shared = parts > 1
        && !pool.slots.is_empty()
        && pool
            .busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok();
    if !shared {
        job.work();
        return !job.panicked.load(Ordering::Relaxed);
    }
    let offered = (parts - 1).min(pool.slots.len());
    for slot in &pool.slots[..offered] {
        slot.job
            .store(&job as *const Job as usize, Ordering::Relaxed);
        slot.state.store(OFFERED, Ordering::Release);
        if let Some(t) = slot.thread.lock().as_ref() {
            t.unpark();
        }
    }
    job.work();
    for slot in &pool.slots[..offered] {
        // withdraw an offer nobody took; otherwise wait for the helper to finish its parts
        if slot
            .state
            .compare_exchange(OFFERED, IDLE, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            while slot.state.load(Ordering::Acquire) != DONE {
                std::hint::spin_loop();
            }
            slot.state.store(IDLE, Ordering::Release);
        }
    }
    pool.busy.store(false, Ordering::Release);
    !job.panicked.load(Ordering::Relaxed)
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
