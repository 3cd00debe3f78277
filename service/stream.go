package service

import (
	"context"

	"github.com/agenthooks/agenthooks"
)

// EventChunk is how many events StreamEvents reads at a time: with envelopes
// of at most 256 KiB (payload.MaxEnvelopeBytes), a chunk holds at most
// 1 MiB of payloads.
const EventChunk = 4

// StreamEvents is ListEvents for a response that is written as it is read:
// it reads the page's ids and the total in one read and calls start with the
// total, then reads the events, with their deliveries, EventChunk at a time
// and calls each for every one, newest first. An event deleted between the
// two reads (retention) is left out. It never holds more than one chunk.
func (s *Service) StreamEvents(ctx context.Context, accountID string, f agenthooks.EventFilter, p agenthooks.Page,
	start func(total int) error, each func(*EventView) error) error {
	var ids []string
	var total int
	err := s.store.Read(ctx, func(tx agenthooks.Tx) error {
		var err error
		ids, total, err = tx.ListEventIDs(accountID, f, p)
		return err
	})
	if err != nil {
		return err
	}
	if err := start(total); err != nil {
		return err
	}
	for len(ids) > 0 {
		chunk := ids[:min(EventChunk, len(ids))]
		ids = ids[len(chunk):]
		var views []*EventView
		err := s.store.Read(ctx, func(tx agenthooks.Tx) error {
			events, err := tx.FindEventsByID(accountID, chunk)
			if err != nil {
				return err
			}
			byID := make(map[string]*EventView, len(events))
			for _, e := range events {
				byID[e.ID] = &EventView{Event: e, Deliveries: []*agenthooks.Delivery{}}
			}
			ds, err := tx.ListEventDeliveries(accountID, chunk)
			if err != nil {
				return err
			}
			for _, d := range ds {
				if v := byID[d.EventID]; v != nil {
					v.Deliveries = append(v.Deliveries, d)
				}
			}
			views = views[:0]
			for _, id := range chunk {
				if v := byID[id]; v != nil {
					views = append(views, v)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, v := range views {
			if err := each(v); err != nil {
				return err
			}
		}
	}
	return nil
}
