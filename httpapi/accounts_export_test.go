package httpapi

import "slices"

// RegisteredAdminRoutes returns the patterns registered with s.handleAdmin
// ("METHOD /path", without BasePath).
func RegisteredAdminRoutes(s *Server) []string { return slices.Clone(s.adminPatterns) }
