package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/agenthooks/agenthooks"
	"github.com/agenthooks/agenthooks/service"
)

const accountUsage = `Usage: agenthooks account COMMAND [flags]

Manages accounts on the database AGENTHOOKS_DATABASE_URL names (also while
serve runs on it). Each command prints JSON on stdout; a key is shown only
when it is made.

Commands:
  create --name NAME   create an account; prints {"id","name","api_key"}
  rotate-key --id ID   revoke the account's keys; prints a new {"id","name","api_key"}
  list                 one {"id","name","created_at"} per line, oldest first (no keys)

Run 'agenthooks account COMMAND --help' for a command's flags.
`

// accountCmd runs "account create", "account rotate-key" and "account list".
func accountCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, accountUsage)
		return 2
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stdout, accountUsage)
		return 0
	case "create", "rotate-key", "list":
	default:
		fmt.Fprintf(stderr, "agenthooks: unknown account command %q\n\n%s", sub, accountUsage)
		return 2
	}
	fs := newFlagSet("account "+sub, stderr)
	var name, id string
	var h help
	switch sub {
	case "create":
		fs.StringVar(&name, "name", "", "the account's name (required)")
		h = help{"agenthooks account create --name NAME [flags]",
			`Creates an account and prints {"id", "name", "api_key"} as one JSON line; the key is shown only there.`}
	case "rotate-key":
		fs.StringVar(&id, "id", "", "the account's id (required; 'agenthooks account list' shows them)")
		h = help{"agenthooks account rotate-key --id ID [flags]",
			`Revokes every key of the account and prints a new {"id", "name", "api_key"}: the way back to a lost key.`}
	case "list":
		h = help{"agenthooks account list [flags]",
			`Prints each account as one JSON line {"id", "name", "created_at"}, oldest first. Keys are never shown.`}
	}
	load := configFlags(fs, getenv, "AGENTHOOKS_DATABASE_URL")
	if code, done := parseFlags(fs, rest, h, stdout, stderr); done {
		return code
	}
	switch {
	case sub == "create" && strings.TrimSpace(name) == "":
		fmt.Fprintln(stderr, "agenthooks: account create needs --name NAME")
		return 2
	case sub == "rotate-key" && id == "":
		fmt.Fprintln(stderr, "agenthooks: account rotate-key needs --id ID ('agenthooks account list' shows the ids)")
		return 2
	}
	cfg, err := load()
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks: %v\n", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	if err := sqliteMustExist(cfg.DatabaseURL); err != nil {
		fmt.Fprintf(stderr, "agenthooks: %v\n", err)
		return 1
	}
	store, err := openStore(ctx, cfg.DatabaseURL, log, false)
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks: %v\n", err)
		return 1
	}
	defer store.Close()
	svc := service.New(store, nil, log)
	var acc *service.CreatedAccount
	switch sub {
	case "create":
		acc, err = svc.CreateAccount(ctx, name)
	case "rotate-key":
		acc, err = svc.RotateAccountKey(ctx, id)
	case "list":
		return listAccounts(ctx, svc, stdout, stderr)
	}
	if err != nil {
		if agenthooks.ErrorCode(err) == agenthooks.ENOTFOUND {
			fmt.Fprintf(stderr, "agenthooks: no account with id %q ('agenthooks account list' shows the ids)\n", id)
			return 1
		}
		fmt.Fprintf(stderr, "agenthooks: %v\n", err)
		return 1
	}
	return printJSON(stdout, acc)
}

// listedAccount is one line of "account list".
type listedAccount struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"` // RFC 3339 UTC, as the API's timestamps
}

func listAccounts(ctx context.Context, svc *service.Service, stdout, stderr io.Writer) int {
	accounts, err := svc.ListAccounts(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "agenthooks: %v\n", err)
		return 1
	}
	for _, a := range accounts {
		if code := printJSON(stdout, listedAccount{a.ID, a.Name, a.CreatedAt.UTC().Format(time.RFC3339)}); code != 0 {
			return code
		}
	}
	return 0
}

// printJSON writes v as one JSON line.
func printJSON(w io.Writer, v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return 1
	}
	fmt.Fprintln(w, string(b))
	return 0
}
