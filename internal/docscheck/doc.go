// Package docscheck holds the test that keeps the documentation honest:
// links and images resolve, the make targets it names exist, and the
// environment variables it names are ones the code reads.
package docscheck
