// Package servicebus is pal-keeper's Service Bus sending adapter: it puts
// messages on the onboarding and sweep queues, now ([Sender.SendMessage],
// [Sender.SendMessages], in batches) or later ([Sender.ScheduleMessage]).
//
// The triggers use it for scheduled retry copies (a deterministic MessageID
// for duplicate detection, the attempt count in ApplicationProperties),
// asynchronous portal requests and the distributed sweep's work items. If
// scheduling fails the invocation fails, so the host redelivers.
//
// One [Client] per process holds the connection to the namespace,
// authenticated with the given token credential (pal-keeper's managed
// identity; no connection strings), and one [Sender] per queue shares it.
// Close the senders, then the client, at shutdown. Building them opens no
// connection; the first send does. [CheckNamespace] and [CheckQueue] are the
// namespace and queue name rules, also used by the handler's settings.
//
// Errors are wrapped with %w, so errors.As still finds an *azservicebus.Error.
// No error this package makes holds a credential.
package servicebus
