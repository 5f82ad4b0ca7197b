package webclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// EnvClientSecretARN names the Secrets Manager secret that holds the
// client secret (any secret id works: an ARN or a name).
const EnvClientSecretARN = "CLIENT_SECRET_ARN"

// clientCredentials is the secret's JSON: {"client_secret": "..."}, and
// optionally "client_id" (a template that creates the provider's app
// client can put both in one secret).
type clientCredentials struct {
	ClientSecret string `json:"client_secret"`
	ClientID     string `json:"client_id"`
}

// ConfigFromAWS is ConfigFromEnv for a deployed web client: the client
// secret is read once from Secrets Manager (CLIENT_SECRET_ARN; the value
// never sits in the environment), and the sessions are in the DynamoDB
// table SESSIONS_TABLE. The AWS SDK finds its region, credentials and any
// non-AWS endpoint (AWS_ENDPOINT_URL_SECRETS_MANAGER,
// AWS_ENDPOINT_URL_DYNAMODB) the standard way. Unless needURL, BASE_URL
// and REDIRECT_URL may both be missing (see LambdaHandler).
func ConfigFromAWS(ctx context.Context, getenv func(string) string, needURL bool) (Config, error) {
	overlay := map[string]string{}
	var awsCfg *aws.Config
	loadAWS := func() (aws.Config, error) {
		if awsCfg != nil {
			return *awsCfg, nil
		}
		c, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(awshttp.NewBuildableClient().
			WithTimeout(5*time.Second).
			WithDialerOptions(func(d *net.Dialer) { d.Timeout = 2 * time.Second })))
		if err != nil {
			return aws.Config{}, fmt.Errorf("AWS SDK configuration: %w", err)
		}
		awsCfg = &c
		return c, nil
	}
	if arn := getenv(EnvClientSecretARN); arn != "" {
		if getenv("CLIENT_SECRET") != "" {
			return Config{}, errors.New("set CLIENT_SECRET_ARN or CLIENT_SECRET, not both")
		}
		c, err := loadAWS()
		if err != nil {
			return Config{}, err
		}
		creds, err := readClientCredentials(ctx, secretsmanager.NewFromConfig(c), arn)
		if err != nil {
			return Config{}, err
		}
		overlay["CLIENT_SECRET"] = creds.ClientSecret
		if creds.ClientID != "" {
			if id := getenv("CLIENT_ID"); id != "" && id != creds.ClientID {
				return Config{}, fmt.Errorf("CLIENT_ID %q differs from the client_id of the secret %s", id, arn)
			}
			overlay["CLIENT_ID"] = creds.ClientID
		}
	}
	env := func(k string) string {
		if v, ok := overlay[k]; ok {
			return v
		}
		return getenv(k)
	}
	cfg, _ := ConfigFromEnv(env)
	if err := cfg.validate(needURL); err != nil {
		return cfg, err
	}
	if table := getenv(EnvSessionsTable); table != "" {
		c, err := loadAWS()
		if err != nil {
			return cfg, err
		}
		cfg.Store = NewDynamoSessionStore(dynamodb.NewFromConfig(c), table, cfg.SessionLifetime)
	}
	return cfg, nil
}

// readClientCredentials reads the secret once, within 5 seconds. Errors
// name the secret, never its value.
func readClientCredentials(ctx context.Context, client *secretsmanager.Client, id string) (clientCredentials, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return clientCredentials{}, fmt.Errorf("%s %s: %w", EnvClientSecretARN, id, err)
	}
	var creds clientCredentials
	if out.SecretString == nil || json.Unmarshal([]byte(*out.SecretString), &creds) != nil {
		return clientCredentials{}, fmt.Errorf(`%s %s: the secret is not JSON like {"client_secret": "..."}`, EnvClientSecretARN, id)
	}
	if creds.ClientSecret == "" {
		return clientCredentials{}, fmt.Errorf(`%s %s: the secret has no "client_secret"`, EnvClientSecretARN, id)
	}
	return creds, nil
}
