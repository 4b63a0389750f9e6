//! Devices: the CPU and CUDA GPUs. CUDA needs libtorch_cuda loaded, which a CPU-only build
//! does not have; every CUDA request checks availability first and says why it is missing.
use crate::error::{EngineError, Result};
use tch::Device;

/// A device as the NIF boundary encodes it: -1 is the CPU, n >= 0 is CUDA device n.
pub fn from_code(code: i64) -> Result<Device> {
    match code {
        -1 => Ok(Device::Cpu),
        n if n >= 0 => {
            let index = usize::try_from(n)
                .map_err(|_| EngineError::argument(format!("invalid CUDA device index {n}")))?;
            let count = cuda_device_count();
            if count == 0 {
                return Err(EngineError::Device(format!(
                    "CUDA device {n} requested but CUDA is not available: {}",
                    cuda_unavailable_reason()
                )));
            }
            if index >= count {
                return Err(EngineError::Device(format!(
                    "CUDA device {n} requested but only {count} device(s) are available"
                )));
            }
            Ok(Device::Cuda(index))
        }
        other => Err(EngineError::argument(format!(
            "invalid device code {other}"
        ))),
    }
}

pub fn to_code(device: Device) -> i64 {
    match device {
        Device::Cuda(n) => n as i64,
        _ => -1,
    }
}

/// Index into per-device tables: 0 is the CPU, 1 + n is CUDA device n.
pub fn slot(device: Device) -> usize {
    match device {
        Device::Cuda(n) => 1 + n,
        _ => 0,
    }
}

pub fn cuda_device_count() -> usize {
    if tch::Cuda::is_available() {
        usize::try_from(tch::Cuda::device_count()).unwrap_or(0)
    } else {
        0
    }
}

/// Whether the NVIDIA driver library (libcuda.so) can be loaded.
pub fn cuda_driver_present() -> bool {
    // SAFETY: only tries to dlopen the driver library; cudarc's other entry points panic
    // without it, which is why this check comes first.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

/// Why CUDA cannot be used, in words a user can act on.
pub fn cuda_unavailable_reason() -> String {
    if tch::Cuda::is_available() {
        return "CUDA is available".to_string();
    }
    if !cuda_driver_present() {
        return "no NVIDIA driver was found (libcuda.so could not be loaded)".to_string();
    }
    match crate::runtime::cuda_load_result() {
        Some(Err(message)) => format!(
            "libtorch_cuda.so could not be loaded ({message}); this is the CPU-only set-up: \
             run `NX_TORCH_CUDA=1 make setup` and rebuild to fetch the CUDA libraries"
        ),
        _ => "LibTorch's CUDA support is not loaded; run `NX_TORCH_CUDA=1 make setup` and \
              rebuild"
            .to_string(),
    }
}

/// One CUDA device as the driver describes it.
#[derive(Clone, Debug)]
pub struct CudaDeviceInfo {
    pub index: usize,
    pub name: String,
    pub total_bytes: u64,
    pub free_bytes: u64,
}

/// The CUDA devices the driver reports (empty without a driver). Uses cudarc directly, so it
/// works even when LibTorch's CUDA support is not loaded.
pub fn cuda_devices() -> Vec<CudaDeviceInfo> {
    use cudarc::driver::CudaContext;
    if !cuda_driver_present() {
        return Vec::new();
    }
    let count = CudaContext::device_count().unwrap_or(0).max(0) as usize;
    (0..count)
        .filter_map(|index| {
            let ctx = CudaContext::new(index).ok()?;
            let name = ctx.name().unwrap_or_else(|_| "unknown".to_string());
            let (free, total) = ctx.mem_get_info().unwrap_or((0, 0));
            Some(CudaDeviceInfo {
                index,
                name,
                total_bytes: total as u64,
                free_bytes: free as u64,
            })
        })
        .collect()
}
