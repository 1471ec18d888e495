package chatbotkit

/*
#include <chatbotkit.h>
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
)

// Status is the kind of failure an *Error reports. The numbers are the C
// library's cbk_status values, which its ABI promises never to reuse, so
// they may be stored or compared across versions.
type Status int

// The cbk_status values.
const (
	StatusOK              Status = C.CBK_OK
	StatusInvalidArgument Status = C.CBK_ERROR_INVALID_ARGUMENT
	StatusInvalidJSON     Status = C.CBK_ERROR_INVALID_JSON
	StatusAPI             Status = C.CBK_ERROR_API
	StatusTimeout         Status = C.CBK_ERROR_TIMEOUT
	StatusNetwork         Status = C.CBK_ERROR_NETWORK
	StatusInvalidResponse Status = C.CBK_ERROR_INVALID_RESPONSE
	StatusCancelled       Status = C.CBK_ERROR_CANCELLED
	StatusInternal        Status = C.CBK_ERROR_INTERNAL
)

// String spells the status as the library's error JSON does ("API",
// "NETWORK", ...; "UNKNOWN" for a value it does not know), so that Go and C
// logs of the same failure read alike.
func (s Status) String() string {
	return StatusName(s)
}

// StatusName is cbk_status_name: the name of any status value, never empty.
func StatusName(s Status) string {
	return C.GoString(C.cbk_status_name(C.int(s)))
}

// Error is a failure reported by the library, or by this package before it
// called the library (a closed client, a NUL byte in a string, a context
// already done). It is a copy: nothing in it refers to C memory.
type Error struct {
	// Status is the kind of failure; branch on it.
	Status Status
	// Code is the API's code (NOT_FOUND, ...) for StatusAPI, else the
	// library's own (NETWORK_ERROR, INVALID_ARGUMENT, CANCELLED, ...).
	Code string
	// Message is for people. It never holds the client's secret or token.
	Message string
	// HTTPStatus is the status of the response the error was made from; 0
	// when no response was seen.
	HTTPStatus int

	json  string
	cause error
}

// Error gives the code and the HTTP status as well as the message, because
// a message such as "Not found" alone does not say which layer failed.
func (e *Error) Error() string {
	s := fmt.Sprintf("chatbotkit: %s (%s)", e.Message, e.Code)
	if e.HTTPStatus != 0 {
		s = fmt.Sprintf("chatbotkit: %s (%s, HTTP %d)", e.Message, e.Code, e.HTTPStatus)
	}
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// JSON is the error as cbk_error_to_json writes it, for passing on to
// programs that already parse the C library's errors.
func (e *Error) JSON() string {
	return e.json
}

// Unwrap gives the context error that made the call stop, so that
// errors.Is(err, context.DeadlineExceeded) holds after a deadline.
func (e *Error) Unwrap() error {
	return e.cause
}

// Is makes a cancellation match context.Canceled even when no context error
// was recorded, so that callers need one check for every cancellation.
func (e *Error) Is(target error) bool {
	return target == context.Canceled && e.Status == StatusCancelled && e.cause == nil
}

// copyError copies a borrowed cbk_error (one a callback received).
func copyError(cerr *C.cbk_error) *Error {
	e := &Error{
		Status:     Status(C.cbk_error_status(cerr)),
		Code:       C.GoString(C.cbk_error_code(cerr)),
		Message:    C.GoString(C.cbk_error_message(cerr)),
		HTTPStatus: int(C.cbk_error_http_status(cerr)),
	}
	if j := C.cbk_error_to_json(cerr); j != nil {
		e.json = C.GoString(j)
		C.cbk_string_free(j)
	}
	return e
}

// takeError copies an owned cbk_error and frees it.
func takeError(cerr *C.cbk_error) *Error {
	if cerr == nil {
		// The library promises an error with every failure; should it
		// break that promise, the caller still gets a non-nil error.
		return newError(StatusInternal, "INTERNAL_ERROR", "the library failed without an error", nil)
	}
	defer C.cbk_error_free(cerr)
	return copyError(cerr)
}

// newError makes an error of this package's own, shaped as the library's.
func newError(status Status, code, message string, cause error) *Error {
	e := &Error{Status: status, Code: code, Message: message, cause: cause}
	j, _ := json.Marshal(struct {
		Status     string `json:"status"`
		Code       string `json:"code"`
		Message    string `json:"message"`
		HTTPStatus int    `json:"httpStatus"`
	}{status.String(), code, message, 0})
	e.json = string(j)
	return e
}

func argError(message string) *Error {
	return newError(StatusInvalidArgument, "INVALID_ARGUMENT", message, nil)
}

// contextError reports a context that was done before a request started.
func contextError(err error) *Error {
	return newError(StatusCancelled, "CANCELLED", "the request was not sent", err)
}
