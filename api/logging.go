package api

import (
	"log/slog"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/gin-gonic/gin"
)

// Keys of a store failure's details, for the request log only.
const (
	storeReasonKey  = "petstore.store_reason"
	awsRequestIDKey = "petstore.aws_request_id"
)

// logRequests writes one JSON line per request once it is answered: the API
// Gateway request id (to find the line from the gateway's access log), the
// principal, method, route, path, status and latency, and the error message
// or panic value of a failed request, and for a store failure DynamoDB's
// reason and the AWS request id. It never logs headers, so never the
// Authorization header or a token.
func logRequests(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		attrs := make([]slog.Attr, 0, 10)
		if gw, ok := core.GetAPIGatewayContextFromContext(c.Request.Context()); ok {
			attrs = append(attrs, slog.String("request_id", gw.RequestID))
		}
		if lc, ok := core.GetRuntimeContextFromContext(c.Request.Context()); ok && lc != nil {
			attrs = append(attrs, slog.String("lambda_request_id", lc.AwsRequestID))
		}
		principal := ""
		if id, ok := IdentityFrom(c); ok {
			principal = id.Principal
		}
		attrs = append(attrs,
			slog.String("principal", principal),
			slog.String("method", c.Request.Method),
			slog.String("route", c.FullPath()),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", status),
			slog.Int64("latency_us", time.Since(start).Microseconds()),
		)
		if msg := c.GetString(errorKey); msg != "" {
			attrs = append(attrs, slog.String("error", msg))
		}
		if reason := c.GetString(storeReasonKey); reason != "" {
			attrs = append(attrs, slog.String("store_reason", reason), slog.String("aws_request_id", c.GetString(awsRequestIDKey)))
		}
		level := slog.LevelInfo
		if p := c.GetString(panicKey); p != "" {
			attrs = append(attrs, slog.String("panic", p))
		}
		if status >= 500 {
			level = slog.LevelError
		} else if status < 400 && c.GetString(errorKey) != "" {
			level = slog.LevelWarn // answered, but something needs a look: a pet stored and not counted
		}
		log.LogAttrs(c.Request.Context(), level, "request", attrs...)
	}
}
