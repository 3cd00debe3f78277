package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// errEmptySchedule refuses an empty retry schedule: it would mean a single
// attempt and no retry, which is never what someone who typed the flag meant.
var errEmptySchedule = errors.New("must list at least one delay, e.g. 5s,5m,30m (the delays after the first attempt)")

// settingKinds names the type of each setting's value, as --help shows it.
// A setting missing here shows as a string (TestSettingKinds lists them all).
var settingKinds = map[string]string{
	"AGENTHOOKS_DATABASE_URL":            "url",
	"AGENTHOOKS_ADDR":                    "host:port",
	"AGENTHOOKS_RETRY_SCHEDULE":          "durations",
	"AGENTHOOKS_DELIVERY_TIMEOUT":        "duration",
	"AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS": "bool",
	"AGENTHOOKS_DISABLE_AFTER":           "duration",
	"AGENTHOOKS_RETENTION":               "duration",
	"AGENTHOOKS_WORKERS":                 "int",
	"AGENTHOOKS_WEBHOOK_MAX_IN_FLIGHT":   "int",
	"AGENTHOOKS_RETRY_AFTER_MAX":         "duration",
	"AGENTHOOKS_IDLE_CLOSE":              "duration",
	"AGENTHOOKS_SHUTDOWN_TIMEOUT":        "duration",
	"AGENTHOOKS_PUBLIC_URL":              "url",
	"AGENTHOOKS_ADMIN_KEY":               "string",
	"AGENTHOOKS_FRAME_ANCESTORS":         "origins",
	"AGENTHOOKS_TRUSTED_PROXIES":         "cidrs",
	"AGENTHOOKS_API_RATE_LIMIT":          "float",
	"AGENTHOOKS_DASHBOARD_RATE_LIMIT":    "float",
	"AGENTHOOKS_SHUTDOWN_GRACE":          "duration",
	"AGENTHOOKS_MAX_WEBHOOKS":            "int",
	"AGENTHOOKS_ENCRYPTION_KEY":          "keys",
	"AGENTHOOKS_LOG_LEVEL":               "level",
	"AGENTHOOKS_LOG_FORMAT":              "format",
}

// settingDefault is a setting's default as --help shows it: quoted when it
// is text, as the flag package shows a string's.
func settingDefault(s setting) string {
	switch {
	case s.def == "":
		return "empty"
	case slices.Contains([]string{"bool", "int", "float", "duration", "durations"}, settingKinds[s.env]):
		return s.def
	}
	return fmt.Sprintf("%q", s.def)
}

// settingValue is the flag.Value of one setting: it keeps the text as given,
// for the setting's own parser to check once every source is known, and
// names its type for --help. A bool setting is a boolean flag, so that
// --allow-private-endpoints alone means true.
type settingValue struct {
	kind  string
	value string
}

func (v *settingValue) String() string { return v.value }

func (v *settingValue) Set(s string) error {
	v.value = s
	return nil
}

// Type names the value's type in --help.
func (v *settingValue) Type() string {
	if v.kind == "" {
		return "string"
	}
	return v.kind
}

// IsBoolFlag makes a bool setting's flag take no value.
func (v *settingValue) IsBoolFlag() bool { return v.kind == "bool" }

// help is what a command's --help prints: how to call it and what it does;
// its flags follow.
type help struct {
	usage   string // e.g. "agenthooks listen --secret whsec_... [flags]"
	summary string // one or more lines on what the command does
}

// newFlagSet returns a flag set for a command whose errors go to stderr and
// whose -h and --help are left to parseFlags.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses a command's arguments. It returns done when the command
// must stop with code: 0 after -h or --help printed the help on stdout, 2
// after a bad flag or a stray argument was reported on stderr.
func parseFlags(fs *flag.FlagSet, args []string, h help, stdout, stderr io.Writer) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		printHelp(stdout, fs, h)
		return 0, true
	case err != nil:
		fmt.Fprintf(stderr, "Run '%s --help' for its flags.\n", "agenthooks "+fs.Name())
		return 2, true
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "agenthooks %s: takes no arguments, got %q\n", fs.Name(), fs.Args())
		return 2, true
	}
	return 0, false
}

// printHelp writes a command's help: usage, summary and each flag with its
// type and default.
func printHelp(w io.Writer, fs *flag.FlagSet, h help) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", h.usage, strings.TrimSpace(h.summary))
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		fmt.Fprintf(w, "\nNo flags.\n")
		return
	}
	fmt.Fprintf(w, "\nFlags:\n")
	fs.VisitAll(func(f *flag.Flag) {
		typ := flagType(f)
		line := "  --" + f.Name
		if typ != "" {
			line += " " + typ
		}
		usage := f.Usage
		if _, isSetting := f.Value.(*settingValue); !isSetting {
			// Settings name their default (and variable) in their usage.
			usage += fmt.Sprintf(" (default %s)", flagDefault(f))
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, usage)
	})
}

// flagType is the type --help shows for a flag: "" for a boolean flag, as
// the flag package prints it, since it takes no value.
func flagType(f *flag.Flag) string {
	if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return ""
	}
	if t, ok := f.Value.(interface{ Type() string }); ok {
		return t.Type()
	}
	name, _ := flag.UnquoteUsage(f)
	return name
}

// flagDefault is a flag's default as --help shows it.
func flagDefault(f *flag.Flag) string {
	if f.DefValue == "" {
		return "empty"
	}
	if name, _ := flag.UnquoteUsage(f); name == "string" {
		return fmt.Sprintf("%q", f.DefValue)
	}
	return f.DefValue
}
