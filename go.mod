module github.com/example/petstore-oidc

go 1.26.0

require (
	github.com/MicahParks/jwkset v0.11.4
	github.com/aws/aws-lambda-go v1.55.1
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/hashicorp/golang-lru/v2 v2.0.7
	golang.org/x/time v0.16.0
)

require github.com/stretchr/testify v1.11.1 // indirect
