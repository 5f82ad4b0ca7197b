package api

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// ErrorBody is the one shape of every error the API answers. Field names the
// request field or query parameter at fault, when there is one.
type ErrorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// errorKey holds the message of an error answer, for the request log.
const errorKey = "petstore.error"

// abortWithError answers status with an ErrorBody and stops the chain.
func abortWithError(c *gin.Context, status int, msg, field string) {
	c.Set(errorKey, msg)
	c.AbortWithStatusJSON(status, ErrorBody{Error: msg, Field: field})
}

// panicKey holds a recovered panic value, for the request log only.
const panicKey = "petstore.panic"

// recoverPanics turns a panic in a handler into a 500 without details: the
// panic value goes to the request log, never to the caller.
func recoverPanics() gin.HandlerFunc {
	// A nil writer: Gin's own recovery log is multi-line text with a stack
	// and would break the one-JSON-line-per-request log.
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, rec any) {
		c.Set(panicKey, fmt.Sprint(rec))
		abortWithError(c, http.StatusInternalServerError, "internal error", "")
	})
}

func notFound(c *gin.Context) {
	abortWithError(c, http.StatusNotFound, "no such route", "")
}

// methodNotAllowed runs after Gin has set the Allow header.
func methodNotAllowed(c *gin.Context) {
	abortWithError(c, http.StatusMethodNotAllowed, "method "+c.Request.Method+" not allowed", "")
}
