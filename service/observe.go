package service

// EventObserver is told of each event the service creates (the metrics'
// agenthooks_events_total). It is called once the event's transaction has
// committed, never for one that failed or rolled back.
type EventObserver interface {
	EventCreated(eventType string)
}

func (s *Service) eventCreated(eventType string) {
	if s.Events != nil {
		s.Events.EventCreated(eventType)
	}
}
