// Package webnet holds the domain of webnet: its types, the error type with its codes and the
// clock. It imports nothing of the project's own, so every other package can depend on it.
package webnet

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each code to one status in one table; nothing else decides
// a status.
const (
	EInvalid         = "invalid"          // the input is malformed or fails validation (400)
	EUnauthenticated = "unauthenticated"  // no, bad or expired credentials (401)
	EForbidden       = "forbidden"        // visible but not allowed (403)
	ENotFound        = "not_found"        // absent or invisible to the caller (404)
	EConflict        = "conflict"         // clashes with the current state (409)
	ETooLarge        = "body_too_large"   // the request body is over its limit (413)
	EUnsupported     = "unsupported_type" // the request body is not of a type we accept (415)
	ERateLimited     = "rate_limited"     // too many attempts; retry later (429)
	EUnavailable     = "unavailable"      // cannot serve this now (shutting down); retry later (503)
	EInternal        = "internal"         // a fault of ours; details go to the log only (500)
)

// Error is the one error type that crosses package boundaries with a meaning for the caller.
// Message is written for the person reading the API answer; it never carries internal detail.
// Err, when set, is the underlying cause, kept for logs and errors.Is/As.
type Error struct {
	Code    string
	Message string
	// Fields maps an input field to why it was refused (validation errors only).
	Fields map[string]string
	// RetryAfter, for ERateLimited, is how many whole seconds the caller should wait.
	RetryAfter int
	// Extra holds further top-level members of the error body, such as the denied device ids
	// of a bulk action ("devices") or the plan a confirmation needs ("plan").
	Extra map[string]any
	Err   error
}

// Error implements error. It includes the cause, so logs see it; clients only see Message.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted, client-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a validation error naming the fields at fault.
func Invalid(message string, fields map[string]string) *Error {
	return &Error{Code: EInvalid, Message: message, Fields: fields}
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal for any other
// error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the client-safe message of err: the message of its *Error, or a generic
// sentence for anything else, so internal detail never reaches a client.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
