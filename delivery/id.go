package delivery

import (
	"strconv"

	"github.com/google/uuid"
)

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
