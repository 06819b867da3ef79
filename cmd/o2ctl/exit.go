package main

import (
	"context"
	"errors"
	"net/url"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// Exit statuses of o2ctl; exitStatusHelp documents them in "o2ctl --help".
// Scripts may rely on them.
const (
	exitOK            = 0 // success
	exitError         = 1 // usage error, invalid input, or any other error
	exitNotFound      = 2 // the requested object does not exist (HTTP 404)
	exitAuth          = 3 // authentication or authorization failed (HTTP 401 or 403, token refused)
	exitUnavailable   = 4 // the server could not be reached or failed (connection error, timeout, HTTP 5xx)
	exitConflict      = 5 // the request conflicts with the object's state (HTTP 409)
	exitUnprocessable = 6 // well-formed, but the IMS cannot carry it out (HTTP 422)
	exitOpFailed      = 7 // a lifecycle operation or a deployment awaited with --wait ended FAILED or ROLLED_BACK
)

// exitStatusHelp is the exit status table of the root command's help.
const exitStatusHelp = `Exit status:
  0  success
  1  usage error, invalid input, or any other error
  2  the requested object does not exist (HTTP 404)
  3  authentication or authorization failed (HTTP 401 or 403, or the
     token endpoint refused the credentials)
  4  the server could not be reached or failed (connection error,
     timeout, HTTP 5xx)
  5  conflict: the request conflicts with the state of the object
     (HTTP 409), such as acknowledging an alarm twice, clearing an
     alarm that clears automatically, a duplicate subscription, a second
     lifecycle operation on a CNF instance while one runs, or deleting
     an instantiated CNF instance or a package in use
  6  unprocessable: the request is well-formed but the IMS cannot carry
     it out (HTTP 422), such as an unknown flavour, deployment manager or
     resource pool, scaling beyond an aspect's levels, or an unknown VNFD
  7  a lifecycle operation, a deployment or a provisioning request awaited
     with --wait ended FAILED or ROLLED_BACK; the message holds its problem
     detail

A --wait that runs out of --wait-timeout exits with 4, like any timeout.`

// exitCode returns the exit status for err.
func exitCode(err error) int {
	var (
		urlErr *url.Error // every transport error of the SDK is one
		opErr  *o2.OperationError
		depErr *o2.DeploymentError
		prvErr *o2.ProvisioningError
	)
	switch {
	case err == nil:
		return exitOK
	case o2.IsNotFound(err):
		return exitNotFound
	case o2.IsAuthError(err):
		return exitAuth
	case o2.IsConflict(err):
		return exitConflict
	case o2.IsUnprocessable(err):
		return exitUnprocessable
	case errors.As(err, &opErr), errors.As(err, &depErr), errors.As(err, &prvErr):
		return exitOpFailed
	case o2.StatusCode(err) >= 500,
		o2.StatusCode(err) == 0 && (errors.As(err, &urlErr) || errors.Is(err, context.DeadlineExceeded)):
		return exitUnavailable
	default:
		return exitError
	}
}

// usageError is an error in how o2ctl was invoked; it is reported with a
// pointer to the command's help.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }
