package httpapi

import "github.com/agenthooks/agenthooks"

// destinationTypes are the values of a destination's type.
var destinationTypes = []string{agenthooks.DestinationHTTP, agenthooks.DestinationRabbitMQ, agenthooks.DestinationNATS, agenthooks.DestinationRedis}

// destinationRead is a webhook's destination as read (destinationView):
// the broker's URL without its credentials, never the password.
func destinationRead() schema {
	return schema{
		"type": "object",
		"properties": schema{
			"type":            jsEnum(destinationTypes, "Where the deliveries go: http (the endpoint), rabbitmq, nats (JetStream) or redis (a stream)."),
			"url":             jsString("The broker's URL without its credentials (brokers only)."),
			"credentials_set": jsType("boolean", "Whether the URL carries credentials; they are write-only, never returned (brokers only)."),
			"exchange":        jsString("RabbitMQ: the exchange published to."),
			"routing_key":     jsString("RabbitMQ: the routing key; {event} is replaced by the event type."),
			"subject":         jsString("NATS: the JetStream subject; {event} is replaced by the event type."),
			"stream":          jsString("Redis: the stream's key."),
			"maxlen":          jsType("integer", "Redis: the stream is trimmed to about this many entries."),
		},
		"required":    []string{"type"},
		"description": "Where the webhook's deliveries go (docs/destinations.md).",
	}
}

// destinationWrite is the destination a create or PATCH takes.
func destinationWrite() schema {
	s := destinationRead()
	props := schema{}
	for k, v := range s["properties"].(schema) {
		if k != "credentials_set" {
			props[k] = v
		}
	}
	props["url"] = jsString("The broker's URL (amqp://, amqps://, nats://, tls://, redis://, rediss://), credentials included; its host is held to the endpoint rules.")
	return schema{
		"type":        []string{"object", "null"},
		"properties":  props,
		"required":    []string{"type"},
		"description": "Absent, null or {\"type\": \"http\"}: HTTP to endpoint. A broker destination needs no endpoint. A bad field is 422 on [body, destination, field].",
	}
}
