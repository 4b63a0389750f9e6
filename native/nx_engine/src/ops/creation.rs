//! Tensors from bytes and back, and the constant-pattern constructors (iota, eye).
use super::{check_allocation, checked_numel, contiguous};
use crate::error::{EngineError, Result, TorchContext};
use crate::ops::convert::cast;
use crate::runtime::prepare_thread;
use crate::types::NxType;
use tch::{Device, Kind, Tensor};

/// Builds a tensor from an Nx binary: native-endian elements, sub-byte types packed
/// most-significant bits first (the layout of Elixir bitstring segments), padded to a byte.
pub fn from_binary(data: &[u8], ty: NxType, shape: &[i64], device: Device) -> Result<Tensor> {
    prepare_thread();
    let numel = checked_numel(shape)?;
    let expected = ty.binary_bytes(numel as usize).ok_or_else(|| {
        EngineError::argument(format!("from_binary: shape {shape:?} is too large"))
    })?;
    if data.len() != expected {
        return Err(EngineError::argument(format!(
            "from_binary: binary of {} bytes does not match {}{shape:?}, which needs {expected} bytes",
            data.len(),
            ty.name()
        )));
    }
    check_allocation(shape, ty, Device::Cpu)?;
    let tensor = Tensor::f_empty(shape, (ty.storage_kind(), Device::Cpu)).ctx("from_binary")?;
    let storage_len = numel as usize * ty.storage_bytes();
    if storage_len > 0 {
        // SAFETY: `tensor` is a freshly allocated contiguous CPU tensor of exactly `numel`
        // elements of `storage_bytes` each; we hold it for the whole write.
        let dst =
            unsafe { std::slice::from_raw_parts_mut(tensor.data_ptr() as *mut u8, storage_len) };
        if ty.is_packed() {
            unpack(data, ty, dst);
        } else {
            dst.copy_from_slice(data);
        }
    }
    if device == Device::Cpu {
        Ok(tensor)
    } else {
        tensor.f_to_device(device).ctx("from_binary")
    }
}

/// A contiguous CPU copy (or view) of the first `limit` elements, ready to be written out.
pub fn host_contiguous(tensor: &Tensor, limit: Option<usize>) -> Result<(Tensor, usize)> {
    prepare_thread();
    let numel = tensor.numel();
    let mut t = tensor.shallow_clone();
    let mut count = numel;
    if let Some(limit) = limit.filter(|&l| l < numel) {
        t = t
            .f_reshape([-1])
            .and_then(|flat| flat.f_narrow(0, 0, limit as i64))
            .ctx("to_binary")?;
        count = limit;
    }
    if t.device() != Device::Cpu {
        t = t.f_to_device(Device::Cpu).ctx("to_binary")?;
    }
    Ok((contiguous(t)?, count))
}

/// Writes `count` elements of a contiguous CPU tensor (from [`host_contiguous`]) into `dst`,
/// which must be exactly `ty.binary_bytes(count)` long.
pub fn write_binary(host: &Tensor, ty: NxType, count: usize, dst: &mut [u8]) -> Result<()> {
    let expected = ty.binary_bytes(count).unwrap_or(usize::MAX);
    let storage_len = count * ty.storage_bytes();
    if dst.len() != expected
        || !host.is_contiguous()
        || host.device() != Device::Cpu
        || host.numel() < count
        || host.f_kind().ok() != Some(ty.storage_kind())
    {
        return Err(EngineError::argument(
            "to_binary: internal size mismatch between tensor and binary",
        ));
    }
    if storage_len == 0 {
        return Ok(());
    }
    // SAFETY: `host` is contiguous on the CPU, holds at least `count` elements of the storage
    // kind checked above, and stays alive for the duration of the read.
    let src = unsafe { std::slice::from_raw_parts(host.data_ptr() as *const u8, storage_len) };
    if ty.is_packed() {
        pack(src, ty, dst);
    } else {
        dst.copy_from_slice(src);
    }
    Ok(())
}

fn unpack(data: &[u8], ty: NxType, dst: &mut [u8]) {
    let bits = ty.bits();
    let mask = (1u8 << bits) - 1;
    let per_byte = 8 / bits;
    for (i, out) in dst.iter_mut().enumerate() {
        let byte = data[i / per_byte];
        let shift = 8 - bits * (i % per_byte + 1);
        let value = (byte >> shift) & mask;
        *out = if ty.is_signed_int() && value & (1 << (bits - 1)) != 0 {
            value | !mask
        } else {
            value
        };
    }
}

fn pack(src: &[u8], ty: NxType, dst: &mut [u8]) {
    let bits = ty.bits();
    let mask = (1u8 << bits) - 1;
    let per_byte = 8 / bits;
    dst.fill(0);
    for (i, value) in src.iter().enumerate() {
        let shift = 8 - bits * (i % per_byte + 1);
        dst[i / per_byte] |= (value & mask) << shift;
    }
}

/// Counts 0, 1, 2, ... over the whole tensor (row-major) or along one axis.
pub fn iota(shape: &[i64], axis: Option<usize>, ty: NxType, device: Device) -> Result<Tensor> {
    prepare_thread();
    check_allocation(shape, ty, device)?;
    let count = match axis {
        None => checked_numel(shape)?,
        Some(a) => *shape.get(a).ok_or_else(|| {
            EngineError::argument(format!("iota: axis {a} out of range for shape {shape:?}"))
        })?,
    };
    let (kind, from) = if ty.is_integer() {
        (Kind::Int64, NxType::S64)
    } else {
        (Kind::Double, NxType::F64)
    };
    let line = Tensor::f_arange(count, (kind, device)).ctx("iota")?;
    let line = cast(&line, from, ty)?;
    let t = match axis {
        None => line.f_reshape(shape).ctx("iota")?,
        Some(a) => {
            let mut view = vec![1i64; shape.len()];
            view[a] = count;
            line.f_reshape(view.as_slice())
                .and_then(|t| t.f_expand(shape, false))
                .ctx("iota")?
        }
    };
    contiguous(t)
}

/// Identity matrices over the last two axes, repeated over the leading (batch) axes.
pub fn eye(shape: &[i64], ty: NxType, device: Device) -> Result<Tensor> {
    prepare_thread();
    check_allocation(shape, ty, device)?;
    let rank = shape.len();
    if rank < 2 {
        return Err(EngineError::argument(format!(
            "eye: shape must have at least rank 2, got {shape:?}"
        )));
    }
    let (rows, cols) = (shape[rank - 2], shape[rank - 1]);
    let matrix = Tensor::f_eye_m(rows, cols, (Kind::Int64, device)).ctx("eye")?;
    let matrix = cast(&matrix, NxType::S64, ty)?;
    let t = matrix.f_expand(shape, false).ctx("eye")?;
    contiguous(t)
}

/// The address and byte size of a contiguous tensor's data, for `Nx.to_pointer/2`. The caller
/// keeps the tensor (and so its storage) alive for as long as the address is used.
pub fn data_pointer(tensor: &Tensor, ty: NxType) -> Result<(u64, usize)> {
    if ty.is_packed() {
        return Err(EngineError::argument(format!(
            "{} tensors are stored one element per byte, not in Nx's packed layout",
            ty.name()
        )));
    }
    if !tensor.is_contiguous() {
        return Err(EngineError::argument("the tensor is not contiguous"));
    }
    let bytes = tensor
        .numel()
        .checked_mul(ty.storage_bytes())
        .ok_or_else(|| EngineError::argument("tensor too large"))?;
    if bytes == 0 {
        return Err(EngineError::argument(
            "an empty tensor has no data to point to",
        ));
    }
    Ok((tensor.data_ptr() as u64, bytes))
}

/// Copies `bytes` bytes at `address` (host memory for the CPU, device memory for CUDA) into a
/// new tensor of `ty` and `shape` on `device`, for `Nx.from_pointer/5`.
///
/// # Safety
///
/// `address` must point to at least `bytes` readable bytes on `device` for the whole call.
pub unsafe fn from_pointer(
    address: u64,
    bytes: usize,
    ty: NxType,
    shape: &[i64],
    device: Device,
) -> Result<Tensor> {
    prepare_thread();
    if ty.is_packed() {
        return Err(EngineError::argument(format!(
            "from_pointer does not support sub-byte type {}",
            ty.name()
        )));
    }
    let numel = checked_numel(shape)?;
    let expected = (numel as u128) * (ty.storage_bytes() as u128);
    if bytes as u128 != expected {
        return Err(EngineError::argument(format!(
            "the pointer's data_size is {bytes} bytes, a {}{shape:?} tensor needs {expected}",
            ty.name()
        )));
    }
    if address == 0 && bytes > 0 {
        return Err(EngineError::argument("the pointer's address is null"));
    }
    check_allocation(shape, ty, device)?;
    let out = Tensor::f_empty(shape, (ty.storage_kind(), device)).ctx("from_pointer")?;
    if bytes == 0 {
        return Ok(out);
    }
    // SAFETY: guaranteed by the caller; the view only lives until the copy below returns.
    let view = Tensor::f_from_blob(address as *const u8, shape, &[], ty.storage_kind(), device)
        .ctx("from_pointer")?;
    let mut out = out;
    out.f_copy_(&view).ctx("from_pointer")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_bytes() {
        let data: Vec<u8> = (1i32..=6).flat_map(|v| v.to_ne_bytes()).collect();
        let t = from_binary(&data, NxType::S32, &[2, 3], Device::Cpu).unwrap();
        let (host, n) = host_contiguous(&t, None).unwrap();
        let mut out = vec![0u8; 24];
        write_binary(&host, NxType::S32, n, &mut out).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn rejects_wrong_sizes() {
        assert!(from_binary(&[0u8; 3], NxType::S32, &[1], Device::Cpu).is_err());
        assert!(from_binary(&[], NxType::S32, &[-1], Device::Cpu).is_err());
        assert!(from_binary(&[], NxType::F32, &[i64::MAX, 2], Device::Cpu).is_err());
    }

    #[test]
    fn packs_sub_byte_types() {
        // s4 elements -1, 2, -8 packed as 0xF2, 0x80
        let t = from_binary(&[0xF2, 0x80], NxType::S4, &[3], Device::Cpu).unwrap();
        let mut values = [0i8; 3];
        t.f_copy_data(&mut values, 3).unwrap();
        assert_eq!(values, [-1, 2, -8]);
        let (host, n) = host_contiguous(&t, None).unwrap();
        let mut out = [0u8; 2];
        write_binary(&host, NxType::S4, n, &mut out).unwrap();
        assert_eq!(out, [0xF2, 0x80]);
    }

    #[test]
    fn iota_along_axis() {
        let t = iota(&[2, 3], Some(1), NxType::S32, Device::Cpu).unwrap();
        let mut values = [0i32; 6];
        t.f_copy_data(&mut values, 6).unwrap();
        assert_eq!(values, [0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn pointers_round_trip() {
        let t = iota(&[2, 3], None, NxType::F32, Device::Cpu).unwrap();
        let (address, bytes) = data_pointer(&t, NxType::F32).unwrap();
        assert_eq!(bytes, 24);
        let copy =
            unsafe { from_pointer(address, bytes, NxType::F32, &[3, 2], Device::Cpu) }.unwrap();
        let mut values = [0f32; 6];
        copy.f_copy_data(&mut values, 6).unwrap();
        assert_eq!(values, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert!(unsafe { from_pointer(address, 20, NxType::F32, &[2, 3], Device::Cpu) }.is_err());
        assert!(data_pointer(&t, NxType::S4).is_err());
    }

    #[test]
    fn limit_takes_a_prefix() {
        let t = iota(&[2, 3], None, NxType::F64, Device::Cpu).unwrap();
        let (host, n) = host_contiguous(&t, Some(4)).unwrap();
        assert_eq!(n, 4);
        let mut out = vec![0u8; 32];
        write_binary(&host, NxType::F64, n, &mut out).unwrap();
        assert_eq!(f64::from_ne_bytes(out[24..32].try_into().unwrap()), 3.0);
    }
}
