//! The engine's error type. Validation failures are `Argument` (an `ArgumentError` in Elixir);
//! failures inside LibTorch are `Torch`; using a freed tensor is `Deallocated`.
use thiserror::Error;

#[derive(Debug, Error)]
pub enum EngineError {
    #[error("{0}")]
    Argument(String),
    #[error("LibTorch error in {op}: {message}")]
    Torch { op: &'static str, message: String },
    #[error("tensor has been deallocated")]
    Deallocated,
    #[error("{0}")]
    Device(String),
}

pub type Result<T> = std::result::Result<T, EngineError>;

impl EngineError {
    pub fn argument(message: impl Into<String>) -> Self {
        EngineError::Argument(message.into())
    }
}

/// Adds the operation name to a LibTorch error. LibTorch messages carry a C++ backtrace after
/// the first line; only the first lines are kept, since the rest means nothing to an Nx user.
pub trait TorchContext<T> {
    fn ctx(self, op: &'static str) -> Result<T>;
}

impl<T> TorchContext<T> for std::result::Result<T, tch::TchError> {
    fn ctx(self, op: &'static str) -> Result<T> {
        self.map_err(|err| {
            let text = err.to_string();
            let message = text
                .lines()
                .take_while(|line| !line.starts_with("Exception raised from"))
                .collect::<Vec<_>>()
                .join("\n");
            EngineError::Torch { op, message }
        })
    }
}
