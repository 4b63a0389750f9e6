//! Live tensor counts and bytes per device. Updated when an [`crate::NxTensor`] is created and
//! when its storage is released (drop or explicit deallocation). Bytes are the tensor's logical
//! size (elements times element size), which is what an Nx user reasons about.
use std::sync::atomic::{AtomicI64, Ordering};

/// Slot 0 is the CPU, 1 + n is CUDA device n.
pub const SLOTS: usize = 17;

struct Counters {
    tensors: [AtomicI64; SLOTS],
    bytes: [AtomicI64; SLOTS],
}

static COUNTERS: Counters = Counters {
    tensors: [const { AtomicI64::new(0) }; SLOTS],
    bytes: [const { AtomicI64::new(0) }; SLOTS],
};

pub(crate) fn track(slot: usize, bytes: i64) {
    if let (Some(t), Some(b)) = (COUNTERS.tensors.get(slot), COUNTERS.bytes.get(slot)) {
        t.fetch_add(1, Ordering::Relaxed);
        b.fetch_add(bytes, Ordering::Relaxed);
    }
}

pub(crate) fn untrack(slot: usize, bytes: i64) {
    if let (Some(t), Some(b)) = (COUNTERS.tensors.get(slot), COUNTERS.bytes.get(slot)) {
        t.fetch_sub(1, Ordering::Relaxed);
        b.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// One entry per device slot that has ever held a tensor: (slot, live tensors, live bytes).
pub fn stats() -> Vec<(usize, i64, i64)> {
    (0..SLOTS)
        .filter_map(|slot| {
            let tensors = COUNTERS.tensors[slot].load(Ordering::Relaxed);
            let bytes = COUNTERS.bytes[slot].load(Ordering::Relaxed);
            (slot == 0 || tensors != 0 || bytes != 0).then_some((slot, tensors, bytes))
        })
        .collect()
}
