package httpapi

import "github.com/agenthooks/agenthooks"

// destinationTypes are the values of a destination's type.
var destinationTypes = []string{agenthooks.DestinationHTTP, agenthooks.DestinationRabbitMQ, agenthooks.DestinationNATS, agenthooks.DestinationRedis}

// destinationWrite is the destination a create or PATCH takes.
func destinationWrite() schema {
	props := schema{
		"type":        jsEnum(destinationTypes, "Where the deliveries go: http (the endpoint), rabbitmq, nats (JetStream) or redis (a stream)."),
		"exchange":    jsString("RabbitMQ: the exchange published to."),
		"routing_key": jsString("RabbitMQ: the routing key; {event} is replaced by the event type."),
		"subject":     jsString("NATS: the JetStream subject; {event} is replaced by the event type."),
		"stream":      jsString("Redis: the stream's key."),
		"maxlen":      jsType("integer", "Redis: the stream is trimmed to about this many entries."),
	}
	props["url"] = jsString("The broker's URL (amqp://, amqps://, nats://, tls://, redis://, rediss://), credentials included; its host is held to the endpoint rules.")
	return schema{
		"type":        []string{"object", "null"},
		"properties":  props,
		"required":    []string{"type"},
		"description": "Absent, null or {\"type\": \"http\"}: HTTP to endpoint. A broker destination needs no endpoint. A bad field is 422 on [body, destination, field].",
	}
}
