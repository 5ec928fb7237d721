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
// identity, then schedule a delayed copy (the retry chain's next attempt).
// Not run: it needs a Service Bus namespace.
func Example() {
	cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{
		ID: azidentity.ClientID(os.Getenv("AZURE_CLIENT_ID")),
	})
	if err != nil {
		log.Fatal(err)
	}
	client, err := servicebus.NewClient(os.Getenv("ServiceBusConnection__fullyQualifiedNamespace"), cred, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = client.Close(context.Background()) }()
	sender, err := client.NewSender("pal-onboarding")
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
	if err := sender.ScheduleMessage(ctx, retry, time.Now().Add(30*time.Second)); err != nil {
		// Whatever the cause, fail the invocation so the host redelivers.
		log.Print("could not schedule the retry: ", err)
	}
}
