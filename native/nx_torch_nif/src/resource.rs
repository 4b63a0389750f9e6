//! The tensor resource: one `NxTensor` per Elixir reference. `NxTensor` keeps its LibTorch
//! tensor behind a mutex, which makes it `Sync` without any `unsafe impl`.
use nx_engine::{NxTensor, NxType};
use rustler::{Resource, ResourceArc};
use tch::Tensor;

pub struct TensorRef(pub NxTensor);

#[rustler::resource_impl]
impl Resource for TensorRef {}

pub type TRef = ResourceArc<TensorRef>;

pub fn wrap(tensor: Tensor, ty: NxType) -> TRef {
    ResourceArc::new(TensorRef(NxTensor::new(tensor, ty)))
}

pub fn wrap_nx(tensor: NxTensor) -> TRef {
    ResourceArc::new(TensorRef(tensor))
}

// rustler catches panics while encoding results and needs `RefUnwindSafe` for that. A panic can
// never leave a `TensorRef` half-updated: its only critical sections are taking a shallow clone
// and taking the tensor out on deallocation, neither of which can panic midway.
impl std::panic::RefUnwindSafe for TensorRef {}
