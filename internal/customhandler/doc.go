// Package customhandler implements the custom-handler side of the Azure
// Functions host protocol: the host POSTs each invocation as
// {"Data":…,"Metadata":…} to /{functionName} and expects a 2xx
// application/json {"Outputs":…,"Logs":[…],"ReturnValue":…}; any other answer
// fails the invocation (for Service Bus: abandon, redelivery, dead-letter).
//
// [Server] dispatches invocations to [HandlerFunc]s, gives each one a logger
// whose lines go to stdout only (the answer's Logs is always empty, so the
// host ingests each line once, also for failed invocations), recovers panics
// and shuts down gracefully. The decoding helpers unwrap the host's
// encodings: double-encoded strings ([DecodeString]), base64,
// metadata scalars ([MetadataString], [MetadataTime]) and HTTP
// trigger request objects ([ParseHTTPRequest]).
package customhandler
