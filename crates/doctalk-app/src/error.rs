//! The application's error type. Each error has a stable, machine-readable code that the doors pass
//! on as they are: the HTTP server maps it to a status (`doctalk-server`'s `ServerError`), the
//! desktop app hands it to the UI, which shows the same message for both.

use doctalk_core::CoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The request itself is wrong (a bad name, a missing field, an unknown choice).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// The language model's queue is full: the admission policy working, not a fault.
    #[error("{0}; try again shortly")]
    Busy(String),
    /// Reading or writing a file failed.
    #[error("{0}")]
    Io(String),
}

/// What kind of failure an [`AppError`] is, for the doors to translate (an HTTP status, a dialog).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller asked for something wrong.
    BadRequest,
    NotFound,
    /// A name that is taken.
    Conflict,
    /// Try again later.
    Busy,
    /// Not the caller's fault.
    Internal,
}

impl AppError {
    /// The stable code clients switch on (`not_found`, `bad_request`, …) and its kind.
    pub fn code_and_kind(&self) -> (&'static str, ErrorKind) {
        match self {
            AppError::BadRequest(_) => ("bad_request", ErrorKind::BadRequest),
            AppError::NotFound(_) => ("not_found", ErrorKind::NotFound),
            AppError::Busy(_) => ("model_busy", ErrorKind::Busy),
            AppError::Io(_) => ("internal", ErrorKind::Internal),
            AppError::Core(
                CoreError::NoSuchDocument(_)
                | CoreError::EmptyFolder(_)
                | CoreError::NoSuchConversation(_)
                | CoreError::NoSuchKb(_)
                | CoreError::NoSuchUser(_),
            ) => ("not_found", ErrorKind::NotFound),
            // Not the request's fault, and not a passing one: it says how to repair.
            AppError::Core(CoreError::Damaged { .. }) => ("index_damaged", ErrorKind::Internal),
            AppError::Core(CoreError::UserExists(_)) => ("conflict", ErrorKind::Conflict),
            AppError::Core(
                CoreError::BadKbName(_)
                | CoreError::BadUserName(_)
                | CoreError::BadSettings(_)
                | CoreError::NoFaqPairs(_)
                | CoreError::EmptyKnowledgeBase
                | CoreError::Folder { .. }
                | CoreError::Archive { .. },
            ) => ("bad_request", ErrorKind::BadRequest),
            AppError::Core(CoreError::EmptyQuestion) => ("empty_question", ErrorKind::BadRequest),
            AppError::Core(_) => ("internal", ErrorKind::Internal),
        }
    }

    /// The stable code clients switch on.
    pub fn code(&self) -> &'static str {
        self.code_and_kind().0
    }
}
