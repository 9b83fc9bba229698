//! The errors the API answers with: AWS's error names (the `__type` of a
//! Step Functions error response) and HTTP statuses, in one enum, so a call
//! site cannot misspell one and a status is decided in one place.

macro_rules! aws_errors {
    (@wire $name:ident $wire:literal) => { $wire };
    (@wire $name:ident) => { stringify!($name) };
    ($($name:ident $(($wire:literal))? => $status:literal),* $(,)?) => {
        /// An AWS Step Functions (or EventBridge Scheduler) error, by its wire name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum AwsError {
            $($name,)*
        }

        impl AwsError {
            /// Every error, for documentation and tests.
            pub const ALL: &'static [AwsError] = &[$(AwsError::$name,)*];

            /// The name on the wire (`__type`, and the AWS SDKs' error code).
            pub fn name(self) -> &'static str {
                match self {
                    $(AwsError::$name => aws_errors!(@wire $name $($wire)?),)*
                }
            }

            /// The HTTP status AWS answers it with.
            pub fn http_status(self) -> u16 {
                match self {
                    $(AwsError::$name => $status,)*
                }
            }
        }
    };
}

aws_errors! {
    ActivityDoesNotExist => 400,
    ConflictException => 400,
    ExecutionAlreadyExists => 400,
    ExecutionDoesNotExist => 400,
    ExecutionNotRedrivable => 400,
    ExecutionNotRunning => 400,
    ExpiredTokenException => 400,
    IncompleteSignatureException => 400,
    InternalFailure => 500,
    InvalidArn => 400,
    InvalidDefinition => 400,
    InvalidExecutionInput => 400,
    InvalidName => 400,
    InvalidOutput => 400,
    InvalidParameterValue => 400,
    InvalidSignatureException => 400,
    InvalidToken => 400,
    MissingAuthenticationTokenException => 400,
    MissingRequiredParameter => 400,
    QueryFailed => 400,
    QueryTimedOut => 400,
    RequestEntityTooLargeException => 413,
    RequestTimeoutException => 408,
    ResourceNotFound => 400,
    // EventBridge Scheduler's errors (REST-JSON, with their own statuses).
    SchedulerConflict("ConflictException") => 409,
    SchedulerResourceNotFound("ResourceNotFoundException") => 404,
    ServiceQuotaExceededException => 402,
    SerializationException => 400,
    StateMachineAlreadyExists => 400,
    StateMachineDoesNotExist => 400,
    StateMachineTypeNotSupported => 400,
    TaskTimedOut => 400,
    ThrottlingException => 400,
    TooManyTags => 400,
    UnknownOperationException => 400,
    UnrecognizedClientException => 400,
    UnsupportedOperation => 400,
    UpdateRejected => 400,
    UpdateTimedOut => 400,
    ValidationException => 400,
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::AwsError;

    #[test]
    fn names_are_the_variants_and_statuses_are_aws_s() {
        assert_eq!(AwsError::TaskTimedOut.name(), "TaskTimedOut");
        assert_eq!(AwsError::InternalFailure.http_status(), 500);
        assert!(AwsError::ALL.iter().all(|e| e.name().chars().all(|c| c.is_ascii_alphanumeric())));
    }
}
