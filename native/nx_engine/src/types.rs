//! The 20 element types of Nx 0.13 and their storage in LibTorch.
//!
//! LibTorch has no kernels (and tch no `Kind`) for u16, u32 and u64, nor sub-byte integers.
//! Those are stored bit for bit in the signed kind of the same width (u16 in Int16, ...) or
//! unpacked one element per byte (s2/s4 in Int8, u2/u4 in Uint8). The Nx type always travels
//! with the tensor, so operations know how to reinterpret the bits.
use crate::error::{EngineError, Result};
use tch::Kind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NxType {
    S2,
    S4,
    S8,
    S16,
    S32,
    S64,
    U2,
    U4,
    U8,
    U16,
    U32,
    U64,
    F8E5M2,
    F8E4M3FN,
    F16,
    BF16,
    F32,
    F64,
    C64,
    C128,
}

/// All types, in the order of their integer codes (the NIF boundary passes types as codes).
pub const ALL_TYPES: [NxType; 20] = [
    NxType::S2,
    NxType::S4,
    NxType::S8,
    NxType::S16,
    NxType::S32,
    NxType::S64,
    NxType::U2,
    NxType::U4,
    NxType::U8,
    NxType::U16,
    NxType::U32,
    NxType::U64,
    NxType::F8E5M2,
    NxType::F8E4M3FN,
    NxType::F16,
    NxType::BF16,
    NxType::F32,
    NxType::F64,
    NxType::C64,
    NxType::C128,
];

impl NxType {
    pub fn from_code(code: i64) -> Result<NxType> {
        usize::try_from(code)
            .ok()
            .and_then(|index| ALL_TYPES.get(index).copied())
            .ok_or_else(|| EngineError::argument(format!("unknown type code {code}")))
    }

    pub fn code(self) -> i64 {
        ALL_TYPES.iter().position(|t| *t == self).unwrap_or(0) as i64
    }

    /// The name Nx prints, e.g. `f32`, `bf16`, `f8_e4m3fn`.
    pub fn name(self) -> &'static str {
        match self {
            NxType::S2 => "s2",
            NxType::S4 => "s4",
            NxType::S8 => "s8",
            NxType::S16 => "s16",
            NxType::S32 => "s32",
            NxType::S64 => "s64",
            NxType::U2 => "u2",
            NxType::U4 => "u4",
            NxType::U8 => "u8",
            NxType::U16 => "u16",
            NxType::U32 => "u32",
            NxType::U64 => "u64",
            NxType::F8E5M2 => "f8",
            NxType::F8E4M3FN => "f8_e4m3fn",
            NxType::F16 => "f16",
            NxType::BF16 => "bf16",
            NxType::F32 => "f32",
            NxType::F64 => "f64",
            NxType::C64 => "c64",
            NxType::C128 => "c128",
        }
    }

    /// Bits per element as Nx counts them (c64 is 64).
    pub fn bits(self) -> usize {
        match self {
            NxType::S2 | NxType::U2 => 2,
            NxType::S4 | NxType::U4 => 4,
            NxType::S8 | NxType::U8 | NxType::F8E5M2 | NxType::F8E4M3FN => 8,
            NxType::S16 | NxType::U16 | NxType::F16 | NxType::BF16 => 16,
            NxType::S32 | NxType::U32 | NxType::F32 => 32,
            NxType::S64 | NxType::U64 | NxType::F64 | NxType::C64 => 64,
            NxType::C128 => 128,
        }
    }

    /// Sub-byte types are packed in Nx binaries and unpacked in LibTorch.
    pub fn is_packed(self) -> bool {
        self.bits() < 8
    }

    pub fn is_unsigned(self) -> bool {
        matches!(
            self,
            NxType::U2 | NxType::U4 | NxType::U8 | NxType::U16 | NxType::U32 | NxType::U64
        )
    }

    pub fn is_signed_int(self) -> bool {
        matches!(
            self,
            NxType::S2 | NxType::S4 | NxType::S8 | NxType::S16 | NxType::S32 | NxType::S64
        )
    }

    pub fn is_integer(self) -> bool {
        self.is_unsigned() || self.is_signed_int()
    }

    pub fn is_complex(self) -> bool {
        matches!(self, NxType::C64 | NxType::C128)
    }

    pub fn is_float(self) -> bool {
        !self.is_integer() && !self.is_complex()
    }

    /// The LibTorch kind that holds this type's elements.
    pub fn storage_kind(self) -> Kind {
        match self {
            NxType::S2 | NxType::S4 | NxType::S8 => Kind::Int8,
            NxType::U2 | NxType::U4 | NxType::U8 => Kind::Uint8,
            NxType::S16 | NxType::U16 => Kind::Int16,
            NxType::S32 | NxType::U32 => Kind::Int,
            NxType::S64 | NxType::U64 => Kind::Int64,
            NxType::F8E5M2 => Kind::Float8e5m2,
            NxType::F8E4M3FN => Kind::Float8e4m3fn,
            NxType::F16 => Kind::Half,
            NxType::BF16 => Kind::BFloat16,
            NxType::F32 => Kind::Float,
            NxType::F64 => Kind::Double,
            NxType::C64 => Kind::ComplexFloat,
            NxType::C128 => Kind::ComplexDouble,
        }
    }

    /// Bytes per element in LibTorch storage.
    pub fn storage_bytes(self) -> usize {
        match self {
            NxType::S2 | NxType::S4 | NxType::U2 | NxType::U4 => 1,
            other => other.bits() / 8,
        }
    }

    /// Bytes that `numel` elements take in an Nx binary (sub-byte types packed).
    pub fn binary_bytes(self, numel: usize) -> Option<usize> {
        numel.checked_mul(self.bits()).map(|bits| bits.div_ceil(8))
    }

    /// A type with LibTorch kernels that represents every value of `self` exactly, used to
    /// compute where LibTorch has no kernel for the storage kind. u64 has none: callers
    /// handle it with care (its bits live in Int64).
    pub fn compute_type(self) -> NxType {
        match self {
            NxType::S2 | NxType::S4 => NxType::S8,
            NxType::U2 | NxType::U4 => NxType::U8,
            NxType::U16 => NxType::S32,
            NxType::U32 => NxType::S64,
            NxType::F8E5M2 | NxType::F8E4M3FN => NxType::F32,
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for t in ALL_TYPES {
            assert_eq!(NxType::from_code(t.code()).unwrap(), t);
        }
        assert!(NxType::from_code(20).is_err());
        assert!(NxType::from_code(-1).is_err());
    }

    #[test]
    fn storage_sizes_match_kinds() {
        for t in ALL_TYPES {
            assert_eq!(t.storage_bytes(), t.storage_kind().elt_size_in_bytes());
        }
    }

    #[test]
    fn packed_binary_sizes() {
        assert_eq!(NxType::U4.binary_bytes(3), Some(2));
        assert_eq!(NxType::S2.binary_bytes(4), Some(1));
        assert_eq!(NxType::C128.binary_bytes(2), Some(32));
        assert_eq!(NxType::F64.binary_bytes(usize::MAX), None);
    }
}
