package service

// EventObserver is told of each event the service creates (the metrics'
// agenthooks_events_total). It is called inside the event's transaction,
// so an event whose transaction then fails (a full disk at commit) is
// counted too; such failures answer 503 and are rare against the events
// that commit.
type EventObserver interface {
	EventCreated(eventType string)
}

func (s *Service) eventCreated(eventType string) {
	if s.Events != nil {
		s.Events.EventCreated(eventType)
	}
}
