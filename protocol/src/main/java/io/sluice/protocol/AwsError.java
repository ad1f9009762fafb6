package io.sluice.protocol;

/**
 * The catalogue of errors Sluice answers with, in the spirit of Kafka's {@code Errors}: the name as
 * AWS spells it in {@code __type}, {@code x-amzn-ErrorType} and Query {@code <Code>}, the HTTP
 * status AWS uses, and whose fault it is (a client fault is the caller's mistake and changes
 * nothing; a server fault is logged and worth a retry). The constant names are the wire names and
 * must never change: clients switch on them, and entities' rejections travel between nodes by them.
 */
public enum AwsError {
    // request shape and protocol
    SerializationException(400),
    UnknownOperationException(400),
    ValidationException(400),
    InvalidArgumentException(400),
    // authentication (AWS JSON services answer these with 400)
    MissingAuthenticationTokenException(400),
    IncompleteSignatureException(400),
    InvalidSignatureException(400),
    UnrecognizedClientException(400),
    AccessDeniedException(400),
    // Kinesis
    ResourceNotFoundException(400),
    ResourceInUseException(400),
    LimitExceededException(400),
    ProvisionedThroughputExceededException(400),
    ExpiredIteratorException(400),
    ExpiredNextTokenException(400),
    KMSDisabledException(400),
    KMSInvalidStateException(400),
    KMSAccessDeniedException(400),
    KMSNotFoundException(400),
    KMSOptInRequired(400),
    KMSThrottlingException(400),
    /** What ends a SubscribeToShard event stream when Sluice itself failed (its event stream's member). */
    InternalFailureException(500),
    // KMS
    NotFoundException(400),
    DisabledException(400),
    InvalidCiphertextException(400),
    AlreadyExistsException(400),
    InvalidKeyUsageException(400),
    InvalidArnException(400),
    InvalidAliasNameException(400),
    UnsupportedOperationException(400),
    KMSInternalException(500),
    // DynamoDB
    ConditionalCheckFailedException(400),
    // IAM (Query protocol: codes without the "Exception" suffix)
    NoSuchEntity(404),
    EntityAlreadyExists(409),
    DeleteConflict(409),
    LimitExceeded(409),
    MalformedPolicyDocument(400),
    ValidationError(400),
    InvalidClientTokenId(403),
    SignatureDoesNotMatch(403),
    AccessDenied(403),
    /** STS's name for a credential or session past its lifetime; the console's session answers it with 401. */
    ExpiredTokenException(400),
    InvalidAction(400),
    InvalidQueryParameter(400),
    // server side
    InternalFailure(500),
    ServiceUnavailable(503);

    /** Whose fault an error is; the Query protocol calls them Sender and Receiver. */
    public enum Fault { CLIENT, SERVER }

    private static final java.util.Map<String, AwsError> BY_WIRE_NAME;

    static {
        java.util.Map<String, AwsError> byName = new java.util.HashMap<>();
        for (AwsError e : values()) byName.put(e.wireName(), e);
        BY_WIRE_NAME = java.util.Map.copyOf(byName);
    }

    private final int status;
    private final String wireName;

    AwsError(int status) {
        this(status, null);
    }

    AwsError(int status, String wireName) {
        this.status = status;
        this.wireName = wireName;
    }

    public int status() {
        return status;
    }

    /** The name clients see; equal to the constant's name except where two services share a name. */
    public String wireName() {
        return wireName == null ? name() : wireName;
    }

    public Fault fault() {
        return status >= 500 ? Fault.SERVER : Fault.CLIENT;
    }

    /** The error a wire name stands for, if Sluice knows it. */
    public static java.util.Optional<AwsError> forName(String wireName) {
        return java.util.Optional.ofNullable(wireName == null ? null : BY_WIRE_NAME.get(wireName));
    }

    public ApiException exception(String message) {
        return new ApiException(this, message);
    }
}
