package httpapi

import (
	"net/http"
	"slices"
)

// BasePath is the API's base path, for the tests in package httpapi_test.
const BasePath = base

// OpenAPIDocument is the document GET /api/v1/openapi.json serves.
func OpenAPIDocument() ([]byte, error) { return openAPIDocument() }

// RegisteredRoutes returns the patterns registered with s.handle, as given
// ("METHOD /path", without BasePath).
func RegisteredRoutes(s *Server) []string { return slices.Clone(s.patterns) }

// MuxPattern returns the pattern s's muxes route r to, "" when none.
func MuxPattern(s *Server, r *http.Request) string {
	if _, pattern := s.mux.Handler(r); pattern != "" {
		return pattern
	}
	_, pattern := s.aside.Handler(r)
	return pattern
}
