//! Engine errors become Elixir exceptions here and nowhere else: the NIF raises the exception
//! struct itself (a map with `__exception__: true`), so `rescue ArgumentError` works directly.
use nx_engine::EngineError;
use rustler::{Encoder, Env, Term};

pub struct Exception {
    module: &'static str,
    message: String,
}

impl Encoder for Exception {
    fn encode<'a>(&self, env: Env<'a>) -> Term<'a> {
        let keys = [
            rustler::Atom::from_str(env, "__struct__")
                .map(|a| a.encode(env))
                .unwrap_or_else(|_| "__struct__".encode(env)),
            rustler::Atom::from_str(env, "__exception__")
                .map(|a| a.encode(env))
                .unwrap_or_else(|_| "__exception__".encode(env)),
            rustler::Atom::from_str(env, "message")
                .map(|a| a.encode(env))
                .unwrap_or_else(|_| "message".encode(env)),
        ];
        let module = rustler::Atom::from_str(env, self.module)
            .map(|a| a.encode(env))
            .unwrap_or_else(|_| self.module.encode(env));
        let values = [module, true.encode(env), self.message.encode(env)];
        Term::map_from_arrays(env, &keys, &values).unwrap_or_else(|_| self.message.encode(env))
    }
}

pub fn raise(module: &'static str, message: String) -> rustler::Error {
    rustler::Error::RaiseTerm(Box::new(Exception { module, message }))
}

pub fn to_nif_error(error: EngineError) -> rustler::Error {
    match error {
        EngineError::Argument(_) | EngineError::Deallocated | EngineError::Device(_) => {
            raise("Elixir.ArgumentError", error.to_string())
        }
        EngineError::Torch { .. } => raise("Elixir.RuntimeError", error.to_string()),
    }
}

pub type NifResult<T> = Result<T, rustler::Error>;

/// `?` on engine results inside NIF bodies.
pub trait OrRaise<T> {
    fn or_raise(self) -> NifResult<T>;
}

impl<T> OrRaise<T> for nx_engine::Result<T> {
    fn or_raise(self) -> NifResult<T> {
        self.map_err(to_nif_error)
    }
}
