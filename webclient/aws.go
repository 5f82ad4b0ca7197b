package webclient

import (
	"cmp"
	"context"
	"encoding/json"
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

// EnvSettingsSecret names a Secrets Manager secret (a name or an ARN) that
// holds settings the deployment knows only after the function exists:
// template.yaml writes its WebClientSettings there, with the API's URL and,
// with the stack's own user pool, the app client's id and secret and the
// sign-out URL.
const EnvSettingsSecret = "SETTINGS_SECRET"

// secretSettings is a secret's JSON: {"client_secret": "..."}, and
// optionally "client_id", "api_url" and "logout_url" (a template that
// creates the provider's app client can put all of them in one secret).
type secretSettings struct {
	ClientSecret string `json:"client_secret"`
	ClientID     string `json:"client_id"`
	APIURL       string `json:"api_url"`
	LogoutURL    string `json:"logout_url"`
}

// ConfigFromAWS is ConfigFromEnv for a deployed web client: the client
// secret is read once from Secrets Manager (CLIENT_SECRET_ARN; the value
// never sits in the environment), settings the deployment writes late from
// SETTINGS_SECRET, and the sessions are in the DynamoDB table
// SESSIONS_TABLE. A value of a secret fills the variable of the same
// meaning (client_id CLIENT_ID, api_url API_URL, logout_url LOGOUT_URL);
// the variable may repeat it, never contradict it. The AWS SDK finds its
// region, credentials and any non-AWS endpoint
// (AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_DYNAMODB) the
// standard way. Unless needURL, BASE_URL and REDIRECT_URL may both be
// missing (see LambdaHandler).
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
	for _, src := range []struct {
		env        string
		needSecret bool
	}{{EnvClientSecretARN, true}, {EnvSettingsSecret, false}} {
		id := getenv(src.env)
		if id == "" {
			continue
		}
		c, err := loadAWS()
		if err != nil {
			return Config{}, err
		}
		settings, err := readSecretSettings(ctx, secretsmanager.NewFromConfig(c), src.env, id, src.needSecret)
		if err != nil {
			return Config{}, err
		}
		for _, f := range []struct{ name, env, value string }{
			{"client_secret", "CLIENT_SECRET", settings.ClientSecret},
			{"client_id", "CLIENT_ID", settings.ClientID},
			{"api_url", "API_URL", settings.APIURL},
			{"logout_url", "LOGOUT_URL", settings.LogoutURL},
		} {
			if f.value == "" {
				continue
			}
			if f.env == "CLIENT_SECRET" && getenv("CLIENT_SECRET") != "" {
				return Config{}, fmt.Errorf("set %s or CLIENT_SECRET, not both", src.env)
			}
			if v := cmp.Or(overlay[f.env], getenv(f.env)); v != "" && v != f.value {
				if f.env == "CLIENT_SECRET" {
					return Config{}, fmt.Errorf("the secrets of %s and %s hold different client secrets", EnvClientSecretARN, EnvSettingsSecret)
				}
				return Config{}, fmt.Errorf("%s %q differs from the %s of the secret %s", f.env, v, f.name, id)
			}
			overlay[f.env] = f.value
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

// readSecretSettings reads the secret of the variable env once, within 5
// seconds. Errors name the secret, never its value.
func readSecretSettings(ctx context.Context, client *secretsmanager.Client, env, id string, needSecret bool) (secretSettings, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return secretSettings{}, fmt.Errorf("%s %s: %w", env, id, err)
	}
	var settings secretSettings
	if out.SecretString == nil || json.Unmarshal([]byte(*out.SecretString), &settings) != nil {
		return secretSettings{}, fmt.Errorf(`%s %s: the secret is not JSON like {"client_secret": "..."}`, env, id)
	}
	if needSecret && settings.ClientSecret == "" {
		return secretSettings{}, fmt.Errorf(`%s %s: the secret has no "client_secret"`, env, id)
	}
	return settings, nil
}
