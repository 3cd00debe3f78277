package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// versionCmd prints the version.
func versionCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", stderr)
	if code, done := parseFlags(fs, args, help{"agenthooks version", "Prints the version of this binary."}, stdout, stderr); done {
		return code
	}
	fmt.Fprintln(stdout, "agenthooks", version())
	return 0
}

// buildVersion is set at link time: -ldflags "-X main.buildVersion=v1.2.3".
var buildVersion = ""

// version returns the build's version: the link-time value, else the module
// version, else "dev".
func version() string {
	if buildVersion != "" {
		return buildVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
