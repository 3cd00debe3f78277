package dashboard

import "slices"

// RegisteredRoutes returns the patterns registered with d.handle, as given
// ("METHOD /path/{param}"), for the isolation matrix and the fuzz targets.
func RegisteredRoutes(d *Dashboard) []string { return slices.Clone(d.patterns) }
