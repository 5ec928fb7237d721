package hostsim

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

const sbHostJSON = `{
  // Newtonsoft accepts comments in host.json.
  "version": "2.0",
  "customHandler": {"description": {"defaultExecutablePath": "handler"}},
  "extensions": {"serviceBus": {"maxConcurrentCalls": 2}}
}`

func sbApp(t *testing.T, dataType string) string {
	dt := ""
	if dataType != "" {
		dt = `, "dataType": "` + dataType + `"`
	}
	return writeApp(t, sbHostJSON, map[string]string{
		"functions/onboarding/function.json": `{"bindings": [
			{"type": "serviceBusTrigger", "direction": "in", "name": "msg", "queueName": "%APP_QUEUE%",
			 "connection": "ServiceBusConnection"` + dt + `},
			{"type": "serviceBus", "direction": "out", "name": "outMsg", "queueName": "results", "connection": "ServiceBusConnection"}]}`,
	})
}

func sbEnv() []string {
	return []string{"APP_QUEUE=pal-onboarding", "ServiceBusConnection__fullyQualifiedNamespace=sb-test.servicebus.windows.net"}
}

func TestServiceBusPayloadShape(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: sbApp(t, ""), Env: sbEnv()})
	if f, _ := h.Function("onboarding"); f.Queue != "pal-onboarding" || f.TriggerType != TriggerServiceBus {
		t.Fatalf("function = %+v, want queue %%APP_QUEUE%% resolved", f)
	}
	body := `{"message":"hello","number":2,"ratio":1.50,"flag":true,"nothing":null,"nested":{"a":1},` +
		`"list":[1,2],"when":"2024-01-02T03:04:05Z","html":"<a&b>","MessageId":"from-body"}`
	enqueued := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	q := h.Queue("PAL-ONBOARDING") // queue names are case-insensitive
	q.Send([]byte(body), &MessageOptions{
		MessageID: "m-1", CorrelationID: "c-1", ContentType: "application/json", Subject: "onboard",
		ApplicationProperties: map[string]any{"attempt": 2, "source": "test"},
		EnqueuedTime:          enqueued, TimeToLive: time.Hour,
	})
	if err := h.DrainQueue(testContext(t), "pal-onboarding"); err != nil {
		t.Fatal(err)
	}
	done := q.Completed()
	if len(done) != 1 || len(q.DeadLettered()) != 0 || len(q.Pending()) != 0 {
		t.Fatalf("completed %d, dead-lettered %d, pending %d; want 1, 0, 0", len(done), len(q.DeadLettered()), len(q.Pending()))
	}
	if done[0].DeliveryCount != 1 || done[0].MessageID != "m-1" || string(done[0].Body) != body {
		t.Errorf("completed message = %+v", done[0].Message)
	}
	r := receivedOf(t, done[0].Result)

	// Data.msg is a JSON string holding the JSON-encoded body: the body is double-encoded.
	inner := str(t, r.Data["msg"])
	if got := str(t, json.RawMessage(inner)); got != body {
		t.Errorf("Data.msg decodes to %q, want the body", got)
	}
	if !strings.Contains(string(done[0].Result.Request), `"<a&b>`) {
		t.Errorf("HTML characters must not be escaped: %s", done[0].Result.Request)
	}

	md := r.Metadata
	wantStrings := map[string]string{
		"DeliveryCount":   "1",
		"MessageId":       `"from-body"`, // a body property overwrites binding data (ApplyBindingData)
		"CorrelationId":   `"c-1"`,
		"ContentType":     `"application/json"`,
		"Subject":         `"onboard"`,
		"Label":           `"onboard"`,
		"SequenceNumber":  "1",
		"EnqueuedTimeUtc": "2024-05-06T07:08:09",
		"EnqueuedTime":    "2024-05-06T07:08:09+00:00",
		"ExpiresAtUtc":    "2024-05-06T08:08:09",
		"ExpiresAt":       "2024-05-06T08:08:09+00:00",
		"message":         `"hello"`,
		"number":          `"2"`,
		"ratio":           `"1.5"`,
		"flag":            `"True"`,
		"when":            `"01/02/2024 03:04:05"`,
		"html":            `"<a&b>"`,
	}
	for k, want := range wantStrings {
		raw, ok := md[k]
		if !ok {
			t.Errorf("Metadata.%s missing", k)
			continue
		}
		if got := str(t, raw); got != want {
			t.Errorf("Metadata.%s = %q, want %q", k, got, want)
		}
	}
	if !regexp.MustCompile(`^"[0-9a-f-]{36}"$`).MatchString(str(t, md["LockToken"])) {
		t.Errorf("LockToken = %s", md["LockToken"])
	}
	for _, k := range []string{"MessageReceiver", "MessageSession", "MessageActions", "SessionActions", "ReceiveActions"} {
		if string(md[k]) != "{}" {
			t.Errorf("Metadata.%s = %s, want {}", k, md[k])
		}
	}
	for k, want := range map[string]string{
		"ApplicationProperties": `{"attempt":2,"source":"test"}`,
		"UserProperties":        `{"attempt":2,"source":"test"}`,
		"nested":                `{"a":1}`,
	} {
		if !jsonEqual(t, md[k], want) {
			t.Errorf("Metadata.%s = %s, want %s", k, md[k], want)
		}
	}
	var client struct {
		FullyQualifiedNamespace string
		IsClosed                bool
		TransportType           int
		Identifier              string
	}
	if err := json.Unmarshal(md["Client"], &client); err != nil || client.FullyQualifiedNamespace != "sb-test.servicebus.windows.net" ||
		!strings.HasPrefix(client.Identifier, "sb-test.servicebus.windows.net-") {
		t.Errorf("Client = %s", md["Client"])
	}
	for _, k := range []string{"list", "nothing", "ReplyTo", "SessionId", "To", "PartitionKey", "msg"} {
		if _, ok := md[k]; ok {
			t.Errorf("Metadata.%s = %s, want it absent", k, md[k])
		}
	}
	var sys sysData
	if err := json.Unmarshal(md["sys"], &sys); err != nil || sys.MethodName != "onboarding" {
		t.Errorf("sys = %s", md["sys"])
	}
}

func TestServiceBusDefaultsAndBinary(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: sbApp(t, "binary"), Env: sbEnv()})
	body := []byte(`{"message":"hello","number":2}`)
	sent := h.Queue("pal-onboarding").Send(body, nil)
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(sent.MessageID) {
		t.Errorf("generated MessageID = %q", sent.MessageID)
	}
	if err := h.DrainQueue(testContext(t), "pal-onboarding"); err != nil {
		t.Fatal(err)
	}
	done := h.Queue("pal-onboarding").Completed()
	if len(done) != 1 {
		t.Fatalf("completed %d", len(done))
	}
	r := receivedOf(t, done[0].Result)
	if got, want := str(t, r.Data["msg"]), base64.StdEncoding.EncodeToString(body); got != want {
		t.Errorf("Data.msg = %q, want base64 %q", got, want)
	}
	if _, ok := r.Metadata["message"]; ok {
		t.Error("body properties must not be copied for dataType binary")
	}
	for k, want := range map[string]string{"ExpiresAtUtc": "9999-12-31T23:59:59", "ExpiresAt": "9999-12-31T23:59:59+00:00"} {
		if got := str(t, r.Metadata[k]); got != want {
			t.Errorf("%s = %q, want %q (infinite TTL)", k, got, want)
		}
	}
	for _, k := range []string{"ContentType", "CorrelationId", "Subject"} {
		if _, ok := r.Metadata[k]; ok {
			t.Errorf("Metadata.%s present, want it only when set", k)
		}
	}
	if !jsonEqual(t, r.Metadata["ApplicationProperties"], `{}`) {
		t.Errorf("ApplicationProperties = %s", r.Metadata["ApplicationProperties"])
	}
	var client struct{ FullyQualifiedNamespace string }
	_ = json.Unmarshal(r.Metadata["Client"], &client)
	if client.FullyQualifiedNamespace != "sb-test.servicebus.windows.net" {
		t.Errorf("Client = %s", r.Metadata["Client"])
	}
}

func TestServiceBusFailureAbandonsThenDeadLetters(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: sbApp(t, ""), Env: sbEnv(), MaxDeliveryCount: 3})
	q := h.Queue("pal-onboarding")
	poison := []byte(`{"tenantId":"FAKE:status=400"}`)
	q.Send(poison, &MessageOptions{MessageID: "poison"})
	q.Send([]byte(`{"x":"FAKE:failuntil=3"}`), &MessageOptions{MessageID: "flaky"})
	if err := h.DrainQueue(testContext(t), "pal-onboarding"); err != nil {
		t.Fatal(err)
	}

	dead := q.DeadLettered()
	if len(dead) != 1 {
		t.Fatalf("dead-lettered %d messages, want 1", len(dead))
	}
	d := dead[0]
	if d.MessageID != "poison" || d.DeliveryCount != 3 || d.Reason != ReasonMaxDeliveryCountExceeded || string(d.Body) != string(poison) {
		t.Errorf("dead-lettered = %+v", d)
	}
	if want := "Message could not be consumed after 3 delivery attempts."; d.Description != want {
		t.Errorf("Description = %q, want Service Bus's %q (nothing of the handler's answer)", d.Description, want)
	}
	if !strings.Contains(d.LastError(), "handler answered 400") || d.Result == nil || d.Result.Status != 400 {
		t.Errorf("LastError = %q, Result = %+v; want the last failure", d.LastError(), d.Result)
	}

	done := q.Completed()
	if len(done) != 1 || done[0].MessageID != "flaky" || done[0].DeliveryCount != 3 {
		t.Fatalf("completed = %+v, want the flaky message after 3 deliveries", done)
	}
	if got := str(t, receivedOf(t, done[0].Result).Metadata["DeliveryCount"]); got != "3" {
		t.Errorf("Metadata.DeliveryCount on the third delivery = %q", got)
	}
}

func TestServiceBusRespectsMaxConcurrentCalls(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: sbApp(t, ""), Env: sbEnv()})
	q := h.Queue("pal-onboarding")
	for i := 0; i < 6; i++ {
		q.Send([]byte(`{"x":"FAKE:sleep=150ms"}`), nil)
	}
	if err := h.DrainQueue(testContext(t), "pal-onboarding"); err != nil {
		t.Fatal(err)
	}
	done := q.Completed()
	if len(done) != 6 {
		t.Fatalf("completed %d, want 6", len(done))
	}
	var peak int64
	for _, m := range done {
		peak = max(peak, echoOf(t, m.Result).Concurrent)
	}
	if peak != 2 {
		t.Errorf("peak concurrent deliveries = %d, want host.json maxConcurrentCalls 2", peak)
	}
}

func TestServiceBusScheduledMessages(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: sbApp(t, ""), Env: sbEnv()})
	q := h.Queue("pal-onboarding")
	at := time.Now().Add(400 * time.Millisecond)
	q.SendScheduled([]byte(`{"copy":1}`), nil, at)
	if p := q.Pending(); len(p) != 1 || p[0].ScheduledEnqueueTime.IsZero() {
		t.Fatalf("pending = %+v", p)
	}
	start := time.Now()
	if err := h.DrainQueue(testContext(t), "pal-onboarding"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("delivered after %s, before the scheduled time", d)
	}
	done := q.Completed()
	if len(done) != 1 {
		t.Fatalf("completed %d", len(done))
	}
	if got, want := str(t, receivedOf(t, done[0].Result).Metadata["EnqueuedTimeUtc"]), at.UTC().Format(layoutUTC); got != want {
		t.Errorf("EnqueuedTimeUtc = %q, want the scheduled time %q", got, want)
	}

	q.SendScheduled([]byte(`{"copy":2}`), nil, time.Now().Add(time.Hour))
	if n := q.ReleaseScheduled(); n != 1 {
		t.Fatalf("ReleaseScheduled = %d", n)
	}
	if err := h.DrainQueue(testContext(t), "pal-onboarding"); err != nil {
		t.Fatal(err)
	}
	if len(q.Completed()) != 2 {
		t.Errorf("released message was not delivered")
	}
}

func TestServiceBusOutputBindingSendsMessages(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: sbApp(t, ""), Env: sbEnv()})
	body := `{"x":"` + outputs64(`{"outMsg":["plain",{"k":1}],"ignored":"x"}`) + `"}`
	h.Queue("pal-onboarding").Send([]byte(body), nil)
	h.Queue("pal-onboarding").Send([]byte(`{"x":"`+outputs64(`{"outMsg":"aGVsbG8="}`)+`"}`), nil)
	if err := h.DrainQueue(testContext(t), "pal-onboarding"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range h.Queue("results").Pending() {
		got = append(got, string(m.Body))
	}
	sort.Strings(got)
	want := []string{"hello", "plain", `{"k":1}`} // a top-level string is tried as base64
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("results queue = %q, want %q", got, want)
	}
	if err := h.DrainQueue(testContext(t), "results"); !errors.Is(err, ErrUnknownFunction) {
		t.Errorf("DrainQueue on a queue nobody listens to = %v", err)
	}
}

func TestServiceBusAutoDeliver(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: sbApp(t, ""), Env: sbEnv(), AutoDeliver: true})
	q := h.Queue("pal-onboarding")
	q.Send([]byte(`{"a":1}`), nil)
	deadline := time.Now().Add(10 * time.Second)
	for len(q.Completed()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("message was not delivered in the background")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServiceBusMaxDeliveryCountPerQueue: each queue has its own
// max_delivery_count, as in Service Bus.
func TestServiceBusMaxDeliveryCountPerQueue(t *testing.T) {
	h, _ := startHost(t, Options{AppRoot: sbApp(t, ""), Env: sbEnv(), MaxDeliveryCount: 3,
		QueueMaxDeliveryCount: map[string]int{"PAL-Onboarding": 2}})
	if got := h.Queue("pal-onboarding").maxDelivery; got != 2 {
		t.Errorf("pal-onboarding: max delivery count %d, want 2", got)
	}
	if got := h.Queue("other").maxDelivery; got != 3 {
		t.Errorf("other: max delivery count %d, want 3 (MaxDeliveryCount)", got)
	}
}
