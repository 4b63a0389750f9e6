//! The owned tensor handle.
//!
//! `tch::Tensor` is `Send` but not `Sync`, while a BEAM resource is shared by every process that
//! holds a reference. The handle therefore keeps its tensor behind a mutex and hands out
//! `shallow_clone`s (a new reference to the same storage) taken under the lock; operations run
//! outside the lock, so `add(a, a)` cannot deadlock and a long operation never blocks others.
//! Tensors are never mutated in place once wrapped, so sharing the storage is sound.
//!
//! A handle may also hold deferred values ([`crate::lazy`]): the first access computes them
//! under the lock and keeps the result, so every holder sees one tensor.
use crate::device;
use crate::error::{EngineError, Result, TorchContext};
use crate::lazy::{self, Lazy};
use crate::memory;
use crate::types::NxType;
use parking_lot::Mutex;
use tch::{Device, Tensor};

enum State {
    Ready(Tensor),
    Pending(Lazy),
    Gone,
}

/// What an operation reads from a handle without computing deferred values.
pub enum Operand {
    Ready(Tensor),
    Pending(Lazy),
}

/// The tensor of `state`, computing deferred values first (`shape`: the handle's).
fn ready<'a>(state: &'a mut State, shape: &[i64]) -> Result<&'a Tensor> {
    if let State::Pending(l) = state {
        let t = lazy::compute(l, shape)?;
        *state = State::Ready(t);
    }
    match state {
        State::Ready(t) => Ok(t),
        _ => Err(EngineError::Deallocated),
    }
}

pub struct NxTensor {
    cell: Mutex<State>,
    ty: NxType,
    shape: Vec<i64>,
    device: Device,
    bytes: i64,
}

impl NxTensor {
    /// Wraps a LibTorch tensor whose storage kind matches `ty` (the caller guarantees it).
    pub fn new(tensor: Tensor, ty: NxType) -> NxTensor {
        let (shape, device) = (tensor.size(), tensor.device());
        NxTensor::from_parts(tensor, ty, shape, device)
    }

    /// Wraps a tensor whose shape and device the caller already knows (they must be the
    /// tensor's own: this skips asking LibTorch, which costs more than a tiny operation).
    pub fn from_parts(tensor: Tensor, ty: NxType, shape: Vec<i64>, device: Device) -> NxTensor {
        debug_assert_eq!(tensor.size(), shape);
        debug_assert_eq!(tensor.device(), device);
        NxTensor::with_state(State::Ready(tensor), ty, shape, device)
    }

    /// A handle whose f32 CPU values of `shape` are deferred until first needed.
    pub fn pending(lazy: Lazy, shape: Vec<i64>) -> NxTensor {
        NxTensor::with_state(State::Pending(lazy), NxType::F32, shape, Device::Cpu)
    }

    /// A handle counted in the device's memory statistics for its elements.
    fn with_state(state: State, ty: NxType, shape: Vec<i64>, device: Device) -> NxTensor {
        let numel: i64 = shape.iter().product();
        let bytes = numel.saturating_mul(ty.storage_bytes() as i64);
        memory::track(device::slot(device), bytes);
        NxTensor {
            cell: Mutex::new(state),
            ty,
            shape,
            device,
            bytes,
        }
    }

    /// The tensor, or its deferred values as they are (not computed).
    pub fn operand(&self) -> Result<Operand> {
        match &*self.cell.lock() {
            State::Ready(t) => Ok(Operand::Ready(t.shallow_clone())),
            State::Pending(l) => Ok(Operand::Pending(l.clone())),
            State::Gone => Err(EngineError::Deallocated),
        }
    }

    /// Computes deferred values now (nothing to do for other tensors).
    pub fn materialize(&self) -> Result<()> {
        ready(&mut self.cell.lock(), &self.shape).map(|_| ())
    }

    /// Whether the values are still deferred.
    pub fn is_pending(&self) -> bool {
        matches!(&*self.cell.lock(), State::Pending(_))
    }

    /// A new reference to the same storage, or an error when the tensor was deallocated.
    pub fn tensor(&self) -> Result<Tensor> {
        ready(&mut self.cell.lock(), &self.shape).map(Tensor::shallow_clone)
    }

    /// Runs `f` on the tensor while holding its lock (no shallow clone); `f` must not lock any
    /// tensor itself.
    pub fn with_tensor<R>(&self, f: impl FnOnce(&Tensor) -> R) -> Result<R> {
        let mut guard = self.cell.lock();
        let t = ready(&mut guard, &self.shape)?;
        Ok(f(t))
    }

    /// Runs `f` on the tensors of `a` and `b` while holding their locks, without taking shallow
    /// clones (which cost an allocation each: measurable on tiny tensors). The locks are taken
    /// in address order (one lock when `a` and `b` are the same), so concurrent calls cannot
    /// deadlock; `f` must not lock any tensor itself.
    pub fn with_pair<R>(
        a: &NxTensor,
        b: &NxTensor,
        f: impl FnOnce(&Tensor, &Tensor) -> R,
    ) -> Result<R> {
        if std::ptr::eq(a, b) {
            return a.with_tensor(|t| f(t, t));
        }
        let (first, second) = if (a as *const NxTensor) < (b as *const NxTensor) {
            (a, b)
        } else {
            (b, a)
        };
        // computing deferred values takes no other handle's lock
        let mut g1 = first.cell.lock();
        let mut g2 = second.cell.lock();
        let (t1, t2) = (
            ready(&mut g1, &first.shape)?,
            ready(&mut g2, &second.shape)?,
        );
        Ok(if std::ptr::eq(first, a) {
            f(t1, t2)
        } else {
            f(t2, t1)
        })
    }

    pub fn ty(&self) -> NxType {
        self.ty
    }

    pub fn shape(&self) -> &[i64] {
        &self.shape
    }

    pub fn numel(&self) -> i64 {
        self.shape.iter().product()
    }

    pub fn device(&self) -> Device {
        self.device
    }

    pub fn byte_size(&self) -> i64 {
        self.bytes
    }

    /// Frees the storage now (other shallow clones still in flight keep it alive until they
    /// finish). Returns false when it was already deallocated.
    pub fn deallocate(&self) -> bool {
        let taken = std::mem::replace(&mut *self.cell.lock(), State::Gone);
        match taken {
            State::Gone => false,
            other => {
                drop(other);
                memory::untrack(device::slot(self.device), self.bytes);
                true
            }
        }
    }

    /// Makes the held tensor contiguous, replacing it (under the lock) by a contiguous copy
    /// when it is a strided view, and returns a new reference to it. The values never change,
    /// so every holder of this resource sees the same tensor; the storage of the contiguous
    /// tensor then lives as long as the resource (or until `deallocate`).
    pub fn make_contiguous(&self) -> Result<Tensor> {
        let mut cell = self.cell.lock();
        ready(&mut cell, &self.shape)?;
        if let State::Ready(tensor) = &mut *cell {
            if !tensor.is_contiguous() {
                *tensor = tensor.f_contiguous().ctx("to_pointer")?;
            }
            return Ok(tensor.shallow_clone());
        }
        Err(EngineError::Deallocated)
    }

    pub fn is_deallocated(&self) -> bool {
        matches!(&*self.cell.lock(), State::Gone)
    }
}

impl Drop for NxTensor {
    fn drop(&mut self) {
        if !matches!(
            std::mem::replace(self.cell.get_mut(), State::Gone),
            State::Gone
        ) {
            memory::untrack(device::slot(self.device), self.bytes);
        }
    }
}
