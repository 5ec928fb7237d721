package servicebus_test

import (
	"context"
	"log"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/pal-keeper/pal-keeper/internal/servicebus"
)

// Send an onboarding message with the function's user-assigned managed
// identity, and on transient trouble schedule a delayed copy instead.
// Not run: it needs a Service Bus namespace.
func Example() {
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
		ID: azidentity.ClientID(os.Getenv("AZURE_CLIENT_ID")),
	})
	if err != nil {
		log.Fatal(err)
	}
	sender, err := servicebus.NewSender(os.Getenv("ServiceBusConnection__fullyQualifiedNamespace"), "pal-onboarding", cred, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = sender.Close(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msg := servicebus.OutgoingMessage{
		Body:      []byte(`{"tenantId":"00000000-0000-0000-0000-000000000001"}`),
		MessageID: "onboard-00000000-0000-0000-0000-000000000001",
	}
	if err := sender.SendMessage(ctx, msg); err != nil {
		log.Fatal(err)
	}

	// A retry copy: a new deterministic MessageID per attempt, the attempt
	// count in the application properties, visible after the back-off.
	retry := servicebus.OutgoingMessage{
		Body:                  msg.Body,
		MessageID:             msg.MessageID + "-attempt-2",
		CorrelationID:         msg.MessageID,
		ApplicationProperties: map[string]any{"palAttempt": int64(2)},
	}
	err = sender.ScheduleMessage(ctx, retry, time.Now().Add(30*time.Second))
	switch {
	case err == nil:
	case servicebus.IsTransient(err):
		log.Print("Service Bus unavailable; fail the invocation so the host redelivers: ", err)
	default:
		log.Fatal(err)
	}
}
