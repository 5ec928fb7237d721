package azure

import (
	"context"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resources/armsubscriptions"

	"github.com/pal-keeper/pal-keeper/internal/pal"
)

// SubscriptionClient lists and reads the subscriptions the identity can reach
// (api-version 2022-12-01). With Azure Lighthouse these include the customers'
// delegated subscriptions, each with the customer's tenant ID.
type SubscriptionClient struct {
	client *armsubscriptions.Client
}

// NewSubscriptionClient returns a SubscriptionClient on azcore's ARM pipeline.
// Pass nil options for the defaults (Azure public cloud).
func NewSubscriptionClient(cred azcore.TokenCredential, options *arm.ClientOptions) (*SubscriptionClient, error) {
	c, err := newSDKClient("subscription client", cred, options, armsubscriptions.NewClient)
	if err != nil {
		return nil, err
	}
	return &SubscriptionClient{client: c}, nil
}

// ListSubscriptions returns every subscription the identity can reach, following
// every nextLink: GET /subscriptions.
func (c *SubscriptionClient) ListSubscriptions(ctx context.Context) ([]pal.Subscription, error) {
	var subs []pal.Subscription
	err := c.ListSubscriptionPages(ctx, func(page []pal.Subscription) error {
		subs = append(subs, page...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return subs, nil
}

// ListSubscriptionPages lists the subscriptions the identity can reach page by
// page (GET /subscriptions, then each nextLink) and calls fn with each page as
// it arrives, so the caller can work while the next page is read. An error of
// fn stops the listing and is returned.
func (c *SubscriptionClient) ListSubscriptionPages(ctx context.Context, fn func(page []pal.Subscription) error) error {
	const op = "LIST subscriptions"
	seen := make(map[string]bool)
	pager := c.client.NewListPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return translate(op, err)
		}
		subs := make([]pal.Subscription, 0, len(page.Value))
		for _, s := range page.Value {
			if sub, ok := toSubscription(s); ok {
				subs = append(subs, sub)
			}
		}
		if err := checkNextLink(op, seen, page.NextLink); err != nil {
			return err
		}
		if err := fn(subs); err != nil {
			return err
		}
	}
	return nil
}

// GetSubscription returns one subscription: GET /subscriptions/{id}. id must be
// a GUID (CodeInvalidInput). A subscription the identity cannot reach gives
// CodeNotFound (404, or 401 InvalidAuthenticationTokenTenant when it belongs to
// a tenant the identity has no access to) or CodeForbidden (403).
func (c *SubscriptionClient) GetSubscription(ctx context.Context, id string) (*pal.Subscription, error) {
	if !pal.IsGUID(id) {
		return nil, invalidInput("subscriptionId", "must be a GUID")
	}
	id = strings.ToLower(id)
	op := "GET subscription " + id
	resp, err := c.client.Get(ctx, id, nil)
	if err != nil {
		return nil, translate(op, err)
	}
	sub, ok := toSubscription(&resp.Subscription)
	if !ok {
		return nil, &pal.Error{Code: pal.CodeInternal, Message: op + ": Azure's answer has no subscription ID"}
	}
	return &sub, nil
}

// toSubscription maps an SDK subscription; ok is false when it has no ID.
func toSubscription(s *armsubscriptions.Subscription) (pal.Subscription, bool) {
	if s == nil {
		return pal.Subscription{}, false
	}
	id := deref(s.SubscriptionID)
	if id == "" {
		id = lastSegment(deref(s.ID))
	}
	if id == "" {
		return pal.Subscription{}, false
	}
	return pal.Subscription{
		ID:          strings.ToLower(id),
		TenantID:    strings.ToLower(deref(s.TenantID)),
		DisplayName: deref(s.DisplayName),
		State:       string(deref(s.State)),
	}, true
}

// checkNextLink stops a listing whose service repeats a nextLink, which would
// otherwise page forever.
func checkNextLink(op string, seen map[string]bool, next *string) error {
	if next == nil || *next == "" {
		return nil
	}
	if seen[*next] {
		return &pal.Error{Code: pal.CodeInternal, Message: op + ": Azure repeated a nextLink"}
	}
	seen[*next] = true
	return nil
}
