//! NIFs that fail on purpose, so tests can show that a panic in a NIF body, in a decoder or in
//! an encoder becomes an Elixir exception and the VM lives on.
use rustler::{Decoder, Encoder, Env, NifResult, Term};

struct PanicsOnDecode;

impl<'a> Decoder<'a> for PanicsOnDecode {
    fn decode(_term: Term<'a>) -> NifResult<Self> {
        panic!("deliberate panic in a decoder")
    }
}

struct PanicsOnEncode;

impl Encoder for PanicsOnEncode {
    fn encode<'a>(&self, _env: Env<'a>) -> Term<'a> {
        panic!("deliberate panic in an encoder")
    }
}

#[rustler::nif]
fn dbg_panic_body() -> i64 {
    panic!("deliberate panic in a NIF body")
}

#[rustler::nif]
fn dbg_panic_decode(_value: PanicsOnDecode) -> i64 {
    0
}

#[rustler::nif]
fn dbg_panic_encode() -> PanicsOnEncode {
    PanicsOnEncode
}
