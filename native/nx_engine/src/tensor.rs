//! The owned tensor handle.
//!
//! `tch::Tensor` is `Send` but not `Sync`, while a BEAM resource is shared by every process that
//! holds a reference. The handle therefore keeps its tensor behind a mutex and hands out
//! `shallow_clone`s (a new reference to the same storage) taken under the lock; operations run
//! outside the lock, so `add(a, a)` cannot deadlock and a long operation never blocks others.
//! Tensors are never mutated in place once wrapped, so sharing the storage is sound.
use crate::device;
use crate::error::{EngineError, Result, TorchContext};
use crate::memory;
use crate::types::NxType;
use parking_lot::Mutex;
use tch::{Device, Tensor};

pub struct NxTensor {
    cell: Mutex<Option<Tensor>>,
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
        let numel: i64 = shape.iter().product();
        let bytes = numel.saturating_mul(ty.storage_bytes() as i64);
        memory::track(device::slot(device), bytes);
        NxTensor {
            cell: Mutex::new(Some(tensor)),
            ty,
            shape,
            device,
            bytes,
        }
    }

    /// A new reference to the same storage, or an error when the tensor was deallocated.
    pub fn tensor(&self) -> Result<Tensor> {
        self.cell
            .lock()
            .as_ref()
            .map(Tensor::shallow_clone)
            .ok_or(EngineError::Deallocated)
    }

    /// Runs `f` on the tensor while holding its lock (no shallow clone); `f` must not lock any
    /// tensor itself.
    pub fn with_tensor<R>(&self, f: impl FnOnce(&Tensor) -> R) -> Result<R> {
        let guard = self.cell.lock();
        let t = guard.as_ref().ok_or(EngineError::Deallocated)?;
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
        let g1 = first.cell.lock();
        let g2 = second.cell.lock();
        let (t1, t2) = (
            g1.as_ref().ok_or(EngineError::Deallocated)?,
            g2.as_ref().ok_or(EngineError::Deallocated)?,
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
        let taken = self.cell.lock().take();
        match taken {
            Some(tensor) => {
                drop(tensor);
                memory::untrack(device::slot(self.device), self.bytes);
                true
            }
            None => false,
        }
    }

    /// Makes the held tensor contiguous, replacing it (under the lock) by a contiguous copy
    /// when it is a strided view, and returns a new reference to it. The values never change,
    /// so every holder of this resource sees the same tensor; the storage of the contiguous
    /// tensor then lives as long as the resource (or until `deallocate`).
    pub fn make_contiguous(&self) -> Result<Tensor> {
        let mut cell = self.cell.lock();
        let tensor = cell.as_mut().ok_or(EngineError::Deallocated)?;
        if !tensor.is_contiguous() {
            *tensor = tensor.f_contiguous().ctx("to_pointer")?;
        }
        Ok(tensor.shallow_clone())
    }

    pub fn is_deallocated(&self) -> bool {
        self.cell.lock().is_none()
    }
}

impl Drop for NxTensor {
    fn drop(&mut self) {
        if self.cell.get_mut().take().is_some() {
            memory::untrack(device::slot(self.device), self.bytes);
        }
    }
}
