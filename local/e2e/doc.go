// Package e2e holds the browser end-to-end tests: they start the whole
// local stack (development IdP, API Gateway emulator with the authorizer,
// PetStore, web client) on free loopback ports and drive Debian's chromium
// through it with chromedp, as a person following the tutorial would. The
// web client runs as deployed: two instances of its Lambda handler behind
// an emulated function URL, sharing the sessions table. Each step saves a
// screenshot; `make screenshots` writes them to docs/images.
package e2e
