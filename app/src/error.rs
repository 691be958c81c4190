//! The one error type of services and server functions.
//!
//! Its messages are written for the person who sees them: 4xx variants say what to fix;
//! `Internal` says nothing about the cause, which the server logs instead.
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Authentication required. Please log in.")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// A rejected save: a summary and every reason.
    #[error("{message}")]
    Rejected {
        message: String,
        errors: Vec<String>,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// A service Flowgate called (misp-modules, a webhook) failed or answered an error.
    #[error("{0}")]
    Upstream(String),
    #[error("Internal error. The cause was logged on the server.")]
    Internal,
    /// Transport-level failure of a server function call (network, decoding).
    #[error("Request failed: {0}")]
    Transport(String),
}

impl AppError {
    /// The HTTP status MISP uses for this kind of error.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthenticated => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::Invalid(_) | AppError::Rejected { .. } => 400,
            AppError::Conflict(_) => 409,
            AppError::TooManyRequests(_) => 429,
            AppError::Upstream(_) => 502,
            AppError::Internal | AppError::Transport(_) => 500,
        }
    }

    pub fn forbidden_site_admin() -> Self {
        AppError::Forbidden("This page is only accessible to site administrators.".into())
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // A form the server function cannot read is bad input, not a server fault.
            ServerFnErrorErr::Args(why) => {
                AppError::Invalid(format!("The form could not be read: {why}"))
            }
            ServerFnErrorErr::MissingArg(name) => {
                AppError::Invalid(format!("The form lacks `{name}`."))
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}
