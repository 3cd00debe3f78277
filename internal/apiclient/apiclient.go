// Package apiclient is a small client of the agenthooks HTTP API (docs/api.md)
// for the project's own tools and tests: the bench, the demo and the
// end-to-end tests. It sends JSON with one account's key and unwraps the
// {"message", "data"} envelope; it is not a public SDK.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxResponse bounds what one response may hold (a page of events is far
// smaller).
const maxResponse = 16 << 20

// Client calls one agenthooks API with one account's key. Its fields are set
// before first use; after that it is safe for concurrent use.
type Client struct {
	// BaseURL is the server's URL, e.g. http://127.0.0.1:8080 (without /api/v1).
	BaseURL string
	// Key is the account's API key, sent as a Bearer token.
	Key string
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
}

// New returns a Client of the server at baseURL with key.
func New(baseURL, key string, hc *http.Client) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Key: key, HTTP: hc}
}

// StatusError is a response whose status is not 2xx.
type StatusError struct {
	Method, Path string
	Status       int
	Body         []byte // the response body, e.g. {"detail": ...}
}

// Error names the request, the status and the body.
func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.Method, e.Path, e.Status, bytes.TrimSpace(e.Body))
}

// Response is an answer as it came.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Send sends body (JSON-encoded unless nil or already []byte) to urlPath,
// relative to BaseURL (so "/healthz" or "/api/v1/event"), with the key and
// the extra headers, and returns the answer whatever its status.
func (c *Client) Send(ctx context.Context, method, urlPath string, body any, header http.Header) (*Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode body: %w", method, urlPath, err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+urlPath, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, urlPath, err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Key != "" {
		req.Header.Set("Authorization", "Bearer "+c.Key)
	}
	for k, vs := range header {
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, urlPath, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read response: %w", method, urlPath, err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}, nil
}

// Raw sends body to the API path (relative to /api/v1) and returns the
// status and the body as they came, whatever the status.
func (c *Client) Raw(ctx context.Context, method, path string, body any) (int, []byte, error) {
	r, err := c.Send(ctx, method, "/api/v1"+path, body, nil)
	if err != nil {
		return 0, nil, err
	}
	return r.Status, r.Body, nil
}

// Do sends body and decodes the response's data into out (when out is not
// nil). A status other than 2xx is a *StatusError.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	status, raw, err := c.Raw(ctx, method, path, body)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return &StatusError{Method: method, Path: path, Status: status, Body: raw}
	}
	if out == nil {
		return nil
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	if err := json.Unmarshal(env.Data, out); err != nil {
		return fmt.Errorf("%s %s: decode data: %w", method, path, err)
	}
	return nil
}

// Create POSTs body to path and returns the new resource's id.
func (c *Client) Create(ctx context.Context, path string, body any) (string, error) {
	var r struct {
		ID string `json:"id"`
	}
	if err := c.Do(ctx, http.MethodPost, path, body, &r); err != nil {
		return "", err
	}
	if r.ID == "" {
		return "", fmt.Errorf("POST %s: the response has no id", path)
	}
	return r.ID, nil
}
