package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

// accountCmd runs "account create" and "account rotate-key". Both print one
// JSON object {"id", "name", "api_key"} on stdout; the key is shown only there.
func accountCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: agenthooks account create --name NAME | agenthooks account rotate-key --id ID")
		return 2
	}
	sub := args[0]
	fs := flag.NewFlagSet("account "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "account name (create)")
	id := fs.String("id", "", "account id (rotate-key)")
	load := configFlags(fs, getenv)
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	cfg, err := load()
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks: %v\n", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	var fn func(*service.Service) (*service.CreatedAccount, error)
	switch sub {
	case "create":
		if strings.TrimSpace(*name) == "" {
			fmt.Fprintln(stderr, "agenthooks: account create needs --name NAME")
			return 2
		}
		fn = func(s *service.Service) (*service.CreatedAccount, error) { return s.CreateAccount(ctx, *name) }
	case "rotate-key":
		if *id == "" {
			fmt.Fprintln(stderr, "agenthooks: account rotate-key needs --id ID")
			return 2
		}
		fn = func(s *service.Service) (*service.CreatedAccount, error) { return s.RotateAccountKey(ctx, *id) }
	default:
		fmt.Fprintf(stderr, "agenthooks: unknown account command %q (create, rotate-key)\n", sub)
		return 2
	}
	store, err := openStore(ctx, cfg.DatabaseURL, log)
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks: %v\n", err)
		return 1
	}
	defer store.Close()
	acc, err := fn(service.New(store, nil, log))
	if err != nil {
		if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
			fmt.Fprintf(stderr, "agenthooks: no account with id %q\n", *id)
			return 1
		}
		fmt.Fprintf(stderr, "agenthooks: %v\n", err)
		return 1
	}
	return printJSON(stdout, acc)
}

func printJSON(w io.Writer, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return 1
	}
	fmt.Fprintln(w, string(b))
	return 0
}
