module github.com/agenthooks/agenthooks/webhook

go 1.22
