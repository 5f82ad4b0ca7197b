package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParsePrice(t *testing.T) {
	tests := []struct {
		raw     string
		want    float64
		wantErr string
	}{
		{"249.99", 249.99, ""},
		{"0.99", 0.99, ""},
		{"0.01", 0.01, ""},
		{"12.5", 12.5, ""},
		{"7", 7, ""},
		{"1e2", 100, ""},
		{"2.4999e2", 249.99, ""},
		{"1000000", 1000000, ""},
		{"999999.99", 999999.99, ""},
		{"0", 0, "price must be positive"},
		{"-0", 0, "price must be positive"},
		{"-5", 0, "price must be positive"},
		{"-1e400", 0, "price must be positive"},
		{"1e-400", 0, "price must be positive"},
		{"9.999", 0, "price must have at most two decimals"},
		{"0.001", 0, "price must have at most two decimals"},
		{"1000000.01", 0, "price must be at most 1000000"},
		{"1e400", 0, "price must be at most 1000000"},
		{"1e999999999", 0, "price must be at most 1000000"},
		{`"9.99"`, 0, "price must be a number"},
		{"true", 0, "price must be a number"},
		{"{}", 0, "price must be a number"},
		{"[1]", 0, "price must be a number"},
	}
	for _, tc := range tests {
		got, err := parsePrice(json.RawMessage(tc.raw))
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if got != tc.want || gotErr != tc.wantErr {
			t.Errorf("parsePrice(%s) = %v, %q; want %v, %q", tc.raw, got, gotErr, tc.want, tc.wantErr)
		}
	}
}

// TestEveryCentIsAPrice checks the exactness argument of parsePrice over
// every price from 0.01 to 10000.00.
func TestEveryCentIsAPrice(t *testing.T) {
	for cents := 1; cents <= 1_000_000; cents++ {
		raw := json.RawMessage(fmt.Sprintf("%d.%02d", cents/100, cents%100))
		if _, err := parsePrice(raw); err != nil {
			t.Fatalf("parsePrice(%s): %v", raw, err)
		}
	}
}

func TestEscapePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/pets", "/pets"},
		{"/pets/1", "/pets/1"},
		{"/pets/a%20b", "/pets/a%20b"}, // REST APIs send it encoded: unchanged
		{"/pets/%7e", "/pets/%7e"},
		{"/pets/a b", "/pets/a%20b"},
		{"/pets/1?admin=true", "/pets/1%3Fadmin=true"},
		{"/pets/1#frag", "/pets/1%23frag"},
		{"/pets/%zz", "/pets/%25zz"},
		{"/pets/%", "/pets/%25"},
		{"/pets/%4", "/pets/%254"},
		{"/pets/\x00\x7f", "/pets/%00%7F"},
		{"/pets/é", "/pets/%C3%A9"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := escapePath(tc.in); got != tc.want {
			t.Errorf("escapePath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestShortenKeepsWholeRunes(t *testing.T) {
	long := strings.Repeat("é", 40) // 80 bytes
	got := shorten(long)
	if !utf8.ValidString(got) || !strings.HasSuffix(got, "...") || len(got) > 64+3 {
		t.Errorf("shorten = %q", got)
	}
	if got := shorten("name"); got != "name" {
		t.Errorf("shorten(name) = %q", got)
	}
}
