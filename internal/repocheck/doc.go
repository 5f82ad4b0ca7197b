// Package repocheck holds the tests that keep the repository honest: the
// documentation's links, images, make targets and environment variables
// resolve to real things, the packages respect the dependency rule of
// docs/architecture.md, and the authorizer stays short and links few
// modules.
package repocheck
