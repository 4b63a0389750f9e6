//! Decoding of the small values the Elixir side passes: types and devices as integer codes,
//! shapes as tuples of integers.
use crate::errors::{raise, NifResult, OrRaise};
use nx_engine::NxType;
use rustler::Term;
use tch::Device;

pub fn ty(code: i64) -> NifResult<NxType> {
    NxType::from_code(code).or_raise()
}

pub fn device(code: i64) -> NifResult<Device> {
    nx_engine::device::from_code(code).or_raise()
}

pub fn shape(term: Term) -> NifResult<Vec<i64>> {
    let elements = rustler::types::tuple::get_tuple(term)
        .map_err(|_| raise("Elixir.ArgumentError", "expected a shape tuple".to_string()))?;
    elements
        .iter()
        .map(|element| {
            element.decode::<i64>().map_err(|_| {
                raise(
                    "Elixir.ArgumentError",
                    "shape dimensions must be integers".to_string(),
                )
            })
        })
        .collect()
}
