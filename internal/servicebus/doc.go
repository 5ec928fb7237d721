// Package servicebus is pal-keeper's Service Bus sending adapter: it puts
// onboarding messages on a queue, now ([Sender.SendMessage]) or later
// ([Sender.ScheduleMessage]).
//
// The onboarding trigger uses it for the transient-failure path of the design:
// instead of failing the invocation it may schedule a delayed copy of the
// message, with a deterministic MessageID for duplicate detection and the
// attempt count in ApplicationProperties, and complete the original. If that
// scheduling fails the invocation must fail, so the host redelivers.
//
// A [Sender] owns one azservicebus.Client, authenticated with the given token
// credential (pal-keeper's managed identity; no connection strings). Build it
// once per process and [Sender.Close] it at shutdown. Building it opens no
// connection; the first send does.
//
// Errors are wrapped with %w, so errors.As still finds an *azservicebus.Error;
// [IsTransient] tells whether trying again later may succeed. No error this
// package makes holds a credential.
package servicebus
