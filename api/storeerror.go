package api

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// StoreError is a failed DynamoDB call, classified for the answer and
// described for the log. errors.Is(err, ErrUnavailable) says whether it may
// pass by itself (503); otherwise it is a fault of the configuration or of
// the code (500).
type StoreError struct {
	Op string
	// Reason is DynamoDB's error code (ThrottlingException,
	// ResourceNotFoundException, ...) or what happened without an answer
	// ("endpoint unreachable", "timeout").
	Reason string
	// RequestID is the AWS request id of the failed call, when DynamoDB
	// answered: AWS support asks for it.
	RequestID   string
	Err         error
	unavailable bool
}

func (e *StoreError) Error() string {
	msg := e.Op + ": " + e.Reason
	if e.RequestID != "" {
		msg += " (AWS request id " + e.RequestID + ")"
	}
	return msg + ": " + e.Err.Error()
}

func (e *StoreError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnavailable) true for a passing failure.
func (e *StoreError) Is(target error) bool { return target == ErrUnavailable && e.unavailable }

// Error codes of DynamoDB that mean "try again later". The SDK has already
// retried them when the store sees them.
var transientCodes = map[string]bool{
	"ThrottlingException":                    true,
	"ProvisionedThroughputExceededException": true,
	"RequestLimitExceeded":                   true,
	"TransactionInProgressException":         true,
	"TransactionConflictException":           true,
	"InternalServerError":                    true,
	"ServiceUnavailable":                     true,
	"LimitExceededException":                 true,
}

// storeError classifies err from the DynamoDB call op. A code the store
// does not know is a configuration fault (500) when DynamoDB answered 4xx,
// and unavailable (503) when it answered 5xx or did not answer at all.
func storeError(op string, err error) error {
	se := &StoreError{Op: op, Err: err}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		se.RequestID = re.ServiceRequestID()
		status = re.HTTPStatusCode()
	}
	var apiErr smithy.APIError
	var canceled *types.TransactionCanceledException
	switch {
	case errors.As(err, &canceled):
		se.Reason = "TransactionCanceledException " + cancellationCodes(canceled)
		se.unavailable = transientCancellation(canceled)
	case errors.As(err, &apiErr):
		se.Reason = apiErr.ErrorCode()
		se.unavailable = transientCodes[se.Reason] || status >= 500
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		se.Reason, se.unavailable = "timeout", true
	case isDialError(err):
		se.Reason, se.unavailable = "endpoint unreachable", true
	case status >= 500 || status == 0:
		se.Reason, se.unavailable = "no answer", true
	default:
		se.Reason = "unexpected answer"
	}
	return se
}

func cancellationCodes(e *types.TransactionCanceledException) string {
	var codes []string
	for _, r := range e.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}
	return "[" + strings.Join(codes, " ") + "]"
}

// transientCancellation reports a transaction cancelled only for reasons
// that may pass: throttling, or another transaction on the same item.
func transientCancellation(e *types.TransactionCanceledException) bool {
	for _, r := range e.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "", "None", "ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict":
		default:
			return false
		}
	}
	return true
}

// outcomeUnknown reports an error after which DynamoDB may have applied the
// write: it was sent, and no answer, or a server error, came back.
func outcomeUnknown(err error) bool {
	if isDialError(err) {
		return false
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode() >= 500
	}
	var apiErr smithy.APIError
	return !errors.As(err, &apiErr)
}

// isDialError reports a connection that could not be opened: the request
// never left.
func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
