// Package repocheck holds the tests that keep the repository honest: the
// documentation's links, images, make targets and environment variables
// resolve to real things, and the packages respect the dependency
// rule of docs/architecture.md.
package repocheck
