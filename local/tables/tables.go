// Package tables gives the local stack and the tests their DynamoDB: an
// embedded DynamoDB-protocol server (github.com/truora/minidyn's server, in
// memory, pure Go) on a loopback port, and the tables of template.yaml
// created from the template's own definition, so that the template stays
// the one source of the keys. The same code also creates them on an
// external endpoint such as DynamoDB Local.
package tables

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	miniserver "github.com/truora/minidyn/server"

	"github.com/example/petstore-oidc/local/samtemplate"
)

// Region and credentials of every local endpoint: the embedded server and
// DynamoDB Local accept any, but the SDK signs every request.
const (
	LocalRegion = "us-east-1"
	localKeyID  = "local"
)

// LocalConfig are the SDK options for a local endpoint: a fixed region and
// dummy static credentials, so that no real AWS credentials are looked up
// (nor sent) and the SDK never waits for an instance metadata service.
func LocalConfig(endpoint string) []func(*config.LoadOptions) error {
	return []func(*config.LoadOptions) error{
		config.WithRegion(LocalRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(localKeyID, localKeyID, "")),
		config.WithBaseEndpoint(endpoint),
	}
}

// Server is the embedded DynamoDB-protocol server. Its data lives in memory
// until Close.
type Server struct {
	URL string // e.g. http://127.0.0.1:41234
	srv *http.Server
}

// StartServer serves an empty embedded DynamoDB on addr, which must be a
// loopback address ("127.0.0.1:0" takes a free port).
func StartServer(addr string) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		return nil, fmt.Errorf("the embedded DynamoDB listens on loopback only, not %q", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("embedded DynamoDB: %w", err)
	}
	s := &Server{
		URL: "http://" + ln.Addr().String(),
		srv: &http.Server{Handler: miniserver.NewServer(), ReadHeaderTimeout: 5 * time.Second},
	}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server; its data is gone.
func (s *Server) Close() error { return s.srv.Close() }

// Create creates the table name with def's keys and on-demand billing, as
// CloudFormation would from the template, and waits until it is active if the server says it is being created. A
// table of that name that exists already is kept as it is.
func Create(ctx context.Context, client *dynamodb.Client, name string, def samtemplate.Table) error {
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
	}
	for _, a := range def.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName), AttributeType: types.ScalarAttributeType(a.AttributeType),
		})
	}
	for _, k := range def.KeySchema {
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{
			AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType),
		})
	}
	var status types.TableStatus
	out, err := client.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	switch {
	case errors.As(err, &inUse):
		desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("table %s: %w", name, err)
		}
		if desc.Table != nil {
			status = desc.Table.TableStatus
		}
	case err != nil:
		return fmt.Errorf("create table %s (%s): %w", name, def.LogicalID, err)
	case out.TableDescription != nil:
		status = out.TableDescription.TableStatus
	}
	// Local servers create tables at once; the embedded one reports no
	// status at all.
	if status != types.TableStatusCreating {
		return nil
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 500*time.Millisecond
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		return fmt.Errorf("table %s: %w", name, err)
	}
	return nil
}

// CreateOn creates the table def as name on the local endpoint (Create).
func CreateOn(ctx context.Context, endpoint string, def samtemplate.Table, name string) error {
	cfg, err := config.LoadDefaultConfig(ctx, LocalConfig(endpoint)...)
	if err != nil {
		return err
	}
	return Create(ctx, dynamodb.NewFromConfig(cfg), name, def)
}
