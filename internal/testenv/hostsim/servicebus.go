package hostsim

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Service Bus settlement reasons.
const (
	// ReasonMaxDeliveryCountExceeded is the dead-letter reason Service Bus gives a message
	// that failed MaxDeliveryCount deliveries.
	ReasonMaxDeliveryCountExceeded = "MaxDeliveryCountExceeded"
)

// maxTime is DateTimeOffset.MaxValue as the host prints it: ExpiresAt of a message on a
// queue with the default (infinite) time to live.
var maxTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// MessageOptions are the optional properties of a message sent to a queue.
type MessageOptions struct {
	MessageID     string // default: a new GUID without dashes
	CorrelationID string
	ContentType   string
	Subject       string // also reported as Label
	ReplyTo       string
	To            string
	SessionID     string
	PartitionKey  string
	// TimeToLive sets ExpiresAt; zero means the queue default (infinite).
	TimeToLive time.Duration
	// ApplicationProperties reach the handler as a JSON object (ApplicationProperties and
	// UserProperties); values must be JSON-encodable.
	ApplicationProperties map[string]any
	// EnqueuedTime overrides the enqueued time (default: when the message becomes active).
	EnqueuedTime time.Time
}

// Message is a message on a simulated queue.
type Message struct {
	MessageOptions
	Body           []byte
	SequenceNumber int64
	EnqueuedTime   time.Time
	// ScheduledEnqueueTime is set for messages sent with SendScheduled.
	ScheduledEnqueueTime time.Time
	// DeliveryCount is the number of deliveries made so far.
	DeliveryCount int
}

// SettledMessage is a completed or dead-lettered message.
type SettledMessage struct {
	Message
	// Reason and Description are the dead-letter reason and error description
	// ("" for completed messages), as Service Bus sets them: the reason
	// MaxDeliveryCountExceeded and "Message could not be consumed after N
	// delivery attempts." — nothing of the handler's answer (the host does not
	// pass it on; it is in the function's logs). Tests read the last failure
	// with LastError.
	Reason, Description string
	SettledAt           time.Time
	// Result is the last delivery's invocation.
	Result *InvocationResult
}

// LastError is the last delivery's failure as the simulator saw it (the
// handler's error answer), "" when it did not fail. Service Bus keeps none of
// it; it is for tests and the sandbox.
func (s SettledMessage) LastError() string {
	if s.Result == nil || s.Result.Err == nil {
		return ""
	}
	return s.Result.Err.Error()
}

// Queue is an in-memory Service Bus queue (or topic subscription) with PeekLock
// delivery rules: a successful invocation completes the message, a failed one abandons
// it (redelivered at once with DeliveryCount+1) until MaxDeliveryCount deliveries have
// failed, then it is dead-lettered.
type Queue struct {
	name        string
	maxDelivery int

	mu           sync.Mutex
	seq          int64
	active       []*Message    // by sequence number
	scheduled    []*Message    // by ScheduledEnqueueTime
	inflight     int           // deliveries in progress, all processes
	busy         map[*Host]int // deliveries in progress per process (cluster)
	dedupe       time.Duration // duplicate detection window (0: off)
	seen         map[string]time.Time
	completed    []SettledMessage
	deadLettered []SettledMessage
	changed      chan struct{}
}

// Queue returns the queue with the given name (case-insensitive), creating it if needed.
// Trigger functions are bound to the queue named by their function.json.
// The processes of a cluster share their queues.
func (h *Host) Queue(name string) *Queue {
	maxDelivery := h.maxDelivery
	if n, ok := h.queueMaxDelivery[strings.ToLower(name)]; ok && n > 0 {
		maxDelivery = n
	}
	return h.queues.get(name, maxDelivery, h.dedupe)
}

// lowerKeys returns m with its keys lower-cased (queue names are case-insensitive).
func lowerKeys(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// queueSet is the namespace's queues, shared by the processes of a cluster.
type queueSet struct {
	mu sync.Mutex
	m  map[string]*Queue
}

func newQueueSet() *queueSet { return &queueSet{m: map[string]*Queue{}} }

func (s *queueSet) get(name string, maxDelivery int, dedupe time.Duration) *Queue {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(name)
	q, ok := s.m[key]
	if !ok {
		q = &Queue{name: name, maxDelivery: maxDelivery, dedupe: dedupe, changed: make(chan struct{}),
			busy: map[*Host]int{}, seen: map[string]time.Time{}}
		s.m[key] = q
	}
	return q
}

// lookup returns the queue if it exists.
func (s *queueSet) lookup(name string) (*Queue, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.m[strings.ToLower(name)]
	return q, ok
}

// Name is the queue's name.
func (q *Queue) Name() string { return q.name }

// Send enqueues a message and returns it as stored. With duplicate detection
// (Options.DuplicateDetectionWindow) a message whose MessageID was sent within the
// window is accepted and dropped, as Service Bus does: the returned message has
// SequenceNumber 0.
func (q *Queue) Send(body []byte, opts *MessageOptions) Message {
	return q.enqueue(body, opts, time.Time{})
}

// SendScheduled enqueues a message that becomes active at enqueueAt, like a scheduled
// message (ScheduleMessages): it is not delivered before then. Duplicate detection
// applies as for Send.
func (q *Queue) SendScheduled(body []byte, opts *MessageOptions, enqueueAt time.Time) Message {
	return q.enqueue(body, opts, enqueueAt)
}

// duplicate reports whether id was sent within the duplicate detection window and
// records it otherwise (q.mu held).
func (q *Queue) duplicate(id string, now time.Time) bool {
	if q.dedupe <= 0 {
		return false
	}
	for k, t := range q.seen {
		if now.Sub(t) >= q.dedupe {
			delete(q.seen, k)
		}
	}
	if _, ok := q.seen[id]; ok {
		return true
	}
	q.seen[id] = now
	return false
}

func (q *Queue) enqueue(body []byte, opts *MessageOptions, at time.Time) Message {
	m := &Message{Body: bytes.Clone(body)}
	if opts != nil {
		m.MessageOptions = *opts
		m.ApplicationProperties = maps.Clone(opts.ApplicationProperties)
	}
	if m.MessageID == "" {
		m.MessageID = newMessageID()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	if q.duplicate(m.MessageID, now) {
		return m.snapshot()
	}
	q.seq++
	m.SequenceNumber = q.seq
	if !at.IsZero() && at.After(now) {
		m.ScheduledEnqueueTime = at
		i := sort.Search(len(q.scheduled), func(i int) bool { return q.scheduled[i].ScheduledEnqueueTime.After(at) })
		q.scheduled = append(q.scheduled, nil)
		copy(q.scheduled[i+1:], q.scheduled[i:])
		q.scheduled[i] = m
	} else {
		if !at.IsZero() {
			m.ScheduledEnqueueTime = at
		}
		q.activate(m, now)
	}
	q.notifyLocked()
	return m.snapshot()
}

// activate makes m deliverable (q.mu held).
func (q *Queue) activate(m *Message, now time.Time) {
	if m.EnqueuedTime.IsZero() {
		m.EnqueuedTime = m.MessageOptions.EnqueuedTime
		if m.EnqueuedTime.IsZero() {
			m.EnqueuedTime = now
		}
	}
	q.insertActive(m)
}

func (q *Queue) insertActive(m *Message) {
	i := sort.Search(len(q.active), func(i int) bool { return q.active[i].SequenceNumber > m.SequenceNumber })
	q.active = append(q.active, nil)
	copy(q.active[i+1:], q.active[i:])
	q.active[i] = m
}

// promoteDue activates scheduled messages whose time has come (q.mu held).
func (q *Queue) promoteDue(now time.Time) {
	n := 0
	for n < len(q.scheduled) && !q.scheduled[n].ScheduledEnqueueTime.After(now) {
		q.activate(q.scheduled[n], now)
		n++
	}
	q.scheduled = q.scheduled[n:]
}

// ReleaseScheduled makes every scheduled message active now and returns how many were
// released (a shortcut for tests that do not want to wait).
func (q *Queue) ReleaseScheduled() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.scheduled)
	now := time.Now()
	for _, m := range q.scheduled {
		q.activate(m, now)
	}
	q.scheduled = nil
	if n > 0 {
		q.notifyLocked()
	}
	return n
}

// Pending returns the messages waiting for delivery (active ones, then scheduled ones);
// messages being delivered are not included.
func (q *Queue) Pending() []Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]Message, 0, len(q.active)+len(q.scheduled))
	for _, m := range q.active {
		out = append(out, m.snapshot())
	}
	for _, m := range q.scheduled {
		out = append(out, m.snapshot())
	}
	return out
}

// Completed returns the completed messages in completion order.
func (q *Queue) Completed() []SettledMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	return cloneSettled(q.completed)
}

// DeadLettered returns the dead-lettered messages in order.
func (q *Queue) DeadLettered() []SettledMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	return cloneSettled(q.deadLettered)
}

func cloneSettled(in []SettledMessage) []SettledMessage {
	out := make([]SettledMessage, len(in))
	for i, s := range in {
		out[i] = s
		out[i].Body = bytes.Clone(s.Body)
	}
	return out
}

func (m *Message) snapshot() Message {
	c := *m
	c.Body = bytes.Clone(m.Body)
	c.ApplicationProperties = maps.Clone(m.ApplicationProperties)
	return c
}

func (q *Queue) notifyLocked() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// settle completes, abandons or dead-letters a delivered message.
func (q *Queue) settle(h *Host, m *Message, res *InvocationResult) (deadLettered bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.inflight--
	q.busy[h]--
	defer q.notifyLocked()
	s := SettledMessage{Message: m.snapshot(), SettledAt: time.Now(), Result: res}
	switch {
	case !res.Failed:
		q.completed = append(q.completed, s)
	case m.DeliveryCount >= q.maxDelivery:
		s.Reason = ReasonMaxDeliveryCountExceeded
		s.Description = fmt.Sprintf("Message could not be consumed after %d delivery attempts.", m.DeliveryCount)
		q.deadLettered = append(q.deadLettered, s)
		return true
	default:
		q.insertActive(m) // abandon: available again at once
	}
	return false
}

// DrainQueue delivers the messages of the named queue to its serviceBusTrigger function
// until the queue holds nothing: no active message, none being delivered and none
// scheduled (it waits for scheduled messages to come due). At most MaxConcurrentCalls
// deliveries run at once on this process (Cluster.DrainQueue drains with every process). It returns ctx's error if ctx ends first; deliveries already
// started still finish.
func (h *Host) DrainQueue(ctx context.Context, name string) error {
	q := h.Queue(name)
	f := h.queueFunction(q.name)
	if f == nil {
		return fmt.Errorf("%w: no enabled serviceBusTrigger function listens on queue %q", ErrUnknownFunction, name)
	}
	return h.runQueue(ctx, q, f, true)
}

func (h *Host) queueFunction(queue string) *Function {
	for _, f := range h.functions {
		if f.Queue != "" && strings.EqualFold(f.Queue, queue) && !f.Disabled {
			return f
		}
	}
	return nil
}

func (h *Host) startPumps() {
	for _, f := range h.functions {
		if f.Queue == "" || f.Disabled || !h.track() {
			continue
		}
		go func(f *Function) {
			defer h.wg.Done()
			_ = h.runQueue(h.ctx, h.Queue(f.Queue), f, false)
		}(f)
	}
}

// runQueue is the receive loop of a trigger listener.
func (h *Host) runQueue(ctx context.Context, q *Queue, f *Function, untilIdle bool) error {
	for {
		q.mu.Lock()
		now := time.Now()
		q.promoteDue(now)
		for len(q.active) > 0 && q.busy[h] < h.maxConcurrent {
			if !h.track() {
				q.mu.Unlock()
				return ErrHostStopped
			}
			m := q.active[0]
			q.active = q.active[1:]
			m.DeliveryCount++
			q.inflight++
			q.busy[h]++
			go h.deliver(q, f, m)
		}
		idle := len(q.active) == 0 && q.inflight == 0 && len(q.scheduled) == 0
		changed := q.changed
		var wait time.Duration = -1
		if len(q.scheduled) > 0 {
			wait = q.scheduled[0].ScheduledEnqueueTime.Sub(now)
		}
		q.mu.Unlock()
		if untilIdle && idle {
			return nil
		}
		var (
			due   <-chan time.Time
			timer *time.Timer
		)
		if wait >= 0 {
			timer = time.NewTimer(wait)
			due = timer.C
		}
		var err error
		select {
		case <-changed:
		case <-due:
		case <-ctx.Done():
			err = ctx.Err()
		case <-h.ctx.Done():
			err = ErrHostStopped
		}
		if timer != nil {
			timer.Stop()
		}
		if err != nil {
			return err
		}
	}
}

// deliver invokes the trigger function with one message and settles it.
func (h *Host) deliver(q *Queue, f *Function, m *Message) {
	defer h.wg.Done()
	data, md := h.serviceBusPayload(f, m)
	res, _, err := h.invoke(h.ctx, f, envelope{Data: data, Metadata: md})
	if err != nil {
		res = &InvocationResult{Function: f.Name, Failed: true, Err: err}
	}
	if q.settle(h, m, res) {
		h.log.Warn().Str("queue", q.name).Str("messageId", m.MessageID).Int("deliveryCount", m.DeliveryCount).
			Err(res.Err).Msg("message dead-lettered: " + ReasonMaxDeliveryCountExceeded)
	}
}

// serviceBusPayload builds Data and Metadata for one delivery (Service Bus extension v5
// binding data, then the host's conversions).
func (h *Host) serviceBusPayload(f *Function, m *Message) (map[string]any, map[string]any) {
	empty := func() map[string]any { return map[string]any{} }
	props := m.ApplicationProperties
	if props == nil {
		props = map[string]any{}
	}
	expires := maxTime
	if m.TimeToLive > 0 && m.EnqueuedTime.Before(maxTime.Add(-m.TimeToLive)) {
		expires = m.EnqueuedTime.Add(m.TimeToLive)
	}
	ns := h.serviceBusNamespace(f.Trigger.String("connection"))
	optional := func(bd *bindingData, key, value string) {
		if value != "" {
			bd.set(key, netString(value))
		}
	}

	bd := newBindingData()
	bd.set("MessageReceiver", empty())
	bd.set("MessageSession", empty())
	bd.set("MessageActions", empty())
	bd.set("SessionActions", empty())
	bd.set("ReceiveActions", empty())
	bd.set("Client", map[string]any{
		"FullyQualifiedNamespace": ns,
		"IsClosed":                false,
		"TransportType":           0,
		"Identifier":              ns + "-" + newGUID(),
	})
	bd.set("DeliveryCount", strconv.Itoa(m.DeliveryCount))
	bd.set("LockToken", netString(newGUID()))
	bd.set("ExpiresAtUtc", metaDateUTC(expires))
	bd.set("ExpiresAt", metaDateOffset(expires))
	bd.set("EnqueuedTimeUtc", metaDateUTC(m.EnqueuedTime))
	bd.set("EnqueuedTime", metaDateOffset(m.EnqueuedTime))
	bd.set("MessageId", netString(m.MessageID))
	optional(bd, "ContentType", m.ContentType)
	optional(bd, "ReplyTo", m.ReplyTo)
	bd.set("SequenceNumber", strconv.FormatInt(m.SequenceNumber, 10))
	optional(bd, "To", m.To)
	optional(bd, "Subject", m.Subject)
	optional(bd, "Label", m.Subject)
	optional(bd, "CorrelationId", m.CorrelationID)
	bd.set("ApplicationProperties", props)
	bd.set("UserProperties", props)
	optional(bd, "SessionId", m.SessionID)
	optional(bd, "PartitionKey", m.PartitionKey)
	bd.set("sys", newSys(f.Name, time.Now()))

	binary := strings.EqualFold(f.Trigger.DataType, "binary")
	var value string
	if binary {
		value = base64.StdEncoding.EncodeToString(m.Body)
	} else {
		// MessageToStringConverter (UTF-8), then JsonConvert.SerializeObject of the string.
		value = netString(string(m.Body))
		applyBodyProperties(bd, string(m.Body), false)
	}
	return map[string]any{f.Trigger.Name: value}, bd.metadata()
}

// serviceBusNamespace is the namespace the trigger's connection names
// (<connection>__fullyQualifiedNamespace, or the Endpoint of a connection string).
func (h *Host) serviceBusNamespace(connection string) string {
	if connection == "" {
		connection = "AzureWebJobsServiceBus"
	}
	if ns, ok := h.settings.get(connection + "__fullyQualifiedNamespace"); ok && ns != "" {
		return ns
	}
	if cs, ok := h.settings.get(connection); ok {
		for _, part := range strings.Split(cs, ";") {
			if k, v, ok := strings.Cut(part, "="); ok && strings.EqualFold(strings.TrimSpace(k), "Endpoint") {
				if u, err := url.Parse(strings.TrimSpace(v)); err == nil && u.Host != "" {
					return u.Host
				}
			}
		}
	}
	return "hostsim.servicebus.windows.net"
}
