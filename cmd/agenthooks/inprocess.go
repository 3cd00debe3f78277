package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
)

// firstAccount is the account a new server prints on stdout.
type firstAccount struct {
	ID     string `json:"id"`
	APIKey string `json:"api_key"`
}

// startInProcess starts agenthooks in this process for the bench and the
// demo, in one role of serve's --role ("all": API and workers; "api": the
// API alone), configured by getenv alone (no other flag), logging to logs; it
// returns the running app and the first account it created.
func startInProcess(ctx context.Context, role string, getenv func(string) string, logs io.Writer) (*app, *firstAccount, error) {
	fs := flag.NewFlagSet("in-process", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	build := configFlags(fs, getenv)
	if err := fs.Parse([]string{"--role", role}); err != nil {
		return nil, nil, err
	}
	cfg, err := build()
	if err != nil {
		return nil, nil, err
	}
	var out bytes.Buffer
	a, err := newApp(ctx, cfg, newLogger(cfg, logs), &out)
	if err != nil {
		return nil, nil, err
	}
	var first firstAccount
	if err := json.Unmarshal(out.Bytes(), &first); err != nil || first.APIKey == "" {
		if a.ln != nil {
			a.ln.Close()
		}
		a.store.Close()
		return nil, nil, errors.New("the new server did not create its first account")
	}
	a.start()
	return a, &first, nil
}
