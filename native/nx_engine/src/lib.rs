//! The Nx tensor engine over LibTorch. It knows nothing of Erlang: the NIF crate decodes terms
//! and calls in here, and `cargo test` exercises it alone.
//!
//! Table of contents:
//! - [`error`] — the one error type every operation returns.
//! - [`types`] — the 20 Nx element types and how each is stored in LibTorch.
//! - [`device`] — CPU and CUDA devices, and why CUDA may be unavailable.
//! - [`memory`] — live tensor counts and bytes per device.
//! - [`tensor`] — the owned tensor handle that the NIF wraps as a resource.
//! - [`lazy`] — deferred element-wise work of eager operations, fused when first needed.
//! - [`runtime`] — per-thread set-up (InferenceMode) and LibTorch's thread pool.
//! - [`split`] — short kernels split across cores by helper threads that spin briefly.
//! - [`ops`] — the operations, one module per family.
//! - [`program`] — compiled `defn` programs: build once, run in one call, fused element-wise.

pub mod device;
pub mod error;
pub mod lazy;
pub mod memory;
pub mod ops;
pub mod program;
pub mod runtime;
pub mod split;
pub mod tensor;
pub mod types;

pub use error::{EngineError, Result};
pub use tensor::NxTensor;
pub use types::NxType;
