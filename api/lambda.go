package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	ginadapter "github.com/awslabs/aws-lambda-go-api-proxy/gin"
	"github.com/gin-gonic/gin"
)

// LambdaHandler is the signature lambda.Start receives in cmd/api: one API
// Gateway REST API (v1) proxy event in, one proxy response out.
type LambdaHandler = func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)

// NewLambdaHandler serves proxy events through router with
// aws-lambda-go-api-proxy's Gin adapter; the request context it gives the
// router carries the event's requestContext, which is where identify reads
// the authorizer's answer. It is safe for concurrent use (the local gateway
// calls it in-process) and answers every event with a response and a nil
// error, so API Gateway never turns a bad request into a 502.
func NewLambdaHandler(router *gin.Engine) LambdaHandler {
	adapter := ginadapter.New(router)
	return func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		// The adapter pastes the path into a URL as it is. REST APIs send it
		// percent-encoded, but other producers (HTTP APIs, emulators) decode
		// it, and a decoded "?" or a stray "%" would split or break the URL.
		ev.Path = escapePath(ev.Path)
		if ev.IsBase64Encoded {
			if _, err := base64.StdEncoding.DecodeString(ev.Body); err != nil {
				return errorResponse(http.StatusBadRequest, "request body is not valid base64"), nil
			}
		}
		res, err := adapter.ProxyWithContext(ctx, ev)
		if err != nil {
			// The adapter could not make an http.Request of the event (an
			// invalid method or domain name) and has printed why. That is
			// malformed input, not a fault of the API.
			return errorResponse(http.StatusBadRequest, "malformed request"), nil
		}
		return res, nil
	}
}

// errorResponse is an ErrorBody answered without the router, as it would.
func errorResponse(status int, msg string) events.APIGatewayProxyResponse {
	body, _ := json.Marshal(ErrorBody{Error: msg})
	return events.APIGatewayProxyResponse{
		StatusCode:        status,
		MultiValueHeaders: map[string][]string{"Content-Type": {"application/json; charset=utf-8"}},
		Body:              string(body),
	}
}

// escapePath percent-encodes what can never appear literally in an encoded
// path (a "%" not followed by two hex digits, "?", "#", spaces, control and
// non-ASCII bytes) and leaves the rest alone, so an encoded path is
// unchanged and a decoded one becomes a valid encoded path.
func escapePath(p string) string {
	if !strings.ContainsFunc(p, func(r rune) bool { return r == '%' || r == '?' || r == '#' || r <= ' ' || r >= 0x7f }) {
		return p // the usual case: nothing to look at
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(p) + 8)
	for i := 0; i < len(p); i++ {
		c := p[i]
		literal := c > ' ' && c < 0x7f && c != '?' && c != '#' && c != '%'
		if literal || c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
