package servicebus

import (
	"context"
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/messaging/azservicebus"
)

// Client is one connection to a Service Bus namespace shared by the senders
// of several queues (the onboarding queue and the sweep queue): one client
// per process, one [Sender] per queue. Close the senders, then the client.
type Client struct {
	client *azservicebus.Client
}

// NewClient returns a client for the namespace (a fully qualified host name)
// authenticating with cred. It checks its arguments and opens no connection.
func NewClient(namespace string, cred azcore.TokenCredential, options *Options) (*Client, error) {
	if err := CheckNamespace(namespace); err != nil {
		return nil, fmt.Errorf("servicebus: %w", err)
	}
	if cred == nil {
		return nil, errors.New("servicebus: credential is nil")
	}
	if options == nil {
		options = &Options{}
	}
	clientOptions := options.ClientOptions
	c, err := azservicebus.NewClient(namespace, cred, &clientOptions)
	if err != nil {
		return nil, fmt.Errorf("servicebus: client for namespace %s: %w", namespace, err)
	}
	return &Client{client: c}, nil
}

// NewSender returns a sender for queue over the client's connection. Closing
// it leaves the client open.
func (c *Client) NewSender(queue string) (*Sender, error) {
	if err := CheckQueue(queue); err != nil {
		return nil, fmt.Errorf("servicebus: %w", err)
	}
	factory := func(queue string) (messageSender, error) {
		s, err := c.client.NewSender(queue, nil)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return newSender(queue, factory, func(context.Context) error { return nil }), nil
}

// Close closes the connection; senders still open fail afterwards.
func (c *Client) Close(ctx context.Context) error {
	if err := c.client.Close(ctx); err != nil {
		return fmt.Errorf("servicebus: close client: %w", err)
	}
	return nil
}
