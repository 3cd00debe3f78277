package main

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks/delivery"

	"github.com/agenthooks/agenthooks/dashboard"
)

// Config is the service configuration (docs/api.md). Each field comes
// from its flag, else its AGENTHOOKS_* variable, else the default.
type Config struct {
	DatabaseURL           string          // AGENTHOOKS_DATABASE_URL, default sqlite:agenthooks.db
	Addr                  string          // AGENTHOOKS_ADDR, default 127.0.0.1:8080
	RetrySchedule         []time.Duration // AGENTHOOKS_RETRY_SCHEDULE, default 5s,5m,30m,2h,5h,10h,10h
	DeliveryTimeout       time.Duration   // AGENTHOOKS_DELIVERY_TIMEOUT, default 15s
	AllowPrivateEndpoints bool            // AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS, default false
	DisableAfter          time.Duration   // AGENTHOOKS_DISABLE_AFTER, default 120h
	Retention             time.Duration   // AGENTHOOKS_RETENTION, default 720h
	Workers               int             // AGENTHOOKS_WORKERS, default 512
	WebhookMaxInFlight    int             // AGENTHOOKS_WEBHOOK_MAX_IN_FLIGHT, default 32
	RetryAfterMax         time.Duration   // AGENTHOOKS_RETRY_AFTER_MAX, default 24h
	IdleClose             time.Duration   // AGENTHOOKS_IDLE_CLOSE, default 30m; 0 turns it off
	ShutdownTimeout       time.Duration   // AGENTHOOKS_SHUTDOWN_TIMEOUT, default 10s: how long attempts in flight may finish
	LogLevel              string          // AGENTHOOKS_LOG_LEVEL: debug, info (default), warn, error
	LogFormat             string          // AGENTHOOKS_LOG_FORMAT: text (default) or json
	Role                  string          // --role: all (default), api or worker

	PublicURL      string         // AGENTHOOKS_PUBLIC_URL, default "http://" + Addr: where people reach the dashboard
	AdminKey       string         // AGENTHOOKS_ADMIN_KEY (or _FILE), default empty: the admin API is off (secret)
	FrameAncestors string         // AGENTHOOKS_FRAME_ANCESTORS, default 'none': the dashboard's CSP frame-ancestors
	TrustedProxies []netip.Prefix // AGENTHOOKS_TRUSTED_PROXIES, default none: proxies whose X-Forwarded-For names the client
	APIRateLimit   float64        // AGENTHOOKS_API_RATE_LIMIT, default 1000 requests/s per account (burst 2x); 0 turns it off
	DashRateLimit  float64        // AGENTHOOKS_DASHBOARD_RATE_LIMIT, default 20 pages/s per dashboard session (burst 2x); 0 turns it off
	ShutdownGrace  time.Duration  // AGENTHOOKS_SHUTDOWN_GRACE, default 5s: /readyz answers 503 this long on SIGTERM before the listener closes
	MaxWebhooks    int            // AGENTHOOKS_MAX_WEBHOOKS, default 100 webhooks per account
	EncryptionKeys [][]byte       // AGENTHOOKS_ENCRYPTION_KEY (or _FILE), default none: 32-byte AES-256-GCM keys, the first encrypts (secret)

	// Issue 22 (config_egress.go).
	EgressProxy     *url.URL // AGENTHOOKS_EGRESS_PROXY (+ AGENTHOOKS_EGRESS_PROXY_FILE), default none (secret: may carry a password)
	Traceparent     bool     // AGENTHOOKS_TRACEPARENT, default false: send W3C traceparent to receivers
	egressProxyRaw  string
	egressProxyFile string
	getenv          func(string) string // the environment the settings were read from (OTEL_* too)
}

// setting is one configuration entry: its variable, default and parser.
type setting struct {
	env   string
	def   string
	usage string
	set   func(c *Config, v string) error
}

func duration(dst func(c *Config) *time.Duration, allowZero bool) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("not a duration (use Go syntax such as 300ms, 15s, 1h30m)")
		}
		if d < 0 || (d == 0 && !allowZero) {
			return fmt.Errorf("must be greater than zero")
		}
		*dst(c) = d
		return nil
	}
}

func positive(dst func(c *Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 1_000_000 {
			return fmt.Errorf("must be a whole number from 1 to 1000000")
		}
		*dst(c) = n
		return nil
	}
}

var settings = []setting{
	{"AGENTHOOKS_DATABASE_URL", "sqlite:agenthooks.db", "sqlite:PATH (embedded) or postgres://...", func(c *Config, v string) error {
		v = strings.TrimSpace(v)
		if !strings.HasPrefix(v, "sqlite:") && !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
			return fmt.Errorf("must start with sqlite: or postgres://")
		}
		if v == "sqlite:" {
			return fmt.Errorf("sqlite: needs a path, e.g. sqlite:agenthooks.db")
		}
		c.DatabaseURL = v
		return nil
	}},
	{"AGENTHOOKS_ADDR", "127.0.0.1:8080", "listen address of the API and dashboard", func(c *Config, v string) error {
		if !strings.Contains(v, ":") {
			return fmt.Errorf("must be host:port, e.g. 127.0.0.1:8080")
		}
		c.Addr = v
		return nil
	}},
	{"AGENTHOOKS_RETRY_SCHEDULE", "5s,5m,30m,2h,5h,10h,10h", "delays after the first attempt", func(c *Config, v string) error {
		if strings.TrimSpace(v) == "" {
			return errEmptySchedule
		}
		s, err := delivery.ParseSchedule(v)
		if err != nil {
			return err
		}
		c.RetrySchedule = s
		return nil
	}},
	{"AGENTHOOKS_DELIVERY_TIMEOUT", "15s", "per attempt, connect to last byte", duration(func(c *Config) *time.Duration { return &c.DeliveryTimeout }, false)},
	{"AGENTHOOKS_ALLOW_PRIVATE_ENDPOINTS", "false", "allow loopback and private endpoints (local use)", func(c *Config, v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("must be true or false")
		}
		c.AllowPrivateEndpoints = b
		return nil
	}},
	{"AGENTHOOKS_DISABLE_AFTER", "120h", "disable a webhook whose deliveries all failed this long", duration(func(c *Config) *time.Duration { return &c.DisableAfter }, false)},
	{"AGENTHOOKS_RETENTION", "720h", "delete events and attempts older than this", duration(func(c *Config) *time.Duration { return &c.Retention }, false)},
	{"AGENTHOOKS_WORKERS", "512", "deliveries in flight at once, per process", positive(func(c *Config) *int { return &c.Workers })},
	{"AGENTHOOKS_WEBHOOK_MAX_IN_FLIGHT", "32", "deliveries in flight at once to one webhook", positive(func(c *Config) *int { return &c.WebhookMaxInFlight })},
	{"AGENTHOOKS_RETRY_AFTER_MAX", "24h", "the longest a Retry-After may push an attempt back", duration(func(c *Config) *time.Duration { return &c.RetryAfterMax }, false)},
	{"AGENTHOOKS_IDLE_CLOSE", "30m", "close conversations idle this long (0: off)", duration(func(c *Config) *time.Duration { return &c.IdleClose }, true)},
	{"AGENTHOOKS_SHUTDOWN_TIMEOUT", "10s", "how long attempts in flight may finish at shutdown", duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout }, true)},
	{"AGENTHOOKS_PUBLIC_URL", "", "base URL of the dashboard (default http:// + addr)", func(c *Config, v string) error {
		v = strings.TrimRight(strings.TrimSpace(v), "/")
		if v == "" {
			return nil // filled from Addr once every setting is read
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("must be an http:// or https:// URL, e.g. https://hooks.example.com")
		}
		c.PublicURL = v
		return nil
	}},
	{"AGENTHOOKS_ADMIN_KEY", "", "the platform's key for /api/v1/admin (empty: admin API off)", func(c *Config, v string) error {
		v = strings.TrimSpace(v)
		if v != "" && len(v) < 16 {
			return fmt.Errorf("must be at least 16 characters")
		}
		c.AdminKey = v
		return nil
	}},
	{"AGENTHOOKS_FRAME_ANCESTORS", "'none'", "the dashboard's CSP frame-ancestors (origins that may embed it)", func(c *Config, v string) error {
		v = strings.TrimSpace(v)
		if v == "" || strings.ContainsAny(v, ";,\r\n") {
			return fmt.Errorf("must be 'none', 'self' or space-separated origins such as https://app.example.com")
		}
		c.FrameAncestors = v
		return nil
	}},
	{"AGENTHOOKS_TRUSTED_PROXIES", "", "comma-separated CIDRs of the reverse proxies in front of serve: X-Forwarded-For's right-most hop outside them is the client's address (empty: the connection's peer)", func(c *Config, v string) error {
		ps, err := dashboard.ParseTrustedProxies(v)
		if err != nil {
			return err
		}
		c.TrustedProxies = ps
		return nil
	}},
	{"AGENTHOOKS_API_RATE_LIMIT", "1000", "API requests per second per account, bursts to twice that (0: off)", func(c *Config, v string) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || f > 1e9 || f != f {
			return fmt.Errorf("must be a number of requests per second, 0 or more")
		}
		c.APIRateLimit = f
		return nil
	}},
	{"AGENTHOOKS_DASHBOARD_RATE_LIMIT", "20", "dashboard pages per second per signed-in session, bursts to twice that (0: off)", func(c *Config, v string) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || f > 1e9 || f != f {
			return fmt.Errorf("must be a number of pages per second, 0 or more")
		}
		c.DashRateLimit = f
		return nil
	}},
	{"AGENTHOOKS_SHUTDOWN_GRACE", "5s", "on SIGTERM, how long /readyz answers 503 before the listener closes", duration(func(c *Config) *time.Duration { return &c.ShutdownGrace }, true)},
	{"AGENTHOOKS_MAX_WEBHOOKS", "100", "webhooks per account", positive(func(c *Config) *int { return &c.MaxWebhooks })},
	{"AGENTHOOKS_ENCRYPTION_KEY", "", "comma-separated base64 32-byte keys for webhook secrets at rest (first encrypts)", func(c *Config, v string) error {
		c.EncryptionKeys = nil
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			k, err := base64.StdEncoding.DecodeString(part)
			if err != nil {
				k, err = base64.RawStdEncoding.DecodeString(part)
			}
			if err != nil || len(k) != 32 {
				return fmt.Errorf("each key must be base64 of 32 bytes (make one with: openssl rand -base64 32)")
			}
			c.EncryptionKeys = append(c.EncryptionKeys, k)
		}
		return nil
	}},
	{"AGENTHOOKS_LOG_LEVEL", "info", "debug, info, warn or error", func(c *Config, v string) error {
		switch strings.ToLower(v) {
		case "debug", "info", "warn", "error":
			c.LogLevel = strings.ToLower(v)
			return nil
		}
		return fmt.Errorf("must be debug, info, warn or error")
	}},
	{"AGENTHOOKS_LOG_FORMAT", "text", "text or json", func(c *Config, v string) error {
		switch v {
		case "text", "json":
			c.LogFormat = v
			return nil
		}
		return fmt.Errorf("must be text or json")
	}},
}

// fileSettings are the settings that may also be read from a file named by
// their variable with _FILE appended (secrets kept out of the environment).
var fileSettings = map[string]bool{
	"AGENTHOOKS_DATABASE_URL":   true,
	"AGENTHOOKS_ADMIN_KEY":      true,
	"AGENTHOOKS_ENCRYPTION_KEY": true,
}

// secretSettings are never echoed in an error message.
var secretSettings = map[string]bool{
	"AGENTHOOKS_ADMIN_KEY":      true,
	"AGENTHOOKS_ENCRYPTION_KEY": true,
}

// flagName turns AGENTHOOKS_DATABASE_URL into database-url.
func flagName(env string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(env, "AGENTHOOKS_")), "_", "-")
}

// configFlags registers a flag per setting on fs (only those named in only,
// when any are given; the others are read from the environment alone) and
// returns a function that builds the Config once fs has parsed its arguments.
// The --role flag is serve's, registered when only is empty.
func configFlags(fs *flag.FlagSet, getenv func(string) string, only ...string) func() (*Config, error) {
	values := make([]*settingValue, len(settings))
	files := map[string]*string{} // the _FILE flags, by variable
	for i, s := range settings {
		values[i] = &settingValue{kind: settingKinds[s.env]}
		if len(only) > 0 && !slices.Contains(only, s.env) {
			continue
		}
		def := settingDefault(s)
		fs.Var(values[i], flagName(s.env), fmt.Sprintf("%s (env %s; default %s)", s.usage, s.env, def))
		if fileSettings[s.env] {
			// Every variable has its flag, the _FILE ones too: --admin-key-file.
			files[s.env] = fs.String(flagName(s.env)+"-file", "", fmt.Sprintf("a file holding --%s (env %s_FILE)", flagName(s.env), s.env))
		}
	}
	roleValue := "all"
	role := &roleValue
	if len(only) == 0 {
		fs.StringVar(role, "role", "all", "all, api (API only) or worker (delivery workers only)")
	}
	return func() (*Config, error) {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		c := &Config{getenv: getenv}
		var errs []error
		for i, s := range settings {
			name := flagName(s.env)
			v, source := s.def, s.env
			if ev := getenv(s.env); ev != "" {
				v = ev
			} else if file := getenv(s.env + "_FILE"); file != "" && fileSettings[s.env] {
				b, err := os.ReadFile(file)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s_FILE: %w", s.env, err))
					continue
				}
				v, source = strings.TrimSpace(string(b)), s.env+"_FILE"
			}
			if f := files[s.env]; f != nil && set[name+"-file"] && !set[name] {
				b, err := os.ReadFile(*f)
				if err != nil {
					errs = append(errs, fmt.Errorf("--%s-file: %w", name, err))
					continue
				}
				v, source = strings.TrimSpace(string(b)), "--"+name+"-file"
			}
			if set[name] {
				v, source = values[i].value, "--"+name
			}
			if err := s.set(c, v); err != nil {
				shown := v
				if s.env == "AGENTHOOKS_DATABASE_URL" {
					shown = redactURL(v)
				}
				if secretSettings[s.env] {
					shown = "(redacted)"
				}
				errs = append(errs, fmt.Errorf("invalid %s %q: %w", source, shown, err))
			}
		}
		switch *role {
		case "all", "api", "worker":
			c.Role = *role
		default:
			errs = append(errs, fmt.Errorf("invalid --role %q: must be all, api or worker", *role))
		}
		if len(errs) == 0 {
			if err := resolveEgressProxy(c); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		if c.PublicURL == "" {
			c.PublicURL = "http://" + c.Addr
		}
		return c, nil
	}
}

// redactURL hides a password in a database URL.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return u
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return u
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
