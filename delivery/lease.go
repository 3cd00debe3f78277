package delivery

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/agenthooks/agenthooks"
)

// leases are the claims this process holds: from the claim until the job's
// outcome is written (or given up). The renewer moves them forward while
// they are held, so that a lease can be short: a worker that dies (SIGKILL,
// a lost machine) stops renewing, and its deliveries come due again one
// lease after its last renewal, whoever claims them.
type leases struct {
	mu sync.Mutex
	m  map[string]int64 // delivery id → lease number
}

func newLeases() *leases { return &leases{m: map[string]int64{}} }

func (l *leases) add(jobs []*agenthooks.Job) {
	l.mu.Lock()
	for _, j := range jobs {
		l.m[j.Delivery.ID] = j.Lease
	}
	l.mu.Unlock()
}

// remove forgets the claims of outcomes written or given up. A claim is
// forgotten only under its own lease number: the same delivery may have
// been claimed again by this process meanwhile.
func (l *leases) remove(batch []result) {
	l.mu.Lock()
	for i := range batch {
		o := &batch[i].outcome
		if l.m[o.DeliveryID] == o.Lease {
			delete(l.m, o.DeliveryID)
		}
	}
	l.mu.Unlock()
}

func (l *leases) held() []agenthooks.Claim {
	l.mu.Lock()
	defer l.mu.Unlock()
	cs := make([]agenthooks.Claim, 0, len(l.m))
	for id, lease := range l.m {
		cs = append(cs, agenthooks.Claim{DeliveryID: id, Lease: lease})
	}
	return cs
}

// renewer renews the held leases every Lease/3 until stop is closed: a
// renewal may fail twice (the store busy or briefly down) before a lease
// runs out.
func (p *Pool) renewer(stop <-chan struct{}) {
	defer close(p.renewDone)
	t := time.NewTicker(p.o.Lease / 3)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		claims := p.leases.held()
		if len(claims) == 0 {
			continue
		}
		err := p.o.Store.WriteRelaxed(context.Background(), func(tx agenthooks.Tx) error {
			_, err := tx.RenewLeases(claims, tx.Now().Add(p.o.Lease))
			return err
		})
		switch {
		case err != nil && !failing:
			p.log.Warn("renew delivery leases", slog.Int("count", len(claims)), slog.Any("error", err))
		case err == nil && failing:
			p.log.Info("renewing delivery leases again", slog.Int("count", len(claims)))
		}
		failing = err != nil
		if failing {
			p.unsure.Store(true) // leases may run out: see Pool.unsure
		}
		p.renewals.Add(1)
	}
}
