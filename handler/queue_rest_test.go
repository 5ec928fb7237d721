// The end-to-end tests' queue sender. The tests run under the host
// simulator, which cannot speak AMQP, so their handler — this test binary run
// as the handler (runAsHandler, e2e_main_test.go), wired by the same
// functions as the product — sends its queue messages through Service Bus's
// REST send API on the simulator's loopback endpoint instead. It is a _test
// file: the product (go build ./handler) has no such path.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/pal-keeper/pal-keeper/internal/servicebus"
	"github.com/rs/zerolog"
)

// envServiceBusREST is the base URL of a loopback Service Bus REST send
// endpoint (the host simulator's), read only by the tests' handler.
const envServiceBusREST = "PAL_TEST_SERVICEBUS_REST"

const (
	// restScope is the token scope of Service Bus.
	restScope = "https://servicebus.azure.net/.default"
	// restBatchType marks a batch send.
	restBatchType = "application/vnd.microsoft.servicebus.json"
	// restMaxRequest is Service Bus standard's message (and batch) size limit.
	restMaxRequest = 256 * 1024
)

// restQueues returns the queueOpener of REST senders posting to the
// PAL_TEST_SERVICEBUS_REST endpoint getenv gives.
func restQueues(getenv func(string) string) queueOpener {
	return func(s settings, cred azcore.TokenCredential) (onboarding, work queueSender, closeAll func(*zerolog.Logger), err error) {
		raw := getenv(envServiceBusREST)
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "http" || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
			// A bearer token goes over this connection: loopback only.
			return nil, nil, nil, fmt.Errorf("invalid setting %s: %q is not an http://127.0.0.1 URL", envServiceBusREST, raw)
		}
		client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}}
		mk := func(queue string) *restSender {
			return &restSender{client: client, base: u.String(), queue: queue, cred: cred}
		}
		return mk(s.OnboardingQueue), mk(s.SweepQueue), func(*zerolog.Logger) {}, nil
	}
}

// restSender sends to one queue with the Service Bus REST API.
type restSender struct {
	client *http.Client
	base   string
	queue  string
	cred   azcore.TokenCredential
}

var _ queueSender = (*restSender)(nil)

// brokerProperties is the REST API's BrokerProperties object.
type brokerProperties struct {
	MessageID               string `json:"MessageId"`
	CorrelationID           string `json:"CorrelationId,omitempty"`
	ContentType             string `json:"ContentType,omitempty"`
	ScheduledEnqueueTimeUtc string `json:"ScheduledEnqueueTimeUtc,omitempty"`
}

func props(m servicebus.OutgoingMessage, at time.Time) brokerProperties {
	ct := m.ContentType
	if ct == "" {
		ct = servicebus.DefaultContentType
	}
	bp := brokerProperties{MessageID: m.MessageID, CorrelationID: m.CorrelationID, ContentType: ct}
	if !at.IsZero() {
		bp.ScheduledEnqueueTimeUtc = at.UTC().Format(http.TimeFormat)
	}
	return bp
}

// SendMessage sends m now.
func (r *restSender) SendMessage(ctx context.Context, m servicebus.OutgoingMessage) error {
	return r.sendOne(ctx, m, time.Time{})
}

// ScheduleMessage sends m to become visible at enqueueAt.
func (r *restSender) ScheduleMessage(ctx context.Context, m servicebus.OutgoingMessage, enqueueAt time.Time) error {
	if enqueueAt.IsZero() {
		return fmt.Errorf("servicebus rest: schedule message %q to queue %q: enqueue time is zero", m.MessageID, r.queue)
	}
	return r.sendOne(ctx, m, enqueueAt)
}

func (r *restSender) sendOne(ctx context.Context, m servicebus.OutgoingMessage, at time.Time) error {
	if m.MessageID == "" {
		return fmt.Errorf("servicebus rest: send to queue %q: message has no MessageID", r.queue)
	}
	bp, err := json.Marshal(props(m, at))
	if err != nil {
		return fmt.Errorf("servicebus rest: %w", err)
	}
	header := http.Header{"Brokerproperties": {string(bp)}, "Content-Type": {props(m, at).ContentType}}
	for k, v := range m.ApplicationProperties {
		j, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("servicebus rest: property %s: %w", k, err)
		}
		header.Set(k, string(j))
	}
	return r.post(ctx, header, m.Body, 1)
}

// restMessage is one message of a batch send.
type restMessage struct {
	Body             string           `json:"Body"`
	BrokerProperties brokerProperties `json:"BrokerProperties"`
	UserProperties   map[string]any   `json:"UserProperties,omitempty"`
}

// SendMessages sends ms now, in batches of at most 256 KB.
func (r *restSender) SendMessages(ctx context.Context, ms []servicebus.OutgoingMessage) error {
	var batch []json.RawMessage
	size := 2
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		body, err := json.Marshal(batch)
		if err != nil {
			return fmt.Errorf("servicebus rest: %w", err)
		}
		n := len(batch)
		batch, size = nil, 2
		return r.post(ctx, http.Header{"Content-Type": {restBatchType}}, body, n)
	}
	for _, m := range ms {
		if m.MessageID == "" {
			return fmt.Errorf("servicebus rest: send to queue %q: message has no MessageID", r.queue)
		}
		one, err := json.Marshal(restMessage{Body: string(m.Body), BrokerProperties: props(m, time.Time{}), UserProperties: m.ApplicationProperties})
		if err != nil {
			return fmt.Errorf("servicebus rest: %w", err)
		}
		if size+len(one)+1 > restMaxRequest {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, one)
		size += len(one) + 1
	}
	return flush()
}

func (r *restSender) post(ctx context.Context, header http.Header, body []byte, n int) error {
	tok, err := r.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{restScope}})
	if err != nil {
		return fmt.Errorf("servicebus rest: token: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/"+url.PathEscape(r.queue)+"/messages", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("servicebus rest: %w", err)
	}
	req.Header = header
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("servicebus rest: send %d message(s) to queue %q: %w", n, r.queue, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("servicebus rest: send %d message(s) to queue %q: %s: %s", n, r.queue, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
